/*
 * auth: the gate in front of every handler and the helpers every page
 * shares (see auth.h). The order of the gate is fixed: session, user,
 * CSRF, then the pending steps, then roles; a handler that runs may rely on
 * all of them. Every refusal of authorization is audited as access.denied.
 */
#include "auth.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "app.h"
#include "alert.h"
#include "audit.h"
#include "conf.h"
#include "form.h"
#include "i18n.h"
#include "log.h"
#include "page.h"
#include "router.h"
#include "template.h"
#include "util.h"

static const char *const role_names[ROLE__MAX] = {
    [ROLE_STUDENT] = "student",
    [ROLE_TEACHER] = "teacher",
    [ROLE_SCHOOL_ADMIN] = "school_admin",
    [ROLE_CENTRAL_STAFF] = "central_staff",
    [ROLE_AUDITOR] = "auditor",
};

static const char *const status_names[USER_STATUS__MAX] = {
    [USER_PENDING] = "pending",
    [USER_ACTIVE] = "active",
    [USER_DISABLED] = "disabled",
};

const char *
role_name(enum role role)
{
	return role < ROLE__MAX ? role_names[role] : "unknown";
}

int
role_parse(const char *s)
{
	int i;

	for (i = 0; i < ROLE__MAX; i++)
		if (s != NULL && strcmp(s, role_names[i]) == 0)
			return i;
	return -1;
}

int
role_needs_mfa(enum role role)
{
	return role == ROLE_SCHOOL_ADMIN || role == ROLE_CENTRAL_STAFF ||
	    role == ROLE_AUDITOR;
}

static const char *const user_sql =
    "SELECT u.id, u.public_id, u.login, u.name, u.role, u.status, "
    "COALESCE(u.school_id, 0), COALESCE(s.public_id, ''), "
    "COALESCE(s.code, ''), COALESCE(s.name, ''), "
    "COALESCE(TIMESTAMPDIFF(SECOND, u.password_changed_at, "
    "UTC_TIMESTAMP(6)), -1), u.totp_enabled_at IS NOT NULL, "
    "COALESCE(u.privacy_version, ''), "
    "COALESCE(DATE_FORMAT(u.birth_date, '%Y-%m-%d'), ''), "
    "COALESCE(u.national_id_hmac, ''), "
    /* unread certification results (a student's home page shows them):
     * asked here, in the one query every request makes, rather than in
     * a query of the home page's own (issue 7's notices_student) */
    "EXISTS (SELECT 1 FROM students st JOIN items it ON it.school_id = "
    "st.school_id AND it.student_id = st.id WHERE st.user_id = u.id AND "
    "it.cert_notice = 1 AND it.deleted_at IS NULL) "
    "FROM users u LEFT JOIN schools s ON s.id = u.school_id ";

static int
auth_user_fill(const struct db_res *res, struct user *u)
{
	const char *st = db_res_get(res, 0, 5);
	int role = role_parse(db_res_get(res, 0, 4)), i;

	memset(u, 0, sizeof(*u));
	if (role < 0 || st == NULL)
		return -1;
	u->id = (uint64_t)db_res_int(res, 0, 0);
	u->role = (enum role)role;
	u->status = USER_DISABLED;
	for (i = 0; i < USER_STATUS__MAX; i++)
		if (strcmp(st, status_names[i]) == 0)
			u->status = (enum user_status)i;
	u->school_id = (uint64_t)db_res_int(res, 0, 6);
	u->password_age = db_res_int(res, 0, 10);
	u->totp_enabled = db_res_int(res, 0, 11) != 0;
	u->cert_notice = db_res_int(res, 0, 15) != 0;
	if (str_copy(u->public_id, sizeof(u->public_id),
		db_res_get(res, 0, 1)) != 0 ||
	    str_copy(u->login, sizeof(u->login), db_res_get(res, 0, 2)) != 0 ||
	    str_copy(u->name, sizeof(u->name), db_res_get(res, 0, 3)) != 0 ||
	    str_copy(u->school_public_id, sizeof(u->school_public_id),
		db_res_get(res, 0, 7)) != 0 ||
	    str_copy(u->school_code, sizeof(u->school_code),
		db_res_get(res, 0, 8)) != 0 ||
	    str_copy(u->school_name, sizeof(u->school_name),
		db_res_get(res, 0, 9)) != 0 ||
	    str_copy(u->privacy_version, sizeof(u->privacy_version),
		db_res_get(res, 0, 12)) != 0 ||
	    str_copy(u->birth_date, sizeof(u->birth_date),
		db_res_get(res, 0, 13)) != 0 ||
	    str_copy(u->national_id_hmac, sizeof(u->national_id_hmac),
		db_res_get(res, 0, 14)) != 0)
		return -1;
	return 0;
}

void
auth_login_lower(const char *in, char *out, size_t outlen)
{
	size_t i;

	if (outlen == 0)
		return;
	for (i = 0; in[i] != '\0' && i + 1 < outlen; i++)
		out[i] =
		    (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] + 32) : in[i];
	out[i] = '\0';
}

int
auth_user_load(struct app *app, uint64_t id, const char *login, struct user *u)
{
	struct buf sql;
	struct db_param p[1];
	struct db_res *res;
	int rc;

	buf_init(&sql);
	buf_puts(&sql, user_sql);
	if (login != NULL) {
		buf_puts(&sql, "WHERE u.login = ?");
		p[0] = DB_STR(login);
	} else {
		buf_puts(&sql, "WHERE u.id = ?");
		p[0] = DB_INT((long long)id);
	}
	res = db_query(app_db(app), sql.data, p, 1);
	buf_free(&sql);
	if (res == NULL)
		return -1;
	if (db_res_rows(res) == 0)
		rc = 0;
	else
		rc = auth_user_fill(res, u) == 0 ? 1 : -1;
	if (rc < 0)
		log_error("user row %s is malformed",
		    login != NULL ? login : "(by id)");
	db_res_free(res);
	return rc;
}

/* The page the user must visit before any other, or NULL. */
static const char *
auth_step(const struct app *app, struct auth *a)
{
	const struct conf *c = app->conf;

	a->pw_days_left = 0;
	/* Whole days left, rounded up: the warning of warn_days starts
	 * exactly warn_days before expiry. */
	if (a->u.password_age >= 0) {
		int64_t left =
		    (int64_t)c->pw_max_age_days * 86400 - a->u.password_age;

		a->pw_days_left = left > 0 ? (long)((left + 86399) / 86400)
					   : (long)(left / 86400);
	}
	if (a->s.state == SESSION_MFA)
		return "/login/totp";
	if (strcmp(a->u.privacy_version, c->privacy_version) != 0)
		return "/privacy";
	if (a->u.password_age < 0 ||
	    a->u.password_age >= (int64_t)c->pw_max_age_days * 86400)
		return "/password";
	if (role_needs_mfa(a->u.role) && !a->u.totp_enabled)
		return "/mfa/setup";
	return NULL;
}

/* Loads the session of the cookie and its user. RQ_OK or an error. */
static enum request_outcome
auth_load(struct app *app, struct request *r, struct auth *a)
{
	char token[IDS_TOKEN_LEN + 2];
	int rc;

	if (request_cookie(r, AUTH_COOKIE, token, sizeof(token)) != 1)
		return RQ_OK;
	rc = session_load(app_kv(app), app->conf, token, &a->s);
	OPENSSL_cleanse(token, sizeof(token));
	if (rc < 0)
		return RQ_UNAVAILABLE;
	if (rc == 0)
		return RQ_OK;
	a->has_session = 1;
	if (a->s.user_id == 0)
		return RQ_OK;
	rc = auth_user_load(app, a->s.user_id, NULL, &a->u);
	if (rc < 0)
		return RQ_UNAVAILABLE;
	if (rc == 0 || a->u.status != USER_ACTIVE) {
		/* Disabled (or removed) since sign-in: the session ends. */
		(void)session_destroy(app_kv(app), &a->s);
		memset(&a->s, 0, sizeof(a->s));
		memset(&a->u, 0, sizeof(a->u));
		a->has_session = 0;
		return RQ_OK;
	}
	a->step = auth_step(app, a);
	a->signed_in = a->s.state == SESSION_FULL;
	return RQ_OK;
}

/* The CSRF token of a POST, from its urlencoded body. */
static int
auth_csrf_ok(struct request *r, const struct auth *a)
{
	char tok[IDS_TOKEN_LEN + 2];
	int rc;

	if (!a->has_session || !request_is_form(r) || r->input.data == NULL)
		return 0;
	rc = request_query_get(r->input.data, "csrf", tok, sizeof(tok));
	if (rc != 1)
		return 0;
	rc = session_csrf_ok(&a->s, tok);
	OPENSSL_cleanse(tok, sizeof(tok));
	return rc;
}

int
auth_csrf_token_ok(const struct request *r, const char *token)
{
	const struct auth *a = r->auth;

	if (a == NULL || !a->has_session || token == NULL)
		return 0;
	return session_csrf_ok(&a->s, token);
}

enum request_outcome
auth_csrf_refuse(struct app *app, struct request *r)
{
	/* Nothing changes; the page says the form expired, which is what an
	 * honest user has hit. */
	(void)auth_deny(app, r, "csrf", 0);
	return auth_render(
	    app, r, "csrf", auth_page_ctx(app, r, "form.csrf_title"), 403);
}

int
auth_mp_csrf_begin(
    struct auth_mp_csrf *c, size_t n, const char *name, int is_file)
{
	if (n == 1) {
		if (is_file || strcmp(name, "csrf") != 0) {
			c->bad = 1;
			return -1;
		}
		return 1;
	}
	return c->ok ? 0 : -1;
}

void
auth_mp_csrf_data(struct auth_mp_csrf *c, const char *data, size_t n)
{
	if (c->len + n > IDS_TOKEN_LEN) {
		c->too_long = 1;
		return;
	}
	memcpy(c->token + c->len, data, n);
	c->len += n;
}

int
auth_mp_csrf_end(struct auth_mp_csrf *c, const struct request *r)
{
	c->token[c->len] = '\0';
	if (c->too_long || !auth_csrf_token_ok(r, c->token)) {
		c->bad = 1;
		return -1;
	}
	c->ok = 1;
	return 0;
}

int
auth_mp_csrf_refused(const struct auth_mp_csrf *c, int mp_ok)
{
	return c->bad || (!c->ok && mp_ok);
}

void
auth_mp_csrf_clear(struct auth_mp_csrf *c)
{
	OPENSSL_cleanse(c, sizeof(*c));
}

/* GETs are sent to the pending step; anything else is refused. */
static enum request_outcome
auth_redirect_or(struct request *r, const char *to, int *answered)
{
	if (r->method == HTTP_GET || r->method == HTTP_HEAD) {
		request_redirect(r, to);
		*answered = 1;
		return RQ_OK;
	}
	return RQ_FORBIDDEN;
}

/*
 * Does the pending step keep the user from rt? A session that has passed
 * only the password reaches nothing but the second step and sign-out;
 * other steps leave the pages marked ROUTE_STEP (the notice, sign-out,
 * sign out everywhere) reachable too.
 */
static int
auth_step_blocks(const struct auth *a, const struct route *rt)
{
	if (a->step == NULL || strcmp(rt->pattern, a->step) == 0)
		return 0;
	if (a->s.state == SESSION_MFA)
		return strcmp(rt->pattern, "/logout") != 0;
	return !(rt->flags & ROUTE_STEP);
}

/* GETs go to the pending step; anything else is refused with a page that
 * says which step comes first, and changes nothing. */
static enum request_outcome
auth_step_refuse(struct app *app, struct request *r, int *answered)
{
	const char *step = r->auth->step, *name;
	struct tval *ctx;
	char key[48];

	if (r->method == HTTP_GET || r->method == HTTP_HEAD)
		return auth_redirect_or(r, step, answered);
	(void)auth_deny(app, r, "step", 0);
	if (strcmp(step, "/login/totp") == 0)
		name = "totp";
	else if (strcmp(step, "/privacy") == 0)
		name = "privacy";
	else if (strcmp(step, "/password") == 0)
		name = "password";
	else
		name = "mfa_setup";
	str_printf(key, sizeof(key), "step.%s", name);
	ctx = auth_page_ctx(app, r, "step.title");
	(void)tval_set_str(ctx, "text", auth_msg(app, r, key));
	(void)tval_set_str(ctx, "href", step);
	*answered = 1;
	return auth_render(app, r, "step", ctx, 403);
}

enum request_outcome
auth_gate(
    struct app *app, struct request *r, const struct route *rt, int *answered)
{
	struct auth *a = r->auth;
	char lang[8];
	unsigned need = rt->flags;
	enum request_outcome o;

	*answered = 0;
	memset(a, 0, sizeof(*a));
	a->lang = i18n_pick_lang(
	    request_cookie(r, AUTH_LANG_COOKIE, lang, sizeof(lang)) == 1 ? lang
									 : NULL,
	    request_param(r, "HTTP_ACCEPT_LANGUAGE"));
	(void)str_copy(a->ip, sizeof(a->ip), r->remote_addr);
	if (!(need & (ROUTE_SESSION | ROUTE_USER)))
		return RQ_OK;
	if ((o = auth_load(app, r, a)) != RQ_OK)
		return o;
	if (r->method == HTTP_POST && !(need & ROUTE_MULTIPART)) {
		o = request_read_body(r, AUTH_FORM_MAX);
		if (o != RQ_OK)
			return o;
		if (!auth_csrf_ok(r, a)) {
			*answered = 1;
			return auth_csrf_refuse(app, r);
		}
	}
	if (!(need & ROUTE_USER))
		return RQ_OK;
	if (a->s.user_id == 0)
		return auth_redirect_or(r, "/login", answered);
	if (auth_step_blocks(a, rt))
		return auth_step_refuse(app, r, answered);
	if ((need & ~0xffu) != 0 && !(need & ROUTE_ROLE(a->u.role)))
		return auth_deny(app, r, "role", 0);
	return RQ_OK;
}

void
auth_end(struct request *r)
{
	if (r->auth != NULL)
		OPENSSL_cleanse(r->auth, sizeof(*r->auth));
	r->auth = NULL;
}

int
auth_session_new(struct app *app, struct request *r, uint64_t user_id,
    enum session_state state)
{
	struct auth *a = r->auth;
	struct session s;
	int rc;

	if (a->has_session)
		(void)session_destroy(app_kv(app), &a->s);
	a->has_session = 0;
	if (session_create(app_kv(app), app->conf, user_id, state, &s) != 0)
		return -1;
	rc = request_set_cookie(r, AUTH_COOKIE, s.token, -1);
	OPENSSL_cleanse(s.token, sizeof(s.token));
	if (rc != 0)
		return -1;
	a->s = s;
	a->has_session = 1;
	a->signed_in = user_id != 0 && state == SESSION_FULL;
	return 0;
}

void
auth_session_end(struct app *app, struct request *r)
{
	struct auth *a = r->auth;

	if (a->has_session)
		(void)session_destroy(app_kv(app), &a->s);
	memset(&a->s, 0, sizeof(a->s));
	a->has_session = a->signed_in = 0;
	(void)request_set_cookie(r, AUTH_COOKIE, "", 0);
}

int
auth_session_ensure(struct app *app, struct request *r)
{
	if (r->auth->has_session)
		return 0;
	return auth_session_new(app, r, 0, SESSION_FULL);
}

int
auth_audit_as(struct app *app, const struct request *r, const char *actor,
    const char *role, const char *school, const char *event, const char *target,
    const char *outcome, const char *detail)
{
	struct audit_event ev = {
	    .actor = actor,
	    .role = role,
	    .school = school != NULL && school[0] != '\0' ? school : NULL,
	    .ip = r->auth->ip,
	    .event = event,
	    .target = target,
	    .outcome = outcome,
	    .detail = detail,
	};

	return audit_append(app_db(app), &ev);
}

int
auth_audit(struct app *app, const struct request *r, const char *event,
    const char *target, const char *outcome, const char *detail)
{
	const struct auth *a = r->auth;

	if (a->s.user_id == 0)
		return auth_audit_as(app, r, "anonymous", "anonymous", NULL,
		    event, target, outcome, detail);
	return auth_audit_as(app, r, a->u.login, role_name(a->u.role),
	    a->u.school_code, event, target, outcome, detail);
}

int
auth_alert_as(struct app *app, const char *ip, const char *school_code,
    const char *kind, uint64_t school_id, const char *detail)
{
	struct db *db = app_db(app);

	/* The alert concerns school_id, whoever (or no one) was signed in;
	 * the signed-in user's school names it only when it has no id. */
	if (db_begin(db) != 0)
		return -1;
	if (alert_raise_tx(db, school_id, school_code, kind, ip, detail) != 0 ||
	    db_commit(db) != 0) {
		(void)db_rollback(db);
		return -1;
	}
	return 0;
}

int
auth_alert(struct app *app, const struct request *r, const char *kind,
    uint64_t school_id, const char *detail)
{
	const struct auth *a = r->auth;

	return auth_alert_as(
	    app, a->ip, a->u.school_code, kind, school_id, detail);
}

int
auth_egress(struct app *app, const struct request *r, uint64_t *school_id)
{
	struct db_param p[1] = {DB_STR(r->auth->ip)};
	struct db_res *res;
	int rc;

	*school_id = 0;
	res = db_query(app_db(app),
	    "SELECT school_id FROM school_egress WHERE address = ? LIMIT 1", p,
	    1);
	if (res == NULL)
		return -1;
	rc = db_res_rows(res) > 0;
	if (rc)
		*school_id = (uint64_t)db_res_int(res, 0, 0);
	db_res_free(res);
	return rc;
}

enum request_outcome
auth_deny(struct app *app, struct request *r, const char *reason, int not_found)
{
	struct buf d;

	buf_init(&d);
	buf_putc(&d, '{');
	buf_json_kv(&d, "reason", reason);
	buf_json_kv(&d, "method", r->method_name);
	buf_json_kv(&d, "path", r->path);
	buf_putc(&d, '}');
	(void)auth_audit(
	    app, r, "access.denied", r->route_name, "denied", d.data);
	buf_free(&d);
	return not_found ? RQ_NOT_FOUND : RQ_FORBIDDEN;
}

const char *
auth_msg(struct app *app, const struct request *r, const char *key)
{
	return i18n_get(app->msgs, r->auth->lang, key);
}

const char *
auth_msg_n(struct app *app, const struct request *r, const char *key, long n,
    char *out, size_t outlen)
{
	const char *m = auth_msg(app, r, key), *p;
	struct buf b;

	buf_init(&b);
	while ((p = strstr(m, "{n}")) != NULL) {
		buf_append(&b, m, (size_t)(p - m));
		buf_printf(&b, "%ld", n);
		m = p + 3;
	}
	buf_puts(&b, m);
	(void)str_copy(out, outlen, b.data != NULL ? b.data : "");
	buf_free(&b);
	return out;
}

/* One navigation entry: href is a fixed path from code. */
static void
auth_nav(struct app *app, struct request *r, struct tval *nav, const char *href,
    const char *label_key)
{
	struct tval *item = tval_obj();

	(void)tval_set_str(item, "href", href);
	(void)tval_set_str(item, "label", auth_msg(app, r, label_key));
	(void)tval_set_bool(item, "current", strcmp(r->path, href) == 0);
	(void)tval_push(nav, item);
}

static void
auth_nav_for(struct app *app, struct request *r, struct tval *nav)
{
	enum role role = r->auth->u.role;

	auth_nav(app, r, nav, "/", "nav.home");
	if (role == ROLE_STUDENT) {
		auth_nav(app, r, nav, "/items", "nav.items");
		auth_nav(app, r, nav, "/me/records", "nav.my_records");
	}
	if (role == ROLE_TEACHER) {
		auth_nav(app, r, nav, "/teacher/courses", "nav.my_courses");
		auth_nav(app, r, nav, "/certify", "nav.certify");
	}
	if (role == ROLE_SCHOOL_ADMIN) {
		auth_nav(app, r, nav, "/admin/students", "nav.students");
		auth_nav(app, r, nav, "/admin/teachers", "nav.teachers");
		auth_nav(app, r, nav, "/admin/courses", "nav.courses");
		auth_nav(app, r, nav, "/admin/classes", "nav.classes");
		auth_nav(app, r, nav, "/admin/terms", "nav.terms");
		auth_nav(app, r, nav, "/admin/windows", "nav.windows");
		auth_nav(app, r, nav, "/admin/deadlines", "nav.deadlines");
		auth_nav(app, r, nav, "/admin/standins", "nav.standins");
		auth_nav(app, r, nav, "/admin/import", "nav.import");
		auth_nav(app, r, nav, "/admin/accounts", "nav.accounts");
		auth_nav(app, r, nav, "/admin/egress", "nav.egress");
		auth_nav(app, r, nav, "/admin/security", "nav.security");
	}
	if (role == ROLE_CENTRAL_STAFF)
		auth_nav(app, r, nav, "/admin/security", "nav.security");
	if (role == ROLE_AUDITOR)
		auth_nav(app, r, nav, "/audit", "nav.audit");
	auth_nav(app, r, nav, "/account", "nav.account");
}

struct tval *
auth_page_ctx(struct app *app, struct request *r, const char *title_key)
{
	struct auth *a = r->auth;
	struct tval *ctx = tval_obj(), *user, *nav;

	if (title_key != NULL)
		(void)tval_set_str(ctx, "title", auth_msg(app, r, title_key));
	(void)tval_set_str(ctx, "lang", a->lang);
	if (a->has_session)
		(void)tval_set_str(ctx, "csrf", a->s.csrf);
	if (a->s.user_id == 0)
		return ctx;
	user = tval_obj();
	(void)tval_set_str(user, "name", a->u.name);
	(void)tval_set_str(user, "login", a->u.login);
	{
		char key[48];

		str_printf(key, sizeof(key), "role.%s", role_name(a->u.role));
		(void)tval_set_str(user, "role", auth_msg(app, r, key));
	}
	(void)tval_set_str(user, "school", a->u.school_name);
	(void)tval_set(ctx, "user", user);
	if (a->signed_in && a->step == NULL) {
		nav = tval_list();
		auth_nav_for(app, r, nav);
		(void)tval_set(ctx, "nav", nav);
	}
	return ctx;
}

enum request_outcome
auth_render(struct app *app, struct request *r, const char *body_template,
    struct tval *ctx, int status)
{
	int rc = page_render(
	    app->tmpl, app->msgs, r->auth->lang, body_template, ctx, &r->body);

	tval_free(ctx);
	if (rc != 0) {
		buf_reset(&r->body);
		return RQ_ERROR;
	}
	/* request_send marks every response Cache-Control: no-store. */
	request_ok(r, status, "text/html; charset=utf-8");
	return RQ_OK;
}

int
auth_audit_tx(struct db *db, const struct request *r, const char *event,
    const char *target, const char *detail)
{
	const struct auth *a = r->auth;
	struct audit_event ev = {
	    .actor = a->u.login,
	    .role = role_name(a->u.role),
	    .school = a->u.school_code[0] != '\0' ? a->u.school_code : NULL,
	    .ip = a->ip,
	    .event = event,
	    .target = target,
	    .outcome = "success",
	    .detail = detail,
	};

	return audit_append_tx(db, &ev);
}

int
auth_csrf_form_ok(const struct request *r)
{
	const struct form_field fields[1] = {
	    {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, AUTH_CSRF_PATTERN},
	};
	struct form *f = form_new(fields, 1);
	int ok;

	if (f == NULL)
		return 0;
	ok = form_parse(f, r->input.data, r->input.len) == 0;
	form_free(f);
	return ok;
}

void
auth_field_error(struct app *app, struct request *r, struct tval *ctx,
    const char *key, const struct form *f, size_t i)
{
	enum form_error e = form_error(f, i);
	char mk[64];

	if (e == FORM_E_OK)
		return;
	str_printf(mk, sizeof(mk), "form.error.%s", form_error_name(e));
	(void)tval_set_str(ctx, key, auth_msg(app, r, mk));
}

long
auth_page_query(struct app *app, struct request *r, struct tval *ctx,
    const char *words, const char *section)
{
	enum { QF_DONE, QF_PAGE, QF__MAX };
	const struct form_field fields[QF__MAX] = {
	    [QF_DONE] = {"done", FORM_ENUM, 0, 0, 0, words},
	    [QF_PAGE] = {"page", FORM_INT, 0, 1, 100000, NULL},
	};
	struct form *f = form_new(fields, QF__MAX);
	char key[96];
	long page = 1;

	if (f == NULL)
		return 1;
	(void)form_parse(f, r->query, strlen(r->query));
	if (form_error(f, QF_DONE) == FORM_E_OK && form_has(f, QF_DONE)) {
		str_printf(key, sizeof(key), "%s.done.%s", section,
		    form_str(f, QF_DONE));
		(void)tval_set_str(ctx, "notice", auth_msg(app, r, key));
	}
	if (form_error(f, QF_PAGE) == FORM_E_OK && form_has(f, QF_PAGE))
		page = (long)form_int(f, QF_PAGE);
	form_free(f);
	return page;
}
