/*
 * deadlines: the two deadlines of issue 7, set by a school's admin or by
 * the default rule, and whether today (Taiwan) is past them. Dates are
 * Taiwan dates "YYYY-MM-DD"; a deadline's own day is still allowed.
 *
 * - The certification deadline of a term (cert_deadlines): after it the
 *   term's course learning outcomes can no longer be certified or
 *   rejected. Default: certify.deadline_days days after the term's closing
 *   ceremony (terms.ends_on).
 * - The selection deadline of a school year (selection_deadlines): after
 *   it the students of the school can no longer tick or untick that
 *   year's items. Default: selection.deadline ("MM-DD") in the Western
 *   year after the school year ends (school year 114 runs 2025-08 to
 *   2026-07, so its default is 2026-MM-DD).
 *
 * Every query is scoped by the school.
 */
#ifndef LICHENG_DEADLINES_H
#define LICHENG_DEADLINES_H

#include <stdint.h>

#include "windows.h"

struct db;

struct deadline {
	char date[WINDOW_DATE_LEN + 1]; /* the last day actions are allowed */
	int is_default; /* no row set by the admin: the default rule */
	int passed; /* today (Taiwan) is after date */
};

/* The certification deadline of term_id in the school. deadline_days is
 * certify.deadline_days. 1 found, 0 no such term in the school, -1 on a
 * database error. */
int deadlines_cert(struct db *db, uint64_t school_id, uint64_t term_id,
    int deadline_days, struct deadline *d);

/* The default selection deadline of school year year (ROC) for month_day
 * ("MM-DD", selection.deadline). 0, or -1 when month_day is not valid. */
int deadlines_selection_default(
    int year, const char *month_day, char out[WINDOW_DATE_LEN + 1]);

/* The selection deadline of school year year (ROC) in the school. 1, or -1
 * on a database error or a month_day that is not valid. */
int deadlines_selection(struct db *db, uint64_t school_id, int year,
    const char *month_day, struct deadline *d);

#endif
