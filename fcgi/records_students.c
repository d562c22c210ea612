/*
 * records_students: a school's students — the list with search, filters
 * and pagination (/admin/students; names and national IDs masked), the
 * new-student form that also issues the account and its activation letter
 * (/admin/students/new), the student's page (/admin/students/:id, every
 * view audited as personal_data.view) with its edit and status forms, and
 * the one page that shows a national ID in full, only with a reason and
 * audited (/admin/students/:id/identity).
 *
 * A national ID is kept only as an HMAC (keys.lookup) and sealed
 * (keys.data, bound to the student's public id). It must never be written
 * to a list, a log, an audit row or back into a form, and nothing here
 * reads or writes another school's student.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "app.h"
#include "auth.h"
#include "db.h"
#include "form.h"
#include "ids.h"
#include "issue.h"
#include "log.h"
#include "pii.h"
#include "records.h"
#include "router.h"
#include "template.h"
#include "util.h"

#define STUDENT_STATUSES "enrolled|suspended|graduated|left"
/* Student numbers become logins (lower case, plus "-xxxx"). */
#define STUDENT_NO "[A-Za-z0-9]+"
#define STUDENT_TWID "[A-Za-z][A-Za-z0-9][0-9]{8}"
/* Attempts at a generated login before giving up (its four random
 * characters make a clash rare already). */
#define STUDENT_LOGIN_TRIES 5

static const char class_choices_sql[] =
    "SELECT public_id, CONCAT(year, ' ', code, ' ', name) FROM classes "
    "WHERE school_id = ? ORDER BY year DESC, grade, code";

/* The school's classes as options of key, with selected chosen. 0/-1. */
static int
student_class_options(struct app *app, struct request *r, struct tval *ctx,
    const char *key, const char *selected)
{
	struct db_param p[1] = {DB_INT((long long)r->auth->u.school_id)};
	struct db_res *res = db_query(app_db(app), class_choices_sql, p, 1);
	const char *sel[1] = {selected};

	if (res == NULL)
		return -1;
	(void)tval_set(ctx, key, rec_options(res, sel, 1));
	db_res_free(res);
	return 0;
}

/* The masked national ID of a student (A12*****89) from its sealed form;
 * the clear value is wiped at once. */
static void
student_twid_masked(struct app *app, const char *pub, const char *sealed,
    size_t n, char out[11])
{
	char twid[11];

	if (pii_twid_open(app->data_key, pub, (const unsigned char *)sealed, n,
		twid) != 0) {
		log_error("student %s: the national ID does not open", pub);
		twid[0] = '\0';
	}
	pii_twid_mask(twid, out);
	OPENSSL_cleanse(twid, sizeof(twid));
}

/* ---------------------------------------------------- /admin/students */

enum { SQ_Q, SQ_CLASS, SQ_STATUS, SQ_PAGE, SQ__MAX };
static const struct form_field students_query_fields[SQ__MAX] = {
    [SQ_Q] = {"q", FORM_TEXT, 0, 0, 50, NULL},
    [SQ_CLASS] = {"class", FORM_PATTERN, 0, 22, 22, REC_PUBLIC_ID},
    [SQ_STATUS] = {"status", FORM_ENUM, 0, 0, 0, STUDENT_STATUSES},
    [SQ_PAGE] = {"page", FORM_INT, 0, 1, 100000, NULL},
};

/* One row of the list, masked. */
static struct tval *
students_row(
    struct app *app, struct request *r, const struct db_res *res, size_t i)
{
	struct tval *row = tval_obj();
	char masked[11], name[512];

	(void)tval_set_str(row, "id", db_res_get(res, i, 0));
	(void)tval_set_str(row, "student_no", db_res_get(res, i, 1));
	pii_name_mask(db_res_get(res, i, 2), name, sizeof(name));
	(void)tval_set_str(row, "masked_name", name);
	student_twid_masked(app, db_res_get(res, i, 0), db_res_get(res, i, 3),
	    db_res_len(res, i, 3), masked);
	(void)tval_set_str(row, "masked_id", masked);
	(void)tval_set_str(row, "class_label", db_res_get(res, i, 4));
	(void)tval_set_str(row, "seat", db_res_get(res, i, 5));
	(void)tval_set_str(row, "status_text",
	    rec_word(app, r, "records.status", db_res_get(res, i, 6)));
	return row;
}

/* The students of the filters: the rows of page, and their count. 0/-1. */
static int
students_rows(struct app *app, struct request *r, struct tval *ctx,
    const struct form *f, long page)
{
	struct db_param p[6];
	struct db_res *res;
	struct tval *rows;
	struct buf from, href;
	char like[160];
	long long total = 0;
	size_t np = 0, i;

	buf_init(&from);
	buf_init(&href);
	buf_puts(&from,
	    "FROM students s LEFT JOIN classes c ON c.id = "
	    "s.class_id WHERE s.school_id = ?");
	p[np++] = DB_INT((long long)r->auth->u.school_id);
	buf_puts(&href, "/admin/students?");
	if (form_has(f, SQ_Q)) {
		rec_like(form_str(f, SQ_Q), like, sizeof(like));
		/* student_no is ASCII: a Chinese search text must not meet
		 * it in its own character set. */
		buf_puts(&from,
		    " AND (CONVERT(s.student_no USING utf8mb4) "
		    "LIKE ? ESCAPE '!' OR s.name LIKE ? ESCAPE "
		    "'!')");
		p[np++] = DB_STR(like);
		p[np++] = DB_STR(like);
		buf_query_param(&href, "q", form_str(f, SQ_Q));
	}
	if (form_has(f, SQ_CLASS)) {
		buf_puts(&from, " AND c.public_id = ?");
		p[np++] = DB_STR(form_str(f, SQ_CLASS));
		buf_query_param(&href, "class", form_str(f, SQ_CLASS));
	}
	if (form_has(f, SQ_STATUS)) {
		buf_puts(&from, " AND s.status = ?");
		p[np++] = DB_STR(form_str(f, SQ_STATUS));
		buf_query_param(&href, "status", form_str(f, SQ_STATUS));
	}
	res = rec_page_query(app,
	    "s.public_id, s.student_no, s.name, s.national_id_sealed, "
	    "COALESCE(CONCAT(c.year, ' ', c.code, ' ', c.name), ''), "
	    "COALESCE(s.seat_no, ''), s.status",
	    from.data, "s.student_no", p, np, page, &total);
	if (res != NULL) {
		rows = tval_list();
		for (i = 0; i < db_res_rows(res); i++)
			(void)tval_push(rows, students_row(app, r, res, i));
		db_res_free(res);
		(void)tval_set(ctx, "rows", rows);
		rec_pages(app, r, ctx, "records.students.total", total, page,
		    href.data);
	}
	buf_free(&from);
	buf_free(&href);
	return res != NULL ? 0 : -1;
}

enum request_outcome
students_get(struct app *app, struct request *r)
{
	struct form *f = form_new(students_query_fields, SQ__MAX);
	struct tval *ctx;
	int invalid, rc;

	if (f == NULL)
		return RQ_ERROR;
	ctx = auth_page_ctx(app, r, "records.students.title");
	rec_search_ctx(
	    app, r, ctx, "/admin/students", "records.students.q_hint");
	invalid = form_parse(f, r->query, strlen(r->query)) != 0;
	rec_form_ctx(app, r, ctx, f, students_query_fields, SQ__MAX, invalid);
	(void)tval_set(ctx, "statuses",
	    rec_word_options(app, r, "records.status", STUDENT_STATUSES,
		form_echo(f, SQ_STATUS)));
	rc = student_class_options(
	    app, r, ctx, "classes", form_echo(f, SQ_CLASS));
	if (rc == 0 && !invalid) {
		rc = students_rows(app, r, ctx, f,
		    form_has(f, SQ_PAGE) ? (long)form_int(f, SQ_PAGE) : 1);
		(void)tval_set_bool(ctx, "shown", 1);
	}
	form_free(f);
	if (rc != 0) {
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	return auth_render(
	    app, r, "records_students", ctx, invalid ? 422 : 200);
}

/* ------------------------------------------- the fields of a student */

/* The fields the new-student and edit forms share, in this order. */
enum { SF_NO, SF_NAME, SF_TWID, SF_BIRTH, SF_CLASS, SF_SEAT, SF_COMMON };

#define STUDENT_COMMON_FIELDS(twid_flags)                                      \
	[SF_NO] = {"student_no", FORM_PATTERN, FORM_REQUIRED, 1, 20,           \
	    STUDENT_NO},                                                       \
	[SF_NAME] = {"student_name", FORM_TEXT, FORM_REQUIRED, 1, 100, NULL},  \
	[SF_TWID] = {"national_id", FORM_PATTERN, (twid_flags), 10, 10,        \
	    STUDENT_TWID},                                                     \
	[SF_BIRTH] = {"birth_date", FORM_DATE, FORM_REQUIRED, 0, 0, NULL},     \
	[SF_CLASS] = {"class", FORM_PATTERN, 0, 22, 22, REC_PUBLIC_ID},        \
	[SF_SEAT] = {"seat", FORM_INT, 0, 1, 99, NULL}

enum { SN_STATUS = SF_COMMON, SN_CSRF, SN__MAX };
static const struct form_field student_new_fields[SN__MAX] = {
    STUDENT_COMMON_FIELDS(FORM_REQUIRED),
    [SN_STATUS] = {"status", FORM_ENUM, FORM_REQUIRED, 0, 0, STUDENT_STATUSES},
    [SN_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, REC_CSRF},
};

enum { SE_CSRF = SF_COMMON, SE__MAX };
static const struct form_field student_edit_fields[SE__MAX] = {
    STUDENT_COMMON_FIELDS(0),
    [SE_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, REC_CSRF},
};

/* What the shared fields resolve to beyond their declaration. */
struct student_in {
	int has_twid; /* a national ID was typed (always for a new one) */
	char twid[11]; /* upper case; wiped by student_in_wipe */
	const char *kind; /* "national" / "resident" */
	char hmac[CRYPTO_SHA256_HEX_LEN + 1];
	uint64_t class_id; /* 0: none */
	char class_name[51];
	char class_label[80]; /* "114 101 一年一班" for the audit row */
};

static void
student_in_wipe(struct student_in *in)
{
	OPENSSL_cleanse(in->twid, sizeof(in->twid));
}

/* 1 when another student of the school (not except) has the value in
 * column (student_no or national_id_hmac), 0 when not, -1 on error. */
static int
student_taken(struct app *app, struct request *r, const char *sql,
    const char *value, long long except)
{
	struct db_param p[3] = {DB_INT((long long)r->auth->u.school_id),
	    DB_STR(value), DB_INT(except)};
	struct db_res *res = db_query(app_db(app), sql, p, 3);
	int taken;

	if (res == NULL)
		return -1;
	taken = db_res_int(res, 0, 0) > 0;
	db_res_free(res);
	return taken;
}

static const char student_no_taken_sql[] =
    "SELECT COUNT(*) FROM students WHERE school_id = ? AND student_no = ? "
    "AND id <> ?";
static const char student_twid_taken_sql[] =
    "SELECT COUNT(*) FROM students WHERE school_id = ? AND "
    "national_id_hmac = ? AND id <> ?";

/* The class chosen, within the school. 1 found, 0 not, -1 on error. */
static int
student_class(
    struct app *app, struct request *r, const char *pub, struct student_in *in)
{
	struct db_param p[2] = {
	    DB_STR(pub), DB_INT((long long)r->auth->u.school_id)};
	struct db_res *res = db_query(app_db(app),
	    "SELECT id, name, CONCAT(year, ' ', code, ' ', name) FROM classes "
	    "WHERE public_id = ? AND school_id = ?",
	    p, 2);
	int found;

	if (res == NULL)
		return -1;
	found = db_res_rows(res) == 1;
	if (found) {
		in->class_id = (uint64_t)db_res_int(res, 0, 0);
		(void)str_copy(in->class_name, sizeof(in->class_name),
		    db_res_get(res, 0, 1));
		(void)str_copy(in->class_label, sizeof(in->class_label),
		    db_res_get(res, 0, 2));
	}
	db_res_free(res);
	return found;
}

/*
 * The checks of the shared fields beyond their declaration — the ID's
 * check digit, the birth date in the past, the class within the school,
 * student number and ID not another student's (except is the student
 * being edited, 0 for a new one) — each failure shown at its field.
 * 0 when all pass, 1 when one does not, -1 on a database error.
 */
static int
student_check(struct app *app, struct request *r, struct tval *ctx,
    const struct form *f, long long except, struct student_in *in)
{
	char today[11];
	int bad = 0, rc;

	memset(in, 0, sizeof(*in));
	if (form_has(f, SF_TWID) && form_error(f, SF_TWID) == FORM_E_OK) {
		in->kind = pii_twid_kind(form_str(f, SF_TWID));
		if (in->kind == NULL) {
			rec_error(app, r, ctx, "national_id", "twid_checksum");
			bad = 1;
		} else if (pii_twid_normalise(form_str(f, SF_TWID), in->twid) !=
			0 ||
		    pii_twid_hmac(app->lookup_key, in->twid, in->hmac) != 0)
			return -1;
		else {
			in->has_twid = 1;
			rc = student_taken(
			    app, r, student_twid_taken_sql, in->hmac, except);
			if (rc < 0)
				return -1;
			if (rc == 1) {
				rec_error(
				    app, r, ctx, "national_id", "twid_taken");
				bad = 1;
			}
		}
	}
	rec_today(today);
	if (form_error(f, SF_BIRTH) == FORM_E_OK && form_has(f, SF_BIRTH) &&
	    (strcmp(form_str(f, SF_BIRTH), "1900-01-01") < 0 ||
		strcmp(form_str(f, SF_BIRTH), today) >= 0)) {
		rec_error(app, r, ctx, "birth_date", "birth_range");
		bad = 1;
	}
	if (form_has(f, SF_CLASS) && form_error(f, SF_CLASS) == FORM_E_OK) {
		rc = student_class(app, r, form_str(f, SF_CLASS), in);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			rec_error(app, r, ctx, "class", "no_such_class");
			bad = 1;
		}
	}
	if (form_error(f, SF_NO) == FORM_E_OK && form_has(f, SF_NO)) {
		rc = student_taken(
		    app, r, student_no_taken_sql, form_str(f, SF_NO), except);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			rec_error(
			    app, r, ctx, "student_no", "student_no_taken");
			bad = 1;
		}
	}
	return bad;
}

/* A student form shown again: what was typed stays (rec_form_ctx), but
 * the national ID is never written back into a page; it is typed again. */
static void
student_retype(struct tval *ctx, const struct form *f)
{
	(void)tval_set_str(ctx, "f_national_id", "");
	if (form_has(f, SF_TWID))
		(void)tval_set_bool(ctx, "retype_id", 1);
}

/* ------------------------------------------------ /admin/students/new */

/* Renders the new-student form; frees ctx. */
static enum request_outcome
student_new_page(struct app *app, struct request *r, struct tval *ctx,
    const char *class_sel, const char *status, int code)
{
	if (student_class_options(app, r, ctx, "classes", class_sel) != 0) {
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	(void)tval_set(ctx, "statuses",
	    rec_word_options(
		app, r, "records.status", STUDENT_STATUSES, status));
	return auth_render(app, r, "records_student_new", ctx, code);
}

enum request_outcome
student_new_get(struct app *app, struct request *r)
{
	struct tval *ctx = auth_page_ctx(app, r, "records.student_new.title");

	return student_new_page(app, r, ctx, NULL, "enrolled", 200);
}

/* {"kind":"student",...} of a new student: never the ID, nor the name. */
static void
student_create_detail(struct buf *d, const struct form *f,
    const struct student_in *in, const char *login, const char *batch)
{
	buf_init(d);
	buf_putc(d, '{');
	buf_json_kv(d, "kind", "student");
	buf_json_kv(d, "id_kind", in->kind);
	buf_json_kv(d, "class", in->class_id != 0 ? in->class_label : NULL);
	buf_json_kv(d, "status", form_str(f, SN_STATUS));
	buf_json_kv(d, "account", login);
	buf_json_kv(d, "letter_batch", batch);
	buf_putc(d, '}');
}

/*
 * Creates the student, their account (login from the student number) and
 * its letter, with the audit row, in one transaction; the ID is sealed
 * bound to the new public id. 0, 1 when the number was taken meanwhile, 2
 * when the ID was, 3 when the number makes no login, -1 on an error.
 */
static int
student_create(struct app *app, struct request *r, const struct form *f,
    const struct student_in *in, char batch[IDS_PUBLIC_LEN + 1])
{
	struct db *db = app_db(app);
	struct issue_facts facts = {form_str(f, SF_BIRTH), in->hmac};
	unsigned char sealed[PII_TWID_SEALED_MAX];
	char pub[IDS_PUBLIC_LEN + 1], login[33], target[48];
	struct db_param p[12];
	struct rec_stmt st = {"INSERT INTO students (public_id, school_id, "
			      "user_id, student_no, name, id_kind, "
			      "national_id_hmac, national_id_sealed, "
			      "birth_date, class_id, seat_no, status, "
			      "status_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
			      "?, ?, ?, ?, ?, UTC_TIMESTAMP(6))",
	    p, 12, "students_number|students_national_id"};
	struct buf d;
	size_t n = 0;
	uint64_t uid = 0;
	int rc = 1, tries;

	if (ids_public(pub) != 0 ||
	    pii_twid_seal(app->data_key, pub, in->twid, sealed, &n) != 0 ||
	    db_begin(db) != 0)
		return -1;
	for (tries = 0; rc == 1 && tries < STUDENT_LOGIN_TRIES; tries++) {
		if (issue_student_login(form_str(f, SF_NO), login) != 0) {
			rc = 3;
			break;
		}
		rc =
		    rec_issue_tx(app, r, "student", login, form_str(f, SF_NAME),
			&facts, form_str(f, SF_NO), in->class_name,
			form_has(f, SF_SEAT) ? (int)form_int(f, SF_SEAT) : 0,
			&uid, batch);
	}
	if (rc == 0) {
		p[0] = DB_STR(pub);
		p[1] = DB_INT((long long)r->auth->u.school_id);
		p[2] = DB_INT((long long)uid);
		p[3] = DB_STR(form_str(f, SF_NO));
		p[4] = DB_STR(form_str(f, SF_NAME));
		p[5] = DB_STR(in->kind);
		p[6] = DB_STR(in->hmac);
		p[7] = DB_BLOB(sealed, n);
		p[8] = DB_STR(form_str(f, SF_BIRTH));
		p[9] = in->class_id != 0 ? DB_INT((long long)in->class_id)
					 : DB_NULLP;
		p[10] = form_has(f, SF_SEAT) ? DB_INT(form_int(f, SF_SEAT))
					     : DB_NULLP;
		p[11] = DB_STR(form_str(f, SN_STATUS));
		str_printf(
		    target, sizeof(target), "student:%s", form_str(f, SF_NO));
		student_create_detail(&d, f, in, login, batch);
		rc = rec_change_tx(
		    db, r, &st, 1, "record.create", target, d.data);
		buf_free(&d);
	} else if (rc == 1)
		rc = -1; /* no free login after STUDENT_LOGIN_TRIES */
	return rec_end_tx(db, rc);
}

enum request_outcome
students_post(struct app *app, struct request *r)
{
	struct form *f = form_new(student_new_fields, SN__MAX);
	struct student_in in;
	struct tval *ctx;
	enum request_outcome o;
	char batch[IDS_PUBLIC_LEN + 1], href[64];
	int invalid, rc;

	if (f == NULL)
		return RQ_ERROR;
	ctx = auth_page_ctx(app, r, "records.student_new.title");
	invalid = form_parse(f, r->input.data, r->input.len) != 0;
	rec_form_ctx(app, r, ctx, f, student_new_fields, SN__MAX, invalid);
	student_retype(ctx, f);
	rc = student_check(app, r, ctx, f, 0, &in);
	if (rc == 0 && !invalid) {
		rc = student_create(app, r, f, &in, batch);
		if (rc == 1)
			rec_error(
			    app, r, ctx, "student_no", "student_no_taken");
		else if (rc == 2)
			rec_error(app, r, ctx, "national_id", "twid_taken");
		else if (rc == 3)
			rec_error(
			    app, r, ctx, "student_no", "student_no_login");
	}
	student_in_wipe(&in);
	if (rc < 0) {
		form_free(f);
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	if (rc > 0 || invalid) {
		o = student_new_page(app, r, ctx, form_echo(f, SF_CLASS),
		    form_echo(f, SN_STATUS), 422);
		form_free(f);
		return o;
	}
	form_free(f);
	tval_free(ctx);
	str_printf(href, sizeof(href), "/admin/letters/%s", batch);
	request_redirect(r, href);
	return RQ_OK;
}

/* ------------------------------------------------- /admin/students/:id */

static const char student_find_sql[] =
    "SELECT s.id, s.public_id, s.student_no, s.name, s.id_kind, "
    "s.national_id_sealed, s.birth_date, COALESCE(c.public_id, ''), "
    "COALESCE(CONCAT(c.year, ' ', c.code, ' ', c.name), ''), "
    "COALESCE(s.seat_no, ''), s.status, DATE_FORMAT(s.status_changed_at, "
    "'%Y-%m-%d %H:%i'), COALESCE(u.login, ''), COALESCE(u.status, ''), "
    "COALESCE(s.user_id, 0), s.national_id_hmac FROM students s LEFT JOIN "
    "classes c ON c.id = s.class_id LEFT JOIN users u ON u.id = s.user_id "
    "WHERE s.public_id = ? AND s.school_id = ?";
enum {
	ST_ID,
	ST_PUB,
	ST_NO,
	ST_NAME,
	ST_KIND,
	ST_SEALED,
	ST_BIRTH,
	ST_CLASS_PUB,
	ST_CLASS,
	ST_SEAT,
	ST_STATUS,
	ST_CHANGED,
	ST_LOGIN,
	ST_ACCOUNT,
	ST_UID,
	ST_HMAC
};

static const char student_enrolments_sql[] =
    "SELECT CONCAT(te.year, '-', te.semester), c.public_id, c.code, c.name, "
    "c.credits FROM enrolments e JOIN courses c ON c.id = e.course_id JOIN "
    "terms te ON te.id = c.term_id WHERE e.student_id = ? AND e.school_id "
    "= ? ORDER BY te.year DESC, te.semester DESC, c.code";

/* The student's enrolments grouped by term: [{term, courses: [...]}].
 * 0/-1. */
static int
student_enrolments(
    struct app *app, struct request *r, struct tval *ctx, long long sid)
{
	struct db_param p[2] = {
	    DB_INT(sid), DB_INT((long long)r->auth->u.school_id)};
	struct db_res *res =
	    db_query(app_db(app), student_enrolments_sql, p, 2);
	struct tval *terms, *term = NULL, *courses = NULL, *c;
	const char *label, *last = "";
	size_t i;

	if (res == NULL)
		return -1;
	terms = tval_list();
	for (i = 0; i < db_res_rows(res); i++) {
		label = db_res_get(res, i, 0);
		if (term == NULL || strcmp(label, last) != 0) {
			if (term != NULL) {
				(void)tval_set(term, "courses", courses);
				(void)tval_push(terms, term);
			}
			term = tval_obj();
			courses = tval_list();
			(void)tval_set_str(term, "term", label);
			last = label;
		}
		c = tval_obj();
		(void)tval_set_str(c, "id", db_res_get(res, i, 1));
		(void)tval_set_str(c, "code", db_res_get(res, i, 2));
		(void)tval_set_str(c, "course_name", db_res_get(res, i, 3));
		(void)tval_set_str(c, "credits", db_res_get(res, i, 4));
		(void)tval_push(courses, c);
	}
	if (term != NULL) {
		(void)tval_set(term, "courses", courses);
		(void)tval_push(terms, term);
	}
	(void)tval_set_int(ctx, "enrolment_count", (long long)db_res_rows(res));
	db_res_free(res);
	(void)tval_set(ctx, "terms", terms);
	return 0;
}

static const char student_items_sql[] =
    "SELECT CONCAT(te.year, '-', te.semester), i.kind, i.description, "
    "f.public_id, f.original_name FROM items i JOIN terms te ON te.id = "
    "i.term_id JOIN item_files f ON f.item_id = i.id AND f.school_id = "
    "i.school_id AND f.replaced_at IS NULL WHERE i.student_id = ? AND "
    "i.school_id = ? AND i.deleted_at IS NULL ORDER BY te.year DESC, "
    "te.semester DESC, i.id, f.slot";

/* The current files of the student's items, newest term first, each
 * linking to its download: [{term, kind, description, id, name}]. 0/-1. */
static int
student_items(
    struct app *app, struct request *r, struct tval *ctx, long long sid)
{
	struct db_param p[2] = {
	    DB_INT(sid), DB_INT((long long)r->auth->u.school_id)};
	struct db_res *res = db_query(app_db(app), student_items_sql, p, 2);
	struct tval *files, *f;
	size_t i;

	if (res == NULL)
		return -1;
	files = tval_list();
	for (i = 0; i < db_res_rows(res); i++) {
		f = tval_obj();
		(void)tval_set_str(f, "term", db_res_get(res, i, 0));
		(void)tval_set_str(f, "kind",
		    rec_word(app, r, "files.list.kind", db_res_get(res, i, 1)));
		(void)tval_set_str(f, "description", db_res_get(res, i, 2));
		(void)tval_set_str(f, "id", db_res_get(res, i, 3));
		(void)tval_set_str(f, "name", db_res_get(res, i, 4));
		(void)tval_push(files, f);
	}
	(void)tval_set_int(ctx, "item_file_count", (long long)db_res_rows(res));
	(void)tval_set(ctx, "item_files", files);
	db_res_free(res);
	return 0;
}

/* The audit row of a view of the student's page: what it showed. */
static int
student_view_audit(struct app *app, struct request *r, const char *no)
{
	char target[48];

	str_printf(target, sizeof(target), "student:%s", no);
	return rec_audit_view(app, r, target,
	    "{\"page\":\"student\",\"fields\":[\"name\",\"national_id_masked\","
	    "\"birth_date\",\"class\",\"seat_no\",\"status\",\"account\","
	    "\"enrolments\",\"items\"]}");
}

/*
 * Renders a student's page (details, enrolments, items' files, the edit,
 * status and identity forms) with class_sel and status chosen in their selects;
 * audits the view first and shows nothing when that fails. Frees ctx and
 * res (class_sel and status may point into it).
 */
static enum request_outcome
student_page(struct app *app, struct request *r, struct tval *ctx,
    struct db_res *res, const char *class_sel, const char *status, int code)
{
	char masked[11];

	if (student_enrolments(app, r, ctx, db_res_int(res, 0, ST_ID)) != 0 ||
	    student_items(app, r, ctx, db_res_int(res, 0, ST_ID)) != 0 ||
	    student_class_options(app, r, ctx, "classes", class_sel) != 0 ||
	    student_view_audit(app, r, db_res_get(res, 0, ST_NO)) != 0) {
		db_res_free(res);
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	student_twid_masked(app, db_res_get(res, 0, ST_PUB),
	    db_res_get(res, 0, ST_SEALED), db_res_len(res, 0, ST_SEALED),
	    masked);
	(void)tval_set_str(ctx, "masked_id", masked);
	(void)tval_set_bool(ctx, "editing", 1);
	(void)tval_set_str(ctx, "id", db_res_get(res, 0, ST_PUB));
	(void)tval_set_str(ctx, "student_no", db_res_get(res, 0, ST_NO));
	(void)tval_set_str(ctx, "full_name", db_res_get(res, 0, ST_NAME));
	(void)tval_set_str(ctx, "id_kind_text",
	    rec_word(app, r, "records.id_kind", db_res_get(res, 0, ST_KIND)));
	(void)tval_set_str(ctx, "birth", db_res_get(res, 0, ST_BIRTH));
	(void)tval_set_str(ctx, "class_label", db_res_get(res, 0, ST_CLASS));
	(void)tval_set_str(ctx, "seat_no", db_res_get(res, 0, ST_SEAT));
	(void)tval_set_str(ctx, "status_text",
	    rec_word(app, r, "records.status", db_res_get(res, 0, ST_STATUS)));
	(void)tval_set_str(
	    ctx, "status_changed", db_res_get(res, 0, ST_CHANGED));
	(void)tval_set_str(ctx, "login", db_res_get(res, 0, ST_LOGIN));
	(void)tval_set_str(ctx, "account_text",
	    rec_word(
		app, r, "records.account", db_res_get(res, 0, ST_ACCOUNT)));
	(void)tval_set(ctx, "statuses",
	    rec_word_options(
		app, r, "records.status", STUDENT_STATUSES, status));
	db_res_free(res);
	return auth_render(app, r, "records_student", ctx, code);
}

/* The edit form filled from the row. */
static void
student_edit_values(struct tval *ctx, const struct db_res *res)
{
	(void)tval_set_str(ctx, "f_student_no", db_res_get(res, 0, ST_NO));
	(void)tval_set_str(ctx, "f_student_name", db_res_get(res, 0, ST_NAME));
	(void)tval_set_str(ctx, "f_birth_date", db_res_get(res, 0, ST_BIRTH));
	(void)tval_set_str(ctx, "f_seat", db_res_get(res, 0, ST_SEAT));
}

/* The page after the edit form (f: what was typed) or a GET (f NULL). */
static enum request_outcome
student_edit_page(struct app *app, struct request *r, struct tval *ctx,
    struct db_res *res, const struct form *f, int code)
{
	if (f == NULL)
		student_edit_values(ctx, res);
	return student_page(app, r, ctx, res,
	    f != NULL ? form_echo(f, SF_CLASS)
		      : db_res_get(res, 0, ST_CLASS_PUB),
	    db_res_get(res, 0, ST_STATUS), code);
}

enum request_outcome
student_get(struct app *app, struct request *r)
{
	enum request_outcome o;
	struct db_res *res =
	    rec_find(app, r, student_find_sql, request_capture(r, "id"), &o);
	struct tval *ctx;

	if (res == NULL)
		return o;
	ctx = auth_page_ctx(app, r, "records.student.title");
	rec_done_query(app, r, ctx, "student", "updated|status|status_same");
	return student_edit_page(app, r, ctx, res, NULL, 200);
}

/* Appends the names of the fields an edit changes to the JSON array in
 * d (never their values). */
static void
student_changes(struct buf *d, const struct form *f,
    const struct student_in *in, const struct db_res *res)
{
	const char *seat = form_has(f, SF_SEAT) ? form_str(f, SF_SEAT) : "";
	const char *cls = in->class_id != 0 ? form_str(f, SF_CLASS) : "";
	const char *names[6] = {"student_no", "name", "national_id",
	    "birth_date", "class", "seat_no"};
	int changed[6], i, n = 0;

	changed[0] = strcasecmp(form_str(f, SF_NO), db_res_get(res, 0, ST_NO));
	changed[1] = strcmp(form_str(f, SF_NAME), db_res_get(res, 0, ST_NAME));
	changed[2] =
	    in->has_twid && strcmp(in->hmac, db_res_get(res, 0, ST_HMAC)) != 0;
	changed[3] =
	    strcmp(form_str(f, SF_BIRTH), db_res_get(res, 0, ST_BIRTH));
	changed[4] = strcmp(cls, db_res_get(res, 0, ST_CLASS_PUB));
	changed[5] = strcmp(seat, db_res_get(res, 0, ST_SEAT));
	for (i = 0; i < 6; i++)
		if (changed[i] != 0)
			buf_printf(d, "%s\"%s\"", n++ ? "," : "", names[i]);
}

/*
 * The edit: the student row (the ID re-sealed when one was typed) and the
 * account's name, birth date and ID HMAC (what a password must not
 * contain), with the audit row, in one transaction. 0, 1 refused
 * (messages in ctx), -1 on an error.
 */
static int
student_edit(struct app *app, struct request *r, struct tval *ctx,
    const struct form *f, const struct db_res *res, int invalid,
    const char **done)
{
	static const char plain_sql[] =
	    "UPDATE students SET student_no = ?, name = ?, birth_date = ?, "
	    "class_id = ?, seat_no = ? WHERE id = ? AND school_id = ?";
	static const char twid_sql[] =
	    "UPDATE students SET student_no = ?, name = ?, birth_date = ?, "
	    "class_id = ?, seat_no = ?, id_kind = ?, national_id_hmac = ?, "
	    "national_id_sealed = ? WHERE id = ? AND school_id = ?";
	struct student_in in;
	unsigned char sealed[PII_TWID_SEALED_MAX];
	struct db_param p[10], pu[5];
	struct rec_stmt st[2] = {
	    {plain_sql, p, 0, "students_number|students_national_id"},
	    {"UPDATE users SET name = ?, birth_date = ?, national_id_hmac = ? "
	     "WHERE id = ? AND school_id = ?",
		pu, 5, NULL},
	};
	char target[48];
	struct buf d;
	size_t n = 0, np = 0;
	int rc;

	(void)done;
	rc = student_check(app, r, ctx, f, db_res_int(res, 0, ST_ID), &in);
	if (rc != 0 || invalid)
		goto out;
	p[np++] = DB_STR(form_str(f, SF_NO));
	p[np++] = DB_STR(form_str(f, SF_NAME));
	p[np++] = DB_STR(form_str(f, SF_BIRTH));
	p[np++] = in.class_id != 0 ? DB_INT((long long)in.class_id) : DB_NULLP;
	p[np++] =
	    form_has(f, SF_SEAT) ? DB_INT(form_int(f, SF_SEAT)) : DB_NULLP;
	if (in.has_twid) {
		rc = pii_twid_seal(app->data_key, db_res_get(res, 0, ST_PUB),
		    in.twid, sealed, &n);
		if (rc != 0)
			goto out;
		st[0].sql = twid_sql;
		p[np++] = DB_STR(in.kind);
		p[np++] = DB_STR(in.hmac);
		p[np++] = DB_BLOB(sealed, n);
	}
	p[np++] = DB_INT(db_res_int(res, 0, ST_ID));
	p[np++] = DB_INT((long long)r->auth->u.school_id);
	st[0].n = np;
	pu[0] = p[1];
	pu[1] = p[2];
	pu[2] = DB_STR(in.has_twid ? in.hmac : db_res_get(res, 0, ST_HMAC));
	pu[3] = DB_INT(db_res_int(res, 0, ST_UID));
	pu[4] = DB_INT((long long)r->auth->u.school_id);
	str_printf(target, sizeof(target), "student:%s", form_str(f, SF_NO));
	buf_init(&d);
	buf_puts(&d, "{\"kind\":\"student\",\"fields\":[");
	student_changes(&d, f, &in, res);
	buf_putc(&d, ']');
	if (strcasecmp(form_str(f, SF_NO), db_res_get(res, 0, ST_NO)) != 0)
		buf_json_kv(&d, "student_no_was", db_res_get(res, 0, ST_NO));
	buf_putc(&d, '}');
	/* A student without an account (none yet) updates no users row. */
	rc = rec_change(app, r, st, db_res_int(res, 0, ST_UID) != 0 ? 2 : 1,
	    "record.update", target, d.data);
	buf_free(&d);
	if (rc == 1)
		rec_error(app, r, ctx, "student_no", "student_no_taken");
	else if (rc == 2) {
		rec_error(app, r, ctx, "national_id", "twid_taken");
		rc = 1;
	}
out:
	student_in_wipe(&in);
	OPENSSL_cleanse(sealed, sizeof(sealed));
	if (rc != 0 || invalid)
		student_retype(ctx, f);
	return rc;
}

static const struct rec_item student_item = {
    .find_sql = student_find_sql,
    .pub_col = ST_PUB,
    .title_key = "records.student.title",
    .fields = student_edit_fields,
    .nfields = SE__MAX,
    .act = student_edit,
    .page = student_edit_page,
    .base = "/admin/students/",
    .done = "updated",
    .anchor = "",
};

enum request_outcome
student_post(struct app *app, struct request *r)
{
	return rec_item_post(app, r, &student_item);
}

/* ------------------------------------------ /admin/students/:id/status */

enum { SS_STATUS, SS_CSRF, SS__MAX };
static const struct form_field student_status_fields[SS__MAX] = {
    [SS_STATUS] = {"status", FORM_ENUM, FORM_REQUIRED, 0, 0, STUDENT_STATUSES},
    [SS_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, REC_CSRF},
};

/* The page after the status or identity form: the edit form from the
 * row. */
static enum request_outcome
student_other_page(struct app *app, struct request *r, struct tval *ctx,
    struct db_res *res, const struct form *f, int code)
{
	(void)f;
	student_edit_values(ctx, res);
	return student_page(app, r, ctx, res, db_res_get(res, 0, ST_CLASS_PUB),
	    db_res_get(res, 0, ST_STATUS), code);
}

/* The status change with its audit row; the same status again changes
 * nothing. */
static int
student_status_set(struct app *app, struct request *r, struct tval *ctx,
    const struct form *f, const struct db_res *res, int invalid,
    const char **done)
{
	const char *status = form_str(f, SS_STATUS);
	struct db_param p[3];
	struct rec_stmt st = {"UPDATE students SET status = ?, "
			      "status_changed_at = UTC_TIMESTAMP(6) WHERE id "
			      "= ? AND school_id = ?",
	    p, 3, NULL};
	char target[48];
	struct buf d;
	int rc;

	(void)ctx;
	if (invalid)
		return 1;
	if (strcmp(status, db_res_get(res, 0, ST_STATUS)) == 0) {
		*done = "status_same";
		return 0;
	}
	p[0] = DB_STR(status);
	p[1] = DB_INT(db_res_int(res, 0, ST_ID));
	p[2] = DB_INT((long long)r->auth->u.school_id);
	str_printf(
	    target, sizeof(target), "student:%s", db_res_get(res, 0, ST_NO));
	buf_init(&d);
	buf_putc(&d, '{');
	buf_json_kv(&d, "from", db_res_get(res, 0, ST_STATUS));
	buf_json_kv(&d, "to", status);
	buf_putc(&d, '}');
	rc = rec_change(app, r, &st, 1, "student.status", target, d.data);
	buf_free(&d);
	return rc;
}

static const struct rec_item student_status_item = {
    .find_sql = student_find_sql,
    .pub_col = ST_PUB,
    .title_key = "records.student.title",
    .fields = student_status_fields,
    .nfields = SS__MAX,
    .act = student_status_set,
    .page = student_other_page,
    .base = "/admin/students/",
    .done = "status",
    .anchor = "",
};

enum request_outcome
student_status_post(struct app *app, struct request *r)
{
	return rec_item_post(app, r, &student_status_item);
}

/* ---------------------------------------- /admin/students/:id/identity */

enum { SI_REASON, SI_CSRF, SI__MAX };
static const struct form_field student_identity_fields[SI__MAX] = {
    [SI_REASON] = {"reason", FORM_TEXT, FORM_REQUIRED, 5, 200, NULL},
    [SI_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43, REC_CSRF},
};

/* The full national ID page: audited with the reason before anything is
 * shown; the answer, like every answer, carries Cache-Control: no-store
 * (request_send). Frees res. */
static enum request_outcome
student_identity_show(
    struct app *app, struct request *r, struct db_res *res, const char *reason)
{
	struct tval *ctx;
	char twid[11], target[48];
	struct buf d;
	int rc;

	if (pii_twid_open(app->data_key, db_res_get(res, 0, ST_PUB),
		(const unsigned char *)db_res_get(res, 0, ST_SEALED),
		db_res_len(res, 0, ST_SEALED), twid) != 0) {
		log_error("student %s: the national ID does not open",
		    db_res_get(res, 0, ST_PUB));
		db_res_free(res);
		return RQ_ERROR;
	}
	str_printf(
	    target, sizeof(target), "student:%s", db_res_get(res, 0, ST_NO));
	buf_init(&d);
	buf_putc(&d, '{');
	buf_json_kv(&d, "field", "national_id");
	buf_json_kv(&d, "reason", reason);
	buf_putc(&d, '}');
	rc = rec_audit_view(app, r, target, d.data);
	buf_free(&d);
	if (rc != 0) {
		OPENSSL_cleanse(twid, sizeof(twid));
		db_res_free(res);
		return RQ_UNAVAILABLE;
	}
	ctx = auth_page_ctx(app, r, "records.identity.title");
	(void)tval_set_str(ctx, "id", db_res_get(res, 0, ST_PUB));
	(void)tval_set_str(ctx, "student_no", db_res_get(res, 0, ST_NO));
	(void)tval_set_str(ctx, "full_name", db_res_get(res, 0, ST_NAME));
	(void)tval_set_str(ctx, "id_kind_text",
	    rec_word(app, r, "records.id_kind", db_res_get(res, 0, ST_KIND)));
	(void)tval_set_str(ctx, "national_id", twid);
	(void)tval_set_str(ctx, "reason", reason);
	OPENSSL_cleanse(twid, sizeof(twid));
	db_res_free(res);
	return auth_render(app, r, "records_student_identity", ctx, 200);
}

enum request_outcome
student_identity_post(struct app *app, struct request *r)
{
	enum request_outcome o;
	struct db_res *res =
	    rec_find(app, r, student_find_sql, request_capture(r, "id"), &o);
	struct form *f;
	struct tval *ctx;

	if (res == NULL)
		return o;
	f = form_new(student_identity_fields, SI__MAX);
	if (f == NULL) {
		db_res_free(res);
		return RQ_ERROR;
	}
	if (form_parse(f, r->input.data, r->input.len) != 0) {
		ctx = auth_page_ctx(app, r, "records.student.title");
		rec_form_ctx(
		    app, r, ctx, f, student_identity_fields, SI__MAX, 1);
		o = student_other_page(app, r, ctx, res, f, 422);
	} else
		o = student_identity_show(app, r, res, form_str(f, SI_REASON));
	form_free(f);
	return o;
}
