/*
 * deadlines: the certification deadline of a term and the selection
 * deadline of a school year, from the admin's row or the default rule.
 * Dates stay text ("YYYY-MM-DD" compares in date order); today is
 * windows_today's Taiwan date.
 */
#include "deadlines.h"

#include <stdio.h>
#include <string.h>

#include "db.h"
#include "util.h"

static void
deadline_finish(struct deadline *d)
{
	char today[WINDOW_DATE_LEN + 1];

	windows_today(today);
	d->passed = strcmp(today, d->date) > 0;
}

int
deadlines_cert(struct db *db, uint64_t school_id, uint64_t term_id,
    int deadline_days, struct deadline *d)
{
	struct db_param p[2] = {
	    DB_INT((long long)term_id), DB_INT((long long)school_id)};
	struct db_res *res;
	int rc = -1;

	memset(d, 0, sizeof(*d));
	res = db_query(db,
	    "SELECT t.ends_on, c.deadline FROM terms t LEFT JOIN "
	    "cert_deadlines c ON c.term_id = t.id AND c.school_id = "
	    "t.school_id WHERE t.id = ? AND t.school_id = ?",
	    p, 2);
	if (res == NULL)
		return -1;
	if (db_res_rows(res) == 0) {
		rc = 0;
		goto out;
	}
	if (db_res_get(res, 0, 1) != NULL) {
		if (str_copy(d->date, sizeof(d->date), db_res_get(res, 0, 1)) !=
		    0)
			goto out;
	} else {
		d->is_default = 1;
		if (windows_add_days(
			db_res_get(res, 0, 0), deadline_days, d->date) != 0)
			goto out;
	}
	deadline_finish(d);
	rc = 1;
out:
	db_res_free(res);
	return rc;
}

int
deadlines_selection_default(
    int year, const char *month_day, char out[WINDOW_DATE_LEN + 1])
{
	char date[WINDOW_DATE_LEN + 8];

	if (year < 1 || year > 999 || month_day == NULL ||
	    strlen(month_day) != 5)
		return -1;
	/* ROC year Y runs from August of Y + 1911 to July of Y + 1912. */
	str_printf(date, sizeof(date), "%04d-%s", year + 1912, month_day);
	/* windows_add_days refuses dates that do not exist. */
	return windows_add_days(date, 0, out);
}

int
deadlines_selection(struct db *db, uint64_t school_id, int year,
    const char *month_day, struct deadline *d)
{
	struct db_param p[2] = {
	    DB_INT((long long)school_id), DB_INT((long long)year)};
	struct db_res *res;
	int rc = -1;

	memset(d, 0, sizeof(*d));
	res = db_query(db,
	    "SELECT deadline FROM selection_deadlines WHERE school_id = ? "
	    "AND year = ?",
	    p, 2);
	if (res == NULL)
		return -1;
	if (db_res_rows(res) > 0 && db_res_get(res, 0, 0) != NULL) {
		if (str_copy(d->date, sizeof(d->date), db_res_get(res, 0, 0)) !=
		    0)
			goto out;
	} else {
		d->is_default = 1;
		if (deadlines_selection_default(year, month_day, d->date) != 0)
			goto out;
	}
	deadline_finish(d);
	rc = 1;
out:
	db_res_free(res);
	return rc;
}
