/*
 * windows: the upload window of a school's term, when students may upload
 * and change items. Dates are Taiwan dates (UTC+8, no daylight saving),
 * "YYYY-MM-DD", both ends inclusive. A term without a window set by its
 * admin (upload_windows) has the default one: from its first day until
 * items.window_days days after its closing ceremony (terms.ends_on).
 */
#ifndef LICHENG_WINDOWS_H
#define LICHENG_WINDOWS_H

#include <stdint.h>

struct db;

#define WINDOW_DATE_LEN 10 /* "YYYY-MM-DD" */

enum window_state {
	WINDOW_NOT_YET, /* today is before opens_on */
	WINDOW_OPEN,
	WINDOW_CLOSED /* today is after closes_on */
};

struct window {
	char opens_on[WINDOW_DATE_LEN + 1];
	char closes_on[WINDOW_DATE_LEN + 1];
	int is_default; /* no row in upload_windows: the default rule */
	enum window_state state; /* as of today (Taiwan) */
};

/* Today's date in Taiwan, "YYYY-MM-DD". */
void windows_today(char out[WINDOW_DATE_LEN + 1]);
/* The date n days after (or before, n < 0) date. 0, or -1 when date is not
 * a valid "YYYY-MM-DD". */
int windows_add_days(const char *date, int n, char out[WINDOW_DATE_LEN + 1]);

/* The window of term_id (which must belong to school_id; the query is
 * scoped by it) as of today. window_days is items.window_days.
 * 1 found, 0 no such term in the school, -1 database error. */
int windows_get(struct db *db, uint64_t school_id, uint64_t term_id,
    int window_days, struct window *w);

#endif
