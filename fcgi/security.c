/*
 * security: the admins' security pages — a school's egress addresses
 * (/admin/egress), the open alerts and their acknowledgement, and the reset
 * of another user's second factor, account unlocks and address unblocks
 * (/admin/security), each change audited with the transaction that makes
 * it. It must never act on an account or row beyond the admin's reach, and
 * answers another school's rows exactly as missing ones (404, never 403).
 */
#include <arpa/inet.h>
#include <string.h>

#include <mysqld_error.h>

#include "app.h"
#include "audit.h"
#include "auth.h"
#include "conf.h"
#include "form.h"
#include "guard.h"
#include "i18n.h"
#include "ids.h"
#include "log.h"
#include "router.h"
#include "session.h"
#include "template.h"
#include "util.h"

#define SEC_CSRF AUTH_CSRF_PATTERN
/* Login names are [a-z0-9._-] (validate_login); upper case is folded. */
#define SEC_LOGIN "[A-Za-z0-9._-]{1,32}"
/* The characters of an IPv4 or IPv6 address; inet_pton decides. */
#define SEC_ADDRESS "[0-9A-Fa-f:.]{2,45}"
/* Open alerts per page of /admin/security. */
#define SEC_PAGE_SIZE 50
/* Egress addresses one school may register: a school has a few NAT
 * addresses, and the list is consulted at every failed sign-in. */
#define EGRESS_MAX 64

/* ------------------------------------------------------------ helpers */

/* Audits a refusal that concerns a named account (auth_deny's entry, with
 * the account as the target so auditors see whom it was about). */
static void
security_denied(
    struct app *app, struct request *r, const char *reason, const char *login)
{
	char target[64];
	struct buf d;

	str_printf(target, sizeof(target), "user:%s", login);
	buf_init(&d);
	buf_putc(&d, '{');
	buf_json_kv(&d, "reason", reason);
	buf_json_kv(&d, "method", r->method_name);
	buf_json_kv(&d, "path", r->path);
	buf_putc(&d, '}');
	(void)auth_audit(app, r, "access.denied", target, "denied", d.data);
	buf_free(&d);
}

/* The canonical text (inet_ntop) of an IPv4 or IPv6 address, the form
 * REMOTE_ADDR has, so a stored address matches the requests it names.
 * -1 when in is not an address or is the unspecified one. */
static int
security_addr_canonical(const char *in, char *out, size_t outlen)
{
	static const unsigned char zero[16];
	unsigned char b[16];
	int af = AF_INET;
	size_t n = 4;

	if (inet_pton(AF_INET, in, b) != 1) {
		af = AF_INET6;
		n = 16;
		if (inet_pton(AF_INET6, in, b) != 1)
			return -1;
	}
	if (memcmp(b, zero, n) == 0)
		return -1;
	return inet_ntop(af, b, out, (socklen_t)outlen) != NULL ? 0 : -1;
}

static void
security_lower(const char *in, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; in[i] != '\0' && i + 1 < outlen; i++)
		out[i] =
		    (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] + 32) : in[i];
	out[i] = '\0';
}

/* ------------------------------------------------------ /admin/egress */

static const char egress_list_sql[] =
    "SELECT e.public_id, e.address, e.note, "
    "DATE_FORMAT(e.created_at, '%Y-%m-%d %H:%i'), COALESCE(u.login, '') "
    "FROM school_egress e LEFT JOIN users u ON u.id = e.created_by "
    "WHERE e.school_id = ? ORDER BY e.created_at, e.id";

/* The thresholds of guard_addr_note, so admins see what registering an
 * address changes. */
static void
egress_thresholds(struct app *app, struct request *r, struct tval *ctx)
{
	const struct conf *c = app->conf;
	char text[256];

	(void)tval_set_str(ctx, "thresholds_title",
	    auth_msg_n(app, r, "egress.thresholds_title",
		(c->detect_window + 59) / 60, text, sizeof(text)));
	(void)tval_set_int(ctx, "normal_signin", c->detect_signin_accounts);
	(void)tval_set_int(
	    ctx, "egress_signin", c->detect_egress_signin_accounts);
	(void)tval_set_int(ctx, "normal_password", c->detect_password_changes);
	(void)tval_set_int(
	    ctx, "egress_password", c->detect_egress_password_changes);
	(void)tval_set_str(ctx, "block_text",
	    auth_msg_n(app, r, "egress.block_minutes",
		(c->detect_block + 59) / 60, text, sizeof(text)));
}

/* Renders /admin/egress with the school's addresses; frees ctx. */
static enum request_outcome
egress_page(struct app *app, struct request *r, struct tval *ctx, int status)
{
	const struct auth *a = r->auth;
	struct db_param p[1] = {DB_INT((long long)a->u.school_id)};
	struct db_res *res;
	struct tval *rows, *row;
	int mine = 0;
	size_t i;

	res = db_query(app_db(app), egress_list_sql, p, 1);
	if (res == NULL) {
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	rows = tval_list();
	for (i = 0; i < db_res_rows(res); i++) {
		row = tval_obj();
		(void)tval_set_str(row, "id", db_res_get(res, i, 0));
		(void)tval_set_str(row, "address", db_res_get(res, i, 1));
		(void)tval_set_str(row, "row_note", db_res_get(res, i, 2));
		(void)tval_set_str(row, "added", db_res_get(res, i, 3));
		(void)tval_set_str(row, "by", db_res_get(res, i, 4));
		if (strcmp(db_res_get(res, i, 1), a->ip) == 0)
			mine = 1;
		(void)tval_push(rows, row);
	}
	(void)tval_set_int(ctx, "count", (long long)db_res_rows(res));
	db_res_free(res);
	(void)tval_set(ctx, "rows", rows);
	(void)tval_set_str(ctx, "my_ip", a->ip);
	(void)tval_set_bool(ctx, "my_ip_registered", mine);
	egress_thresholds(app, r, ctx);
	return auth_render(app, r, "egress", ctx, status);
}

enum request_outcome
egress_get(struct app *app, struct request *r)
{
	struct tval *ctx = auth_page_ctx(app, r, "egress.title");

	(void)auth_page_query(app, r, ctx, "added|deleted", "egress");
	return egress_page(app, r, ctx, 200);
}

enum { EF_ADDRESS, EF_NOTE, EF_CSRF, EF__MAX };
static const struct form_field egress_fields[EF__MAX] = {
    [EF_ADDRESS] = {"address", FORM_PATTERN, FORM_REQUIRED, 2, 45, SEC_ADDRESS},
    [EF_NOTE] = {"note", FORM_TEXT, 0, 0, 100, NULL},
    [EF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, SEC_CSRF},
};

/* How many addresses the school has registered, or -1. */
static long
egress_count(struct app *app, uint64_t school_id)
{
	struct db_param p[1] = {DB_INT((long long)school_id)};
	struct db_res *res;
	long n;

	res = db_query(app_db(app),
	    "SELECT COUNT(*) FROM school_egress WHERE school_id = ?", p, 1);
	if (res == NULL)
		return -1;
	n = (long)db_res_int(res, 0, 0);
	db_res_free(res);
	return n;
}

/* Inserts the address with its audit row. 0, 1 when the school already
 * has it, -1 on an error. */
static int
egress_insert(
    struct app *app, struct request *r, const char *addr, const char *note)
{
	struct db *db = app_db(app);
	char pub[IDS_PUBLIC_LEN + 1], target[80];
	struct db_param p[5];
	struct buf d;
	unsigned int err;
	int rc = -1;

	if (ids_public(pub) != 0)
		return -1;
	p[0] = DB_STR(pub);
	p[1] = DB_INT((long long)r->auth->u.school_id);
	p[2] = DB_STR(addr);
	p[3] = DB_STR(note);
	p[4] = DB_INT((long long)r->auth->u.id);
	str_printf(target, sizeof(target), "egress:%s", addr);
	buf_init(&d);
	buf_putc(&d, '{');
	buf_json_kv(&d, "note", note);
	buf_putc(&d, '}');
	if (db_begin(db) != 0)
		goto out;
	if (db_exec(db,
		"INSERT INTO school_egress (public_id, school_id, address, "
		"note, created_by, created_at) VALUES (?, ?, ?, ?, ?, "
		"UTC_TIMESTAMP(6))",
		p, 5, NULL, NULL) != 0) {
		err = db_errno(db);
		(void)db_rollback(db);
		rc = err == ER_DUP_ENTRY ? 1 : -1;
		goto out;
	}
	if (auth_audit_tx(db, r, "egress.add", target, d.data) != 0 ||
	    db_commit(db) != 0) {
		(void)db_rollback(db);
		goto out;
	}
	rc = 0;
out:
	buf_free(&d);
	return rc;
}

enum request_outcome
egress_post(struct app *app, struct request *r)
{
	struct form *f = form_new(egress_fields, EF__MAX);
	struct tval *ctx;
	char addr[INET6_ADDRSTRLEN], text[256];
	long n;
	int rc;

	if (f == NULL)
		return RQ_ERROR;
	ctx = auth_page_ctx(app, r, "egress.title");
	if (form_parse(f, r->input.data, r->input.len) != 0) {
		(void)tval_set_str(
		    ctx, "form_address", form_echo(f, EF_ADDRESS));
		(void)tval_set_str(ctx, "form_note", form_echo(f, EF_NOTE));
		auth_field_error(app, r, ctx, "address_error", f, EF_ADDRESS);
		auth_field_error(app, r, ctx, "note_error", f, EF_NOTE);
		(void)tval_set_str(
		    ctx, "alert", auth_msg(app, r, "egress.invalid"));
		form_free(f);
		return egress_page(app, r, ctx, 422);
	}
	(void)tval_set_str(ctx, "form_address", form_str(f, EF_ADDRESS));
	(void)tval_set_str(ctx, "form_note", form_str(f, EF_NOTE));
	if (security_addr_canonical(
		form_str(f, EF_ADDRESS), addr, sizeof(addr)) != 0) {
		(void)tval_set_str(ctx, "address_error",
		    auth_msg(app, r, "egress.bad_address"));
		(void)tval_set_str(
		    ctx, "alert", auth_msg(app, r, "egress.invalid"));
		form_free(f);
		return egress_page(app, r, ctx, 422);
	}
	n = egress_count(app, r->auth->u.school_id);
	if (n < 0) {
		form_free(f);
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	if (n >= EGRESS_MAX) {
		(void)tval_set_str(ctx, "alert",
		    auth_msg_n(app, r, "egress.too_many", EGRESS_MAX, text,
			sizeof(text)));
		form_free(f);
		return egress_page(app, r, ctx, 409);
	}
	rc = egress_insert(app, r, addr, form_str(f, EF_NOTE));
	form_free(f);
	if (rc == 1) {
		(void)tval_set_str(
		    ctx, "alert", auth_msg(app, r, "egress.duplicate"));
		return egress_page(app, r, ctx, 409);
	}
	tval_free(ctx);
	if (rc != 0)
		return RQ_UNAVAILABLE;
	request_redirect(r, "/admin/egress?done=added");
	return RQ_OK;
}

enum { DF_CSRF, DF__MAX };
static const struct form_field csrf_only_fields[DF__MAX] = {
    [DF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, SEC_CSRF},
};

enum request_outcome
egress_delete_post(struct app *app, struct request *r)
{
	const char *id = request_capture(r, "id");
	struct form *f = form_new(csrf_only_fields, DF__MAX);
	struct db *db = app_db(app);
	struct db_param p[2];
	struct db_res *res;
	char target[80];
	struct buf d;
	uint64_t row, school;
	int ok;

	if (f == NULL)
		return RQ_ERROR;
	ok = form_parse(f, r->input.data, r->input.len) == 0;
	form_free(f);
	if (!ok)
		return RQ_BAD_REQUEST;
	if (id == NULL || !ids_public_valid(id))
		return RQ_NOT_FOUND;
	p[0] = DB_STR(id);
	res = db_query(db,
	    "SELECT id, school_id, address, note FROM school_egress WHERE "
	    "public_id = ?",
	    p, 1);
	if (res == NULL)
		return RQ_UNAVAILABLE;
	if (db_res_rows(res) == 0) {
		db_res_free(res);
		return RQ_NOT_FOUND;
	}
	row = (uint64_t)db_res_int(res, 0, 0);
	school = (uint64_t)db_res_int(res, 0, 1);
	if (school != r->auth->u.school_id) {
		db_res_free(res);
		return auth_deny(app, r, "other_school", 1);
	}
	str_printf(target, sizeof(target), "egress:%s", db_res_get(res, 0, 2));
	buf_init(&d);
	buf_putc(&d, '{');
	buf_json_kv(&d, "note", db_res_get(res, 0, 3));
	buf_putc(&d, '}');
	db_res_free(res);
	p[0] = DB_INT((long long)row);
	p[1] = DB_INT((long long)school);
	ok = db_begin(db) == 0 &&
	    db_exec(db,
		"DELETE FROM school_egress WHERE id = ? AND school_id = ?", p,
		2, NULL, NULL) == 0 &&
	    auth_audit_tx(db, r, "egress.delete", target, d.data) == 0 &&
	    db_commit(db) == 0;
	buf_free(&d);
	if (!ok) {
		(void)db_rollback(db);
		return RQ_UNAVAILABLE;
	}
	request_redirect(r, "/admin/egress?done=deleted");
	return RQ_OK;
}

/* ---------------------------------------------------- /admin/security */

/* The open alerts the admin may see, page by page: every school's for
 * central staff, their own school's for a school admin. */
static const char alerts_all_sql[] =
    "SELECT a.public_id, DATE_FORMAT(a.at, '%Y-%m-%d %H:%i'), a.kind, a.ip, "
    "COALESCE(s.code, ''), COALESCE(a.detail, '') FROM alerts a LEFT JOIN "
    "schools s ON s.id = a.school_id WHERE a.acknowledged_at IS NULL "
    "ORDER BY a.at DESC, a.id DESC LIMIT ? OFFSET ?";
static const char alerts_all_count_sql[] =
    "SELECT COUNT(*) FROM alerts WHERE acknowledged_at IS NULL";
static const char alerts_school_sql[] =
    "SELECT a.public_id, DATE_FORMAT(a.at, '%Y-%m-%d %H:%i'), a.kind, a.ip, "
    "'', COALESCE(a.detail, '') FROM alerts a WHERE a.acknowledged_at IS "
    "NULL AND a.school_id = ? ORDER BY a.at DESC, a.id DESC LIMIT ? OFFSET ?";
static const char alerts_school_count_sql[] =
    "SELECT COUNT(*) FROM alerts WHERE acknowledged_at IS NULL AND "
    "school_id = ?";

/* The page's alert list, its count and the links to the pages around it.
 * 0/-1. */
static int
security_alerts(struct app *app, struct request *r, struct tval *ctx, long page)
{
	const struct user *u = &r->auth->u;
	int central = u->role == ROLE_CENTRAL_STAFF;
	struct db_param p[3];
	struct db_res *res;
	struct tval *list, *item;
	long long total;
	long pages;
	char key[96], text[256], href[64];
	size_t i, np = 0;

	if (!central)
		p[np++] = DB_INT((long long)u->school_id);
	res = db_query(app_db(app),
	    central ? alerts_all_count_sql : alerts_school_count_sql, p, np);
	if (res == NULL)
		return -1;
	total = db_res_int(res, 0, 0);
	db_res_free(res);
	p[np++] = DB_INT(SEC_PAGE_SIZE);
	p[np++] = DB_INT((long long)(page - 1) * SEC_PAGE_SIZE);
	res = db_query(
	    app_db(app), central ? alerts_all_sql : alerts_school_sql, p, np);
	if (res == NULL)
		return -1;
	list = tval_list();
	for (i = 0; i < db_res_rows(res); i++) {
		const char *kind = db_res_get(res, i, 2);

		item = tval_obj();
		(void)tval_set_str(item, "id", db_res_get(res, i, 0));
		(void)tval_set_str(item, "at", db_res_get(res, i, 1));
		str_printf(key, sizeof(key), "alert.kind.%s", kind);
		(void)tval_set_str(item, "what",
		    i18n_has(app->msgs, key) ? auth_msg(app, r, key) : kind);
		(void)tval_set_str(item, "ip", db_res_get(res, i, 3));
		(void)tval_set_str(item, "school", db_res_get(res, i, 4));
		(void)tval_set_str(item, "detail", db_res_get(res, i, 5));
		(void)tval_push(list, item);
	}
	db_res_free(res);
	(void)tval_set(ctx, "alerts", list);
	(void)tval_set_int(ctx, "alert_total", total);
	(void)tval_set_str(ctx, "alert_total_text",
	    auth_msg_n(app, r, "security.alerts_total", (long)total, text,
		sizeof(text)));
	pages = (long)((total + SEC_PAGE_SIZE - 1) / SEC_PAGE_SIZE);
	if (pages < 1)
		pages = 1;
	(void)tval_set_int(ctx, "page", page);
	(void)tval_set_int(ctx, "pages", pages);
	(void)tval_set_bool(ctx, "paged", pages > 1 || page > 1);
	if (page > 1) {
		str_printf(href, sizeof(href), "/admin/security?page=%ld",
		    page - 1 < pages ? page - 1 : pages);
		(void)tval_set_str(ctx, "prev_href", href);
	}
	if (page < pages) {
		str_printf(
		    href, sizeof(href), "/admin/security?page=%ld", page + 1);
		(void)tval_set_str(ctx, "next_href", href);
	}
	return 0;
}

/* Renders /admin/security (alerts of page, the three forms); frees ctx. */
static enum request_outcome
security_page(
    struct app *app, struct request *r, struct tval *ctx, long page, int status)
{
	const struct conf *c = app->conf;
	int central = r->auth->u.role == ROLE_CENTRAL_STAFF;
	char text[256];

	if (security_alerts(app, r, ctx, page) != 0) {
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	(void)tval_set_bool(ctx, "is_central", central);
	(void)tval_set_str(ctx, "reset_scope",
	    auth_msg(app, r,
		central ? "security.reset_scope_central"
			: "security.reset_scope_school"));
	(void)tval_set_str(ctx, "unlock_lead",
	    auth_msg_n(app, r, "security.unlock_lead",
		(c->lock_duration + 59) / 60, text, sizeof(text)));
	(void)tval_set_str(ctx, "unblock_lead",
	    auth_msg_n(app, r, "security.unblock_lead",
		(c->detect_block + 59) / 60, text, sizeof(text)));
	return auth_render(app, r, "security", ctx, status);
}

enum request_outcome
security_get(struct app *app, struct request *r)
{
	struct tval *ctx = auth_page_ctx(app, r, "security.title");
	long page = auth_page_query(app, r, ctx,
	    "mfa_reset|unlocked|not_locked|unblocked|not_blocked|alert_ack",
	    "security");

	return security_page(app, r, ctx, page, 200);
}

enum sec_target {
	SEC_T_OK,
	SEC_T_NONE, /* unknown, or outside the admin's school */
	SEC_T_SELF,
	SEC_T_ROLE, /* a role central staff do not manage */
	SEC_T_ERROR,
	SEC_T__MAX
};

/*
 * Finds the account an admin acts on, within their reach: a school admin
 * reaches the accounts of their own school, central staff reach central
 * staff, auditors and school admins; nobody acts on their own account.
 * An account beyond a school admin's school answers as unknown (and is
 * audited as a refusal).
 */
static enum sec_target
security_target(
    struct app *app, struct request *r, const char *login, struct user *t)
{
	const struct user *me = &r->auth->u;
	int rc = auth_user_load(app, 0, login, t);

	if (rc < 0)
		return SEC_T_ERROR;
	if (rc == 0)
		return SEC_T_NONE;
	if (t->id == me->id) {
		security_denied(app, r, "self", login);
		return SEC_T_SELF;
	}
	if (me->role == ROLE_SCHOOL_ADMIN) {
		if (t->school_id == 0 || t->school_id != me->school_id) {
			security_denied(app, r, "other_school", login);
			return SEC_T_NONE;
		}
		return SEC_T_OK;
	}
	if (t->role != ROLE_CENTRAL_STAFF && t->role != ROLE_AUDITOR &&
	    t->role != ROLE_SCHOOL_ADMIN) {
		security_denied(app, r, "role", login);
		return SEC_T_ROLE;
	}
	return SEC_T_OK;
}

/* The page again with the refusal of a target; frees ctx. */
static enum request_outcome
security_target_refused(
    struct app *app, struct request *r, struct tval *ctx, enum sec_target t)
{
	const char *key;
	int status;

	switch (t) {
	case SEC_T_NONE:
		key = r->auth->u.role == ROLE_SCHOOL_ADMIN
		    ? "security.no_such_user"
		    : "security.no_such_account";
		status = 404;
		break;
	case SEC_T_SELF:
		key = "security.self";
		status = 403;
		break;
	case SEC_T_ROLE:
		key = "security.central_scope";
		status = 403;
		break;
	default: tval_free(ctx); return RQ_UNAVAILABLE;
	}
	(void)tval_set_str(ctx, "alert", auth_msg(app, r, key));
	return security_page(app, r, ctx, 1, status);
}

enum { RF_LOGIN, RF_REASON, RF_CSRF, RF__MAX };
static const struct form_field reset_fields[RF__MAX] = {
    [RF_LOGIN] = {"login", FORM_PATTERN, FORM_REQUIRED, 1, 32, SEC_LOGIN},
    [RF_REASON] = {"reason", FORM_TEXT, FORM_REQUIRED, 1, 200, NULL},
    [RF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, SEC_CSRF},
};

/* Clears t's second factor and recovery codes with the audit row, in one
 * transaction. 0/-1. */
static int
security_mfa_clear(struct app *app, struct request *r, const struct user *t,
    const char *reason)
{
	struct db *db = app_db(app);
	struct db_param p[1] = {DB_INT((long long)t->id)};
	char target[64];
	struct buf d;
	int ok;

	str_printf(target, sizeof(target), "user:%s", t->login);
	buf_init(&d);
	buf_putc(&d, '{');
	buf_json_kv(&d, "reason", reason);
	buf_putc(&d, '}');
	ok = db_begin(db) == 0 &&
	    db_exec(db,
		"UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, "
		"totp_last_step = 0 WHERE id = ?",
		p, 1, NULL, NULL) == 0 &&
	    db_exec(db, "DELETE FROM mfa_recovery_codes WHERE user_id = ?", p,
		1, NULL, NULL) == 0 &&
	    auth_audit_tx(db, r, "mfa.reset", target, d.data) == 0 &&
	    db_commit(db) == 0;
	buf_free(&d);
	if (!ok)
		(void)db_rollback(db);
	return ok ? 0 : -1;
}

enum request_outcome
security_mfa_reset_post(struct app *app, struct request *r)
{
	struct form *f = form_new(reset_fields, RF__MAX);
	struct tval *ctx;
	struct user t;
	enum sec_target st;
	char login[40];

	if (f == NULL)
		return RQ_ERROR;
	ctx = auth_page_ctx(app, r, "security.title");
	if (form_parse(f, r->input.data, r->input.len) != 0) {
		(void)tval_set_str(ctx, "reset_login", form_echo(f, RF_LOGIN));
		(void)tval_set_str(
		    ctx, "reset_reason", form_echo(f, RF_REASON));
		auth_field_error(app, r, ctx, "reset_login_error", f, RF_LOGIN);
		auth_field_error(
		    app, r, ctx, "reset_reason_error", f, RF_REASON);
		(void)tval_set_str(
		    ctx, "alert", auth_msg(app, r, "security.invalid"));
		form_free(f);
		return security_page(app, r, ctx, 1, 422);
	}
	security_lower(form_str(f, RF_LOGIN), login, sizeof(login));
	(void)tval_set_str(ctx, "reset_login", login);
	(void)tval_set_str(ctx, "reset_reason", form_str(f, RF_REASON));
	st = security_target(app, r, login, &t);
	if (st != SEC_T_OK) {
		form_free(f);
		return security_target_refused(app, r, ctx, st);
	}
	if (!role_needs_mfa(t.role)) {
		form_free(f);
		(void)tval_set_str(
		    ctx, "alert", auth_msg(app, r, "security.no_factor"));
		return security_page(app, r, ctx, 1, 422);
	}
	if (security_mfa_clear(app, r, &t, form_str(f, RF_REASON)) != 0) {
		form_free(f);
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	form_free(f);
	/* A session opened with the old factor must not outlive it. */
	if (session_destroy_user(app_kv(app), t.id, NULL) != 0) {
		log_error("the sessions of user %s could not be ended after "
			  "the reset of their second factor",
		    t.public_id);
		(void)tval_set_str(
		    ctx, "alert", auth_msg(app, r, "security.sessions_failed"));
		return security_page(app, r, ctx, 1, 503);
	}
	tval_free(ctx);
	request_redirect(r, "/admin/security?done=mfa_reset");
	return RQ_OK;
}

enum { UF_LOGIN, UF_ADDRESS, UF_CSRF, UF__MAX };
static const struct form_field unlock_fields[UF__MAX] = {
    [UF_LOGIN] = {"login", FORM_PATTERN, 0, 1, 32, SEC_LOGIN},
    [UF_ADDRESS] = {"address", FORM_PATTERN, 0, 2, 45, SEC_ADDRESS},
    [UF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, SEC_CSRF},
};

/* Lifts the lock of an account within reach. */
static enum request_outcome
security_unlock_login(
    struct app *app, struct request *r, struct tval *ctx, const char *typed)
{
	struct user t;
	enum sec_target st;
	char login[40], target[64], detail[40];
	long secs;

	security_lower(typed, login, sizeof(login));
	(void)tval_set_str(ctx, "unlock_login", login);
	st = security_target(app, r, login, &t);
	if (st != SEC_T_OK)
		return security_target_refused(app, r, ctx, st);
	tval_free(ctx);
	secs = guard_login_locked(app_kv(app), t.login);
	if (secs < 0)
		return RQ_UNAVAILABLE;
	/* Audited before the change: Redis has no transaction to share
	 * with the audit log, and no change may go unrecorded. */
	str_printf(target, sizeof(target), "user:%s", t.login);
	str_printf(detail, sizeof(detail), "{\"was_locked\":%s}",
	    secs > 0 ? "true" : "false");
	if (auth_audit(app, r, "account.unlock", target, "success", detail) !=
		0 ||
	    guard_login_unlock(app_kv(app), t.login) != 0)
		return RQ_UNAVAILABLE;
	request_redirect(r,
	    secs > 0 ? "/admin/security?done=unlocked"
		     : "/admin/security?done=not_locked");
	return RQ_OK;
}

/* Lifts the block of an address (central staff only: an address is not
 * any one school's). */
static enum request_outcome
security_unblock_addr(
    struct app *app, struct request *r, struct tval *ctx, const char *typed)
{
	char addr[INET6_ADDRSTRLEN], target[80], detail[40];
	long secs;

	if (r->auth->u.role != ROLE_CENTRAL_STAFF) {
		tval_free(ctx);
		return auth_deny(app, r, "role", 0);
	}
	(void)tval_set_str(ctx, "unblock_address", typed);
	if (security_addr_canonical(typed, addr, sizeof(addr)) != 0) {
		(void)tval_set_str(ctx, "unblock_address_error",
		    auth_msg(app, r, "egress.bad_address"));
		(void)tval_set_str(
		    ctx, "alert", auth_msg(app, r, "security.invalid"));
		return security_page(app, r, ctx, 1, 422);
	}
	tval_free(ctx);
	secs = guard_addr_blocked(app_kv(app), addr);
	if (secs < 0)
		return RQ_UNAVAILABLE;
	str_printf(target, sizeof(target), "address:%s", addr);
	str_printf(detail, sizeof(detail), "{\"was_blocked\":%s}",
	    secs > 0 ? "true" : "false");
	if (auth_audit(app, r, "address.unblock", target, "success", detail) !=
		0 ||
	    guard_addr_unblock(app_kv(app), addr) != 0)
		return RQ_UNAVAILABLE;
	request_redirect(r,
	    secs > 0 ? "/admin/security?done=unblocked"
		     : "/admin/security?done=not_blocked");
	return RQ_OK;
}

enum request_outcome
security_unlock_post(struct app *app, struct request *r)
{
	struct form *f = form_new(unlock_fields, UF__MAX);
	struct tval *ctx;
	enum request_outcome o;
	int has_login, has_addr;

	if (f == NULL)
		return RQ_ERROR;
	ctx = auth_page_ctx(app, r, "security.title");
	if (form_parse(f, r->input.data, r->input.len) != 0) {
		(void)tval_set_str(ctx, "unlock_login", form_echo(f, UF_LOGIN));
		(void)tval_set_str(
		    ctx, "unblock_address", form_echo(f, UF_ADDRESS));
		auth_field_error(
		    app, r, ctx, "unlock_login_error", f, UF_LOGIN);
		auth_field_error(
		    app, r, ctx, "unblock_address_error", f, UF_ADDRESS);
		(void)tval_set_str(
		    ctx, "alert", auth_msg(app, r, "security.invalid"));
		form_free(f);
		return security_page(app, r, ctx, 1, 422);
	}
	/* Two forms post here: the account form sends login, the address
	 * form (central staff) sends address; exactly one is expected. */
	has_login = form_has(f, UF_LOGIN);
	has_addr = form_has(f, UF_ADDRESS);
	if (has_login == has_addr) {
		(void)tval_set_str(
		    ctx, "alert", auth_msg(app, r, "security.one_field"));
		form_free(f);
		return security_page(app, r, ctx, 1, 422);
	}
	o = has_login
	    ? security_unlock_login(app, r, ctx, form_str(f, UF_LOGIN))
	    : security_unblock_addr(app, r, ctx, form_str(f, UF_ADDRESS));
	form_free(f);
	return o;
}

/* ---------------------------------------------------- /alerts/:id/ack */

enum { AF_BACK, AF_CSRF, AF__MAX };
static const struct form_field ack_fields[AF__MAX] = {
    /* Where the button was: the home page's banner or /admin/security. */
    [AF_BACK] = {"back", FORM_ENUM, 0, 0, 0, "/|/admin/security"},
    [AF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, SEC_CSRF},
};

enum request_outcome
alert_ack_post(struct app *app, struct request *r)
{
	const struct user *u = &r->auth->u;
	const char *id = request_capture(r, "id");
	struct form *f = form_new(ack_fields, AF__MAX);
	struct db *db = app_db(app);
	struct db_param p[2];
	struct db_res *res;
	unsigned long long affected = 0;
	char target[64], back[32];
	struct buf d;
	uint64_t school;
	int ok;

	if (f == NULL)
		return RQ_ERROR;
	ok = form_parse(f, r->input.data, r->input.len) == 0;
	(void)str_copy(back, sizeof(back),
	    form_has(f, AF_BACK) ? form_str(f, AF_BACK) : "/");
	form_free(f);
	if (!ok)
		return RQ_BAD_REQUEST;
	if (id == NULL || !ids_public_valid(id))
		return RQ_NOT_FOUND;
	p[0] = DB_STR(id);
	res = db_query(db,
	    "SELECT COALESCE(school_id, 0), kind FROM alerts WHERE public_id "
	    "= ?",
	    p, 1);
	if (res == NULL)
		return RQ_UNAVAILABLE;
	if (db_res_rows(res) == 0) {
		db_res_free(res);
		return RQ_NOT_FOUND;
	}
	school = (uint64_t)db_res_int(res, 0, 0);
	if (u->role != ROLE_CENTRAL_STAFF &&
	    (school == 0 || school != u->school_id)) {
		db_res_free(res);
		return auth_deny(app, r, "other_school", 1);
	}
	str_printf(target, sizeof(target), "alert:%s", id);
	buf_init(&d);
	buf_putc(&d, '{');
	buf_json_kv(&d, "kind", db_res_get(res, 0, 1));
	buf_putc(&d, '}');
	db_res_free(res);
	p[0] = DB_INT((long long)u->id);
	p[1] = DB_STR(id);
	ok = db_begin(db) == 0 &&
	    db_exec(db,
		"UPDATE alerts SET acknowledged_at = UTC_TIMESTAMP(6), "
		"acknowledged_by = ? WHERE public_id = ? AND acknowledged_at "
		"IS NULL",
		p, 2, &affected, NULL) == 0;
	/* Acknowledged by someone else meanwhile: nothing changed, nothing
	 * to record, and the alert is handled all the same. */
	if (ok && affected > 0)
		ok = auth_audit_tx(
			 db, r, "alert.acknowledge", target, d.data) == 0;
	ok = ok && db_commit(db) == 0;
	buf_free(&d);
	if (!ok) {
		(void)db_rollback(db);
		return RQ_UNAVAILABLE;
	}
	request_redirect(r,
	    strcmp(back, "/admin/security") == 0
		? "/admin/security?done=alert_ack"
		: "/");
	return RQ_OK;
}
