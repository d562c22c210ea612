/*
 * app: the one per-process context of licheng-fcgi, passed explicitly to
 * every handler. The master fills it before forking; each child then owns its
 * copy, including its own database and Redis handles. It holds no request
 * state: anything a request parses lives in struct request.
 */
#ifndef LICHENG_APP_H
#define LICHENG_APP_H

#include "db.h"
#include "kv.h"
#include "store.h"

struct blocklist;
struct conf;
struct i18n;
struct passhash_slots;
struct metrics;
struct pool;
struct tmpl_set;

/* Health checks whose failure has been logged and not yet recovered. */
enum app_check {
	APP_CHECK_DB = 1 << 0,
	APP_CHECK_REDIS = 1 << 1,
	APP_CHECK_PRIMARY = 1 << 2,
	APP_CHECK_REPLICA = 1 << 3
};

struct app {
	struct conf *conf; /* owned by the master; children inherit it */
	const char *conf_path; /* the file to re-read on SIGHUP */
	struct pool *pool;
	int slot; /* this child's scoreboard slot; -1 in the master */
	int listen_fd; /* the FastCGI socket, bound by the master */
	char *socket_path; /* the unix socket bound; NULL for TCP */
	int socket_lost; /* its file vanished (logged once) */
	struct db *db; /* child only; see app_db */
	struct db *db_audit; /* child only; the auditor's reader */
	struct kv *kv; /* child only; see app_kv */
	struct tmpl_set *tmpl;
	struct i18n *msgs;
	struct metrics *metrics; /* shared memory, mapped by the master */
	struct blocklist
	    *blocklist; /* common passwords, loaded by the master */
	struct passhash_slots *slots; /* child only: opened on first use */
	unsigned char data_key[32]; /* keys.data, decoded */
	unsigned char lookup_key[32]; /* keys.lookup, decoded */
	unsigned health_failing; /* enum app_check bits, to log once */
	/* Store ids last read from the database, so a database outage still
	 * lets /healthz tell the state of each root. "" until first read. */
	char store_ids[2][STORE_ID_LEN + 1];
	int store_ids_loaded;
	int64_t store_ids_at; /* now_ms() when they were read */
	/* A child's: see app_store (store_app.h). The master's is for
	 * sweeping stale temporary files (fcgi/main.c); a child drops its
	 * copy at start. */
	struct store *store;
	int64_t store_retry_at; /* master: next try at reading the ids */
	struct categories *categories; /* items.categories, master-loaded */
	/* signing.school_key, loaded by the master (NULL until `licheng pki
	 * init-school`: certification decisions are then refused with an
	 * operator's message), and its key id. */
	struct sign_key *sign_key;
	char sign_key_id[65];
};

/* The child's database handle, created on first use (it connects lazily). */
static inline struct db *
app_db(struct app *app)
{
	if (app->db == NULL)
		app->db = db_new(app->conf, DB_APP);
	return app->db;
}

/* The child's Redis handle, created on first use (it connects lazily). */
static inline struct kv *
app_kv(struct app *app)
{
	if (app->kv == NULL)
		app->kv = kv_new(app->conf);
	return app->kv;
}

/* The child's audit-reader handle (SELECT on the audit log only), for the
 * auditors' page. */
static inline struct db *
app_db_audit(struct app *app)
{
	if (app->db_audit == NULL)
		app->db_audit = db_new(app->conf, DB_AUDIT);
	return app->db_audit;
}

/* Drops the handles so the next use starts from a fresh connection. */
static inline void
app_drop_db(struct app *app)
{
	db_free(app->db);
	app->db = NULL;
	db_free(app->db_audit);
	app->db_audit = NULL;
}

static inline void
app_drop_kv(struct app *app)
{
	kv_free(app->kv);
	app->kv = NULL;
}

#endif
