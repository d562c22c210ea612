/*
 * test_store: lib/store.c's write path in two roots made in a temporary
 * folder: put and commit (the bytes and their SHA-256 at objects/ab/cd/ in
 * both roots), deduplication, abort, refusals on a missing or foreign
 * marker (before the first byte and at commit), the sweep of a dead
 * writer's temporary files, and — when allowed to mount — a full disk (a
 * 256 KiB tmpfs as the replica); and the read-back path of the hash job:
 * verifying copies (good, missing, mismatched, not a file, a foreign root,
 * throttled), repair notes, and repairing a bad copy from the good one (in
 * objects/ and quarantine/, a "good" copy that is not, a full disk). Needs
 * no servers.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness.h"
#include "crypto.h"
#include "log.h"
#include "store.h"

static char base[] = "/tmp/test_store.XXXXXX";
static char root[2][512];
static char id[2][STORE_ID_LEN + 1];
/* Whether the last put_bytes wrote with O_DIRECT. */
static int last_direct = -1;

#define PATHLEN 1024

/* A path from fmt into out (PATHLEN bytes); the test's paths are short. */
static void
pathf(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
pathf(char *out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, PATHLEN, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= PATHLEN) {
		fprintf(stderr, "path too long\n");
		exit(1);
	}
}

/* Regular files under dir, recursively. */
static int
count_files(const char *dir)
{
	struct dirent *de;
	struct stat st;
	char path[PATHLEN];
	DIR *d = opendir(dir);
	int n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		pathf(path, "%s/%s", dir, de->d_name);
		if (lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			n += count_files(path);
		else
			n++;
	}
	closedir(d);
	return n;
}

static int
tmp_entries(const char *r)
{
	char dir[PATHLEN];

	pathf(dir, "%s/tmp", r);
	return count_files(dir);
}

static int
objects_in(const char *r)
{
	char dir[PATHLEN];

	pathf(dir, "%s/objects", r);
	return count_files(dir);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (f == NULL)
		return;
	CHECK(fputs(text, f) != EOF);
	CHECK(fclose(f) == 0);
}

/* 1 when path holds exactly n bytes equal to want. */
static int
file_is(const char *path, const unsigned char *want, size_t n)
{
	unsigned char *got = malloc(n + 1);
	size_t len;
	FILE *f = fopen(path, "rb");
	int same;

	if (f == NULL || got == NULL) {
		free(got);
		if (f != NULL)
			fclose(f);
		return 0;
	}
	len = fread(got, 1, n + 1, f);
	fclose(f);
	same = len == n && memcmp(got, want, n) == 0;
	free(got);
	return same;
}

static void
fill(unsigned char *b, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (unsigned char)(seed >> 16);
	}
}

/* Puts n bytes of b in chunks of chunk bytes; the result of commit. */
static enum store_error
put_bytes(struct store *s, const unsigned char *b, size_t n, size_t chunk,
    char sha[65], int *existed)
{
	enum store_error e;
	struct store_put *p;
	size_t off, k;

	sha[0] = '\0';
	if ((p = store_put_begin(s, &e)) == NULL)
		return e;
	last_direct = store_put_is_direct(p);
	for (off = 0; off < n; off += k) {
		k = n - off < chunk ? n - off : chunk;
		if ((e = store_put_write(p, b + off, k)) != STORE_OK) {
			store_put_abort(p);
			return e;
		}
	}
	if (store_put_size(p) != n) {
		store_put_abort(p);
		return STORE_E__MAX;
	}
	return store_put_commit(p, sha, existed);
}

static void
test_names(void)
{
	char out[256];
	const char *sha =
	    "ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12";

	CHECK(strcmp(store_error_name(STORE_OK), "ok") == 0);
	CHECK(strcmp(store_error_name(STORE_E_ROOT), "root") == 0);
	CHECK(strcmp(store_error_name(STORE_E_FULL), "full") == 0);
	CHECK(strcmp(store_error_name(STORE_E_IO), "io") == 0);
	CHECK(store_object_rel(sha, out, sizeof(out)) == 0);
	CHECK(strncmp(out, "ab/12/ab12cd34", 14) == 0 && strlen(out) == 6 + 64);
	CHECK(store_object_rel("AB12", out, sizeof(out)) == -1);
	CHECK(store_object_rel("../../etc/passwd", out, sizeof(out)) == -1);
	CHECK(store_object_rel(sha, out, 10) == -1);
}

static void
test_put(struct store *s)
{
	static unsigned char data[300 * 1024 + 7];
	char sha[65], want[65], path[PATHLEN];
	const char *names[2] = {"primary", "replica"};
	int existed = -1, i;

	fill(data, sizeof(data), 1);
	CHECK(crypto_sha256_hex(data, sizeof(data), want) == 0);
	CHECK(
	    put_bytes(s, data, sizeof(data), 4093, sha, &existed) == STORE_OK);
	CHECK(strcmp(sha, want) == 0);
	CHECK(existed == 0);
	for (i = 0; i < 2; i++) {
		CHECK(store_object_path(s, i, sha, path, sizeof(path)) == 0);
		CHECK_MSG(
		    file_is(path, data, sizeof(data)), "%s %s", names[i], path);
		CHECK(crypto_sha256_file(path, want) == 0 &&
		    strcmp(want, sha) == 0);
		CHECK(strstr(path, root[i]) == path);
		CHECK(store_object_exists(s, i, sha) == 1);
		CHECK(tmp_entries(root[i]) == 0);
		CHECK(objects_in(root[i]) == 1);
	}
	CHECK(store_object_path(s, 2, sha, path, sizeof(path)) == -1);

	/* The same bytes again: kept as they are, one file per root. */
	CHECK(
	    put_bytes(s, data, sizeof(data), 65536, sha, &existed) == STORE_OK);
	CHECK(strcmp(sha, want) == 0);
	CHECK(existed == 3);
	for (i = 0; i < 2; i++) {
		CHECK(objects_in(root[i]) == 1);
		CHECK(tmp_entries(root[i]) == 0);
	}

	/* Missing from the replica only (the test removes it): bit 0. */
	CHECK(store_object_path(s, 1, sha, path, sizeof(path)) == 0);
	CHECK(unlink(path) == 0);
	CHECK(store_object_exists(s, 1, sha) == 0);
	CHECK(put_bytes(s, data, sizeof(data), 100000, sha, &existed) ==
	    STORE_OK);
	CHECK(existed == 1);
	CHECK(file_is(path, data, sizeof(data)));

	/* An empty object is an object too. */
	CHECK(put_bytes(s, data, 0, 1, sha, &existed) == STORE_OK);
	CHECK(strcmp(sha,
		  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca4"
		  "95991b7852b855") == 0);
	CHECK(existed == 0);
	CHECK(objects_in(root[0]) == 2 && objects_in(root[1]) == 2);

	/* Exactly two of the direct writer's buffers, and one byte under
	 * and over: no short or padded tail is left in the object. */
	for (i = -1; i <= 1; i++) {
		static unsigned char big[2 * STORE_DIRECT_BYTES + 1];
		size_t n = 2 * STORE_DIRECT_BYTES + (size_t)i;
		fill(big, n, 7 + (unsigned)(i + 1));
		CHECK(crypto_sha256_hex(big, n, want) == 0);
		CHECK(put_bytes(s, big, n, 65536, sha, &existed) == STORE_OK);
		CHECK(strcmp(sha, want) == 0);
		CHECK(store_object_path(s, 1, sha, path, sizeof(path)) == 0);
		CHECK(file_is(path, big, n));
		CHECK(store_object_path(s, 0, sha, path, sizeof(path)) == 0);
		CHECK(file_is(path, big, n));
	}
	CHECK(objects_in(root[0]) == 5 && objects_in(root[1]) == 5);
}

/* The buffers a process keeps (store_reserve_buffers): puts one after
 * the other, and two at once (the second allocates its own), each with
 * its own bytes, before and after the kept pair is released. */
static void
test_kept_buffers(struct store *s)
{
	static unsigned char a[STORE_DIRECT_BYTES + 100],
	    b[2 * STORE_DIRECT_BYTES + 7];
	char sa[65], sb[65], wa[65], wb[65];
	enum store_error e1, e2;
	struct store_put *pa, *pb;
	int existed, round;

	fill(a, sizeof(a), 21);
	fill(b, sizeof(b), 22);
	CHECK(crypto_sha256_hex(a, sizeof(a), wa) == 0);
	CHECK(crypto_sha256_hex(b, sizeof(b), wb) == 0);
	CHECK(store_reserve_buffers() == 0);
	CHECK(store_reserve_buffers() == 0); /* again: still one pair */
	for (round = 0; round < 2; round++) {
		CHECK(put_bytes(s, a, sizeof(a), 70000, sa, &existed) ==
		    STORE_OK);
		CHECK(strcmp(sa, wa) == 0);
		CHECK(put_bytes(s, b, sizeof(b), 300000, sb, &existed) ==
		    STORE_OK);
		CHECK(strcmp(sb, wb) == 0);
		pa = store_put_begin(s, &e1);
		pb = store_put_begin(s, &e2);
		CHECK(pa != NULL && pb != NULL);
		if (pa == NULL || pb == NULL) {
			store_put_abort(pa);
			store_put_abort(pb);
			break;
		}
		CHECK(store_put_write(pa, a, sizeof(a)) == STORE_OK);
		CHECK(store_put_write(pb, b, sizeof(b)) == STORE_OK);
		CHECK(store_put_commit(pa, sa, &existed) == STORE_OK);
		CHECK(store_put_commit(pb, sb, &existed) == STORE_OK);
		CHECK(strcmp(sa, wa) == 0 && strcmp(sb, wb) == 0);
		store_release_buffers();
	}
}

/* Two uploads of the same bytes at once: both succeed, one object. */
static void
test_concurrent(struct store *s)
{
	static unsigned char data[70000];
	enum store_error e1, e2;
	struct store_put *a, *b;
	char sa[65], sb[65];
	int ea = -1, eb = -1, before = objects_in(root[0]);

	fill(data, sizeof(data), 2);
	a = store_put_begin(s, &e1);
	b = store_put_begin(s, &e2);
	CHECK(a != NULL && b != NULL);
	if (a == NULL || b == NULL) {
		store_put_abort(a);
		store_put_abort(b);
		return;
	}
	CHECK(tmp_entries(root[0]) == 2 && tmp_entries(root[1]) == 2);
	CHECK(store_put_write(a, data, 1000) == STORE_OK);
	CHECK(store_put_write(b, data, sizeof(data)) == STORE_OK);
	CHECK(store_put_write(a, data + 1000, sizeof(data) - 1000) == STORE_OK);
	CHECK(store_put_commit(b, sb, &eb) == STORE_OK && eb == 0);
	CHECK(store_put_commit(a, sa, &ea) == STORE_OK && ea == 3);
	CHECK(strcmp(sa, sb) == 0);
	CHECK(objects_in(root[0]) == before + 1);
	CHECK(objects_in(root[1]) == before + 1);
	CHECK(tmp_entries(root[0]) == 0 && tmp_entries(root[1]) == 0);
}

static void
test_abort(struct store *s)
{
	struct store_put *p;
	enum store_error e;
	int before = objects_in(root[0]);

	p = store_put_begin(s, &e);
	CHECK(p != NULL && e == STORE_OK);
	if (p == NULL)
		return;
	CHECK(tmp_entries(root[0]) == 1 && tmp_entries(root[1]) == 1);
	CHECK(store_put_write(p, "abandoned", 9) == STORE_OK);
	CHECK(store_put_size(p) == 9);
	store_put_abort(p);
	store_put_abort(NULL);
	CHECK(tmp_entries(root[0]) == 0 && tmp_entries(root[1]) == 0);
	CHECK(objects_in(root[0]) == before && objects_in(root[1]) == before);
}

/* A missing or foreign replica marker: refused before the first byte and
 * at commit; nothing written into either root. */
static void
test_markers(struct store *s)
{
	enum store_root_state st[2];
	char marker[PATHLEN], saved[PATHLEN], sha[65];
	struct store_put *p;
	enum store_error e;
	int before = objects_in(root[0]), existed = -1;

	CHECK(store_check(s, st) == STORE_OK);
	CHECK(st[0] == STORE_ROOT_OK && st[1] == STORE_ROOT_OK);
	pathf(marker, "%s/STORE_ID", root[1]);
	pathf(saved, "%s/STORE_ID.saved", base);
	CHECK(rename(marker, saved) == 0);

	CHECK(store_check(s, st) == STORE_E_ROOT);
	CHECK(st[0] == STORE_ROOT_OK && st[1] == STORE_ROOT_NO_MARKER);
	CHECK(store_check(s, NULL) == STORE_E_ROOT);
	p = store_put_begin(s, &e);
	CHECK(p == NULL && e == STORE_E_ROOT);
	store_put_abort(p);
	CHECK(tmp_entries(root[0]) == 0 && tmp_entries(root[1]) == 0);

	write_file(marker,
	    "00000000000000000000000000000000"
	    "00000000000000000000000000000007\n");
	CHECK(
	    store_check(s, st) == STORE_E_ROOT && st[1] == STORE_ROOT_FOREIGN);
	p = store_put_begin(s, &e);
	CHECK(p == NULL && e == STORE_E_ROOT);
	store_put_abort(p);
	CHECK(tmp_entries(root[0]) == 0 && tmp_entries(root[1]) == 0);
	CHECK(unlink(marker) == 0);
	CHECK(rename(saved, marker) == 0);

	/* The marker goes away during the upload: commit refuses. */
	p = store_put_begin(s, &e);
	CHECK(p != NULL && e == STORE_OK);
	if (p != NULL) {
		CHECK(store_put_write(p, "late refusal", 12) == STORE_OK);
		CHECK(rename(marker, saved) == 0);
		CHECK(store_put_commit(p, sha, &existed) == STORE_E_ROOT);
		CHECK(sha[0] == '\0' && existed == 0);
		CHECK(rename(saved, marker) == 0);
	}
	CHECK(tmp_entries(root[0]) == 0 && tmp_entries(root[1]) == 0);
	CHECK(objects_in(root[0]) == before && objects_in(root[1]) == before);

	/* Ids not recorded yet: refused too. */
	store_set_ids(s, id[0], "");
	CHECK(store_check(s, st) == STORE_E_ROOT &&
	    st[1] == STORE_ROOT_NOT_INITIALISED);
	store_set_ids(s, id[0], "not an id");
	CHECK(store_check(s, st) == STORE_E_ROOT);
	store_set_ids(s, id[0], id[1]);
	CHECK(store_check(s, st) == STORE_OK);

	/* A root that cannot be read: the object is neither there nor not. */
	{
		struct store *gone =
		    store_new("/nonexistent/licheng/p", root[1], id[0], id[1]);
		const char *h = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b9"
				"34ca495991b7852b855";

		CHECK(store_object_exists(gone, 0, h) == -1);
		CHECK(store_object_exists(gone, 1, h) == 1);
		CHECK(store_object_exists(gone, 1, "xyz") == -1);
		p = store_put_begin(gone, &e);
		CHECK(p == NULL && e == STORE_E_ROOT);
		store_free(gone);
	}
}

/* The "<host>" part of this process's temporary file names, learnt from a
 * put in progress. */
static void
tmp_host(struct store *s, char *host, size_t hostlen)
{
	char dir[PATHLEN], pid[32];
	struct dirent *de;
	struct store_put *p;
	enum store_error e;
	DIR *d;
	char *cut;

	host[0] = '\0';
	p = store_put_begin(s, &e);
	CHECK(p != NULL);
	pathf(dir, "%s/tmp", root[0]);
	d = opendir(dir);
	while (d != NULL && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			snprintf(host, hostlen, "%s", de->d_name);
	if (d != NULL)
		closedir(d);
	store_put_abort(p);
	snprintf(pid, sizeof(pid), ".%ld.", (long)getpid());
	cut = strstr(host, pid);
	CHECK_MSG(cut != NULL && strlen(cut + strlen(pid)) == 16,
	    "temporary file name %s", host);
	if (cut != NULL)
		*cut = '\0';
}

static void
make_tmp(int r, const char *name)
{
	char path[PATHLEN];

	pathf(path, "%s/tmp/%s", root[r], name);
	write_file(path, "partial");
}

static int
tmp_has(int r, const char *name)
{
	char path[PATHLEN];

	pathf(path, "%s/tmp/%s", root[r], name);
	return access(path, F_OK) == 0;
}

static void
test_sweep(struct store *s)
{
	char host[256], dead[300], live[300], other[300], mine[300];
	char marker[PATHLEN], saved[PATHLEN];
	pid_t child;
	int r, status;

	tmp_host(s, host, sizeof(host));
	/* A pid that is surely dead: a child that exited and was reaped. */
	child = fork();
	if (child == 0)
		_exit(0);
	CHECK(child > 0 && waitpid(child, &status, 0) == child);
	snprintf(
	    dead, sizeof(dead), "%s.%ld.0123456789abcdef", host, (long)child);
	snprintf(live, sizeof(live), "%s.%ld.0123456789abcdef", host,
	    (long)getppid());
	snprintf(other, sizeof(other), "%s-elsewhere.%ld.0123456789abcdef",
	    host, (long)child);
	snprintf(mine, sizeof(mine), "%s.%ld.fedcba9876543210", host,
	    (long)getpid());
	for (r = 0; r < 2; r++) {
		make_tmp(r, dead);
		make_tmp(r, live);
		make_tmp(r, other);
		make_tmp(r, mine);
		make_tmp(r, "not-ours");
	}
	CHECK(store_tmp_sweep(s, 0) == 2);
	for (r = 0; r < 2; r++) {
		CHECK(!tmp_has(r, dead));
		CHECK(tmp_has(r, live));
		CHECK(tmp_has(r, other));
		CHECK(tmp_has(r, mine));
		CHECK(tmp_has(r, "not-ours"));
	}
	/* Only one pid's, whether alive or not (its reaper knows). */
	CHECK(store_tmp_sweep(s, (long)getpid()) == 2);
	for (r = 0; r < 2; r++) {
		CHECK(!tmp_has(r, mine));
		CHECK(tmp_has(r, live));
	}
	CHECK(store_tmp_sweep(s, 0) == 0);

	/* A root that is not ours is never touched. */
	pathf(marker, "%s/STORE_ID", root[1]);
	pathf(saved, "%s/STORE_ID.saved", base);
	make_tmp(0, dead);
	make_tmp(1, dead);
	CHECK(rename(marker, saved) == 0);
	CHECK(store_tmp_sweep(s, 0) == 1);
	CHECK(!tmp_has(0, dead) && tmp_has(1, dead));
	CHECK(rename(saved, marker) == 0);
	CHECK(store_tmp_sweep(s, (long)child) == 1);
	for (r = 0; r < 2; r++) {
		char path[PATHLEN];

		CHECK(!tmp_has(r, dead));
		pathf(path, "%s/tmp/%s", root[r], live);
		CHECK(unlink(path) == 0);
		pathf(path, "%s/tmp/%s", root[r], other);
		CHECK(unlink(path) == 0);
		pathf(path, "%s/tmp/not-ours", root[r]);
		CHECK(unlink(path) == 0);
	}
}

/* Makes dir a store root on a 256 KiB tmpfs of its own (its id in fid):
 * 0; 1 when no tmpfs can be mounted (the test, named who, is skipped); -1
 * when the root cannot be made (dir stays mounted for the caller to
 * unmount). */
static int
small_root(const char *dir, char fid[STORE_ID_LEN + 1], const char *who)
{
	CHECK(mkdir(dir, 0750) == 0);
	if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV,
		"size=256k,mode=0750") != 0) {
		printf("%s skipped: cannot mount a tmpfs (%s); run as root to "
		       "test a full disk\n",
		    who, strerror(errno));
		(void)rmdir(dir);
		return 1;
	}
	if (store_init_root(dir, fid) != 0) {
		CHECK(0);
		return -1;
	}
	return 0;
}

/* The replica on a 256 KiB tmpfs: a bigger object (more than one direct
 * buffer, so that with O_DIRECT the first full buffer's write fails, in
 * the middle of the body) fails with STORE_E_FULL, leaves no object and
 * no temporary file in either root, and a small one still fits
 * afterwards; with O_DIRECT (mode 1, where tmpfs has it) and without. */
static void
test_full(int mode)
{
	static unsigned char data[STORE_DIRECT_BYTES + 512 * 1024];
	char full[PATHLEN], fid[STORE_ID_LEN + 1], sha[65], want[65];
	char path[PATHLEN];
	struct store *s;
	int existed, before;

	pathf(full, "%s/full-%d", base, mode);
	switch (small_root(full, fid, "test_full")) {
	case 1: return;
	case -1: goto out;
	}
	s = store_new(root[0], full, id[0], fid);
	store_set_direct(s, mode);
	before = objects_in(root[0]);
	fill(data, sizeof(data), 3);
	CHECK(crypto_sha256_hex(data, sizeof(data), want) == 0);
	CHECK(put_bytes(s, data, sizeof(data), 8192, sha, &existed) ==
	    STORE_E_FULL);
	CHECK(sha[0] == '\0');
	CHECK(tmp_entries(root[0]) == 0);
	CHECK(tmp_entries(full) == 0);
	CHECK(objects_in(full) == 0);
	CHECK(objects_in(root[0]) == before);
	CHECK(store_object_exists(s, 0, want) == 0);
	CHECK(store_object_exists(s, 1, want) == 0);
	/* The space came back with the temporary file: a small one fits. */
	CHECK(put_bytes(s, data, 4096, 4096, sha, &existed) == STORE_OK);
	CHECK(store_object_path(s, 1, sha, path, sizeof(path)) == 0 &&
	    file_is(path, data, 4096));
	store_free(s);
out:
	if (umount2(full, MNT_DETACH) != 0)
		fprintf(stderr, "umount %s: %s\n", full, strerror(errno));
	(void)rmdir(full);
}

/* Overwrites one byte of the file at path at off. */
static void
flip_byte(const char *path, off_t off)
{
	unsigned char c = 0;
	int fd = open(path, O_RDWR);

	CHECK(fd != -1);
	if (fd == -1)
		return;
	CHECK(pread(fd, &c, 1, off) == 1);
	c ^= 0x5a;
	CHECK(pwrite(fd, &c, 1, off) == 1);
	CHECK(close(fd) == 0);
}

/* Counts the throttle's ticks. */
static void
count_tick(void *arg)
{
	(*(int *)arg)++;
}

/* Removes objects/ab/cd and objects/ab of sha in r when they are empty. */
static void
drop_object_dirs(const char *r, const char *sha)
{
	char path[PATHLEN];

	pathf(path, "%s/objects/%.2s/%.2s", r, sha, sha + 2);
	(void)rmdir(path);
	pathf(path, "%s/objects/%.2s", r, sha);
	(void)rmdir(path);
}

/* Reading copies back: good, missing, mismatched (one byte), not a
 * regular file, a root that is not ours; the throttle. */
static void
test_verify(struct store *s)
{
	static unsigned char data[300 * 1024 + 11];
	char sha[65], path[PATHLEN], link[PATHLEN];
	enum store_copy found[2];
	struct store_reader rd;
	struct store *foreign;
	int existed, ticks = 0;
	int64_t t0, ms;

	CHECK(strcmp(store_copy_name(STORE_COPY_GOOD), "good") == 0);
	CHECK(strcmp(store_copy_name(STORE_COPY_MISSING), "missing") == 0);
	CHECK(strcmp(store_copy_name(STORE_COPY_MISMATCH), "mismatch") == 0);
	CHECK(strcmp(store_copy_name(STORE_COPY_ERROR), "error") == 0);
	fill(data, sizeof(data), 11);
	CHECK(
	    put_bytes(s, data, sizeof(data), 65536, sha, &existed) == STORE_OK);
	memset(&rd, 0, sizeof(rd));
	CHECK(store_copy_verify(s, 0, STORE_AREA_OBJECTS, sha, &rd) ==
	    STORE_COPY_GOOD);
	CHECK(store_copy_verify(s, 1, STORE_AREA_OBJECTS, sha, &rd) ==
	    STORE_COPY_GOOD);
	CHECK(rd.bytes == 2 * sizeof(data));
	/* Both at once (the replica in a thread), counted together. */
	memset(&rd, 0, sizeof(rd));
	store_copies_verify(s, STORE_AREA_OBJECTS, sha, &rd, found);
	CHECK(found[0] == STORE_COPY_GOOD && found[1] == STORE_COPY_GOOD);
	CHECK(rd.bytes == 2 * sizeof(data));
	store_copies_verify(s, STORE_AREA_QUARANTINE, sha, NULL, found);
	CHECK(found[0] == STORE_COPY_MISSING && found[1] == STORE_COPY_MISSING);
	CHECK(store_copy_verify(s, 0, STORE_AREA_QUARANTINE, sha, NULL) ==
	    STORE_COPY_MISSING);
	CHECK(store_copy_verify(s, 0, STORE_AREA_OBJECTS, "AB", NULL) ==
	    STORE_COPY_ERROR);
	CHECK(store_area_path(
		  s, 1, STORE_AREA_QUARANTINE, sha, path, sizeof(path)) == 0);
	CHECK(
	    strstr(path, "/quarantine/") != NULL && strstr(path, sha) != NULL);
	CHECK(store_area_path(
		  s, 2, STORE_AREA_OBJECTS, sha, path, sizeof(path)) == -1);

	/* One byte changed, at the start, the middle, the very end. */
	CHECK(store_object_path(s, 0, sha, path, sizeof(path)) == 0);
	flip_byte(path, 0);
	CHECK(store_copy_verify(s, 0, STORE_AREA_OBJECTS, sha, NULL) ==
	    STORE_COPY_MISMATCH);
	store_copies_verify(s, STORE_AREA_OBJECTS, sha, NULL, found);
	CHECK(found[0] == STORE_COPY_MISMATCH && found[1] == STORE_COPY_GOOD);
	flip_byte(path, 0);
	flip_byte(path, (off_t)sizeof(data) - 1);
	CHECK(store_copy_verify(s, 0, STORE_AREA_OBJECTS, sha, NULL) ==
	    STORE_COPY_MISMATCH);
	flip_byte(path, (off_t)sizeof(data) - 1);
	CHECK(truncate(path, sizeof(data) - 1) == 0);
	CHECK(store_copy_verify(s, 0, STORE_AREA_OBJECTS, sha, NULL) ==
	    STORE_COPY_MISMATCH);
	CHECK(unlink(path) == 0);
	CHECK(store_copy_verify(s, 0, STORE_AREA_OBJECTS, sha, NULL) ==
	    STORE_COPY_MISSING);
	/* Not a file: a symbolic link to the good replica, a directory. */
	CHECK(store_object_path(s, 1, sha, link, sizeof(link)) == 0);
	CHECK(symlink(link, path) == 0);
	CHECK(store_copy_verify(s, 0, STORE_AREA_OBJECTS, sha, NULL) ==
	    STORE_COPY_MISMATCH);
	CHECK(unlink(path) == 0);
	CHECK(mkdir(path, 0750) == 0);
	CHECK(store_copy_verify(s, 0, STORE_AREA_OBJECTS, sha, NULL) ==
	    STORE_COPY_MISMATCH);
	CHECK(rmdir(path) == 0);
	/* The object's directories gone: missing, not an error. */
	drop_object_dirs(root[0], sha);
	CHECK(store_copy_verify(s, 0, STORE_AREA_OBJECTS, sha, NULL) ==
	    STORE_COPY_MISSING);
	CHECK(store_replace_bad_copy(s, 1, STORE_AREA_OBJECTS, sha,
		  "job 1 was missing", NULL) == STORE_OK);
	CHECK(file_is(path, data, sizeof(data)));
	CHECK(store_repair_note_remove(s, 0, sha) == 0);

	/* A root whose marker is not the recorded one decides nothing. */
	foreign = store_new(root[0], root[1],
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    id[1]);
	CHECK(store_copy_verify(foreign, 0, STORE_AREA_OBJECTS, sha, NULL) ==
	    STORE_COPY_ERROR);
	CHECK(store_copy_verify(foreign, 1, STORE_AREA_OBJECTS, sha, NULL) ==
	    STORE_COPY_GOOD);
	CHECK(store_replace_bad_copy(foreign, 1, STORE_AREA_OBJECTS, sha,
		  "job 1 was mismatch", NULL) == STORE_E_ROOT);
	store_free(foreign);

	/* 1 MiB/s over both copies (about 600 KiB): at least half a second,
	 * with ticks between blocks and pauses. */
	memset(&rd, 0, sizeof(rd));
	rd.rate = 1024 * 1024;
	rd.tick = count_tick;
	rd.arg = &ticks;
	t0 = now_ms();
	store_copies_verify(s, STORE_AREA_OBJECTS, sha, &rd, found);
	CHECK(found[0] == STORE_COPY_GOOD && found[1] == STORE_COPY_GOOD);
	ms = now_ms() - t0;
	CHECK_MSG(ms >= 500 && ms < 5000, "throttled read took %lld ms",
	    (long long)ms);
	CHECK(rd.bytes == 2 * sizeof(data));
	CHECK(ticks >= 2);
}

/* Repair notes: written, read, replaced, removed; never swept. */
static void
test_notes(struct store *s)
{
	const char *sha =
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char text[STORE_NOTE_MAX], big[STORE_NOTE_MAX + 1];

	CHECK(store_repair_note_read(s, 0, sha, text, sizeof(text)) == 0);
	CHECK(store_repair_note_write(s, 0, sha, "job 7 was mismatch") == 0);
	CHECK(store_repair_note_read(s, 0, sha, text, sizeof(text)) == 1);
	CHECK(strcmp(text, "job 7 was mismatch") == 0);
	CHECK(store_repair_note_read(s, 1, sha, text, sizeof(text)) == 0);
	CHECK(store_repair_note_write(s, 0, sha, "job 8 was missing") == 0);
	CHECK(store_repair_note_read(s, 0, sha, text, sizeof(text)) == 1);
	CHECK(strcmp(text, "job 8 was missing") == 0);
	/* Only the note is left in tmp/, and no sweep takes it. */
	CHECK(tmp_entries(root[0]) == 1);
	CHECK(store_tmp_sweep(s, 0) == 0);
	CHECK(store_tmp_sweep(s, (long)getpid()) == 0);
	CHECK(store_repair_note_read(s, 0, sha, text, sizeof(text)) == 1);
	CHECK(store_repair_note_remove(s, 0, sha) == 0);
	CHECK(store_repair_note_remove(s, 0, sha) == 0);
	CHECK(store_repair_note_read(s, 0, sha, text, sizeof(text)) == 0);
	CHECK(tmp_entries(root[0]) == 0);
	/* Too long, or not a hash: refused, nothing written. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(store_repair_note_write(s, 0, sha, big) == -1);
	CHECK(store_repair_note_write(s, 0, "../../x", "job 1") == -1);
	CHECK(store_repair_note_read(s, 0, "../x", text, sizeof(text)) == -1);
	CHECK(tmp_entries(root[0]) == 0);
}

/* Repairs: a mismatched primary from the replica, a missing replica from
 * the primary, copies in quarantine/; a "good" copy that is not good
 * replaces nothing and leaves nothing behind. */
static void
test_repair(struct store *s)
{
	static unsigned char data[2 * 1024 * 1024 + 3];
	char sha[65], path[2][PATHLEN], q[2][PATHLEN], text[STORE_NOTE_MAX];
	enum store_copy found[2];
	struct store_reader rd;
	int existed, i;

	fill(data, sizeof(data), 12);
	CHECK(put_bytes(s, data, sizeof(data), 100000, sha, &existed) ==
	    STORE_OK);
	for (i = 0; i < 2; i++)
		CHECK(store_object_path(s, i, sha, path[i], PATHLEN) == 0);

	/* The primary mismatched: repaired from the replica, the note left
	 * for the caller. */
	flip_byte(path[0], 1000000);
	memset(&rd, 0, sizeof(rd));
	CHECK(store_replace_bad_copy(s, 1, STORE_AREA_OBJECTS, sha,
		  "job 3 was mismatch", &rd) == STORE_OK);
	CHECK(rd.bytes == sizeof(data));
	CHECK(file_is(path[0], data, sizeof(data)));
	CHECK(store_copy_verify(s, 0, STORE_AREA_OBJECTS, sha, NULL) ==
	    STORE_COPY_GOOD);
	CHECK(store_repair_note_read(s, 0, sha, text, sizeof(text)) == 1 &&
	    strcmp(text, "job 3 was mismatch") == 0);
	CHECK(store_repair_note_read(s, 1, sha, text, sizeof(text)) == 0);
	CHECK(tmp_entries(root[0]) == 1 && tmp_entries(root[1]) == 0);
	CHECK(store_repair_note_remove(s, 0, sha) == 0);

	/* The replica missing: recreated from the primary. */
	CHECK(unlink(path[1]) == 0);
	store_copies_verify(s, STORE_AREA_OBJECTS, sha, NULL, found);
	CHECK(found[0] == STORE_COPY_GOOD && found[1] == STORE_COPY_MISSING);
	CHECK(store_replace_bad_copy(s, 0, STORE_AREA_OBJECTS, sha,
		  "job 4 was missing", NULL) == STORE_OK);
	CHECK(file_is(path[1], data, sizeof(data)));
	CHECK(store_repair_note_remove(s, 1, sha) == 0);

	/* The "good" copy is bad too: nothing replaced, nothing left. */
	flip_byte(path[0], 5);
	flip_byte(path[1], 7);
	CHECK(store_replace_bad_copy(s, 0, STORE_AREA_OBJECTS, sha,
		  "job 5 was mismatch", NULL) == STORE_E_IO);
	CHECK(store_repair_note_read(s, 1, sha, text, sizeof(text)) == 0);
	CHECK(tmp_entries(root[0]) == 0 && tmp_entries(root[1]) == 0);
	CHECK(store_copy_verify(s, 1, STORE_AREA_OBJECTS, sha, NULL) ==
	    STORE_COPY_MISMATCH);
	/* The good copy missing altogether: likewise. */
	CHECK(unlink(path[0]) == 0);
	CHECK(store_replace_bad_copy(s, 0, STORE_AREA_OBJECTS, sha,
		  "job 6 was mismatch", NULL) == STORE_E_IO);
	CHECK(tmp_entries(root[0]) == 0 && tmp_entries(root[1]) == 0);
	/* Mended by hand for what follows. */
	flip_byte(path[1], 7);
	CHECK(store_replace_bad_copy(s, 1, STORE_AREA_OBJECTS, sha,
		  "job 6 was missing", NULL) == STORE_OK);
	CHECK(store_repair_note_remove(s, 0, sha) == 0);

	/* Quarantined copies: verified and repaired in quarantine/. */
	for (i = 0; i < 2; i++) {
		CHECK(store_area_path(s, i, STORE_AREA_QUARANTINE, sha, q[i],
			  PATHLEN) == 0);
		CHECK(rename(path[i], q[i]) == 0);
	}
	CHECK(store_copy_verify(s, 0, STORE_AREA_QUARANTINE, sha, NULL) ==
	    STORE_COPY_GOOD);
	CHECK(store_copy_verify(s, 0, STORE_AREA_OBJECTS, sha, NULL) ==
	    STORE_COPY_MISSING);
	flip_byte(q[1], 2000000);
	CHECK(store_copy_verify(s, 1, STORE_AREA_QUARANTINE, sha, NULL) ==
	    STORE_COPY_MISMATCH);
	CHECK(store_replace_bad_copy(s, 0, STORE_AREA_QUARANTINE, sha,
		  "job 7 was mismatch", NULL) == STORE_OK);
	CHECK(file_is(q[1], data, sizeof(data)));
	CHECK(access(path[1], F_OK) == -1 && errno == ENOENT);
	CHECK(store_repair_note_remove(s, 1, sha) == 0);
	for (i = 0; i < 2; i++)
		CHECK(unlink(q[i]) == 0);
	CHECK(tmp_entries(root[0]) == 0 && tmp_entries(root[1]) == 0);
}

/* The bad copy's root on a full 256 KiB tmpfs: the repair fails with
 * STORE_E_FULL and leaves no temporary file, no note and no object there;
 * with room again it succeeds. */
static void
test_repair_full(void)
{
	static unsigned char data[160 * 1024], block[4096];
	char full[PATHLEN], fid[STORE_ID_LEN + 1], sha[65], path[PATHLEN];
	char filler[PATHLEN], text[STORE_NOTE_MAX];
	struct store *s;
	int existed, fd;
	ssize_t n;

	pathf(full, "%s/repair-full", base);
	switch (small_root(full, fid, "test_repair_full")) {
	case 1: return;
	case -1: goto out;
	}
	s = store_new(root[0], full, id[0], fid);
	store_set_direct(s, 0);
	fill(data, sizeof(data), 13);
	CHECK(
	    put_bytes(s, data, sizeof(data), 8192, sha, &existed) == STORE_OK);
	CHECK(store_object_path(s, 1, sha, path, sizeof(path)) == 0);
	CHECK(unlink(path) == 0);
	/* Fill what is left. */
	pathf(filler, "%s/filler", full);
	fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd != -1);
	while (fd != -1 && (n = write(fd, block, sizeof(block))) > 0)
		;
	CHECK(errno == ENOSPC);
	if (fd != -1)
		CHECK(close(fd) == 0);
	CHECK(store_replace_bad_copy(s, 0, STORE_AREA_OBJECTS, sha,
		  "job 9 was missing", NULL) == STORE_E_FULL);
	CHECK(tmp_entries(full) == 0);
	CHECK(store_repair_note_read(s, 1, sha, text, sizeof(text)) == 0);
	CHECK(objects_in(full) == 0);
	CHECK(store_copy_verify(s, 1, STORE_AREA_OBJECTS, sha, NULL) ==
	    STORE_COPY_MISSING);
	CHECK(store_copy_verify(s, 0, STORE_AREA_OBJECTS, sha, NULL) ==
	    STORE_COPY_GOOD);
	/* Room again: repaired. */
	CHECK(unlink(filler) == 0);
	CHECK(store_replace_bad_copy(s, 0, STORE_AREA_OBJECTS, sha,
		  "job 9 was missing", NULL) == STORE_OK);
	CHECK(file_is(path, data, sizeof(data)));
	CHECK(store_repair_note_read(s, 1, sha, text, sizeof(text)) == 1);
	CHECK(store_repair_note_remove(s, 1, sha) == 0);
	CHECK(tmp_entries(full) == 0);
	store_free(s);
out:
	if (umount2(full, MNT_DETACH) != 0)
		fprintf(stderr, "umount %s: %s\n", full, strerror(errno));
	(void)rmdir(full);
}

static void
remove_tree(const char *dir)
{
	char cmd[700];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

/* 1 when a file under dir can be opened with O_DIRECT. */
static int
direct_supported(const char *dir)
{
	char path[PATHLEN];
	int fd;

	pathf(path, "%s/tmp/probe", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_DIRECT, 0600);
	if (fd == -1)
		return 0;
	(void)close(fd);
	(void)unlink(path);
	return 1;
}

int
main(void)
{
	struct store *s;
	int i, mode;

	(void)log_open("-", LL_ERROR);
	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_names();
	/* Each mode in roots of its own: writes with O_DIRECT (where the
	 * file system has it), then buffered writes. */
	for (mode = 1; mode >= 0; mode--) {
		for (i = 0; i < 2; i++) {
			snprintf(root[i], sizeof(root[i]), "%s/%s%s", base,
			    mode ? "d-" : "b-", i == 0 ? "primary" : "replica");
			CHECK(store_init_root(root[i], id[i]) == 0);
		}
		s = store_new(root[0], root[1], id[0], id[1]);
		store_set_direct(s, mode);
		test_put(s);
		if (mode == 0 || direct_supported(root[0]))
			CHECK_MSG(last_direct == mode, "mode %d", mode);
		else
			printf("O_DIRECT is not supported under %s: the "
			       "buffered path ran twice\n",
			    base);
		test_concurrent(s);
		test_kept_buffers(s);
		test_abort(s);
		if (mode == 0) {
			test_markers(s);
			test_sweep(s);
			test_verify(s);
			test_notes(s);
			test_repair(s);
		}
		store_free(s);
	}
	test_full(1);
	test_full(0);
	test_repair_full();
	remove_tree(base);
	return harness_done();
}
