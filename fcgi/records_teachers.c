/*
 * records_teachers: a school's teachers — the list with search and status
 * filter (/admin/teachers), the new-teacher form that also issues the
 * account and its activation letter (/admin/teachers/new), and a teacher's
 * page with their courses and homeroom classes where name, staff number
 * and status are edited (/admin/teachers/:id). A teacher who left keeps
 * their courses as history. Every change is audited in its transaction;
 * nothing here reads or writes another school's teacher.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "db.h"
#include "form.h"
#include "ids.h"
#include "issue.h"
#include "records.h"
#include "router.h"
#include "template.h"
#include "util.h"

#define TEACHER_STATUSES "active|left"

enum { TQ_Q, TQ_STATUS, TQ_PAGE, TQ__MAX };
static const struct form_field teachers_query_fields[TQ__MAX] = {
    [TQ_Q] = {"q", FORM_TEXT, 0, 0, 50, NULL},
    [TQ_STATUS] = {"status", FORM_ENUM, 0, 0, 0, TEACHER_STATUSES},
    [TQ_PAGE] = {"page", FORM_INT, 0, 1, 100000, NULL},
};

/* The teachers of the filters: the rows of page, and their count. */
static int
teachers_rows(struct app *app, struct request *r, struct tval *ctx,
    const struct form *f, long page)
{
	struct db_param p[6];
	struct db_res *res;
	struct tval *rows, *row;
	struct buf from, href;
	char like[160];
	long long total = 0;
	size_t np = 0, i;

	buf_init(&from);
	buf_init(&href);
	buf_puts(&from,
	    "FROM teachers t JOIN users u ON u.id = t.user_id "
	    "WHERE t.school_id = ?");
	p[np++] = DB_INT((long long)r->auth->u.school_id);
	buf_puts(&href, "/admin/teachers?");
	if (form_has(f, TQ_Q)) {
		rec_like(form_str(f, TQ_Q), like, sizeof(like));
		buf_puts(&from,
		    " AND (u.login LIKE ? ESCAPE '!' OR u.name LIKE ? ESCAPE "
		    "'!' OR t.staff_no LIKE ? ESCAPE '!')");
		p[np++] = DB_STR(like);
		p[np++] = DB_STR(like);
		p[np++] = DB_STR(like);
		buf_query_param(&href, "q", form_str(f, TQ_Q));
	}
	if (form_has(f, TQ_STATUS)) {
		buf_puts(&from, " AND t.status = ?");
		p[np++] = DB_STR(form_str(f, TQ_STATUS));
		buf_query_param(&href, "status", form_str(f, TQ_STATUS));
	}
	res = rec_page_query(app,
	    "t.public_id, u.login, u.name, COALESCE(t.staff_no, ''), "
	    "t.status, u.status",
	    from.data, "u.name, u.login", p, np, page, &total);
	if (res != NULL) {
		rows = tval_list();
		for (i = 0; i < db_res_rows(res); i++) {
			row = tval_obj();
			(void)tval_set_str(row, "id", db_res_get(res, i, 0));
			(void)tval_set_str(row, "login", db_res_get(res, i, 1));
			(void)tval_set_str(
			    row, "teacher_name", db_res_get(res, i, 2));
			(void)tval_set_str(
			    row, "staff_no", db_res_get(res, i, 3));
			(void)tval_set_str(row, "status_text",
			    rec_word(app, r, "records.tstatus",
				db_res_get(res, i, 4)));
			(void)tval_set_str(row, "account_text",
			    rec_word(app, r, "records.account",
				db_res_get(res, i, 5)));
			(void)tval_push(rows, row);
		}
		db_res_free(res);
		(void)tval_set(ctx, "rows", rows);
		rec_pages(app, r, ctx, "records.teachers.total", total, page,
		    href.data);
	}
	buf_free(&from);
	buf_free(&href);
	return res != NULL ? 0 : -1;
}

enum request_outcome
teachers_get(struct app *app, struct request *r)
{
	struct form *f = form_new(teachers_query_fields, TQ__MAX);
	struct tval *ctx;
	int invalid, rc = 0;

	if (f == NULL)
		return RQ_ERROR;
	ctx = auth_page_ctx(app, r, "records.teachers.title");
	rec_search_ctx(
	    app, r, ctx, "/admin/teachers", "records.teachers.q_hint");
	invalid = form_parse(f, r->query, strlen(r->query)) != 0;
	rec_form_ctx(app, r, ctx, f, teachers_query_fields, TQ__MAX, invalid);
	(void)tval_set(ctx, "statuses",
	    rec_word_options(app, r, "records.tstatus", TEACHER_STATUSES,
		form_echo(f, TQ_STATUS)));
	if (!invalid) {
		rc = teachers_rows(app, r, ctx, f,
		    form_has(f, TQ_PAGE) ? (long)form_int(f, TQ_PAGE) : 1);
		(void)tval_set_bool(ctx, "shown", 1);
	}
	form_free(f);
	if (rc != 0) {
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	return auth_render(
	    app, r, "records_teachers", ctx, invalid ? 422 : 200);
}

/* ------------------------------------------------ /admin/teachers/new */

enum { NT_LOGIN, NT_NAME, NT_STAFF, NT_CSRF, NT__MAX };
static const struct form_field teacher_new_fields[NT__MAX] = {
    [NT_LOGIN] = {"login", FORM_PATTERN, FORM_REQUIRED, 3, 32,
	"[A-Za-z0-9][A-Za-z0-9._-]*"},
    [NT_NAME] = {"teacher_name", FORM_TEXT, FORM_REQUIRED, 1, 100, NULL},
    [NT_STAFF] = {"staff_no", FORM_PATTERN, 0, 1, 20, REC_CODE},
    [NT_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, REC_CSRF},
};

enum request_outcome
teacher_new_get(struct app *app, struct request *r)
{
	struct tval *ctx = auth_page_ctx(app, r, "records.teacher_new.title");

	return auth_render(app, r, "records_teacher_new", ctx, 200);
}

/* 1 when another teacher of the school (not except) has staff_no, 0 when
 * not, -1 on error. */
static int
teacher_staff_taken(
    struct app *app, uint64_t school_id, const char *staff_no, long long except)
{
	struct db_param p[3] = {
	    DB_INT((long long)school_id), DB_STR(staff_no), DB_INT(except)};
	struct db_res *res = db_query(app_db(app),
	    "SELECT COUNT(*) FROM teachers WHERE school_id = ? AND staff_no = "
	    "? AND id <> ?",
	    p, 3);
	int n;

	if (res == NULL)
		return -1;
	n = db_res_int(res, 0, 0) > 0;
	db_res_free(res);
	return n;
}

/* {"kind":"teacher","name":..,"staff_no":..|null[,"status":..]
 * [,"letter_batch":..]} */
static void
teacher_detail(struct buf *d, const char *name, const char *staff_no,
    const char *status, const char *batch)
{
	buf_init(d);
	buf_putc(d, '{');
	buf_json_kv(d, "kind", "teacher");
	buf_json_kv(d, "name", name);
	buf_json_kv(d, "staff_no", staff_no[0] != '\0' ? staff_no : NULL);
	if (status != NULL)
		buf_json_kv(d, "status", status);
	if (batch != NULL)
		buf_json_kv(d, "letter_batch", batch);
	buf_putc(d, '}');
}

/* Creates the account, the teacher and the letter with the audit row in
 * one transaction. 0, 1 when the login is taken, 2 when the staff number
 * is, -1 on an error. */
static int
teacher_create(struct app *app, struct request *r, const char *login,
    const struct form *f, char batch[IDS_PUBLIC_LEN + 1])
{
	struct db *db = app_db(app);
	const char *staff = form_str(f, NT_STAFF);
	struct issue_facts facts = {NULL, NULL};
	char pub[IDS_PUBLIC_LEN + 1], target[48];
	struct db_param p[4];
	struct rec_stmt st = {"INSERT INTO teachers (public_id, school_id, "
			      "user_id, staff_no) VALUES (?, ?, ?, ?)",
	    p, 4, "teachers_staff_no"};
	struct buf d;
	uint64_t uid;
	int rc;

	if (ids_public(pub) != 0 || db_begin(db) != 0)
		return -1;
	rc = rec_issue_tx(app, r, "teacher", login, form_str(f, NT_NAME),
	    &facts, NULL, NULL, 0, &uid, batch);
	if (rc == 0) {
		p[0] = DB_STR(pub);
		p[1] = DB_INT((long long)r->auth->u.school_id);
		p[2] = DB_INT((long long)uid);
		p[3] = staff[0] != '\0' ? DB_STR(staff) : DB_NULLP;
		str_printf(target, sizeof(target), "teacher:%s", login);
		teacher_detail(&d, form_str(f, NT_NAME), staff, NULL, batch);
		rc = rec_change_tx(
		    db, r, &st, 1, "record.create", target, d.data);
		buf_free(&d);
		if (rc == 1)
			rc = 2;
	}
	return rec_end_tx(db, rc);
}

enum request_outcome
teachers_post(struct app *app, struct request *r)
{
	struct form *f = form_new(teacher_new_fields, NT__MAX);
	struct tval *ctx;
	const char *why;
	char login[40], batch[IDS_PUBLIC_LEN + 1], href[64], text[512];
	int invalid, rc = 0, dberr = 0;

	if (f == NULL)
		return RQ_ERROR;
	ctx = auth_page_ctx(app, r, "records.teacher_new.title");
	invalid = form_parse(f, r->input.data, r->input.len) != 0;
	rec_form_ctx(app, r, ctx, f, teacher_new_fields, NT__MAX, invalid);
	auth_login_lower(form_str(f, NT_LOGIN), login, sizeof(login));
	if (form_error(f, NT_LOGIN) == FORM_E_OK) {
		(void)tval_set_str(ctx, "f_login", login);
		why = issue_login_refusal(app_db(app), login, &dberr);
		if (dberr != 0)
			rc = -1;
		else if (why != NULL) {
			rec_error(app, r, ctx, "login", "login_refused");
			str_printf(text, sizeof(text), "%s %s",
			    auth_msg(app, r, "records.error.login_refused"),
			    why);
			(void)tval_set_str(ctx, "e_login", text);
			invalid = 1;
		}
	}
	if (rc == 0 && form_has(f, NT_STAFF) &&
	    form_error(f, NT_STAFF) == FORM_E_OK) {
		rc = teacher_staff_taken(
		    app, r->auth->u.school_id, form_str(f, NT_STAFF), 0);
		if (rc == 1) {
			rec_error(app, r, ctx, "staff_no", "staff_no_taken");
			invalid = 1;
			rc = 0;
		}
	}
	if (rc == 0 && !invalid) {
		rc = teacher_create(app, r, login, f, batch);
		if (rc == 1)
			rec_error(app, r, ctx, "login", "login_taken");
		else if (rc == 2)
			rec_error(app, r, ctx, "staff_no", "staff_no_taken");
		invalid = rc > 0;
		rc = rc > 0 ? 0 : rc;
	}
	form_free(f);
	if (rc != 0) {
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	if (invalid)
		return auth_render(app, r, "records_teacher_new", ctx, 422);
	tval_free(ctx);
	str_printf(href, sizeof(href), "/admin/letters/%s", batch);
	request_redirect(r, href);
	return RQ_OK;
}

/* ------------------------------------------------- /admin/teachers/:id */

static const char teacher_find_sql[] =
    "SELECT t.id, t.public_id, t.user_id, u.login, u.name, "
    "COALESCE(t.staff_no, ''), t.status, u.status FROM teachers t JOIN "
    "users u ON u.id = t.user_id WHERE t.public_id = ? AND t.school_id = ?";
enum {
	TR_ID,
	TR_PUB,
	TR_UID,
	TR_LOGIN,
	TR_NAME,
	TR_STAFF,
	TR_STATUS,
	TR_ACCOUNT
};

static const char teacher_courses_sql[] =
    "SELECT c.public_id, CONCAT(te.year, '-', te.semester), c.code, c.name "
    "FROM course_teachers ct JOIN courses c ON c.id = ct.course_id JOIN "
    "terms te ON te.id = c.term_id WHERE ct.teacher_id = ? AND c.school_id "
    "= ? ORDER BY te.year DESC, te.semester DESC, c.code";
static const char teacher_classes_sql[] =
    "SELECT public_id, year, code, name FROM classes WHERE "
    "homeroom_teacher_id = ? AND school_id = ? ORDER BY year DESC, code";

/* Rows of sql (teacher id, school id) as {id, a, b, c} under key. 0/-1. */
static int
teacher_list(struct app *app, struct request *r, struct tval *ctx,
    const char *key, const char *sql, long long tid)
{
	struct db_param p[2] = {
	    DB_INT(tid), DB_INT((long long)r->auth->u.school_id)};
	static const char *const keys[] = {"id", "a", "b", "c"};
	struct db_res *res = db_query(app_db(app), sql, p, 2);
	char count[32];

	if (res == NULL)
		return -1;
	(void)tval_set(ctx, key, rec_rows(res, keys, ARRAY_SIZE(keys)));
	str_printf(count, sizeof(count), "%s_count", key);
	(void)tval_set_int(ctx, count, (long long)db_res_rows(res));
	db_res_free(res);
	return 0;
}

enum { TE_NAME, TE_STAFF, TE_STATUS, TE_CSRF, TE__MAX };
static const struct form_field teacher_edit_fields[TE__MAX] = {
    [TE_NAME] = {"teacher_name", FORM_TEXT, FORM_REQUIRED, 1, 100, NULL},
    [TE_STAFF] = {"staff_no", FORM_PATTERN, 0, 1, 20, REC_CODE},
    [TE_STATUS] = {"status", FORM_ENUM, FORM_REQUIRED, 0, 0, TEACHER_STATUSES},
    [TE_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, REC_CSRF},
};

/* Renders a teacher's page, the status choice from f or the row; frees
 * ctx and res. */
static enum request_outcome
teacher_page(struct app *app, struct request *r, struct tval *ctx,
    struct db_res *res, const struct form *f, int code)
{
	long long tid = db_res_int(res, 0, TR_ID);

	if (teacher_list(app, r, ctx, "courses", teacher_courses_sql, tid) !=
		0 ||
	    teacher_list(app, r, ctx, "classes", teacher_classes_sql, tid) !=
		0) {
		db_res_free(res);
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	(void)tval_set_str(ctx, "id", db_res_get(res, 0, TR_PUB));
	(void)tval_set_str(ctx, "login", db_res_get(res, 0, TR_LOGIN));
	(void)tval_set_str(ctx, "teacher_name", db_res_get(res, 0, TR_NAME));
	(void)tval_set_str(ctx, "status_text",
	    rec_word(app, r, "records.tstatus", db_res_get(res, 0, TR_STATUS)));
	(void)tval_set_str(ctx, "account_text",
	    rec_word(
		app, r, "records.account", db_res_get(res, 0, TR_ACCOUNT)));
	(void)tval_set(ctx, "statuses",
	    rec_word_options(app, r, "records.tstatus", TEACHER_STATUSES,
		f != NULL ? form_echo(f, TE_STATUS)
			  : db_res_get(res, 0, TR_STATUS)));
	db_res_free(res);
	return auth_render(app, r, "records_teacher", ctx, code);
}

enum request_outcome
teacher_get(struct app *app, struct request *r)
{
	enum request_outcome o;
	struct db_res *res =
	    rec_find(app, r, teacher_find_sql, request_capture(r, "id"), &o);
	struct tval *ctx;

	if (res == NULL)
		return o;
	ctx = auth_page_ctx(app, r, "records.teacher.title");
	rec_done_query(app, r, ctx, "teacher", "updated");
	(void)tval_set_str(ctx, "f_teacher_name", db_res_get(res, 0, TR_NAME));
	(void)tval_set_str(ctx, "f_staff_no", db_res_get(res, 0, TR_STAFF));
	return teacher_page(app, r, ctx, res, NULL, 200);
}

/* Updates the teacher and their account's name with the audit row: 0, 1
 * refused (messages in ctx), -1 on an error. */
static int
teacher_edit(struct app *app, struct request *r, struct tval *ctx,
    const struct form *f, const struct db_res *res, int invalid,
    const char **done)
{
	const char *staff = form_str(f, TE_STAFF);
	struct db_param pu[3], pt[4];
	struct rec_stmt st[2] = {
	    {"UPDATE users SET name = ? WHERE id = ? AND school_id = ?", pu, 3,
		NULL},
	    {"UPDATE teachers SET staff_no = ?, status = ? WHERE id = ? AND "
	     "school_id = ?",
		pt, 4, "teachers_staff_no"},
	};
	char target[48];
	struct buf d;
	int rc = 0;

	(void)done;
	if (!invalid && form_has(f, TE_STAFF))
		rc = teacher_staff_taken(app, r->auth->u.school_id, staff,
		    db_res_int(res, 0, TR_ID));
	if (rc == 0 && !invalid) {
		pu[0] = DB_STR(form_str(f, TE_NAME));
		pu[1] = DB_INT(db_res_int(res, 0, TR_UID));
		pu[2] = DB_INT((long long)r->auth->u.school_id);
		pt[0] = staff[0] != '\0' ? DB_STR(staff) : DB_NULLP;
		pt[1] = DB_STR(form_str(f, TE_STATUS));
		pt[2] = DB_INT(db_res_int(res, 0, TR_ID));
		pt[3] = DB_INT((long long)r->auth->u.school_id);
		str_printf(target, sizeof(target), "teacher:%s",
		    db_res_get(res, 0, TR_LOGIN));
		teacher_detail(&d, form_str(f, TE_NAME), staff,
		    form_str(f, TE_STATUS), NULL);
		rc = rec_change(app, r, st, 2, "record.update", target, d.data);
		buf_free(&d);
	}
	if (rc == 1)
		rec_error(app, r, ctx, "staff_no", "staff_no_taken");
	return rc;
}

static const struct rec_item teacher_item = {
    .find_sql = teacher_find_sql,
    .pub_col = TR_PUB,
    .title_key = "records.teacher.title",
    .fields = teacher_edit_fields,
    .nfields = TE__MAX,
    .act = teacher_edit,
    .page = teacher_page,
    .base = "/admin/teachers/",
    .done = "updated",
    .anchor = "",
};

enum request_outcome
teacher_post(struct app *app, struct request *r)
{
	return rec_item_post(app, r, &teacher_item);
}
