/*
 * myrecords: what teachers and students may see of the school's records.
 * A teacher sees the courses they teach, term by term, and each course's
 * roster (student number, name, class, seat: never a national ID or birth
 * date), every roster view audited as personal_data.view; a student sees
 * their own basic data, the national ID masked, and their course records
 * (修課紀錄) per term. It must never show a course the teacher does not
 * teach (404, exactly like an unknown one), nor anyone's data but the
 * signed-in student's own, nor a national ID whole.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "app.h"
#include "auth.h"
#include "db.h"
#include "ids.h"
#include "log.h"
#include "pii.h"
#include "router.h"
#include "template.h"
#include "util.h"

/* ------------------------------------------------------------ helpers */

/* Rows grouped by term, newest first, as the pages list them. */
struct myrecords_terms {
	struct tval *list; /* of {term, courses[]} */
	struct tval *term; /* the current term's object */
	struct tval *courses; /* and its course list */
	char last[16]; /* the current term, "114-1" */
};

/* Makes the term of year and semester (the school-year form 114-1) the
 * current one, starting a new group when the rows' term changes. 1 when
 * it started one, else 0. */
static int
myrecords_term(
    struct myrecords_terms *g, const char *year, const char *semester)
{
	char term[16];

	str_printf(term, sizeof(term), "%s-%s", year, semester);
	if (g->term != NULL && strcmp(term, g->last) == 0)
		return 0;
	g->term = tval_obj();
	g->courses = tval_list();
	(void)tval_set_str(g->term, "term", term);
	(void)tval_set(g->term, "courses", g->courses);
	(void)tval_push(g->list, g->term);
	(void)str_copy(g->last, sizeof(g->last), term);
	return 1;
}

/* ------------------------------------------------- /teacher/courses */

/* The courses of the signed-in teacher, newest term first, with the
 * number enrolled. */
static const char teacher_courses_sql[] =
    "SELECT c.public_id, c.code, c.name, c.credits, tm.year, tm.semester, "
    "(SELECT COUNT(*) FROM enrolments e WHERE e.course_id = c.id AND "
    "e.school_id = c.school_id) FROM course_teachers ct JOIN teachers th "
    "ON th.id = ct.teacher_id JOIN courses c ON c.id = ct.course_id AND "
    "c.school_id = th.school_id JOIN terms tm ON tm.id = c.term_id WHERE "
    "th.user_id = ? AND th.school_id = ? ORDER BY tm.year DESC, "
    "tm.semester DESC, c.code";

enum request_outcome
teacher_courses_get(struct app *app, struct request *r)
{
	const struct user *u = &r->auth->u;
	struct db_param p[2] = {
	    DB_INT((long long)u->id), DB_INT((long long)u->school_id)};
	struct myrecords_terms g = {tval_list(), NULL, NULL, ""};
	struct tval *ctx, *item;
	struct db_res *res;
	size_t i;

	res = db_query(app_db(app), teacher_courses_sql, p, 2);
	if (res == NULL) {
		tval_free(g.list);
		return RQ_UNAVAILABLE;
	}
	ctx = auth_page_ctx(app, r, "myrecords.courses_title");
	for (i = 0; i < db_res_rows(res); i++) {
		(void)myrecords_term(
		    &g, db_res_get(res, i, 4), db_res_get(res, i, 5));
		item = tval_obj();
		(void)tval_set_str(item, "id", db_res_get(res, i, 0));
		(void)tval_set_str(item, "code", db_res_get(res, i, 1));
		(void)tval_set_str(item, "name", db_res_get(res, i, 2));
		(void)tval_set_str(item, "credits", db_res_get(res, i, 3));
		(void)tval_set_str(item, "enrolled", db_res_get(res, i, 6));
		(void)tval_push(g.courses, item);
	}
	(void)tval_set_int(ctx, "count", (long long)db_res_rows(res));
	db_res_free(res);
	(void)tval_set(ctx, "terms", g.list);
	return auth_render(app, r, "myrecords_courses", ctx, 200);
}

/* The course public_id if the signed-in teacher teaches it in their
 * school; the ? are the public id, the school and the teacher's user. */
static const char teacher_course_sql[] =
    "SELECT c.id, c.code, c.name, c.credits, tm.year, tm.semester FROM "
    "courses c JOIN terms tm ON tm.id = c.term_id WHERE c.public_id = ? "
    "AND c.school_id = ? AND EXISTS (SELECT 1 FROM course_teachers ct "
    "JOIN teachers th ON th.id = ct.teacher_id WHERE ct.course_id = c.id "
    "AND th.user_id = ? AND th.school_id = c.school_id)";

static const char course_teachers_sql[] =
    "SELECT u.name FROM course_teachers ct JOIN teachers th ON th.id = "
    "ct.teacher_id JOIN users u ON u.id = th.user_id WHERE ct.course_id = "
    "? ORDER BY u.name";

/* The roster: what a teacher needs to know who is in the class, and no
 * more. */
static const char course_roster_sql[] =
    "SELECT s.student_no, s.name, COALESCE(cl.name, ''), "
    "COALESCE(s.seat_no, '') FROM enrolments e JOIN students s ON s.id = "
    "e.student_id AND s.school_id = e.school_id LEFT JOIN classes cl ON "
    "cl.id = s.class_id WHERE e.course_id = ? AND e.school_id = ? ORDER "
    "BY cl.code IS NULL, cl.code, s.seat_no IS NULL, s.seat_no, "
    "s.student_no";

/* Records the roster view. 0/-1. */
static int
teacher_course_audit(struct app *app, struct request *r, const char *term,
    const char *code, size_t students)
{
	char target[80], detail[64];

	str_printf(target, sizeof(target), "course:%s:%s", term, code);
	str_printf(detail, sizeof(detail), "{\"students\":%zu}", students);
	return auth_audit(
	    app, r, "personal_data.view", target, "success", detail);
}

/* The names of the course's teachers into ctx's "teachers" list. 0/-1. */
static int
teacher_course_teachers(struct app *app, long long course, struct tval *ctx)
{
	struct db_param p[1] = {DB_INT(course)};
	struct db_res *res;
	struct tval *list;
	size_t i;

	if ((res = db_query(app_db(app), course_teachers_sql, p, 1)) == NULL)
		return -1;
	list = tval_list();
	for (i = 0; i < db_res_rows(res); i++)
		(void)tval_push(list, tval_str(db_res_get(res, i, 0)));
	db_res_free(res);
	(void)tval_set(ctx, "teachers", list);
	return 0;
}

enum request_outcome
teacher_course_get(struct app *app, struct request *r)
{
	const struct user *u = &r->auth->u;
	const char *id = request_capture(r, "id");
	struct db_param p[3];
	struct db_res *course, *roster;
	struct tval *ctx, *rows, *item;
	char term[16];
	long long cid;
	size_t i;

	if (id == NULL || !ids_public_valid(id))
		return auth_deny(app, r, "not_found", 1);
	p[0] = DB_STR(id);
	p[1] = DB_INT((long long)u->school_id);
	p[2] = DB_INT((long long)u->id);
	if ((course = db_query(app_db(app), teacher_course_sql, p, 3)) == NULL)
		return RQ_UNAVAILABLE;
	/* Unknown, another school's, or another teacher's: the same 404. */
	if (db_res_rows(course) == 0) {
		db_res_free(course);
		return auth_deny(app, r, "not_found", 1);
	}
	cid = db_res_int(course, 0, 0);
	str_printf(term, sizeof(term), "%s-%s", db_res_get(course, 0, 4),
	    db_res_get(course, 0, 5));
	p[0] = DB_INT(cid);
	p[1] = DB_INT((long long)u->school_id);
	roster = db_query(app_db(app), course_roster_sql, p, 2);
	/* Recorded before it is shown: a view that cannot be recorded is
	 * not shown at all. */
	if (roster == NULL ||
	    teacher_course_audit(app, r, term, db_res_get(course, 0, 1),
		db_res_rows(roster)) != 0) {
		db_res_free(roster);
		db_res_free(course);
		return RQ_UNAVAILABLE;
	}
	ctx = auth_page_ctx(app, r, "myrecords.course_title");
	(void)tval_set_str(ctx, "term", term);
	(void)tval_set_str(ctx, "code", db_res_get(course, 0, 1));
	(void)tval_set_str(ctx, "name", db_res_get(course, 0, 2));
	(void)tval_set_str(ctx, "credits", db_res_get(course, 0, 3));
	db_res_free(course);
	rows = tval_list();
	for (i = 0; i < db_res_rows(roster); i++) {
		item = tval_obj();
		(void)tval_set_str(
		    item, "student_no", db_res_get(roster, i, 0));
		(void)tval_set_str(item, "name", db_res_get(roster, i, 1));
		(void)tval_set_str(item, "class", db_res_get(roster, i, 2));
		(void)tval_set_str(item, "seat", db_res_get(roster, i, 3));
		(void)tval_push(rows, item);
	}
	(void)tval_set_int(ctx, "count", (long long)db_res_rows(roster));
	db_res_free(roster);
	(void)tval_set(ctx, "students", rows);
	if (teacher_course_teachers(app, cid, ctx) != 0) {
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	return auth_render(app, r, "myrecords_course", ctx, 200);
}

/* ------------------------------------------------------ /me/records */

static const char my_student_sql[] =
    "SELECT s.id, s.public_id, s.student_no, s.name, "
    "DATE_FORMAT(s.birth_date, '%Y-%m-%d'), COALESCE(cl.name, ''), "
    "COALESCE(s.seat_no, ''), s.status, s.id_kind, s.national_id_sealed "
    "FROM students s LEFT JOIN classes cl ON cl.id = s.class_id WHERE "
    "s.user_id = ? AND s.school_id = ?";

/* The student's course records, newest term first; the teachers' names
 * joined by a tab (no name holds one), split again for the page. */
static const char my_courses_sql[] =
    "SELECT tm.year, tm.semester, c.code, c.name, c.credits, "
    "COALESCE((SELECT GROUP_CONCAT(u.name ORDER BY u.name SEPARATOR '\\t') "
    "FROM course_teachers ct JOIN teachers th ON th.id = ct.teacher_id "
    "JOIN users u ON u.id = th.user_id WHERE ct.course_id = c.id), '') "
    "FROM enrolments e JOIN courses c ON c.id = e.course_id AND "
    "c.school_id = e.school_id JOIN terms tm ON tm.id = c.term_id WHERE "
    "e.student_id = ? AND e.school_id = ? ORDER BY tm.year DESC, "
    "tm.semester DESC, c.code";

/* The masked national ID of the student row: opened with keys.data only
 * to be masked at once, and wiped. A value that does not open is logged
 * (by student, never by value) and shown fully masked. */
static void
my_records_twid(struct app *app, const struct db_res *res, char masked[11])
{
	char twid[11];

	if (pii_twid_open(app->data_key, db_res_get(res, 0, 1),
		(const unsigned char *)db_res_get(res, 0, 9),
		db_res_len(res, 0, 9), twid) != 0) {
		log_error("the national ID of student %s does not open with "
			  "keys.data",
		    db_res_get(res, 0, 1));
		twid[0] = '\0';
	}
	pii_twid_mask(twid, masked);
	OPENSSL_cleanse(twid, sizeof(twid));
}

/* The student's basic data into ctx "student". */
static void
my_records_student(struct app *app, struct request *r, struct tval *ctx,
    const struct db_res *res)
{
	struct tval *s = tval_obj();
	char masked[11], key[64];

	my_records_twid(app, res, masked);
	(void)tval_set_str(s, "student_no", db_res_get(res, 0, 2));
	(void)tval_set_str(s, "name", db_res_get(res, 0, 3));
	(void)tval_set_str(s, "birth_date", db_res_get(res, 0, 4));
	(void)tval_set_str(s, "class", db_res_get(res, 0, 5));
	(void)tval_set_str(s, "seat", db_res_get(res, 0, 6));
	str_printf(key, sizeof(key), "review.record.student_%s",
	    db_res_get(res, 0, 7));
	(void)tval_set_str(s, "status", auth_msg(app, r, key));
	str_printf(
	    key, sizeof(key), "myrecords.id_kind.%s", db_res_get(res, 0, 8));
	(void)tval_set_str(s, "id_kind", auth_msg(app, r, key));
	(void)tval_set_str(s, "national_id", masked);
	(void)tval_set(ctx, "student", s);
}

/* The teachers' names of a course, tab-separated, as one text joined by
 * the language's separator. */
static void
my_records_teachers(
    struct app *app, struct request *r, const char *names, struct buf *out)
{
	const char *sep = auth_msg(app, r, "myrecords.teacher_sep");
	const char *p;

	buf_reset(out);
	for (p = names; *p != '\0'; p++) {
		if (*p == '\t')
			buf_puts(out, sep);
		else
			buf_putc(out, *p);
	}
}

/* The course records per term into ctx "terms". 0/-1. */
static int
my_records_courses(
    struct app *app, struct request *r, struct tval *ctx, long long student)
{
	struct db_param p[2] = {
	    DB_INT(student), DB_INT((long long)r->auth->u.school_id)};
	struct myrecords_terms g = {NULL, NULL, NULL, ""};
	struct tval *item;
	struct db_res *res;
	struct buf names;
	long credits = 0;
	size_t i;

	if ((res = db_query(app_db(app), my_courses_sql, p, 2)) == NULL)
		return -1;
	g.list = tval_list();
	buf_init(&names);
	for (i = 0; i < db_res_rows(res); i++) {
		if (myrecords_term(
			&g, db_res_get(res, i, 0), db_res_get(res, i, 1)))
			credits = 0;
		credits += (long)db_res_int(res, i, 4);
		(void)tval_set_int(g.term, "credits", credits);
		item = tval_obj();
		(void)tval_set_str(item, "code", db_res_get(res, i, 2));
		(void)tval_set_str(item, "name", db_res_get(res, i, 3));
		(void)tval_set_str(item, "credits", db_res_get(res, i, 4));
		my_records_teachers(app, r, db_res_get(res, i, 5), &names);
		(void)tval_set_str(item, "teachers", names.data);
		(void)tval_push(g.courses, item);
	}
	buf_free(&names);
	(void)tval_set_int(ctx, "course_count", (long long)db_res_rows(res));
	db_res_free(res);
	(void)tval_set(ctx, "terms", g.list);
	return 0;
}

enum request_outcome
my_records_get(struct app *app, struct request *r)
{
	const struct user *u = &r->auth->u;
	struct db_param p[2] = {
	    DB_INT((long long)u->id), DB_INT((long long)u->school_id)};
	struct db_res *res;
	struct tval *ctx;
	char target[64];
	long long student;

	if ((res = db_query(app_db(app), my_student_sql, p, 2)) == NULL)
		return RQ_UNAVAILABLE;
	ctx = auth_page_ctx(app, r, "myrecords.title");
	if (db_res_rows(res) == 0) {
		db_res_free(res);
		(void)tval_set_bool(ctx, "no_record", 1);
		return auth_render(app, r, "myrecords", ctx, 200);
	}
	/* Their own data, but personal data all the same: every view is
	 * recorded, before it is shown. */
	str_printf(target, sizeof(target), "student:%s", db_res_get(res, 0, 1));
	if (auth_audit(app, r, "personal_data.view", target, "success",
		"{\"own\":true}") != 0) {
		db_res_free(res);
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	student = db_res_int(res, 0, 0);
	my_records_student(app, r, ctx, res);
	db_res_free(res);
	if (my_records_courses(app, r, ctx, student) != 0) {
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	return auth_render(app, r, "myrecords", ctx, 200);
}
