/*
 * store: the durable content-addressed file store in two roots (primary and
 * replica, on different disks or sites). It owns the STORE_ID root markers
 * (creating a root once; telling whether a mounted root is the one the
 * database recorded) and the objects: objects/ab/cd/<sha256>, immutable and
 * shared by hash. An object is written to tmp/ in both roots while SHA-256
 * runs over the bytes, fsynced, renamed into objects/ and its directory
 * fsynced, in both roots, before store_put_commit returns. It never
 * re-initialises a root that holds a marker or any file, never writes into a
 * root whose marker is missing or foreign, never treats an unreadable root
 * as empty, and never leaves a partial object visible under objects/.
 */
#ifndef LICHENG_STORE_H
#define LICHENG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

struct conf;

/* A store id is 64 lower-case hex characters (256 random bits). */
#define STORE_ID_LEN 64

enum store_root_state {
	STORE_ROOT_OK, /* marker matches the recorded id */
	STORE_ROOT_UNREACHABLE, /* root missing or unreadable */
	STORE_ROOT_NO_MARKER, /* root readable but has no STORE_ID */
	STORE_ROOT_FOREIGN, /* STORE_ID differs from the recorded id */
	STORE_ROOT_NOT_INITIALISED, /* no id recorded in the database yet */
	STORE_ROOT__MAX
};

/* "ok", "unreachable", "no_marker", "foreign", "not_initialised". */
const char *store_root_state_name(enum store_root_state s);

/* Reads <root>/STORE_ID and compares it with expected_id (the id recorded in
 * the database; NULL or "" when none is recorded yet). */
enum store_root_state
store_root_check(const char *root, const char *expected_id);

/* Creates root/ (if missing), root/tmp, root/objects, root/quarantine and
 * writes a new random STORE_ID durably (tmp file, fsync, rename, fsync of the
 * directory). Refuses (-1) when root already has a STORE_ID or is non-empty
 * without one. The new id is written to id_out. 0/-1. */
int store_init_root(const char *root, char id_out[STORE_ID_LEN + 1]);

/* Loads the recorded ids of the primary and replica roots from store_roots;
 * an id that is not recorded comes back as "". 0, or -1 on a database
 * error. */
int store_load_ids(struct db *db, char primary[STORE_ID_LEN + 1],
    char replica[STORE_ID_LEN + 1]);

/*
 * Writing objects.
 */

enum store_error {
	STORE_OK,
	STORE_E_ROOT, /* a root's marker is missing, foreign or unreadable */
	STORE_E_FULL, /* no space left (ENOSPC, EDQUOT) */
	STORE_E_IO, /* any other system error */
	STORE_E__MAX
};

/* "ok", "root", "full", "io": message keys "store.error.<name>". */
const char *store_error_name(enum store_error e);

/* The two roots and the ids recorded for them. The paths and ids are
 * copied. */
struct store;
struct store *store_new(const char *primary, const char *replica,
    const char *primary_id, const char *replica_id);
void store_free(struct store *s);
/* Whether puts may write with O_DIRECT where both file systems allow it
 * (the default, 1); 0 keeps buffered writes (tests cover both). */
void store_set_direct(struct store *s, int on);
/* Replaces the recorded ids (after they were re-read from the database). */
void
store_set_ids(struct store *s, const char *primary_id, const char *replica_id);
/* Checks both roots' markers against the recorded ids: STORE_OK, or
 * STORE_E_ROOT with st[0] (primary) and st[1] (replica) telling which and
 * why. st may be NULL. */
enum store_error
store_check(const struct store *s, enum store_root_state st[2]);

/* A put with O_DIRECT gathers the bytes in two aligned buffers of this
 * size (one fills while the other is written) and writes them to the disk
 * in requests of this size. */
#define STORE_DIRECT_BYTES (1024 * 1024)

/* Allocates (and touches) the pair of direct-write buffers this process
 * keeps for its puts, so that an upload allocates nothing: a licheng-fcgi
 * child calls it when it starts. A put that finds them taken (two puts at
 * once) allocates its own and frees them after. 0, or -1 when out of
 * memory (puts then allocate their own, as before). */
int store_reserve_buffers(void);
/* Frees the kept buffers (at exit, for leak checkers). */
void store_release_buffers(void);

/* One object being written. Its temporary files are named
 * tmp/<host>.<pid>.<random> in each root, so that store_tmp_sweep can tell
 * whose they are. */
struct store_put;

/* Checks both markers, then creates the temporary file in each root.
 * NULL with *err (STORE_E_ROOT when a marker is wrong) on failure. */
struct store_put *store_put_begin(struct store *s, enum store_error *err);
/* 1 when the put writes with O_DIRECT (see store_set_direct). */
int store_put_is_direct(const struct store_put *p);
/* Appends n bytes to both temporary files and to the running SHA-256.
 * STORE_OK or the error (the put must then be aborted). */
enum store_error
store_put_write(struct store_put *p, const void *data, size_t n);
/* Bytes written so far. */
unsigned long long store_put_size(const struct store_put *p);
/* Finishes the object: checks both markers again, fsyncs both temporary
 * files, renames each to objects/ab/cd/<sha256> (creating and fsyncing the
 * directories as needed) and fsyncs the directory, primary then replica.
 * An object that already exists is kept as it is (objects are immutable)
 * and the temporary file is removed: *existed says so (per root: bit 0
 * primary, bit 1 replica). On success the hex SHA-256 is in sha256_out and
 * p is freed; on failure no partial object is visible, the temporary files
 * are removed and p is freed too. */
enum store_error
store_put_commit(struct store_put *p, char sha256_out[65], int *existed);
/* Drops an unfinished put: removes both temporary files; frees p. Accepts
 * NULL. */
void store_put_abort(struct store_put *p);

/* For a pool master, which keeps no database connection: the first sweep
 * of stale temporary files (store_tmp_sweep(*s, 0)). While *s is NULL and
 * now_ms() has reached *retry_at, it reads the recorded ids over a
 * short-lived connection as role, makes *s (the configured roots, for later
 * store_tmp_sweep(*s, pid) calls; the caller frees it) and sweeps; when the
 * ids cannot be read yet it logs why and sets *retry_at ten seconds on.
 * Called at start and then about once a second. */
void store_sweep_start(struct store **s, int64_t *retry_at,
    const struct conf *c, enum db_role role);

/* Removes the temporary files of this host in both roots whose writer is
 * no longer running (its pid is not alive), or — when only_pid is not 0 —
 * those of that pid alone. Returns the number removed, or -1 when a tmp/
 * directory could not be read. */
int store_tmp_sweep(const struct store *s, long only_pid);

/* The path of an object in root 0 (primary) or 1 (replica):
 * "<root>/objects/ab/cd/<sha256>". 0, or -1 when it does not fit or the hash
 * is not 64 lower-case hex characters. */
int store_object_path(const struct store *s, int root, const char *sha256,
    char *out, size_t outlen);
/* The part after objects/: "ab/cd/<sha256>" (for X-Accel-Redirect). */
int store_object_rel(const char *sha256, char *out, size_t outlen);
/* 1 when the object exists (a regular file) in the root, 0 when it does not,
 * -1 when the root cannot be read. */
int store_object_exists(const struct store *s, int root, const char *sha256);

/*
 * Reading an object back and repairing a copy: the hash and repair jobs
 * (workers/job_hash.c). A copy is read with its own open(2) and read(2) and
 * hashed with lib/crypto, independently of the put path above, after the
 * file's clean cached pages are dropped, so that the bytes come from the
 * disk rather than from memory that still holds what was written.
 */

/* Where an object's copies are: objects/ab/cd/<sha256>, or
 * quarantine/<sha256> once the scan job has moved them there. */
enum store_area { STORE_AREA_OBJECTS, STORE_AREA_QUARANTINE, STORE_AREA__MAX };

/* The path of a copy in root 0 (primary) or 1 (replica) and area. 0, or -1
 * when it does not fit or the hash is not 64 lower-case hex characters. */
int store_area_path(const struct store *s, int root, enum store_area a,
    const char *sha256, char *out, size_t outlen);

/* What reading one copy back found. */
enum store_copy {
	STORE_COPY_GOOD, /* its bytes hash to its name */
	STORE_COPY_MISSING, /* no file there; the root itself is ours */
	STORE_COPY_MISMATCH, /* bytes that hash to another name, bytes the
			      * disk cannot return (EIO), or not a regular
			      * file */
	STORE_COPY_ERROR, /* nothing decided: the root's marker is wrong or
			   * another system error (logged); try later */
	STORE_COPY__MAX
};

/* "good", "missing", "mismatch", "error". */
const char *store_copy_name(enum store_copy c);

/* How fast a job reads, shared by all its reads: the caller zeroes it and
 * sets rate, tick and arg; the store counts. */
struct store_reader {
	long long rate; /* bytes/s over all reads through it; 0: no limit */
	void (*tick)(void *arg); /* NULL, or called after every block and
				  * every pause of the throttle */
	void *arg;
	int started; /* the store's from here on */
	int64_t start_ms; /* monotonic, at the first block */
	unsigned long long bytes; /* read through it so far */
};

/* Reads root's copy of sha256 in area back in large blocks, throttled by
 * rd (which may be NULL), and compares its SHA-256 with the name. */
enum store_copy store_copy_verify(const struct store *s, int root,
    enum store_area a, const char *sha256, struct store_reader *rd);

/* Reads both roots' copies back (found[0] primary, found[1] replica):
 * at once, the replica in a thread of its own — they live on different
 * disks, and a machine has more than one core — when rd has no rate; one
 * after the other, through rd, when it has. rd (which may be NULL) counts
 * the bytes of both and ticks in the caller's thread only. */
void store_copies_verify(const struct store *s, enum store_area a,
    const char *sha256, struct store_reader *rd, enum store_copy found[2]);

/*
 * A repair note: tmp/repair.<sha256> in the root whose copy a repair
 * replaces, written durably before the replacement and removed once the
 * repair is on record, so that a run that died after replacing the copy
 * but before recording it is recognised by the next (see
 * workers/job_hash.c). Its text (at most STORE_NOTE_MAX - 1 bytes) is the
 * caller's. The sweep of dead writers' files never takes it (its name is
 * not <host>.<pid>.<random>).
 */
#define STORE_NOTE_MAX 128
/* 1 with the text in out, 0 when there is none, -1 when it cannot be
 * read. */
int store_repair_note_read(const struct store *s, int root, const char *sha256,
    char *out, size_t outlen);
/* Writes (or replaces) the note durably: a temporary file, fsync, rename,
 * fsync of tmp/. 0/-1. */
int store_repair_note_write(
    const struct store *s, int root, const char *sha256, const char *text);
/* Removes the note; none is fine. 0/-1. */
int
store_repair_note_remove(const struct store *s, int root, const char *sha256);

/*
 * store_replace_bad_copy: the only function that replaces a file under
 * objects/ (or quarantine/), and only with bytes whose hash it has just
 * checked. It copies the good root's copy of sha256 in area (good: 0 or 1)
 * into a temporary file of the other root, hashing what it writes and
 * comparing the hash with the name, fsyncs it, writes the repair note
 * (note, see above) durably, renames the file onto the bad copy (creating
 * and fsyncing objects/ab/cd/ as a put does, whether the bad copy is
 * missing or holds wrong bytes), and fsyncs the directory. Both markers
 * must match. The caller has decided that the good copy is good and the
 * other bad, under a lock that keeps others from doing the same. On a
 * failure before the rename nothing is left behind (no temporary file, no
 * note) and the bad copy is as it was; after the rename the note stays.
 * STORE_OK, or the error (STORE_E_FULL when the bad root is full).
 */
enum store_error
store_replace_bad_copy(const struct store *s, int good, enum store_area a,
    const char *sha256, const char *note, struct store_reader *rd);

#endif
