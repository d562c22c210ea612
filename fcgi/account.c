/*
 * account: a user's own account — activation with the one-time code
 * (/activate), password change (/password), the privacy notice (/privacy),
 * the account page (/account) and the language choice — and the password
 * service behind them and behind sign-in (see account.h). The Ministry's
 * rules (seeds/001 item 十二 (九)) are applied here, each refusal naming
 * its rule; a refused password changes nothing.
 */
#include "account.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "app.h"
#include "audit.h"
#include "auth.h"
#include "conf.h"
#include "crypto.h"
#include "form.h"
#include "guard.h"
#include "ids.h"
#include "log.h"
#include "policy.h"
#include "router.h"
#include "template.h"
#include "util.h"

#define ACCOUNT_CSRF AUTH_CSRF_PATTERN

/* ---------------------------------------------------------- hashing */

/* The host-wide scrypt slots, opened in this child on first use (flock
 * locks must not be shared with the parent's descriptors). */
static int
account_slot_take(struct app *app)
{
	char err[256];

	if (app->slots == NULL) {
		char dir[4096];

		str_printf(dir, sizeof(dir), "%s/scrypt", app->conf->run_dir);
		app->slots = passhash_slots_open(
		    dir, app->conf->pw_hash_slots, err, sizeof(err));
		if (app->slots == NULL) {
			log_error("scrypt slots: %s", err);
			return -1;
		}
	}
	return passhash_slots_acquire(app->slots, app->conf->pw_hash_wait_ms);
}

static void
account_params(const struct app *app, struct passhash_params *pp)
{
	pp->log2_n = app->conf->pw_scrypt_log2_n;
	pp->r = app->conf->pw_scrypt_r;
	pp->p = app->conf->pw_scrypt_p;
}

enum account_hash
account_verify(struct app *app, const char *stored, const char *pw, int *match)
{
	struct passhash_params pp;
	int rc;

	*match = 0;
	if (account_slot_take(app) != 0)
		return ACCOUNT_HASH_BUSY;
	account_params(app, &pp);
	if (stored == NULL) {
		(void)passhash_dummy(&pp, pw, strlen(pw));
		rc = 0;
	} else
		rc = passhash_verify(stored, pw, strlen(pw));
	passhash_slots_release(app->slots);
	if (rc < 0) {
		log_error("a stored password hash is malformed");
		return ACCOUNT_HASH_ERROR;
	}
	*match = rc == 1;
	return ACCOUNT_HASH_OK;
}

enum account_hash
account_hash(struct app *app, const char *pw, char out[PASSHASH_MAX])
{
	struct passhash_params pp;
	int rc;

	if (account_slot_take(app) != 0)
		return ACCOUNT_HASH_BUSY;
	account_params(app, &pp);
	rc = passhash_make(&pp, pw, strlen(pw), out, PASSHASH_MAX);
	passhash_slots_release(app->slots);
	return rc == 0 ? ACCOUNT_HASH_OK : ACCOUNT_HASH_ERROR;
}

int
account_current_hash(
    struct app *app, unsigned long long user_id, char *out, size_t outlen)
{
	struct db_param p[1] = {DB_INT((long long)user_id)};
	struct db_res *res;
	const char *h;
	int rc = 0;

	out[0] = '\0';
	res = db_query(
	    app_db(app), "SELECT password_hash FROM users WHERE id = ?", p, 1);
	if (res == NULL)
		return -1;
	if (db_res_rows(res) > 0 && (h = db_res_get(res, 0, 0)) != NULL)
		rc = str_copy(out, outlen, h);
	db_res_free(res);
	return rc;
}

/* ------------------------------------------------------ the rules */

struct account_id_ctx {
	struct app *app;
	const char *hmac;
};

/* The policy asks whether a 10-character window of the password is this
 * user's national ID; only its HMAC is stored, so compare HMACs. */
static int
account_id_match(void *arg, const char *candidate)
{
	const struct account_id_ctx *x = arg;
	char h[CRYPTO_SHA256_HEX_LEN + 1];

	if (crypto_hmac_sha256_hex(
		x->app->lookup_key, candidate, strlen(candidate), h) != 0)
		return 0;
	return CRYPTO_memcmp(h, x->hmac, CRYPTO_SHA256_HEX_LEN) == 0;
}

/* Is new_pw one of the user's recent passwords? 1 yes, 0 no, -1 error,
 * -2 busy. The current one counts as the most recent. */
static int
account_reused(struct app *app, const struct user *u, const char *current,
    const char *new_pw)
{
	struct db_param p[2];
	struct db_res *res;
	size_t i;
	int match, rc = 0;
	enum account_hash h;

	if (current != NULL && current[0] != '\0') {
		h = account_verify(app, current, new_pw, &match);
		if (h != ACCOUNT_HASH_OK)
			return h == ACCOUNT_HASH_BUSY ? -2 : -1;
		if (match)
			return 1;
	}
	p[0] = DB_INT((long long)u->id);
	p[1] = DB_INT(app->conf->pw_history - 1);
	res = db_query(app_db(app),
	    "SELECT password_hash FROM password_history WHERE user_id = ? "
	    "ORDER BY changed_at DESC, id DESC LIMIT ?",
	    p, 2);
	if (res == NULL)
		return -1;
	for (i = 0; i < db_res_rows(res) && rc == 0; i++) {
		h = account_verify(app, db_res_get(res, i, 0), new_pw, &match);
		if (h != ACCOUNT_HASH_OK)
			rc = h == ACCOUNT_HASH_BUSY ? -2 : -1;
		else if (match)
			rc = 1;
	}
	db_res_free(res);
	return rc;
}

const char *
account_check_new(struct app *app, const struct user *u,
    const char *current_hash, const char *new_pw, int first, int *busy)
{
	struct account_id_ctx idx = {app, u->national_id_hmac};
	struct policy_user pu = {
	    .login = u->login,
	    .name = u->name,
	    .school_code = u->school_code,
	    .birth_date = u->birth_date,
	    .national_id_match =
		u->national_id_hmac[0] != '\0' ? account_id_match : NULL,
	    .arg = &idx,
	};
	enum policy_result pr;
	int64_t min_age = (int64_t)app->conf->pw_min_age_days * 86400;
	int64_t max_age = (int64_t)app->conf->pw_max_age_days * 86400;
	int rc;

	*busy = 0;
	pr = policy_check_password(
	    app->blocklist, app->conf->pw_min_length, new_pw, &pu);
	if (pr != POLICY_OK)
		return policy_result_name(pr);
	/* The minimum age keeps a user from cycling through passwords back
	 * to the old one; it never blocks the change an expiry forces. */
	if (!first && u->password_age >= 0 && u->password_age < min_age &&
	    u->password_age < max_age)
		return "too_soon";
	rc = account_reused(app, u, current_hash, new_pw);
	if (rc == -2) {
		*busy = 1;
		return "busy";
	}
	if (rc < 0)
		return "error";
	return rc == 1 ? "reused" : NULL;
}

/*
 * Stores new_hash as u's password in one transaction with its audit entry:
 * the current hash moves to the history (only the newest password.history
 * - 1 are kept), the change time is now, and an activation also makes the
 * account active and spends its code.
 */
static int
account_store(struct app *app, struct request *r, const struct user *u,
    const char *current_hash, const char *new_hash, int activation)
{
	struct db *db = app_db(app);
	struct db_param p[3];
	char target[64];
	struct audit_event ev = {
	    .actor = u->login,
	    .role = role_name(u->role),
	    .school = u->school_code[0] != '\0' ? u->school_code : NULL,
	    .ip = r->auth->ip,
	    .event = activation ? "account.activated" : "password.change",
	    .target = target,
	    .outcome = "success",
	    .detail = NULL,
	};

	str_printf(target, sizeof(target), "user:%s", u->login);
	if (db_begin(db) != 0)
		return -1;
	if (current_hash != NULL && current_hash[0] != '\0') {
		p[0] = DB_INT((long long)u->id);
		p[1] = DB_STR(current_hash);
		if (db_exec(db,
			"INSERT INTO password_history (user_id, password_hash, "
			"changed_at) VALUES (?, ?, UTC_TIMESTAMP(6))",
			p, 2, NULL, NULL) != 0)
			goto fail;
	}
	p[0] = DB_STR(new_hash);
	p[1] = DB_INT((long long)u->id);
	if (db_exec(db,
		activation
		    ? "UPDATE users SET password_hash = ?, password_changed_at "
		      "= UTC_TIMESTAMP(6), status = 'active', activation_hash "
		      "= NULL, activation_expires = NULL WHERE id = ? AND "
		      "status = 'pending'"
		    : "UPDATE users SET password_hash = ?, password_changed_at "
		      "= UTC_TIMESTAMP(6) WHERE id = ?",
		p, 2, NULL, NULL) != 0)
		goto fail;
	p[0] = DB_INT((long long)u->id);
	p[1] = DB_INT((long long)u->id);
	p[2] = DB_INT(app->conf->pw_history - 1);
	if (db_exec(db,
		"DELETE FROM password_history WHERE user_id = ? AND id NOT IN "
		"(SELECT id FROM (SELECT id FROM password_history WHERE "
		"user_id = ? ORDER BY changed_at DESC, id DESC LIMIT ?) AS "
		"keep)",
		p, 3, NULL, NULL) != 0 ||
	    audit_append_tx(db, &ev) != 0 || db_commit(db) != 0)
		goto fail;
	return 0;
fail:
	(void)db_rollback(db);
	return -1;
}

/* Counts a password set from this address (seeds/002 case 1: many
 * accounts changing their default passwords at once from one address). */
static void
account_count_change(struct app *app, struct request *r, const struct user *u)
{
	enum guard_verdict v;
	uint64_t school = 0;
	long n = 0;
	int egress;
	char detail[160];

	egress = auth_egress(app, r, &school);
	if (egress < 0)
		egress = 0;
	if (guard_addr_note(app_kv(app), app->conf, GUARD_PASSWORD, r->auth->ip,
		u->login, egress, &v, &n) != 0 ||
	    v == GUARD_QUIET)
		return;
	str_printf(detail, sizeof(detail),
	    "{\"accounts\":%ld,\"window_s\":%d,\"egress\":%s}", n,
	    app->conf->detect_window, egress ? "true" : "false");
	(void)auth_alert(app, r,
	    v == GUARD_BLOCKED ? "password_changes.blocked"
			       : "password_changes.egress",
	    school != 0 ? school : u->school_id, detail);
}

static void
account_audit_refused(struct app *app, struct request *r, const struct user *u,
    const char *rule, const char *during)
{
	char target[64], detail[128];

	str_printf(target, sizeof(target), "user:%s", u->login);
	str_printf(detail, sizeof(detail),
	    "{\"rule\":\"%s\",\"during\":\"%s\"}", rule, during);
	(void)auth_audit_as(app, r, u->login, role_name(u->role),
	    u->school_code, "password.change.refused", target, "failure",
	    detail);
}

/* The refusal's message: "password.rule.<rule>", with its bound. */
static void
account_rule_alert(
    struct app *app, struct request *r, struct tval *ctx, const char *rule)
{
	char key[64], text[512];
	long n = 0;

	str_printf(key, sizeof(key), "password.rule.%s", rule);
	if (strcmp(rule, "too_short") == 0)
		n = app->conf->pw_min_length;
	else if (strcmp(rule, "too_soon") == 0)
		n = app->conf->pw_min_age_days;
	else if (strcmp(rule, "reused") == 0)
		n = app->conf->pw_history;
	(void)tval_set_str(
	    ctx, "alert", auth_msg_n(app, r, key, n, text, sizeof(text)));
	(void)tval_set_str(ctx, "rule", rule);
}

/* The rules as a list for the forms, so users see them before typing. */
static void
account_rules(struct app *app, struct request *r, struct tval *ctx)
{
	static const char *const keys[] = {"password.help.length",
	    "password.help.personal", "password.help.blocklist",
	    "password.help.history", "password.help.age"};
	static const int bound[] = {0, -1, -1, 1, 2};
	struct tval *list = tval_list(), *item;
	char text[512];
	size_t i;
	long n;

	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		n = bound[i] == 0   ? app->conf->pw_min_length
		    : bound[i] == 1 ? app->conf->pw_history
		    : bound[i] == 2 ? app->conf->pw_max_age_days
				    : 0;
		item = tval_obj();
		(void)tval_set_str(item, "text",
		    auth_msg_n(app, r, keys[i], n, text, sizeof(text)));
		(void)tval_push(list, item);
	}
	(void)tval_set(ctx, "rules", list);
	(void)tval_set_int(ctx, "min_length", app->conf->pw_min_length);
}

/*
 * The same answers as sign-in before any password work: an address that is
 * blocked, or a login that is locked, gets the message in ctx. 0 when
 * neither, the status to answer with (429 blocked, 200 locked) when one
 * holds, -1 when Redis fails.
 */
static int
account_guarded(
    struct app *app, struct request *r, const char *login, struct tval *ctx)
{
	char text[512];
	long secs, lock = 0;

	secs = guard_addr_blocked(app_kv(app), r->auth->ip);
	if (secs == 0)
		lock = guard_login_locked(app_kv(app), login);
	if (secs < 0 || lock < 0)
		return -1;
	if (secs == 0 && lock == 0)
		return 0;
	(void)tval_set_str(ctx, "alert",
	    auth_msg_n(app, r, secs > 0 ? "login.blocked" : "login.locked",
		((secs > 0 ? secs : lock) + 59) / 60, text, sizeof(text)));
	return secs > 0 ? 429 : 200;
}

/* ------------------------------------------------------ /activate */

enum { AF_LOGIN, AF_CODE, AF_NEW, AF_CSRF, AF__MAX };
static const struct form_field activate_fields[AF__MAX] = {
    [AF_LOGIN] = {"login", FORM_TEXT, FORM_REQUIRED, 1, 64, NULL},
    [AF_CODE] = {"code", FORM_PATTERN, FORM_REQUIRED, 10, 16,
	"[0-9A-Za-z -]{10,16}"},
    [AF_NEW] = {"new_password", FORM_PASSWORD, FORM_REQUIRED, 1, 512, NULL},
    [AF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, ACCOUNT_CSRF},
};

static enum request_outcome
activate_page(struct app *app, struct request *r, struct tval *ctx, int status)
{
	if (auth_session_ensure(app, r) != 0) {
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	/* The session may be new: its token goes into the form. */
	(void)tval_set_str(ctx, "csrf", r->auth->s.csrf);
	account_rules(app, r, ctx);
	return auth_render(app, r, "activate", ctx, status);
}

enum request_outcome
activate_get(struct app *app, struct request *r)
{
	return activate_page(
	    app, r, auth_page_ctx(app, r, "activate.title"), 200);
}

/* Is code the pending activation code of u, not expired? 1/0/-1. */
static int
activate_code_ok(struct app *app, const struct user *u, const char *code)
{
	struct db_param p[1] = {DB_INT((long long)u->id)};
	struct db_res *res;
	char want[CRYPTO_SHA256_HEX_LEN + 1];
	const char *have;
	int rc = 0;

	if (u->status != USER_PENDING ||
	    ids_code_hash(u->login, code, want) != 0)
		return 0;
	res = db_query(app_db(app),
	    "SELECT activation_hash FROM users WHERE id = ? AND status = "
	    "'pending' AND activation_expires > UTC_TIMESTAMP(6)",
	    p, 1);
	if (res == NULL)
		return -1;
	if (db_res_rows(res) == 1 && (have = db_res_get(res, 0, 0)) != NULL &&
	    strlen(have) == CRYPTO_SHA256_HEX_LEN)
		rc = CRYPTO_memcmp(have, want, CRYPTO_SHA256_HEX_LEN) == 0;
	db_res_free(res);
	return rc;
}

enum request_outcome
activate_post(struct app *app, struct request *r)
{
	struct form *f = form_new(activate_fields, AF__MAX);
	struct tval *ctx = auth_page_ctx(app, r, "activate.title");
	char login[72], target[80], h[PASSHASH_MAX];
	struct user u;
	const char *rule;
	int g;
	int found, ok, busy;
	enum request_outcome o;

	if (f == NULL) {
		tval_free(ctx);
		return RQ_ERROR;
	}
	if (form_parse(f, r->input.data, r->input.len) != 0) {
		(void)tval_set_str(
		    ctx, "alert", auth_msg(app, r, "activate.incomplete"));
		(void)tval_set_str(ctx, "login", form_echo(f, AF_LOGIN));
		form_free(f);
		return activate_page(app, r, ctx, 200);
	}
	auth_login_lower(form_str(f, AF_LOGIN), login, sizeof(login));
	(void)tval_set_str(ctx, "login", login);
	str_printf(target, sizeof(target), "user:%s", login);
	g = account_guarded(app, r, login, ctx);
	if (g != 0) {
		form_free(f);
		if (g < 0) {
			tval_free(ctx);
			return RQ_UNAVAILABLE;
		}
		return activate_page(app, r, ctx, g);
	}
	found = auth_user_load(app, 0, login, &u);
	ok = found == 1 ? activate_code_ok(app, &u, form_str(f, AF_CODE)) : 0;
	if (found < 0 || ok < 0) {
		form_free(f);
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	if (!ok) {
		(void)auth_audit_as(app, r, login, "anonymous", NULL,
		    "account.activation.failure", target, "failure", NULL);
		if (guard_login_failed(app_kv(app), app->conf, login) == 1)
			(void)auth_audit_as(app, r, login, "anonymous", NULL,
			    "account.locked", target, "alert", NULL);
		(void)tval_set_str(
		    ctx, "alert", auth_msg(app, r, "activate.failed"));
		form_free(f);
		return activate_page(app, r, ctx, 200);
	}
	rule = account_check_new(app, &u, NULL, form_str(f, AF_NEW), 1, &busy);
	if (rule != NULL) {
		form_free(f);
		if (busy || strcmp(rule, "error") == 0) {
			tval_free(ctx);
			return RQ_UNAVAILABLE;
		}
		account_audit_refused(app, r, &u, rule, "activation");
		account_rule_alert(app, r, ctx, rule);
		return activate_page(app, r, ctx, 422);
	}
	if (account_hash(app, form_str(f, AF_NEW), h) != ACCOUNT_HASH_OK) {
		form_free(f);
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	form_free(f);
	tval_free(ctx);
	o = RQ_ERROR;
	if (account_store(app, r, &u, NULL, h, 1) == 0) {
		guard_login_clear(app_kv(app), login);
		account_count_change(app, r, &u);
		request_redirect(r, "/login?done=activated");
		o = RQ_OK;
	}
	OPENSSL_cleanse(h, sizeof(h));
	return o;
}

/* ------------------------------------------------------ /password */

enum { PF_CURRENT, PF_NEW, PF_CSRF, PF__MAX };
static const struct form_field password_fields[PF__MAX] = {
    [PF_CURRENT] = {"current_password", FORM_PASSWORD, FORM_REQUIRED, 1, 512,
	NULL},
    [PF_NEW] = {"new_password", FORM_PASSWORD, FORM_REQUIRED, 1, 512, NULL},
    [PF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, ACCOUNT_CSRF},
};

static enum request_outcome
password_page(struct app *app, struct request *r, struct tval *ctx, int status)
{
	char text[512];

	if (r->auth->u.password_age < 0 || r->auth->pw_days_left <= 0)
		(void)tval_set_str(
		    ctx, "notice", auth_msg(app, r, "password.expired"));
	else if (r->auth->pw_days_left <= app->conf->pw_warn_days)
		(void)tval_set_str(ctx, "notice",
		    auth_msg_n(app, r, "password.expires_soon",
			r->auth->pw_days_left, text, sizeof(text)));
	account_rules(app, r, ctx);
	return auth_render(app, r, "password", ctx, status);
}

enum request_outcome
password_get(struct app *app, struct request *r)
{
	return password_page(
	    app, r, auth_page_ctx(app, r, "password.title"), 200);
}

enum request_outcome
password_post(struct app *app, struct request *r)
{
	const struct user *u = &r->auth->u;
	struct form *f = form_new(password_fields, PF__MAX);
	struct tval *ctx = auth_page_ctx(app, r, "password.title");
	char cur[PASSHASH_MAX], h[PASSHASH_MAX];
	const char *rule = NULL;
	enum account_hash ah;
	enum request_outcome o = RQ_UNAVAILABLE;
	int g;
	int match = 0, busy = 0;

	cur[0] = h[0] = '\0';
	if (f == NULL) {
		tval_free(ctx);
		return RQ_ERROR;
	}
	if (form_parse(f, r->input.data, r->input.len) != 0) {
		(void)tval_set_str(
		    ctx, "alert", auth_msg(app, r, "password.incomplete"));
		form_free(f);
		return password_page(app, r, ctx, 200);
	}
	/* A locked login cannot go on guessing its current password here
	 * either. */
	g = account_guarded(app, r, u->login, ctx);
	if (g != 0) {
		form_free(f);
		if (g < 0) {
			tval_free(ctx);
			return RQ_UNAVAILABLE;
		}
		if (g == 200)
			account_audit_refused(app, r, u, "locked", "change");
		return password_page(app, r, ctx, 429);
	}
	if (account_current_hash(app, u->id, cur, sizeof(cur)) != 0)
		goto out;
	ah = account_verify(
	    app, cur[0] != '\0' ? cur : NULL, form_str(f, PF_CURRENT), &match);
	if (ah != ACCOUNT_HASH_OK)
		goto out;
	if (!match) {
		rule = "current_wrong";
		if (guard_login_failed(app_kv(app), app->conf, u->login) == 1) {
			char target[64];

			str_printf(target, sizeof(target), "user:%s", u->login);
			(void)auth_audit(app, r, "account.locked", target,
			    "alert", "{\"during\":\"password_change\"}");
		}
	} else
		rule = account_check_new(
		    app, u, cur, form_str(f, PF_NEW), 0, &busy);
	if (busy || (rule != NULL && strcmp(rule, "error") == 0))
		goto out;
	if (rule != NULL) {
		account_audit_refused(app, r, u, rule, "change");
		account_rule_alert(app, r, ctx, rule);
		form_free(f);
		OPENSSL_cleanse(cur, sizeof(cur));
		return password_page(app, r, ctx, 422);
	}
	if (account_hash(app, form_str(f, PF_NEW), h) != ACCOUNT_HASH_OK ||
	    account_store(app, r, u, cur, h, 0) != 0)
		goto out;
	account_count_change(app, r, u);
	/* Other sessions end, and this one gets a new token. */
	(void)session_destroy_user(app_kv(app), u->id, r->auth->s.hash);
	if (auth_session_new(app, r, u->id, SESSION_FULL) != 0)
		goto out;
	request_redirect(r, "/account?done=password");
	o = RQ_OK;
out:
	OPENSSL_cleanse(cur, sizeof(cur));
	OPENSSL_cleanse(h, sizeof(h));
	form_free(f);
	tval_free(ctx);
	return o;
}

/* ------------------------------------------------------ /privacy */

/* The notice of the configured version in lang, split into paragraphs at
 * blank lines. -1 when the file is missing (logged: a deployment error). */
static int
privacy_text(struct app *app, const char *lang, struct tval *ctx)
{
	char path[4096];
	char *data = NULL, *p, *para;
	size_t len = 0;
	struct tval *list, *item;

	str_printf(path, sizeof(path), "%s/%s.%s.txt", app->conf->privacy_dir,
	    app->conf->privacy_version, lang);
	if (file_read_all(path, 256 * 1024, &data, &len, NULL, 0) != 0) {
		log_error("privacy notice %s cannot be read", path);
		return -1;
	}
	list = tval_list();
	for (p = data; p != NULL && *p != '\0';) {
		char *end = strstr(p, "\n\n");

		if (end != NULL)
			*end = '\0';
		para = p;
		while (*para == '\n')
			para++;
		if (*para != '\0') {
			item = tval_obj();
			(void)tval_set_str(item, "text", para);
			(void)tval_push(list, item);
		}
		p = end != NULL ? end + 2 : NULL;
	}
	free(data);
	(void)tval_set(ctx, "paragraphs", list);
	(void)tval_set_str(ctx, "version", app->conf->privacy_version);
	return 0;
}

enum request_outcome
privacy_get(struct app *app, struct request *r)
{
	struct tval *ctx = auth_page_ctx(app, r, "privacy.title");

	if (privacy_text(app, r->auth->lang, ctx) != 0) {
		tval_free(ctx);
		return RQ_ERROR;
	}
	(void)tval_set_bool(ctx, "accepted",
	    strcmp(r->auth->u.privacy_version, app->conf->privacy_version) ==
		0);
	return auth_render(app, r, "privacy", ctx, 200);
}

enum { VF_ACCEPT, VF_VERSION, VF_CSRF, VF__MAX };
static const struct form_field privacy_fields[VF__MAX] = {
    [VF_ACCEPT] = {"accept", FORM_CHECKBOX, FORM_REQUIRED, 0, 1, NULL},
    [VF_VERSION] = {"version", FORM_PATTERN, FORM_REQUIRED, 1, 32,
	"[A-Za-z0-9._-]+"},
    [VF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, ACCOUNT_CSRF},
};

enum request_outcome
privacy_post(struct app *app, struct request *r)
{
	const struct user *u = &r->auth->u;
	struct form *f = form_new(privacy_fields, VF__MAX);
	struct db *db = app_db(app);
	struct db_param p[3];
	char target[64], detail[96];
	struct audit_event ev = {
	    .actor = u->login,
	    .role = role_name(u->role),
	    .school = u->school_code[0] != '\0' ? u->school_code : NULL,
	    .ip = r->auth->ip,
	    .event = "privacy.accept",
	    .target = target,
	    .outcome = "success",
	    .detail = detail,
	};
	int ok;

	if (f == NULL)
		return RQ_ERROR;
	/* Accepting a version other than the one in force (a stale page)
	 * accepts nothing: the page is shown again with the current one. */
	ok = form_parse(f, r->input.data, r->input.len) == 0 &&
	    form_int(f, VF_ACCEPT) == 1 &&
	    strcmp(form_str(f, VF_VERSION), app->conf->privacy_version) == 0;
	form_free(f);
	if (!ok) {
		struct tval *ctx = auth_page_ctx(app, r, "privacy.title");

		if (privacy_text(app, r->auth->lang, ctx) != 0) {
			tval_free(ctx);
			return RQ_ERROR;
		}
		(void)tval_set_str(
		    ctx, "alert", auth_msg(app, r, "privacy.must_accept"));
		return auth_render(app, r, "privacy", ctx, 422);
	}
	str_printf(target, sizeof(target), "user:%s", u->login);
	str_printf(detail, sizeof(detail), "{\"version\":\"%s\"}",
	    app->conf->privacy_version);
	p[0] = DB_INT((long long)u->id);
	p[1] = DB_STR(app->conf->privacy_version);
	p[2] = DB_STR(r->auth->ip);
	if (db_begin(db) != 0)
		return RQ_UNAVAILABLE;
	if (db_exec(db,
		"INSERT INTO privacy_acceptances (user_id, version, "
		"accepted_at, ip) VALUES (?, ?, UTC_TIMESTAMP(6), ?)",
		p, 3, NULL, NULL) != 0)
		goto fail;
	p[0] = DB_STR(app->conf->privacy_version);
	p[1] = DB_INT((long long)u->id);
	if (db_exec(db,
		"UPDATE users SET privacy_version = ?, privacy_accepted_at = "
		"UTC_TIMESTAMP(6) WHERE id = ?",
		p, 2, NULL, NULL) != 0 ||
	    audit_append_tx(db, &ev) != 0 || db_commit(db) != 0)
		goto fail;
	request_redirect(r, "/");
	return RQ_OK;
fail:
	(void)db_rollback(db);
	return RQ_UNAVAILABLE;
}

/* ------------------------------------------------------ /account */

enum request_outcome
account_get(struct app *app, struct request *r)
{
	const struct auth *a = r->auth;
	struct tval *ctx = auth_page_ctx(app, r, "account.title");
	char text[256], q[32];

	(void)tval_set_str(ctx, "login", a->u.login);
	(void)tval_set_str(ctx, "name", a->u.name);
	(void)tval_set_str(ctx, "school", a->u.school_name);
	(void)tval_set_int(ctx, "days_left", a->pw_days_left);
	(void)tval_set_str(ctx, "expiry",
	    auth_msg_n(app, r, "account.password_days", a->pw_days_left, text,
		sizeof(text)));
	(void)tval_set_bool(ctx, "mfa_role", role_needs_mfa(a->u.role));
	(void)tval_set_bool(ctx, "mfa_on", a->u.totp_enabled);
	if (request_query_get(r->query, "done", q, sizeof(q)) == 1 &&
	    strcmp(q, "password") == 0)
		(void)tval_set_str(
		    ctx, "notice", auth_msg(app, r, "password.changed"));
	return auth_render(app, r, "account", ctx, 200);
}

/* GET /lang/:code: remembers the language and goes home. Changes only a
 * preference cookie, never data, so it needs no CSRF token. */
enum request_outcome
lang_get(struct app *app, struct request *r)
{
	const char *code = request_capture(r, "code");

	(void)app;
	if (code == NULL ||
	    (strcmp(code, "en") != 0 && strcmp(code, "zh-TW") != 0))
		return RQ_NOT_FOUND;
	if (request_set_cookie(r, AUTH_LANG_COOKIE, code, 365L * 86400) != 0)
		return RQ_ERROR;
	request_redirect(r, "/");
	return RQ_OK;
}
