/*
 * cmd_migrate: `licheng migrate` and `licheng db bootstrap-sql`. It owns the
 * schema_migrations table, the order and integrity of migration files, and
 * the database accounts (created, rotated and given their role here). It
 * must never apply anything when an applied file has changed, and never
 * place a value into SQL text that did not pass the cli_sql_*_ok checks.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "util.h"

/* Migration files are small; a bigger one is a mistake, not a migration. */
#define MIGRATE_FILE_MAX (4 * 1024 * 1024)
#define MIGRATE_NAME_MAX 128

struct migrate_file {
	int version;
	char name[MIGRATE_NAME_MAX]; /* "0001_foundation", no ".sql" */
	char file[MIGRATE_NAME_MAX + 8];
	char sha[CRYPTO_SHA256_HEX_LEN + 1];
	int applied;
};

struct migrate_set {
	struct migrate_file *v;
	size_t n;
};

/* The accounts the runner keeps, each with the role the migrations grant. */
struct migrate_account {
	enum db_role who;
	const char *role;
	size_t user_off;
	size_t pw_off;
};

static const struct migrate_account migrate_accounts[] = {
    {DB_APP, "licheng_app_r", offsetof(struct conf, db_app_user),
	offsetof(struct conf, secret_db_app_password)},
    {DB_WORKER, "licheng_worker_r", offsetof(struct conf, db_worker_user),
	offsetof(struct conf, secret_db_worker_password)},
    {DB_AUDIT, "licheng_audit_r", offsetof(struct conf, db_audit_user),
	offsetof(struct conf, secret_db_audit_password)},
    {DB_CENTRAL, "licheng_central_r", offsetof(struct conf, db_central_user),
	offsetof(struct conf, secret_db_central_password)},
};

static const char *
migrate_conf_str(const struct conf *c, size_t off)
{
	return *(char *const *)(const void *)((const char *)c + off);
}

/* NNNN_[a-z0-9_]+.sql; fills version and the name without ".sql". */
static int
migrate_name_ok(const char *file, int *version, char *name, size_t namelen)
{
	size_t len = strlen(file), i;

	if (len < 10 || len - 4 >= namelen ||
	    strcmp(file + len - 4, ".sql") != 0)
		return 0;
	for (i = 0; i < 4; i++)
		if (file[i] < '0' || file[i] > '9')
			return 0;
	if (file[4] != '_')
		return 0;
	for (i = 5; i < len - 4; i++)
		if (!((file[i] >= 'a' && file[i] <= 'z') ||
			(file[i] >= '0' && file[i] <= '9') || file[i] == '_'))
			return 0;
	*version = (file[0] - '0') * 1000 + (file[1] - '0') * 100 +
	    (file[2] - '0') * 10 + (file[3] - '0');
	memcpy(name, file, len - 4);
	name[len - 4] = '\0';
	return 1;
}

static int
migrate_cmp(const void *a, const void *b)
{
	const struct migrate_file *x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

static int
migrate_path(char *out, size_t outlen, const char *dir, const char *file)
{
	int n = snprintf(out, outlen, "%s/%s", dir, file);

	if (n < 0 || (size_t)n >= outlen) {
		log_error("path too long: %s/%s", dir, file);
		return -1;
	}
	return 0;
}

/* Lists and checks the migration files in dir, in version order. */
static int
migrate_scan(const char *dir, struct migrate_set *set)
{
	struct migrate_file f;
	struct dirent *de;
	struct stat st;
	char path[4096];
	size_t len, cap = 0, i;
	DIR *d;
	int rc = -1;

	set->v = NULL;
	set->n = 0;
	if ((d = opendir(dir)) == NULL) {
		log_error("migrations directory %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 4 || strcmp(de->d_name + len - 4, ".sql") != 0)
			continue;
		memset(&f, 0, sizeof(f));
		if (!migrate_name_ok(
			de->d_name, &f.version, f.name, sizeof(f.name))) {
			log_error("%s/%s: a migration is named NNNN_name.sql "
				  "(four digits, '_', then a-z 0-9 _)",
			    dir, de->d_name);
			goto out;
		}
		if (str_copy(f.file, sizeof(f.file), de->d_name) != 0 ||
		    migrate_path(path, sizeof(path), dir, de->d_name) != 0)
			goto out;
		if (stat(path, &st) == -1 || !S_ISREG(st.st_mode)) {
			log_error("%s: not a regular file", path);
			goto out;
		}
		for (i = 0; i < set->n; i++) {
			if (set->v[i].version == f.version) {
				log_error("%s/%s: version %04d is also used by "
					  "%s",
				    dir, f.file, f.version, set->v[i].file);
				goto out;
			}
		}
		if (crypto_sha256_file(path, f.sha) != 0)
			goto out;
		if (set->n == cap) {
			cap = cap ? cap * 2 : 16;
			set->v = xrealloc(set->v, cap * sizeof(*set->v));
		}
		set->v[set->n++] = f;
	}
	if (errno != 0) {
		log_error("reading %s: %s", dir, strerror(errno));
		goto out;
	}
	if (set->n > 0)
		qsort(set->v, set->n, sizeof(*set->v), migrate_cmp);
	rc = 0;
out:
	(void)closedir(d);
	if (rc != 0) {
		free(set->v);
		set->v = NULL;
		set->n = 0;
	}
	return rc;
}

/* Reads one migration file into b; the error goes to the log. */
static int
migrate_read_file(const char *path, struct buf *b)
{
	char err[512], *data;
	size_t len;

	if (file_read_all(
		path, MIGRATE_FILE_MAX, &data, &len, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	buf_append(b, data, len);
	free(data);
	return 0;
}

/* Creates a database the runner owns; name was checked by the caller. */
static int
migrate_create_db(struct db *db, const char *name)
{
	char sql[256];
	int n;

	n = snprintf(sql, sizeof(sql),
	    "CREATE DATABASE IF NOT EXISTS `%s` "
	    "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
	    name);
	if (n < 0 || (size_t)n >= sizeof(sql)) {
		log_error("database name too long: %s", name);
		return -1;
	}
	return db_exec(db, sql, NULL, 0, NULL, NULL);
}

static int
migrate_check_names(const struct conf *c)
{
	size_t i;

	if (!cli_sql_ident_ok(c->db_name) ||
	    !cli_sql_ident_ok(c->db_central_name) ||
	    !cli_sql_ident_ok(c->db_migrate_user) ||
	    !cli_sql_host_ok(c->db_grant_host)) {
		log_error("database names, user names and grant_host must be "
			  "[A-Za-z0-9_] (grant_host also . %% : -)");
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(migrate_accounts); i++) {
		if (!cli_sql_ident_ok(
			migrate_conf_str(c, migrate_accounts[i].user_off))) {
			log_error("database user names must be [A-Za-z0-9_]");
			return -1;
		}
		if (!cli_sql_secret_ok(
			migrate_conf_str(c, migrate_accounts[i].pw_off))) {
			log_error("the password of database user %s must be "
				  "1-128 printable characters without quotes, "
				  "backslash or space",
			    migrate_conf_str(c, migrate_accounts[i].user_off));
			return -1;
		}
	}
	return 0;
}

/*
 * Makes role the account's default role. MariaDB lets only the account
 * itself (or a writer of the mysql schema, which the migrate account must
 * not be) do that, so the runner signs in as the account, with no default
 * database since without its role it may not use any.
 */
static int
migrate_default_role(const struct conf *c, enum db_role who, const char *role)
{
	char sql[96];
	struct db *db;
	int n, rc = -1;

	n = snprintf(sql, sizeof(sql), "SET DEFAULT ROLE %s", role);
	if (n < 0 || (size_t)n >= sizeof(sql)) {
		log_error("role name too long: %s", role);
		return -1;
	}
	db = db_new(c, who);
	if (db_select(db, "") == 0 &&
	    db_exec(db, sql, NULL, 0, NULL, NULL) == 0)
		rc = 0;
	db_free(db);
	return rc;
}

/* Creates or rotates each account and gives it its role. The statements
 * carry passwords, so they go through db_exec_script, which never logs
 * the statement text, and the text is wiped afterwards. */
static int
migrate_accounts_ensure(const struct conf *c, struct db *db)
{
	struct buf sql;
	const char *user, *pw, *role, *host = c->db_grant_host;
	size_t i;
	int rc = 0;

	buf_init(&sql);
	for (i = 0; i < ARRAY_SIZE(migrate_accounts) && rc == 0; i++) {
		user = migrate_conf_str(c, migrate_accounts[i].user_off);
		pw = migrate_conf_str(c, migrate_accounts[i].pw_off);
		role = migrate_accounts[i].role;
		buf_reset(&sql);
		buf_printf(&sql,
		    "CREATE USER IF NOT EXISTS '%s'@'%s' IDENTIFIED BY '%s';\n"
		    "ALTER USER '%s'@'%s' IDENTIFIED BY '%s';\n"
		    "GRANT %s TO '%s'@'%s'",
		    user, host, pw, user, host, pw, role, user, host);
		if (db_exec_script(db, sql.data, sql.len) != 0 ||
		    migrate_default_role(c, migrate_accounts[i].who, role) !=
			0) {
			log_error("ensuring database account %s@%s failed",
			    user, host);
			rc = -1;
		}
		OPENSSL_cleanse(sql.data, sql.cap);
	}
	buf_free(&sql);
	return rc;
}

static int
migrate_load_applied(struct db *db, struct migrate_set *set)
{
	struct db_res *r;
	const char *sha;
	size_t i, j;
	long long v;
	int found, rc = 0;

	r = db_query(db,
	    "SELECT version, name, sha256 FROM schema_migrations "
	    "ORDER BY version",
	    NULL, 0);
	if (r == NULL)
		return -1;
	for (i = 0; i < db_res_rows(r); i++) {
		v = db_res_int(r, i, 0);
		sha = db_res_get(r, i, 2);
		found = 0;
		for (j = 0; j < set->n; j++) {
			if (set->v[j].version != v)
				continue;
			found = 1;
			set->v[j].applied = 1;
			if (sha == NULL || strcmp(sha, set->v[j].sha) != 0) {
				log_error(
				    "%s was changed after it was applied "
				    "(recorded sha256 %s, now %s); write a new "
				    "migration instead",
				    set->v[j].file, sha != NULL ? sha : "none",
				    set->v[j].sha);
				rc = -1;
			}
		}
		if (!found)
			log_warn(
			    "migration %04lld (%s) is applied but its file "
			    "is not in this release",
			    v,
			    db_res_get(r, i, 1) != NULL ? db_res_get(r, i, 1)
							: "?");
	}
	db_res_free(r);
	return rc;
}

static int
migrate_apply(struct db *db, const char *dir, const char *dbname,
    const struct migrate_file *f)
{
	struct db_param p[3];
	char path[4096];
	struct buf script;
	int rc = -1;

	buf_init(&script);
	if (migrate_path(path, sizeof(path), dir, f->file) != 0 ||
	    migrate_read_file(path, &script) != 0)
		goto out;
	/* The file was hashed at scan time; refuse if it changed since. */
	{
		char now[CRYPTO_SHA256_HEX_LEN + 1];

		if (crypto_sha256_hex(script.data != NULL ? script.data : "",
			script.len, now) != 0)
			goto out;
		if (strcmp(now, f->sha) != 0) {
			log_error("%s changed while migrating", path);
			goto out;
		}
	}
	if (db_exec_script(
		db, script.data != NULL ? script.data : "", script.len) != 0) {
		log_error("%s failed; nothing recorded for it", f->file);
		goto out;
	}
	/* A migration may have switched the default database. */
	if (db_select(db, dbname) != 0)
		goto out;
	p[0] = DB_INT(f->version);
	p[1] = DB_STR(f->name);
	p[2] = DB_STR(f->sha);
	if (db_exec(db,
		"INSERT INTO schema_migrations (version, name, "
		"sha256, applied_at) VALUES (?, ?, ?, NOW(6))",
		p, 3, NULL, NULL) != 0)
		goto out;
	printf("applied %s\n", f->name);
	if (fflush(stdout) == EOF) {
		log_error("writing to standard output: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	buf_free(&script);
	return rc;
}

static int
migrate_lock(struct db *db)
{
	struct db_res *r;
	long long got;

	r = db_query(db, "SELECT GET_LOCK('licheng_migrate', 30)", NULL, 0);
	if (r == NULL)
		return -1;
	got = db_res_rows(r) == 1 ? db_res_int(r, 0, 0) : 0;
	db_res_free(r);
	if (got != 1) {
		log_error("another `licheng migrate` holds the migration lock");
		return -1;
	}
	return 0;
}

int
cmd_migrate_run(const struct conf *c, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {NULL, 0, NULL, 0},
	};
	struct migrate_set set = {NULL, 0};
	const char *dir = c->migrations_dir;
	struct db *db = NULL;
	size_t i, applied = 0;
	int ch, rc = 1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		default:
			fprintf(stderr, "usage: licheng migrate [--dir DIR]\n");
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: licheng migrate [--dir DIR]\n");
		return 2;
	}
	if (dir == NULL || dir[0] == '\0') {
		log_error(
		    "no migrations directory (paths.migrations or --dir)");
		return 1;
	}
	if (migrate_check_names(c) != 0 || migrate_scan(dir, &set) != 0)
		return 1;
	db = db_new(c, DB_MIGRATE);
	if (migrate_create_db(db, c->db_name) != 0 ||
	    migrate_create_db(db, c->db_central_name) != 0 ||
	    db_select(db, c->db_name) != 0 || migrate_lock(db) != 0)
		goto out;
	if (db_exec(db,
		"CREATE TABLE IF NOT EXISTS schema_migrations ("
		"version INT NOT NULL PRIMARY KEY, "
		"name VARCHAR(128) NOT NULL, "
		"sha256 CHAR(64) CHARACTER SET ascii NOT NULL, "
		"applied_at DATETIME(6) NOT NULL"
		") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 "
		"COLLATE=utf8mb4_unicode_ci",
		NULL, 0, NULL, NULL) != 0)
		goto out;
	/* Every applied file is checked before anything new is applied. */
	if (migrate_load_applied(db, &set) != 0)
		goto out;
	for (i = 0; i < set.n; i++) {
		if (set.v[i].applied)
			continue;
		if (migrate_apply(db, dir, c->db_name, &set.v[i]) != 0)
			goto out;
		applied++;
	}
	if (applied == 0)
		printf("nothing to apply\n");
	if (migrate_accounts_ensure(c, db) != 0)
		goto out;
	if (fflush(stdout) == EOF) {
		log_error("writing to standard output: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	db_free(db);
	free(set.v);
	return rc;
}

int
cmd_migrate_bootstrap_sql(const struct conf *c, int argc, char **argv)
{
	const char *u = c->db_migrate_user, *h = c->db_grant_host;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: licheng db bootstrap-sql\n");
		return 2;
	}
	if (!cli_sql_ident_ok(u) || !cli_sql_host_ok(h) ||
	    !cli_sql_ident_ok(c->db_name) ||
	    !cli_sql_ident_ok(c->db_central_name) ||
	    !cli_sql_secret_ok(c->secret_db_migrate_password)) {
		log_error(
		    "the migrate user, grant_host, database names or "
		    "the migrate password contain characters that cannot be "
		    "placed into SQL");
		return 1;
	}
	/*
	 * On MariaDB 10.11 CREATE USER on *.* covers CREATE/ALTER USER and
	 * CREATE ROLE, and the creator of a role may grant it. The
	 * privileges given to roles must be held WITH GRANT OPTION. SET
	 * DEFAULT ROLE ... FOR another user would need write access to the
	 * mysql schema (root in all but name), so the runner has each
	 * account set its own default role instead.
	 */
	printf(
	    "-- Run once as the MariaDB root user: creates the account "
	    "that `licheng migrate` uses.\n"
	    "CREATE USER IF NOT EXISTS '%s'@'%s' IDENTIFIED BY '%s';\n"
	    "ALTER USER '%s'@'%s' IDENTIFIED BY '%s';\n"
	    "GRANT ALL PRIVILEGES ON `%s`.* TO '%s'@'%s' WITH GRANT OPTION;\n"
	    "GRANT ALL PRIVILEGES ON `%s`.* TO '%s'@'%s' WITH GRANT OPTION;\n"
	    "GRANT CREATE USER ON *.* TO '%s'@'%s';\n",
	    u, h, c->secret_db_migrate_password, u, h,
	    c->secret_db_migrate_password, c->db_name, u, h, c->db_central_name,
	    u, h, u, h);
	if (fflush(stdout) == EOF) {
		log_error("writing to standard output: %s", strerror(errno));
		return 1;
	}
	return 0;
}
