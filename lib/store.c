/*
 * store: the two store roots, their STORE_ID markers and the objects in
 * them. It owns creating a root once (its layout and its random id, written
 * durably), comparing a mounted root's marker with the id the database
 * recorded, and writing objects: tmp/ while hashing, fsync, rename into
 * objects/ab/cd/<sha256>, fsync of the directory, in both roots. It must
 * never initialise a root that already holds a marker or anyone's files,
 * never report a root it cannot read as anything but unreachable, never
 * write into a root whose marker does not match, and never unlink or
 * overwrite anything under objects/: on a failure it removes only its own
 * temporary files.
 */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "util.h"

#define STORE_MARKER "STORE_ID"
#define STORE_MARKER_TMP ".STORE_ID.tmp"

static const char *const store_state_names[STORE_ROOT__MAX] = {
    "ok",
    "unreachable",
    "no_marker",
    "foreign",
    "not_initialised",
};

/* The directories every root holds. */
static const char *const store_subdirs[] = {"tmp", "objects", "quarantine"};

const char *
store_root_state_name(enum store_root_state s)
{
	return (unsigned int)s < STORE_ROOT__MAX ? store_state_names[s] : "?";
}

/* 1 when s is 64 lower-case hex digits: a store id, or a SHA-256. */
static int
store_hex64_valid(const char *s)
{
	return hex_lower_is(s, 64) && s[64] == '\0';
}

static int
store_id_valid(const char *id)
{
	return store_hex64_valid(id);
}

/* Reads the marker of root into id: root is a path relative to dfd (or
 * NULL for the directory dfd itself). 1 read, 0 no marker (root exists or
 * not), -1 unreadable. A marker that is not a well-formed id reads as "". */
static int
store_read_marker_at(int dfd, const char *root, char id[STORE_ID_LEN + 1])
{
	char raw[STORE_ID_LEN + 8], path[4096];
	const char *name = STORE_MARKER;
	ssize_t n;
	size_t len = 0;
	int fd;

	id[0] = '\0';
	if (root != NULL) {
		n = snprintf(path, sizeof(path), "%s/%s", root, STORE_MARKER);
		if (n < 0 || (size_t)n >= sizeof(path))
			return -1;
		name = path;
	}
	if ((fd = openat(dfd, name, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	/* A marker is one line; read until EOF or a full buffer. */
	while (len < sizeof(raw) - 1) {
		n = read(fd, raw + len, sizeof(raw) - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			(void)close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (raw[len - 1] == '\n')
			break;
	}
	(void)close(fd);
	raw[len] = '\0';
	while (len > 0 && (raw[len - 1] == '\n' || raw[len - 1] == '\r'))
		raw[--len] = '\0';
	if (len == STORE_ID_LEN && store_id_valid(raw))
		memcpy(id, raw, STORE_ID_LEN + 1);
	return 1;
}

static int
store_read_marker(int dfd, char id[STORE_ID_LEN + 1])
{
	return store_read_marker_at(dfd, NULL, id);
}

enum store_root_state
store_root_check(const char *root, const char *expected_id)
{
	char id[STORE_ID_LEN + 1];
	struct stat st;
	int rc;

	if (expected_id == NULL || expected_id[0] == '\0')
		return STORE_ROOT_NOT_INITIALISED;
	if (root == NULL || root[0] == '\0')
		return STORE_ROOT_UNREACHABLE;
	rc = store_read_marker_at(AT_FDCWD, root, id);
	if (rc == -1)
		return STORE_ROOT_UNREACHABLE;
	if (rc == 0)
		return stat(root, &st) == 0 && S_ISDIR(st.st_mode)
		    ? STORE_ROOT_NO_MARKER
		    : STORE_ROOT_UNREACHABLE;
	return strcmp(id, expected_id) == 0 ? STORE_ROOT_OK
					    : STORE_ROOT_FOREIGN;
}

static int
store_fsync_path(const char *path)
{
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		log_error("open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fsync(fd) == -1) {
		log_error("fsync %s: %s", path, strerror(errno));
		rc = -1;
	}
	(void)close(fd);
	return rc;
}

static int
store_dir_is_empty(int dfd, int *empty)
{
	struct dirent *de;
	DIR *d;
	int fd;

	if ((fd = dup(dfd)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		(void)close(fd);
		return -1;
	}
	rewinddir(d);
	*empty = 1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			*empty = 0;
			break;
		}
	}
	(void)closedir(d);
	return 0;
}

/*
 * A root may be initialised when it is empty, or holds only what an
 * interrupted store_init_root leaves behind: the empty subdirectories and
 * the temporary marker. Anything else is somebody's data.
 */
static int
store_root_fresh(const char *root, int dfd)
{
	struct dirent *de;
	DIR *d;
	size_t i;
	int fd, sub, empty, known, fresh = 1;

	if ((fd = dup(dfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		log_error("reading %s: %s", root, strerror(errno));
		if (fd != -1)
			(void)close(fd);
		return -1;
	}
	while (fresh && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, STORE_MARKER_TMP) == 0)
			continue;
		known = 0;
		for (i = 0; i < ARRAY_SIZE(store_subdirs); i++)
			if (strcmp(de->d_name, store_subdirs[i]) == 0)
				known = 1;
		if (!known) {
			fresh = 0;
			break;
		}
		sub = openat(dfd, de->d_name,
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (sub == -1 || store_dir_is_empty(sub, &empty) != 0 || !empty)
			fresh = 0;
		if (sub != -1)
			(void)close(sub);
	}
	(void)closedir(d);
	return fresh;
}

static int
store_write_marker(const char *root, int dfd, const char *id)
{
	char line[STORE_ID_LEN + 2];
	size_t off = 0, len;
	ssize_t n;
	int fd;

	if (snprintf(line, sizeof(line), "%s\n", id) != STORE_ID_LEN + 1) {
		log_error("%s: malformed store id", root);
		return -1;
	}
	len = STORE_ID_LEN + 1;
	fd = openat(dfd, STORE_MARKER_TMP,
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd == -1) {
		log_error("%s/%s: %s", root, STORE_MARKER_TMP, strerror(errno));
		return -1;
	}
	while (off < len) {
		n = write(fd, line + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_error("write %s/%s: %s", root, STORE_MARKER_TMP,
			    strerror(errno));
			(void)close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1) {
		log_error(
		    "fsync %s/%s: %s", root, STORE_MARKER_TMP, strerror(errno));
		(void)close(fd);
		return -1;
	}
	if (close(fd) == -1) {
		log_error(
		    "close %s/%s: %s", root, STORE_MARKER_TMP, strerror(errno));
		return -1;
	}
	/* RENAME_NOREPLACE: a marker that appeared meanwhile is never
	 * overwritten. */
	if (renameat2(dfd, STORE_MARKER_TMP, dfd, STORE_MARKER,
		RENAME_NOREPLACE) == -1) {
		log_error(
		    "rename %s/%s: %s", root, STORE_MARKER, strerror(errno));
		return -1;
	}
	if (fsync(dfd) == -1) {
		log_error("fsync %s: %s", root, strerror(errno));
		return -1;
	}
	return 0;
}

int
store_init_root(const char *root, char id_out[STORE_ID_LEN + 1])
{
	char existing[STORE_ID_LEN + 1], parent[4096];
	char *slash;
	size_t i;
	int dfd, rc = -1, fresh;

	id_out[0] = '\0';
	if (root == NULL || root[0] == '\0') {
		log_error("no store root configured");
		return -1;
	}
	if (mkdir(root, 0750) == -1 && errno != EEXIST) {
		log_error("mkdir %s: %s", root, strerror(errno));
		return -1;
	}
	if (str_copy(parent, sizeof(parent), root) != 0) {
		log_error("store root path too long: %s", root);
		return -1;
	}
	if ((slash = strrchr(parent, '/')) != NULL && slash != parent)
		*slash = '\0';
	else if (slash == parent)
		parent[1] = '\0';
	else if (str_copy(parent, sizeof(parent), ".") != 0)
		return -1;
	if (store_fsync_path(parent) != 0)
		return -1;
	if ((dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		log_error("open %s: %s", root, strerror(errno));
		return -1;
	}
	switch (store_read_marker(dfd, existing)) {
	case 0: break;
	case 1:
		log_error("%s already holds a STORE_ID; an existing store is "
			  "never initialised again",
		    root);
		goto out;
	default:
		log_error(
		    "reading %s/%s: %s", root, STORE_MARKER, strerror(errno));
		goto out;
	}
	if ((fresh = store_root_fresh(root, dfd)) != 1) {
		if (fresh == 0)
			log_error(
			    "%s is not empty and has no STORE_ID; refusing "
			    "to initialise a directory holding other files",
			    root);
		goto out;
	}
	for (i = 0; i < ARRAY_SIZE(store_subdirs); i++) {
		if (mkdirat(dfd, store_subdirs[i], 0750) == -1 &&
		    errno != EEXIST) {
			log_error("mkdir %s/%s: %s", root, store_subdirs[i],
			    strerror(errno));
			goto out;
		}
	}
	if (fsync(dfd) == -1) {
		log_error("fsync %s: %s", root, strerror(errno));
		goto out;
	}
	if (crypto_random_hex(STORE_ID_LEN / 2, id_out, STORE_ID_LEN + 1) != 0)
		goto out;
	if (store_write_marker(root, dfd, id_out) != 0) {
		id_out[0] = '\0';
		goto out;
	}
	rc = 0;
out:
	(void)close(dfd);
	return rc;
}

int
store_load_ids(struct db *db, char primary[STORE_ID_LEN + 1],
    char replica[STORE_ID_LEN + 1])
{
	struct db_res *r;
	const char *name, *id;
	size_t i;

	primary[0] = '\0';
	replica[0] = '\0';
	r = db_query(db, "SELECT name, store_id FROM store_roots", NULL, 0);
	if (r == NULL)
		return -1;
	for (i = 0; i < db_res_rows(r); i++) {
		name = db_res_get(r, i, 0);
		id = db_res_get(r, i, 1);
		if (name == NULL || id == NULL || !store_id_valid(id))
			continue;
		if (strcmp(name, "primary") == 0)
			memcpy(primary, id, STORE_ID_LEN + 1);
		else if (strcmp(name, "replica") == 0)
			memcpy(replica, id, STORE_ID_LEN + 1);
	}
	db_res_free(r);
	return 0;
}

/*
 * Writing objects.
 */

static const char *const store_error_names[STORE_E__MAX] = {
    "ok",
    "root",
    "full",
    "io",
};

/* Random bytes in a temporary file's name, after host and pid. */
#define STORE_TMP_RANDOM 8

static const char *const store_root_names[2] = {"primary", "replica"};

struct store {
	char *root[2];
	char id[2][STORE_ID_LEN + 1];
	int no_direct;
};

struct store_put {
	struct store *s;
	int fd[2];
	/* The temporary files while they exist under tmp/; "" once renamed
	 * away or never created, so that abort removes only ours. */
	char path[2][PATH_MAX];
	struct crypto_sha256 *sha;
	unsigned long long size;
	/* Bytes already handed to the disk with sync_file_range(2). */
	unsigned long long started;
	/* With O_DIRECT (both files, or neither), see store_put_try_direct:
	 * the bytes are gathered in buf[cur]; a full buffer is handed to
	 * the writer threads, which write it to both files and hash it while
	 * the next one fills. */
	struct store_writer *w;
};

/* Direct I/O writes whole blocks from aligned buffers of
 * STORE_DIRECT_BYTES. 1 MiB rather than 256 KiB: per 10 MiB upload, a
 * quarter of the disk requests (each a doorbell, which on a virtual
 * machine is an exit to the hypervisor) and of the hand-overs between the
 * child and its threads; licheng-fcgi's CPU per 10 MiB upload went from
 * 28-31 to 22 ms (docs/BENCHMARKS.md). */
#define STORE_DIRECT_ALIGN 4096
#define STORE_DIRECT_BUF STORE_DIRECT_BYTES

/* The buffer pair this process keeps between puts (store_reserve_buffers):
 * NULL while a put holds it, or before it is reserved. */
static pthread_mutex_t store_spare_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned char *store_spare[2];

/* The threads of a direct put: one writer per root (the copies are
 * written at once) and one that hashes the same buffer meanwhile. */
#define STORE_HASHER 2
#define STORE_THREADS 3

struct store_writer {
	pthread_t thread[STORE_THREADS];
	int nthreads; /* started */
	pthread_mutex_t mu;
	/* work: a buffer is pending, or quit (the child wakes the threads);
	 * idle: the last thread is through with it (wakes the child). One
	 * variable for both woke every waiter at every change: about 300
	 * needless context switches per 10 MiB upload. */
	pthread_cond_t work;
	pthread_cond_t idle;
	const int *fd; /* the put's two descriptors */
	struct crypto_sha256 *sha; /* the put's hash */
	unsigned char *buf[2];
	size_t len; /* bytes in buf[cur] */
	int cur;
	int pending; /* the buffer the threads are to take, or -1 */
	size_t wlen; /* of which the writers write wlen bytes (whole blocks) */
	size_t hlen; /* and the hasher hashes hlen */
	int done[STORE_THREADS]; /* thread i is through with buf[pending] */
	int quit;
	int err; /* the first failure's errno, and whose (a root, or the
		  * hasher) */
	int err_root;
};

/* What a writer thread is given: its writer and its part (a root, or
 * STORE_HASHER). */
struct store_writer_arg {
	struct store_writer *w;
	int root;
};

const char *
store_error_name(enum store_error e)
{
	return (unsigned int)e < STORE_E__MAX ? store_error_names[e] : "?";
}

/* Logs a failed system call on path once, where it happened, and maps its
 * errno: no space is STORE_E_FULL, anything else STORE_E_IO. */
static enum store_error
store_sys_error(const char *func, const char *what, const char *path, int err)
{
	log_msg(LL_ERROR, func, "%s %s: %s", what, path, strerror(err));
	return err == ENOSPC || err == EDQUOT ? STORE_E_FULL : STORE_E_IO;
}

/* How much a put writes before it asks the kernel to start writing it
 * out, so that the disk works while the body still arrives and the fsync
 * at the commit finds little left to do. */
#define STORE_WRITEBACK_BYTES (1024 * 1024)

/*
 * Starts writeback of [off, off + n) of fd without waiting for it. Only a
 * hint: the fsync at the commit is what makes the data durable, so a file
 * system that does not support it (EINVAL, ESPIPE, ENOSYS) is not an error;
 * a disk that is full or failing already is.
 */
static enum store_error
store_start_writeback(
    int fd, const char *path, unsigned long long off, unsigned long long n)
{
	if (sync_file_range(fd, (off_t)off, (off_t)n, SYNC_FILE_RANGE_WRITE) ==
		-1 &&
	    errno != EINVAL && errno != ESPIPE && errno != ENOSYS)
		return store_sys_error(
		    "store_put_write", "sync_file_range", path, errno);
	return STORE_OK;
}

static void
store_copy_id(char dst[STORE_ID_LEN + 1], const char *src)
{
	/* A malformed id reads as none recorded: such a root never
	 * matches, so nothing is written into it. */
	if (src != NULL && store_id_valid(src))
		memcpy(dst, src, STORE_ID_LEN + 1);
	else
		dst[0] = '\0';
}

struct store *
store_new(const char *primary, const char *replica, const char *primary_id,
    const char *replica_id)
{
	struct store *s = xcalloc(1, sizeof(*s));

	s->root[0] = xstrdup(primary != NULL ? primary : "");
	s->root[1] = xstrdup(replica != NULL ? replica : "");
	store_set_ids(s, primary_id, replica_id);
	return s;
}

void
store_set_direct(struct store *s, int on)
{
	s->no_direct = !on;
}

int
store_put_is_direct(const struct store_put *p)
{
	return p->w != NULL;
}

void
store_free(struct store *s)
{
	if (s == NULL)
		return;
	free(s->root[0]);
	free(s->root[1]);
	free(s);
}

void
store_set_ids(struct store *s, const char *primary_id, const char *replica_id)
{
	store_copy_id(s->id[0], primary_id);
	store_copy_id(s->id[1], replica_id);
}

enum store_error
store_check(const struct store *s, enum store_root_state st[2])
{
	enum store_root_state here[2];
	int i;

	for (i = 0; i < 2; i++)
		here[i] = store_root_check(s->root[i], s->id[i]);
	if (st != NULL)
		memcpy(st, here, sizeof(here));
	return here[0] == STORE_ROOT_OK && here[1] == STORE_ROOT_OK
	    ? STORE_OK
	    : STORE_E_ROOT;
}

/* Logs each root of st that refuses writes, and why. */
static void
store_log_refused(const struct store *s, const enum store_root_state st[2])
{
	int i;

	for (i = 0; i < 2; i++)
		if (st[i] != STORE_ROOT_OK)
			log_error("store %s root %s is %s; refusing to write",
			    store_root_names[i], s->root[i],
			    store_root_state_name(st[i]));
}

/* This host's name as it appears in temporary file names: anything but
 * [A-Za-z0-9_-] becomes '_' (a dot would end the host part). */
static void
store_host(char out[HOST_NAME_MAX + 1])
{
	char *c;

	if (gethostname(out, HOST_NAME_MAX + 1) != 0 || out[0] == '\0')
		(void)str_copy(out, HOST_NAME_MAX + 1, "unknown");
	out[HOST_NAME_MAX] = '\0';
	for (c = out; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			(*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
			*c = '_';
}

static int
store_path(char out[PATH_MAX], const char *root, const char *rest)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", root, rest);

	if (n < 0 || n >= PATH_MAX) {
		log_error("path too long: %s/%s", root, rest);
		return -1;
	}
	return 0;
}

/* A pair of aligned direct-write buffers: the kept one if it is free,
 * else a new one. 0/-1. */
static int
store_buffers_take(unsigned char *b[2])
{
	void *v[2] = {NULL, NULL};

	if (pthread_mutex_lock(&store_spare_mu) != 0)
		abort();
	b[0] = store_spare[0];
	b[1] = store_spare[1];
	store_spare[0] = store_spare[1] = NULL;
	if (pthread_mutex_unlock(&store_spare_mu) != 0)
		abort();
	if (b[0] != NULL)
		return 0;
	if (posix_memalign(&v[0], STORE_DIRECT_ALIGN, STORE_DIRECT_BUF) != 0 ||
	    posix_memalign(&v[1], STORE_DIRECT_ALIGN, STORE_DIRECT_BUF) != 0) {
		free(v[0]);
		return -1;
	}
	b[0] = v[0];
	b[1] = v[1];
	return 0;
}

/* Gives a pair back: kept when none is, else freed (as is half a pair).
 * Accepts NULLs. */
static void
store_buffers_give(unsigned char *b[2])
{
	if (b[0] != NULL && b[1] != NULL) {
		if (pthread_mutex_lock(&store_spare_mu) != 0)
			abort();
		if (store_spare[0] == NULL) {
			store_spare[0] = b[0];
			store_spare[1] = b[1];
			b[0] = b[1] = NULL;
		}
		if (pthread_mutex_unlock(&store_spare_mu) != 0)
			abort();
	}
	free(b[0]);
	free(b[1]);
	b[0] = b[1] = NULL;
}

int
store_reserve_buffers(void)
{
	unsigned char *b[2];

	if (store_buffers_take(b) != 0)
		return -1;
	/* Touched now, so that they are this process's from the start and
	 * not faulted in during its first upload. */
	memset(b[0], 0, STORE_DIRECT_BUF);
	memset(b[1], 0, STORE_DIRECT_BUF);
	store_buffers_give(b);
	return 0;
}

void
store_release_buffers(void)
{
	if (pthread_mutex_lock(&store_spare_mu) != 0)
		abort();
	free(store_spare[0]);
	free(store_spare[1]);
	store_spare[0] = store_spare[1] = NULL;
	if (pthread_mutex_unlock(&store_spare_mu) != 0)
		abort();
}

/* Writes all n bytes, resuming after short writes and signals. 0/-1 with
 * errno. */
static int
store_write_all(int fd, const unsigned char *b, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, b, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A writer thread: writes each buffer handed to it to its root's file (or,
 * the hasher, adds it to the hash), until told to quit; after a failure
 * (any thread's) it only marks the buffers done. The last of the three to
 * finish a buffer hands it back and wakes the child. */
static void *
store_writer_main(void *arg)
{
	struct store_writer_arg *a = arg;
	struct store_writer *w = a->w;
	int i = a->root, k, skip, failed;
	size_t n;

	free(a);
	if (pthread_mutex_lock(&w->mu) != 0)
		abort();
	for (;;) {
		while ((w->pending == -1 || w->done[i]) && !w->quit)
			if (pthread_cond_wait(&w->work, &w->mu) != 0)
				abort();
		if (w->pending == -1 || w->done[i])
			break;
		k = w->pending;
		n = i == STORE_HASHER ? w->hlen : w->wlen;
		skip = w->err != 0; /* the put has failed already */
		if (pthread_mutex_unlock(&w->mu) != 0)
			abort();
		failed = 0;
		if (!skip && i == STORE_HASHER) {
			if (crypto_sha256_update(w->sha, w->buf[k], n) != 0)
				failed = EIO;
		} else if (!skip &&
		    store_write_all(w->fd[i], w->buf[k], n) != 0)
			failed = errno;
		if (pthread_mutex_lock(&w->mu) != 0)
			abort();
		if (failed != 0 && w->err == 0) {
			w->err = failed;
			w->err_root = i;
		}
		w->done[i] = 1;
		if (w->done[0] && w->done[1] && w->done[STORE_HASHER]) {
			w->done[0] = w->done[1] = w->done[STORE_HASHER] = 0;
			w->pending = -1;
			if (pthread_cond_signal(&w->idle) != 0)
				abort();
		}
	}
	if (pthread_mutex_unlock(&w->mu) != 0)
		abort();
	return NULL;
}

/* Waits until the writer threads hold no buffer; their error, or 0. */
static int
store_writer_wait(struct store_writer *w)
{
	if (pthread_mutex_lock(&w->mu) != 0)
		abort();
	while (w->pending != -1)
		if (pthread_cond_wait(&w->idle, &w->mu) != 0)
			abort();
	if (pthread_mutex_unlock(&w->mu) != 0)
		abort();
	return w->err;
}

/* Hands the current buffer to the threads (which must hold none): the
 * writers write its first wlen bytes, the hasher hashes hlen. */
static void
store_writer_hand(struct store_writer *w, size_t wlen, size_t hlen)
{
	if (pthread_mutex_lock(&w->mu) != 0)
		abort();
	w->wlen = wlen;
	w->hlen = hlen;
	w->pending = w->cur;
	if (pthread_cond_broadcast(&w->work) != 0)
		abort();
	if (pthread_mutex_unlock(&w->mu) != 0)
		abort();
}

/* The writer threads' failure of put p, logged, as a store error. */
static enum store_error
store_writer_error(const struct store_put *p)
{
	const struct store_writer *w = p->w;

	if (w->err_root == STORE_HASHER) {
		log_error("SHA-256 of %s failed", p->path[0]);
		return STORE_E_IO;
	}
	return store_sys_error(
	    "store_put_write", "write", p->path[w->err_root], w->err);
}

/* Stops the writer threads and frees them. */
static void
store_writer_free(struct store_writer *w)
{
	if (w == NULL)
		return;
	if (pthread_mutex_lock(&w->mu) != 0)
		abort();
	w->quit = 1;
	if (pthread_cond_broadcast(&w->work) != 0)
		abort();
	if (pthread_mutex_unlock(&w->mu) != 0)
		abort();
	while (w->nthreads > 0)
		if (pthread_join(w->thread[--w->nthreads], NULL) != 0)
			abort();
	(void)pthread_cond_destroy(&w->work);
	(void)pthread_cond_destroy(&w->idle);
	(void)pthread_mutex_destroy(&w->mu);
	store_buffers_give(w->buf);
	free(w);
}

/*
 * Writes the copies with O_DIRECT where both file systems allow it: the
 * bytes go from aligned buffers to the disk without being copied into the
 * page cache twice (that copy was the largest cost of a 10 MiB upload).
 * While the next buffer fills, three threads take the full one: one per
 * root writes it to that root's file and one adds it to the hash, so that
 * the disk's latency overlaps with reading the body, the two copies' writes
 * with each other, and hashing (a quarter of the child's CPU for a large
 * file) with both. A file system
 * without O_DIRECT (EINVAL), or no memory or thread for it, keeps buffered
 * writes.
 */
static void
store_put_try_direct(struct store_put *p)
{
	struct store_writer *w;
	sigset_t all, old;
	int fl[2], i, rc, set = 0;
	unsigned char *b[2] = {NULL, NULL};

	for (i = 0; i < 2; i++)
		if ((fl[i] = fcntl(p->fd[i], F_GETFL)) == -1)
			return;
	if (store_buffers_take(b) != 0)
		goto fail;
	for (set = 0; set < 2; set++)
		if (fcntl(p->fd[set], F_SETFL, fl[set] | O_DIRECT) == -1)
			goto fail;
	w = xcalloc(1, sizeof(*w));
	w->fd = p->fd;
	w->sha = p->sha;
	w->buf[0] = b[0];
	w->buf[1] = b[1];
	w->pending = -1;
	if (pthread_mutex_init(&w->mu, NULL) != 0) {
		free(w);
		goto fail;
	}
	if (pthread_cond_init(&w->work, NULL) != 0) {
		(void)pthread_mutex_destroy(&w->mu);
		free(w);
		goto fail;
	}
	if (pthread_cond_init(&w->idle, NULL) != 0) {
		(void)pthread_cond_destroy(&w->work);
		(void)pthread_mutex_destroy(&w->mu);
		free(w);
		goto fail;
	}
	/* The thread takes no signals: they stay with the process's main
	 * thread, whose handlers and interrupted calls expect them. */
	if (sigfillset(&all) != 0 ||
	    pthread_sigmask(SIG_SETMASK, &all, &old) != 0) {
		(void)pthread_cond_destroy(&w->work);
		(void)pthread_cond_destroy(&w->idle);
		(void)pthread_mutex_destroy(&w->mu);
		free(w);
		goto fail;
	}
	for (i = 0, rc = 0; i < STORE_THREADS && rc == 0; i++) {
		struct store_writer_arg *a = malloc(sizeof(*a));
		if (a == NULL) {
			rc = ENOMEM;
			break;
		}
		a->w = w;
		a->root = i;
		rc = pthread_create(
		    &w->thread[w->nthreads], NULL, store_writer_main, a);
		if (rc != 0)
			free(a);
		else
			w->nthreads++;
	}
	if (pthread_sigmask(SIG_SETMASK, &old, NULL) != 0)
		abort();
	if (rc != 0) {
		/* Stops the thread that did start, then frees it all. */
		w->buf[0] = w->buf[1] = NULL;
		store_writer_free(w);
		goto fail;
	}
	p->w = w;
	return;
fail:
	while (set-- > 0)
		(void)fcntl(p->fd[set], F_SETFL, fl[set]);
	store_buffers_give(b);
}

/* A new temporary file's name relative to a root, "tmp/<host>.<pid>.<random
 * hex>", which store_tmp_sweep removes once this process is gone. 0/-1. */
static int
store_tmp_name(char name[NAME_MAX + 1])
{
	char host[HOST_NAME_MAX + 1], rnd[2 * STORE_TMP_RANDOM + 1];
	int n;

	store_host(host);
	if (crypto_random_hex(STORE_TMP_RANDOM, rnd, sizeof(rnd)) != 0)
		return -1;
	n = snprintf(
	    name, NAME_MAX + 1, "tmp/%s.%ld.%s", host, (long)getpid(), rnd);
	if (n < 0 || n >= NAME_MAX + 1) {
		log_error("temporary file name too long for host %s", host);
		return -1;
	}
	return 0;
}

struct store_put *
store_put_begin(struct store *s, enum store_error *err)
{
	enum store_root_state st[2];
	char name[NAME_MAX + 1];
	struct store_put *p;
	int i;

	if ((*err = store_check(s, st)) != STORE_OK) {
		store_log_refused(s, st);
		return NULL;
	}
	*err = STORE_E_IO;
	if (store_tmp_name(name) != 0)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->s = s;
	p->fd[0] = p->fd[1] = -1;
	if ((p->sha = crypto_sha256_new()) == NULL)
		goto fail;
	for (i = 0; i < 2; i++) {
		if (store_path(p->path[i], s->root[i], name) != 0) {
			p->path[i][0] = '\0';
			goto fail;
		}
		p->fd[i] = open(p->path[i],
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
		if (p->fd[i] == -1) {
			*err = store_sys_error(
			    __func__, "open", p->path[i], errno);
			p->path[i][0] = '\0';
			goto fail;
		}
	}
	if (!s->no_direct)
		store_put_try_direct(p);
	*err = STORE_OK;
	return p;
fail:
	store_put_abort(p);
	return NULL;
}

enum store_error
store_put_write(struct store_put *p, const void *data, size_t n)
{
	int i;

	if (n == 0)
		return STORE_OK;
	if (p->w != NULL) {
		struct store_writer *w = p->w;
		const unsigned char *d = data;
		size_t left = n, take;

		while (left > 0) {
			take = STORE_DIRECT_BUF - w->len;
			if (take > left)
				take = left;
			memcpy(w->buf[w->cur] + w->len, d, take);
			w->len += take;
			d += take;
			left -= take;
			if (w->len < STORE_DIRECT_BUF)
				continue;
			if (store_writer_wait(w) != 0)
				return store_writer_error(p);
			store_writer_hand(
			    w, STORE_DIRECT_BUF, STORE_DIRECT_BUF);
			w->cur ^= 1;
			w->len = 0;
		}
		p->size += n;
		return STORE_OK;
	}
	if (crypto_sha256_update(p->sha, data, n) != 0)
		return STORE_E_IO;
	for (i = 0; i < 2; i++)
		if (store_write_all(p->fd[i], data, n) != 0)
			return store_sys_error(
			    __func__, "write", p->path[i], errno);
	p->size += n;
	if (p->size - p->started >= STORE_WRITEBACK_BYTES) {
		for (i = 0; i < 2; i++) {
			enum store_error e = store_start_writeback(p->fd[i],
			    p->path[i], p->started, p->size - p->started);
			if (e != STORE_OK)
				return e;
		}
		p->started = p->size;
	}
	return STORE_OK;
}

unsigned long long
store_put_size(const struct store_put *p)
{
	return p->size;
}

/* Closes what is open and removes the temporary files that are still ours;
 * frees p. */
void
store_put_abort(struct store_put *p)
{
	int i;

	if (p == NULL)
		return;
	/* The writer thread first: it may be writing to the files. */
	store_writer_free(p->w);
	p->w = NULL;
	for (i = 0; i < 2; i++) {
		if (p->fd[i] != -1)
			(void)close(p->fd[i]);
		if (p->path[i][0] != '\0' && unlink(p->path[i]) == -1 &&
		    errno != ENOENT)
			log_error("unlink %s: %s", p->path[i], strerror(errno));
	}
	crypto_sha256_free(p->sha);
	free(p);
}

/*
 * Opens the directory name under parent (path: parent's path, for the
 * log), creating it when missing; a directory it created is made durable by
 * fsyncing parent. The fd, or -1 with *e set.
 */
static int
store_subdir(
    int parent, const char *path, const char *name, enum store_error *e)
{
	char sub[PATH_MAX];
	int fd;

	if (store_path(sub, path, name) != 0) {
		*e = STORE_E_IO;
		return -1;
	}
	if (mkdirat(parent, name, 0750) == 0) {
		if (fsync(parent) == -1) {
			*e = store_sys_error(__func__, "fsync", path, errno);
			return -1;
		}
	} else if (errno != EEXIST) {
		*e = store_sys_error(__func__, "mkdir", sub, errno);
		return -1;
	}
	fd = openat(
	    parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		*e = store_sys_error(__func__, "open", sub, errno);
	return fd;
}

/*
 * Moves root i's temporary file to objects/ab/cd/<sha> without replacing
 * anything: an object already there is kept (*existed = 1) and the
 * temporary file removed. Then the directory is fsynced.
 */
/*
 * Opens root i's directory objects/ab/cd of sha, creating (and making
 * durable) what is missing; its path goes to cd_path. The fd, or -1 with
 * *e set.
 */
static int
store_object_dir(const struct store *s, int i, const char *sha,
    char cd_path[PATH_MAX], enum store_error *e)
{
	char objects[PATH_MAX], ab_path[PATH_MAX];
	const char ab[3] = {sha[0], sha[1], '\0'};
	const char cd[3] = {sha[2], sha[3], '\0'};
	int objfd, abfd = -1, cdfd = -1;

	*e = STORE_E_IO;
	if (store_path(objects, s->root[i], "objects") != 0 ||
	    store_path(ab_path, objects, ab) != 0 ||
	    store_path(cd_path, ab_path, cd) != 0)
		return -1;
	objfd = open(objects, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (objfd == -1) {
		*e = store_sys_error(__func__, "open", objects, errno);
		return -1;
	}
	if ((abfd = store_subdir(objfd, objects, ab, e)) != -1)
		cdfd = store_subdir(abfd, ab_path, cd, e);
	if (abfd != -1)
		(void)close(abfd);
	(void)close(objfd);
	return cdfd;
}

static enum store_error
store_place(struct store_put *p, int i, const char *sha, int *existed)
{
	char cd_path[PATH_MAX];
	enum store_error e = STORE_E_IO;
	int cdfd, rc;

	*existed = 0;
	if ((cdfd = store_object_dir(p->s, i, sha, cd_path, &e)) == -1)
		return e;
	rc = renameat2(AT_FDCWD, p->path[i], cdfd, sha, RENAME_NOREPLACE);
	if (rc == -1 && (errno == EINVAL || errno == ENOSYS)) {
		/* A file system without RENAME_NOREPLACE: link(2) never
		 * replaces either. */
		rc = linkat(AT_FDCWD, p->path[i], cdfd, sha, 0);
		if (rc == 0 && unlink(p->path[i]) == -1)
			log_error("unlink %s: %s", p->path[i], strerror(errno));
	}
	if (rc == -1 && errno == EEXIST) {
		/* The same bytes are there already (from another upload,
		 * perhaps one still in flight): objects are immutable. */
		*existed = 1;
		if (unlink(p->path[i]) == -1 && errno != ENOENT)
			log_error("unlink %s: %s", p->path[i], strerror(errno));
	} else if (rc == -1) {
		e = store_sys_error(__func__, "rename", p->path[i], errno);
		goto out;
	}
	p->path[i][0] = '\0';
	if (fsync(cdfd) == -1) {
		e = store_sys_error(__func__, "fsync", cd_path, errno);
		goto out;
	}
	e = STORE_OK;
out:
	(void)close(cdfd);
	return e;
}

/* Starts a thread that takes no signals: they stay with the caller's
 * thread, whose handlers and interrupted calls expect them. 0/-1. */
static int
store_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;

	if (sigfillset(&all) != 0 ||
	    pthread_sigmask(SIG_SETMASK, &all, &old) != 0)
		return -1;
	rc = pthread_create(t, NULL, fn, arg);
	if (pthread_sigmask(SIG_SETMASK, &old, NULL) != 0)
		abort();
	return rc == 0 ? 0 : -1;
}

/* Root i's part of a commit: its copy fsynced, closed and renamed into
 * place, its directory fsynced. */
static enum store_error
store_commit_root(struct store_put *p, int i, const char *sha, int *existed)
{
	int rc;

	*existed = 0;
	if (fsync(p->fd[i]) == -1)
		return store_sys_error(__func__, "fsync", p->path[i], errno);
	rc = close(p->fd[i]);
	p->fd[i] = -1;
	/* After close(2) the descriptor is gone even on EINTR, and the data
	 * was already fsynced. */
	if (rc == -1 && errno != EINTR)
		return store_sys_error(__func__, "close", p->path[i], errno);
	return store_place(p, i, sha, existed);
}

/* The replica's part of a commit, in a thread of its own; it touches only
 * the put's replica fields. */
struct store_commit_arg {
	struct store_put *p;
	const char *sha;
	int existed;
	enum store_error e;
};

static void *
store_commit_main(void *arg)
{
	struct store_commit_arg *a = arg;

	a->e = store_commit_root(a->p, 1, a->sha, &a->existed);
	return NULL;
}

/* Both roots' parts of a commit, the replica's in a thread while the
 * primary's runs here (one after the other if no thread can be made). */
static void
store_commit_roots(
    struct store_put *p, const char *sha, enum store_error e[2], int existed[2])
{
	struct store_commit_arg a = {p, sha, 0, STORE_E_IO};
	pthread_t t;

	if (store_thread_start(&t, store_commit_main, &a) != 0)
		goto one_by_one;
	e[0] = store_commit_root(p, 0, sha, &existed[0]);
	if (pthread_join(t, NULL) != 0)
		abort();
	e[1] = a.e;
	existed[1] = a.existed;
	return;
one_by_one:
	e[0] = store_commit_root(p, 0, sha, &existed[0]);
	e[1] = e[0] == STORE_OK ? store_commit_root(p, 1, sha, &existed[1])
				: STORE_E_IO;
	if (e[0] != STORE_OK)
		existed[1] = 0;
}

enum store_error
store_put_commit(struct store_put *p, char sha256_out[65], int *existed)
{
	enum store_root_state st[2];
	enum store_error e, ce[2];
	char sha[CRYPTO_SHA256_HEX_LEN + 1];
	int i, ex[2];

	sha256_out[0] = '\0';
	if (existed != NULL)
		*existed = 0;
	/* The roots may have changed under a long upload. */
	if ((e = store_check(p->s, st)) != STORE_OK) {
		store_log_refused(p->s, st);
		goto fail;
	}
	e = STORE_E_IO;
	if (p->w != NULL) {
		struct store_writer *w = p->w;
		size_t whole = (w->len + STORE_DIRECT_ALIGN - 1) /
		    STORE_DIRECT_ALIGN * STORE_DIRECT_ALIGN;

		if (store_writer_wait(w) != 0) {
			e = store_writer_error(p);
			goto fail;
		}
		/* The rest goes the same way, the two copies' writes at once:
		 * its last block written whole (zero-padded), each file cut
		 * back to the real size after. */
		if (w->len > 0) {
			memset(w->buf[w->cur] + w->len, 0, whole - w->len);
			store_writer_hand(w, whole, w->len);
			if (store_writer_wait(w) != 0) {
				e = store_writer_error(p);
				goto fail;
			}
		}
		for (i = 0; i < 2; i++) {
			if (ftruncate(p->fd[i], (off_t)p->size) == -1) {
				e = store_sys_error(
				    __func__, "truncate", p->path[i], errno);
				goto fail;
			}
		}
		store_writer_free(w);
		p->w = NULL;
	}
	if (crypto_sha256_final_hex(p->sha, sha) != 0)
		goto fail;
	/* Both copies' last bytes go to the disk together rather than one
	 * fsync after the other. */
	for (i = 0; i < 2 && p->size > p->started; i++)
		if ((e = store_start_writeback(p->fd[i], p->path[i], p->started,
			 p->size - p->started)) != STORE_OK)
			goto fail;
	/* The two roots' fsyncs, renames and directory fsyncs at once: each
	 * waits for its disk (on one file system, for one journal commit
	 * that covers both). */
	store_commit_roots(p, sha, ce, ex);
	for (i = 0; i < 2; i++)
		if ((e = ce[i]) != STORE_OK)
			goto fail;
	if (existed != NULL)
		*existed = ex[0] | ex[1] << 1;
	memcpy(sha256_out, sha, sizeof(sha));
	store_put_abort(p); /* nothing of ours is left to remove */
	return STORE_OK;
fail:
	store_put_abort(p);
	return e;
}

/* How long a master waits before trying to read the ids again. */
#define STORE_SWEEP_RETRY_MS 10000

void
store_sweep_start(struct store **s, int64_t *retry_at, const struct conf *c,
    enum db_role role)
{
	char ids[2][STORE_ID_LEN + 1];
	struct db *db;
	int rc;

	if (*s != NULL || now_ms() < *retry_at)
		return;
	db = db_new(c, role);
	if ((rc = store_load_ids(db, ids[0], ids[1])) != 0)
		log_warn("cannot read the store roots' recorded ids yet, so "
			 "stale temporary files are not swept: %s",
		    db_errstr(db));
	db_free(db);
	if (rc != 0) {
		*retry_at = now_ms() + STORE_SWEEP_RETRY_MS;
		return;
	}
	*s = store_new(c->store_primary, c->store_replica, ids[0], ids[1]);
	(void)store_tmp_sweep(*s, 0); /* logs what it removed */
}

/* 1 when name is "<host>.<pid>.<hex>" of this host, with the pid. */
static int
store_tmp_owner(const char *name, const char *host, long *pid)
{
	const char *last, *prev, *c;
	size_t hostlen = strlen(host);
	char *end;

	if (strncmp(name, host, hostlen) != 0 || name[hostlen] != '.')
		return 0;
	prev = name + hostlen;
	if ((last = strrchr(name, '.')) == NULL || last == prev ||
	    last[1] == '\0')
		return 0;
	for (c = last + 1; *c != '\0'; c++)
		if (hex_value(*c) < 0)
			return 0;
	if (!(prev[1] >= '1' && prev[1] <= '9'))
		return 0;
	errno = 0;
	*pid = strtol(prev + 1, &end, 10);
	return errno == 0 && end == last && *pid > 0 && *pid <= INT_MAX;
}

/* Sweeps one tmp/ directory; the number removed, or -1. */
static int
store_sweep_dir(const char *dir, const char *host, long only_pid)
{
	struct dirent *de;
	DIR *d;
	long pid;
	int n = 0;

	if ((d = opendir(dir)) == NULL) {
		log_error("opendir %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!store_tmp_owner(de->d_name, host, &pid))
			continue;
		if (only_pid != 0
			? pid != only_pid
			: !(kill((pid_t)pid, 0) == -1 && errno == ESRCH))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			n++;
		else if (errno != ENOENT)
			log_error("unlink %s/%s: %s", dir, de->d_name,
			    strerror(errno));
	}
	(void)closedir(d);
	if (n > 0)
		log_info("removed %d temporary file%s left by %s from %s", n,
		    n == 1 ? "" : "s",
		    only_pid != 0 ? "a dead process" : "dead processes", dir);
	return n;
}

int
store_tmp_sweep(const struct store *s, long only_pid)
{
	char host[HOST_NAME_MAX + 1], dir[PATH_MAX];
	enum store_root_state st;
	int i, n, total = 0, failed = 0;

	store_host(host);
	for (i = 0; i < 2; i++) {
		/* Never touch a root that is not ours. */
		st = store_root_check(s->root[i], s->id[i]);
		if (st != STORE_ROOT_OK) {
			log_warn("not sweeping the %s root %s: it is %s",
			    store_root_names[i], s->root[i],
			    store_root_state_name(st));
			continue;
		}
		if (store_path(dir, s->root[i], "tmp") != 0 ||
		    (n = store_sweep_dir(dir, host, only_pid)) < 0) {
			failed = 1;
			continue;
		}
		total += n;
	}
	return failed ? -1 : total;
}

int
store_object_rel(const char *sha256, char *out, size_t outlen)
{
	int n;

	if (sha256 == NULL || !store_hex64_valid(sha256))
		return -1;
	n = snprintf(out, outlen, "%.2s/%.2s/%s", sha256, sha256 + 2, sha256);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int
store_object_path(const struct store *s, int root, const char *sha256,
    char *out, size_t outlen)
{
	char rel[2 + 1 + 2 + 1 + CRYPTO_SHA256_HEX_LEN + 1];
	int n;

	if ((root != 0 && root != 1) ||
	    store_object_rel(sha256, rel, sizeof(rel)) != 0)
		return -1;
	n = snprintf(out, outlen, "%s/objects/%s", s->root[root], rel);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int
store_object_exists(const struct store *s, int root, const char *sha256)
{
	char path[PATH_MAX];
	struct stat st;

	if (store_object_path(s, root, sha256, path, sizeof(path)) != 0)
		return -1;
	if (stat(path, &st) == 0)
		return S_ISREG(st.st_mode) ? 1 : 0;
	if (errno != ENOENT && errno != ENOTDIR)
		return -1;
	/* Missing: an object that is not there, or a root that is not? */
	if (store_path(path, s->root[root], "objects") != 0 ||
	    stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return -1;
	return 0;
}

/*
 * Reading back and repairing (the hash and repair jobs).
 */

static const char *const store_copy_names[STORE_COPY__MAX] = {
    "good",
    "missing",
    "mismatch",
    "error",
};

/* Reads back in blocks this large: large enough that the kernel reads
 * ahead and system calls cost little, small enough that a block is still
 * in the CPU's cache when the hash runs over it. */
#define STORE_READ_BLOCK (256 * 1024)
/* The throttle's longest pause before it ticks again. */
#define STORE_THROTTLE_NAP_MS 200
/* A repair note's name in tmp/: one dot, so never "<host>.<pid>.<hex>". */
#define STORE_NOTE_PREFIX "repair."

const char *
store_copy_name(enum store_copy c)
{
	return (unsigned int)c < STORE_COPY__MAX ? store_copy_names[c] : "?";
}

int
store_area_path(const struct store *s, int root, enum store_area a,
    const char *sha256, char *out, size_t outlen)
{
	int n;

	if (a == STORE_AREA_OBJECTS)
		return store_object_path(s, root, sha256, out, outlen);
	if (a != STORE_AREA_QUARANTINE || (root != 0 && root != 1) ||
	    sha256 == NULL || !store_hex64_valid(sha256))
		return -1;
	n = snprintf(out, outlen, "%s/quarantine/%s", s->root[root], sha256);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* Counts n bytes read through rd; with a rate, sleeps until they are due.
 * The tick runs after every block and every pause. */
static void
store_reader_account(struct store_reader *rd, size_t n)
{
	struct timespec ts;
	int64_t due, now, nap;

	if (rd == NULL)
		return;
	rd->bytes += n;
	if (rd->tick != NULL)
		rd->tick(rd->arg);
	if (rd->rate <= 0)
		return;
	due = rd->start_ms +
	    (int64_t)(rd->bytes * 1000ULL / (unsigned long long)rd->rate);
	while ((now = now_ms()) < due) {
		nap = due - now < STORE_THROTTLE_NAP_MS ? due - now
							: STORE_THROTTLE_NAP_MS;
		ts.tv_sec = (time_t)(nap / 1000);
		ts.tv_nsec = (long)(nap % 1000) * 1000000L;
		/* A signal cuts the nap short: the loop works out the rest. */
		(void)nanosleep(&ts, NULL);
		if (rd->tick != NULL)
			rd->tick(rd->arg);
	}
}

static void
store_reader_start(struct store_reader *rd)
{
	if (rd != NULL && !rd->started) {
		rd->started = 1;
		rd->start_ms = now_ms();
	}
}

/* Reads up to n bytes, resuming after signals; the count (0 at the end)
 * or -1 with errno. */
static ssize_t
store_read_some(int fd, unsigned char *b, size_t n)
{
	ssize_t r;

	do
		r = read(fd, b, n);
	while (r == -1 && errno == EINTR);
	return r;
}

/* Whether a read error means the disk cannot return the bytes (the copy
 * is bad) rather than something that may pass. */
static int
store_read_error_is_bad(int err)
{
	return err == EIO || err == EBADMSG || err == EUCLEAN;
}

/* Opens a copy for reading back: no symbolic link, no blocking on a FIFO.
 * -1 with errno. */
static int
store_open_copy(const char *path)
{
	return open(
	    path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
}

enum store_copy
store_copy_verify(const struct store *s, int root, enum store_area a,
    const char *sha256, struct store_reader *rd)
{
	char path[PATH_MAX], got[CRYPTO_SHA256_HEX_LEN + 1];
	enum store_root_state st;
	enum store_copy c = STORE_COPY_ERROR;
	struct crypto_sha256 *h = NULL;
	unsigned char *b = NULL;
	struct stat sb;
	ssize_t n;
	int fd;

	if (store_area_path(s, root, a, sha256, path, sizeof(path)) != 0) {
		log_error("no path for object %s in root %d", sha256, root);
		return STORE_COPY_ERROR;
	}
	/* A root that is not ours decides nothing: a missing file there
	 * says nothing about the object. */
	if ((st = store_root_check(s->root[root], s->id[root])) !=
	    STORE_ROOT_OK) {
		log_error("the %s root %s is %s; not reading %s back",
		    store_root_names[root], s->root[root],
		    store_root_state_name(st), sha256);
		return STORE_COPY_ERROR;
	}
	if ((fd = store_open_copy(path)) == -1) {
		if (errno == ENOENT)
			return STORE_COPY_MISSING;
		if (errno == ELOOP) {
			log_warn("%s is a symbolic link, not a copy", path);
			return STORE_COPY_MISMATCH;
		}
		log_error("open %s: %s", path, strerror(errno));
		return STORE_COPY_ERROR;
	}
	if (fstat(fd, &sb) == -1) {
		log_error("fstat %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		log_warn("%s is not a regular file", path);
		c = STORE_COPY_MISMATCH;
		goto out;
	}
	/* Drop the clean cached pages (dirty ones stay: they are what the
	 * file holds), so that what is hashed comes from the disk. Hints
	 * only: a file system without them is read all the same. */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	b = xmalloc(STORE_READ_BLOCK);
	if ((h = crypto_sha256_new()) == NULL)
		goto out;
	store_reader_start(rd);
	while ((n = store_read_some(fd, b, STORE_READ_BLOCK)) > 0) {
		if (crypto_sha256_update(h, b, (size_t)n) != 0)
			goto out;
		store_reader_account(rd, (size_t)n);
	}
	if (n == -1) {
		if (store_read_error_is_bad(errno)) {
			log_warn("read %s: %s: the copy cannot be read back",
			    path, strerror(errno));
			c = STORE_COPY_MISMATCH;
		} else
			log_error("read %s: %s", path, strerror(errno));
		goto out;
	}
	if (crypto_sha256_final_hex(h, got) != 0)
		goto out;
	if (strcmp(got, sha256) == 0)
		c = STORE_COPY_GOOD;
	else {
		log_warn("%s holds bytes whose SHA-256 is %s", path, got);
		c = STORE_COPY_MISMATCH;
	}
	/* Nobody needs these pages because a job read them. */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
out:
	crypto_sha256_free(h);
	free(b);
	(void)close(fd);
	return c;
}

/* The replica's read-back, in a thread of its own. */
struct store_verify_arg {
	const struct store *s;
	enum store_area a;
	const char *sha256;
	struct store_reader rd; /* its own: no tick, which is the caller's */
	enum store_copy found;
};

static void *
store_verify_main(void *arg)
{
	struct store_verify_arg *v = arg;

	v->found = store_copy_verify(v->s, 1, v->a, v->sha256, &v->rd);
	return NULL;
}

void
store_copies_verify(const struct store *s, enum store_area a,
    const char *sha256, struct store_reader *rd, enum store_copy found[2])
{
	struct store_verify_arg v;
	pthread_t t;

	/* A throttled job is in no hurry, and one rate over one reader is
	 * simpler to keep. */
	if (rd != NULL && rd->rate > 0)
		goto one_by_one;
	memset(&v, 0, sizeof(v));
	v.s = s;
	v.a = a;
	v.sha256 = sha256;
	if (store_thread_start(&t, store_verify_main, &v) != 0)
		goto one_by_one;
	found[0] = store_copy_verify(s, 0, a, sha256, rd);
	if (pthread_join(t, NULL) != 0)
		abort();
	found[1] = v.found;
	if (rd != NULL)
		rd->bytes += v.rd.bytes;
	return;
one_by_one:
	found[0] = store_copy_verify(s, 0, a, sha256, rd);
	found[1] = store_copy_verify(s, 1, a, sha256, rd);
}

/* The path of root's repair note of sha256. 0/-1. */
static int
store_note_path(
    const struct store *s, int root, const char *sha256, char out[PATH_MAX])
{
	int n;

	if ((root != 0 && root != 1) || sha256 == NULL ||
	    !store_hex64_valid(sha256))
		return -1;
	n = snprintf(out, PATH_MAX, "%s/tmp/" STORE_NOTE_PREFIX "%s",
	    s->root[root], sha256);
	return n < 0 || n >= PATH_MAX ? -1 : 0;
}

int
store_repair_note_read(const struct store *s, int root, const char *sha256,
    char *out, size_t outlen)
{
	char path[PATH_MAX];
	size_t len = 0;
	ssize_t n = 0;
	int fd;

	if (outlen == 0 || store_note_path(s, root, sha256, path) != 0)
		return -1;
	out[0] = '\0';
	if ((fd = store_open_copy(path)) == -1) {
		if (errno == ENOENT)
			return 0;
		log_error("open %s: %s", path, strerror(errno));
		return -1;
	}
	while (len < outlen - 1 &&
	    (n = store_read_some(
		 fd, (unsigned char *)out + len, outlen - 1 - len)) > 0)
		len += (size_t)n;
	if (len < outlen - 1 && n == -1) {
		log_error("read %s: %s", path, strerror(errno));
		(void)close(fd);
		return -1;
	}
	(void)close(fd);
	out[len] = '\0';
	return 1;
}

/* Opens root's tmp/ directory. -1 (logged) on failure. */
static int
store_tmp_dir(const struct store *s, int root, char path[PATH_MAX])
{
	int fd;

	if (store_path(path, s->root[root], "tmp") != 0)
		return -1;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		log_error("open %s: %s", path, strerror(errno));
	return fd;
}

int
store_repair_note_write(
    const struct store *s, int root, const char *sha256, const char *text)
{
	char path[PATH_MAX], tmp[PATH_MAX], dir[PATH_MAX], name[NAME_MAX + 1];
	size_t len = strlen(text);
	int fd, dfd = -1, rc = -1;

	if (len >= STORE_NOTE_MAX ||
	    store_note_path(s, root, sha256, path) != 0 ||
	    store_tmp_name(name) != 0 ||
	    store_path(tmp, s->root[root], name) != 0)
		return -1;
	fd = open(
	    tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd == -1) {
		log_error("open %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (store_write_all(fd, (const unsigned char *)text, len) != 0 ||
	    fsync(fd) == -1) {
		log_error("write %s: %s", tmp, strerror(errno));
		(void)close(fd);
		goto out;
	}
	if (close(fd) == -1 && errno != EINTR) {
		log_error("close %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, path) == -1) {
		log_error("rename %s: %s", path, strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	if ((dfd = store_tmp_dir(s, root, dir)) == -1)
		goto out;
	if (fsync(dfd) == -1) {
		log_error("fsync %s: %s", dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (dfd != -1)
		(void)close(dfd);
	if (tmp[0] != '\0' && unlink(tmp) == -1 && errno != ENOENT)
		log_error("unlink %s: %s", tmp, strerror(errno));
	return rc;
}

int
store_repair_note_remove(const struct store *s, int root, const char *sha256)
{
	char path[PATH_MAX];

	if (store_note_path(s, root, sha256, path) != 0)
		return -1;
	/* Not made durable: a note that comes back after a crash names a
	 * repair that is on record, and the next run drops it. */
	if (unlink(path) == -1 && errno != ENOENT) {
		log_error("unlink %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Copies in to out (tmp, for the log) through rd, hashing what is
 * written; the hash in got. STORE_OK or the error. */
static enum store_error
store_copy_bytes(int in, const char *src, int out, const char *tmp,
    struct store_reader *rd, char got[CRYPTO_SHA256_HEX_LEN + 1])
{
	struct crypto_sha256 *h;
	enum store_error e = STORE_E_IO;
	unsigned char *b;
	ssize_t n;

	if ((h = crypto_sha256_new()) == NULL)
		return STORE_E_IO;
	b = xmalloc(STORE_READ_BLOCK);
	store_reader_start(rd);
	while ((n = store_read_some(in, b, STORE_READ_BLOCK)) > 0) {
		if (crypto_sha256_update(h, b, (size_t)n) != 0)
			goto out;
		if (store_write_all(out, b, (size_t)n) != 0) {
			e = store_sys_error(
			    "store_replace_bad_copy", "write", tmp, errno);
			goto out;
		}
		store_reader_account(rd, (size_t)n);
	}
	if (n == -1) {
		e = store_sys_error(
		    "store_replace_bad_copy", "read", src, errno);
		goto out;
	}
	if (crypto_sha256_final_hex(h, got) == 0)
		e = STORE_OK;
out:
	free(b);
	crypto_sha256_free(h);
	return e;
}

/* Opens the directory that holds area's copies in root: objects/ab/cd of
 * sha (created as a put creates it) or quarantine/. Its path in dir; the
 * fd, or -1 with *e set. */
static int
store_area_dir(const struct store *s, int root, enum store_area a,
    const char *sha, char dir[PATH_MAX], enum store_error *e)
{
	int rfd, fd;

	if (a == STORE_AREA_OBJECTS)
		return store_object_dir(s, root, sha, dir, e);
	*e = STORE_E_IO;
	if (store_path(dir, s->root[root], "quarantine") != 0)
		return -1;
	rfd = open(s->root[root], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rfd == -1) {
		*e = store_sys_error(__func__, "open", s->root[root], errno);
		return -1;
	}
	fd = store_subdir(rfd, s->root[root], "quarantine", e);
	(void)close(rfd);
	return fd;
}

enum store_error
store_replace_bad_copy(const struct store *s, int good, enum store_area a,
    const char *sha256, const char *note, struct store_reader *rd)
{
	char src[PATH_MAX], tmp[PATH_MAX], dir[PATH_MAX];
	char name[NAME_MAX + 1], got[CRYPTO_SHA256_HEX_LEN + 1];
	enum store_root_state st[2];
	enum store_error e;
	int bad = !good, in = -1, out = -1, dfd = -1, noted = 0, rc;

	tmp[0] = '\0';
	if ((good != 0 && good != 1) ||
	    store_area_path(s, good, a, sha256, src, sizeof(src)) != 0)
		return STORE_E_IO;
	if ((e = store_check(s, st)) != STORE_OK) {
		store_log_refused(s, st);
		return e;
	}
	e = STORE_E_IO;
	if (store_tmp_name(name) != 0 ||
	    store_path(tmp, s->root[bad], name) != 0) {
		tmp[0] = '\0';
		return STORE_E_IO;
	}
	if ((in = store_open_copy(src)) == -1) {
		e = store_sys_error(__func__, "open", src, errno);
		tmp[0] = '\0';
		goto fail;
	}
	out = open(
	    tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (out == -1) {
		e = store_sys_error(__func__, "open", tmp, errno);
		tmp[0] = '\0';
		goto fail;
	}
	(void)posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
	if ((e = store_copy_bytes(in, src, out, tmp, rd, got)) != STORE_OK)
		goto fail;
	e = STORE_E_IO;
	/* What was written is what the object's name says, or nothing
	 * happens: the good copy may have changed since it was read. */
	if (strcmp(got, sha256) != 0) {
		log_error("the %s copy %s changed while it was copied (its "
			  "bytes now hash to %s); nothing was replaced",
		    store_root_names[good], src, got);
		goto fail;
	}
	if (fsync(out) == -1) {
		e = store_sys_error(__func__, "fsync", tmp, errno);
		goto fail;
	}
	rc = close(out);
	out = -1;
	if (rc == -1 && errno != EINTR) {
		e = store_sys_error(__func__, "close", tmp, errno);
		goto fail;
	}
	/* The note is durable before the copy is replaced, so that a crash
	 * after the rename is never mistaken for a copy that was always
	 * good. */
	if (store_repair_note_write(s, bad, sha256, note) != 0)
		goto fail;
	noted = 1;
	if ((dfd = store_area_dir(s, bad, a, sha256, dir, &e)) == -1)
		goto fail;
	if (renameat(AT_FDCWD, tmp, dfd, sha256) == -1) {
		e = store_sys_error(__func__, "rename", tmp, errno);
		goto fail;
	}
	tmp[0] = '\0';
	noted = 0; /* the copy is replaced: the note stays with it */
	if (fsync(dfd) == -1) {
		e = store_sys_error(__func__, "fsync", dir, errno);
		goto fail;
	}
	e = STORE_OK;
	log_info("replaced the %s copy of %s from the %s root",
	    store_root_names[bad], sha256, store_root_names[good]);
fail:
	if (dfd != -1)
		(void)close(dfd);
	if (out != -1)
		(void)close(out);
	if (in != -1)
		(void)close(in);
	if (tmp[0] != '\0' && unlink(tmp) == -1 && errno != ENOENT)
		log_error("unlink %s: %s", tmp, strerror(errno));
	if (noted)
		(void)store_repair_note_remove(s, bad, sha256);
	return e;
}
