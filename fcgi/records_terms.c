/*
 * records_terms: a school's terms (學年度-學期, shown as "114-1") — the
 * list with its create form (/admin/terms) and a term's page where its
 * dates are edited (/admin/terms/:id). Each change is audited in its
 * transaction; it never reads or writes another school's term.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "db.h"
#include "form.h"
#include "ids.h"
#include "records.h"
#include "router.h"
#include "template.h"
#include "util.h"

static const char terms_list_sql[] =
    "SELECT t.public_id, CONCAT(t.year, '-', t.semester), t.starts_on, "
    "t.ends_on, (SELECT COUNT(*) FROM courses c WHERE c.term_id = t.id AND "
    "c.school_id = t.school_id) FROM terms t WHERE t.school_id = ? "
    "ORDER BY t.year DESC, t.semester DESC";

/* Renders /admin/terms with the school's terms and the create form with
 * semester chosen; frees ctx. */
static enum request_outcome
terms_page(struct app *app, struct request *r, struct tval *ctx,
    const char *semester, int status)
{
	struct db_param p[1] = {DB_INT((long long)r->auth->u.school_id)};
	static const char *const keys[] = {
	    "id", "label", "starts_on", "ends_on", "courses"};
	struct db_res *res = db_query(app_db(app), terms_list_sql, p, 1);

	if (res == NULL) {
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	(void)tval_set(ctx, "rows", rec_rows(res, keys, ARRAY_SIZE(keys)));
	(void)tval_set_int(ctx, "count", (long long)db_res_rows(res));
	db_res_free(res);
	(void)tval_set(ctx, "semesters",
	    rec_word_options(app, r, "records.semester", "1|2", semester));
	return auth_render(app, r, "records_terms", ctx, status);
}

enum request_outcome
terms_get(struct app *app, struct request *r)
{
	struct tval *ctx = auth_page_ctx(app, r, "records.terms.title");

	rec_done_query(app, r, ctx, "terms", "created");
	(void)tval_set_int(ctx, "f_year", roc_school_year_now());
	return terms_page(app, r, ctx, NULL, 200);
}

enum { TF_YEAR, TF_SEMESTER, TF_STARTS, TF_ENDS, TF_CSRF, TF__MAX };
static const struct form_field term_fields[TF__MAX] = {
    [TF_YEAR] = {"year", FORM_INT, FORM_REQUIRED, 1, 999, NULL},
    [TF_SEMESTER] = {"semester", FORM_ENUM, FORM_REQUIRED, 0, 0, "1|2"},
    [TF_STARTS] = {"starts_on", FORM_DATE, FORM_REQUIRED, 0, 0, NULL},
    [TF_ENDS] = {"ends_on", FORM_DATE, FORM_REQUIRED, 0, 0, NULL},
    [TF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, REC_CSRF},
};

/* {"kind":"term","starts_on":..,"ends_on":..} */
static void
term_detail(struct buf *d, const char *starts, const char *ends)
{
	buf_init(d);
	buf_putc(d, '{');
	buf_json_kv(d, "kind", "term");
	buf_json_kv(d, "starts_on", starts);
	buf_json_kv(d, "ends_on", ends);
	buf_putc(d, '}');
}

/* Inserts the term with its audit row. 0, 1 when the school has that term
 * already, -1 on an error. */
static int
term_insert(struct app *app, struct request *r, const struct form *f)
{
	char pub[IDS_PUBLIC_LEN + 1], target[32];
	struct db_param p[6];
	struct rec_stmt st = {"INSERT INTO terms (public_id, school_id, year, "
			      "semester, starts_on, ends_on) VALUES (?, ?, ?, "
			      "?, ?, ?)",
	    p, 6, "terms_school_term"};
	struct buf d;
	int rc;

	if (ids_public(pub) != 0)
		return -1;
	p[0] = DB_STR(pub);
	p[1] = DB_INT((long long)r->auth->u.school_id);
	p[2] = DB_INT(form_int(f, TF_YEAR));
	p[3] = DB_STR(form_str(f, TF_SEMESTER));
	p[4] = DB_STR(form_str(f, TF_STARTS));
	p[5] = DB_STR(form_str(f, TF_ENDS));
	str_printf(target, sizeof(target), "term:%lld-%s", form_int(f, TF_YEAR),
	    form_str(f, TF_SEMESTER));
	term_detail(&d, form_str(f, TF_STARTS), form_str(f, TF_ENDS));
	rc = rec_change(app, r, &st, 1, "record.create", target, d.data);
	buf_free(&d);
	return rc;
}

enum request_outcome
terms_post(struct app *app, struct request *r)
{
	struct form *f = form_new(term_fields, TF__MAX);
	struct tval *ctx;
	enum request_outcome o;
	int invalid, rc;

	if (f == NULL)
		return RQ_ERROR;
	ctx = auth_page_ctx(app, r, "records.terms.title");
	invalid = form_parse(f, r->input.data, r->input.len) != 0;
	rec_form_ctx(app, r, ctx, f, term_fields, TF__MAX, invalid);
	if (!invalid &&
	    strcmp(form_str(f, TF_STARTS), form_str(f, TF_ENDS)) >= 0) {
		rec_error(app, r, ctx, "ends_on", "dates_order");
		invalid = 1;
	}
	if (!invalid) {
		rc = term_insert(app, r, f);
		if (rc < 0) {
			form_free(f);
			tval_free(ctx);
			return RQ_UNAVAILABLE;
		}
		if (rc == 1) {
			rec_error(app, r, ctx, "year", "term_exists");
			invalid = 1;
		}
	}
	if (invalid) {
		o = terms_page(app, r, ctx, form_echo(f, TF_SEMESTER), 422);
		form_free(f);
		return o;
	}
	form_free(f);
	tval_free(ctx);
	request_redirect(r, "/admin/terms?done=created");
	return RQ_OK;
}

/* ---------------------------------------------------- /admin/terms/:id */

static const char term_find_sql[] =
    "SELECT t.id, CONCAT(t.year, '-', t.semester), t.starts_on, t.ends_on, "
    "(SELECT COUNT(*) FROM courses c WHERE c.term_id = t.id AND c.school_id "
    "= t.school_id), t.public_id FROM terms t WHERE t.public_id = ? AND "
    "t.school_id = ?";

/* Renders a term's page from its row; frees ctx and res. */
static enum request_outcome
term_page(struct app *app, struct request *r, struct tval *ctx,
    struct db_res *res, const struct form *f, int status)
{
	char href[64];

	(void)f;
	(void)tval_set_str(ctx, "id", db_res_get(res, 0, 5));
	(void)tval_set_str(ctx, "label", db_res_get(res, 0, 1));
	(void)tval_set_str(ctx, "courses", db_res_get(res, 0, 4));
	str_printf(href, sizeof(href), "/admin/courses?term=%s",
	    db_res_get(res, 0, 5));
	(void)tval_set_str(ctx, "courses_href", href);
	db_res_free(res);
	return auth_render(app, r, "records_term", ctx, status);
}

enum request_outcome
term_get(struct app *app, struct request *r)
{
	enum request_outcome o;
	struct db_res *res =
	    rec_find(app, r, term_find_sql, request_capture(r, "id"), &o);
	struct tval *ctx;

	if (res == NULL)
		return o;
	ctx = auth_page_ctx(app, r, "records.term.title");
	rec_done_query(app, r, ctx, "term", "updated");
	(void)tval_set_str(ctx, "f_starts_on", db_res_get(res, 0, 2));
	(void)tval_set_str(ctx, "f_ends_on", db_res_get(res, 0, 3));
	return term_page(app, r, ctx, res, NULL, 200);
}

enum { TE_STARTS, TE_ENDS, TE_CSRF, TE__MAX };
static const struct form_field term_edit_fields[TE__MAX] = {
    [TE_STARTS] = {"starts_on", FORM_DATE, FORM_REQUIRED, 0, 0, NULL},
    [TE_ENDS] = {"ends_on", FORM_DATE, FORM_REQUIRED, 0, 0, NULL},
    [TE_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, REC_CSRF},
};

/* The new dates with the audit row. */
static int
term_edit(struct app *app, struct request *r, struct tval *ctx,
    const struct form *f, const struct db_res *row, int invalid,
    const char **done)
{
	struct db_param p[4];
	struct rec_stmt st = {"UPDATE terms SET starts_on = ?, ends_on = ? "
			      "WHERE id = ? AND school_id = ?",
	    p, 4, NULL};
	char target[32];
	struct buf d;
	int rc;

	(void)done;
	if (invalid)
		return 1;
	if (strcmp(form_str(f, TE_STARTS), form_str(f, TE_ENDS)) >= 0) {
		rec_error(app, r, ctx, "ends_on", "dates_order");
		return 1;
	}
	p[0] = DB_STR(form_str(f, TE_STARTS));
	p[1] = DB_STR(form_str(f, TE_ENDS));
	p[2] = DB_INT(db_res_int(row, 0, 0));
	p[3] = DB_INT((long long)r->auth->u.school_id);
	str_printf(target, sizeof(target), "term:%s", db_res_get(row, 0, 1));
	term_detail(&d, form_str(f, TE_STARTS), form_str(f, TE_ENDS));
	rc = rec_change(app, r, &st, 1, "record.update", target, d.data);
	buf_free(&d);
	return rc;
}

static const struct rec_item term_item = {
    .find_sql = term_find_sql,
    .pub_col = 5,
    .title_key = "records.term.title",
    .fields = term_edit_fields,
    .nfields = TE__MAX,
    .act = term_edit,
    .page = term_page,
    .base = "/admin/terms/",
    .done = "updated",
    .anchor = "",
};

enum request_outcome
term_post(struct app *app, struct request *r)
{
	return rec_item_post(app, r, &term_item);
}
