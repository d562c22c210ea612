/*
 * store: the STORE_ID markers of the two store roots. It owns creating a
 * root once (its layout and its random id, written durably) and comparing a
 * mounted root's marker with the id the database recorded. It must never
 * initialise a root that already holds a marker or anyone's files, and
 * never report a root it cannot read as anything but unreachable.
 */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static int
store_id_valid(const char *id)
{
	size_t i;

	for (i = 0; i < STORE_ID_LEN; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
			(id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return id[STORE_ID_LEN] == '\0';
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
