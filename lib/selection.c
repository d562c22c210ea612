/*
 * selection: the students' ticks (勾選). Eligibility is read from the state
 * lib/items computes from the current files' objects and the
 * certification, so that what the page shows and what the server enforces
 * are one rule. A tick runs in the caller's transaction under the lock of
 * the student's row, taken before anything is read: every tick of one
 * student then counts what the previous one committed. It never writes a
 * column but items.selected_at (and cert_notice when results were seen),
 * and never builds SQL from input.
 */
#include "selection.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "util.h"
#include "validate.h"

static const char *const selection_why_names[SEL_WHY__MAX] = {
    "eligible", "checking", "pending", "rejected", "quarantined", "lost"};

const char *
selection_why_name(enum selection_why w)
{
	return (unsigned)w < SEL_WHY__MAX ? selection_why_names[w] : "";
}

enum selection_why
selection_eligible(enum item_state st)
{
	switch (st) {
	case ITEM_ST_CERTIFIED:
	case ITEM_ST_NO_CERT: return SEL_ELIGIBLE;
	case ITEM_ST_QUARANTINED: return SEL_WHY_QUARANTINED;
	case ITEM_ST_LOST: return SEL_WHY_LOST;
	case ITEM_ST_PENDING: return SEL_WHY_PENDING;
	case ITEM_ST_REJECTED: return SEL_WHY_REJECTED;
	case ITEM_ST_CHECKING:
	case ITEM_ST__MAX:
	default: return SEL_WHY_CHECKING;
	}
}

int
selection_school_year(const char *date)
{
	int y, m, d, n = 0;

	if (date == NULL || strlen(date) != WINDOW_DATE_LEN ||
	    sscanf(date, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 ||
	    n != WINDOW_DATE_LEN || !validate_ymd(y, m, d))
		return -1;
	/* ROC year Y runs from August of Y + 1911 to July of Y + 1912. */
	return m >= 8 ? y - 1911 : y - 1912;
}

int
selection_pick_year(const int *years, size_t n, int current)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (years[i] <= current)
			return years[i];
	return years[n - 1];
}

/* ------------------------------------------------------------- reading */

/* The student's items that are not deleted: the school year of each, the
 * tick, the unread result and its time. */
static const char selection_marks_sql[] =
    "SELECT i.id, t.year, i.selected_at IS NOT NULL, i.cert_notice, "
    "COALESCE(i.cert_at, '') FROM items i JOIN terms t ON t.id = "
    "i.term_id AND t.school_id = i.school_id WHERE i.school_id = ? AND "
    "i.student_id = ? AND i.deleted_at IS NULL";

/* Adds year to s->years (kept newest first) unless it is there. */
static struct selection_year *
selection_add_year(struct selection *s, int year)
{
	size_t i;

	for (i = 0; i < s->nyears && s->years[i].year > year; i++)
		;
	if (i < s->nyears && s->years[i].year == year)
		return &s->years[i];
	s->years = xrealloc(s->years, (s->nyears + 1) * sizeof(*s->years));
	memmove(&s->years[i + 1], &s->years[i],
	    (s->nyears - i) * sizeof(*s->years));
	s->nyears++;
	memset(&s->years[i], 0, sizeof(s->years[i]));
	s->years[i].year = year;
	return &s->years[i];
}

/* The mark of item it from the rows of selection_marks_sql; year 0 when
 * the item is not among them (deleted since it was listed). */
static void
selection_mark_from(
    const struct db_res *res, const struct item *it, struct selection_mark *m)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	m->item_id = it->id;
	m->kind = it->kind;
	m->why = selection_eligible(it->state);
	for (i = 0; i < db_res_rows(res); i++) {
		if ((uint64_t)db_res_int(res, i, 0) != it->id)
			continue;
		m->year = (int)db_res_int(res, i, 1);
		m->ticked = db_res_int(res, i, 2) != 0;
		m->notice = db_res_int(res, i, 3) != 0;
		if (str_copy(m->cert_at, sizeof(m->cert_at),
			db_res_get(res, i, 4)) != 0)
			m->notice = 0; /* cannot be cleared exactly: kept */
		return;
	}
}

int
selection_load(struct db *db, uint64_t school_id, uint64_t student_id,
    const struct item_list *l, const struct selection_rules *rules,
    struct selection *out)
{
	struct db_param p[2] = {
	    DB_INT((long long)school_id), DB_INT((long long)student_id)};
	struct selection_year *y;
	struct db_res *res;
	size_t i;
	int k;

	memset(out, 0, sizeof(*out));
	if ((res = db_query(db, selection_marks_sql, p, 2)) == NULL)
		return -1;
	if (l->n > 0)
		out->marks = xcalloc(l->n, sizeof(*out->marks));
	for (i = 0; i < l->n; i++) {
		selection_mark_from(res, &l->v[i], &out->marks[i]);
		out->nmarks++;
		if (out->marks[i].year <= 0)
			continue;
		y = selection_add_year(out, out->marks[i].year);
		if (out->marks[i].ticked)
			y->ticked[out->marks[i].kind]++;
	}
	db_res_free(res);
	for (i = 0; i < out->nyears; i++) {
		y = &out->years[i];
		for (k = 0; k < ITEM_KIND__MAX; k++)
			y->max[k] = rules->max[k];
		if (deadlines_selection(db, school_id, y->year,
			rules->deadline_md, &y->deadline) != 1) {
			selection_free(out);
			return -1;
		}
	}
	return 0;
}

void
selection_free(struct selection *s)
{
	if (s == NULL)
		return;
	free(s->years);
	free(s->marks);
	memset(s, 0, sizeof(*s));
}

const struct selection_mark *
selection_mark_of(const struct selection *s, uint64_t item_id)
{
	size_t i;

	for (i = 0; i < s->nmarks; i++)
		if (s->marks[i].item_id == item_id)
			return &s->marks[i];
	return NULL;
}

const struct selection_year *
selection_year_of(const struct selection *s, int year)
{
	size_t i;

	for (i = 0; i < s->nyears; i++)
		if (s->years[i].year == year)
			return &s->years[i];
	return NULL;
}

int
selection_notices_seen(struct db *db, uint64_t school_id, uint64_t student_id,
    const struct selection *s)
{
	struct db_param p[4];
	size_t i, n = 0;

	for (i = 0; i < s->nmarks; i++)
		n += s->marks[i].notice != 0;
	if (n == 0)
		return 0;
	if (db_begin(db) != 0)
		return -1;
	for (i = 0; i < s->nmarks; i++) {
		if (!s->marks[i].notice)
			continue;
		p[0] = DB_INT((long long)s->marks[i].item_id);
		p[1] = DB_INT((long long)school_id);
		p[2] = DB_INT((long long)student_id);
		p[3] = s->marks[i].cert_at[0] != '\0'
		    ? DB_STR(s->marks[i].cert_at)
		    : DB_NULLP;
		if (db_exec(db,
			"UPDATE items SET cert_notice = 0 WHERE id = ? AND "
			"school_id = ? AND student_id = ? AND cert_notice = 1 "
			"AND cert_at <=> ?",
			p, 4, NULL, NULL) != 0) {
			(void)db_rollback(db);
			return -1;
		}
	}
	if (db_commit(db) != 0) {
		(void)db_rollback(db);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------- writing */

void
selection_outcome_free(struct selection_outcome *o)
{
	if (o == NULL)
		return;
	free(o->title);
	o->title = NULL;
}

/* Locks the student's row: 1, 0 when there is none in the school, -1. */
static int
selection_lock_student(struct db *db, uint64_t school_id, uint64_t student_id)
{
	struct db_param p[2] = {
	    DB_INT((long long)student_id), DB_INT((long long)school_id)};
	struct db_res *res;
	int found;

	res = db_query(db,
	    "SELECT id FROM students WHERE id = ? AND school_id = ? FOR "
	    "UPDATE",
	    p, 2);
	if (res == NULL)
		return -1;
	found = db_res_rows(res) > 0;
	db_res_free(res);
	return found;
}

/* Locks the item's row when it is the student's and not deleted: 1 with
 * its term and whether it is ticked, 0 when not, -1. */
static int
selection_lock_item(struct db *db, uint64_t school_id, uint64_t student_id,
    const char *public_id, uint64_t *term_id, int *ticked)
{
	struct db_param p[3] = {DB_STR(public_id), DB_INT((long long)school_id),
	    DB_INT((long long)student_id)};
	struct db_res *res;
	int found;

	res = db_query(db,
	    "SELECT term_id, selected_at IS NOT NULL FROM items WHERE "
	    "public_id = ? AND school_id = ? AND student_id = ? AND "
	    "deleted_at IS NULL FOR UPDATE",
	    p, 3);
	if (res == NULL)
		return -1;
	found = db_res_rows(res) > 0;
	if (found) {
		*term_id = (uint64_t)db_res_int(res, 0, 0);
		*ticked = db_res_int(res, 0, 1) != 0;
	}
	db_res_free(res);
	return found;
}

/* The ROC year of a term of the school: > 0, 0 none, -1. */
static int
selection_term_year(struct db *db, uint64_t school_id, uint64_t term_id)
{
	struct db_param p[2] = {
	    DB_INT((long long)term_id), DB_INT((long long)school_id)};
	struct db_res *res;
	int year = 0;

	res = db_query(
	    db, "SELECT year FROM terms WHERE id = ? AND school_id = ?", p, 2);
	if (res == NULL)
		return -1;
	if (db_res_rows(res) > 0)
		year = (int)db_res_int(res, 0, 0);
	db_res_free(res);
	return year;
}

/* The student's ticked items of kind in school year year (deleted ones
 * never count). -1 on error. */
static long long
selection_count(struct db *db, uint64_t school_id, uint64_t student_id,
    enum item_kind kind, int year)
{
	struct db_param p[4] = {DB_INT((long long)school_id),
	    DB_INT((long long)student_id), DB_STR(items_kind_name(kind)),
	    DB_INT(year)};
	struct db_res *res;
	long long n;

	res = db_query(db,
	    "SELECT COUNT(*) FROM items i JOIN terms t ON t.id = i.term_id "
	    "AND t.school_id = i.school_id WHERE i.school_id = ? AND "
	    "i.student_id = ? AND i.kind = ? AND t.year = ? AND "
	    "i.selected_at IS NOT NULL AND i.deleted_at IS NULL",
	    p, 4);
	if (res == NULL)
		return -1;
	n = db_res_rows(res) > 0 ? db_res_int(res, 0, 0) : -1;
	db_res_free(res);
	return n;
}

/* The item's facts for the answer and the audit row. */
static void
selection_describe(const struct item *it, struct selection_outcome *out)
{
	struct buf t;

	out->kind = it->kind;
	(void)str_copy(out->term, sizeof(out->term), it->term);
	buf_init(&t);
	if (it->kind == ITEM_COURSE)
		buf_printf(&t, "%s %s", it->course_code, it->course_name);
	else
		buf_puts(&t, it->category);
	out->title = t.data != NULL ? buf_steal(&t) : xstrdup("");
	buf_free(&t);
}

/* Locks and reads the item for selection_set_tx: SEL_DONE with it, its
 * school year in out->year and whether it is ticked, or the answer. */
static enum selection_result
selection_open(struct db *db, uint64_t school_id, uint64_t student_id,
    const char *public_id, struct item *it, int *ticked,
    struct selection_outcome *out)
{
	uint64_t term_id = 0;
	int rc;

	rc = selection_lock_student(db, school_id, student_id);
	if (rc <= 0)
		return rc < 0 ? SEL_ERROR : SEL_NOT_FOUND;
	rc = selection_lock_item(
	    db, school_id, student_id, public_id, &term_id, ticked);
	if (rc < 0)
		return SEL_ERROR;
	/* Read after both locks: nothing of the item or of the student's
	 * ticks changes under us from here on. */
	out->found = items_find(db, school_id, student_id, public_id, it);
	if (out->found == ITEMS_FIND_ERROR)
		return SEL_ERROR;
	if (rc == 0 || out->found != ITEMS_FOUND) {
		/* Deleted (or gone) between the two reads counts as deleted. */
		if (out->found == ITEMS_FOUND)
			out->found = ITEMS_DELETED;
		items_free(it);
		return SEL_NOT_FOUND;
	}
	selection_describe(it, out);
	out->year = selection_term_year(db, school_id, term_id);
	if (out->year <= 0) {
		log_error(
		    "selection: the term of item %s has no year", public_id);
		items_free(it);
		return SEL_ERROR;
	}
	return SEL_DONE;
}

/* The checks of selection_set_tx after the item is open. */
static enum selection_result
selection_decide(struct db *db, uint64_t school_id, uint64_t student_id,
    const struct item *it, int ticked, int tick,
    const struct selection_rules *rules, struct selection_outcome *out)
{
	struct deadline d;
	long long n;

	if (it->submitted)
		return SEL_SUBMITTED;
	if (deadlines_selection(
		db, school_id, out->year, rules->deadline_md, &d) != 1)
		return SEL_ERROR;
	(void)str_copy(out->deadline, sizeof(out->deadline), d.date);
	out->max = rules->max[it->kind];
	n = selection_count(db, school_id, student_id, it->kind, out->year);
	if (n < 0)
		return SEL_ERROR;
	out->ticked = (unsigned)n;
	if (d.passed)
		return SEL_DEADLINE;
	if (ticked == tick)
		return SEL_UNCHANGED;
	if (tick) {
		out->why = selection_eligible(it->state);
		if (out->why != SEL_ELIGIBLE)
			return SEL_INELIGIBLE;
		if (n >= out->max)
			return SEL_CAP;
	}
	return SEL_DONE;
}

enum selection_result
selection_set_tx(struct db *db, uint64_t school_id, uint64_t student_id,
    const char *public_id, int tick, const struct selection_rules *rules,
    struct selection_outcome *out)
{
	struct db_param p[4];
	struct item it;
	int ticked = 0;

	memset(out, 0, sizeof(*out));
	out->found = ITEMS_UNKNOWN;
	if (!ids_public_valid(public_id))
		return out->result = SEL_NOT_FOUND;
	(void)str_copy(out->public_id, sizeof(out->public_id), public_id);
	out->result = selection_open(
	    db, school_id, student_id, public_id, &it, &ticked, out);
	if (out->result != SEL_DONE)
		return out->result;
	out->result = selection_decide(
	    db, school_id, student_id, &it, ticked, tick, rules, out);
	p[0] = DB_INT(tick);
	p[1] = DB_INT((long long)it.id);
	p[2] = DB_INT((long long)school_id);
	p[3] = DB_INT((long long)student_id);
	items_free(&it);
	if (out->result != SEL_DONE)
		return out->result;
	if (db_exec(db,
		"UPDATE items SET selected_at = IF(?, UTC_TIMESTAMP(6), NULL) "
		"WHERE id = ? AND school_id = ? AND student_id = ?",
		p, 4, NULL, NULL) != 0)
		return out->result = SEL_ERROR;
	out->ticked = tick ? out->ticked + 1 : out->ticked - 1;
	return out->result;
}
