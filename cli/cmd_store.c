/*
 * cmd_store: `licheng store init` and `licheng store check`. It owns
 * recording the two roots' ids in store_roots, once. It must never
 * initialise a store whose ids are already recorded, nor report a store as
 * healthy unless both roots carry their recorded markers.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "store.h"

static int
cmd_store_usage(const char *what)
{
	fprintf(stderr, "usage: licheng store %s\n", what);
	return 2;
}

int
cmd_store_init(const struct conf *c, int argc, char **argv)
{
	char primary[STORE_ID_LEN + 1], replica[STORE_ID_LEN + 1];
	struct db_param p[2];
	struct db *db;
	int rc = 1;

	(void)argv;
	if (argc != 1)
		return cmd_store_usage("init");
	if (strcmp(c->store_primary, c->store_replica) == 0) {
		log_error("store.primary and store.replica are the same "
			  "directory (%s)",
		    c->store_primary);
		return 1;
	}
	db = db_new(c, DB_MIGRATE);
	if (db_select(db, c->db_name) != 0 ||
	    store_load_ids(db, primary, replica) != 0)
		goto out;
	if (primary[0] != '\0' || replica[0] != '\0') {
		log_error("the store is already initialised");
		goto out;
	}
	if (store_init_root(c->store_primary, primary) != 0)
		goto out;
	if (store_init_root(c->store_replica, replica) != 0) {
		log_error(
		    "the primary root %s now holds STORE_ID %s, which is "
		    "not recorded; remove it once the replica root is fixed",
		    c->store_primary, primary);
		goto out;
	}
	p[0] = DB_STR(primary);
	p[1] = DB_STR(replica);
	if (db_begin(db) != 0)
		goto out;
	if (db_exec(db,
		"INSERT INTO store_roots (name, store_id, created_at) "
		"VALUES ('primary', ?, NOW(6)), ('replica', ?, NOW(6))",
		p, 2, NULL, NULL) != 0 ||
	    db_commit(db) != 0) {
		(void)db_rollback(db);
		log_error(
		    "the roots hold new STORE_ID markers that are not "
		    "recorded; remove %s/STORE_ID and %s/STORE_ID, then run "
		    "`licheng store init` again",
		    c->store_primary, c->store_replica);
		goto out;
	}
	printf("primary %s: initialised, store id %s\n", c->store_primary,
	    primary);
	printf("replica %s: initialised, store id %s\n", c->store_replica,
	    replica);
	rc = fflush(stdout) == EOF ? 1 : 0;
out:
	db_free(db);
	return rc;
}

int
cmd_store_check(const struct conf *c, int argc, char **argv)
{
	char primary[STORE_ID_LEN + 1], replica[STORE_ID_LEN + 1];
	enum store_root_state sp, sr;
	struct db *db;

	(void)argv;
	if (argc != 1)
		return cmd_store_usage("check");
	/* The application's account: reading store_roots is all it takes. */
	db = db_new(c, DB_APP);
	if (store_load_ids(db, primary, replica) != 0) {
		db_free(db);
		return 1;
	}
	db_free(db);
	sp = store_root_check(c->store_primary, primary);
	sr = store_root_check(c->store_replica, replica);
	printf("primary %s: %s\n", c->store_primary, store_root_state_name(sp));
	printf("replica %s: %s\n", c->store_replica, store_root_state_name(sr));
	if (fflush(stdout) == EOF)
		return 1;
	return sp == STORE_ROOT_OK && sr == STORE_ROOT_OK ? 0 : 1;
}
