/*
 * login: GET/POST /login, the second step GET/POST /login/totp, POST
 * /logout and POST /logout/all ("sign out everywhere"). An unknown login
 * and a wrong password get the same page in the same time: the same
 * scrypt work, the same message, the same counters. A session is created
 * fresh at every change of who is signed in, so a token planted before
 * sign-in is worthless after it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "account.h"
#include "app.h"
#include "auth.h"
#include "conf.h"
#include "form.h"
#include "guard.h"
#include "log.h"
#include "mfa.h"
#include "router.h"
#include "template.h"
#include "util.h"

#define LOGIN_CSRF_PATTERN AUTH_CSRF_PATTERN

enum { LF_LOGIN, LF_PASSWORD, LF_CSRF, LF__MAX };
static const struct form_field login_fields[LF__MAX] = {
    [LF_LOGIN] = {"login", FORM_TEXT, FORM_REQUIRED, 1, 64, NULL},
    [LF_PASSWORD] = {"password", FORM_PASSWORD, FORM_REQUIRED, 1, 256, NULL},
    [LF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43,
	LOGIN_CSRF_PATTERN},
};

enum { TF_TOTP, TF_CSRF, TF__MAX };
static const struct form_field totp_fields[TF__MAX] = {
    [TF_TOTP] = {"totp", FORM_PATTERN, FORM_REQUIRED, 6, 13,
	"[0-9 ]{6,7}|[0-9A-Za-z]{5}-?[0-9A-Za-z]{5}"},
    [TF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43,
	LOGIN_CSRF_PATTERN},
};

/* The sign-in form, with an optional message (a key) and the login typed. */
static enum request_outcome
login_page(struct app *app, struct request *r, const char *alert_key,
    long minutes, const char *login, int status)
{
	struct tval *ctx;
	char text[512];

	if (auth_session_ensure(app, r) != 0)
		return RQ_UNAVAILABLE;
	ctx = auth_page_ctx(app, r, "login.title");
	if (alert_key != NULL) {
		const char *m =
		    auth_msg_n(app, r, alert_key, minutes, text, sizeof(text));

		(void)tval_set_str(ctx, "alert", m);
	}
	if (login != NULL)
		(void)tval_set_str(ctx, "login", login);
	{
		char q[32];

		if (request_query_get(r->query, "done", q, sizeof(q)) == 1)
			(void)tval_set_str(ctx, "notice",
			    auth_msg(app, r,
				strcmp(q, "activated") == 0
				    ? "login.activated"
				    : "login.signed_out"));
	}
	return auth_render(app, r, "login", ctx, status);
}

enum request_outcome
login_get(struct app *app, struct request *r)
{
	if (r->auth->signed_in && r->auth->step == NULL) {
		request_redirect(r, "/");
		return RQ_OK;
	}
	return login_page(app, r, NULL, 0, NULL, 200);
}

/* Counts a failure of login from this address: the account's lock, the
 * address's distinct logins, and the alert when a threshold is crossed. */
static void
login_count_failure(
    struct app *app, struct request *r, const char *login, const struct user *u)
{
	enum guard_verdict v;
	uint64_t school = 0;
	long n = 0;
	int egress, locked;
	char target[64], detail[160];

	str_printf(target, sizeof(target), "user:%s", login);
	locked = guard_login_failed(app_kv(app), app->conf, login);
	if (locked == 1)
		(void)auth_audit_as(app, r, login,
		    u != NULL ? role_name(u->role) : "anonymous",
		    u != NULL ? u->school_code : NULL, "account.locked", target,
		    "alert", NULL);
	egress = auth_egress(app, r, &school);
	if (egress < 0)
		egress = 0;
	if (guard_addr_note(app_kv(app), app->conf, GUARD_SIGNIN, r->auth->ip,
		login, egress, &v, &n) != 0 ||
	    v == GUARD_QUIET)
		return;
	str_printf(detail, sizeof(detail),
	    "{\"accounts\":%ld,\"window_s\":%d,\"egress\":%s}", n,
	    app->conf->detect_window, egress ? "true" : "false");
	(void)auth_alert(app, r,
	    v == GUARD_BLOCKED ? "signin_many_accounts.blocked"
			       : "signin_many_accounts.egress",
	    school != 0 ? school : (u != NULL ? u->school_id : 0), detail);
}

static void
login_audit_failure(struct app *app, struct request *r, const char *login,
    const struct user *u, const char *reason)
{
	char target[64], detail[96];

	str_printf(target, sizeof(target), "user:%s", login);
	str_printf(detail, sizeof(detail), "{\"reason\":\"%s\"}", reason);
	(void)auth_audit_as(app, r, login,
	    u != NULL ? role_name(u->role) : "anonymous",
	    u != NULL ? u->school_code : NULL, "login.failure", target,
	    "failure", detail);
}

/* Sign-in has succeeded with the password: a new session, full or
 * waiting for the second factor. */
static enum request_outcome
login_success(struct app *app, struct request *r, const struct user *u)
{
	struct db_param p[1] = {DB_INT((long long)u->id)};
	int mfa = role_needs_mfa(u->role) && u->totp_enabled;
	char target[64];

	guard_login_clear(app_kv(app), u->login);
	if (auth_session_new(app, r, u->id, mfa ? SESSION_MFA : SESSION_FULL) !=
	    0)
		return RQ_UNAVAILABLE;
	r->auth->u = *u;
	str_printf(target, sizeof(target), "user:%s", u->login);
	if (mfa) {
		(void)auth_audit(app, r, "login.password_ok", target, "success",
		    "{\"next\":\"totp\"}");
		request_redirect(r, "/login/totp");
		return RQ_OK;
	}
	(void)db_exec(app_db(app),
	    "UPDATE users SET last_login_at = UTC_TIMESTAMP(6) WHERE id = ?", p,
	    1, NULL, NULL);
	(void)auth_audit(app, r, "login.success", target, "success", NULL);
	request_redirect(r, "/");
	return RQ_OK;
}

/* A stored hash whose scrypt parameters are not the configured ones is
 * replaced now that the password is known to be right. */
static void
login_rehash(
    struct app *app, const struct user *u, const char *stored, const char *pw)
{
	struct passhash_params pp = {app->conf->pw_scrypt_log2_n,
	    app->conf->pw_scrypt_r, app->conf->pw_scrypt_p};
	char h[PASSHASH_MAX];
	struct db_param p[2];

	if (!passhash_needs_rehash(stored, &pp) ||
	    account_hash(app, pw, h) != ACCOUNT_HASH_OK)
		return;
	p[0] = DB_STR(h);
	p[1] = DB_INT((long long)u->id);
	if (db_exec(app_db(app),
		"UPDATE users SET password_hash = ? WHERE id = ?", p, 2, NULL,
		NULL) == 0)
		log_info("re-hashed the password of user %s with the "
			 "configured scrypt parameters",
		    u->public_id);
	OPENSSL_cleanse(h, sizeof(h));
}

enum request_outcome
login_post(struct app *app, struct request *r)
{
	struct form *f = form_new(login_fields, LF__MAX);
	char login[72], stored[PASSHASH_MAX];
	struct user u;
	enum request_outcome o;
	enum account_hash h;
	long secs;
	int found = 0, match = 0;

	if (f == NULL)
		return RQ_ERROR;
	stored[0] = '\0';
	if (form_parse(f, r->input.data, r->input.len) != 0) {
		o = login_page(
		    app, r, "login.failed", 0, form_echo(f, LF_LOGIN), 200);
		goto out;
	}
	auth_login_lower(form_str(f, LF_LOGIN), login, sizeof(login));
	secs = guard_addr_blocked(app_kv(app), r->auth->ip);
	if (secs < 0) {
		o = RQ_UNAVAILABLE;
		goto out;
	}
	if (secs > 0) {
		login_audit_failure(app, r, login, NULL, "address_blocked");
		o = login_page(
		    app, r, "login.blocked", (secs + 59) / 60, login, 429);
		goto out;
	}
	secs = guard_login_locked(app_kv(app), login);
	if (secs < 0) {
		o = RQ_UNAVAILABLE;
		goto out;
	}
	if (secs > 0) {
		login_audit_failure(app, r, login, NULL, "locked");
		o = login_page(
		    app, r, "login.locked", (secs + 59) / 60, login, 200);
		goto out;
	}
	found = auth_user_load(app, 0, login, &u);
	if (found < 0 ||
	    (found == 1 &&
		account_current_hash(app, u.id, stored, sizeof(stored)) != 0)) {
		o = RQ_UNAVAILABLE;
		goto out;
	}
	h = account_verify(app, found == 1 && stored[0] != '\0' ? stored : NULL,
	    form_str(f, LF_PASSWORD), &match);
	if (h != ACCOUNT_HASH_OK) {
		o = h == ACCOUNT_HASH_BUSY
		    ? login_page(app, r, "login.busy", 0, login, 503)
		    : RQ_ERROR;
		goto out;
	}
	if (!match || found != 1 || u.status != USER_ACTIVE) {
		login_audit_failure(app, r, login, found == 1 ? &u : NULL,
		    !match || found != 1 ? "bad_credentials" : "not_active");
		login_count_failure(app, r, login, found == 1 ? &u : NULL);
		/* Whether this failure locked the login is told only at the
		 * next attempt, as for any locked login. */
		o = login_page(app, r, "login.failed", 0, login, 200);
		goto out;
	}
	login_rehash(app, &u, stored, form_str(f, LF_PASSWORD));
	o = login_success(app, r, &u);
out:
	OPENSSL_cleanse(stored, sizeof(stored));
	form_free(f);
	return o;
}

static enum request_outcome
login_totp_page(
    struct app *app, struct request *r, const char *alert_key, int status)
{
	struct tval *ctx = auth_page_ctx(app, r, "login.totp_title");

	if (alert_key != NULL)
		(void)tval_set_str(ctx, "alert", auth_msg(app, r, alert_key));
	return auth_render(app, r, "login_totp", ctx, status);
}

enum request_outcome
login_totp_get(struct app *app, struct request *r)
{
	if (r->auth->s.state != SESSION_MFA) {
		request_redirect(r, "/");
		return RQ_OK;
	}
	return login_totp_page(app, r, NULL, 200);
}

enum request_outcome
login_totp_post(struct app *app, struct request *r)
{
	struct form *f;
	struct user u;
	struct db_param p[1];
	enum request_outcome o;
	char target[64];
	int recovery = 0, rc;

	if (r->auth->s.state != SESSION_MFA) {
		request_redirect(r, "/");
		return RQ_OK;
	}
	u = r->auth->u;
	str_printf(target, sizeof(target), "user:%s", u.login);
	/* A lock (five wrong codes in any session) holds here too, or every
	 * session opened in advance would bring five more guesses. */
	{
		long secs = guard_login_locked(app_kv(app), u.login);

		if (secs < 0)
			return RQ_UNAVAILABLE;
		if (secs > 0) {
			login_audit_failure(app, r, u.login, &u, "locked");
			auth_session_end(app, r);
			return login_page(app, r, "login.locked",
			    (secs + 59) / 60, u.login, 200);
		}
	}
	f = form_new(totp_fields, TF__MAX);
	if (f == NULL)
		return RQ_ERROR;
	rc = form_parse(f, r->input.data, r->input.len) == 0
	    ? mfa_verify(app, &u, form_str(f, TF_TOTP), &recovery)
	    : 0;
	form_free(f);
	if (rc < 0)
		return RQ_UNAVAILABLE;
	if (rc == 0) {
		(void)auth_audit(
		    app, r, "mfa.failure", target, "failure", NULL);
		if (guard_login_failed(app_kv(app), app->conf, u.login) == 1) {
			(void)auth_audit(app, r, "account.locked", target,
			    "alert", "{\"factor\":\"totp\"}");
			auth_session_end(app, r);
			return login_page(app, r, "login.locked",
			    (app->conf->lock_duration + 59) / 60, u.login, 200);
		}
		return login_totp_page(app, r, "login.totp_failed", 200);
	}
	guard_login_clear(app_kv(app), u.login);
	/* The second factor is a privilege change: a new token. */
	if (auth_session_new(app, r, u.id, SESSION_FULL) != 0)
		return RQ_UNAVAILABLE;
	p[0] = DB_INT((long long)u.id);
	(void)db_exec(app_db(app),
	    "UPDATE users SET last_login_at = UTC_TIMESTAMP(6) WHERE id = ?", p,
	    1, NULL, NULL);
	(void)auth_audit(app, r, recovery ? "mfa.recovery_used" : "mfa.success",
	    target, "success", NULL);
	(void)auth_audit(app, r, "login.success", target, "success",
	    recovery ? "{\"factor\":\"recovery_code\"}"
		     : "{\"factor\":\"totp\"}");
	request_redirect(r, "/");
	o = RQ_OK;
	return o;
}

enum request_outcome
logout_post(struct app *app, struct request *r)
{
	char target[64];

	if (!auth_csrf_form_ok(r))
		return RQ_BAD_REQUEST;
	if (r->auth->s.user_id != 0) {
		str_printf(target, sizeof(target), "user:%s", r->auth->u.login);
		(void)auth_audit(app, r, "logout", target, "success", NULL);
	}
	auth_session_end(app, r);
	request_redirect(r, "/login?done=signed_out");
	return RQ_OK;
}

enum request_outcome
logout_all_post(struct app *app, struct request *r)
{
	char target[64];

	if (!auth_csrf_form_ok(r))
		return RQ_BAD_REQUEST;
	str_printf(target, sizeof(target), "user:%s", r->auth->u.login);
	if (session_destroy_user(app_kv(app), r->auth->u.id, NULL) != 0)
		return RQ_UNAVAILABLE;
	(void)auth_audit(app, r, "logout.all", target, "success", NULL);
	auth_session_end(app, r);
	request_redirect(r, "/login?done=signed_out");
	return RQ_OK;
}
