/*
 * deadlines: the school admin's deadlines at /admin/deadlines — for each
 * term of the school (newest first) its certification deadline, and for
 * each school year it has terms in its selection (勾選) deadline, each as
 * lib/deadlines computes it (the admin's date or the default rule) with
 * whether it has passed, a form that sets it and a button back to the
 * default. A deadline may not fall before the closing ceremony of its term
 * (of the year's last term, for selection). Each change is audited in its
 * transaction with the old and the new date; moving a certification
 * deadline later is an extension, audited as such. It never reads or
 * writes another school's term or deadline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "conf.h"
#include "db.h"
#include "deadlines.h"
#include "form.h"
#include "records.h"
#include "router.h"
#include "template.h"
#include "util.h"

enum { DF_OP, DF_DEADLINE, DF_CSRF, DF__MAX };
static const struct form_field deadline_fields[DF__MAX] = {
    [DF_OP] = {"op", FORM_ENUM, FORM_REQUIRED, 0, 0, "set|reset"},
    /* Required for op=set only: checked by deadline_post. */
    [DF_DEADLINE] = {"deadline", FORM_DATE, 0, 0, 0, NULL},
    [DF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, REC_CSRF},
};

/* What differs between the two deadlines: their table's statements (each
 * binds the row's two key columns first, in the order of the target's
 * key), their audit events and the message of a date too early. */
struct deadline_kind {
	const char *name; /* "term", "year": the rows' and URLs' word */
	const char *select_sql; /* the admin's date, locked */
	const char *upsert_sql; /* key, key, deadline, set_by */
	const char *delete_sql;
	const char *ev_set, *ev_extended, *ev_reset;
	const char *early_key; /* the message of a date before the floor */
};

static const struct deadline_kind deadline_cert = {
    "term",
    "SELECT deadline FROM cert_deadlines WHERE term_id = ? AND school_id = "
    "? FOR UPDATE",
    "INSERT INTO cert_deadlines (term_id, school_id, deadline, set_by) "
    "VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE deadline = "
    "VALUES(deadline), set_by = VALUES(set_by), set_at = "
    "CURRENT_TIMESTAMP(6)",
    "DELETE FROM cert_deadlines WHERE term_id = ? AND school_id = ?",
    "certify.deadline_set",
    "certify.deadline_extended",
    "certify.deadline_reset",
    "deadlines.error.before_closing",
};

static const struct deadline_kind deadline_sel = {
    "year",
    "SELECT deadline FROM selection_deadlines WHERE school_id = ? AND year "
    "= ? FOR UPDATE",
    "INSERT INTO selection_deadlines (school_id, year, deadline, set_by) "
    "VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE deadline = "
    "VALUES(deadline), set_by = VALUES(set_by), set_at = "
    "CURRENT_TIMESTAMP(6)",
    "DELETE FROM selection_deadlines WHERE school_id = ? AND year = ?",
    "selection.deadline_set",
    "selection.deadline_set", /* a later date is in the detail's change */
    "selection.deadline_reset",
    "deadlines.error.before_last_term",
};

/* One deadline being changed: its kind, its row's key, its label ("114-1"
 * or "114"), the date the default rule gives and the earliest date
 * allowed (the closing ceremony). */
struct deadline_target {
	const struct deadline_kind *k;
	struct db_param key[2];
	char label[16];
	char id[IDS_PUBLIC_LEN + 1]; /* the public id, or the year */
	char default_date[WINDOW_DATE_LEN + 1];
	char floor[WINDOW_DATE_LEN + 1];
};

/* A refused form: the row it was for, the form and the message of the
 * check beyond the fields' declarations (NULL when none). */
struct deadline_refusal {
	const struct deadline_target *t;
	const struct form *f;
	const char *key;
};

static const char deadlines_terms_sql[] =
    "SELECT id, public_id, CONCAT(year, '-', semester), starts_on, ends_on, "
    "year FROM terms WHERE school_id = ? ORDER BY year DESC, semester DESC";
enum { DT_ID, DT_PUB, DT_LABEL, DT_STARTS, DT_ENDS, DT_YEAR };

/* One row's deadline, form and (when the refused form was this row's) its
 * message. */
static struct tval *
deadline_row(struct app *app, struct request *r, const char *kind,
    const char *id, const struct deadline *d, const char *default_date,
    const struct deadline_refusal *no)
{
	struct tval *row = tval_obj();
	const struct form *f;
	char key[32];

	str_printf(key, sizeof(key), "deadlines.hint_%s", kind);
	(void)tval_set_str(row, "kind", kind);
	(void)tval_set_str(row, "hint", auth_msg(app, r, key));
	(void)tval_set_str(row, "id", id);
	(void)tval_set_str(row, "deadline", d->date);
	(void)tval_set_str(row, "default_date", default_date);
	(void)tval_set_bool(row, "is_default", d->is_default);
	(void)tval_set_bool(row, "passed", d->passed);
	(void)tval_set_str(row, "state_text",
	    auth_msg(app, r,
		d->passed ? "deadlines.state.passed" : "deadlines.state.open"));
	if (no == NULL || strcmp(no->t->k->name, kind) != 0 ||
	    strcmp(no->t->id, id) != 0) {
		(void)tval_set_str(row, "f_deadline", d->date);
		return row;
	}
	f = no->f;
	(void)tval_set_bool(row, "refused", 1);
	(void)tval_set_str(row, "f_deadline", form_echo(f, DF_DEADLINE));
	if (form_error(f, DF_DEADLINE) != FORM_E_OK)
		auth_field_error(app, r, row, "e_deadline", f, DF_DEADLINE);
	else if (no->key != NULL)
		(void)tval_set_str(
		    row, "e_deadline", auth_msg(app, r, no->key));
	return row;
}

/* The certification deadline rows of the school's terms (res). 0/-1. */
static int
deadlines_terms(struct app *app, struct request *r, const struct db_res *res,
    const struct deadline_refusal *no, struct tval *ctx)
{
	int days = app->conf->certify_deadline_days;
	char def[WINDOW_DATE_LEN + 1];
	struct tval *rows = tval_list(), *row;
	struct deadline d;
	size_t i;

	for (i = 0; i < db_res_rows(res); i++) {
		if (deadlines_cert(app_db(app), r->auth->u.school_id,
			(uint64_t)db_res_int(res, i, DT_ID), days, &d) != 1 ||
		    windows_add_days(db_res_get(res, i, DT_ENDS), days, def) !=
			0) {
			tval_free(rows);
			return -1;
		}
		row = deadline_row(
		    app, r, "term", db_res_get(res, i, DT_PUB), &d, def, no);
		(void)tval_set_str(row, "label", db_res_get(res, i, DT_LABEL));
		(void)tval_set_str(
		    row, "starts_on", db_res_get(res, i, DT_STARTS));
		(void)tval_set_str(row, "ends_on", db_res_get(res, i, DT_ENDS));
		(void)tval_push(rows, row);
	}
	(void)tval_set(ctx, "terms", rows);
	return 0;
}

/* The selection deadline rows of each school year the terms (res, newest
 * first) fall in, with the year's terms and last closing ceremony. 0/-1. */
static int
deadlines_years(struct app *app, struct request *r, const struct db_res *res,
    const struct deadline_refusal *no, struct tval *ctx)
{
	const char *md = app->conf->selection_deadline;
	char def[WINDOW_DATE_LEN + 1];
	struct tval *rows = tval_list(), *row = NULL;
	struct buf terms;
	struct deadline d;
	const char *year;
	size_t i, j;

	buf_init(&terms);
	for (i = 0; i < db_res_rows(res); i = j) {
		year = db_res_get(res, i, DT_YEAR);
		buf_reset(&terms);
		/* The year's terms follow each other, newest first: the
		 * first one's closing ceremony is the year's last. */
		for (j = i; j < db_res_rows(res) &&
		     strcmp(db_res_get(res, j, DT_YEAR), year) == 0;
		     j++)
			buf_printf(&terms, "%s%s", j > i ? ", " : "",
			    db_res_get(res, j, DT_LABEL));
		if (deadlines_selection(app_db(app), r->auth->u.school_id,
			atoi(year), md, &d) != 1 ||
		    deadlines_selection_default(atoi(year), md, def) != 0) {
			tval_free(rows);
			buf_free(&terms);
			return -1;
		}
		row = deadline_row(app, r, "year", year, &d, def, no);
		(void)tval_set_str(row, "label", year);
		(void)tval_set_str(row, "year_terms", terms.data);
		(void)tval_set_str(
		    row, "last_closing", db_res_get(res, i, DT_ENDS));
		(void)tval_push(rows, row);
	}
	buf_free(&terms);
	(void)tval_set(ctx, "years", rows);
	return 0;
}

/* Renders /admin/deadlines; no is the refused form (NULL on a GET). Frees
 * ctx. */
static enum request_outcome
deadlines_page(struct app *app, struct request *r, struct tval *ctx,
    const struct deadline_refusal *no, int status)
{
	struct db_param p[1] = {DB_INT((long long)r->auth->u.school_id)};
	struct db_res *res = db_query(app_db(app), deadlines_terms_sql, p, 1);
	char text[256];
	int rc;

	if (res == NULL) {
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	rc = deadlines_terms(app, r, res, no, ctx);
	if (rc == 0)
		rc = deadlines_years(app, r, res, no, ctx);
	(void)tval_set_int(ctx, "count", (long long)db_res_rows(res));
	db_res_free(res);
	if (rc != 0) {
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	(void)tval_set_str(ctx, "cert_lead",
	    auth_msg_n(app, r, "deadlines.cert_lead",
		app->conf->certify_deadline_days, text, sizeof(text)));
	(void)tval_set_str(ctx, "cert_default",
	    auth_msg_n(app, r, "deadlines.cert_default",
		app->conf->certify_deadline_days, text, sizeof(text)));
	(void)tval_set_str(ctx, "sel_md", app->conf->selection_deadline);
	return auth_render(app, r, "deadlines", ctx, status);
}

enum request_outcome
deadlines_get(struct app *app, struct request *r)
{
	struct tval *ctx = auth_page_ctx(app, r, "deadlines.title");

	(void)auth_page_query(
	    app, r, ctx, "set|extended|shortened|unchanged|reset", "deadlines");
	return deadlines_page(app, r, ctx, NULL, 200);
}

/* The audit detail of a change: the row's label, the old and new dates,
 * whether each is the default rule's, and which way it moved. */
static void
deadline_detail(struct buf *d, const struct deadline_target *t, const char *old,
    int old_default, const char *new, int new_default)
{
	int c = strcmp(new, old);

	buf_init(d);
	buf_putc(d, '{');
	buf_json_kv(d, t->k->name, t->label);
	buf_json_kv(d, "old", old);
	buf_json_kv(d, "new", new);
	buf_puts(d,
	    old_default ? ",\"old_default\":true" : ",\"old_default\":false");
	buf_puts(d,
	    new_default ? ",\"new_default\":true" : ",\"new_default\":false");
	buf_json_kv(d, "change", c > 0 ? "extend" : c < 0 ? "shorten" : "same");
	buf_putc(d, '}');
}

/* Sets the target's deadline to date or, when date is NULL, removes the
 * admin's date, with its audit row, in one transaction. *done names what
 * happened (the notice): nothing is written for a date equal to the one
 * set, nor for a reset of a default. 0/-1. */
static int
deadline_change(struct app *app, struct request *r,
    const struct deadline_target *t, const char *date, const char **done)
{
	const struct deadline_kind *k = t->k;
	struct db *db = app_db(app);
	struct db_param p[4] = {t->key[0], t->key[1]};
	char target[32], old[WINDOW_DATE_LEN + 1];
	struct db_res *res;
	const char *event;
	int has_row, c;
	struct buf d;

	*done = date == NULL ? "reset" : "unchanged";
	buf_init(&d);
	str_printf(target, sizeof(target), "%s:%s", k->name, t->label);
	if (db_begin(db) != 0)
		return -1;
	if ((res = db_query(db, k->select_sql, p, 2)) == NULL)
		goto fail;
	has_row = db_res_rows(res) > 0;
	(void)str_copy(old, sizeof(old),
	    has_row ? db_res_get(res, 0, 0) : t->default_date);
	db_res_free(res);
	if (date == NULL) {
		if (!has_row)
			goto out;
		deadline_detail(&d, t, old, 0, t->default_date, 1);
		if (db_exec(db, k->delete_sql, p, 2, NULL, NULL) != 0 ||
		    auth_audit_tx(db, r, k->ev_reset, target, d.data) != 0)
			goto fail;
	} else {
		c = strcmp(date, old);
		if (has_row && c == 0)
			goto out;
		p[2] = DB_STR(date);
		p[3] = DB_INT((long long)r->auth->u.id);
		deadline_detail(&d, t, old, !has_row, date, 0);
		event = c > 0 ? k->ev_extended : k->ev_set;
		*done = c > 0 ? "extended" : c < 0 ? "shortened" : "set";
		if (db_exec(db, k->upsert_sql, p, 4, NULL, NULL) != 0 ||
		    auth_audit_tx(db, r, event, target, d.data) != 0)
			goto fail;
	}
	if (db_commit(db) != 0)
		goto fail;
	buf_free(&d);
	return 0;
out: /* nothing to change */
	(void)db_rollback(db);
	buf_free(&d);
	return 0;
fail:
	(void)db_rollback(db);
	buf_free(&d);
	return -1;
}

/* The form of one row, posted: refused with the page again (422), or the
 * change made and the page asked for again with its notice. */
static enum request_outcome
deadline_post(struct app *app, struct request *r, struct deadline_target *t)
{
	struct deadline_refusal no = {t, NULL, NULL};
	enum request_outcome o;
	struct form *f;
	struct tval *ctx;
	const char *done;
	char href[64];
	int invalid, reset, rc;

	if ((f = form_new(deadline_fields, DF__MAX)) == NULL)
		return RQ_ERROR;
	no.f = f;
	invalid = form_parse(f, r->input.data, r->input.len) != 0;
	reset = strcmp(form_str(f, DF_OP), "reset") == 0;
	if (!reset && form_error(f, DF_OP) == FORM_E_OK) {
		if (!form_has(f, DF_DEADLINE))
			no.key = "form.error.missing";
		else if (form_error(f, DF_DEADLINE) == FORM_E_OK &&
		    strcmp(form_str(f, DF_DEADLINE), t->floor) < 0)
			no.key = t->k->early_key;
	}
	if (invalid || no.key != NULL) {
		ctx = auth_page_ctx(app, r, "deadlines.title");
		(void)tval_set_str(ctx, "alert",
		    auth_msg(app, r,
			form_unknown(f) != NULL ? "form.error.unknown"
						: "deadlines.invalid"));
		o = deadlines_page(app, r, ctx, &no, 422);
		form_free(f);
		return o;
	}
	rc = deadline_change(
	    app, r, t, reset ? NULL : form_str(f, DF_DEADLINE), &done);
	form_free(f);
	if (rc != 0)
		return RQ_UNAVAILABLE;
	str_printf(href, sizeof(href), "/admin/deadlines?done=%s", done);
	request_redirect(r, href);
	return RQ_OK;
}

enum request_outcome
deadline_term_post(struct app *app, struct request *r)
{
	struct deadline_target t = {.k = &deadline_cert};
	enum request_outcome o;
	struct db_res *row = rec_find(app, r,
	    "SELECT id, public_id, CONCAT(year, '-', semester), ends_on FROM "
	    "terms WHERE public_id = ? AND school_id = ?",
	    request_capture(r, "id"), &o);
	int bad;

	if (row == NULL)
		return o;
	t.key[0] = DB_INT(db_res_int(row, 0, 0));
	t.key[1] = DB_INT((long long)r->auth->u.school_id);
	bad = str_copy(t.id, sizeof(t.id), db_res_get(row, 0, 1)) != 0 ||
	    str_copy(t.label, sizeof(t.label), db_res_get(row, 0, 2)) != 0 ||
	    str_copy(t.floor, sizeof(t.floor), db_res_get(row, 0, 3)) != 0 ||
	    windows_add_days(
		t.floor, app->conf->certify_deadline_days, t.default_date) != 0;
	db_res_free(row);
	return bad ? RQ_ERROR : deadline_post(app, r, &t);
}

/* The school year of the URL, 1..999 in decimal without a sign or leading
 * zero; 0 when it is not one. */
static int
deadline_year_parse(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0, i;

	if (n < 1 || n > 3 || s[0] == '0')
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return atoi(s);
}

enum request_outcome
deadline_year_post(struct app *app, struct request *r)
{
	struct deadline_target t = {.k = &deadline_sel};
	int year = deadline_year_parse(request_capture(r, "id"));
	struct db_param p[2];
	struct db_res *res;
	int bad;

	/* A year the school has no term in is no year of its own. */
	if (year == 0)
		return auth_deny(app, r, "not_found", 1);
	p[0] = DB_INT((long long)r->auth->u.school_id);
	p[1] = DB_INT(year);
	res = db_query(app_db(app),
	    "SELECT MAX(ends_on) FROM terms WHERE school_id = ? AND year = ?",
	    p, 2);
	if (res == NULL)
		return RQ_UNAVAILABLE;
	if (db_res_get(res, 0, 0) == NULL) {
		db_res_free(res);
		return auth_deny(app, r, "not_found", 1);
	}
	t.key[0] = p[0];
	t.key[1] = p[1];
	str_printf(t.id, sizeof(t.id), "%d", year);
	str_printf(t.label, sizeof(t.label), "%d", year);
	bad = str_copy(t.floor, sizeof(t.floor), db_res_get(res, 0, 0)) != 0 ||
	    deadlines_selection_default(
		year, app->conf->selection_deadline, t.default_date) != 0;
	db_res_free(res);
	return bad ? RQ_ERROR : deadline_post(app, r, &t);
}
