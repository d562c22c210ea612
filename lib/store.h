/*
 * store: the durable file store's two roots. For now this owns only the
 * STORE_ID root markers: creating a root once, and telling whether a mounted
 * root is the one the database recorded. It never re-initialises a root that
 * holds a marker or any file, and never treats an unreadable root as empty.
 */
#ifndef LICHENG_STORE_H
#define LICHENG_STORE_H

struct db;

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

#endif
