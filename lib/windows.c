/*
 * windows: a term's upload window, set by the school's admin or by the
 * default rule, and where today (in Taiwan) stands in it. Dates stay text
 * ("YYYY-MM-DD" compares in date order) and arithmetic is done on UTC
 * midnights with timegm, so no local time zone is ever involved.
 */
#include "windows.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "util.h"

/* Taiwan is UTC+8 all year. */
#define WINDOWS_TZ_OFFSET (8 * 3600)

static int
windows_format(time_t t, char out[WINDOW_DATE_LEN + 1])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return -1;
	return strftime(out, WINDOW_DATE_LEN + 1, "%Y-%m-%d", &tm) ==
		WINDOW_DATE_LEN
	    ? 0
	    : -1;
}

void
windows_today(char out[WINDOW_DATE_LEN + 1])
{
	if (windows_format(time(NULL) + WINDOWS_TZ_OFFSET, out) != 0)
		(void)str_copy(out, WINDOW_DATE_LEN + 1, "1970-01-01");
}

int
windows_add_days(const char *date, int n, char out[WINDOW_DATE_LEN + 1])
{
	struct tm tm;
	int y, m, d, used = 0;
	time_t t;

	if (strlen(date) != WINDOW_DATE_LEN ||
	    sscanf(date, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 ||
	    used != WINDOW_DATE_LEN || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	/* A date like 02-31 normalises to another day: refuse it. */
	if (tm.tm_mday != d || tm.tm_mon != m - 1)
		return -1;
	return windows_format(t + (time_t)n * 86400, out);
}

int
windows_get(struct db *db, uint64_t school_id, uint64_t term_id,
    int window_days, struct window *w)
{
	struct db_param p[2] = {
	    DB_INT((long long)term_id), DB_INT((long long)school_id)};
	char today[WINDOW_DATE_LEN + 1];
	struct db_res *res;
	int rc = -1;

	memset(w, 0, sizeof(*w));
	res = db_query(db,
	    "SELECT t.starts_on, t.ends_on, w.opens_on, w.closes_on "
	    "FROM terms t LEFT JOIN upload_windows w ON w.term_id = t.id "
	    "WHERE t.id = ? AND t.school_id = ?",
	    p, 2);
	if (res == NULL)
		return -1;
	if (db_res_rows(res) == 0) {
		rc = 0;
		goto out;
	}
	if (db_res_get(res, 0, 2) != NULL && db_res_get(res, 0, 3) != NULL) {
		if (str_copy(w->opens_on, sizeof(w->opens_on),
			db_res_get(res, 0, 2)) != 0 ||
		    str_copy(w->closes_on, sizeof(w->closes_on),
			db_res_get(res, 0, 3)) != 0)
			goto out;
	} else {
		w->is_default = 1;
		if (str_copy(w->opens_on, sizeof(w->opens_on),
			db_res_get(res, 0, 0)) != 0 ||
		    windows_add_days(
			db_res_get(res, 0, 1), window_days, w->closes_on) != 0)
			goto out;
	}
	windows_today(today);
	w->state = strcmp(today, w->opens_on) < 0 ? WINDOW_NOT_YET
	    : strcmp(today, w->closes_on) > 0     ? WINDOW_CLOSED
						  : WINDOW_OPEN;
	rc = 1;
out:
	db_res_free(res);
	return rc;
}
