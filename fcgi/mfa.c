/*
 * mfa: TOTP enrolment (GET/POST /mfa/setup), recovery codes (POST
 * /mfa/recovery) and the check at sign-in (mfa_verify; see mfa.h). The
 * secret lives in users.totp_secret sealed with keys.data and bound to the
 * user's public id; it is shown only while enrolment is pending. Recovery
 * codes are shown once, when made, and stored only as hashes.
 */
#include "mfa.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "app.h"
#include "audit.h"
#include "auth.h"
#include "conf.h"
#include "crypto.h"
#include "form.h"
#include "ids.h"
#include "log.h"
#include "router.h"
#include "template.h"
#include "totp.h"
#include "util.h"

#define MFA_RECOVERY_CODES 10
#define MFA_SEALED_MAX (TOTP_KEY_LEN + CRYPTO_SEAL_OVERHEAD)

/* The binding label of a user's sealed secret. */
static void
mfa_aad(const struct user *u, char *out, size_t outlen)
{
	str_printf(out, outlen, "totp:%s", u->public_id);
}

/*
 * Reads and opens u's secret. enabled: 1 for an enrolled factor, 0 for a
 * pending enrolment. 1 and the key (and the last accepted step) when
 * there is one, 0 when none, -1 on an error.
 */
static int
mfa_secret(struct app *app, const struct user *u, int enabled,
    unsigned char key[TOTP_KEY_LEN], int64_t *last_step)
{
	struct db_param p[1] = {DB_INT((long long)u->id)};
	struct db_res *res;
	char aad[64];
	size_t n = 0;
	int rc = 0;

	res = db_query(app_db(app),
	    enabled ? "SELECT totp_secret, totp_last_step FROM users WHERE id "
		      "= ? AND totp_enabled_at IS NOT NULL AND totp_secret IS "
		      "NOT NULL"
		    : "SELECT totp_secret, totp_last_step FROM users WHERE id "
		      "= ? AND totp_enabled_at IS NULL AND totp_secret IS NOT "
		      "NULL",
	    p, 1);
	if (res == NULL)
		return -1;
	if (db_res_rows(res) == 1) {
		mfa_aad(u, aad, sizeof(aad));
		rc = crypto_open(app->data_key, aad,
			 (const unsigned char *)db_res_get(res, 0, 0),
			 db_res_len(res, 0, 0), key, TOTP_KEY_LEN, &n) == 0 &&
			n == TOTP_KEY_LEN
		    ? 1
		    : -1;
		if (last_step != NULL)
			*last_step = db_res_int(res, 0, 1);
	}
	db_res_free(res);
	if (rc < 0)
		log_error("the TOTP secret of user %s cannot be opened "
			  "(keys.data changed?)",
		    u->public_id);
	return rc;
}

/* A TOTP code: accepted at most once per step, across all children. */
static int
mfa_verify_totp(struct app *app, const struct user *u, const char *code)
{
	unsigned char key[TOTP_KEY_LEN];
	struct db_param p[3];
	unsigned long long affected = 0;
	int64_t last = 0, step;
	int rc;

	rc = mfa_secret(app, u, 1, key, &last);
	if (rc <= 0)
		return rc;
	step = totp_check(key, sizeof(key), code, (int64_t)time(NULL), last);
	OPENSSL_cleanse(key, sizeof(key));
	if (step < 0)
		return 0;
	/* Two children checking the same code at once: only one update
	 * moves the step forward; the other is a replay. */
	p[0] = DB_INT(step);
	p[1] = DB_INT((long long)u->id);
	p[2] = DB_INT(step);
	if (db_exec(app_db(app),
		"UPDATE users SET totp_last_step = ? WHERE id = ? AND "
		"totp_last_step < ?",
		p, 3, &affected, NULL) != 0)
		return -1;
	return affected == 1;
}

static int
mfa_verify_recovery(struct app *app, const struct user *u, const char *code)
{
	char norm[11], hash[CRYPTO_SHA256_HEX_LEN + 1];
	struct db_param p[2];
	unsigned long long affected = 0;

	if (ids_code_normalise(code, norm) != 0 ||
	    ids_code_hash(u->login, norm, hash) != 0)
		return 0;
	p[0] = DB_INT((long long)u->id);
	p[1] = DB_STR(hash);
	if (db_exec(app_db(app),
		"UPDATE mfa_recovery_codes SET used_at = UTC_TIMESTAMP(6) "
		"WHERE user_id = ? AND code_hash = ? AND used_at IS NULL",
		p, 2, &affected, NULL) != 0)
		return -1;
	return affected == 1;
}

int
mfa_verify(
    struct app *app, const struct user *u, const char *code, int *recovery)
{
	char digits[8];
	size_t i, n = 0;

	*recovery = 0;
	for (i = 0; code[i] != '\0'; i++) {
		if (code[i] == ' ')
			continue;
		if (code[i] < '0' || code[i] > '9' || n + 1 >= sizeof(digits)) {
			n = 0;
			break;
		}
		digits[n++] = code[i];
	}
	digits[n] = '\0';
	if (n == 6)
		return mfa_verify_totp(app, u, digits);
	*recovery = 1;
	return mfa_verify_recovery(app, u, code);
}

/* ------------------------------------------------------ enrolment */

/* The pending secret of u, made and stored when there is none. 0/-1. */
static int
mfa_pending(
    struct app *app, const struct user *u, unsigned char key[TOTP_KEY_LEN])
{
	unsigned char sealed[MFA_SEALED_MAX];
	struct db_param p[2];
	char aad[64];
	size_t n = 0;
	int rc = mfa_secret(app, u, 0, key, NULL);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	mfa_aad(u, aad, sizeof(aad));
	if (crypto_random(key, TOTP_KEY_LEN) != 0 ||
	    crypto_seal(app->data_key, aad, key, TOTP_KEY_LEN, sealed,
		sizeof(sealed), &n) != 0)
		return -1;
	p[0] = DB_BLOB(sealed, n);
	p[1] = DB_INT((long long)u->id);
	if (db_exec(app_db(app),
		"UPDATE users SET totp_secret = ? WHERE id = ? AND "
		"totp_enabled_at IS NULL",
		p, 2, NULL, NULL) != 0)
		return -1;
	return 0;
}

/* The enrolment page: the secret as text, as an otpauth URI and as a QR
 * code, and the form for the first code. */
static enum request_outcome
mfa_setup_page(
    struct app *app, struct request *r, const char *alert_key, int status)
{
	const struct user *u = &r->auth->u;
	unsigned char key[TOTP_KEY_LEN];
	char b32[TOTP_B32_MAX], account[160];
	struct buf uri, svg;
	struct tval *ctx;
	int rc;

	if (mfa_pending(app, u, key) != 0)
		return RQ_UNAVAILABLE;
	rc = totp_b32_encode(key, sizeof(key), b32, sizeof(b32));
	OPENSSL_cleanse(key, sizeof(key));
	if (rc != 0)
		return RQ_ERROR;
	buf_init(&uri);
	buf_init(&svg);
	if (u->school_code[0] != '\0')
		str_printf(account, sizeof(account), "%s@%s", u->login,
		    u->school_code);
	else
		str_printf(account, sizeof(account), "%s", u->login);
	if (totp_uri(app->conf->mfa_issuer, account, b32, &uri) != 0 ||
	    totp_qr_svg(uri.data, 4, auth_msg(app, r, "mfa.qr_label"), &svg) !=
		0) {
		OPENSSL_cleanse(b32, sizeof(b32));
		buf_free(&uri);
		buf_free(&svg);
		return RQ_ERROR;
	}
	ctx = auth_page_ctx(app, r, "mfa.title");
	(void)tval_set_str(ctx, "secret", b32);
	(void)tval_set_str(ctx, "uri", uri.data);
	/* Raw markup, built by totp_qr_svg from the URI alone. */
	(void)tval_set_html(ctx, "qr", svg.data);
	if (alert_key != NULL)
		(void)tval_set_str(ctx, "alert", auth_msg(app, r, alert_key));
	OPENSSL_cleanse(b32, sizeof(b32));
	OPENSSL_cleanse(uri.data, uri.len);
	buf_free(&uri);
	buf_free(&svg);
	return auth_render(app, r, "mfa_setup", ctx, status);
}

/* The page for an enrolled user: status, unused recovery codes, and the
 * form to make new ones. */
static enum request_outcome
mfa_status_page(
    struct app *app, struct request *r, const char *alert_key, int status)
{
	struct db_param p[1] = {DB_INT((long long)r->auth->u.id)};
	struct db_res *res;
	struct tval *ctx;

	res = db_query(app_db(app),
	    "SELECT DATE_FORMAT(u.totp_enabled_at, '%Y-%m-%d %H:%i UTC'), "
	    "(SELECT COUNT(*) FROM mfa_recovery_codes c WHERE c.user_id = "
	    "u.id AND c.used_at IS NULL) FROM users u WHERE u.id = ?",
	    p, 1);
	if (res == NULL)
		return RQ_UNAVAILABLE;
	ctx = auth_page_ctx(app, r, "mfa.title");
	if (db_res_rows(res) == 1) {
		(void)tval_set_str(ctx, "since", db_res_get(res, 0, 0));
		(void)tval_set_int(ctx, "unused", db_res_int(res, 0, 1));
	}
	db_res_free(res);
	if (alert_key != NULL)
		(void)tval_set_str(ctx, "alert", auth_msg(app, r, alert_key));
	return auth_render(app, r, "mfa_status", ctx, status);
}

enum request_outcome
mfa_setup_get(struct app *app, struct request *r)
{
	if (r->auth->u.totp_enabled)
		return mfa_status_page(app, r, NULL, 200);
	return mfa_setup_page(app, r, NULL, 200);
}

/*
 * Replaces u's recovery codes by ten new ones inside the caller's
 * transaction; the codes go into ctx as "codes" to be shown once.
 */
static int
mfa_new_codes(struct db *db, const struct user *u, struct tval *ctx)
{
	char code[IDS_CODE_LEN + 1], norm[11], hash[CRYPTO_SHA256_HEX_LEN + 1];
	struct db_param p[2];
	struct tval *list = tval_list(), *item;
	int i;

	p[0] = DB_INT((long long)u->id);
	if (db_exec(db, "DELETE FROM mfa_recovery_codes WHERE user_id = ?", p,
		1, NULL, NULL) != 0)
		goto fail;
	for (i = 0; i < MFA_RECOVERY_CODES; i++) {
		if (ids_activation_code(code) != 0 ||
		    ids_code_normalise(code, norm) != 0 ||
		    ids_code_hash(u->login, norm, hash) != 0)
			goto fail;
		p[1] = DB_STR(hash);
		if (db_exec(db,
			"INSERT INTO mfa_recovery_codes (user_id, code_hash) "
			"VALUES (?, ?)",
			p, 2, NULL, NULL) != 0)
			goto fail;
		item = tval_obj();
		(void)tval_set_str(item, "code", code);
		(void)tval_push(list, item);
	}
	OPENSSL_cleanse(code, sizeof(code));
	(void)tval_set(ctx, "codes", list);
	return 0;
fail:
	OPENSSL_cleanse(code, sizeof(code));
	tval_free(list);
	return -1;
}

static int
mfa_audit_tx(struct db *db, const struct request *r, const char *event)
{
	char target[64];

	str_printf(target, sizeof(target), "user:%s", r->auth->u.login);
	return auth_audit_tx(db, r, event, target, NULL);
}

enum { MF_TOTP, MF_CSRF, MF__MAX };
static const struct form_field mfa_fields[MF__MAX] = {
    [MF_TOTP] = {"totp", FORM_PATTERN, FORM_REQUIRED, 6, 7, "[0-9 ]{6,7}"},
    [MF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43,
	"[A-Za-z0-9_-]{43}"},
};

/* The code a form carries, or NULL when the form is not valid. */
static struct form *
mfa_form(struct request *r)
{
	struct form *f = form_new(mfa_fields, MF__MAX);

	if (f != NULL && form_parse(f, r->input.data, r->input.len) != 0) {
		form_free(f);
		return NULL;
	}
	return f;
}

enum request_outcome
mfa_setup_post(struct app *app, struct request *r)
{
	const struct user *u = &r->auth->u;
	unsigned char key[TOTP_KEY_LEN];
	struct db *db = app_db(app);
	struct db_param p[2];
	struct form *f;
	struct tval *ctx;
	unsigned long long affected = 0;
	char target[64];
	int64_t step = -1;
	int rc;

	if (u->totp_enabled) {
		request_redirect(r, "/mfa/setup");
		return RQ_OK;
	}
	str_printf(target, sizeof(target), "user:%s", u->login);
	rc = mfa_secret(app, u, 0, key, NULL);
	if (rc < 0)
		return RQ_UNAVAILABLE;
	if ((f = mfa_form(r)) != NULL && rc == 1)
		step = totp_check(key, sizeof(key), form_str(f, MF_TOTP),
		    (int64_t)time(NULL), -1);
	OPENSSL_cleanse(key, sizeof(key));
	form_free(f);
	if (step < 0) {
		(void)auth_audit(
		    app, r, "mfa.enrol.failure", target, "failure", NULL);
		return mfa_setup_page(app, r, "mfa.wrong_code", 422);
	}
	ctx = auth_page_ctx(app, r, "mfa.codes_title");
	p[0] = DB_INT(step);
	p[1] = DB_INT((long long)u->id);
	if (db_begin(db) != 0)
		goto fail;
	if (db_exec(db,
		"UPDATE users SET totp_enabled_at = UTC_TIMESTAMP(6), "
		"totp_last_step = ? WHERE id = ? AND totp_enabled_at IS NULL",
		p, 2, &affected, NULL) != 0 ||
	    affected != 1 || mfa_new_codes(db, u, ctx) != 0 ||
	    mfa_audit_tx(db, r, "mfa.enrol") != 0 || db_commit(db) != 0) {
		(void)db_rollback(db);
		goto fail;
	}
	/* A second factor is a privilege change: a new session token. */
	if (auth_session_new(app, r, u->id, SESSION_FULL) != 0)
		goto fail;
	(void)tval_set_str(ctx, "csrf", r->auth->s.csrf);
	return auth_render(app, r, "mfa_codes", ctx, 200);
fail:
	tval_free(ctx);
	return RQ_UNAVAILABLE;
}

enum request_outcome
mfa_recovery_post(struct app *app, struct request *r)
{
	const struct user *u = &r->auth->u;
	struct db *db = app_db(app);
	struct form *f;
	struct tval *ctx;
	char target[64];
	int rc = 0;

	if (!u->totp_enabled) {
		request_redirect(r, "/mfa/setup");
		return RQ_OK;
	}
	str_printf(target, sizeof(target), "user:%s", u->login);
	/* New codes need the authenticator itself, not a recovery code. */
	if ((f = mfa_form(r)) != NULL)
		rc = mfa_verify_totp(app, u, form_str(f, MF_TOTP));
	form_free(f);
	if (rc < 0)
		return RQ_UNAVAILABLE;
	if (rc == 0) {
		(void)auth_audit(
		    app, r, "mfa.recovery_regenerate", target, "failure", NULL);
		return mfa_status_page(app, r, "mfa.wrong_code", 422);
	}
	ctx = auth_page_ctx(app, r, "mfa.codes_title");
	if (db_begin(db) != 0 || mfa_new_codes(db, u, ctx) != 0 ||
	    mfa_audit_tx(db, r, "mfa.recovery_regenerate") != 0 ||
	    db_commit(db) != 0) {
		(void)db_rollback(db);
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	return auth_render(app, r, "mfa_codes", ctx, 200);
}
