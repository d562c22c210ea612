/*
 * windows: the upload windows of a school's terms (/admin/windows), set by
 * the school's admin. The list shows every term of the school, newest
 * first, with its window as lib/windows computes it (the admin's dates, or
 * the default rule) and where today stands in it; each term has a form that
 * sets its dates and, once set, a button that goes back to the default.
 * Each change is audited in its transaction. It never reads or writes
 * another school's term or window.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "conf.h"
#include "db.h"
#include "form.h"
#include "records.h"
#include "router.h"
#include "template.h"
#include "util.h"
#include "windows.h"

enum { WF_OP, WF_OPENS, WF_CLOSES, WF_CSRF, WF__MAX };
static const struct form_field window_fields[WF__MAX] = {
    [WF_OP] = {"op", FORM_ENUM, FORM_REQUIRED, 0, 0, "set|reset"},
    /* Required for op=set only: checked by window_post. */
    [WF_OPENS] = {"opens_on", FORM_DATE, 0, 0, 0, NULL},
    [WF_CLOSES] = {"closes_on", FORM_DATE, 0, 0, 0, NULL},
    [WF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43,
	AUTH_CSRF_PATTERN},
};

/* A refused form: the term it was for, the form, and the message keys of
 * the checks beyond the fields' declarations (NULL when none). */
struct window_refusal {
	const char *term; /* public id */
	const struct form *f;
	const char *opens_key;
	const char *closes_key;
};

static const char windows_terms_sql[] =
    "SELECT id, public_id, CONCAT(year, '-', semester), starts_on, ends_on "
    "FROM terms WHERE school_id = ? ORDER BY year DESC, semester DESC";

static const char *const window_state_words[] = {
    [WINDOW_NOT_YET] = "not_yet",
    [WINDOW_OPEN] = "open",
    [WINDOW_CLOSED] = "closed",
};

/* The message of field i of a refused form: its declared check's, else
 * the extra check's (key), else none. */
static void
window_field_error(struct app *app, struct request *r, struct tval *row,
    const char *name, const struct form *f, size_t i, const char *key)
{
	char k[32];

	str_printf(k, sizeof(k), "e_%s", name);
	if (form_error(f, i) != FORM_E_OK)
		auth_field_error(app, r, row, k, f, i);
	else if (key != NULL)
		(void)tval_set_str(row, k, auth_msg(app, r, key));
}

/* One term's row: its dates, its window and the form's values. */
static int
window_row(struct app *app, struct request *r, const struct db_res *res,
    size_t i, const struct window_refusal *no, struct tval **out)
{
	struct window w;
	struct tval *row;
	char key[48];
	int rc;

	rc = windows_get(app_db(app), r->auth->u.school_id,
	    (uint64_t)db_res_int(res, i, 0), app->conf->items_window_days, &w);
	if (rc != 1)
		return -1; /* an error, or the term went away meanwhile */
	row = tval_obj();
	(void)tval_set_str(row, "id", db_res_get(res, i, 1));
	(void)tval_set_str(row, "label", db_res_get(res, i, 2));
	(void)tval_set_str(row, "starts_on", db_res_get(res, i, 3));
	(void)tval_set_str(row, "ends_on", db_res_get(res, i, 4));
	(void)tval_set_str(row, "opens_on", w.opens_on);
	(void)tval_set_str(row, "closes_on", w.closes_on);
	(void)tval_set_bool(row, "is_default", w.is_default);
	(void)tval_set_str(row, "state", window_state_words[w.state]);
	str_printf(
	    key, sizeof(key), "windows.state.%s", window_state_words[w.state]);
	(void)tval_set_str(row, "state_text", auth_msg(app, r, key));
	if (no != NULL && strcmp(no->term, db_res_get(res, i, 1)) == 0) {
		(void)tval_set_bool(row, "refused", 1);
		(void)tval_set_str(
		    row, "f_opens_on", form_echo(no->f, WF_OPENS));
		(void)tval_set_str(
		    row, "f_closes_on", form_echo(no->f, WF_CLOSES));
		window_field_error(
		    app, r, row, "opens_on", no->f, WF_OPENS, no->opens_key);
		window_field_error(
		    app, r, row, "closes_on", no->f, WF_CLOSES, no->closes_key);
	} else {
		(void)tval_set_str(row, "f_opens_on", w.opens_on);
		(void)tval_set_str(row, "f_closes_on", w.closes_on);
	}
	*out = row;
	return 0;
}

/* Renders /admin/windows with the school's terms; no is the refused form
 * (NULL on a GET). Frees ctx. */
static enum request_outcome
windows_page(struct app *app, struct request *r, struct tval *ctx,
    const struct window_refusal *no, int status)
{
	struct db_param p[1] = {DB_INT((long long)r->auth->u.school_id)};
	struct db_res *res = db_query(app_db(app), windows_terms_sql, p, 1);
	struct tval *rows, *row;
	char text[256];
	size_t i;

	if (res == NULL) {
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	rows = tval_list();
	for (i = 0; i < db_res_rows(res); i++) {
		if (window_row(app, r, res, i, no, &row) != 0) {
			tval_free(rows);
			tval_free(ctx);
			db_res_free(res);
			return RQ_UNAVAILABLE;
		}
		(void)tval_push(rows, row);
	}
	(void)tval_set(ctx, "rows", rows);
	(void)tval_set_int(ctx, "count", (long long)db_res_rows(res));
	db_res_free(res);
	(void)tval_set_str(ctx, "lead",
	    auth_msg_n(app, r, "windows.lead", app->conf->items_window_days,
		text, sizeof(text)));
	(void)tval_set_str(ctx, "default_text",
	    auth_msg_n(app, r, "windows.default", app->conf->items_window_days,
		text, sizeof(text)));
	return auth_render(app, r, "windows", ctx, status);
}

enum request_outcome
windows_list_get(struct app *app, struct request *r)
{
	struct tval *ctx = auth_page_ctx(app, r, "windows.title");

	(void)auth_page_query(app, r, ctx, "set|reset", "windows");
	return windows_page(app, r, ctx, NULL, 200);
}

/* The audit detail of a change: the term and the window's dates (those
 * set, or those a reset removed). */
static void
window_detail(
    struct buf *d, const char *label, const char *opens, const char *closes)
{
	buf_init(d);
	buf_putc(d, '{');
	buf_json_kv(d, "term", label);
	buf_json_kv(d, "opens_on", opens);
	buf_json_kv(d, "closes_on", closes);
	buf_putc(d, '}');
}

/* Sets (opens, closes) or, when opens is NULL, removes the term's window,
 * with its audit row, in one transaction. *changed is 0 when a reset found
 * no window to remove (nothing is written then). 0/-1. */
static int
window_change(struct app *app, struct request *r, long long term_id,
    const char *label, const char *opens, const char *closes, int *changed)
{
	struct db *db = app_db(app);
	struct db_param p[5];
	struct db_res *old = NULL;
	char target[32];
	struct buf d;
	int rc = -1;

	*changed = 0;
	buf_init(&d);
	str_printf(target, sizeof(target), "term:%s", label);
	if (db_begin(db) != 0)
		return -1;
	p[0] = DB_INT(term_id);
	p[1] = DB_INT((long long)r->auth->u.school_id);
	old = db_query(db,
	    "SELECT opens_on, closes_on FROM upload_windows "
	    "WHERE term_id = ? AND school_id = ? FOR UPDATE",
	    p, 2);
	if (old == NULL)
		goto out;
	if (opens == NULL) {
		if (db_res_rows(old) == 0) {
			rc = 0;
			goto out;
		}
		window_detail(
		    &d, label, db_res_get(old, 0, 0), db_res_get(old, 0, 1));
		if (db_exec(db,
			"DELETE FROM upload_windows WHERE term_id = ? AND "
			"school_id = ?",
			p, 2, NULL, NULL) != 0 ||
		    auth_audit_tx(
			db, r, "upload_window.reset", target, d.data) != 0)
			goto out;
	} else {
		p[2] = DB_STR(opens);
		p[3] = DB_STR(closes);
		p[4] = DB_INT((long long)r->auth->u.id);
		window_detail(&d, label, opens, closes);
		if (db_exec(db,
			"INSERT INTO upload_windows (term_id, school_id, "
			"opens_on, closes_on, set_by) VALUES (?, ?, ?, ?, ?) "
			"ON DUPLICATE KEY UPDATE opens_on = VALUES(opens_on), "
			"closes_on = VALUES(closes_on), set_by = "
			"VALUES(set_by), set_at = CURRENT_TIMESTAMP(6)",
			p, 5, NULL, NULL) != 0 ||
		    auth_audit_tx(db, r, "upload_window.set", target, d.data) !=
			0)
			goto out;
	}
	if (db_commit(db) != 0)
		goto out;
	*changed = 1;
	rc = 0;
out:
	if (rc != 0 || !*changed)
		(void)db_rollback(db);
	db_res_free(old);
	buf_free(&d);
	return rc;
}

enum request_outcome
window_post(struct app *app, struct request *r)
{
	const char *pub = request_capture(r, "id");
	struct window_refusal no = {pub, NULL, NULL, NULL};
	enum request_outcome o;
	struct form *f;
	struct tval *ctx;
	char label[16], href[64];
	long long term_id = 0;
	int rc, invalid, reset, changed;

	rc = pub != NULL ? rec_term_find(app, r, pub, &term_id, label) : 0;
	if (rc < 0)
		return RQ_UNAVAILABLE;
	if (rc == 0)
		return auth_deny(app, r, "not_found", 1);
	if ((f = form_new(window_fields, WF__MAX)) == NULL)
		return RQ_ERROR;
	no.f = f;
	invalid = form_parse(f, r->input.data, r->input.len) != 0;
	reset = strcmp(form_str(f, WF_OP), "reset") == 0;
	if (!reset && form_error(f, WF_OP) == FORM_E_OK) {
		if (!form_has(f, WF_OPENS))
			no.opens_key = "form.error.missing";
		if (!form_has(f, WF_CLOSES))
			no.closes_key = "form.error.missing";
		if (!invalid && no.opens_key == NULL && no.closes_key == NULL &&
		    strcmp(form_str(f, WF_OPENS), form_str(f, WF_CLOSES)) > 0)
			no.closes_key = "windows.error.order";
	}
	if (invalid || no.opens_key != NULL || no.closes_key != NULL) {
		ctx = auth_page_ctx(app, r, "windows.title");
		(void)tval_set_str(ctx, "alert",
		    auth_msg(app, r,
			form_unknown(f) != NULL ? "form.error.unknown"
						: "windows.invalid"));
		o = windows_page(app, r, ctx, &no, 422);
		form_free(f);
		return o;
	}
	rc = window_change(app, r, term_id, label,
	    reset ? NULL : form_str(f, WF_OPENS),
	    reset ? NULL : form_str(f, WF_CLOSES), &changed);
	form_free(f);
	if (rc != 0)
		return RQ_UNAVAILABLE;
	str_printf(href, sizeof(href), "/admin/windows?done=%s",
	    reset ? "reset" : "set");
	request_redirect(r, href);
	return RQ_OK;
}
