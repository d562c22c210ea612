/*
 * db: MariaDB through prepared statements only. A struct db is one
 * connection as one of the least-privilege accounts; it connects lazily,
 * caches prepared statements by SQL text, and after the server restarts it
 * reconnects and retries a statement once when no transaction was open.
 * Results are copied out into a struct db_res the caller frees.
 */
#ifndef LICHENG_DB_H
#define LICHENG_DB_H

#include <stddef.h>

struct conf;
struct db;
struct db_res;

enum db_role {
	DB_APP, /* licheng-fcgi: DML on the school database, audit INSERT */
	DB_WORKER, /* licheng-worker */
	DB_AUDIT, /* reads the audit log */
	DB_CENTRAL, /* the central database */
	DB_MIGRATE, /* DDL and grants; used only by `licheng migrate` */
	DB_ROLE__MAX
};

enum db_ptype { DB_P_NULL, DB_P_INT, DB_P_STR, DB_P_BLOB };

struct db_param {
	enum db_ptype type;
	long long i;
	const char *s;
	size_t len;
};

#define DB_INT(v) ((struct db_param){.type = DB_P_INT, .i = (v)})
#define DB_STR(v)                                                              \
	((struct db_param){.type = DB_P_STR, .s = (v), .len = strlen(v)})
#define DB_STRN(v, n)                                                          \
	((struct db_param){.type = DB_P_STR, .s = (v), .len = (n)})
#define DB_BLOB(v, n)                                                          \
	((struct db_param){                                                    \
	    .type = DB_P_BLOB, .s = (const char *)(v), .len = (n)})
#define DB_NULLP ((struct db_param){.type = DB_P_NULL})

/* A new, unconnected handle for role; conf must outlive it. */
struct db *db_new(const struct conf *c, enum db_role role);
void db_free(struct db *db);
/* The last error as text ("" when none); owned by db. */
const char *db_errstr(const struct db *db);
/* The last server/client error number (0 when none). */
unsigned int db_errno(const struct db *db);

/* Checks the connection with a round trip, reconnecting if needed. 0/-1. */
int db_ping(struct db *db);

/* Runs a statement that returns no rows. affected and insert_id may be
 * NULL. Returns 0 or -1. */
int db_exec(struct db *db, const char *sql, const struct db_param *params,
    size_t nparams, unsigned long long *affected,
    unsigned long long *insert_id);
/* Runs a query and buffers every row as strings. NULL on error. */
struct db_res *db_query(struct db *db, const char *sql,
    const struct db_param *params, size_t nparams);
size_t db_res_rows(const struct db_res *r);
size_t db_res_cols(const struct db_res *r);
/* The value at row, col, NUL-terminated; NULL for SQL NULL. */
const char *db_res_get(const struct db_res *r, size_t row, size_t col);
/* Its length in bytes (0 for NULL). */
size_t db_res_len(const struct db_res *r, size_t row, size_t col);
long long db_res_int(const struct db_res *r, size_t row, size_t col);
void db_res_free(struct db_res *r);

int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);

/* Makes name the default database of this handle, now and after any
 * reconnect (the migrations runner, whose account has none). "" means no
 * default database at all: the handle reconnects without one (how the
 * runner signs in as an account that has no default role yet). 0/-1. */
int db_select(struct db *db, const char *name);

/* For the migrations runner only: runs a script of several statements as
 * text (migration files are trusted files from the release, never input). */
int db_exec_script(struct db *db, const char *script, size_t len);

#endif
