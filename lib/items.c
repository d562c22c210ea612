/*
 * items: the model of the students' items. Reading joins each item with its
 * files and their objects' rows, since the state a student sees comes from
 * the objects' checks (the hash and scan jobs write them) before the
 * certification. Writing happens inside the caller's transaction: the
 * objects rows (INSERT IGNORE — an object is shared by every upload of the
 * same bytes), the item and file rows, and the jobs, so that nothing is
 * recorded without its jobs and no job exists without its rows. It never
 * deletes a row and never builds SQL from input.
 */
#include "items.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db.h"
#include "log.h"
#include "queue.h"
#include "util.h"

static const char *const items_kind_names[ITEM_KIND__MAX] = {
    "course", "diverse"};
static const char *const items_slot_names[ITEM_SLOT__MAX] = {"doc", "video"};
static const char *const items_cert_names[ITEM_CERT__MAX] = {
    "none", "pending", "certified", "rejected"};
static const char *const items_state_names[ITEM_ST__MAX] = {"quarantined",
    "checking", "pending", "certified", "rejected", "no_cert", "lost"};

/* Entry i of a names table of n, or "" past its end. */
static const char *
items_name_of(const char *const *names, size_t n, unsigned i)
{
	return i < n ? names[i] : "";
}

const char *
items_kind_name(enum item_kind k)
{
	return items_name_of(items_kind_names, ITEM_KIND__MAX, (unsigned)k);
}

const char *
items_slot_name(enum item_slot s)
{
	return items_name_of(items_slot_names, ITEM_SLOT__MAX, (unsigned)s);
}

const char *
items_cert_name(enum item_cert c)
{
	return items_name_of(items_cert_names, ITEM_CERT__MAX, (unsigned)c);
}

const char *
items_state_name(enum item_state s)
{
	return items_name_of(items_state_names, ITEM_ST__MAX, (unsigned)s);
}

static int
items_find_name(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s != NULL && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

int
items_kind_parse(const char *s)
{
	return items_find_name(items_kind_names, ITEM_KIND__MAX, s);
}

int
items_slot_parse(const char *s)
{
	return items_find_name(items_slot_names, ITEM_SLOT__MAX, s);
}

int
items_cert_parse(const char *s)
{
	return items_find_name(items_cert_names, ITEM_CERT__MAX, s);
}

enum item_check
items_check(const char *verified_at, const char *verify_result,
    const char *scan_result, const char *quarantined_at, const char *lost_at)
{
	if (quarantined_at != NULL ||
	    (scan_result != NULL && strcmp(scan_result, "infected") == 0))
		return ITEM_CHECK_QUARANTINED;
	/* The hash job found no good copy left (it records both). */
	if (lost_at != NULL ||
	    (verify_result != NULL &&
		(strcmp(verify_result, "mismatch") == 0 ||
		    strcmp(verify_result, "missing") == 0)))
		return ITEM_CHECK_LOST;
	if (verified_at == NULL || verify_result == NULL ||
	    (strcmp(verify_result, "ok") != 0 &&
		strcmp(verify_result, "repaired") != 0))
		return ITEM_CHECK_WAITING;
	if (scan_result == NULL || strcmp(scan_result, "clean") != 0)
		return ITEM_CHECK_WAITING;
	return ITEM_CHECK_CLEAN;
}

enum item_state
items_state(enum item_kind kind, enum item_cert cert,
    const enum item_check *checks, size_t n)
{
	size_t i;
	int waiting = 0, lost = 0;

	for (i = 0; i < n; i++) {
		if (checks[i] == ITEM_CHECK_QUARANTINED)
			return ITEM_ST_QUARANTINED;
		if (checks[i] == ITEM_CHECK_LOST)
			lost = 1;
		else if (checks[i] != ITEM_CHECK_CLEAN)
			waiting = 1;
	}
	if (lost)
		return ITEM_ST_LOST;
	/* An item without any current file has nothing checked yet. */
	if (waiting || n == 0)
		return ITEM_ST_CHECKING;
	if (kind == ITEM_DIVERSE)
		return ITEM_ST_NO_CERT;
	switch (cert) {
	case ITEM_CERT_CERTIFIED: return ITEM_ST_CERTIFIED;
	case ITEM_CERT_REJECTED: return ITEM_ST_REJECTED;
	case ITEM_CERT_NONE:
	case ITEM_CERT_PENDING:
	case ITEM_CERT__MAX:
	default: return ITEM_ST_PENDING;
	}
}

enum sniff_type
items_name_type(const char *name)
{
	static const struct {
		const char *ext;
		enum sniff_type t;
	} exts[] = {
	    {"pdf", SNIFF_PDF},
	    {"jpg", SNIFF_JPEG},
	    {"jpeg", SNIFF_JPEG},
	    {"jpe", SNIFF_JPEG},
	    {"png", SNIFF_PNG},
	    {"mp4", SNIFF_MP4},
	    {"m4v", SNIFF_MP4},
	    {"m4a", SNIFF_MP4},
	    {"mp3", SNIFF_MP3},
	};
	const char *dot = strrchr(name, '.');
	size_t i;

	if (dot == NULL || dot == name || strpbrk(dot, "/\\") != NULL)
		return SNIFF_UNKNOWN;
	for (i = 0; i < ARRAY_SIZE(exts); i++)
		if (strcasecmp(dot + 1, exts[i].ext) == 0)
			return exts[i].t;
	return SNIFF_UNKNOWN;
}

void
items_term_label(long year, long semester, char out[ITEMS_TERM_LEN + 1])
{
	str_printf(out, ITEMS_TERM_LEN + 1, "%ld-%ld", year, semester);
}

/* ------------------------------------------------------------- reading */

/* A time column in Taiwan time (the database keeps UTC). */
#define ITEMS_TIME(col)                                                        \
	"COALESCE(DATE_FORMAT(" col " + INTERVAL 8 HOUR, '%Y-%m-%d %H:%i'), "  \
	"'')"

/* An item with one of its files (NULLs when it has none) and the file's
 * object; the columns of enum items_col. */
// clang-format off
#define ITEMS_SELECT                                                           \
	"SELECT i.id, i.public_id, i.school_id, i.student_id, i.term_id, "     \
	"t.year, t.semester, i.kind, COALESCE(i.course_id, 0), "               \
	"COALESCE(c.public_id, ''), COALESCE(c.code, ''), "                    \
	"COALESCE(c.name, ''), COALESCE(i.category, ''), i.description, "      \
	"i.cert_state, " ITEMS_TIME("i.cert_at") ", "                          \
	"COALESCE(i.cert_reason, ''), i.submitted_at IS NOT NULL, "            \
	"i.version, " ITEMS_TIME("i.created_at") ", "                          \
	ITEMS_TIME("i.updated_at") ", i.deleted_at IS NOT NULL, "              \
	"f.public_id, f.slot, f.version, f.sha256, f.size, f.mime, "           \
	"f.original_name, " ITEMS_TIME("f.uploaded_at") ", "                   \
	ITEMS_TIME("f.replaced_at") ", "                                       \
	"o.verified_at, o.verify_result, o.scan_result, o.quarantined_at, "    \
	"o.lost_at "                                                           \
	"FROM items i JOIN terms t ON t.id = i.term_id AND "                   \
	"t.school_id = i.school_id LEFT JOIN courses c ON c.id = "             \
	"i.course_id AND c.school_id = i.school_id "
// clang-format on

enum items_col {
	IC_ID,
	IC_PUBLIC,
	IC_SCHOOL,
	IC_STUDENT,
	IC_TERM,
	IC_YEAR,
	IC_SEMESTER,
	IC_KIND,
	IC_COURSE,
	IC_COURSE_PUBLIC,
	IC_COURSE_CODE,
	IC_COURSE_NAME,
	IC_CATEGORY,
	IC_DESCRIPTION,
	IC_CERT,
	IC_CERT_AT,
	IC_REASON,
	IC_SUBMITTED,
	IC_VERSION,
	IC_CREATED,
	IC_UPDATED,
	IC_DELETED,
	IF_PUBLIC,
	IF_SLOT,
	IF_VERSION,
	IF_SHA256,
	IF_SIZE,
	IF_MIME,
	IF_NAME,
	IF_AT,
	IF_REPLACED,
	IO_VERIFIED,
	IO_VERIFY_RESULT,
	IO_SCAN,
	IO_QUARANTINED,
	IO_LOST,
	I__COLS
};

static const char items_list_sql[] = ITEMS_SELECT
    "LEFT JOIN item_files f ON f.item_id = i.id AND f.school_id = "
    "i.school_id AND f.replaced_at IS NULL LEFT JOIN objects o ON "
    "o.sha256 = f.sha256 WHERE i.school_id = ? AND i.student_id = ? AND "
    "i.deleted_at IS NULL ORDER BY t.year DESC, t.semester DESC, i.kind, "
    "i.created_at DESC, i.id DESC, f.slot, f.version DESC";

static const char items_find_sql[] =
    ITEMS_SELECT "LEFT JOIN item_files f ON f.item_id = i.id AND f.school_id = "
		 "i.school_id LEFT JOIN objects o ON o.sha256 = f.sha256 WHERE "
		 "i.public_id = ? ORDER BY f.replaced_at IS NOT NULL, f.slot, "
		 "f.version DESC";

/* A fixed-size text column into out; a value that does not fit (it cannot,
 * by the schema) is logged and cut. */
static void
items_copy(
    char *out, size_t outlen, const struct db_res *res, size_t row, size_t col)
{
	const char *v = db_res_get(res, row, col);

	if (str_copy(out, outlen, v != NULL ? v : "") != 0)
		log_error(
		    "items: column %zu does not fit in %zu bytes", col, outlen);
}

static char *
items_dup(const struct db_res *res, size_t row, size_t col)
{
	const char *v = db_res_get(res, row, col);

	return xstrdup(v != NULL ? v : "");
}

/* The item's columns of row into it (no files yet). */
static void
items_from_row(const struct db_res *res, size_t row, struct item *it)
{
	int v;

	memset(it, 0, sizeof(*it));
	it->id = (uint64_t)db_res_int(res, row, IC_ID);
	items_copy(it->public_id, sizeof(it->public_id), res, row, IC_PUBLIC);
	it->school_id = (uint64_t)db_res_int(res, row, IC_SCHOOL);
	it->student_id = (uint64_t)db_res_int(res, row, IC_STUDENT);
	it->term_id = (uint64_t)db_res_int(res, row, IC_TERM);
	items_term_label((long)db_res_int(res, row, IC_YEAR),
	    (long)db_res_int(res, row, IC_SEMESTER), it->term);
	v = items_kind_parse(db_res_get(res, row, IC_KIND));
	it->kind = v >= 0 ? (enum item_kind)v : ITEM_COURSE;
	it->course_id = (uint64_t)db_res_int(res, row, IC_COURSE);
	items_copy(it->course_public_id, sizeof(it->course_public_id), res, row,
	    IC_COURSE_PUBLIC);
	it->course_code = items_dup(res, row, IC_COURSE_CODE);
	it->course_name = items_dup(res, row, IC_COURSE_NAME);
	it->category = items_dup(res, row, IC_CATEGORY);
	it->description = items_dup(res, row, IC_DESCRIPTION);
	v = items_cert_parse(db_res_get(res, row, IC_CERT));
	it->cert = v >= 0 ? (enum item_cert)v : ITEM_CERT_PENDING;
	items_copy(it->cert_at, sizeof(it->cert_at), res, row, IC_CERT_AT);
	it->cert_reason = items_dup(res, row, IC_REASON);
	it->submitted = db_res_int(res, row, IC_SUBMITTED) != 0;
	it->version = (unsigned)db_res_int(res, row, IC_VERSION);
	items_copy(
	    it->created_at, sizeof(it->created_at), res, row, IC_CREATED);
	items_copy(
	    it->updated_at, sizeof(it->updated_at), res, row, IC_UPDATED);
}

/* The file of row, if the row has one, appended to it->files. */
static void
items_file_from_row(const struct db_res *res, size_t row, struct item *it)
{
	struct item_file *f;
	int v;

	if (db_res_get(res, row, IF_PUBLIC) == NULL)
		return;
	it->files = xrealloc(it->files, (it->nfiles + 1) * sizeof(*f));
	f = &it->files[it->nfiles++];
	memset(f, 0, sizeof(*f));
	items_copy(f->public_id, sizeof(f->public_id), res, row, IF_PUBLIC);
	v = items_slot_parse(db_res_get(res, row, IF_SLOT));
	f->slot = v >= 0 ? (enum item_slot)v : ITEM_DOC;
	f->version = (unsigned)db_res_int(res, row, IF_VERSION);
	items_copy(f->sha256, sizeof(f->sha256), res, row, IF_SHA256);
	f->size = (unsigned long long)db_res_int(res, row, IF_SIZE);
	f->type = sniff_from_mime(db_res_get(res, row, IF_MIME));
	f->name = items_dup(res, row, IF_NAME);
	items_copy(f->uploaded_at, sizeof(f->uploaded_at), res, row, IF_AT);
	items_copy(
	    f->replaced_at, sizeof(f->replaced_at), res, row, IF_REPLACED);
	f->check = items_check(db_res_get(res, row, IO_VERIFIED),
	    db_res_get(res, row, IO_VERIFY_RESULT),
	    db_res_get(res, row, IO_SCAN), db_res_get(res, row, IO_QUARANTINED),
	    db_res_get(res, row, IO_LOST));
}

/* The state of it from its current files. */
static void
items_set_state(struct item *it)
{
	enum item_check checks[ITEM_SLOT__MAX];
	size_t i, n = 0;

	for (i = 0; i < it->nfiles && n < ITEM_SLOT__MAX; i++)
		if (it->files[i].replaced_at[0] == '\0')
			checks[n++] = it->files[i].check;
	it->state = items_state(it->kind, it->cert, checks, n);
}

void
items_free(struct item *it)
{
	size_t i;

	if (it == NULL)
		return;
	for (i = 0; i < it->nfiles; i++)
		free(it->files[i].name);
	free(it->files);
	free(it->course_code);
	free(it->course_name);
	free(it->category);
	free(it->description);
	free(it->cert_reason);
	memset(it, 0, sizeof(*it));
}

int
items_student(
    struct db *db, uint64_t school_id, uint64_t user_id, uint64_t *student_id)
{
	struct db_param p[2] = {
	    DB_INT((long long)user_id), DB_INT((long long)school_id)};
	struct db_res *res;
	int found;

	*student_id = 0;
	res = db_query(db,
	    "SELECT id FROM students WHERE user_id = ? AND school_id = ?", p,
	    2);
	if (res == NULL)
		return -1;
	found = db_res_rows(res) > 0;
	if (found)
		*student_id = (uint64_t)db_res_int(res, 0, 0);
	db_res_free(res);
	return found;
}

int
items_list(struct db *db, uint64_t school_id, uint64_t student_id,
    struct item_list *out)
{
	struct db_param p[2] = {
	    DB_INT((long long)school_id), DB_INT((long long)student_id)};
	struct db_res *res;
	struct item *cur = NULL;
	size_t i;

	memset(out, 0, sizeof(*out));
	if ((res = db_query(db, items_list_sql, p, 2)) == NULL)
		return -1;
	for (i = 0; i < db_res_rows(res); i++) {
		if (cur == NULL ||
		    cur->id != (uint64_t)db_res_int(res, i, IC_ID)) {
			out->v =
			    xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
			cur = &out->v[out->n++];
			items_from_row(res, i, cur);
		}
		items_file_from_row(res, i, cur);
	}
	db_res_free(res);
	for (i = 0; i < out->n; i++)
		items_set_state(&out->v[i]);
	return 0;
}

void
items_list_free(struct item_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		items_free(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* items_find for the student, or for any student of the school when
 * any_student is set. */
static enum items_found
items_find_one(struct db *db, uint64_t school_id, int any_student,
    uint64_t student_id, const char *public_id, struct item *it)
{
	struct db_param p[1];
	struct db_res *res;
	enum items_found found = ITEMS_FOUND;
	size_t i;

	memset(it, 0, sizeof(*it));
	if (!ids_public_valid(public_id))
		return ITEMS_UNKNOWN;
	p[0] = DB_STR(public_id);
	if ((res = db_query(db, items_find_sql, p, 1)) == NULL)
		return ITEMS_FIND_ERROR;
	if (db_res_rows(res) == 0)
		found = ITEMS_UNKNOWN;
	else if ((uint64_t)db_res_int(res, 0, IC_SCHOOL) != school_id)
		found = ITEMS_OTHER_SCHOOL;
	else if (!any_student &&
	    (uint64_t)db_res_int(res, 0, IC_STUDENT) != student_id)
		found = ITEMS_OTHER_STUDENT;
	else if (db_res_int(res, 0, IC_DELETED) != 0)
		found = ITEMS_DELETED;
	if (found != ITEMS_FOUND) {
		db_res_free(res);
		return found;
	}
	items_from_row(res, 0, it);
	for (i = 0; i < db_res_rows(res); i++)
		items_file_from_row(res, i, it);
	db_res_free(res);
	items_set_state(it);
	return ITEMS_FOUND;
}

enum items_found
items_find(struct db *db, uint64_t school_id, uint64_t student_id,
    const char *public_id, struct item *it)
{
	return items_find_one(db, school_id, 0, student_id, public_id, it);
}

enum items_found
items_find_in_school(
    struct db *db, uint64_t school_id, const char *public_id, struct item *it)
{
	return items_find_one(db, school_id, 1, 0, public_id, it);
}

/* ------------------------------------------------------ courses, terms */

int
items_courses(struct db *db, uint64_t school_id, uint64_t student_id,
    struct items_course **v, size_t *n)
{
	struct db_param p[2] = {
	    DB_INT((long long)student_id), DB_INT((long long)school_id)};
	struct db_res *res;
	size_t i;

	*v = NULL;
	*n = 0;
	res = db_query(db,
	    "SELECT c.id, c.term_id, c.public_id, t.year, t.semester, c.code, "
	    "c.name FROM enrolments e JOIN courses c ON c.id = e.course_id AND "
	    "c.school_id = e.school_id JOIN terms t ON t.id = c.term_id AND "
	    "t.school_id = c.school_id WHERE e.student_id = ? AND "
	    "e.school_id = ? ORDER BY t.year DESC, t.semester DESC, c.code",
	    p, 2);
	if (res == NULL)
		return -1;
	if (db_res_rows(res) > 0)
		*v = xcalloc(db_res_rows(res), sizeof(**v));
	for (i = 0; i < db_res_rows(res); i++) {
		struct items_course *c = &(*v)[i];

		c->id = (uint64_t)db_res_int(res, i, 0);
		c->term_id = (uint64_t)db_res_int(res, i, 1);
		items_copy(c->public_id, sizeof(c->public_id), res, i, 2);
		items_term_label((long)db_res_int(res, i, 3),
		    (long)db_res_int(res, i, 4), c->term);
		c->code = items_dup(res, i, 5);
		c->name = items_dup(res, i, 6);
	}
	*n = db_res_rows(res);
	db_res_free(res);
	return 0;
}

void
items_courses_free(struct items_course *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++) {
		free(v[i].code);
		free(v[i].name);
	}
	free(v);
}

int
items_enrolled(struct db *db, uint64_t school_id, uint64_t student_id,
    const char *course_public_id, uint64_t *course_id, uint64_t *term_id)
{
	struct db_param p[3] = {DB_STR(course_public_id),
	    DB_INT((long long)student_id), DB_INT((long long)school_id)};
	struct db_res *res;
	int found;

	*course_id = *term_id = 0;
	res = db_query(db,
	    "SELECT c.id, c.term_id FROM enrolments e JOIN courses c ON c.id = "
	    "e.course_id AND c.school_id = e.school_id WHERE c.public_id = ? "
	    "AND e.student_id = ? AND e.school_id = ?",
	    p, 3);
	if (res == NULL)
		return -1;
	found = db_res_rows(res) > 0;
	if (found) {
		*course_id = (uint64_t)db_res_int(res, 0, 0);
		*term_id = (uint64_t)db_res_int(res, 0, 1);
	}
	db_res_free(res);
	return found;
}

/* The school's terms, newest first, each marked when the student
 * (0: nobody) has an enrolment or an item in it. */
static struct db_res *
items_school_terms(struct db *db, uint64_t school_id, uint64_t student_id)
{
	struct db_param p[5] = {DB_INT((long long)student_id),
	    DB_INT((long long)school_id), DB_INT((long long)student_id),
	    DB_INT((long long)school_id), DB_INT((long long)school_id)};

	return db_query(db,
	    "SELECT t.id, t.year, t.semester, EXISTS (SELECT 1 FROM "
	    "enrolments e JOIN courses c ON c.id = e.course_id AND c.school_id "
	    "= e.school_id WHERE c.term_id = t.id AND e.student_id = ? AND "
	    "e.school_id = ?) OR EXISTS (SELECT 1 FROM items i WHERE "
	    "i.term_id = t.id AND i.student_id = ? AND i.school_id = ? AND "
	    "i.deleted_at IS NULL) FROM terms t WHERE t.school_id = ? ORDER BY "
	    "t.year DESC, t.semester DESC",
	    p, 5);
}

/* Row i of items_school_terms with its window into t: 1, or -1. */
static int
items_term_row(struct db *db, uint64_t school_id, int window_days,
    const struct db_res *res, size_t i, struct items_term *t)
{
	memset(t, 0, sizeof(*t));
	t->id = (uint64_t)db_res_int(res, i, 0);
	items_term_label(
	    (long)db_res_int(res, i, 1), (long)db_res_int(res, i, 2), t->label);
	return windows_get(db, school_id, t->id, window_days, &t->w) == 1 ? 1
									  : -1;
}

int
items_terms(struct db *db, uint64_t school_id, uint64_t student_id,
    int window_days, struct items_term **v, size_t *n)
{
	struct db_res *res;
	struct items_term t;
	size_t i;
	int rc = 0;

	*v = NULL;
	*n = 0;
	if ((res = items_school_terms(db, school_id, student_id)) == NULL)
		return -1;
	for (i = 0; i < db_res_rows(res); i++) {
		if (items_term_row(db, school_id, window_days, res, i, &t) <
		    0) {
			rc = -1;
			break;
		}
		if (db_res_int(res, i, 3) == 0 && t.w.state != WINDOW_OPEN)
			continue;
		*v = xrealloc(*v, (*n + 1) * sizeof(**v));
		(*v)[(*n)++] = t;
	}
	db_res_free(res);
	if (rc != 0) {
		free(*v);
		*v = NULL;
		*n = 0;
	}
	return rc;
}

int
items_open_term(
    struct db *db, uint64_t school_id, int window_days, struct items_term *t)
{
	struct db_res *res;
	size_t i;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	if ((res = items_school_terms(db, school_id, 0)) == NULL)
		return -1;
	for (i = 0; i < db_res_rows(res) && rc == 0; i++) {
		if (items_term_row(db, school_id, window_days, res, i, t) < 0)
			rc = -1;
		else if (t->w.state == WINDOW_OPEN)
			rc = 1;
	}
	db_res_free(res);
	return rc;
}

int
items_term_window(struct db *db, uint64_t school_id, uint64_t term_id,
    int window_days, struct items_term *t)
{
	struct db_param p[2] = {
	    DB_INT((long long)term_id), DB_INT((long long)school_id)};
	struct db_res *res;
	int rc;

	memset(t, 0, sizeof(*t));
	res = db_query(db,
	    "SELECT year, semester FROM terms WHERE id = ? AND school_id = ?",
	    p, 2);
	if (res == NULL)
		return -1;
	if (db_res_rows(res) == 0) {
		db_res_free(res);
		return 0;
	}
	t->id = term_id;
	items_term_label(
	    (long)db_res_int(res, 0, 0), (long)db_res_int(res, 0, 1), t->label);
	db_res_free(res);
	rc = windows_get(db, school_id, term_id, window_days, &t->w);
	return rc;
}

/* ------------------------------------------------------------- writing */

/* The object row of f (kept as it is when it exists: same bytes, same
 * size) and f's row in the item at version, with its hash and scan jobs.
 * 0/-1. */
static int
items_add_file_tx(struct db *db, uint64_t school_id, uint64_t item_id,
    unsigned version, uint64_t user_id, const struct item_upload *f,
    struct item_jobs *jobs)
{
	static const char *const types[2] = {"hash", "scan"};
	char id[IDS_PUBLIC_LEN + 1], payload[96];
	const char *mime = sniff_mime(f->type);
	struct db_param o[3] = {
	    DB_STR(f->sha256), DB_INT((long long)f->size), DB_STR(mime)};
	struct db_param p[10];
	size_t k;

	if (ids_public(id) != 0)
		return -1;
	if (db_exec(db,
		"INSERT IGNORE INTO objects (sha256, size, mime) VALUES "
		"(?, ?, ?)",
		o, 3, NULL, NULL) != 0)
		return -1;
	p[0] = DB_STR(id);
	p[1] = DB_INT((long long)school_id);
	p[2] = DB_INT((long long)item_id);
	p[3] = DB_STR(items_slot_name(f->slot));
	p[4] = DB_INT((long long)version);
	p[5] = DB_STR(f->sha256);
	p[6] = DB_INT((long long)f->size);
	p[7] = DB_STR(mime);
	p[8] = DB_STR(f->name);
	p[9] = DB_INT((long long)user_id);
	if (db_exec(db,
		"INSERT INTO item_files (public_id, school_id, item_id, slot, "
		"version, sha256, size, mime, original_name, uploaded_by) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		p, 10, NULL, NULL) != 0)
		return -1;
	str_printf(payload, sizeof(payload), "{\"sha256\":\"%s\"}", f->sha256);
	for (k = 0; k < ARRAY_SIZE(types); k++) {
		if (jobs->n >= ARRAY_SIZE(jobs->id)) {
			log_error("items: more than %zu jobs in one change",
			    ARRAY_SIZE(jobs->id));
			return -1;
		}
		if (queue_enqueue_tx(
			db, types[k], payload, &jobs->id[jobs->n]) != 0)
			return -1;
		jobs->type[jobs->n++] = types[k];
	}
	return 0;
}

int
items_create_tx(struct db *db, uint64_t school_id, uint64_t student_id,
    uint64_t user_id, const struct item_new *n, const struct item_upload *files,
    size_t nfiles, char public_id[IDS_PUBLIC_LEN + 1], struct item_jobs *jobs)
{
	int course = n->kind == ITEM_COURSE;
	struct db_param p[9];
	unsigned long long item_id = 0;
	size_t i;

	memset(jobs, 0, sizeof(*jobs));
	if (ids_public(public_id) != 0)
		return -1;
	p[0] = DB_STR(public_id);
	p[1] = DB_INT((long long)school_id);
	p[2] = DB_INT((long long)student_id);
	p[3] = DB_INT((long long)n->term_id);
	p[4] = DB_STR(items_kind_name(n->kind));
	p[5] = course ? DB_INT((long long)n->course_id) : DB_NULLP;
	p[6] = course ? DB_NULLP : DB_STR(n->category);
	p[7] = DB_STR(n->description);
	p[8] = DB_STR(
	    items_cert_name(course ? ITEM_CERT_PENDING : ITEM_CERT_NONE));
	if (db_exec(db,
		"INSERT INTO items (public_id, school_id, student_id, term_id, "
		"kind, course_id, category, description, cert_state) VALUES "
		"(?, ?, ?, ?, ?, ?, ?, ?, ?)",
		p, 9, NULL, &item_id) != 0)
		return -1;
	for (i = 0; i < nfiles; i++)
		if (items_add_file_tx(db, school_id, (uint64_t)item_id, 1,
			user_id, &files[i], jobs) != 0)
			return -1;
	return 0;
}

/* The item's row as items_lock found it. */
struct items_locked {
	enum item_cert cert;
	unsigned version;
	uint64_t cert_id; /* the current decision, 0 when none */
	int ticked; /* selected_at is set */
};

/* Locks the item's row and tells whether it may change: ITEMS_CHANGED
 * with its cert_state, version, current decision and tick, or why not. */
static enum items_change
items_lock(
    struct db *db, const struct item *it, int confirmed, struct items_locked *l)
{
	struct db_param p[3] = {DB_INT((long long)it->id),
	    DB_INT((long long)it->school_id),
	    DB_INT((long long)it->student_id)};
	struct db_res *res;
	enum items_change rc = ITEMS_CHANGED;
	int v;

	memset(l, 0, sizeof(*l));
	l->cert = ITEM_CERT_NONE;
	res = db_query(db,
	    "SELECT cert_state, submitted_at IS NOT NULL, deleted_at IS NOT "
	    "NULL, version, COALESCE(cert_id, 0), selected_at IS NOT NULL "
	    "FROM items WHERE id = ? AND school_id = ? AND student_id = ? FOR "
	    "UPDATE",
	    p, 3);
	if (res == NULL)
		return ITEMS_CHANGE_ERROR;
	if (db_res_rows(res) == 0 || db_res_int(res, 0, 2) != 0) {
		db_res_free(res);
		return ITEMS_GONE;
	}
	v = items_cert_parse(db_res_get(res, 0, 0));
	l->cert = v >= 0 ? (enum item_cert)v : ITEM_CERT_PENDING;
	l->version = (unsigned)db_res_int(res, 0, 3);
	l->cert_id = (uint64_t)db_res_int(res, 0, 4);
	l->ticked = db_res_int(res, 0, 5) != 0;
	if (db_res_int(res, 0, 1) != 0)
		rc = ITEMS_SUBMITTED;
	else if (l->cert == ITEM_CERT_CERTIFIED && !confirmed)
		rc = ITEMS_NEEDS_CONFIRM;
	db_res_free(res);
	return rc;
}

/* Marks the item's current decision (cert_id) as superseded now: the
 * decision stays as history, and no longer stands. 0/-1. */
static int
items_supersede_tx(struct db *db, const struct item *it, uint64_t cert_id)
{
	struct db_param p[3] = {DB_INT((long long)cert_id),
	    DB_INT((long long)it->id), DB_INT((long long)it->school_id)};

	if (cert_id == 0)
		return 0;
	return db_exec(db,
	    "UPDATE certifications SET superseded_at = UTC_TIMESTAMP(6) "
	    "WHERE id = ? AND item_id = ? AND school_id = ? AND "
	    "superseded_at IS NULL",
	    p, 3, NULL, NULL);
}

enum items_change
items_change_tx(struct db *db, const struct item *it, uint64_t user_id,
    const char *description, const struct item_upload *files, size_t nfiles,
    int confirmed, enum item_cert *cert_was, int *unticked,
    struct item_jobs *jobs)
{
	struct items_locked l;
	enum items_change rc;
	unsigned version;
	struct db_param p[11];
	int drop;
	size_t i;

	memset(jobs, 0, sizeof(*jobs));
	*unticked = 0;
	rc = items_lock(db, it, confirmed, &l);
	*cert_was = l.cert;
	if (rc != ITEMS_CHANGED)
		return rc;
	version = l.version + 1;
	for (i = 0; i < nfiles; i++) {
		struct db_param q[3] = {DB_INT((long long)it->id),
		    DB_INT((long long)it->school_id),
		    DB_STR(items_slot_name(files[i].slot))};

		if (db_exec(db,
			"UPDATE item_files SET replaced_at = UTC_TIMESTAMP(6) "
			"WHERE item_id = ? AND school_id = ? AND slot = ? AND "
			"replaced_at IS NULL",
			q, 3, NULL, NULL) != 0 ||
		    items_add_file_tx(db, it->school_id, it->id, version,
			user_id, &files[i], jobs) != 0)
			return ITEMS_CHANGE_ERROR;
	}
	/* A change undoes the teacher's decision: the item is looked at
	 * again. The decision stays as history (superseded), the student's
	 * unread result goes, and a tick goes too, since the item is no
	 * longer eligible. */
	drop = l.cert == ITEM_CERT_CERTIFIED || l.cert == ITEM_CERT_REJECTED;
	if (drop && items_supersede_tx(db, it, l.cert_id) != 0)
		return ITEMS_CHANGE_ERROR;
	p[0] = DB_INT((long long)version);
	p[1] = description != NULL ? DB_STR(description) : DB_NULLP;
	p[2] = DB_STR(items_cert_name(drop ? ITEM_CERT_PENDING : l.cert));
	for (i = 3; i < 9; i++)
		p[i] = DB_INT(drop);
	p[9] = DB_INT((long long)it->id);
	p[10] = DB_INT((long long)it->school_id);
	if (db_exec(db,
		"UPDATE items SET version = ?, description = COALESCE(?, "
		"description), cert_state = ?, cert_at = IF(?, NULL, cert_at), "
		"cert_by = IF(?, NULL, cert_by), cert_reason = IF(?, NULL, "
		"cert_reason), cert_id = IF(?, NULL, cert_id), cert_notice = "
		"IF(?, 0, cert_notice), selected_at = IF(?, NULL, "
		"selected_at), "
		"updated_at = UTC_TIMESTAMP(6) WHERE id = ? AND school_id = ?",
		p, 11, NULL, NULL) != 0)
		return ITEMS_CHANGE_ERROR;
	*unticked = drop && l.ticked;
	return ITEMS_CHANGED;
}

enum items_change
items_delete_tx(struct db *db, const struct item *it, int confirmed,
    enum item_cert *cert_was, int *unticked)
{
	struct items_locked l;
	enum items_change rc;
	struct db_param p[7];
	int drop;
	size_t i;

	*unticked = 0;
	rc = items_lock(db, it, confirmed, &l);
	*cert_was = l.cert;
	if (rc != ITEMS_CHANGED)
		return rc;
	/* A certification does not outlive its item (a rejection stays on
	 * record); a deleted item is never submitted, so its tick goes. */
	drop = l.cert == ITEM_CERT_CERTIFIED;
	if (drop && items_supersede_tx(db, it, l.cert_id) != 0)
		return ITEMS_CHANGE_ERROR;
	for (i = 0; i < 5; i++)
		p[i] = DB_INT(drop);
	p[5] = DB_INT((long long)it->id);
	p[6] = DB_INT((long long)it->school_id);
	if (db_exec(db,
		"UPDATE items SET deleted_at = UTC_TIMESTAMP(6), updated_at = "
		"UTC_TIMESTAMP(6), cert_state = IF(?, 'pending', cert_state), "
		"cert_at = IF(?, NULL, cert_at), cert_by = IF(?, NULL, "
		"cert_by), cert_reason = IF(?, NULL, cert_reason), cert_id = "
		"IF(?, NULL, cert_id), cert_notice = 0, selected_at = NULL "
		"WHERE id = ? AND school_id = ?",
		p, 7, NULL, NULL) != 0)
		return ITEMS_CHANGE_ERROR;
	*unticked = l.ticked;
	return ITEMS_CHANGED;
}

void
items_publish(struct kv *kv, struct db *db, const struct item_jobs *jobs)
{
	/* A job Redis does not take stays pending: the reconciler
	 * publishes it (queue_publish_jobs logs it). */
	(void)queue_publish_jobs(kv, db, jobs->type, jobs->id, jobs->n);
}
