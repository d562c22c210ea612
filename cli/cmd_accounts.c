/*
 * accounts: `licheng school add`, `licheng user add` and `licheng demo
 * seed`. Accounts are personal and start pending: the command prints a
 * one-time activation code, stored only as a hash, that expires after 14
 * days. A login name that is a public fact (national ID, school code, date)
 * is refused with the reason. Accounts and codes are made by lib/issue.c,
 * the one place that does (the CSV import uses it too). Demo accounts are
 * made only when the configuration says it is the demo stack. Every school
 * and account is written in one transaction with its audit row; neither is
 * ever kept without the other.
 */
#include "accounts.h"

#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "audit.h"
#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "ids.h"
#include "issue.h"
#include "log.h"
#include "pii.h"
#include "util.h"
#include "validate.h"

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

void
cli_actor(char *out, size_t outlen)
{
	const struct passwd *pw = getpwuid(geteuid());
	int n = -1;

	if (pw != NULL && pw->pw_name != NULL)
		n = snprintf(out, outlen, "cli:%s", pw->pw_name);
	if (n < 0 || (size_t)n >= outlen || (size_t)n > AUDIT_ACTOR_MAX)
		(void)str_copy(out, outlen, "cli");
}

/* Appends an operator's successful event inside db's open transaction. */
static int
accounts_audit(struct db *db, const char *event, const char *school,
    const char *target, const struct buf *detail)
{
	char actor[AUDIT_ACTOR_MAX + 1];
	struct audit_event ev;

	cli_actor(actor, sizeof(actor));
	memset(&ev, 0, sizeof(ev));
	ev.actor = actor;
	ev.role = "operator";
	ev.school = school;
	ev.ip = "";
	ev.event = event;
	ev.target = target;
	ev.outcome = "success";
	ev.detail = detail->data;
	return audit_append_tx(db, &ev);
}

/* Audits school.create for the school just inserted. */
static int
accounts_audit_school(struct db *db, const char *code, const char *name)
{
	struct buf target, detail;
	int rc;

	buf_init(&target);
	buf_init(&detail);
	buf_printf(&target, "school:%s", code);
	buf_putc(&detail, '{');
	buf_json_kv(&detail, "name", name);
	buf_putc(&detail, '}');
	rc = accounts_audit(db, "school.create", code, target.data, &detail);
	buf_free(&target);
	buf_free(&detail);
	return rc;
}

/* Audits event (user.create, user.activation_reissue) for login. The name
 * stays out of the log: the login identifies the account, and the audit log
 * holds no more personal data than it needs. */
static int
accounts_audit_user(struct db *db, const char *event, const char *school,
    const char *role, const char *login)
{
	struct buf target, detail;
	int rc;

	buf_init(&target);
	buf_init(&detail);
	buf_printf(&target, "user:%s", login);
	buf_putc(&detail, '{');
	buf_json_kv(&detail, "role", role);
	buf_json_kv(&detail, "school", school);
	buf_putc(&detail, '}');
	rc = accounts_audit(db, event, school, target.data, &detail);
	buf_free(&target);
	buf_free(&detail);
	return rc;
}

/* Ends the transaction holding a change and its audit row: commits when rc
 * is 0, else rolls back. 0 only when both were committed. */
static int
accounts_end_tx(struct db *db, int rc)
{
	if (rc == 0 && db_commit(db) == 0)
		return 0;
	/* A failed rollback is logged; the server discards the transaction
	 * when the connection closes, so nothing half-done is kept. */
	(void)db_rollback(db);
	return -1;
}

/* Adds a school and its audit row in one transaction. 0/-1. */
static int
accounts_school_create(struct db *db, const char *code, const char *name)
{
	int rc;

	if (db_begin(db) != 0)
		return -1;
	rc = school_insert(db, code, name);
	if (rc == 0)
		rc = accounts_audit_school(db, code, name);
	return accounts_end_tx(db, rc);
}

int
cli_school_id(struct db *db, const char *code, uint64_t *id)
{
	struct db_param p[1] = {DB_STR(code)};
	struct db_res *r;

	if ((r = db_query(db, "SELECT id FROM schools WHERE code = ?", p, 1)) ==
	    NULL)
		return -1;
	*id = db_res_rows(r) > 0 ? (uint64_t)db_res_int(r, 0, 0) : 0;
	db_res_free(r);
	return 0;
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
	uint64_t id;
	int rc = 1;

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
	if (cli_school_id(db, v[0], &id) != 0)
		goto out;
	if (id != 0) {
		fprintf(stderr,
		    "licheng: a school with code %s already "
		    "exists\n",
		    v[0]);
		goto out;
	}
	if (accounts_school_create(db, v[0], v[1]) != 0)
		goto out;
	printf("added school %s (%s)\n", v[0], v[1]);
	rc = 0;
out:
	return accounts_finish(db, rc);
}

/* Checks the login with issue_login_refusal (its shape, public facts,
 * school codes, logins taken). Prints the reason; 0 when acceptable. */
static int
login_acceptable(struct db *db, const char *login)
{
	int dberr = 0;
	const char *why = issue_login_refusal(db, login, &dberr);

	if (dberr != 0)
		return -1;
	if (why != NULL) {
		fprintf(
		    stderr, "licheng: login \"%s\" refused: %s\n", login, why);
		return -1;
	}
	return 0;
}

/* A new account (issue_account_tx) and its audit row user.create in one
 * transaction; the code into out. 0/-1. */
static int
accounts_user_issue(struct db *db, const char *school, uint64_t school_id,
    const char *role, const char *login, const char *name,
    const struct issue_facts *facts, struct issued *out)
{
	int rc;

	if (db_begin(db) != 0)
		return -1;
	rc = issue_account_tx(db, school_id, role, login, name, facts, out);
	if (rc == 0)
		rc =
		    accounts_audit_user(db, "user.create", school, role, login);
	return accounts_end_tx(db, rc);
}

/* A fresh code for the pending account user_id (issue_reissue_tx) and its
 * audit row user.activation_reissue in one transaction. 0/-1. */
static int
accounts_user_reissue(struct db *db, const char *school, const char *role,
    const char *login, uint64_t user_id, struct issued *out)
{
	int rc;

	if (db_begin(db) != 0)
		return -1;
	rc = issue_reissue_tx(db, 0, user_id, out) == 1 ? 0 : -1;
	if (rc == 0)
		rc = accounts_audit_user(
		    db, "user.activation_reissue", school, role, login);
	return accounts_end_tx(db, rc);
}

/*
 * Checks --birth-date and --national-id. The ID is kept only as its
 * HMAC-SHA256 under keys.lookup (of the upper-cased number), which is all
 * the password rules need to refuse a password that contains it.
 */
static int
user_facts_parse(const struct conf *c, const char *birth, const char *id,
    char nid[CRYPTO_SHA256_HEX_LEN + 1], struct issue_facts *f)
{
	unsigned char key[CRYPTO_KEY_LEN];
	int y, m, d, n = 0, rc;

	if (birth != NULL) {
		if (strlen(birth) != 10 ||
		    sscanf(birth, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 ||
		    n != 10 || !validate_ymd(y, m, d)) {
			fprintf(stderr,
			    "licheng: --birth-date \"%s\": a date "
			    "YYYY-MM-DD\n",
			    birth);
			return -1;
		}
		f->birth_date = birth;
	}
	if (id == NULL)
		return 0;
	if (!validate_twid(id)) {
		fprintf(stderr,
		    "licheng: --national-id: not a national ID or resident "
		    "certificate number with a valid check digit\n");
		return -1;
	}
	if (crypto_key_from_hex(c->secret_lookup_key, key) != 0) {
		fprintf(stderr,
		    "licheng: keys.lookup in %s is not 64 hex "
		    "digits\n",
		    c->secrets_file);
		return -1;
	}
	rc = pii_twid_hmac(key, id, nid);
	OPENSSL_cleanse(key, sizeof(key));
	if (rc != 0)
		return -1;
	f->national_id_hmac = nid;
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
	    {"birth-date", required_argument, NULL, 0},
	    {"national-id", required_argument, NULL, 0},
	    {NULL, 0, NULL, 0},
	};
	const char *v[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
	char nid[CRYPTO_SHA256_HEX_LEN + 1];
	struct issue_facts facts = {NULL, NULL};
	struct issued out;
	struct db *db;
	uint64_t school_id = 0;
	int rc = 1;

	if (parse_opts(argc, argv, opts, v) != 0 || v[1] == NULL ||
	    v[2] == NULL || v[3] == NULL) {
		fprintf(stderr,
		    "usage: licheng user add [--school CODE] --role "
		    "ROLE --login LOGIN --name NAME\n"
		    "    [--birth-date YYYY-MM-DD] [--national-id ID]\n"
		    "  ROLE: student, teacher, "
		    "school_admin (with --school), central_staff, auditor\n");
		return 2;
	}
	if (user_facts_parse(c, v[4], v[5], nid, &facts) != 0)
		return 1;
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
		if (cli_school_id(db, v[0], &school_id) != 0)
			goto out;
		if (school_id == 0) {
			fprintf(
			    stderr, "licheng: no school with code %s\n", v[0]);
			goto out;
		}
	}
	if (accounts_user_issue(
		db, v[0], school_id, v[1], v[2], v[3], &facts, &out) != 0)
		goto out;
	printf("added %s \"%s\" (%s)\nactivation code: %s (one-time, expires "
	       "%s)\n",
	    v[1], v[2], v[3], out.code, out.expires);
	OPENSSL_cleanse(out.code, sizeof(out.code));
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

/*
 * In the demo everyone signs in from this machine: the loopback addresses
 * are registered as the demo school's egress addresses, so activating the
 * five demo accounts (more than detect.password_changes from one address)
 * raises an alert instead of blocking 127.0.0.1 for an hour.
 */
static int
demo_egress(struct db *db)
{
	static const char *const addrs[] = {"127.0.0.1", "::1"};
	char pub[IDS_PUBLIC_LEN + 1];
	struct db_param p[3];
	size_t i;

	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		if (ids_public(pub) != 0)
			return -1;
		p[0] = DB_STR(pub);
		p[1] = DB_STR(addrs[i]);
		p[2] = DB_STR(DEMO_SCHOOL_CODE);
		if (db_exec(db,
			"INSERT IGNORE INTO school_egress (public_id, "
			"school_id, "
			"address, note, created_by) SELECT ?, s.id, ?, "
			"'demo stack: this machine', u.id FROM schools s JOIN "
			"users u ON u.login = 'demo-admin' WHERE s.code = ?",
			p, 3, NULL, NULL) != 0)
			return -1;
	}
	return 0;
}

int
cli_demo_seed(const struct conf *c, int argc, char **argv)
{
	struct db *db;
	uint64_t school_id;
	size_t i;
	int rc = 1;

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
	if (cli_school_id(db, DEMO_SCHOOL_CODE, &school_id) != 0)
		goto out;
	if (school_id == 0 &&
	    (accounts_school_create(db, DEMO_SCHOOL_CODE, DEMO_SCHOOL_NAME) !=
		    0 ||
		cli_school_id(db, DEMO_SCHOOL_CODE, &school_id) != 0))
		goto out;
	printf("Demo school: %s (%s)\n", DEMO_SCHOOL_NAME, DEMO_SCHOOL_CODE);
	printf("Demo accounts (one-time activation codes, valid %d days):\n",
	    ISSUE_CODE_DAYS);
	for (i = 0; i < sizeof(demo_accounts) / sizeof(demo_accounts[0]); i++) {
		const struct demo_account *a = &demo_accounts[i];
		const char *school =
		    role_has_school(a->role) ? DEMO_SCHOOL_CODE : NULL;
		struct db_param p[1] = {DB_STR(a->login)};
		struct issued out;
		struct db_res *r;
		const char *status;
		uint64_t uid;
		int done;

		r = db_query(
		    db, "SELECT status, id FROM users WHERE login = ?", p, 1);
		if (r == NULL)
			goto out;
		status = db_res_rows(r) > 0 ? db_res_get(r, 0, 0) : NULL;
		if (status != NULL && strcmp(status, "pending") != 0) {
			printf("  %-14s %-14s already activated\n", a->role,
			    a->login);
			db_res_free(r);
			continue;
		}
		uid = status != NULL ? (uint64_t)db_res_int(r, 0, 1) : 0;
		db_res_free(r);
		done = uid != 0 ? accounts_user_reissue(
				      db, school, a->role, a->login, uid, &out)
				: accounts_user_issue(db, school,
				      school != NULL ? school_id : 0, a->role,
				      a->login, a->name, NULL, &out);
		if (done != 0)
			goto out;
		printf("  %-14s %-14s code %s\n", a->role, a->login, out.code);
		OPENSSL_cleanse(out.code, sizeof(out.code));
	}
	if (demo_egress(db) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		fprintf(
		    stderr, "licheng: demo seed failed: %s\n", db_errstr(db));
	db_free(db);
	return rc;
}
