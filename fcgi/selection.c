/*
 * selection: the student's ticks (勾選) on /items — each school year's box
 * (ticked against the caps, what remains, the deadline), each item's tick
 * or untick form or why it cannot be ticked, and POST /items/select — the
 * homeroom teacher's class progress (/homeroom), and the student's and the
 * homeroom teacher's lines on the home page (notices.h).
 *
 * Every rule of a tick is enforced by lib/selection in the tick's own
 * transaction, whatever the page offered; a refusal says which rule and
 * re-renders /items. Another student's item is answered exactly like a
 * missing one (404, audited). The homeroom pages show counts only: never a
 * file, a file name or a description, and names masked; each view is
 * audited before it is shown.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "conf.h"
#include "db.h"
#include "form.h"
#include "items.h"
#include "items_page.h"
#include "log.h"
#include "notices.h"
#include "pii.h"
#include "router.h"
#include "selection.h"
#include "template.h"
#include "util.h"

/* ------------------------------------------------------------ helpers */

/* A named value of a message: {name} in the text is replaced by value. */
struct sel_arg {
	const char *name;
	const char *value;
};

/* Appends message key with each {name} of args replaced by its value
 * ({other} is kept as written). */
static void
sel_fill(struct app *app, const struct request *r, struct buf *out,
    const char *key, const struct sel_arg *args, size_t n)
{
	const char *p = auth_msg(app, r, key), *q;
	size_t i, len = 0;

	while ((q = strchr(p, '{')) != NULL) {
		buf_append(out, p, (size_t)(q - p));
		for (i = 0; i < n; i++) {
			len = strlen(args[i].name);
			if (strncmp(q + 1, args[i].name, len) == 0 &&
			    q[1 + len] == '}')
				break;
		}
		if (i < n) {
			buf_puts(out, args[i].value);
			p = q + len + 2;
		} else {
			buf_putc(out, '{');
			p = q + 1;
		}
	}
	buf_puts(out, p);
}

/* Sets obj[name] to the filled message. */
static void
sel_set(struct app *app, const struct request *r, struct tval *obj,
    const char *name, const char *key, const struct sel_arg *args, size_t n)
{
	struct buf t;

	buf_init(&t);
	sel_fill(app, r, &t, key, args, n);
	(void)tval_set_str(obj, name, t.data != NULL ? t.data : "");
	buf_free(&t);
}

/* "selection.why.<name>" in the request's language. */
static const char *
sel_why_text(struct app *app, const struct request *r, enum selection_why w)
{
	char key[48];

	str_printf(key, sizeof(key), "selection.why.%s", selection_why_name(w));
	return auth_msg(app, r, key);
}

void
selection_rules_of(const struct app *app, struct selection_rules *rules)
{
	memset(rules, 0, sizeof(*rules));
	rules->max[ITEM_COURSE] = app->conf->selection_course_max;
	rules->max[ITEM_DIVERSE] = app->conf->selection_diverse_max;
	rules->deadline_md = app->conf->selection_deadline;
}

/* ------------------------------------------------- the /items page */

/* One kind's line of a year's box: ticked n of max, left. */
static void
sel_box_line(struct app *app, const struct request *r, struct tval *b,
    const char *name, const char *key, unsigned n, int max)
{
	char sn[16], smax[16], sleft[16];
	long left = (long)max - (long)n;
	const struct sel_arg args[] = {
	    {"n", sn}, {"max", smax}, {"left", sleft}};

	str_printf(sn, sizeof(sn), "%u", n);
	str_printf(smax, sizeof(smax), "%d", max);
	str_printf(sleft, sizeof(sleft), "%ld", left > 0 ? left : 0);
	sel_set(app, r, b, name, key, args, ARRAY_SIZE(args));
}

void
selection_year_ctx(struct app *app, const struct request *r,
    const struct selection_year *y, struct tval *t)
{
	struct tval *b = tval_obj();
	char year[16];
	const struct sel_arg ya[] = {{"year", year}};
	const struct sel_arg da[] = {{"date", y->deadline.date}};

	str_printf(year, sizeof(year), "%d", y->year);
	(void)tval_set_str(b, "year", year);
	sel_set(app, r, b, "title", "selection.box_title", ya, 1);
	sel_box_line(app, r, b, "course", "selection.box_course",
	    y->ticked[ITEM_COURSE], y->max[ITEM_COURSE]);
	sel_box_line(app, r, b, "diverse", "selection.box_diverse",
	    y->ticked[ITEM_DIVERSE], y->max[ITEM_DIVERSE]);
	sel_set(app, r, b, "deadline",
	    y->deadline.passed ? "selection.box_deadline_passed"
			       : "selection.box_deadline",
	    da, 1);
	(void)tval_set_bool(b, "passed", y->deadline.passed);
	(void)tval_set(t, "selection", b);
}

void
selection_item_ctx(struct app *app, const struct request *r,
    const struct selection *s, const struct item *it, struct tval *o)
{
	const struct selection_mark *m = selection_mark_of(s, it->id);
	const struct selection_year *y;
	struct tval *sel;

	if (m == NULL || m->year <= 0 ||
	    (y = selection_year_of(s, m->year)) == NULL)
		return;
	(void)tval_set_bool(o, "new_result",
	    m->notice &&
		(it->cert == ITEM_CERT_CERTIFIED ||
		    it->cert == ITEM_CERT_REJECTED));
	sel = tval_obj();
	(void)tval_set_bool(sel, "ticked", m->ticked);
	if (it->submitted)
		(void)tval_set_str(
		    sel, "why", auth_msg(app, r, "selection.submitted"));
	else if (y->deadline.passed) {
		const struct sel_arg da[] = {{"date", y->deadline.date}};

		sel_set(app, r, sel, "why", "selection.deadline_passed", da, 1);
	} else if (m->ticked || m->why == SEL_ELIGIBLE) {
		(void)tval_set_bool(sel, "form", 1);
		(void)tval_set_str(sel, "op", m->ticked ? "untick" : "tick");
		(void)tval_set_str(sel, "button",
		    auth_msg(app, r,
			m->ticked ? "selection.untick" : "selection.tick"));
		if (m->ticked && m->why != SEL_ELIGIBLE) {
			const struct sel_arg wa[] = {
			    {"why", sel_why_text(app, r, m->why)}};

			sel_set(app, r, sel, "note",
			    "selection.not_eligible_now", wa, 1);
		}
	} else {
		const struct sel_arg wa[] = {
		    {"why", sel_why_text(app, r, m->why)}};

		sel_set(app, r, sel, "why", "selection.cannot", wa, 1);
	}
	(void)tval_set(o, "select", sel);
}

/* ------------------------------------------------- POST /items/select */

enum { SF_ITEM, SF_OP, SF_CSRF, SF__MAX };
static const struct form_field select_fields[SF__MAX] = {
    [SF_ITEM] = {"item", FORM_PATTERN, FORM_REQUIRED, IDS_PUBLIC_LEN,
	IDS_PUBLIC_LEN, "[A-Za-z0-9_-]+"},
    [SF_OP] = {"op", FORM_ENUM, FORM_REQUIRED, 0, 0, "tick|untick"},
    [SF_CSRF] = {"csrf", FORM_PATTERN, FORM_REQUIRED, 43, 43,
	AUTH_CSRF_PATTERN},
};

/* /items again with the alert text and status. */
static enum request_outcome
sel_refused(struct app *app, struct request *r, const char *alert, int status)
{
	struct tval *ctx = auth_page_ctx(app, r, "items.title");

	(void)tval_set_str(ctx, "alert", alert);
	return items_list_render(app, r, ctx, status);
}

/* The refusal of a tick that lib/selection turned down, as /items with
 * its reason (409). */
static enum request_outcome
sel_conflict(
    struct app *app, struct request *r, const struct selection_outcome *out)
{
	char year[16], max[16], n[16];
	const struct sel_arg args[] = {{"year", year}, {"date", out->deadline},
	    {"max", max}, {"n", n}, {"why", sel_why_text(app, r, out->why)}};
	const char *key;
	struct buf t;
	enum request_outcome o;

	str_printf(year, sizeof(year), "%d", out->year);
	str_printf(max, sizeof(max), "%d", out->max);
	str_printf(n, sizeof(n), "%u", out->ticked);
	switch (out->result) {
	case SEL_SUBMITTED: key = "selection.error.submitted"; break;
	case SEL_DEADLINE: key = "selection.error.deadline"; break;
	case SEL_INELIGIBLE: key = "selection.error.ineligible"; break;
	case SEL_CAP:
	default:
		key = out->kind == ITEM_COURSE ? "selection.error.cap_course"
					       : "selection.error.cap_diverse";
		break;
	}
	buf_init(&t);
	sel_fill(app, r, &t, key, args, ARRAY_SIZE(args));
	o = sel_refused(app, r, t.data != NULL ? t.data : "", 409);
	buf_free(&t);
	return o;
}

/* The audit row of a tick or untick, in its transaction. 0/-1. */
static int
sel_audit_tx(struct db *db, const struct request *r, int tick,
    const struct selection_outcome *out)
{
	char target[48];
	struct buf d;
	int rc;

	str_printf(target, sizeof(target), "item:%s", out->public_id);
	buf_init(&d);
	buf_putc(&d, '{');
	buf_json_kv(&d, "kind", items_kind_name(out->kind));
	buf_json_ki(&d, "year", out->year);
	buf_json_kv(&d, "term", out->term);
	buf_json_kv(&d, "what", out->title);
	buf_json_ki(&d, "ticked", out->ticked);
	buf_json_ki(&d, "max", out->max);
	buf_putc(&d, '}');
	rc = auth_audit_tx(
	    db, r, tick ? "item.ticked" : "item.unticked", target, d.data);
	buf_free(&d);
	return rc;
}

/* Ticks or unticks in one transaction with its audit row; the answer. */
static enum request_outcome
sel_apply(struct app *app, struct request *r, uint64_t student,
    const char *item, int tick)
{
	static const char *const reasons[] = {
	    [ITEMS_FOUND] = "deleted",
	    [ITEMS_UNKNOWN] = "unknown",
	    [ITEMS_OTHER_SCHOOL] = "other_school",
	    [ITEMS_OTHER_STUDENT] = "not_owner",
	    [ITEMS_DELETED] = "deleted",
	    [ITEMS_FIND_ERROR] = "unknown",
	};
	struct db *db = app_db(app);
	struct selection_rules rules;
	struct selection_outcome out;
	enum selection_result res;
	enum request_outcome o;

	selection_rules_of(app, &rules);
	if (db_begin(db) != 0)
		return RQ_UNAVAILABLE;
	res = selection_set_tx(
	    db, r->auth->u.school_id, student, item, tick, &rules, &out);
	if (res == SEL_DONE &&
	    (sel_audit_tx(db, r, tick, &out) != 0 || db_commit(db) != 0))
		res = SEL_ERROR;
	if (res != SEL_DONE)
		(void)db_rollback(db);
	switch (res) {
	case SEL_DONE:
	case SEL_UNCHANGED:
		request_redirect(
		    r, tick ? "/items?done=ticked" : "/items?done=unticked");
		o = RQ_OK;
		break;
	case SEL_NOT_FOUND: o = auth_deny(app, r, reasons[out.found], 1); break;
	case SEL_ERROR: o = RQ_UNAVAILABLE; break;
	case SEL_SUBMITTED:
	case SEL_DEADLINE:
	case SEL_INELIGIBLE:
	case SEL_CAP:
	default: o = sel_conflict(app, r, &out); break;
	}
	selection_outcome_free(&out);
	return o;
}

enum request_outcome
items_select_post(struct app *app, struct request *r)
{
	const struct user *u = &r->auth->u;
	uint64_t student = 0;
	enum request_outcome o;
	struct form *f;
	int rc;

	if ((f = form_new(select_fields, SF__MAX)) == NULL)
		return RQ_ERROR;
	if (form_parse(f, r->input.data, r->input.len) != 0) {
		form_free(f);
		return sel_refused(
		    app, r, auth_msg(app, r, "selection.error.invalid"), 422);
	}
	rc = items_student(app_db(app), u->school_id, u->id, &student);
	if (rc < 0)
		o = RQ_UNAVAILABLE;
	else if (rc == 0)
		o = auth_deny(app, r, "no_student_record", 1);
	else
		o = sel_apply(app, r, student, form_str(f, SF_ITEM),
		    strcmp(form_str(f, SF_OP), "tick") == 0);
	form_free(f);
	return o;
}

/* ------------------------------------------------------------ /homeroom */

/* The homeroom teacher's classes, newest school year first. */
static const char homeroom_classes_sql[] =
    "SELECT cl.id, cl.public_id, cl.year, cl.code, cl.name FROM classes "
    "cl JOIN teachers th ON th.id = cl.homeroom_teacher_id AND "
    "th.school_id = cl.school_id WHERE th.user_id = ? AND cl.school_id = "
    "? ORDER BY cl.year DESC, cl.code";

/* The students of a class with the counts of their items of the school
 * year (not deleted): course outcomes, diverse performances, certified,
 * rejected, waiting (pending, checked or not), ticked. Counts only. */
static const char homeroom_students_sql[] =
    "SELECT s.student_no, COALESCE(s.seat_no, ''), s.name, "
    "COALESCE(SUM(i.kind = 'course'), 0), "
    "COALESCE(SUM(i.kind = 'diverse'), 0), "
    "COALESCE(SUM(i.cert_state = 'certified'), 0), "
    "COALESCE(SUM(i.cert_state = 'rejected'), 0), "
    "COALESCE(SUM(i.cert_state = 'pending'), 0), "
    "COALESCE(SUM(i.selected_at IS NOT NULL), 0) FROM students s LEFT "
    "JOIN (items i JOIN terms t ON t.id = i.term_id AND t.school_id = "
    "i.school_id) ON i.student_id = s.id AND i.school_id = s.school_id "
    "AND i.deleted_at IS NULL AND t.year = ? WHERE s.class_id = ? AND "
    "s.school_id = ? GROUP BY s.id, s.student_no, s.seat_no, s.name ORDER "
    "BY s.seat_no IS NULL, s.seat_no, s.student_no";

/* The school year of today (Taiwan). */
static int
sel_current_year(void)
{
	char today[WINDOW_DATE_LEN + 1];

	windows_today(today);
	return selection_school_year(today);
}

/* The distinct years of column col of res (ordered newest first) into
 * years (at most max). */
static size_t
sel_years(const struct db_res *res, size_t col, int *years, size_t max)
{
	size_t i, n = 0;
	int y;

	for (i = 0; i < db_res_rows(res); i++) {
		y = (int)db_res_int(res, i, col);
		if ((n == 0 || years[n - 1] != y) && n < max)
			years[n++] = y;
	}
	return n;
}

/* The school year asked for (?year=) when it is one of years, else the
 * default. */
static int
sel_year_asked(const struct request *r, const int *years, size_t n)
{
	static const struct form_field fields[] = {
	    {"year", FORM_INT, 0, 1, 999, NULL},
	};
	struct form *f = form_new(fields, ARRAY_SIZE(fields));
	long long want = 0;
	size_t i;

	if (f != NULL && form_parse(f, r->query, strlen(r->query)) == 0)
		want = form_int(f, 0);
	form_free(f);
	for (i = 0; i < n; i++)
		if (years[i] == want)
			return years[i];
	return selection_pick_year(years, n, sel_current_year());
}

/* One class's table: its students with their counts, into cls; the number
 * of students into *students. 0/-1. */
static int
homeroom_class(struct app *app, struct request *r, const struct db_res *cl,
    size_t row, struct tval *cls, size_t *students)
{
	struct db_param p[3] = {DB_INT(db_res_int(cl, row, 2)),
	    DB_INT(db_res_int(cl, row, 0)),
	    DB_INT((long long)r->auth->u.school_id)};
	static const char *const cols[] = {
	    "course", "diverse", "certified", "rejected", "waiting", "ticked"};
	const struct sel_arg args[] = {
	    {"code", db_res_get(cl, row, 3)}, {"name", db_res_get(cl, row, 4)}};
	struct tval *list, *s;
	struct db_res *res;
	char masked[512];
	size_t i, k;

	res = db_query(app_db(app), homeroom_students_sql, p, 3);
	if (res == NULL)
		return -1;
	(void)tval_set_str(cls, "id", db_res_get(cl, row, 1));
	(void)tval_set_str(cls, "code", db_res_get(cl, row, 3));
	sel_set(app, r, cls, "title", "selection.homeroom.class_title", args,
	    ARRAY_SIZE(args));
	list = tval_list();
	for (i = 0; i < db_res_rows(res); i++) {
		s = tval_obj();
		(void)tval_set_str(s, "student_no", db_res_get(res, i, 0));
		(void)tval_set_str(s, "seat", db_res_get(res, i, 1));
		pii_name_mask(db_res_get(res, i, 2), masked, sizeof(masked));
		(void)tval_set_str(s, "name", masked);
		for (k = 0; k < ARRAY_SIZE(cols); k++)
			(void)tval_set_int(
			    s, cols[k], db_res_int(res, i, 3 + k));
		(void)tval_push(list, s);
	}
	*students = db_res_rows(res);
	(void)tval_set_int(cls, "student_count", (long long)*students);
	(void)tval_set(cls, "students", list);
	db_res_free(res);
	return 0;
}

/* The view's audit row: the year, the classes and how many students. */
static int
homeroom_audit(struct app *app, struct request *r, int year,
    const struct buf *codes, size_t students)
{
	char target[32];
	struct buf d;
	int rc;

	str_printf(target, sizeof(target), "homeroom:%d", year);
	buf_init(&d);
	buf_printf(&d, "{\"year\":%d,\"classes\":[%s],\"students\":%zu}", year,
	    codes->data != NULL ? codes->data : "", students);
	rc = auth_audit(app, r, "homeroom.viewed", target, "success", d.data);
	buf_free(&d);
	return rc;
}

/* The year selector's options. */
static struct tval *
homeroom_years(const int *years, size_t n, int chosen)
{
	struct tval *list = tval_list(), *o;
	size_t i;

	for (i = 0; i < n; i++) {
		o = tval_obj();
		(void)tval_set_int(o, "year", years[i]);
		(void)tval_set_bool(o, "selected", years[i] == chosen);
		(void)tval_push(list, o);
	}
	return list;
}

/* The classes of the chosen year into ctx; the class codes (JSON strings)
 * into codes and the number of students into *students. 0/-1. */
static int
homeroom_classes(struct app *app, struct request *r, const struct db_res *cl,
    int year, struct tval *ctx, struct buf *codes, size_t *students)
{
	struct tval *list = tval_list(), *cls;
	size_t i, n, count = 0;

	*students = 0;
	for (i = 0; i < db_res_rows(cl); i++) {
		if (db_res_int(cl, i, 2) != year)
			continue;
		cls = tval_obj();
		if (homeroom_class(app, r, cl, i, cls, &n) != 0) {
			tval_free(cls);
			tval_free(list);
			return -1;
		}
		(void)tval_push(list, cls);
		*students += n;
		count++;
		if (codes->len > 0)
			buf_putc(codes, ',');
		buf_putc(codes, '"');
		buf_json_str(codes, db_res_get(cl, i, 3), db_res_len(cl, i, 3));
		buf_putc(codes, '"');
	}
	(void)tval_set(ctx, "classes", list);
	(void)tval_set_int(ctx, "class_count", (long long)count);
	return 0;
}

enum request_outcome
homeroom_get(struct app *app, struct request *r)
{
	const struct user *u = &r->auth->u;
	struct db_param p[2] = {
	    DB_INT((long long)u->id), DB_INT((long long)u->school_id)};
	struct db_res *cl;
	struct tval *ctx;
	struct buf codes;
	int years[64], year;
	size_t nyears, students;
	char syear[16];
	const struct sel_arg ya[] = {{"year", syear}};

	if ((cl = db_query(app_db(app), homeroom_classes_sql, p, 2)) == NULL)
		return RQ_UNAVAILABLE;
	if (db_res_rows(cl) == 0) {
		db_res_free(cl);
		return auth_deny(app, r, "not_homeroom", 1);
	}
	nyears = sel_years(cl, 2, years, ARRAY_SIZE(years));
	year = sel_year_asked(r, years, nyears);
	str_printf(syear, sizeof(syear), "%d", year);
	ctx = auth_page_ctx(app, r, "selection.homeroom.title");
	buf_init(&codes);
	/* Recorded before it is shown: a view that cannot be recorded is
	 * not shown at all. */
	if (homeroom_classes(app, r, cl, year, ctx, &codes, &students) != 0 ||
	    homeroom_audit(app, r, year, &codes, students) != 0) {
		buf_free(&codes);
		db_res_free(cl);
		tval_free(ctx);
		return RQ_UNAVAILABLE;
	}
	buf_free(&codes);
	db_res_free(cl);
	(void)tval_set(ctx, "years", homeroom_years(years, nyears, year));
	sel_set(app, r, ctx, "heading", "selection.homeroom.year_title", ya, 1);
	return auth_render(app, r, "homeroom", ctx, 200);
}

/* ----------------------------------------------------------- notices */

/* The rows of a notice's query (its ? the user's id and school) for a
 * user of role: 1 with them in *res (the caller frees it), 0 for another
 * role or no rows, -1 on a database error. */
static int
notices_rows(struct app *app, const struct request *r, enum role role,
    const char *sql, struct db_res **res)
{
	const struct user *u = &r->auth->u;
	struct db_param p[2] = {
	    DB_INT((long long)u->id), DB_INT((long long)u->school_id)};

	*res = NULL;
	if (u->role != role)
		return 0;
	if ((*res = db_query(app_db(app), sql, p, 2)) == NULL)
		return -1;
	if (db_res_rows(*res) == 0) {
		db_res_free(*res);
		*res = NULL;
		return 0;
	}
	return 1;
}

/* The signed-in student's unread results: course outcomes decided since
 * they last opened /items, newest first. */
static const char notices_student_sql[] =
    "SELECT i.cert_state, COALESCE(c.code, ''), COALESCE(c.name, ''), "
    "COALESCE(i.cert_reason, '') FROM items i JOIN students s ON s.id = "
    "i.student_id AND s.school_id = i.school_id LEFT JOIN courses c ON "
    "c.id = i.course_id AND c.school_id = i.school_id WHERE s.user_id = ? "
    "AND i.school_id = ? AND i.cert_notice = 1 AND i.deleted_at IS NULL "
    "AND i.kind = 'course' AND i.cert_state IN ('certified', 'rejected') "
    "ORDER BY i.cert_at DESC, i.id DESC";

/* A rejection's line: the course and the teacher's reason. */
static struct tval *
notices_rejected(struct app *app, const struct request *r,
    const struct db_res *res, size_t i)
{
	struct tval *o = tval_obj();
	char course[256];
	const struct sel_arg args[] = {
	    {"course", course}, {"reason", db_res_get(res, i, 3)}};

	str_printf(course, sizeof(course), "%s %s", db_res_get(res, i, 1),
	    db_res_get(res, i, 2));
	sel_set(app, r, o, "text", "selection.notices.rejected", args,
	    ARRAY_SIZE(args));
	return o;
}

int
notices_student(struct app *app, struct request *r, struct tval *ctx)
{
	struct tval *box, *list;
	struct db_res *res;
	size_t i, certified = 0;
	char n[16];
	const struct sel_arg args[] = {{"n", n}};
	int rc;

	/* auth_gate's user query says whether there is anything to show, so
	 * that a student's home page makes no query of its own for nothing */
	if (!r->auth->u.cert_notice)
		return 0;
	if ((rc = notices_rows(
		 app, r, ROLE_STUDENT, notices_student_sql, &res)) <= 0)
		return rc;
	box = tval_obj();
	list = tval_list();
	for (i = 0; i < db_res_rows(res); i++) {
		if (strcmp(db_res_get(res, i, 0), "certified") == 0)
			certified++;
		else
			(void)tval_push(list, notices_rejected(app, r, res, i));
	}
	db_res_free(res);
	if (certified > 0) {
		str_printf(n, sizeof(n), "%zu", certified);
		sel_set(app, r, box, "certified", "selection.notices.certified",
		    args, 1);
	}
	(void)tval_set(box, "rejections", list);
	(void)tval_set(ctx, "student_notice", box);
	return 0;
}

/* The homeroom teacher's classes (every year) with their counts of the
 * class's school year: items uploaded, certified, ticked. */
static const char notices_homeroom_sql[] =
    "SELECT cl.code, cl.year, COUNT(i.id), "
    "COALESCE(SUM(i.cert_state = 'certified'), 0), "
    "COALESCE(SUM(i.selected_at IS NOT NULL), 0) FROM classes cl JOIN "
    "teachers th ON th.id = cl.homeroom_teacher_id AND th.school_id = "
    "cl.school_id LEFT JOIN students s ON s.class_id = cl.id AND "
    "s.school_id = cl.school_id LEFT JOIN (items i JOIN terms t ON t.id = "
    "i.term_id AND t.school_id = i.school_id) ON i.student_id = s.id AND "
    "i.school_id = s.school_id AND i.deleted_at IS NULL AND t.year = "
    "cl.year WHERE th.user_id = ? AND cl.school_id = ? GROUP BY cl.id, "
    "cl.code, cl.year ORDER BY cl.year DESC, cl.code";

/* A class's line: its code and counts from row i. */
static struct tval *
notices_class(struct app *app, const struct request *r,
    const struct db_res *res, size_t i)
{
	struct tval *o = tval_obj();
	const struct sel_arg args[] = {{"class", db_res_get(res, i, 0)},
	    {"up", db_res_get(res, i, 2)}, {"cert", db_res_get(res, i, 3)},
	    {"ticked", db_res_get(res, i, 4)}};

	sel_set(app, r, o, "text", "selection.notices.homeroom_line", args,
	    ARRAY_SIZE(args));
	return o;
}

int
notices_homeroom(struct app *app, struct request *r, struct tval *ctx)
{
	struct tval *box, *list;
	struct db_res *res;
	int years[64], year;
	size_t i;
	char syear[16];
	const struct sel_arg args[] = {{"year", syear}};
	int rc = notices_rows(app, r, ROLE_TEACHER, notices_homeroom_sql, &res);

	if (rc <= 0)
		return rc;
	year = selection_pick_year(years,
	    sel_years(res, 1, years, ARRAY_SIZE(years)), sel_current_year());
	box = tval_obj();
	list = tval_list();
	for (i = 0; i < db_res_rows(res); i++)
		if (db_res_int(res, i, 1) == year)
			(void)tval_push(list, notices_class(app, r, res, i));
	db_res_free(res);
	str_printf(syear, sizeof(syear), "%d", year);
	sel_set(
	    app, r, box, "title", "selection.notices.homeroom_title", args, 1);
	(void)tval_set(box, "classes", list);
	(void)tval_set(ctx, "homeroom_notice", box);
	return 0;
}
