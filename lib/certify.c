/*
 * certify: the model of certification. Reading answers who may certify
 * what (CERTIFY_COURSES_SQL, once), the waiting list and one item with its
 * history; writing happens only in certify_decide_tx, inside the caller's
 * transaction, after every check has passed again under the item's row
 * lock, so that a refusal writes nothing. It never changes or deletes a
 * decision (superseded_at only), never builds SQL from input, and never
 * hands out a student's name unmasked.
 */
#include "certify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "certsig.h"
#include "db.h"
#include "log.h"
#include "pii.h"
#include "sign.h"
#include "util.h"
#include "validate.h"

/* A time column in Taiwan time, "YYYY-MM-DD HH:MM" ("" for NULL). */
#define CERTIFY_TIME(col)                                                      \
	"COALESCE(DATE_FORMAT(" col " + INTERVAL 8 HOUR, '%Y-%m-%d %H:%i'), "  \
	"'')"

/* An object o that a teacher may look at: read back and verified in both
 * roots, scanned clean, neither quarantined nor lost. Never NULL. */
#define CERTIFY_CLEAN(o)                                                       \
	"(" o ".verified_at IS NOT NULL AND COALESCE(" o ".verify_result IN "  \
	"('ok', 'repaired'), 0) AND COALESCE(" o ".scan_result = 'clean', 0) " \
	"AND " o ".quarantined_at IS NULL AND " o ".lost_at IS NULL)"

/* The items waiting for the user (待認證); parameters: the school, then
 * CERTIFY_COURSES_SQL's. Whether an item's files are all clean is asked
 * item by item (a dependent subquery on item_files_item and the objects'
 * primary key), so that the cost follows the user's waiting items, never
 * the size of item_files or objects. */
// clang-format off
#define CERTIFY_PENDING_FROM                                                   \
	"FROM items i WHERE i.school_id = ? AND i.kind = 'course' AND "        \
	"i.cert_state = 'pending' AND i.deleted_at IS NULL AND "               \
	"i.submitted_at IS NULL AND i.course_id IN (SELECT m.course_id FROM (" \
	CERTIFY_COURSES_SQL ") m) AND (SELECT MIN(" CERTIFY_CLEAN("o") ") "   \
	"FROM item_files f JOIN objects o ON o.sha256 = f.sha256 WHERE "       \
	"f.item_id = i.id AND f.replaced_at IS NULL) = 1 "
// clang-format on
#define CERTIFY_PENDING_NPARAMS (1 + CERTIFY_COURSES_NPARAMS)

static const char *const certify_decision_names[CERTIFY__MAX] = {
    "certified", "rejected"};

/* ------------------------------------------------------------ helpers */

static char *
certify_dup(const struct db_res *res, size_t row, size_t col)
{
	const char *v = db_res_get(res, row, col);

	return xstrdup(v != NULL ? v : "");
}

/* A fixed-size text column into out; one that cannot fit (the schema
 * prevents it) is logged and left empty. */
static void
certify_copy(
    char *out, size_t outlen, const struct db_res *res, size_t row, size_t col)
{
	const char *v = db_res_get(res, row, col);

	if (str_copy(out, outlen, v != NULL ? v : "") != 0) {
		log_error("certify: column %zu does not fit in %zu bytes", col,
		    outlen);
		out[0] = '\0';
	}
}

void
certify_courses_params(
    struct db_param *p, uint64_t school_id, uint64_t user_id, const char *today)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		p[2 * i] = DB_INT((long long)user_id);
		p[2 * i + 1] = DB_INT((long long)school_id);
	}
	p[6] = DB_STR(today);
}

/* The pending list's parameters: the school, then the courses'. */
static void
certify_pending_params(
    struct db_param *p, uint64_t school_id, uint64_t user_id, const char *today)
{
	p[0] = DB_INT((long long)school_id);
	certify_courses_params(p + 1, school_id, user_id, today);
}

int
certify_may(struct db *db, uint64_t school_id, uint64_t user_id,
    uint64_t course_id, struct certify_as *as)
{
	struct db_param p[CERTIFY_COURSES_NPARAMS + 1];
	char today[WINDOW_DATE_LEN + 1];
	struct db_res *res;
	int found;

	memset(as, 0, sizeof(*as));
	windows_today(today);
	certify_courses_params(p, school_id, user_id, today);
	p[CERTIFY_COURSES_NPARAMS] = DB_INT((long long)course_id);
	res = db_query(db,
	    "SELECT m.teacher_id, COALESCE(m.for_teacher_id, 0), "
	    "COALESCE(m.standin_id, 0), t.public_id, COALESCE(ft.public_id, "
	    "''), COALESCE(cs.public_id, ''), COALESCE(fu.name, '') FROM "
	    "(" CERTIFY_COURSES_SQL
	    ") m JOIN teachers t ON t.id = m.teacher_id "
	    "LEFT JOIN teachers ft ON ft.id = m.for_teacher_id LEFT JOIN users "
	    "fu ON fu.id = ft.user_id LEFT JOIN cert_standins cs ON cs.id = "
	    "m.standin_id WHERE m.course_id = ? ORDER BY m.prio, m.standin_id "
	    "LIMIT 1",
	    p, CERTIFY_COURSES_NPARAMS + 1);
	if (res == NULL)
		return -1;
	found = db_res_rows(res) > 0;
	if (found) {
		as->teacher_id = (uint64_t)db_res_int(res, 0, 0);
		as->for_teacher_id = (uint64_t)db_res_int(res, 0, 1);
		as->standin_id = (uint64_t)db_res_int(res, 0, 2);
		certify_copy(as->teacher, sizeof(as->teacher), res, 0, 3);
		certify_copy(
		    as->for_teacher, sizeof(as->for_teacher), res, 0, 4);
		certify_copy(as->standin, sizeof(as->standin), res, 0, 5);
		certify_copy(as->for_teacher_name, sizeof(as->for_teacher_name),
		    res, 0, 6);
	}
	db_res_free(res);
	return found;
}

/* ------------------------------------------------------ pure checks */

const char *
certify_decision_name(enum certify_decision d)
{
	return (unsigned)d < CERTIFY__MAX ? certify_decision_names[d] : "";
}

int
certify_decision_parse(const char *s)
{
	int i;

	for (i = 0; s != NULL && i < CERTIFY__MAX; i++)
		if (strcmp(s, certify_decision_names[i]) == 0)
			return i;
	return -1;
}

enum certify_reason_check
certify_reason_check(enum certify_decision d, const char *reason, long *chars)
{
	const char *s = reason != NULL ? reason : "";
	size_t i;

	*chars = validate_utf8_text(s, strlen(s), 1);
	if (d == CERTIFY_CERTIFIED)
		return CERTIFY_REASON_OK;
	if (*chars < 0)
		return CERTIFY_REASON_BAD;
	for (i = 0; s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r';
	     i++)
		;
	if (s[i] == '\0')
		return CERTIFY_REASON_MISSING;
	if (*chars > CERTIFY_REASON_MAX)
		return CERTIFY_REASON_LONG;
	return CERTIFY_REASON_OK;
}

/* ---------------------------------------------------- the waiting list */

/* The student columns of a row from col on: public id, class code, class
 * name, seat, number, name (masked here). */
static void
certify_student_from_row(
    const struct db_res *res, size_t row, size_t col, struct certify_student *s)
{
	const char *name = db_res_get(res, row, col + 5);
	size_t len = name != NULL ? strlen(name) : 0;

	certify_copy(s->public_id, sizeof(s->public_id), res, row, col);
	s->class_code = certify_dup(res, row, col + 1);
	s->class_name = certify_dup(res, row, col + 2);
	certify_copy(s->seat, sizeof(s->seat), res, row, col + 3);
	s->number = certify_dup(res, row, col + 4);
	/* Every code point may become a ring of three bytes. */
	s->masked_name = xmalloc(3 * len + 8);
	pii_name_mask(name, s->masked_name, 3 * len + 8);
}

static void
certify_student_free(struct certify_student *s)
{
	free(s->class_code);
	free(s->class_name);
	free(s->number);
	free(s->masked_name);
	memset(s, 0, sizeof(*s));
}

#define CERTIFY_STUDENT_COLS                                                   \
	"s.public_id, COALESCE(cl.code, ''), COALESCE(cl.name, ''), "          \
	"COALESCE(s.seat_no, ''), s.student_no, s.name"

/* The columns of a page's row (one per current file). */
enum {
	PC_ID,
	PC_PUBLIC,
	PC_TERM,
	PC_YEAR,
	PC_SEMESTER,
	PC_COURSE,
	PC_CODE,
	PC_NAME,
	PC_DESCRIPTION,
	PC_CREATED,
	PC_UPDATED,
	PC_STUDENT, /* 6 columns */
	PC_TOTAL = PC_STUDENT + 6,
	PF_PUBLIC,
	PF_SLOT,
	PF_NAME,
	PF_SIZE,
	PF_SHA256
};

/* The page's items with their details, joined to the page that the
 * derived table pg chose (its rows' ids, order and the total). */
// clang-format off
#define CERTIFY_PAGE_SELECT                                                    \
	"SELECT i.id, i.public_id, i.term_id, t.year, t.semester, "            \
	"c.public_id, c.code, c.name, i.description, "                         \
	CERTIFY_TIME("i.created_at") ", " CERTIFY_TIME("i.updated_at") ", "    \
	CERTIFY_STUDENT_COLS ", pg.total, f.public_id, f.slot, "               \
	"f.original_name, f.size, f.sha256 FROM (SELECT i.id AS pid, "         \
	"i.created_at AS sort_at, COUNT(*) OVER () AS total "                  \
	CERTIFY_PENDING_FROM
#define CERTIFY_PAGE_JOIN                                                      \
	"JOIN items i ON i.id = pg.pid JOIN students s ON s.id = i.student_id " \
	"AND s.school_id = i.school_id JOIN courses c ON c.id = i.course_id "  \
	"AND c.school_id = i.school_id JOIN terms t ON t.id = i.term_id AND "  \
	"t.school_id = i.school_id LEFT JOIN classes cl ON cl.id = "           \
	"s.class_id AND cl.school_id = s.school_id JOIN item_files f ON "      \
	"f.item_id = i.id AND f.replaced_at IS NULL "
// clang-format on

/* Appends the filter's conditions and their parameters (from p[*n]). */
static void
certify_filter_sql(struct buf *sql, const struct certify_filter *f,
    uint64_t school_id, struct db_param *p, size_t *n)
{
	if (f->course != NULL) {
		buf_puts(sql,
		    "AND i.course_id IN (SELECT fc.id FROM courses fc "
		    "WHERE fc.public_id = ? AND fc.school_id = ?) ");
		p[(*n)++] = DB_STR(f->course);
		p[(*n)++] = DB_INT((long long)school_id);
	}
	if (f->klass != NULL) {
		buf_puts(sql,
		    "AND i.student_id IN (SELECT fs.id FROM students "
		    "fs JOIN classes fk ON fk.id = fs.class_id WHERE "
		    "fk.public_id = ? AND fs.school_id = ?) ");
		p[(*n)++] = DB_STR(f->klass);
		p[(*n)++] = DB_INT((long long)school_id);
	}
}

static void
certify_row_file(const struct db_res *res, size_t i, struct certify_row *row)
{
	struct certify_file *cf;
	int v;

	row->files =
	    xrealloc(row->files, (row->nfiles + 1) * sizeof(*row->files));
	cf = &row->files[row->nfiles++];
	memset(cf, 0, sizeof(*cf));
	certify_copy(cf->public_id, sizeof(cf->public_id), res, i, PF_PUBLIC);
	v = items_slot_parse(db_res_get(res, i, PF_SLOT));
	cf->slot = v >= 0 ? (enum item_slot)v : ITEM_DOC;
	cf->name = certify_dup(res, i, PF_NAME);
	cf->size = (unsigned long long)db_res_int(res, i, PF_SIZE);
	certify_copy(cf->sha256, sizeof(cf->sha256), res, i, PF_SHA256);
}

static void
certify_row_from(const struct db_res *res, size_t i, struct certify_row *row)
{
	memset(row, 0, sizeof(*row));
	row->item_id = (uint64_t)db_res_int(res, i, PC_ID);
	certify_copy(row->item, sizeof(row->item), res, i, PC_PUBLIC);
	row->term_id = (uint64_t)db_res_int(res, i, PC_TERM);
	items_term_label((long)db_res_int(res, i, PC_YEAR),
	    (long)db_res_int(res, i, PC_SEMESTER), row->term);
	certify_copy(row->course, sizeof(row->course), res, i, PC_COURSE);
	row->course_code = certify_dup(res, i, PC_CODE);
	row->course_name = certify_dup(res, i, PC_NAME);
	row->description = certify_dup(res, i, PC_DESCRIPTION);
	certify_copy(
	    row->created_at, sizeof(row->created_at), res, i, PC_CREATED);
	certify_copy(
	    row->updated_at, sizeof(row->updated_at), res, i, PC_UPDATED);
	certify_student_from_row(res, i, PC_STUDENT, &row->student);
}

int
certify_pending(struct db *db, uint64_t school_id, uint64_t user_id,
    const struct certify_filter *f, struct certify_page *out)
{
	struct db_param p[CERTIFY_PENDING_NPARAMS + 6];
	const char *dir = f->order == CERTIFY_OLDEST ? "ASC" : "DESC";
	char today[WINDOW_DATE_LEN + 1];
	struct certify_row *cur = NULL;
	struct db_res *res;
	struct buf sql;
	size_t n = CERTIFY_PENDING_NPARAMS, i;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	windows_today(today);
	certify_pending_params(p, school_id, user_id, today);
	/* One pass over the waiting items chooses the page and counts them
	 * all (the window's COUNT); only the page's rows are joined to their
	 * student, course, term and current files. */
	buf_init(&sql);
	buf_puts(&sql, CERTIFY_PAGE_SELECT);
	certify_filter_sql(&sql, f, school_id, p, &n);
	buf_printf(&sql,
	    "ORDER BY i.created_at %s, i.id %s LIMIT ? OFFSET ?) "
	    "pg " CERTIFY_PAGE_JOIN "ORDER BY pg.sort_at %s, pg.pid %s, f.slot",
	    dir, dir, dir, dir);
	p[n++] = DB_INT(f->page_size);
	p[n++] = DB_INT((long long)(f->page - 1) * f->page_size);
	if ((res = db_query(db, sql.data, p, n)) == NULL)
		goto out;
	for (i = 0; i < db_res_rows(res); i++) {
		if (cur == NULL ||
		    cur->item_id != (uint64_t)db_res_int(res, i, PC_ID)) {
			out->v =
			    xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
			cur = &out->v[out->n++];
			certify_row_from(res, i, cur);
		}
		certify_row_file(res, i, cur);
	}
	if (db_res_rows(res) > 0)
		out->total = db_res_int(res, 0, PC_TOTAL);
	db_res_free(res);
	if (out->n > 0 || f->page == 1) {
		rc = 0;
		goto out;
	}
	/* A page past the end: how many there are, for its links. */
	buf_reset(&sql);
	buf_puts(&sql, "SELECT COUNT(*) " CERTIFY_PENDING_FROM);
	n = CERTIFY_PENDING_NPARAMS;
	certify_filter_sql(&sql, f, school_id, p, &n);
	if ((res = db_query(db, sql.data, p, n)) == NULL)
		goto out;
	out->total = db_res_int(res, 0, 0);
	db_res_free(res);
	rc = 0;
out:
	buf_free(&sql);
	return rc;
}

void
certify_page_free(struct certify_page *p)
{
	size_t i, k;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++) {
		struct certify_row *row = &p->v[i];

		for (k = 0; k < row->nfiles; k++)
			free(row->files[k].name);
		free(row->files);
		free(row->course_code);
		free(row->course_name);
		free(row->description);
		certify_student_free(&row->student);
	}
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* The options of sql (public id, label) with its parameters. */
static int
certify_options(struct db *db, const char *sql, uint64_t school_id,
    uint64_t user_id, struct certify_option **v, size_t *n)
{
	struct db_param p[CERTIFY_PENDING_NPARAMS];
	char today[WINDOW_DATE_LEN + 1];
	struct db_res *res;
	size_t i;

	*v = NULL;
	*n = 0;
	windows_today(today);
	certify_pending_params(p, school_id, user_id, today);
	if ((res = db_query(db, sql, p, CERTIFY_PENDING_NPARAMS)) == NULL)
		return -1;
	if (db_res_rows(res) > 0)
		*v = xcalloc(db_res_rows(res), sizeof(**v));
	for (i = 0; i < db_res_rows(res); i++) {
		certify_copy(
		    (*v)[i].public_id, sizeof((*v)[i].public_id), res, i, 0);
		(*v)[i].label = certify_dup(res, i, 1);
	}
	*n = db_res_rows(res);
	db_res_free(res);
	return 0;
}

int
certify_course_options(struct db *db, uint64_t school_id, uint64_t user_id,
    struct certify_option **v, size_t *n)
{
	return certify_options(db,
	    "SELECT c.public_id, CONCAT(t.year, '-', t.semester, ' ', c.code, "
	    "' ', c.name) FROM courses c JOIN terms t ON t.id = c.term_id AND "
	    "t.school_id = c.school_id WHERE c.school_id = ? AND c.id IN "
	    "(SELECT m.course_id FROM (" CERTIFY_COURSES_SQL ") m) ORDER BY "
	    "t.year DESC, t.semester DESC, c.code",
	    school_id, user_id, v, n);
}

int
certify_class_options(struct db *db, uint64_t school_id, uint64_t user_id,
    struct certify_option **v, size_t *n)
{
	return certify_options(db,
	    "SELECT cl.public_id, CONCAT(cl.code, ' ', cl.name) FROM classes "
	    "cl WHERE cl.school_id = ? AND EXISTS (SELECT 1 FROM students s "
	    "JOIN enrolments e ON e.student_id = s.id AND e.school_id = "
	    "s.school_id WHERE s.class_id = cl.id AND e.course_id IN (SELECT "
	    "m.course_id FROM (" CERTIFY_COURSES_SQL ") m)) ORDER BY cl.year "
	    "DESC, cl.code",
	    school_id, user_id, v, n);
}

void
certify_options_free(struct certify_option *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i].label);
	free(v);
}

int
certify_waiting(struct db *db, uint64_t school_id, uint64_t user_id,
    int deadline_days, long long *count, struct deadline *next)
{
	struct db_param p[CERTIFY_PENDING_NPARAMS];
	char today[WINDOW_DATE_LEN + 1];
	struct deadline d;
	struct db_res *res;
	size_t i;
	int rc = 0;

	*count = 0;
	memset(next, 0, sizeof(*next));
	windows_today(today);
	certify_pending_params(p, school_id, user_id, today);
	res = db_query(db,
	    "SELECT i.term_id, COUNT(*) " CERTIFY_PENDING_FROM
	    "GROUP BY i.term_id",
	    p, CERTIFY_PENDING_NPARAMS);
	if (res == NULL)
		return -1;
	for (i = 0; i < db_res_rows(res) && rc == 0; i++) {
		*count += db_res_int(res, i, 1);
		if (deadlines_cert(db, school_id,
			(uint64_t)db_res_int(res, i, 0), deadline_days,
			&d) != 1) {
			rc = -1; /* an error, or the term went away */
			break;
		}
		if (!d.passed &&
		    (next->date[0] == '\0' || strcmp(d.date, next->date) < 0))
			*next = d;
	}
	db_res_free(res);
	return rc;
}

/* ---------------------------------------------------------- one item */

const char *
certify_found_name(enum certify_found f)
{
	static const char *const names[] = {
	    "found", "not_found", "deleted", "diverse", "not_yours", "error"};

	return (unsigned)f < ARRAY_SIZE(names) ? names[f] : "";
}

/* The item's student. 0/-1. */
static int
certify_student_find(struct db *db, uint64_t school_id, uint64_t student_id,
    struct certify_student *s)
{
	struct db_param p[2] = {
	    DB_INT((long long)student_id), DB_INT((long long)school_id)};
	struct db_res *res;

	res = db_query(db,
	    "SELECT " CERTIFY_STUDENT_COLS " FROM students s LEFT JOIN "
	    "classes cl ON cl.id = s.class_id AND cl.school_id = s.school_id "
	    "WHERE s.id = ? AND s.school_id = ?",
	    p, 2);
	if (res == NULL)
		return -1;
	if (db_res_rows(res) == 0) {
		db_res_free(res);
		log_error("certify: student %llu of an item is missing",
		    (unsigned long long)student_id);
		return -1;
	}
	certify_student_from_row(res, 0, 0, s);
	db_res_free(res);
	return 0;
}

/* The item's decisions, newest first. 0/-1. */
static int
certify_history(struct db *db, uint64_t school_id, struct certify_item *ci)
{
	struct db_param p[2] = {
	    DB_INT((long long)ci->it.id), DB_INT((long long)school_id)};
	struct db_res *res;
	size_t i;

	res = db_query(db,
	    "SELECT ce.public_id, ce.decision, COALESCE(ce.reason, "
	    "''), " CERTIFY_TIME(
		"ce.decided_at") ", ut.name, COALESCE(uf.name, ''), "
				 "ce.standin_id IS NOT NULL, ce.id = "
				 "COALESCE(i.cert_id, 0), " CERTIFY_TIME(
				     "ce.superseded_at") " FROM certifications "
							 "ce JOIN "
							 "items i ON i.id = "
							 "ce.item_id JOIN "
							 "teachers t ON t.id = "
							 "ce.teacher_id JOIN "
							 "users ut ON ut.id = "
							 "t.user_id LEFT JOIN "
							 "teachers ft ON ft.id "
							 "= ce.for_teacher_id "
							 "LEFT JOIN users uf "
							 "ON "
							 "uf.id = ft.user_id "
							 "WHERE ce.item_id = ? "
							 "AND ce.school_id = ? "
							 "ORDER BY "
							 "ce.decided_at DESC, "
							 "ce.id DESC",
	    p, 2);
	if (res == NULL)
		return -1;
	if (db_res_rows(res) > 0)
		ci->past = xcalloc(db_res_rows(res), sizeof(*ci->past));
	for (i = 0; i < db_res_rows(res); i++) {
		struct certify_past *d = &ci->past[i];
		int v = certify_decision_parse(db_res_get(res, i, 1));

		certify_copy(d->public_id, sizeof(d->public_id), res, i, 0);
		d->decision =
		    v >= 0 ? (enum certify_decision)v : CERTIFY_REJECTED;
		d->reason = certify_dup(res, i, 2);
		certify_copy(d->decided_at, sizeof(d->decided_at), res, i, 3);
		d->teacher = certify_dup(res, i, 4);
		d->for_teacher = certify_dup(res, i, 5);
		d->standin = db_res_int(res, i, 6) != 0;
		d->current = db_res_int(res, i, 7) != 0;
		certify_copy(
		    d->superseded_at, sizeof(d->superseded_at), res, i, 8);
	}
	ci->npast = db_res_rows(res);
	db_res_free(res);
	return 0;
}

enum certify_found
certify_item_find(struct db *db, uint64_t school_id, uint64_t user_id,
    int deadline_days, const char *public_id, struct certify_item *ci)
{
	enum certify_found found = CERTIFY_FOUND;
	int rc;

	memset(ci, 0, sizeof(*ci));
	switch (items_find_in_school(db, school_id, public_id, &ci->it)) {
	case ITEMS_FOUND: break;
	case ITEMS_DELETED: return CERTIFY_DELETED;
	case ITEMS_FIND_ERROR: return CERTIFY_FIND_ERROR;
	case ITEMS_UNKNOWN:
	case ITEMS_OTHER_SCHOOL:
	case ITEMS_OTHER_STUDENT:
	default: return CERTIFY_UNKNOWN;
	}
	if (ci->it.kind != ITEM_COURSE)
		found = CERTIFY_DIVERSE;
	else if ((rc = certify_may(
		      db, school_id, user_id, ci->it.course_id, &ci->as)) <= 0)
		found = rc < 0 ? CERTIFY_FIND_ERROR : CERTIFY_NOT_YOURS;
	else if (certify_student_find(
		     db, school_id, ci->it.student_id, &ci->student) != 0 ||
	    deadlines_cert(db, school_id, ci->it.term_id, deadline_days,
		&ci->deadline) != 1 ||
	    certify_history(db, school_id, ci) != 0)
		found = CERTIFY_FIND_ERROR;
	if (found != CERTIFY_FOUND)
		certify_item_free(ci);
	return found;
}

void
certify_item_free(struct certify_item *ci)
{
	size_t i;

	if (ci == NULL)
		return;
	items_free(&ci->it);
	certify_student_free(&ci->student);
	for (i = 0; i < ci->npast; i++) {
		free(ci->past[i].reason);
		free(ci->past[i].teacher);
		free(ci->past[i].for_teacher);
	}
	free(ci->past);
	memset(ci, 0, sizeof(*ci));
}

/* -------------------------------------------------------- the decision */

int
certify_key_ready(struct db *db, const char *key_id)
{
	struct db_param p[1];
	struct db_res *res;
	int ready;

	if (key_id == NULL || key_id[0] == '\0')
		return 0;
	p[0] = DB_STR(key_id);
	res = db_query(db,
	    "SELECT COUNT(*) FROM platform_keys WHERE key_id = ? AND "
	    "retired_at IS NULL",
	    p, 1);
	if (res == NULL)
		return -1;
	ready = db_res_int(res, 0, 0) > 0;
	db_res_free(res);
	return ready;
}

const char *
certify_outcome_name(enum certify_outcome o)
{
	static const char *const names[] = {"done", "gone", "checking",
	    "quarantined", "lost", "submitted", "decided", "late", "no_key",
	    "error"};

	return (unsigned)o < ARRAY_SIZE(names) ? names[o] : "";
}

/* The item's row, locked, as the decision needs it. */
struct certify_locked {
	uint64_t id, course_id, term_id, cert_id;
	unsigned version;
	enum item_cert cert;
	int submitted, ticked;
	char school[65]; /* schools.code */
	char student[IDS_PUBLIC_LEN + 1];
	char course[IDS_PUBLIC_LEN + 1];
	struct certsig_file files[ITEM_SLOT__MAX];
	char sha[ITEM_SLOT__MAX][65];
	size_t nfiles;
};

/* Locks the item's row: CERTIFY_DONE with l filled, CERTIFY_GONE, or
 * CERTIFY_ERROR. */
static enum certify_outcome
certify_lock(
    struct db *db, const struct certify_request *q, struct certify_locked *l)
{
	struct db_param p[2] = {
	    DB_STR(q->item), DB_INT((long long)q->school_id)};
	struct db_res *res;
	enum certify_outcome o = CERTIFY_DONE;
	int v;

	memset(l, 0, sizeof(*l));
	if (!ids_public_valid(q->item))
		return CERTIFY_GONE;
	/* Only the item's row is locked: the rows the record names are
	 * read below without locks, so that decisions do not queue behind
	 * one another on the school's or the course's row. */
	res = db_query(db,
	    "SELECT id, kind = 'course', COALESCE(course_id, 0), term_id, "
	    "version, cert_state, COALESCE(cert_id, 0), submitted_at IS NOT "
	    "NULL, deleted_at IS NOT NULL, selected_at IS NOT NULL FROM items "
	    "WHERE public_id = ? AND school_id = ? FOR UPDATE",
	    p, 2);
	if (res == NULL)
		return CERTIFY_ERROR;
	if (db_res_rows(res) == 0 || db_res_int(res, 0, 1) == 0 ||
	    db_res_int(res, 0, 8) != 0) {
		db_res_free(res);
		return CERTIFY_GONE;
	}
	l->id = (uint64_t)db_res_int(res, 0, 0);
	l->course_id = (uint64_t)db_res_int(res, 0, 2);
	l->term_id = (uint64_t)db_res_int(res, 0, 3);
	l->version = (unsigned)db_res_int(res, 0, 4);
	v = items_cert_parse(db_res_get(res, 0, 5));
	l->cert = v >= 0 ? (enum item_cert)v : ITEM_CERT_PENDING;
	l->cert_id = (uint64_t)db_res_int(res, 0, 6);
	l->submitted = db_res_int(res, 0, 7) != 0;
	l->ticked = db_res_int(res, 0, 9) != 0;
	db_res_free(res);
	p[0] = DB_INT((long long)l->id);
	res = db_query(db,
	    "SELECT sc.code, s.public_id, c.public_id FROM items i JOIN "
	    "schools sc ON sc.id = i.school_id JOIN students s ON s.id = "
	    "i.student_id AND s.school_id = i.school_id JOIN courses c ON c.id "
	    "= i.course_id AND c.school_id = i.school_id WHERE i.id = ? AND "
	    "i.school_id = ?",
	    p, 2);
	if (res == NULL)
		return CERTIFY_ERROR;
	if (db_res_rows(res) == 0) {
		log_error("certify: item %s has no school, student or course",
		    q->item);
		o = CERTIFY_ERROR;
	} else {
		certify_copy(l->school, sizeof(l->school), res, 0, 0);
		certify_copy(l->student, sizeof(l->student), res, 0, 1);
		certify_copy(l->course, sizeof(l->course), res, 0, 2);
	}
	db_res_free(res);
	return o;
}

/* The item's current files, read with a shared lock so that a batch's
 * later items are seen as they are now, not as the transaction's first
 * read saw them: CERTIFY_DONE when every one is verified and clean, or
 * why not. */
static enum certify_outcome
certify_files(
    struct db *db, const struct certify_request *q, struct certify_locked *l)
{
	struct db_param p[2] = {
	    DB_INT((long long)l->id), DB_INT((long long)q->school_id)};
	enum item_check checks[ITEM_SLOT__MAX];
	struct db_res *res;
	size_t i;

	res = db_query(db,
	    "SELECT f.slot, f.sha256, o.verified_at, o.verify_result, "
	    "o.scan_result, o.quarantined_at, o.lost_at FROM item_files f "
	    "JOIN objects o ON o.sha256 = f.sha256 WHERE f.item_id = ? AND "
	    "f.school_id = ? AND f.replaced_at IS NULL ORDER BY f.slot LOCK "
	    "IN SHARE MODE",
	    p, 2);
	if (res == NULL)
		return CERTIFY_ERROR;
	for (i = 0; i < db_res_rows(res) && l->nfiles < ITEM_SLOT__MAX; i++) {
		int v = items_slot_parse(db_res_get(res, i, 0));

		certify_copy(
		    l->sha[l->nfiles], sizeof(l->sha[l->nfiles]), res, i, 1);
		l->files[l->nfiles].slot =
		    items_slot_name(v >= 0 ? (enum item_slot)v : ITEM_DOC);
		l->files[l->nfiles].sha256 = l->sha[l->nfiles];
		checks[l->nfiles++] = items_check(db_res_get(res, i, 2),
		    db_res_get(res, i, 3), db_res_get(res, i, 4),
		    db_res_get(res, i, 5), db_res_get(res, i, 6));
	}
	db_res_free(res);
	switch (items_state(ITEM_COURSE, l->cert, checks, l->nfiles)) {
	case ITEM_ST_QUARANTINED: return CERTIFY_QUARANTINED;
	case ITEM_ST_LOST: return CERTIFY_LOST;
	case ITEM_ST_CHECKING: return CERTIFY_CHECKING;
	case ITEM_ST_PENDING:
	case ITEM_ST_CERTIFIED:
	case ITEM_ST_REJECTED:
	case ITEM_ST_NO_CERT:
	case ITEM_ST__MAX:
	default: return CERTIFY_DONE;
	}
}

/* Every check of the decision, in the order the refusals are told:
 * CERTIFY_DONE when it may be written. */
static enum certify_outcome
certify_checks(struct db *db, const struct certify_request *q,
    struct certify_locked *l, struct certify_as *as, struct certify_done *out)
{
	enum certify_outcome o;
	struct deadline d;
	int rc;

	if ((o = certify_lock(db, q, l)) != CERTIFY_DONE)
		return o;
	rc = certify_may(db, q->school_id, q->user_id, l->course_id, as);
	if (rc <= 0)
		return rc < 0 ? CERTIFY_ERROR : CERTIFY_GONE;
	if (l->submitted)
		return CERTIFY_SUBMITTED;
	if ((o = certify_files(db, q, l)) != CERTIFY_DONE)
		return o;
	if (q->pending_only && l->cert != ITEM_CERT_PENDING)
		return CERTIFY_DECIDED;
	if (deadlines_cert(
		db, q->school_id, l->term_id, q->deadline_days, &d) != 1)
		return CERTIFY_ERROR;
	if (d.passed) {
		(void)str_copy(out->deadline, sizeof(out->deadline), d.date);
		return CERTIFY_LATE;
	}
	if (q->key == NULL)
		return CERTIFY_NO_KEY;
	rc = certify_key_ready(db, q->key_id);
	if (rc <= 0)
		return rc < 0 ? CERTIFY_ERROR : CERTIFY_NO_KEY;
	return CERTIFY_DONE;
}

/* The audit detail of a decision. */
static void
certify_detail(struct buf *d, const struct certify_request *q,
    const struct certify_locked *l, const struct certify_as *as,
    const struct certify_done *out)
{
	size_t i;

	buf_putc(d, '{');
	buf_json_kv(d, "item", q->item);
	buf_json_kv(d, "course", l->course);
	buf_json_kv(d, "decision", certify_decision_name(q->decision));
	buf_json_kv(d, "certification", out->certification);
	buf_json_kv(d, "teacher", as->teacher);
	buf_json_kv(d, "for_teacher",
	    as->for_teacher[0] != '\0' ? as->for_teacher : NULL);
	buf_json_kv(d, "standin", as->standin[0] != '\0' ? as->standin : NULL);
	buf_puts(d, ",\"files\":[");
	for (i = 0; i < l->nfiles; i++) {
		buf_puts(d, i > 0 ? ",\"" : "\"");
		buf_json_str(d, l->files[i].sha256, strlen(l->files[i].sha256));
		buf_putc(d, '"');
	}
	buf_putc(d, ']');
	if (out->unticked)
		buf_puts(d, ",\"unticked\":true");
	buf_putc(d, '}');
}

/* Writes the signed decision: the record, its files, the superseded one,
 * the item, the audit row. 0/-1. */
static int
certify_write(struct db *db, const struct certify_request *q,
    const struct certify_locked *l, const struct certify_as *as,
    const char *reason, struct certify_done *out)
{
	char at[CERTSIG_TIME_LEN + 1], sig[SIGN_SIG_HEX_LEN + 1], target[40];
	int rejected = q->decision == CERTIFY_REJECTED;
	struct certsig_rec rec;
	unsigned long long cert_id = 0;
	struct audit_event ev;
	struct db_param p[14];
	struct buf d;
	size_t i;
	int rc;

	if (ids_public(out->certification) != 0 || certsig_now(at) != 0)
		return -1;
	memset(&rec, 0, sizeof(rec));
	rec.school = l->school;
	rec.item = q->item;
	rec.version = l->version;
	rec.student = l->student;
	rec.course = l->course;
	rec.teacher = as->teacher;
	rec.for_teacher = as->for_teacher;
	rec.standin = as->standin;
	rec.files = l->files;
	rec.nfiles = l->nfiles;
	rec.decision = certify_decision_name(q->decision);
	rec.reason = reason;
	rec.decided_at = at;
	rec.key_id = q->key_id;
	if (certsig_sign(q->key, &rec, sig) != 0) {
		log_error(
		    "certify: the decision on %s could not be signed", q->item);
		return -1;
	}
	p[0] = DB_STR(at);
	p[1] = DB_INT((long long)l->cert_id);
	p[2] = DB_INT((long long)l->id);
	if (l->cert_id != 0 &&
	    db_exec(db,
		"UPDATE certifications SET superseded_at = ? WHERE id = ? AND "
		"item_id = ? AND superseded_at IS NULL",
		p, 3, NULL, NULL) != 0)
		return -1;
	p[0] = DB_STR(out->certification);
	p[1] = DB_INT((long long)q->school_id);
	p[2] = DB_INT((long long)l->id);
	p[3] = DB_INT((long long)l->version);
	p[4] = DB_STR(rec.decision);
	p[5] = rejected ? DB_STR(reason) : DB_NULLP;
	p[6] = DB_INT((long long)as->teacher_id);
	p[7] = DB_INT((long long)q->user_id);
	p[8] = as->for_teacher_id != 0 ? DB_INT((long long)as->for_teacher_id)
				       : DB_NULLP;
	p[9] =
	    as->standin_id != 0 ? DB_INT((long long)as->standin_id) : DB_NULLP;
	p[10] = DB_STR(at);
	p[11] = DB_STR(q->key_id);
	p[12] = DB_STR(sig);
	if (db_exec(db,
		"INSERT INTO certifications (public_id, school_id, item_id, "
		"item_version, decision, reason, teacher_id, user_id, "
		"for_teacher_id, standin_id, decided_at, key_id, signature) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		p, 13, NULL, &cert_id) != 0)
		return -1;
	for (i = 0; i < l->nfiles; i++) {
		p[0] = DB_INT((long long)cert_id);
		p[1] = DB_STR(l->files[i].slot);
		p[2] = DB_STR(l->files[i].sha256);
		if (db_exec(db,
			"INSERT INTO certification_files (certification_id, "
			"slot, sha256) VALUES (?, ?, ?)",
			p, 3, NULL, NULL) != 0)
			return -1;
	}
	/* A rejected item is no longer eligible: its tick goes. */
	out->unticked = rejected && l->ticked;
	p[0] = DB_STR(rec.decision);
	p[1] = DB_STR(at);
	p[2] = DB_INT((long long)q->user_id);
	p[3] = rejected ? DB_STR(reason) : DB_NULLP;
	p[4] = DB_INT((long long)cert_id);
	p[5] = DB_INT(rejected);
	p[6] = DB_INT((long long)l->id);
	p[7] = DB_INT((long long)q->school_id);
	if (db_exec(db,
		"UPDATE items SET cert_state = ?, cert_at = ?, cert_by = ?, "
		"cert_reason = ?, cert_id = ?, cert_notice = 1, selected_at = "
		"IF(?, NULL, selected_at) WHERE id = ? AND school_id = ?",
		p, 8, NULL, NULL) != 0)
		return -1;
	buf_init(&d);
	certify_detail(&d, q, l, as, out);
	str_printf(target, sizeof(target), "item:%s", q->item);
	ev = *q->actor;
	ev.event = rejected ? "item.rejected" : "item.certified";
	ev.target = target;
	ev.outcome = "success";
	ev.detail = d.data;
	rc = audit_append_tx(db, &ev);
	buf_free(&d);
	return rc;
}

enum certify_outcome
certify_decide_tx(
    struct db *db, const struct certify_request *q, struct certify_done *out)
{
	const char *reason =
	    q->decision == CERTIFY_REJECTED && q->reason ? q->reason : "";
	struct certify_locked l;
	struct certify_as as;
	enum certify_outcome o;
	long chars;

	memset(out, 0, sizeof(*out));
	if (certify_reason_check(q->decision, reason, &chars) !=
	    CERTIFY_REASON_OK) {
		log_error("certify: a decision on %s came with a bad reason",
		    q->item);
		return CERTIFY_ERROR;
	}
	o = certify_checks(db, q, &l, &as, out);
	if (o != CERTIFY_DONE)
		return o;
	return certify_write(db, q, &l, &as, reason, out) == 0 ? CERTIFY_DONE
							       : CERTIFY_ERROR;
}
