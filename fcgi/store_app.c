/*
 * store_app: the child's durable store and the alert a broken root raises.
 * It owns the child's struct store (ids from health.c's cache, re-read once
 * before a root is called wrong) and alert.store: one open alert per root
 * and state, however many children and requests meet it. It never writes
 * an object itself and never lets a write through on ids it has not
 * re-read.
 */
#include <string.h>

#include "app.h"
#include "auth.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "store_app.h"
#include "util.h"

/* The children agree on raising an alert under this MariaDB named lock, so
 * that two of them meeting the same broken root at once raise it once. */
#define STORE_ALERT_LOCK "licheng.alert.store"
#define STORE_ALERT_LOCK_WAIT 5 /* seconds */

static const char *const store_app_roots[2] = {"primary", "replica"};

struct store *
app_store(struct app *app)
{
	if (app_store_ids(app, 0) != 0)
		return NULL;
	if (app->store == NULL)
		app->store = store_new(app->conf->store_primary,
		    app->conf->store_replica, app->store_ids[0],
		    app->store_ids[1]);
	else
		store_set_ids(app->store, app->store_ids[0], app->store_ids[1]);
	return app->store;
}

enum store_error
app_store_ready(struct app *app)
{
	enum store_root_state st[2];
	struct store *s = app_store(app);

	if (s == NULL) {
		log_error("the store roots' recorded ids cannot be read from "
			  "the database; refusing to write");
		return STORE_E_IO;
	}
	if (store_check(s, st) == STORE_OK)
		return STORE_OK;
	/* Never refuse on ids that may be stale: read them again, once. */
	if (app_store_ids(app, 1) == 0) {
		store_set_ids(s, app->store_ids[0], app->store_ids[1]);
		if (store_check(s, st) == STORE_OK)
			return STORE_OK;
	}
	log_error("store refuses writes: primary root %s is %s, replica root "
		  "%s is %s",
	    app->conf->store_primary, store_root_state_name(st[0]),
	    app->conf->store_replica, store_root_state_name(st[1]));
	app_store_alert(app, st);
	return STORE_E_ROOT;
}

/* Runs a one-value query under the store alert lock; the value, or -1. */
static long long
store_app_scalar(
    struct db *db, const char *sql, const struct db_param *p, size_t np)
{
	struct db_res *res = db_query(db, sql, p, np);
	long long v = -1;

	if (res == NULL)
		return -1;
	if (db_res_rows(res) == 1 && db_res_get(res, 0, 0) != NULL)
		v = db_res_int(res, 0, 0);
	db_res_free(res);
	return v;
}

/* Raises the alert of one root in state st unless it is still open. Runs
 * under the named lock. 0 raised or already open, -1 on error. */
static int
store_app_alert_one(
    struct app *app, struct db *db, int root, enum store_root_state st)
{
	const char *path =
	    root == 0 ? app->conf->store_primary : app->conf->store_replica;
	char kind[64];
	struct db_param p[2];
	struct buf d;
	long long open;
	int rc;

	str_printf(kind, sizeof(kind), "store.%s", store_root_state_name(st));
	p[0] = DB_STR(kind);
	p[1] = DB_STR(store_app_roots[root]);
	open = store_app_scalar(db,
	    "SELECT COUNT(*) FROM alerts WHERE kind = ? AND acknowledged_at "
	    "IS NULL AND school_id IS NULL AND JSON_VALUE(detail, '$.root') "
	    "= ?",
	    p, 2);
	if (open != 0)
		return open > 0 ? 0 : -1;
	buf_init(&d);
	buf_putc(&d, '{');
	buf_json_kv(&d, "root", store_app_roots[root]);
	buf_json_kv(&d, "path", path);
	buf_json_kv(&d, "state", store_root_state_name(st));
	buf_putc(&d, '}');
	/* school_id NULL: central staff see it, whoever met it. */
	/* Logged there: "alert alert.store.<state>". */
	rc = auth_alert_as(app, "", NULL, kind, 0, d.data);
	buf_free(&d);
	return rc;
}

void
app_store_alert(struct app *app, const enum store_root_state st[2])
{
	struct db_param lock[1] = {DB_STR(STORE_ALERT_LOCK)};
	struct db_param wait[2] = {
	    DB_STR(STORE_ALERT_LOCK), DB_INT(STORE_ALERT_LOCK_WAIT)};
	struct db *db = app_db(app);
	int i;

	if (db == NULL || (st[0] == STORE_ROOT_OK && st[1] == STORE_ROOT_OK))
		return;
	if (store_app_scalar(db, "SELECT GET_LOCK(?, ?)", wait, 2) != 1) {
		log_error("cannot take the lock %s to raise alert.store: %s",
		    STORE_ALERT_LOCK, db_errstr(db));
		return;
	}
	for (i = 0; i < 2; i++)
		if (st[i] != STORE_ROOT_OK &&
		    store_app_alert_one(app, db, i, st[i]) != 0)
			log_error("cannot raise alert.store.%s for the %s "
				  "root: %s",
			    store_root_state_name(st[i]), store_app_roots[i],
			    db_errstr(db));
	(void)store_app_scalar(db, "SELECT RELEASE_LOCK(?)", lock, 1);
}

void
app_store_failed(struct app *app, enum store_error e)
{
	enum store_root_state st[2];
	struct store *s;

	if (e != STORE_E_ROOT || (s = app_store(app)) == NULL)
		return;
	if (store_check(s, st) != STORE_OK)
		app_store_alert(app, st);
}
