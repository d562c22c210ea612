/*
 * accounts: `licheng school add`, `licheng user add` and `licheng demo
 * seed`. Accounts are personal and start pending: the command prints a
 * one-time activation code, stored only as a hash, that expires after 14
 * days. A login name that is a public fact (national ID, school code, date)
 * is refused with the reason. Demo accounts are made only when the
 * configuration says it is the demo stack.
 */
#include "accounts.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "db.h"
#include "ids.h"
#include "log.h"
#include "util.h"
#include "validate.h"

#define ACTIVATION_DAYS 14

static const char *const roles[] = {
    "student",
    "teacher",
    "school_admin",
    "central_staff",
    "auditor",
};

static int
role_valid(const char *r)
{
	size_t i;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strcmp(r, roles[i]) == 0)
			return 1;
	return 0;
}

static int
role_has_school(const char *r)
{
	return strcmp(r, "central_staff") != 0 && strcmp(r, "auditor") != 0;
}

static int
school_code_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 3 || n > 16)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
			(s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= 'a' && s[i] <= 'z')))
			return 0;
	return 1;
}

/* Parses --key value options into vals (NULL when absent); 0 or -1. */
static int
parse_opts(int argc, char **argv, const struct option *opts, const char **vals)
{
	int ch, idx;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		if (ch != 0 || idx < 0) {
			fprintf(stderr,
			    "licheng: unknown or incomplete option "
			    "\"%s\"\n",
			    argv[optind - 1]);
			return -1;
		}
		vals[idx] = optarg;
	}
	if (optind != argc) {
		fprintf(stderr, "licheng: unexpected argument \"%s\"\n",
		    argv[optind]);
		return -1;
	}
	return 0;
}

static int
school_insert(struct db *db, const char *code, const char *name)
{
	struct db_param p[3];
	char pub[IDS_PUBLIC_LEN + 1];

	if (ids_public(pub) != 0)
		return -1;
	p[0] = DB_STR(pub);
	p[1] = DB_STR(code);
	p[2] = DB_STR(name);
	return db_exec(db,
	    "INSERT INTO schools (public_id, code, name) "
	    "VALUES (?, ?, ?)",
	    p, 3, NULL, NULL);
}

/* Sets *exists to whether sql, with value as its one parameter, finds a
 * row. 0, or -1 on a database error. */
static int
row_exists(struct db *db, const char *sql, const char *value, int *exists)
{
	struct db_param p[1] = {DB_STR(value)};
	struct db_res *r;

	if ((r = db_query(db, sql, p, 1)) == NULL)
		return -1;
	*exists = db_res_rows(r) > 0;
	db_res_free(r);
	return 0;
}

static int
school_exists(struct db *db, const char *code, int *exists)
{
	return row_exists(
	    db, "SELECT 1 FROM schools WHERE code = ?", code, exists);
}

/* The exit status of a command that used db; says why a database step
 * failed when nothing more specific was printed, and frees db. */
static int
accounts_finish(struct db *db, int rc)
{
	if (rc != 0 && db_errstr(db)[0] != '\0')
		fprintf(stderr, "licheng: database: %s\n", db_errstr(db));
	db_free(db);
	return rc;
}

int
cli_school_add(const struct conf *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"code", required_argument, NULL, 0},
	    {"name", required_argument, NULL, 0},
	    {NULL, 0, NULL, 0},
	};
	const char *v[2] = {NULL, NULL};
	struct db *db;
	int exists, rc = 1;

	if (parse_opts(argc, argv, opts, v) != 0 || v[0] == NULL ||
	    v[1] == NULL) {
		fprintf(stderr,
		    "usage: licheng school add --code CODE "
		    "--name NAME\n");
		return 2;
	}
	if (!school_code_valid(v[0])) {
		fprintf(stderr,
		    "licheng: school code \"%s\": 3 to 16 letters "
		    "or digits\n",
		    v[0]);
		return 1;
	}
	if (!validate_line(v[1], 100)) {
		fprintf(stderr,
		    "licheng: school name: 1 to 100 characters of "
		    "text on one line\n");
		return 1;
	}
	db = db_new(c, DB_APP);
	if (school_exists(db, v[0], &exists) != 0)
		goto out;
	if (exists) {
		fprintf(stderr,
		    "licheng: a school with code %s already "
		    "exists\n",
		    v[0]);
		goto out;
	}
	if (school_insert(db, v[0], v[1]) != 0)
		goto out;
	printf("added school %s (%s)\n", v[0], v[1]);
	rc = 0;
out:
	return accounts_finish(db, rc);
}

/* Checks the login against the rules that need no database, then against
 * the school codes. Prints the reason; 0 when acceptable. */
static int
login_acceptable(struct db *db, const char *login)
{
	enum validate_login_result v = validate_login(login);
	int clash;

	if (v != VALIDATE_LOGIN_OK) {
		fprintf(stderr, "licheng: login \"%s\" refused: %s\n", login,
		    validate_login_reason(v));
		return -1;
	}
	if (school_exists(db, login, &clash) != 0)
		return -1;
	if (clash) {
		fprintf(stderr,
		    "licheng: login \"%s\" refused: a login name "
		    "must not be a school code (帳號不得使用學校代碼)\n",
		    login);
		return -1;
	}
	return 0;
}

/* Writes a fresh activation code for login into code and stores its hash
 * with an expiry, creating the account when create is set. */
static int
user_issue(struct db *db, const char *school, const char *role,
    const char *login, const char *name, int create,
    char code[IDS_CODE_LEN + 1], char expires[32])
{
	char hash[65], pub[IDS_PUBLIC_LEN + 1];
	struct db_param p[6];
	struct db_res *r;
	unsigned long long affected = 0;

	if (ids_activation_code(code) != 0 ||
	    ids_code_hash(login, code, hash) != 0 || ids_public(pub) != 0)
		return -1;
	if (create) {
		p[0] = DB_STR(pub);
		p[1] = school != NULL ? DB_STR(school) : DB_NULLP;
		p[2] = DB_STR(role);
		p[3] = DB_STR(login);
		p[4] = DB_STR(name);
		p[5] = DB_STR(hash);
		if (db_exec(db,
			"INSERT INTO users (public_id, school_id, role, "
			"login, name, status, activation_hash, "
			"activation_expires) "
			"SELECT ?, (SELECT id FROM schools WHERE code = ?), ?, "
			"?, ?, "
			"'pending', ?, UTC_TIMESTAMP(6) + INTERVAL 14 DAY",
			p, 6, &affected, NULL) != 0)
			return -1;
	} else {
		p[0] = DB_STR(hash);
		p[1] = DB_STR(login);
		if (db_exec(db,
			"UPDATE users SET activation_hash = ?, "
			"activation_expires = UTC_TIMESTAMP(6) + INTERVAL 14 "
			"DAY "
			"WHERE login = ? AND status = 'pending'",
			p, 2, &affected, NULL) != 0)
			return -1;
	}
	if (affected != 1)
		return -1;
	p[0] = DB_STR(login);
	r = db_query(db,
	    "SELECT DATE_FORMAT(activation_expires, "
	    "'%Y-%m-%d %H:%i UTC') FROM users WHERE login = ?",
	    p, 1);
	if (r == NULL)
		return -1;
	str_copy(expires, 32,
	    db_res_rows(r) == 1 && db_res_get(r, 0, 0) ? db_res_get(r, 0, 0)
						       : "?");
	db_res_free(r);
	return 0;
}

int
cli_user_add(const struct conf *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"school", required_argument, NULL, 0},
	    {"role", required_argument, NULL, 0},
	    {"login", required_argument, NULL, 0},
	    {"name", required_argument, NULL, 0},
	    {NULL, 0, NULL, 0},
	};
	const char *v[4] = {NULL, NULL, NULL, NULL};
	char code[IDS_CODE_LEN + 1], expires[32];
	struct db *db;
	int exists, rc = 1;

	if (parse_opts(argc, argv, opts, v) != 0 || v[1] == NULL ||
	    v[2] == NULL || v[3] == NULL) {
		fprintf(stderr,
		    "usage: licheng user add [--school CODE] --role "
		    "ROLE --login LOGIN --name NAME\n  ROLE: student, teacher, "
		    "school_admin (with --school), central_staff, auditor\n");
		return 2;
	}
	if (!role_valid(v[1])) {
		fprintf(stderr,
		    "licheng: unknown role \"%s\" (student, teacher, "
		    "school_admin, central_staff, auditor)\n",
		    v[1]);
		return 1;
	}
	if (role_has_school(v[1]) != (v[0] != NULL)) {
		fprintf(stderr, "licheng: %s\n",
		    role_has_school(v[1])
			? "this role belongs to a school: give --school CODE"
			: "central staff and auditors belong to no school: "
			  "drop "
			  "--school");
		return 1;
	}
	if (!validate_line(v[3], 100)) {
		fprintf(stderr,
		    "licheng: name: 1 to 100 characters of text on "
		    "one line\n");
		return 1;
	}
	db = db_new(c, DB_APP);
	if (login_acceptable(db, v[2]) != 0)
		goto out;
	if (v[0] != NULL) {
		if (school_exists(db, v[0], &exists) != 0)
			goto out;
		if (!exists) {
			fprintf(
			    stderr, "licheng: no school with code %s\n", v[0]);
			goto out;
		}
	}
	if (row_exists(
		db, "SELECT 1 FROM users WHERE login = ?", v[2], &exists) != 0)
		goto out;
	if (exists) {
		fprintf(stderr, "licheng: the login \"%s\" is taken\n", v[2]);
		goto out;
	}
	if (user_issue(db, v[0], v[1], v[2], v[3], 1, code, expires) != 0)
		goto out;
	printf("added %s \"%s\" (%s)\nactivation code: %s (one-time, expires "
	       "%s)\n",
	    v[1], v[2], v[3], code, expires);
	rc = 0;
out:
	return accounts_finish(db, rc);
}

struct demo_account {
	const char *role;
	const char *login;
	const char *name;
};

static const struct demo_account demo_accounts[] = {
    {"student", "demo-student", "示範學生 Demo Student"},
    {"teacher", "demo-teacher", "示範教師 Demo Teacher"},
    {"school_admin", "demo-admin", "示範管理者 Demo School Admin"},
    {"central_staff", "demo-central", "示範中央人員 Demo Central Staff"},
    {"auditor", "demo-auditor", "示範稽核 Demo Auditor"},
};

#define DEMO_SCHOOL_CODE "demo001"
#define DEMO_SCHOOL_NAME "示範高級中學 Demo Senior High School"

int
cli_demo_seed(const struct conf *c, int argc, char **argv)
{
	struct db *db;
	size_t i;
	int exists, rc = 1;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: licheng demo seed\n");
		return 2;
	}
	if (!c->demo) {
		fprintf(stderr,
		    "licheng: demo accounts are made only in the demo "
		    "stack (demo: true in its configuration); this "
		    "configuration "
		    "is not one\n");
		return 1;
	}
	db = db_new(c, DB_APP);
	if (school_exists(db, DEMO_SCHOOL_CODE, &exists) != 0)
		goto out;
	if (!exists &&
	    school_insert(db, DEMO_SCHOOL_CODE, DEMO_SCHOOL_NAME) != 0)
		goto out;
	printf("Demo school: %s (%s)\n", DEMO_SCHOOL_NAME, DEMO_SCHOOL_CODE);
	printf("Demo accounts (one-time activation codes, valid %d days):\n",
	    ACTIVATION_DAYS);
	for (i = 0; i < sizeof(demo_accounts) / sizeof(demo_accounts[0]); i++) {
		const struct demo_account *a = &demo_accounts[i];
		char code[IDS_CODE_LEN + 1], expires[32];
		struct db_param p[1] = {DB_STR(a->login)};
		struct db_res *r;
		const char *status;

		r = db_query(
		    db, "SELECT status FROM users WHERE login = ?", p, 1);
		if (r == NULL)
			goto out;
		status = db_res_rows(r) > 0 ? db_res_get(r, 0, 0) : NULL;
		if (status != NULL && strcmp(status, "pending") != 0) {
			printf("  %-14s %-14s already activated\n", a->role,
			    a->login);
			db_res_free(r);
			continue;
		}
		if (user_issue(db,
			role_has_school(a->role) ? DEMO_SCHOOL_CODE : NULL,
			a->role, a->login, a->name, status == NULL, code,
			expires) != 0) {
			db_res_free(r);
			goto out;
		}
		db_res_free(r);
		printf("  %-14s %-14s code %s\n", a->role, a->login, code);
	}
	rc = 0;
out:
	if (rc != 0)
		fprintf(
		    stderr, "licheng: demo seed failed: %s\n", db_errstr(db));
	db_free(db);
	return rc;
}
