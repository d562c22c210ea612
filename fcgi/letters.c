/*
 * letters: activation letters for a school admin — the school's batches
 * (/admin/letters), a batch as printable A4 letters and as CSV, its
 * destruction once printed, and the re-issue of one account's code
 * (/admin/accounts/:id/reissue), which makes a one-letter batch. The codes
 * live sealed in lib/letters until the batch is destroyed or expires; each
 * view, download and destruction is audited, and a re-issue is audited in
 * the transaction that makes the new code.
 *
 * It must never show a code of another school's batch, nor say whether one
 * exists (404 as for a missing one), and never re-issue an account outside
 * the admin's school, a disabled one, or the admin's own.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "app.h"
#include "audit.h"
#include "auth.h"
#include "conf.h"
#include "csv.h"
#include "form.h"
#include "i18n.h"
#include "ids.h"
#include "issue.h"
#include "letters.h"
#include "log.h"
#include "router.h"
#include "session.h"
#include "template.h"
#include "util.h"

#define LET_CSRF AUTH_CSRF_PATTERN
/* Batches per page of /admin/letters. */
#define LET_PAGE_SIZE 50

/* ------------------------------------------------------------ helpers */

/* The batch :id when it is of the admin's school (its id into *idp). RQ_OK,
 * or 404 for a malformed, missing or another school's batch (that one
 * audited as a refusal), 503 on a database error. */
static enum request_outcome
let_find(struct app *app, struct request *r, const char **idp)
{
	const char *id = request_capture(r, "id");
	struct db_param p[1];
	struct db_res *res;
	uint64_t school;

	if (id == NULL || !ids_public_valid(id))
		return RQ_NOT_FOUND;
	p[0] = DB_STR(id);
	res = db_query(app_db(app),
	    "SELECT school_id FROM letter_batches WHERE public_id = ?", p, 1);
	if (res == NULL)
		return RQ_UNAVAILABLE;
	if (db_res_rows(res) == 0) {
		db_res_free(res);
		return RQ_NOT_FOUND;
	}
	school = (uint64_t)db_res_int(res, 0, 0);
	db_res_free(res);
	if (school != r->auth->u.school_id)
		return auth_deny(app, r, "other_school", 1);
	*idp = id;
	return RQ_OK;
}

/* Finds the batch :id of the admin's school and loads it: RQ_OK with
 * *state LETTERS_READY (*l and *n filled; free with letters_free) or
 * LETTERS_GONE; otherwise the answer (404 for a missing or another
 * school's batch, 503 on an error). */
static enum request_outcome
let_open(struct app *app, struct request *r, const char **idp, int *state,
    struct letter **l, size_t *n, char created[20], char expires[20])
{
	enum request_outcome o = let_find(app, r, idp);

	if (o != RQ_OK)
		return o;
	*state = letters_load(app_db(app), app->data_key, r->auth->u.school_id,
	    *idp, l, n, created, expires);
	if (*state < 0)
		return RQ_UNAVAILABLE;
	return *state == LETTERS_MISSING ? RQ_NOT_FOUND : RQ_OK;
}

/* The site's address for the letters: site.url, or the address this
 * request came in on — its host (HTTP_HOST, which Debian's fastcgi_params
 * fill from nginx's checked $host, without the port) and the port it was
 * received on when that is not 443. */
static void
let_site(struct app *app, const struct request *r, char *out, size_t n)
{
	static const char host_ok[] =
	    "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]";
	const char *host = request_param(r, "HTTP_HOST");
	const char *port = request_param(r, "SERVER_PORT");
	const char *bracket;

	if (app->conf->site_url[0] != '\0') {
		(void)str_copy(out, n, app->conf->site_url);
		return;
	}
	if (host == NULL || host[0] == '\0' ||
	    strspn(host, host_ok) != strlen(host))
		host = request_param(r, "SERVER_NAME");
	if (host == NULL || host[0] == '\0' ||
	    strspn(host, host_ok) != strlen(host))
		host = "localhost";
	/* A host that names its port already ("h:8443", "[::1]:8443"). */
	bracket = strrchr(host, ']');
	if (strchr(bracket != NULL ? bracket : host, ':') != NULL ||
	    port == NULL || strcmp(port, "443") == 0 || port[0] == '\0' ||
	    strspn(port, "0123456789") != strlen(port))
		str_printf(out, n, "https://%s", host);
	else
		str_printf(out, n, "https://%s:%s", host, port);
}

/* Audits an action on batch id by the signed-in admin (its own
 * transaction). 0/-1. */
static int
let_audit(struct app *app, const struct request *r, const char *event,
    const char *id, size_t n)
{
	char target[64], detail[48];

	str_printf(target, sizeof(target), "letters:%s", id);
	str_printf(detail, sizeof(detail), "{\"letters\":%zu}", n);
	return auth_audit(app, r, event, target, "success", detail);
}

/* A label in both languages (letters are bilingual whatever the page's
 * language): obj.zh and obj.en. */
static struct tval *
let_both(struct app *app, const char *key)
{
	struct tval *o = tval_obj();

	(void)tval_set_str(o, "zh", i18n_get(app->msgs, "zh-TW", key));
	(void)tval_set_str(o, "en", i18n_get(app->msgs, "en", key));
	return o;
}

/* ------------------------------------------------------ /admin/letters */

static const char let_list_sql[] =
    "SELECT public_id, DATE_FORMAT(created_at, '%Y-%m-%d %H:%i'), "
    "created_by_actor, letters, destroyed_at IS NOT NULL, (payload IS NULL "
    "OR expires_at <= UTC_TIMESTAMP(6)), DATE_FORMAT(expires_at, "
    "'%Y-%m-%d %H:%i') FROM letter_batches WHERE school_id = ? "
    "ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?";

enum request_outcome
letters_list_get(struct app *app, struct request *r)
{
	struct tval *ctx = auth_page_ctx(app, r, "letters.list_title");
	long page = auth_page_query(app, r, ctx, "none", "letters");
	struct db_param p[3];
	struct db_res *res;
	struct tval *list, *row;
	char text[256], href[64];
	long long total;
	size_t i;

	p[0] = DB_INT((long long)r->auth->u.school_id);
	res = db_query(app_db(app),
	    "SELECT COUNT(*) FROM letter_batches WHERE school_id = ?", p, 1);
	if (res == NULL) {
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	total = db_res_int(res, 0, 0);
	db_res_free(res);
	p[1] = DB_INT(LET_PAGE_SIZE);
	p[2] = DB_INT((long long)(page - 1) * LET_PAGE_SIZE);
	res = db_query(app_db(app), let_list_sql, p, 3);
	if (res == NULL) {
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	list = tval_list();
	for (i = 0; i < db_res_rows(res); i++) {
		row = tval_obj();
		(void)tval_set_str(row, "id", db_res_get(res, i, 0));
		(void)tval_set_str(row, "at", db_res_get(res, i, 1));
		(void)tval_set_str(row, "by", db_res_get(res, i, 2));
		(void)tval_set_int(row, "count", db_res_int(res, i, 3));
		if (db_res_int(res, i, 4) != 0)
			(void)tval_set_str(row, "state",
			    auth_msg(app, r, "letters.state_destroyed"));
		else if (db_res_int(res, i, 5) != 0)
			(void)tval_set_str(row, "state",
			    auth_msg(app, r, "letters.state_expired"));
		else {
			str_printf(text, sizeof(text), "%s %s UTC",
			    auth_msg(app, r, "letters.state_ready"),
			    db_res_get(res, i, 6));
			(void)tval_set_str(row, "state", text);
			(void)tval_set_bool(row, "ready", 1);
		}
		(void)tval_push(list, row);
	}
	db_res_free(res);
	(void)tval_set(ctx, "batches", list);
	(void)tval_set_int(ctx, "total", total);
	(void)tval_set_str(ctx, "keep_text",
	    auth_msg_n(app, r, "letters.keep",
		(long)app->conf->letters_keep_hours, text, sizeof(text)));
	if (page > 1) {
		str_printf(
		    href, sizeof(href), "/admin/letters?page=%ld", page - 1);
		(void)tval_set_str(ctx, "prev_href", href);
	}
	if ((long long)page * LET_PAGE_SIZE < total) {
		str_printf(
		    href, sizeof(href), "/admin/letters?page=%ld", page + 1);
		(void)tval_set_str(ctx, "next_href", href);
	}
	return auth_render(app, r, "letters_list", ctx, 200);
}

/* -------------------------------------------------- /admin/letters/:id */

/* One letter's values. */
static struct tval *
let_letter(struct app *app, const struct letter *l)
{
	struct tval *o = tval_obj();

	(void)tval_set_bool(o, "student", strcmp(l->role, "student") == 0);
	(void)tval_set_str(o, "role_zh",
	    i18n_get(app->msgs, "zh-TW",
		strcmp(l->role, "student") == 0 ? "role.student"
						: "role.teacher"));
	(void)tval_set_str(o, "role_en",
	    i18n_get(app->msgs, "en",
		strcmp(l->role, "student") == 0 ? "role.student"
						: "role.teacher"));
	(void)tval_set_str(o, "login", l->login);
	(void)tval_set_str(o, "name", l->name);
	(void)tval_set_str(o, "student_no", l->student_no);
	(void)tval_set_str(o, "class_name", l->class_name);
	if (l->seat_no > 0)
		(void)tval_set_int(o, "seat", l->seat_no);
	(void)tval_set_str(o, "code", l->code);
	(void)tval_set_str(o, "expires", l->expires);
	return o;
}

/* The labels and instructions every letter carries, in both languages. */
static void
let_labels(struct app *app, struct tval *ctx)
{
	static const char *const keys[] = {"heading", "role", "name",
	    "student_no", "class", "seat", "login", "code", "expires", "signin",
	    "activate", "step1", "step2", "step3", "step4", "keep_safe"};
	struct tval *lbl = tval_obj();
	char key[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		str_printf(key, sizeof(key), "letters.letter.%s", keys[i]);
		(void)tval_set(lbl, keys[i], let_both(app, key));
	}
	(void)tval_set(ctx, "lbl", lbl);
}

/* The page of a batch that can no longer be shown; frees ctx. */
static enum request_outcome
let_gone_page(struct app *app, struct request *r, struct tval *ctx,
    const char *id, int status)
{
	char text[256];

	(void)tval_set_str(ctx, "id", id);
	(void)tval_set_bool(ctx, "gone", 1);
	(void)tval_set_str(ctx, "keep_text",
	    auth_msg_n(app, r, "letters.keep",
		(long)app->conf->letters_keep_hours, text, sizeof(text)));
	return auth_render(app, r, "letters", ctx, status);
}

enum request_outcome
letters_get(struct app *app, struct request *r)
{
	const char *id = NULL;
	struct letter *l = NULL;
	struct tval *ctx, *list;
	char created[20], expires[20], site[300], url[320], href[96];
	size_t n = 0, i;
	enum request_outcome o;
	int rc;

	o = let_open(app, r, &id, &rc, &l, &n, created, expires);
	if (o != RQ_OK)
		return o;
	ctx = auth_page_ctx(app, r, "letters.title");
	(void)auth_page_query(app, r, ctx, "destroyed|reissued", "letters");
	if (rc == LETTERS_GONE)
		return let_gone_page(app, r, ctx, id, 200);
	/* No code is shown without its audit row. */
	if (let_audit(app, r, "letters.view", id, n) != 0) {
		letters_free(l, n);
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	list = tval_list();
	for (i = 0; i < n; i++)
		(void)tval_push(list, let_letter(app, &l[i]));
	letters_free(l, n);
	(void)tval_set(ctx, "letters", list);
	(void)tval_set_int(ctx, "count", (long long)n);
	(void)tval_set_str(ctx, "id", id);
	(void)tval_set_str(ctx, "created", created);
	(void)tval_set_str(ctx, "expires_at", expires);
	(void)tval_set_str(ctx, "school", r->auth->u.school_name);
	let_site(app, r, site, sizeof(site));
	str_printf(url, sizeof(url), "%s/login", site);
	(void)tval_set_str(ctx, "signin_url", url);
	str_printf(url, sizeof(url), "%s/activate", site);
	(void)tval_set_str(ctx, "activate_url", url);
	str_printf(href, sizeof(href), "/admin/letters/%s/letters.csv", id);
	(void)tval_set_str(ctx, "csv_href", href);
	str_printf(href, sizeof(href), "/admin/letters/%s/destroy", id);
	(void)tval_set_str(ctx, "destroy_href", href);
	let_labels(app, ctx);
	return auth_render(app, r, "letters", ctx, 200);
}

/* ------------------------------------- /admin/letters/:id/letters.csv */

/* The CSV of n letters for Excel: a header in the admin's language, one
 * row per letter. */
static void
let_csv(struct app *app, const struct request *r, const struct letter *l,
    size_t n, const char *site, struct buf *out)
{
	static const char *const cols[] = {"school", "role", "login", "code",
	    "expires", "name", "student_no", "class", "seat", "signin",
	    "activate"};
	char key[48], seat[16], url[320];
	size_t i, j;

	csv_put_bom(out);
	for (j = 0; j < ARRAY_SIZE(cols); j++) {
		str_printf(key, sizeof(key), "letters.csv.%s", cols[j]);
		csv_put_cell(
		    out, auth_msg(app, r, key), j + 1 == ARRAY_SIZE(cols));
	}
	for (i = 0; i < n; i++) {
		csv_put_cell(out, r->auth->u.school_name, 0);
		csv_put_cell(out,
		    auth_msg(app, r,
			strcmp(l[i].role, "student") == 0 ? "role.student"
							  : "role.teacher"),
		    0);
		csv_put_cell(out, l[i].login, 0);
		csv_put_cell(out, l[i].code, 0);
		csv_put_cell(out, l[i].expires, 0);
		csv_put_cell(out, l[i].name, 0);
		csv_put_cell(out, l[i].student_no, 0);
		csv_put_cell(out, l[i].class_name, 0);
		if (l[i].seat_no > 0)
			str_printf(seat, sizeof(seat), "%d", l[i].seat_no);
		else
			seat[0] = '\0';
		csv_put_cell(out, seat, 0);
		str_printf(url, sizeof(url), "%s/login", site);
		csv_put_cell(out, url, 0);
		str_printf(url, sizeof(url), "%s/activate", site);
		csv_put_cell(out, url, 1);
	}
}

enum request_outcome
letters_csv_get(struct app *app, struct request *r)
{
	const char *id = NULL;
	struct letter *l = NULL;
	char created[20], expires[20], site[300], disp[128];
	size_t n = 0;
	enum request_outcome o;
	int rc;

	o = let_open(app, r, &id, &rc, &l, &n, created, expires);
	if (o != RQ_OK)
		return o;
	if (rc == LETTERS_GONE)
		return let_gone_page(
		    app, r, auth_page_ctx(app, r, "letters.title"), id, 404);
	if (let_audit(app, r, "letters.download", id, n) != 0) {
		letters_free(l, n);
		return RQ_UNAVAILABLE;
	}
	let_site(app, r, site, sizeof(site));
	buf_reset(&r->body);
	let_csv(app, r, l, n, site, &r->body);
	letters_free(l, n);
	str_printf(
	    disp, sizeof(disp), "attachment; filename=\"letters-%s.csv\"", id);
	if (request_header(r, "Content-Disposition", disp) != 0) {
		OPENSSL_cleanse(r->body.data, r->body.len);
		buf_reset(&r->body);
		return RQ_ERROR;
	}
	/* request_send marks every response Cache-Control: no-store. */
	request_ok(r, 200, "text/csv; charset=utf-8");
	return RQ_OK;
}

/* ---------------------------------------- /admin/letters/:id/destroy */

enum request_outcome
letters_destroy_post(struct app *app, struct request *r)
{
	struct db *db = app_db(app);
	const char *id = NULL;
	char target[64], to[96];
	enum request_outcome o;
	int rc;

	if (!auth_csrf_form_ok(r))
		return RQ_BAD_REQUEST;
	if ((o = let_find(app, r, &id)) != RQ_OK)
		return o;
	str_printf(target, sizeof(target), "letters:%s", id);
	if (db_begin(db) != 0)
		return RQ_UNAVAILABLE;
	rc = letters_destroy_tx(db, r->auth->u.school_id, id);
	if (rc == 1 &&
	    auth_audit_tx(db, r, "letters.destroy", target, NULL) != 0)
		rc = -1;
	/* 0: already destroyed or expired — nothing to record. */
	if (rc < 0 || (rc == 1 ? db_commit(db) : db_rollback(db)) != 0) {
		(void)db_rollback(db);
		return RQ_UNAVAILABLE;
	}
	str_printf(to, sizeof(to), "/admin/letters/%s?done=destroyed", id);
	request_redirect(r, to);
	return RQ_OK;
}

/* ---------------------------------------- /admin/accounts/:id/reissue */

/* The account :id of the admin's school with what its letter shows. */
static const char let_account_sql[] =
    "SELECT u.id, COALESCE(u.school_id, 0), u.role, u.status, u.login, "
    "u.name, COALESCE(s.student_no, ''), COALESCE(c.name, ''), "
    "COALESCE(s.seat_no, 0) FROM users u LEFT JOIN students s ON "
    "s.user_id = u.id AND s.school_id = u.school_id LEFT JOIN classes c ON "
    "c.id = s.class_id AND c.school_id = s.school_id WHERE u.public_id = ?";

enum {
	LA_ID,
	LA_SCHOOL,
	LA_ROLE,
	LA_STATUS,
	LA_LOGIN,
	LA_NAME,
	LA_STUDENT_NO,
	LA_CLASS,
	LA_SEAT,
	LA__MAX
};

/* The page that says why an account was not re-issued; frees ctx. */
static enum request_outcome
let_reissue_refused(
    struct app *app, struct request *r, const char *key, int status)
{
	struct tval *ctx = auth_page_ctx(app, r, "letters.reissue_title");

	(void)tval_set_str(ctx, "alert", auth_msg(app, r, key));
	return auth_render(app, r, "letters_reissue", ctx, status);
}

/* The letter of the account in res (row 0) with its new code. */
static void
let_from_account(
    const struct db_res *res, const struct issued *is, struct letter *l)
{
	memset(l, 0, sizeof(*l));
	(void)str_copy(l->role, sizeof(l->role), db_res_get(res, 0, LA_ROLE));
	(void)str_copy(
	    l->login, sizeof(l->login), db_res_get(res, 0, LA_LOGIN));
	(void)str_copy(l->name, sizeof(l->name), db_res_get(res, 0, LA_NAME));
	(void)str_copy(l->student_no, sizeof(l->student_no),
	    db_res_get(res, 0, LA_STUDENT_NO));
	(void)str_copy(
	    l->class_name, sizeof(l->class_name), db_res_get(res, 0, LA_CLASS));
	l->seat_no = (int)db_res_int(res, 0, LA_SEAT);
	(void)str_copy(l->code, sizeof(l->code), is->code);
	(void)str_copy(l->expires, sizeof(l->expires), is->expires);
}

/*
 * The new code, its letter and the audit row, in one transaction. 1 done
 * (the batch's id in batch), 0 when the account can no longer be
 * re-issued (disabled meanwhile), -1 on an error.
 */
static int
let_reissue_tx(struct app *app, struct request *r, const struct db_res *res,
    char batch[IDS_PUBLIC_LEN + 1])
{
	struct db *db = app_db(app);
	const struct user *me = &r->auth->u;
	struct issued is;
	struct letter l;
	char target[64], detail[64];
	int rc;

	memset(&is, 0, sizeof(is));
	target[0] = '\0';
	if (db_begin(db) != 0)
		return -1;
	rc = issue_reissue_tx(
	    db, me->school_id, (uint64_t)db_res_int(res, 0, LA_ID), &is);
	if (rc == 1) {
		let_from_account(res, &is, &l);
		str_printf(target, sizeof(target), "user:%s",
		    db_res_get(res, 0, LA_LOGIN));
		if (letters_create_tx(db, app->data_key, me->school_id, me->id,
			me->login, app->conf->letters_keep_hours, &l, 1,
			batch) != 0)
			rc = -1;
		OPENSSL_cleanse(&l, sizeof(l));
	}
	OPENSSL_cleanse(&is, sizeof(is));
	if (rc == 1) {
		str_printf(
		    detail, sizeof(detail), "{\"letters\":\"%s\"}", batch);
		if (auth_audit_tx(db, r, "account.reissue", target, detail) !=
			0 ||
		    db_commit(db) != 0)
			rc = -1;
	}
	if (rc != 1)
		(void)db_rollback(db);
	return rc;
}

enum request_outcome
account_reissue_post(struct app *app, struct request *r)
{
	const char *id = request_capture(r, "id");
	const struct user *me = &r->auth->u;
	struct db_param p[1];
	struct db_res *res;
	char batch[IDS_PUBLIC_LEN + 1], to[96];
	const char *role;
	uint64_t uid;
	int rc;

	if (!auth_csrf_form_ok(r))
		return RQ_BAD_REQUEST;
	if (id == NULL || !ids_public_valid(id))
		return RQ_NOT_FOUND;
	p[0] = DB_STR(id);
	res = db_query(app_db(app), let_account_sql, p, 1);
	if (res == NULL)
		return RQ_UNAVAILABLE;
	if (db_res_rows(res) == 0) {
		db_res_free(res);
		return RQ_NOT_FOUND;
	}
	if ((uint64_t)db_res_int(res, 0, LA_SCHOOL) != me->school_id) {
		db_res_free(res);
		return auth_deny(app, r, "other_school", 1);
	}
	uid = (uint64_t)db_res_int(res, 0, LA_ID);
	role = db_res_get(res, 0, LA_ROLE);
	if (uid == me->id) {
		db_res_free(res);
		(void)auth_deny(app, r, "self", 0);
		return let_reissue_refused(app, r, "letters.reissue_self", 403);
	}
	if (strcmp(role, "student") != 0 && strcmp(role, "teacher") != 0) {
		db_res_free(res);
		(void)auth_deny(app, r, "role", 0);
		return let_reissue_refused(app, r, "letters.reissue_role", 403);
	}
	if (strcmp(db_res_get(res, 0, LA_STATUS), "disabled") == 0) {
		db_res_free(res);
		return let_reissue_refused(
		    app, r, "letters.reissue_disabled", 409);
	}
	rc = let_reissue_tx(app, r, res, batch);
	db_res_free(res);
	if (rc < 0)
		return RQ_UNAVAILABLE;
	if (rc == 0)
		return let_reissue_refused(
		    app, r, "letters.reissue_disabled", 409);
	/* The old code no longer opens the account; neither may a session
	 * opened with the old password. */
	if (session_destroy_user(app_kv(app), uid, NULL) != 0) {
		log_error("the sessions of user %s could not be ended after "
			  "the re-issue of their code",
		    id);
		str_printf(to, sizeof(to), "/admin/letters/%s", batch);
		{
			struct tval *ctx =
			    auth_page_ctx(app, r, "letters.reissue_title");

			(void)tval_set_str(ctx, "alert",
			    auth_msg(app, r, "letters.reissue_sessions"));
			(void)tval_set_str(ctx, "letters_href", to);
			return auth_render(app, r, "letters_reissue", ctx, 503);
		}
	}
	str_printf(to, sizeof(to), "/admin/letters/%s?done=reissued", batch);
	request_redirect(r, to);
	return RQ_OK;
}
