/*
 * db: one MariaDB connection per struct db, as one least-privilege account,
 * speaking only prepared statements (db_exec_script, for migration files,
 * is the one text-protocol exception). It owns the connection and its cache
 * of prepared statements; it must never build SQL from values, and never
 * retry a statement inside a transaction, where a silent reconnect would
 * lose the work done so far.
 */
#include "db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include "conf.h"
#include "log.h"
#include "util.h"

/* Cached statements per connection; past this many (which only a caller
 * building SQL text dynamically could reach) the cache starts over. */
#define DB_STMT_CACHE_MAX 256
/* Each column's first fetch buffer holds at least this many bytes (more
 * when max_length says so); a longer value is fetched again in full. */
#define DB_COL_INITIAL 64

struct db_stmt {
	char *sql;
	MYSQL_STMT *st;
	struct db_stmt *next;
};

struct db {
	const struct conf *c;
	enum db_role role;
	MYSQL *my;
	int in_tx;
	struct db_stmt *stmts;
	size_t nstmts;
	char *dbname; /* db_select's choice, overriding the role's */
	unsigned int errnum;
	char err[512];
};

struct db_res {
	size_t rows;
	size_t cols;
	size_t cap; /* cells allocated */
	char **vals; /* rows * cols; NULL for SQL NULL */
	size_t *lens;
};

static const char *const db_role_names[DB_ROLE__MAX] = {
    "app",
    "worker",
    "audit",
    "central",
    "migrate",
};

static const char *
db_role_name(enum db_role r)
{
	return r < DB_ROLE__MAX ? db_role_names[r] : "?";
}

static void
db_set_err(struct db *db, unsigned int num, const char *msg)
{
	db->errnum = num;
	/* A truncated message is still the message. */
	(void)str_copy(db->err, sizeof(db->err), msg != NULL ? msg : "");
}

static void
db_clear_err(struct db *db)
{
	db->errnum = 0;
	db->err[0] = '\0';
}

/* The errors after which the connection is gone and a new one may work. */
static int
db_err_is_conn(unsigned int e)
{
	switch (e) {
	case CR_CONNECTION_ERROR:
	case CR_CONN_HOST_ERROR:
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_SERVER_LOST_EXTENDED:
	case CR_STMT_CLOSED:
	case CR_ERR_NET_READ:
	case CR_ERR_NET_WRITE:
	case ER_UNKNOWN_STMT_HANDLER:
	case ER_CONNECTION_KILLED:
	case ER_SERVER_SHUTDOWN:
	case ER_NET_READ_ERROR:
	case ER_NET_ERROR_ON_WRITE: return 1;
	default: return 0;
	}
}

/* Logs a statement failure once. Duplicate keys are expected control flow
 * for callers that check db_errno, so they are logged at debug level. */
static void
db_log_fail(const struct db *db, const char *func, const char *sql)
{
	enum log_level l = db->errnum == ER_DUP_ENTRY ? LL_DEBUG : LL_ERROR;

	log_msg(l, func, "%s: %.200s: (%u) %s", db_role_name(db->role),
	    sql != NULL ? sql : "", db->errnum, db->err);
}

static void
db_drop_stmts(struct db *db)
{
	struct db_stmt *s, *next;

	for (s = db->stmts; s != NULL; s = next) {
		next = s->next;
		/* Closing fails harmlessly when the server is gone. */
		(void)mysql_stmt_close(s->st);
		free(s->sql);
		free(s);
	}
	db->stmts = NULL;
	db->nstmts = 0;
}

static void
db_disconnect(struct db *db)
{
	db_drop_stmts(db);
	if (db->my != NULL) {
		mysql_close(db->my);
		db->my = NULL;
	}
	db->in_tx = 0;
}

struct db *
db_new(const struct conf *c, enum db_role role)
{
	struct db *db = xcalloc(1, sizeof(*db));

	db->c = c;
	db->role = role;
	return db;
}

void
db_free(struct db *db)
{
	if (db == NULL)
		return;
	db_disconnect(db);
	free(db->dbname);
	free(db);
}

const char *
db_errstr(const struct db *db)
{
	return db->err;
}

unsigned int
db_errno(const struct db *db)
{
	return db->errnum;
}

static void
db_account(const struct db *db, const char **user, const char **pw,
    const char **dbname)
{
	const struct conf *c = db->c;

	switch (db->role) {
	case DB_APP:
		*user = c->db_app_user;
		*pw = c->secret_db_app_password;
		*dbname = c->db_name;
		break;
	case DB_WORKER:
		*user = c->db_worker_user;
		*pw = c->secret_db_worker_password;
		*dbname = c->db_name;
		break;
	case DB_AUDIT:
		*user = c->db_audit_user;
		*pw = c->secret_db_audit_password;
		*dbname = c->db_name;
		break;
	case DB_CENTRAL:
		*user = c->db_central_user;
		*pw = c->secret_db_central_password;
		*dbname = c->db_central_name;
		break;
	case DB_MIGRATE:
	default:
		*user = c->db_migrate_user;
		*pw = c->secret_db_migrate_password;
		*dbname = NULL;
		break;
	}
}

static int
db_connect(struct db *db)
{
	const struct conf *c = db->c;
	const char *user, *pw, *dbname, *host, *sock;
	unsigned int cto, rwto, port;
	unsigned long flags = 0;
	MYSQL *my;

	if (db->my != NULL)
		return 0;
	db_account(db, &user, &pw, &dbname);
	if (db->dbname != NULL)
		dbname = db->dbname[0] != '\0' ? db->dbname : NULL;
	if ((my = mysql_init(NULL)) == NULL) {
		db_set_err(db, CR_OUT_OF_MEMORY, "mysql_init failed");
		log_error("%s: mysql_init failed", db_role_name(db->role));
		return -1;
	}
	cto =
	    c->db_connect_timeout > 0 ? (unsigned int)c->db_connect_timeout : 5;
	rwto = c->db_rw_timeout > 0 ? (unsigned int)c->db_rw_timeout : 30;
	if (mysql_optionsv(my, MYSQL_OPT_CONNECT_TIMEOUT, &cto) != 0 ||
	    mysql_optionsv(my, MYSQL_OPT_READ_TIMEOUT, &rwto) != 0 ||
	    mysql_optionsv(my, MYSQL_OPT_WRITE_TIMEOUT, &rwto) != 0 ||
	    mysql_optionsv(my, MYSQL_SET_CHARSET_NAME, "utf8mb4") != 0 ||
	    /* Every time Licheng stores or compares is UTC, whatever the
	     * server's own zone: column defaults (CURRENT_TIMESTAMP) and NOW()
	     * then agree with UTC_TIMESTAMP() and the audit log. */
	    mysql_optionsv(
		my, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00'") != 0) {
		db_set_err(db, mysql_errno(my), mysql_error(my));
		log_error("%s: setting connection options: %s",
		    db_role_name(db->role), db->err);
		mysql_close(my);
		return -1;
	}
	if (db->role == DB_MIGRATE)
		flags |= CLIENT_MULTI_STATEMENTS;
	if (c->db_socket != NULL && c->db_socket[0] != '\0') {
		host = "localhost";
		sock = c->db_socket;
		port = 0;
	} else {
		host = c->db_host;
		sock = NULL;
		port = c->db_port > 0 ? (unsigned int)c->db_port : 3306;
	}
	if (mysql_real_connect(my, host, user, pw != NULL ? pw : "", dbname,
		port, sock, flags) == NULL) {
		db_set_err(db, mysql_errno(my), mysql_error(my));
		log_error("%s: connecting as %s to %s: (%u) %s",
		    db_role_name(db->role), user != NULL ? user : "?",
		    sock != NULL ? sock : (host != NULL ? host : "?"),
		    db->errnum, db->err);
		mysql_close(my);
		return -1;
	}
	db->my = my;
	db->in_tx = 0;
	return 0;
}

/* Finds or prepares the statement for sql on the current connection. */
static MYSQL_STMT *
db_prepare(struct db *db, const char *sql)
{
	struct db_stmt *s;
	MYSQL_STMT *st;
	my_bool on = 1;

	for (s = db->stmts; s != NULL; s = s->next)
		if (strcmp(s->sql, sql) == 0)
			return s->st;
	if (db->nstmts >= DB_STMT_CACHE_MAX) {
		log_warn("%s: %zu cached statements, starting over",
		    db_role_name(db->role), db->nstmts);
		db_drop_stmts(db);
	}
	if ((st = mysql_stmt_init(db->my)) == NULL) {
		db_set_err(db, mysql_errno(db->my), mysql_error(db->my));
		return NULL;
	}
	if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql)) != 0) {
		db_set_err(db, mysql_stmt_errno(st), mysql_stmt_error(st));
		(void)mysql_stmt_close(st);
		return NULL;
	}
	if (mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &on) != 0) {
		db_set_err(db, mysql_stmt_errno(st), mysql_stmt_error(st));
		(void)mysql_stmt_close(st);
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->sql = xstrdup(sql);
	s->st = st;
	s->next = db->stmts;
	db->stmts = s;
	db->nstmts++;
	return st;
}

static void
db_stmt_err(struct db *db, MYSQL_STMT *st)
{
	db_set_err(db, mysql_stmt_errno(st), mysql_stmt_error(st));
}

/* Binds params and executes; the statement is left with its result (if any)
 * unread. 0/-1 with the error in db. */
static int
db_run(struct db *db, MYSQL_STMT *st, const struct db_param *params,
    size_t nparams)
{
	MYSQL_BIND *b = NULL;
	unsigned long *lens = NULL;
	long long *ints = NULL;
	unsigned long want;
	size_t i;
	int rc = -1;

	want = mysql_stmt_param_count(st);
	if (want != nparams) {
		char msg[128];

		if (snprintf(msg, sizeof(msg),
			"statement takes %lu parameters, "
			"%zu given",
			want, nparams) >= (int)sizeof(msg))
			msg[sizeof(msg) - 1] = '\0';
		db_set_err(db, CR_PARAMS_NOT_BOUND, msg);
		return -1;
	}
	if (nparams > 0) {
		b = xcalloc(nparams, sizeof(*b));
		lens = xcalloc(nparams, sizeof(*lens));
		ints = xcalloc(nparams, sizeof(*ints));
		for (i = 0; i < nparams; i++) {
			switch (params[i].type) {
			case DB_P_INT:
				ints[i] = params[i].i;
				b[i].buffer_type = MYSQL_TYPE_LONGLONG;
				b[i].buffer = &ints[i];
				break;
			case DB_P_STR:
			case DB_P_BLOB:
				b[i].buffer_type = params[i].type == DB_P_STR
				    ? MYSQL_TYPE_STRING
				    : MYSQL_TYPE_BLOB;
				/* The library only reads the buffer. */
				b[i].buffer =
				    (void *)(uintptr_t)(params[i].s != NULL
					    ? params[i].s
					    : "");
				lens[i] = params[i].s != NULL
				    ? (unsigned long)params[i].len
				    : 0;
				b[i].buffer_length = lens[i];
				b[i].length = &lens[i];
				break;
			case DB_P_NULL:
			default: b[i].buffer_type = MYSQL_TYPE_NULL; break;
			}
		}
		if (mysql_stmt_bind_param(st, b) != 0) {
			db_stmt_err(db, st);
			goto out;
		}
	}
	if (mysql_stmt_execute(st) != 0) {
		db_stmt_err(db, st);
		goto out;
	}
	rc = 0;
out:
	free(b);
	free(lens);
	free(ints);
	return rc;
}

/* Reads every row of an executed statement into a new result. */
static struct db_res *
db_fetch_all(struct db *db, MYSQL_STMT *st)
{
	struct db_res *r;
	MYSQL_RES *meta;
	MYSQL_FIELD *f;
	MYSQL_BIND *b = NULL;
	unsigned long *lens = NULL;
	my_bool *nulls = NULL, *errs = NULL;
	char **bufs = NULL;
	size_t i, cols, cell;
	int frc, ok = 0;

	cols = mysql_stmt_field_count(st);
	r = xcalloc(1, sizeof(*r));
	r->cols = cols;
	if (cols == 0)
		return r;
	if ((meta = mysql_stmt_result_metadata(st)) == NULL) {
		db_stmt_err(db, st);
		free(r);
		return NULL;
	}
	if (mysql_stmt_store_result(st) != 0) {
		db_stmt_err(db, st);
		mysql_free_result(meta);
		free(r);
		return NULL;
	}
	f = mysql_fetch_fields(meta);
	b = xcalloc(cols, sizeof(*b));
	lens = xcalloc(cols, sizeof(*lens));
	nulls = xcalloc(cols, sizeof(*nulls));
	errs = xcalloc(cols, sizeof(*errs));
	bufs = xcalloc(cols, sizeof(*bufs));
	for (i = 0; i < cols; i++) {
		size_t sz = f[i].max_length;

		if (sz < DB_COL_INITIAL)
			sz = DB_COL_INITIAL;
		bufs[i] = xmalloc(sz + 1);
		b[i].buffer_type = MYSQL_TYPE_STRING;
		b[i].buffer = bufs[i];
		b[i].buffer_length = (unsigned long)sz + 1;
		b[i].length = &lens[i];
		b[i].is_null = &nulls[i];
		b[i].error = &errs[i];
	}
	mysql_free_result(meta);
	if (mysql_stmt_bind_result(st, b) != 0) {
		db_stmt_err(db, st);
		goto fail;
	}
	r->cap = cols *
	    (mysql_stmt_num_rows(st) > 0 ? (size_t)mysql_stmt_num_rows(st) : 1);
	r->vals = xcalloc(r->cap, sizeof(*r->vals));
	r->lens = xcalloc(r->cap, sizeof(*r->lens));
	for (;;) {
		frc = mysql_stmt_fetch(st);
		if (frc == MYSQL_NO_DATA)
			break;
		if (frc != 0 && frc != MYSQL_DATA_TRUNCATED) {
			db_stmt_err(db, st);
			goto fail;
		}
		if ((r->rows + 1) * cols > r->cap) {
			r->cap *= 2;
			r->vals = xrealloc(r->vals, r->cap * sizeof(*r->vals));
			r->lens = xrealloc(r->lens, r->cap * sizeof(*r->lens));
		}
		for (i = 0; i < cols; i++) {
			cell = r->rows * cols + i;
			r->vals[cell] = NULL;
			r->lens[cell] = 0;
			if (nulls[i])
				continue;
			if (lens[i] < b[i].buffer_length) {
				r->vals[cell] = xstrndup(bufs[i], lens[i]);
			} else {
				/* Truncated: fetch this column again in full.
				 */
				MYSQL_BIND one;
				unsigned long l2 = 0;
				char *big = xmalloc((size_t)lens[i] + 1);

				memset(&one, 0, sizeof(one));
				one.buffer_type = MYSQL_TYPE_STRING;
				one.buffer = big;
				one.buffer_length = lens[i] + 1;
				one.length = &l2;
				if (mysql_stmt_fetch_column(
					st, &one, (unsigned int)i, 0) != 0) {
					free(big);
					r->rows++;
					db_stmt_err(db, st);
					goto fail;
				}
				big[l2 < lens[i] ? l2 : lens[i]] = '\0';
				r->vals[cell] = big;
			}
			r->lens[cell] = lens[i];
		}
		r->rows++;
	}
	ok = 1;
fail:
	(void)mysql_stmt_free_result(st);
	for (i = 0; i < cols; i++)
		free(bufs[i]);
	free(bufs);
	free(b);
	free(lens);
	free(nulls);
	free(errs);
	if (ok)
		return r;
	db_res_free(r);
	return NULL;
}

/*
 * One attempt: connect if needed, prepare (cached), execute and, when res
 * is not NULL, buffer the rows. A statement that returns rows through
 * db_exec has them read and discarded so the connection stays usable.
 * -2 when connecting failed (db_connect has logged why), else 0/-1.
 */
static int
db_attempt(struct db *db, const char *sql, const struct db_param *params,
    size_t nparams, unsigned long long *affected, unsigned long long *insert_id,
    struct db_res **res)
{
	MYSQL_STMT *st;
	struct db_res *r;

	if (db_connect(db) != 0)
		return -2;
	if ((st = db_prepare(db, sql)) == NULL)
		return -1;
	if (db_run(db, st, params, nparams) != 0)
		return -1;
	if (res != NULL || mysql_stmt_field_count(st) > 0) {
		if ((r = db_fetch_all(db, st)) == NULL)
			return -1;
		if (res != NULL)
			*res = r;
		else
			db_res_free(r);
	}
	if (affected != NULL)
		*affected = (unsigned long long)mysql_stmt_affected_rows(st);
	if (insert_id != NULL)
		*insert_id = (unsigned long long)mysql_stmt_insert_id(st);
	return 0;
}

/*
 * Runs one statement, reconnecting and retrying once when the connection
 * turns out to be gone and no transaction is open. A lost reply (the server
 * died after executing) means the retry can run a statement twice; callers
 * whose writes are not idempotent run them inside a transaction, where there
 * is no retry.
 */
static int
db_do(struct db *db, const char *func, const char *sql,
    const struct db_param *params, size_t nparams, unsigned long long *affected,
    unsigned long long *insert_id, struct db_res **res)
{
	int attempt, rc;

	db_clear_err(db);
	if (db->in_tx && db->my == NULL) {
		/* Running it on a new connection would run it outside the
		 * transaction the caller thinks is open. */
		db_set_err(db, CR_SERVER_LOST,
		    "the connection was lost inside "
		    "a transaction; roll back and start again");
		db_log_fail(db, func, sql);
		return -1;
	}
	for (attempt = 0; attempt < 2; attempt++) {
		rc = db_attempt(
		    db, sql, params, nparams, affected, insert_id, res);
		if (rc == 0)
			return 0;
		if (rc == -2)
			return -1;
		if (!db_err_is_conn(db->errnum))
			break;
		if (db->in_tx) {
			/* The transaction died with the connection. */
			db_disconnect(db);
			db->in_tx = 1;
			break;
		}
		db_disconnect(db);
		if (attempt == 0)
			log_warn("%s: connection lost (%s), reconnecting",
			    db_role_name(db->role), db->err);
	}
	db_log_fail(db, func, sql);
	return -1;
}

int
db_exec(struct db *db, const char *sql, const struct db_param *params,
    size_t nparams, unsigned long long *affected, unsigned long long *insert_id)
{
	return db_do(
	    db, __func__, sql, params, nparams, affected, insert_id, NULL);
}

struct db_res *
db_query(struct db *db, const char *sql, const struct db_param *params,
    size_t nparams)
{
	struct db_res *r = NULL;

	if (db_do(db, __func__, sql, params, nparams, NULL, NULL, &r) != 0)
		return NULL;
	return r;
}

int
db_ping(struct db *db)
{
	int attempt;

	db_clear_err(db);
	for (attempt = 0; attempt < 2; attempt++) {
		if (db_connect(db) != 0)
			return -1;
		if (mysql_ping(db->my) == 0)
			return 0;
		db_set_err(db, mysql_errno(db->my), mysql_error(db->my));
		if (db->in_tx || !db_err_is_conn(db->errnum))
			break;
		db_disconnect(db);
	}
	log_error(
	    "%s: ping: (%u) %s", db_role_name(db->role), db->errnum, db->err);
	return -1;
}

size_t
db_res_rows(const struct db_res *r)
{
	return r->rows;
}

size_t
db_res_cols(const struct db_res *r)
{
	return r->cols;
}

const char *
db_res_get(const struct db_res *r, size_t row, size_t col)
{
	if (row >= r->rows || col >= r->cols)
		return NULL;
	return r->vals[row * r->cols + col];
}

size_t
db_res_len(const struct db_res *r, size_t row, size_t col)
{
	if (row >= r->rows || col >= r->cols)
		return 0;
	return r->lens[row * r->cols + col];
}

long long
db_res_int(const struct db_res *r, size_t row, size_t col)
{
	const char *v = db_res_get(r, row, col);
	char *end;
	long long n;

	if (v == NULL)
		return 0;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || end == v)
		return 0;
	return n;
}

void
db_res_free(struct db_res *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->rows * r->cols; i++)
		free(r->vals[i]);
	free(r->vals);
	free(r->lens);
	free(r);
}

int
db_begin(struct db *db)
{
	if (db->in_tx) {
		db_set_err(db, 0, "a transaction is already open");
		log_error("%s: %s", db_role_name(db->role), db->err);
		return -1;
	}
	if (db_do(db, __func__, "START TRANSACTION", NULL, 0, NULL, NULL,
		NULL) != 0)
		return -1;
	db->in_tx = 1;
	return 0;
}

int
db_commit(struct db *db)
{
	int rc;

	if (!db->in_tx || db->my == NULL) {
		db_set_err(db, db->in_tx ? CR_SERVER_LOST : 0,
		    db->in_tx ? "the connection was lost inside the "
				"transaction; nothing "
				"was committed"
			      : "no open transaction to commit");
		log_error("%s: %s", db_role_name(db->role), db->err);
		db->in_tx = 0;
		return -1;
	}
	rc = db_do(db, __func__, "COMMIT", NULL, 0, NULL, NULL, NULL);
	db->in_tx = 0;
	return rc;
}

/* A transaction whose connection is gone has been rolled back by the
 * server, so rolling it back succeeds. */
int
db_rollback(struct db *db)
{
	int rc;

	if (!db->in_tx)
		return 0;
	if (db->my == NULL) {
		db->in_tx = 0;
		return 0;
	}
	db_clear_err(db);
	if (db_attempt(db, "ROLLBACK", NULL, 0, NULL, NULL, NULL) == 0) {
		rc = 0;
	} else if (db_err_is_conn(db->errnum)) {
		log_warn("%s: connection lost during rollback (%s); the server "
			 "discarded the transaction",
		    db_role_name(db->role), db->err);
		db_disconnect(db);
		rc = 0;
	} else {
		db_log_fail(db, __func__, "ROLLBACK");
		rc = -1;
	}
	db->in_tx = 0;
	return rc;
}

int
db_select(struct db *db, const char *name)
{
	free(db->dbname);
	db->dbname = xstrdup(name);
	db_clear_err(db);
	if (db->my != NULL && name[0] == '\0')
		db_disconnect(db);
	if (db->my == NULL)
		return db_connect(db);
	if (mysql_select_db(db->my, name) != 0) {
		db_set_err(db, mysql_errno(db->my), mysql_error(db->my));
		log_error("%s: selecting database %s: (%u) %s",
		    db_role_name(db->role), name, db->errnum, db->err);
		return -1;
	}
	return 0;
}

int
db_exec_script(struct db *db, const char *script, size_t len)
{
	MYSQL_RES *res;
	int status, n = 1;

	db_clear_err(db);
	if (db->role != DB_MIGRATE) {
		db_set_err(db, 0, "scripts run only as the migrate account");
		log_error("%s: %s", db_role_name(db->role), db->err);
		return -1;
	}
	if (db_connect(db) != 0)
		return -1;
	if (mysql_real_query(db->my, script, (unsigned long)len) != 0) {
		db_set_err(db, mysql_errno(db->my), mysql_error(db->my));
		log_error("statement %d: (%u) %s", n, db->errnum, db->err);
		return -1;
	}
	for (;;) {
		if ((res = mysql_store_result(db->my)) != NULL) {
			mysql_free_result(res);
		} else if (mysql_field_count(db->my) != 0) {
			db_set_err(
			    db, mysql_errno(db->my), mysql_error(db->my));
			log_error("statement %d: reading its result: (%u) %s",
			    n, db->errnum, db->err);
			return -1;
		}
		status = mysql_next_result(db->my);
		if (status < 0)
			break;
		n++;
		if (status > 0) {
			db_set_err(
			    db, mysql_errno(db->my), mysql_error(db->my));
			log_error(
			    "statement %d: (%u) %s", n, db->errnum, db->err);
			return -1;
		}
	}
	return 0;
}
