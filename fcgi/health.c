/*
 * health: GET /healthz, the one probe load balancers and operators poll. It
 * checks the database with a round trip (re-reading the recorded store ids
 * from it every minute: it owns that cache, app_store_ids, which the store's
 * writers use too), Redis with PING and both store roots' markers against
 * those ids, and answers 200 only when all are well; a root that is not
 * raises alert.store. The body names states, never errors or versions;
 * causes go to the log once when a check starts failing and once when it
 * recovers.
 */
#include <string.h>

#include "app.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "router.h"
#include "store.h"
#include "store_app.h"

static long long
health_ms_since(int64_t t0)
{
	return (long long)((now_us() - t0 + 500) / 1000);
}

/* Logs a check's change of state: failing once, recovered once. */
static void
health_note(
    struct app *app, unsigned bit, int ok, const char *what, const char *cause)
{
	if (!ok && !(app->health_failing & bit)) {
		log_error("%s check failed: %s", what, cause);
		app->health_failing |= bit;
	} else if (ok && (app->health_failing & bit)) {
		log_info("%s check ok again", what);
		app->health_failing &= ~bit;
	}
}

/* The recorded store ids are written once by `licheng store init`, so a
 * child keeps them for a while and the database check is then a COM_PING
 * round trip; they are read again after HEALTH_IDS_MS, and at once when a
 * root does not match them. */
#define HEALTH_IDS_MS 60000

static int
health_ids_fresh(const struct app *app)
{
	return app->store_ids_loaded &&
	    now_ms() - app->store_ids_at < HEALTH_IDS_MS;
}

int
app_store_ids(struct app *app, int reload)
{
	char ids[2][STORE_ID_LEN + 1];
	struct db *db;

	if (!reload && health_ids_fresh(app))
		return 0;
	if ((db = app_db(app)) == NULL ||
	    store_load_ids(db, ids[0], ids[1]) != 0)
		return -1;
	memcpy(app->store_ids, ids, sizeof(ids));
	app->store_ids_loaded = 1;
	app->store_ids_at = now_ms();
	return 0;
}

static int
health_database(struct app *app, int reload)
{
	struct db *db = app_db(app);

	if (db == NULL) {
		health_note(
		    app, APP_CHECK_DB, 0, "database", "no database handle");
		return 0;
	}
	/* While the ids are fresh, a ping is the round trip; otherwise
	 * reading them is. */
	if (!reload && health_ids_fresh(app)) {
		if (db_ping(db) != 0)
			goto fail;
	} else if (app_store_ids(app, 1) != 0)
		goto fail;
	health_note(app, APP_CHECK_DB, 1, "database", NULL);
	return 1;
fail:
	health_note(app, APP_CHECK_DB, 0, "database", db_errstr(db));
	/* A fresh handle next time: whatever state the failure left behind
	 * cannot carry over into the next request. */
	app_drop_db(app);
	return 0;
}

static int
health_redis(struct app *app)
{
	struct kv *kv = app_kv(app);

	if (kv == NULL) {
		health_note(
		    app, APP_CHECK_REDIS, 0, "redis", "no redis handle");
		return 0;
	}
	if (kv_ping(kv) != 0) {
		health_note(app, APP_CHECK_REDIS, 0, "redis", kv_errstr(kv));
		app_drop_kv(app);
		return 0;
	}
	health_note(app, APP_CHECK_REDIS, 1, "redis", NULL);
	return 1;
}

/* The state of one root, or "unknown" while the recorded id has never been
 * read (the database was down since this child started). */
static const char *
health_root(struct app *app, int which, int *ok, enum store_root_state *state)
{
	static const unsigned bits[2] = {APP_CHECK_PRIMARY, APP_CHECK_REPLICA};
	static const char *const what[2] = {
	    "store primary root", "store replica root"};
	const char *root =
	    which == 0 ? app->conf->store_primary : app->conf->store_replica;
	enum store_root_state st;

	*ok = 0;
	*state = STORE_ROOT_UNREACHABLE;
	if (!app->store_ids_loaded)
		return "unknown";
	st = store_root_check(root, app->store_ids[which]);
	*state = st;
	*ok = st == STORE_ROOT_OK;
	health_note(
	    app, bits[which], *ok, what[which], store_root_state_name(st));
	return store_root_state_name(st);
}

enum request_outcome
health_get(struct app *app, struct request *r)
{
	struct buf *b = &r->body;
	enum store_root_state st[2];
	const char *primary, *replica;
	long long db_ms, kv_ms;
	int db_ok, kv_ok, p_ok, r_ok, all;
	int64_t t0;

	t0 = now_us();
	db_ok = health_database(app, 0);
	db_ms = health_ms_since(t0);
	t0 = now_us();
	kv_ok = health_redis(app);
	kv_ms = health_ms_since(t0);
	primary = health_root(app, 0, &p_ok, &st[0]);
	replica = health_root(app, 1, &r_ok, &st[1]);
	if (db_ok && (!p_ok || !r_ok)) {
		/* Never call a root foreign on ids that may be stale: read
		 * them again (once) and look again. */
		db_ok = health_database(app, 1);
		primary = health_root(app, 0, &p_ok, &st[0]);
		replica = health_root(app, 1, &r_ok, &st[1]);
		/* The alert needs the database; without it the log line and
		 * the 503 are all there is. */
		if (db_ok && (!p_ok || !r_ok))
			app_store_alert(app, st);
	}
	all = db_ok && kv_ok && p_ok && r_ok;

	buf_printf(b,
	    "{\"status\":\"%s\","
	    "\"database\":{\"ok\":%s,\"ms\":%lld},"
	    "\"redis\":{\"ok\":%s,\"ms\":%lld},"
	    "\"store\":{\"primary\":\"%s\",\"replica\":\"%s\"}}\n",
	    all ? "ok" : "fail", db_ok ? "true" : "false", db_ms,
	    kv_ok ? "true" : "false", kv_ms, primary, replica);
	request_ok(r, all ? 200 : 503, "application/json");
	return RQ_OK;
}
