/*
 * records_courses: a school's courses per term — the list with search
 * (/admin/courses, the current term by default), the new-course form
 * (/admin/courses/new), and a course's page with its teachers and roster
 * (修課紀錄) where it is edited and students are enrolled by student
 * number and unenrolled (/admin/courses/:id). Showing a roster shows
 * students' names and is audited as personal_data.view; every change is
 * audited in its transaction. Nothing here reads or writes another
 * school's course, teacher or student.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "auth.h"
#include "db.h"
#include "form.h"
#include "ids.h"
#include "records.h"
#include "router.h"
#include "template.h"
#include "util.h"

#define COURSE_CODE "[A-Za-z0-9][A-Za-z0-9._-]*"
/* Teachers of one course. */
#define COURSE_TEACHERS_MAX 20

static const char term_choices_sql[] =
    "SELECT public_id, CONCAT(year, '-', semester) FROM terms WHERE "
    "school_id = ? ORDER BY year DESC, semester DESC";
/* The term in progress today (Taiwan time), else the latest. */
static const char term_current_sql[] =
    "SELECT public_id FROM terms WHERE school_id = ? ORDER BY "
    "(DATE(UTC_TIMESTAMP() + INTERVAL 8 HOUR) BETWEEN starts_on AND "
    "ends_on) DESC, year DESC, semester DESC LIMIT 1";

/* The school's terms as options of "terms", selected chosen; "has_terms"
 * tells whether there is any. 0/-1. */
static int
course_term_options(
    struct app *app, struct request *r, struct tval *ctx, const char *selected)
{
	struct db_param p[1] = {DB_INT((long long)r->auth->u.school_id)};
	struct db_res *res = db_query(app_db(app), term_choices_sql, p, 1);
	const char *sel[1] = {selected};

	if (res == NULL)
		return -1;
	(void)tval_set(ctx, "terms", rec_options(res, sel, 1));
	(void)tval_set_bool(ctx, "has_terms", db_res_rows(res) > 0);
	db_res_free(res);
	return 0;
}

/* ----------------------------------------------------- /admin/courses */

enum { CQ_TERM, CQ_Q, CQ_PAGE, CQ__MAX };
static const struct form_field courses_query_fields[CQ__MAX] = {
    [CQ_TERM] = {"term", FORM_PATTERN, 0, 22, 22, REC_PUBLIC_ID},
    [CQ_Q] = {"q", FORM_TEXT, 0, 0, 50, NULL},
    [CQ_PAGE] = {"page", FORM_INT, 0, 1, 100000, NULL},
};

/* The courses of term tid matching q: the rows of page and their count.
 * 0/-1. */
static int
courses_rows(struct app *app, struct request *r, struct tval *ctx,
    long long tid, const char *term_pub, const char *q, long page)
{
	static const char *const keys[] = {"id", "code", "course_name",
	    "credits", "teacher_names", "enrolled"};
	struct db_param p[6];
	struct db_res *res;
	struct buf from, href;
	char like[160];
	long long total = 0;
	size_t np = 0;

	buf_init(&from);
	buf_init(&href);
	buf_puts(&from,
	    "FROM courses c WHERE c.school_id = ? AND "
	    "c.term_id = ?");
	p[np++] = DB_INT((long long)r->auth->u.school_id);
	p[np++] = DB_INT(tid);
	buf_puts(&href, "/admin/courses?");
	buf_query_param(&href, "term", term_pub);
	if (q[0] != '\0') {
		rec_like(q, like, sizeof(like));
		/* code is ASCII: see students_rows. */
		buf_puts(&from,
		    " AND (CONVERT(c.code USING utf8mb4) LIKE ? "
		    "ESCAPE '!' OR c.name LIKE ? ESCAPE '!')");
		p[np++] = DB_STR(like);
		p[np++] = DB_STR(like);
		buf_query_param(&href, "q", q);
	}
	res = rec_page_query(app,
	    "c.public_id, c.code, c.name, c.credits, (SELECT "
	    "COALESCE(GROUP_CONCAT(u.name ORDER BY u.name SEPARATOR '、'), "
	    "'') FROM course_teachers ct JOIN teachers t ON t.id = "
	    "ct.teacher_id JOIN users u ON u.id = t.user_id WHERE "
	    "ct.course_id = c.id), (SELECT COUNT(*) FROM enrolments e WHERE "
	    "e.course_id = c.id AND e.school_id = c.school_id)",
	    from.data, "c.code", p, np, page, &total);
	if (res != NULL) {
		(void)tval_set(
		    ctx, "rows", rec_rows(res, keys, ARRAY_SIZE(keys)));
		db_res_free(res);
		rec_pages(app, r, ctx, "records.courses.total", total, page,
		    href.data);
	}
	buf_free(&from);
	buf_free(&href);
	return res != NULL ? 0 : -1;
}

/* The term the list shows: the one asked for (a field error when it is
 * not the school's) or the current one. 1 with tid, label and pub; 0 when
 * there is none to show; -1 on error. */
static int
courses_term(struct app *app, struct request *r, struct tval *ctx,
    const struct form *f, long long *tid, char label[16],
    char pub[IDS_PUBLIC_LEN + 1])
{
	struct db_param p[1] = {DB_INT((long long)r->auth->u.school_id)};
	struct db_res *res;
	int rc;

	if (form_has(f, CQ_TERM)) {
		(void)str_copy(pub, IDS_PUBLIC_LEN + 1, form_str(f, CQ_TERM));
		rc = rec_term_find(app, r, pub, tid, label);
		if (rc == 0)
			rec_error(app, r, ctx, "term", "no_such_term");
		return rc;
	}
	res = db_query(app_db(app), term_current_sql, p, 1);
	if (res == NULL)
		return -1;
	rc = db_res_rows(res) == 1;
	if (rc) {
		(void)str_copy(pub, IDS_PUBLIC_LEN + 1, db_res_get(res, 0, 0));
		rc = rec_term_find(app, r, pub, tid, label);
	}
	db_res_free(res);
	return rc;
}

enum request_outcome
courses_get(struct app *app, struct request *r)
{
	struct form *f = form_new(courses_query_fields, CQ__MAX);
	struct tval *ctx;
	char label[16] = "", pub[IDS_PUBLIC_LEN + 1] = "", href[64];
	long long tid = 0;
	int invalid, rc = 0, found = 0;

	if (f == NULL)
		return RQ_ERROR;
	ctx = auth_page_ctx(app, r, "records.courses.title");
	rec_search_ctx(app, r, ctx, "/admin/courses", "records.courses.q_hint");
	invalid = form_parse(f, r->query, strlen(r->query)) != 0;
	rec_form_ctx(app, r, ctx, f, courses_query_fields, CQ__MAX, invalid);
	if (!invalid) {
		found = rc = courses_term(app, r, ctx, f, &tid, label, pub);
		invalid = rc == 0 && form_has(f, CQ_TERM);
	}
	if (rc >= 0 && found) {
		rc = courses_rows(app, r, ctx, tid, pub, form_str(f, CQ_Q),
		    form_has(f, CQ_PAGE) ? (long)form_int(f, CQ_PAGE) : 1);
		(void)tval_set_bool(ctx, "shown", 1);
		(void)tval_set_str(ctx, "term_label", label);
		str_printf(
		    href, sizeof(href), "/admin/courses/new?term=%s", pub);
		(void)tval_set_str(ctx, "new_href", href);
	}
	if (rc >= 0)
		rc = course_term_options(
		    app, r, ctx, found ? pub : form_echo(f, CQ_TERM));
	form_free(f);
	if (rc < 0) {
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	return auth_render(app, r, "records_courses", ctx, invalid ? 422 : 200);
}

/* ------------------------------------------------- the course's fields */

enum { CF_CODE, CF_NAME, CF_CREDITS, CF_TEACHERS, CF_TERM, CF_CSRF, CF__MAX };
#define COURSE_FIELDS                                                          \
	[CF_CODE] = {"code", FORM_PATTERN, FORM_REQUIRED, 1, 32, COURSE_CODE}, \
	[CF_NAME] = {"course_name", FORM_TEXT, FORM_REQUIRED, 1, 100, NULL},   \
	[CF_CREDITS] = {"credits", FORM_INT, FORM_REQUIRED, 0, 30, NULL},      \
	[CF_TEACHERS] = {                                                      \
	    "teachers", FORM_PATTERN, FORM_REPEAT, 22, 22, REC_PUBLIC_ID}

static const struct form_field course_new_fields[CF__MAX] = {
    COURSE_FIELDS,
    [CF_TERM] = {"term", FORM_PATTERN, FORM_REQUIRED, 22, 22, REC_PUBLIC_ID},
    [CF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, REC_CSRF},
};
/* The edit form has no term (a course belongs to its term); its csrf takes
 * the place of CF_TERM. */
static const struct form_field course_edit_fields[CF_TERM + 1] = {
    COURSE_FIELDS,
    [CF_TERM] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, REC_CSRF},
};

/* The teachers chosen, checked: ids and logins of n distinct teachers of
 * the school, each active or (keep) already teaching the course. */
struct course_teachers {
	size_t n;
	long long id[COURSE_TEACHERS_MAX];
	char login[COURSE_TEACHERS_MAX][33];
};

/* 1 when id is one of keep[0..nkeep). */
static int
course_kept(long long id, const long long *keep, size_t nkeep)
{
	size_t i;

	for (i = 0; i < nkeep; i++)
		if (keep[i] == id)
			return 1;
	return 0;
}

/* Checks the teachers field. 1 when every choice is valid, 0 when one is
 * not (its message set), -1 on error. */
static int
course_teachers_check(struct app *app, struct request *r, struct tval *ctx,
    const struct form *f, const long long *keep, size_t nkeep,
    struct course_teachers *t)
{
	char status[8], login[33];
	uint64_t id;
	size_t i, k, n = form_count(f, CF_TEACHERS);
	int rc;

	t->n = 0;
	if (n > COURSE_TEACHERS_MAX) {
		rec_error(app, r, ctx, "teachers", "too_many_teachers");
		return 0;
	}
	for (i = 0; i < n; i++) {
		rc = rec_teacher_find(app, r->auth->u.school_id,
		    form_str_at(f, CF_TEACHERS, i), &id, status, login);
		if (rc < 0)
			return -1;
		if (rc == 0 ||
		    (strcmp(status, "active") != 0 &&
			!course_kept((long long)id, keep, nkeep))) {
			rec_error(app, r, ctx, "teachers", "no_such_teacher");
			return 0;
		}
		for (k = 0; k < t->n && t->id[k] != (long long)id; k++)
			;
		if (k < t->n)
			continue;
		t->id[t->n] = (long long)id;
		(void)str_copy(t->login[t->n], sizeof(t->login[0]), login);
		t->n++;
	}
	return 1;
}

/* The teachers' options with the submitted choices (or sel) selected. */
static struct tval *
course_teacher_options(struct app *app, struct request *r, const struct form *f,
    const char *const *sel, size_t nsel)
{
	const char *chosen[COURSE_TEACHERS_MAX];
	size_t i, n;

	if (f == NULL)
		return rec_teacher_options(app, r, sel, nsel);
	n = form_count(f, CF_TEACHERS);
	if (n > COURSE_TEACHERS_MAX)
		n = COURSE_TEACHERS_MAX;
	for (i = 0; i < n; i++)
		chosen[i] = form_str_at(f, CF_TEACHERS, i);
	return rec_teacher_options(app, r, chosen, n);
}

/* {"kind":"course","name":..,"credits":N,"teachers":[logins]
 * [,"code_was":..]} */
static void
course_detail(struct buf *d, const struct form *f,
    const struct course_teachers *t, const char *code_was)
{
	size_t i;

	buf_init(d);
	buf_putc(d, '{');
	buf_json_kv(d, "kind", "course");
	buf_json_kv(d, "name", form_str(f, CF_NAME));
	buf_json_ki(d, "credits", form_int(f, CF_CREDITS));
	buf_puts(d, ",\"teachers\":[");
	for (i = 0; i < t->n; i++) {
		buf_puts(d, i > 0 ? ",\"" : "\"");
		buf_json_str(d, t->login[i], strlen(t->login[i]));
		buf_putc(d, '"');
	}
	buf_putc(d, ']');
	if (code_was != NULL)
		buf_json_kv(d, "code_was", code_was);
	buf_putc(d, '}');
}

/*
 * The statements of a course's change: first (the INSERT or UPDATE of the
 * course, st[0], filled by the caller), for an edit the removal of its
 * teachers, then one INSERT per teacher chosen — the course named by its
 * public id, so a new one needs no insert id. The number of statements.
 */
struct course_change {
	struct rec_stmt st[COURSE_TEACHERS_MAX + 2];
	struct db_param p[6];
	struct db_param del[2];
	struct db_param tp[COURSE_TEACHERS_MAX][3];
};

static size_t
course_change_teachers(struct course_change *c, const struct request *r,
    const char *pub, const struct course_teachers *t, int edit)
{
	size_t n = 1, i;

	if (edit) {
		c->del[0] = DB_STR(pub);
		c->del[1] = DB_INT((long long)r->auth->u.school_id);
		c->st[n++] = (struct rec_stmt){
		    "DELETE ct FROM course_teachers ct JOIN courses c ON c.id "
		    "= ct.course_id WHERE c.public_id = ? AND c.school_id = ?",
		    c->del, 2, NULL};
	}
	for (i = 0; i < t->n; i++) {
		c->tp[i][0] = DB_INT(t->id[i]);
		c->tp[i][1] = DB_STR(pub);
		c->tp[i][2] = DB_INT((long long)r->auth->u.school_id);
		c->st[n++] = (struct rec_stmt){
		    "INSERT INTO course_teachers (course_id, teacher_id) "
		    "SELECT id, ? FROM courses WHERE public_id = ? AND "
		    "school_id = ?",
		    c->tp[i], 3, NULL};
	}
	return n;
}

/* ------------------------------------------------- /admin/courses/new */

/* Renders the new-course form; frees ctx. */
static enum request_outcome
course_new_page(struct app *app, struct request *r, struct tval *ctx,
    const struct form *f, const char *term, int code)
{
	struct tval *teachers = course_teacher_options(app, r, f, NULL, 0);

	if (teachers == NULL || course_term_options(app, r, ctx, term) != 0) {
		tval_free(teachers);
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	(void)tval_set(ctx, "teachers", teachers);
	return auth_render(app, r, "records_course_new", ctx, code);
}

enum request_outcome
course_new_get(struct app *app, struct request *r)
{
	/* ?term= preselects the term of the list the admin came from. */
	const struct form_field fields[1] = {
	    {"term", FORM_PATTERN, 0, 22, 22, REC_PUBLIC_ID},
	};
	struct form *f = form_new(fields, 1);
	struct tval *ctx;
	char term[IDS_PUBLIC_LEN + 1] = "";

	if (f == NULL)
		return RQ_ERROR;
	if (form_parse(f, r->query, strlen(r->query)) == 0)
		(void)str_copy(term, sizeof(term), form_str(f, 0));
	form_free(f);
	ctx = auth_page_ctx(app, r, "records.course_new.title");
	(void)tval_set_str(ctx, "f_credits", "0");
	return course_new_page(app, r, ctx, NULL, term, 200);
}

/* Creates the course and its teachers with the audit row. 0 with the new
 * public id, 1 when the term has that code already, -1 on an error. */
static int
course_create(struct app *app, struct request *r, const struct form *f,
    long long tid, const char *label, const struct course_teachers *t,
    char pub[IDS_PUBLIC_LEN + 1])
{
	struct course_change c;
	char target[64];
	struct buf d;
	size_t n;
	int rc;

	if (ids_public(pub) != 0)
		return -1;
	c.p[0] = DB_STR(pub);
	c.p[1] = DB_INT((long long)r->auth->u.school_id);
	c.p[2] = DB_INT(tid);
	c.p[3] = DB_STR(form_str(f, CF_CODE));
	c.p[4] = DB_STR(form_str(f, CF_NAME));
	c.p[5] = DB_INT(form_int(f, CF_CREDITS));
	c.st[0] = (struct rec_stmt){"INSERT INTO courses (public_id, "
				    "school_id, term_id, code, name, credits) "
				    "VALUES (?, ?, ?, ?, ?, ?)",
	    c.p, 6, "courses_code"};
	n = course_change_teachers(&c, r, pub, t, 0);
	str_printf(target, sizeof(target), "course:%s:%s", label,
	    form_str(f, CF_CODE));
	course_detail(&d, f, t, NULL);
	rc = rec_change(app, r, c.st, n, "record.create", target, d.data);
	buf_free(&d);
	return rc;
}

enum request_outcome
courses_post(struct app *app, struct request *r)
{
	struct form *f = form_new(course_new_fields, CF__MAX);
	struct course_teachers t;
	struct tval *ctx;
	enum request_outcome o;
	char label[16], pub[IDS_PUBLIC_LEN + 1], href[64];
	long long tid = 0;
	int invalid, rc = 1;

	if (f == NULL)
		return RQ_ERROR;
	ctx = auth_page_ctx(app, r, "records.course_new.title");
	invalid = form_parse(f, r->input.data, r->input.len) != 0;
	rec_form_ctx(app, r, ctx, f, course_new_fields, CF__MAX, invalid);
	if (form_has(f, CF_TERM) && form_error(f, CF_TERM) == FORM_E_OK) {
		rc = rec_term_find(app, r, form_str(f, CF_TERM), &tid, label);
		if (rc == 0) {
			rec_error(app, r, ctx, "term", "no_such_term");
			invalid = 1;
		}
	}
	if (rc > 0 && form_error(f, CF_TEACHERS) == FORM_E_OK) {
		rc = course_teachers_check(app, r, ctx, f, NULL, 0, &t);
		invalid |= rc == 0;
	}
	if (rc > 0 && !invalid) {
		rc = course_create(app, r, f, tid, label, &t, pub);
		if (rc == 1) {
			rec_error(app, r, ctx, "code", "course_exists");
			invalid = 1;
		}
	}
	if (rc < 0) {
		form_free(f);
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	if (invalid) {
		o = course_new_page(app, r, ctx, f, form_echo(f, CF_TERM), 422);
		form_free(f);
		return o;
	}
	form_free(f);
	tval_free(ctx);
	str_printf(href, sizeof(href), "/admin/courses/%s?done=created", pub);
	request_redirect(r, href);
	return RQ_OK;
}

/* -------------------------------------------------- /admin/courses/:id */

static const char course_find_sql[] =
    "SELECT c.id, c.public_id, CONCAT(te.year, '-', te.semester), "
    "te.public_id, c.code, c.name, c.credits FROM courses c JOIN terms te "
    "ON te.id = c.term_id WHERE c.public_id = ? AND c.school_id = ?";
enum { CR_ID, CR_PUB, CR_TERM, CR_TERM_PUB, CR_CODE, CR_NAME, CR_CREDITS };

static const char course_roster_sql[] =
    "SELECT e.public_id, s.student_no, s.name, COALESCE(CONCAT(cl.code, ' ', "
    "cl.name), ''), s.public_id FROM enrolments e JOIN students s ON s.id "
    "= e.student_id LEFT JOIN classes cl ON cl.id = s.class_id WHERE "
    "e.course_id = ? AND e.school_id = ? ORDER BY s.student_no";

/* The course's current teachers: public ids (for the select) and row
 * ids (which may stay though they left). 0/-1. */
struct course_current {
	size_t n;
	char pub[COURSE_TEACHERS_MAX][IDS_PUBLIC_LEN + 1];
	const char *sel[COURSE_TEACHERS_MAX];
	long long id[COURSE_TEACHERS_MAX];
};

static int
course_current(
    struct app *app, struct request *r, long long cid, struct course_current *c)
{
	struct db_param p[2] = {
	    DB_INT(cid), DB_INT((long long)r->auth->u.school_id)};
	struct db_res *res = db_query(app_db(app),
	    "SELECT t.public_id, t.id FROM course_teachers ct JOIN teachers t "
	    "ON t.id = ct.teacher_id WHERE ct.course_id = ? AND t.school_id = "
	    "? ORDER BY t.id",
	    p, 2);
	size_t i;

	if (res == NULL)
		return -1;
	c->n = 0;
	for (i = 0; i < db_res_rows(res) && i < COURSE_TEACHERS_MAX; i++) {
		(void)str_copy(
		    c->pub[i], sizeof(c->pub[0]), db_res_get(res, i, 0));
		c->sel[i] = c->pub[i];
		c->id[i] = db_res_int(res, i, 1);
		c->n++;
	}
	db_res_free(res);
	return 0;
}

/* The roster, audited as a view of personal data when it names anyone.
 * 0/-1. */
static int
course_roster(struct app *app, struct request *r, struct tval *ctx,
    const struct db_res *course)
{
	static const char *const keys[] = {"enrolment", "student_no",
	    "student_name", "class_label", "student_id"};
	struct db_param p[2] = {DB_INT(db_res_int(course, 0, CR_ID)),
	    DB_INT((long long)r->auth->u.school_id)};
	struct db_res *res = db_query(app_db(app), course_roster_sql, p, 2);
	char target[64], detail[64];
	size_t n;

	if (res == NULL)
		return -1;
	n = db_res_rows(res);
	str_printf(target, sizeof(target), "course:%s:%s",
	    db_res_get(course, 0, CR_TERM), db_res_get(course, 0, CR_CODE));
	str_printf(detail, sizeof(detail),
	    "{\"page\":\"course_roster\",\"students\":%zu}", n);
	if (n > 0 && rec_audit_view(app, r, target, detail) != 0) {
		db_res_free(res);
		return -1;
	}
	(void)tval_set(ctx, "roster", rec_rows(res, keys, ARRAY_SIZE(keys)));
	(void)tval_set_int(ctx, "roster_count", (long long)n);
	db_res_free(res);
	return 0;
}

/* The edit form filled from the row. */
static void
course_edit_values(struct tval *ctx, const struct db_res *res)
{
	(void)tval_set_str(ctx, "f_code", db_res_get(res, 0, CR_CODE));
	(void)tval_set_str(ctx, "f_course_name", db_res_get(res, 0, CR_NAME));
	(void)tval_set_str(ctx, "f_credits", db_res_get(res, 0, CR_CREDITS));
}

/* Renders a course's page (edit form, teachers, roster, enrol form); the
 * teachers select shows the edit form's choices when f is that form
 * (edit set), else the course's. Frees ctx and res. */
static enum request_outcome
course_render(struct app *app, struct request *r, struct tval *ctx,
    struct db_res *res, const struct form *f, int edit, int code)
{
	struct course_current cur;
	struct tval *teachers = NULL;
	char href[80];

	if (!edit)
		course_edit_values(ctx, res);
	if (course_current(app, r, db_res_int(res, 0, CR_ID), &cur) != 0 ||
	    (teachers = course_teacher_options(
		 app, r, edit ? f : NULL, cur.sel, cur.n)) == NULL ||
	    course_roster(app, r, ctx, res) != 0) {
		tval_free(teachers);
		db_res_free(res);
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	(void)tval_set(ctx, "teachers", teachers);
	(void)tval_set_str(ctx, "id", db_res_get(res, 0, CR_PUB));
	(void)tval_set_str(ctx, "term_label", db_res_get(res, 0, CR_TERM));
	(void)tval_set_str(ctx, "code", db_res_get(res, 0, CR_CODE));
	(void)tval_set_str(ctx, "course_name", db_res_get(res, 0, CR_NAME));
	str_printf(href, sizeof(href), "/admin/courses?term=%s",
	    db_res_get(res, 0, CR_TERM_PUB));
	(void)tval_set_str(ctx, "back_href", href);
	db_res_free(res);
	return auth_render(app, r, "records_course", ctx, code);
}

/* The page after the edit form (f) or a GET (f NULL). */
static enum request_outcome
course_edit_page(struct app *app, struct request *r, struct tval *ctx,
    struct db_res *res, const struct form *f, int code)
{
	return course_render(app, r, ctx, res, f, f != NULL, code);
}

/* The page after the enrol or unenrol form. */
static enum request_outcome
course_roster_page(struct app *app, struct request *r, struct tval *ctx,
    struct db_res *res, const struct form *f, int code)
{
	return course_render(app, r, ctx, res, f, 0, code);
}

enum request_outcome
course_get(struct app *app, struct request *r)
{
	enum request_outcome o;
	struct db_res *res =
	    rec_find(app, r, course_find_sql, request_capture(r, "id"), &o);
	struct tval *ctx;

	if (res == NULL)
		return o;
	ctx = auth_page_ctx(app, r, "records.course.title");
	rec_done_query(
	    app, r, ctx, "course", "created|updated|enrolled|unenrolled");
	return course_render(app, r, ctx, res, NULL, 0, 200);
}

/* The edit with its teachers and the audit row: 0, 1 refused (messages in
 * ctx), -1 on an error. */
static int
course_edit(struct app *app, struct request *r, struct tval *ctx,
    const struct form *f, const struct db_res *res, int invalid,
    const char **done)
{
	const char *old = db_res_get(res, 0, CR_CODE);
	struct course_current cur;
	struct course_teachers t;
	struct course_change c;
	char target[64];
	struct buf d;
	size_t n;
	int rc;

	(void)done;
	if (course_current(app, r, db_res_int(res, 0, CR_ID), &cur) != 0)
		return -1;
	rc = form_error(f, CF_TEACHERS) == FORM_E_OK
	    ? course_teachers_check(app, r, ctx, f, cur.id, cur.n, &t)
	    : 0;
	if (rc <= 0 || invalid)
		return rc < 0 ? -1 : 1;
	c.p[0] = DB_STR(form_str(f, CF_CODE));
	c.p[1] = DB_STR(form_str(f, CF_NAME));
	c.p[2] = DB_INT(form_int(f, CF_CREDITS));
	c.p[3] = DB_INT(db_res_int(res, 0, CR_ID));
	c.p[4] = DB_INT((long long)r->auth->u.school_id);
	c.st[0] = (struct rec_stmt){"UPDATE courses SET code = ?, name = ?, "
				    "credits = ? WHERE id = ? AND school_id = "
				    "?",
	    c.p, 5, "courses_code"};
	n = course_change_teachers(&c, r, db_res_get(res, 0, CR_PUB), &t, 1);
	str_printf(target, sizeof(target), "course:%s:%s",
	    db_res_get(res, 0, CR_TERM), form_str(f, CF_CODE));
	course_detail(
	    &d, f, &t, strcasecmp(old, form_str(f, CF_CODE)) != 0 ? old : NULL);
	rc = rec_change(app, r, c.st, n, "record.update", target, d.data);
	buf_free(&d);
	if (rc == 1)
		rec_error(app, r, ctx, "code", "course_exists");
	return rc;
}

static const struct rec_item course_item = {
    .find_sql = course_find_sql,
    .pub_col = CR_PUB,
    .title_key = "records.course.title",
    .fields = course_edit_fields,
    .nfields = CF_TERM + 1,
    .act = course_edit,
    .page = course_edit_page,
    .base = "/admin/courses/",
    .done = "updated",
    .anchor = "",
};

enum request_outcome
course_post(struct app *app, struct request *r)
{
	return rec_item_post(app, r, &course_item);
}

/* ------------------------------------------ enrolling and unenrolling */

/* The statement of an enrolment change and its audit row, in one
 * transaction: 0, 1 when it is a duplicate enrolment, -1. */
static int
course_enrolment_change(struct app *app, struct request *r,
    const struct rec_stmt *st, const char *event, const struct db_res *course,
    const char *student_no)
{
	char target[96];

	str_printf(target, sizeof(target), "enrolment:%s:%s:%s",
	    db_res_get(course, 0, CR_TERM), db_res_get(course, 0, CR_CODE),
	    student_no);
	return rec_change(app, r, st, 1, event, target, NULL);
}

enum { EF_STUDENT_NO, EF_CSRF, EF__MAX };
static const struct form_field enrol_fields[EF__MAX] = {
    [EF_STUDENT_NO] = {"student_no", FORM_PATTERN, FORM_REQUIRED, 1, 20,
	"[A-Za-z0-9]+"},
    [EF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, REC_CSRF},
};

/* Enrols the student with the number typed, when they are of the school
 * and still at it. 0, 1 refused (message in ctx), -1 on an error. */
static int
course_enrol(struct app *app, struct request *r, struct tval *ctx,
    const struct form *f, const struct db_res *course, int invalid,
    const char **done)
{
	struct db_param p[4] = {DB_INT((long long)r->auth->u.school_id),
	    DB_STR(form_str(f, EF_STUDENT_NO))};
	struct rec_stmt st = {"INSERT INTO enrolments (public_id, school_id, "
			      "student_id, course_id) VALUES (?, ?, ?, ?)",
	    p, 4, "enrolments_pair"};
	struct db_res *res;
	const char *why = NULL;
	char pub[IDS_PUBLIC_LEN + 1], no[21];
	long long sid;
	int rc;

	(void)done;
	if (invalid)
		return 1;
	res = db_query(app_db(app),
	    "SELECT id, status, student_no FROM students WHERE school_id = ? "
	    "AND student_no = ?",
	    p, 2);
	if (res == NULL)
		return -1;
	if (db_res_rows(res) != 1)
		why = "no_such_student";
	else if (strcmp(db_res_get(res, 0, 1), "enrolled") != 0 &&
	    strcmp(db_res_get(res, 0, 1), "suspended") != 0)
		why = "not_enrollable";
	sid = why == NULL ? db_res_int(res, 0, 0) : 0;
	(void)str_copy(
	    no, sizeof(no), why == NULL ? db_res_get(res, 0, 2) : "");
	db_res_free(res);
	if (why == NULL) {
		if (ids_public(pub) != 0)
			return -1;
		p[0] = DB_STR(pub);
		p[1] = DB_INT((long long)r->auth->u.school_id);
		p[2] = DB_INT(sid);
		p[3] = DB_INT(db_res_int(course, 0, CR_ID));
		rc = course_enrolment_change(
		    app, r, &st, "enrolment.add", course, no);
		if (rc != 1)
			return rc;
		why = "already_enrolled";
	}
	rec_error(app, r, ctx, "student_no", why);
	return 1;
}

static const struct rec_item enrol_item = {
    .find_sql = course_find_sql,
    .pub_col = CR_PUB,
    .title_key = "records.course.title",
    .fields = enrol_fields,
    .nfields = EF__MAX,
    .act = course_enrol,
    .page = course_roster_page,
    .base = "/admin/courses/",
    .done = "enrolled",
    .anchor = "#roster",
};

enum request_outcome
course_enrol_post(struct app *app, struct request *r)
{
	return rec_item_post(app, r, &enrol_item);
}

enum { UF_ENROLMENT, UF_CSRF, UF__MAX };
static const struct form_field unenrol_fields[UF__MAX] = {
    [UF_ENROLMENT] = {"enrolment", FORM_PATTERN, FORM_REQUIRED, 22, 22,
	REC_PUBLIC_ID},
    [UF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, REC_CSRF},
};

/* Removes the enrolment of this course named by the form: 0, 2 when the
 * course has no such enrolment (404), -1 on an error. */
static int
course_unenrol(struct app *app, struct request *r, struct tval *ctx,
    const struct form *f, const struct db_res *course, int invalid,
    const char **done)
{
	struct db_param p[3];
	struct rec_stmt st = {
	    "DELETE FROM enrolments WHERE id = ? AND school_id = ?", p, 2,
	    NULL};
	struct db_res *e;
	char no[21];
	int rc;

	(void)ctx;
	(void)done;
	if (invalid)
		return 2;
	p[0] = DB_STR(form_str(f, UF_ENROLMENT));
	p[1] = DB_INT(db_res_int(course, 0, CR_ID));
	p[2] = DB_INT((long long)r->auth->u.school_id);
	e = db_query(app_db(app),
	    "SELECT e.id, s.student_no FROM enrolments e JOIN students s ON "
	    "s.id = e.student_id WHERE e.public_id = ? AND e.course_id = ? AND "
	    "e.school_id = ?",
	    p, 3);
	if (e == NULL)
		return -1;
	if (db_res_rows(e) != 1) {
		db_res_free(e);
		return 2;
	}
	p[0] = DB_INT(db_res_int(e, 0, 0));
	p[1] = DB_INT((long long)r->auth->u.school_id);
	(void)str_copy(no, sizeof(no), db_res_get(e, 0, 1));
	db_res_free(e);
	rc = course_enrolment_change(
	    app, r, &st, "enrolment.remove", course, no);
	return rc == 0 ? 0 : -1;
}

static const struct rec_item unenrol_item = {
    .find_sql = course_find_sql,
    .pub_col = CR_PUB,
    .title_key = "records.course.title",
    .fields = unenrol_fields,
    .nfields = UF__MAX,
    .act = course_unenrol,
    .page = course_roster_page,
    .base = "/admin/courses/",
    .done = "unenrolled",
    .anchor = "#roster",
};

enum request_outcome
course_unenrol_post(struct app *app, struct request *r)
{
	return rec_item_post(app, r, &unenrol_item);
}
