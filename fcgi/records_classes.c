/*
 * records_classes: the classes of a school year (/admin/classes, filtered
 * by year, this school year by default) with the create form, and a
 * class's page (/admin/classes/:id) where its code, name, grade and
 * homeroom teacher (導師) are edited. Each change is audited in its
 * transaction; it never reads or writes another school's class.
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

static const char classes_list_sql[] =
    "SELECT c.public_id, c.code, c.name, c.grade, COALESCE(CONCAT(u.name, "
    "' (', u.login, ')'), ''), (SELECT COUNT(*) FROM students s WHERE "
    "s.class_id = c.id AND s.school_id = c.school_id) FROM classes c LEFT "
    "JOIN teachers t ON t.id = c.homeroom_teacher_id LEFT JOIN users u ON "
    "u.id = t.user_id WHERE c.school_id = ? AND c.year = ? ORDER BY "
    "c.grade, c.code";
static const char classes_years_sql[] =
    "SELECT DISTINCT year FROM classes WHERE school_id = ? ORDER BY year "
    "DESC";

/* The links to the years the school has classes in. 0/-1. */
static int
classes_years(struct app *app, struct request *r, struct tval *ctx, long year)
{
	struct db_param p[1] = {DB_INT((long long)r->auth->u.school_id)};
	struct db_res *res = db_query(app_db(app), classes_years_sql, p, 1);
	struct tval *list, *item;
	size_t i;

	if (res == NULL)
		return -1;
	list = tval_list();
	for (i = 0; i < db_res_rows(res); i++) {
		item = tval_obj();
		(void)tval_set_str(item, "year", db_res_get(res, i, 0));
		(void)tval_set_bool(
		    item, "current", db_res_int(res, i, 0) == year);
		(void)tval_push(list, item);
	}
	db_res_free(res);
	(void)tval_set(ctx, "years", list);
	return 0;
}

/* Renders /admin/classes for year; frees ctx. */
static enum request_outcome
classes_page(
    struct app *app, struct request *r, struct tval *ctx, long year, int status)
{
	static const char *const keys[] = {
	    "id", "code", "class_name", "grade", "homeroom", "students"};
	struct db_param p[2] = {
	    DB_INT((long long)r->auth->u.school_id), DB_INT(year)};
	struct db_res *res;

	res = db_query(app_db(app), classes_list_sql, p, 2);
	if (res == NULL || classes_years(app, r, ctx, year) != 0) {
		db_res_free(res);
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	(void)tval_set(ctx, "rows", rec_rows(res, keys, ARRAY_SIZE(keys)));
	(void)tval_set_int(ctx, "count", (long long)db_res_rows(res));
	db_res_free(res);
	(void)tval_set_int(ctx, "year", year);
	return auth_render(app, r, "records_classes", ctx, status);
}

enum { CQ_YEAR, CQ_DONE, CQ__MAX };
static const struct form_field classes_query_fields[CQ__MAX] = {
    [CQ_YEAR] = {"year", FORM_INT, 0, 1, 999, NULL},
    [CQ_DONE] = {"done", FORM_ENUM, 0, 0, 0, "created"},
};

enum request_outcome
classes_get(struct app *app, struct request *r)
{
	struct form *f = form_new(classes_query_fields, CQ__MAX);
	struct tval *ctx;
	long year = roc_school_year_now();
	int status = 200;

	if (f == NULL)
		return RQ_ERROR;
	ctx = auth_page_ctx(app, r, "records.classes.title");
	if (form_parse(f, r->query, strlen(r->query)) != 0) {
		rec_form_ctx(app, r, ctx, f, classes_query_fields, CQ__MAX, 1);
		status = 422;
	} else {
		if (form_has(f, CQ_YEAR))
			year = (long)form_int(f, CQ_YEAR);
		if (form_has(f, CQ_DONE))
			rec_notice(app, r, ctx, "classes", form_str(f, CQ_DONE),
			    "created");
	}
	form_free(f);
	(void)tval_set_int(ctx, "f_year", year);
	(void)tval_set_int(ctx, "f_new_year", year);
	return classes_page(app, r, ctx, year, status);
}

enum { CF_YEAR, CF_CODE, CF_NAME, CF_GRADE, CF_CSRF, CF__MAX };
static const struct form_field class_fields[CF__MAX] = {
    [CF_YEAR] = {"new_year", FORM_INT, FORM_REQUIRED, 1, 999, NULL},
    [CF_CODE] = {"code", FORM_PATTERN, FORM_REQUIRED, 1, 16, REC_CODE},
    [CF_NAME] = {"class_name", FORM_TEXT, FORM_REQUIRED, 1, 50, NULL},
    [CF_GRADE] = {"grade", FORM_INT, FORM_REQUIRED, 1, 12, NULL},
    [CF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, REC_CSRF},
};

/* {"kind":"class","name":..,"grade":N[,"homeroom":..][,"code_was":..]} */
static void
class_detail(struct buf *d, const char *name, long long grade,
    const char *homeroom, const char *code_was)
{
	buf_init(d);
	buf_putc(d, '{');
	buf_json_kv(d, "kind", "class");
	buf_json_kv(d, "name", name);
	buf_json_ki(d, "grade", grade);
	if (homeroom != NULL)
		buf_json_kv(
		    d, "homeroom", homeroom[0] != '\0' ? homeroom : NULL);
	if (code_was != NULL)
		buf_json_kv(d, "code_was", code_was);
	buf_putc(d, '}');
}

/* Inserts the class with its audit row. 0, 1 when the year has that code
 * already, -1 on an error. */
static int
class_insert(struct app *app, struct request *r, const struct form *f)
{
	char pub[IDS_PUBLIC_LEN + 1], target[48];
	struct db_param p[6];
	struct rec_stmt st = {"INSERT INTO classes (public_id, school_id, "
			      "year, code, name, grade) VALUES (?, ?, ?, ?, "
			      "?, ?)",
	    p, 6, "classes_school_code"};
	struct buf d;
	int rc;

	if (ids_public(pub) != 0)
		return -1;
	p[0] = DB_STR(pub);
	p[1] = DB_INT((long long)r->auth->u.school_id);
	p[2] = DB_INT(form_int(f, CF_YEAR));
	p[3] = DB_STR(form_str(f, CF_CODE));
	p[4] = DB_STR(form_str(f, CF_NAME));
	p[5] = DB_INT(form_int(f, CF_GRADE));
	str_printf(target, sizeof(target), "class:%lld:%s",
	    form_int(f, CF_YEAR), form_str(f, CF_CODE));
	class_detail(
	    &d, form_str(f, CF_NAME), form_int(f, CF_GRADE), NULL, NULL);
	rc = rec_change(app, r, &st, 1, "record.create", target, d.data);
	buf_free(&d);
	return rc;
}

enum request_outcome
classes_post(struct app *app, struct request *r)
{
	struct form *f = form_new(class_fields, CF__MAX);
	struct tval *ctx;
	char href[64];
	long year;
	int invalid, rc;

	if (f == NULL)
		return RQ_ERROR;
	ctx = auth_page_ctx(app, r, "records.classes.title");
	invalid = form_parse(f, r->input.data, r->input.len) != 0;
	rec_form_ctx(app, r, ctx, f, class_fields, CF__MAX, invalid);
	year = form_error(f, CF_YEAR) == FORM_E_OK ? (long)form_int(f, CF_YEAR)
						   : roc_school_year_now();
	if (!invalid) {
		rc = class_insert(app, r, f);
		if (rc < 0) {
			form_free(f);
			tval_free(ctx);
			return RQ_UNAVAILABLE;
		}
		if (rc == 1) {
			rec_error(app, r, ctx, "code", "class_exists");
			invalid = 1;
		}
	}
	form_free(f);
	if (invalid) {
		(void)tval_set_int(ctx, "f_year", year);
		return classes_page(app, r, ctx, year, 422);
	}
	tval_free(ctx);
	str_printf(
	    href, sizeof(href), "/admin/classes?year=%ld&done=created", year);
	request_redirect(r, href);
	return RQ_OK;
}

/* -------------------------------------------------- /admin/classes/:id */

static const char class_find_sql[] =
    "SELECT c.id, c.public_id, c.year, c.code, c.name, c.grade, "
    "COALESCE(t.public_id, ''), COALESCE(u.login, ''), (SELECT COUNT(*) "
    "FROM students s WHERE s.class_id = c.id AND s.school_id = "
    "c.school_id), COALESCE(c.homeroom_teacher_id, 0) FROM classes c LEFT "
    "JOIN teachers t ON t.id = c.homeroom_teacher_id LEFT JOIN users u ON "
    "u.id = t.user_id WHERE c.public_id = ? AND c.school_id = ?";
enum {
	CR_ID,
	CR_PUB,
	CR_YEAR,
	CR_CODE,
	CR_NAME,
	CR_GRADE,
	CR_HR_PUB,
	CR_HR_LOGIN,
	CR_STUDENTS,
	CR_HR_ID
};

enum { CE_CODE, CE_NAME, CE_GRADE, CE_HOMEROOM, CE_CSRF, CE__MAX };
static const struct form_field class_edit_fields[CE__MAX] = {
    [CE_CODE] = {"code", FORM_PATTERN, FORM_REQUIRED, 1, 16, REC_CODE},
    [CE_NAME] = {"class_name", FORM_TEXT, FORM_REQUIRED, 1, 50, NULL},
    [CE_GRADE] = {"grade", FORM_INT, FORM_REQUIRED, 1, 12, NULL},
    [CE_HOMEROOM] = {"homeroom", FORM_PATTERN, 0, 22, 22, REC_PUBLIC_ID},
    [CE_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, REC_CSRF},
};

/* Renders a class's page, the homeroom choice from f or the row; frees
 * ctx and res. */
static enum request_outcome
class_page(struct app *app, struct request *r, struct tval *ctx,
    struct db_res *res, const struct form *f, int status)
{
	const char *sel[1] = {f != NULL ? form_echo(f, CE_HOMEROOM)
					: db_res_get(res, 0, CR_HR_PUB)};
	struct tval *teachers = rec_teacher_options(app, r, sel, 1);
	char href[96];

	if (teachers == NULL) {
		db_res_free(res);
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	(void)tval_set(ctx, "teachers", teachers);
	(void)tval_set_str(ctx, "id", db_res_get(res, 0, CR_PUB));
	(void)tval_set_str(ctx, "year", db_res_get(res, 0, CR_YEAR));
	(void)tval_set_str(ctx, "code", db_res_get(res, 0, CR_CODE));
	(void)tval_set_str(ctx, "class_name", db_res_get(res, 0, CR_NAME));
	(void)tval_set_str(ctx, "students", db_res_get(res, 0, CR_STUDENTS));
	str_printf(href, sizeof(href), "/admin/students?class=%s",
	    db_res_get(res, 0, CR_PUB));
	(void)tval_set_str(ctx, "students_href", href);
	str_printf(href, sizeof(href), "/admin/classes?year=%s",
	    db_res_get(res, 0, CR_YEAR));
	(void)tval_set_str(ctx, "back_href", href);
	db_res_free(res);
	return auth_render(app, r, "records_class", ctx, status);
}

enum request_outcome
class_get(struct app *app, struct request *r)
{
	enum request_outcome o;
	struct db_res *res =
	    rec_find(app, r, class_find_sql, request_capture(r, "id"), &o);
	struct tval *ctx;

	if (res == NULL)
		return o;
	ctx = auth_page_ctx(app, r, "records.class.title");
	rec_done_query(app, r, ctx, "class", "updated");
	(void)tval_set_str(ctx, "f_code", db_res_get(res, 0, CR_CODE));
	(void)tval_set_str(ctx, "f_class_name", db_res_get(res, 0, CR_NAME));
	(void)tval_set_str(ctx, "f_grade", db_res_get(res, 0, CR_GRADE));
	return class_page(app, r, ctx, res, NULL, 200);
}

/* Checks the homeroom choice: an active teacher of the school, or the
 * class's current one. 1 with *tid (0: none) and login, 0 when refused,
 * -1 on error. */
static int
class_homeroom(struct app *app, struct request *r, const struct form *f,
    const struct db_res *res, uint64_t *tid, char login[33])
{
	char status[8];
	int rc;

	*tid = 0;
	login[0] = '\0';
	if (!form_has(f, CE_HOMEROOM))
		return 1;
	rc = rec_teacher_find(app, r->auth->u.school_id,
	    form_str(f, CE_HOMEROOM), tid, status, login);
	if (rc <= 0)
		return rc;
	if (strcmp(status, "active") == 0 ||
	    (uint64_t)db_res_int(res, 0, CR_HR_ID) == *tid)
		return 1;
	return 0;
}

/* The edit with its audit row: 0, 1 refused (messages in ctx), -1. */
static int
class_edit(struct app *app, struct request *r, struct tval *ctx,
    const struct form *f, const struct db_res *res, int invalid,
    const char **done)
{
	const char *old_code = db_res_get(res, 0, CR_CODE);
	struct db_param p[6];
	struct rec_stmt st = {"UPDATE classes SET code = ?, name = ?, grade = "
			      "?, homeroom_teacher_id = ? WHERE id = ? AND "
			      "school_id = ?",
	    p, 6, "classes_school_code"};
	char target[48], login[33];
	struct buf d;
	uint64_t tid;
	int rc;

	(void)done;
	if (invalid)
		return 1;
	rc = class_homeroom(app, r, f, res, &tid, login);
	if (rc <= 0) {
		if (rc == 0)
			rec_error(app, r, ctx, "homeroom", "no_such_teacher");
		return rc < 0 ? -1 : 1;
	}
	p[0] = DB_STR(form_str(f, CE_CODE));
	p[1] = DB_STR(form_str(f, CE_NAME));
	p[2] = DB_INT(form_int(f, CE_GRADE));
	p[3] = tid != 0 ? DB_INT((long long)tid) : DB_NULLP;
	p[4] = DB_INT(db_res_int(res, 0, CR_ID));
	p[5] = DB_INT((long long)r->auth->u.school_id);
	str_printf(target, sizeof(target), "class:%s:%s",
	    db_res_get(res, 0, CR_YEAR), form_str(f, CE_CODE));
	class_detail(&d, form_str(f, CE_NAME), form_int(f, CE_GRADE), login,
	    strcasecmp(old_code, form_str(f, CE_CODE)) != 0 ? old_code : NULL);
	rc = rec_change(app, r, &st, 1, "record.update", target, d.data);
	buf_free(&d);
	if (rc == 1)
		rec_error(app, r, ctx, "code", "class_exists");
	return rc;
}

static const struct rec_item class_item = {
    .find_sql = class_find_sql,
    .pub_col = CR_PUB,
    .title_key = "records.class.title",
    .fields = class_edit_fields,
    .nfields = CE__MAX,
    .act = class_edit,
    .page = class_page,
    .base = "/admin/classes/",
    .done = "updated",
    .anchor = "",
};

enum request_outcome
class_post(struct app *app, struct request *r)
{
	return rec_item_post(app, r, &class_item);
}
