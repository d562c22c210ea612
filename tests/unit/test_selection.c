/*
 * test_selection: the parts of lib/selection.c that need no database —
 * which states may be ticked and why the others may not, the school year
 * of a date, and the school year a page shows first. Needs no servers.
 */
#include <string.h>

#include "../harness.h"
#include "selection.h"

static void
test_eligible(void)
{
	/* Only a certified course outcome and a checked diverse
	 * performance may be ticked. */
	CHECK(selection_eligible(ITEM_ST_CERTIFIED) == SEL_ELIGIBLE);
	CHECK(selection_eligible(ITEM_ST_NO_CERT) == SEL_ELIGIBLE);
	CHECK(selection_eligible(ITEM_ST_CHECKING) == SEL_WHY_CHECKING);
	CHECK(selection_eligible(ITEM_ST_PENDING) == SEL_WHY_PENDING);
	CHECK(selection_eligible(ITEM_ST_REJECTED) == SEL_WHY_REJECTED);
	CHECK(selection_eligible(ITEM_ST_QUARANTINED) == SEL_WHY_QUARANTINED);
	CHECK(selection_eligible(ITEM_ST_LOST) == SEL_WHY_LOST);
	/* Anything unknown is never eligible. */
	CHECK(selection_eligible(ITEM_ST__MAX) != SEL_ELIGIBLE);
	CHECK(selection_eligible((enum item_state)99) != SEL_ELIGIBLE);
}

static void
test_eligible_from_checks(void)
{
	enum item_check clean[2] = {ITEM_CHECK_CLEAN, ITEM_CHECK_CLEAN};
	enum item_check waiting[2] = {ITEM_CHECK_CLEAN, ITEM_CHECK_WAITING};
	enum item_check bad[2] = {ITEM_CHECK_CLEAN, ITEM_CHECK_QUARANTINED};
	enum item_check lost[2] = {ITEM_CHECK_LOST, ITEM_CHECK_CLEAN};

	/* Through lib/items's state: every current file must be clean. */
	CHECK(selection_eligible(items_state(
		  ITEM_COURSE, ITEM_CERT_CERTIFIED, clean, 2)) == SEL_ELIGIBLE);
	CHECK(selection_eligible(items_state(ITEM_COURSE, ITEM_CERT_CERTIFIED,
		  waiting, 2)) == SEL_WHY_CHECKING);
	CHECK(selection_eligible(items_state(ITEM_COURSE, ITEM_CERT_CERTIFIED,
		  bad, 2)) == SEL_WHY_QUARANTINED);
	CHECK(selection_eligible(items_state(
		  ITEM_DIVERSE, ITEM_CERT_NONE, lost, 2)) == SEL_WHY_LOST);
	CHECK(selection_eligible(items_state(
		  ITEM_DIVERSE, ITEM_CERT_NONE, clean, 2)) == SEL_ELIGIBLE);
	CHECK(selection_eligible(items_state(ITEM_COURSE, ITEM_CERT_PENDING,
		  clean, 1)) == SEL_WHY_PENDING);
	CHECK(selection_eligible(items_state(ITEM_COURSE, ITEM_CERT_REJECTED,
		  clean, 1)) == SEL_WHY_REJECTED);
	/* No current file: nothing checked, nothing to submit. */
	CHECK(selection_eligible(items_state(
		  ITEM_DIVERSE, ITEM_CERT_NONE, clean, 0)) == SEL_WHY_CHECKING);
}

static void
test_names(void)
{
	int w;

	CHECK(strcmp(selection_why_name(SEL_ELIGIBLE), "eligible") == 0);
	CHECK(strcmp(selection_why_name(SEL_WHY_PENDING), "pending") == 0);
	CHECK(strcmp(selection_why_name(SEL_WHY_LOST), "lost") == 0);
	CHECK(strcmp(selection_why_name(SEL_WHY__MAX), "") == 0);
	for (w = 0; w < SEL_WHY__MAX; w++)
		CHECK(selection_why_name((enum selection_why)w)[0] != '\0');
}

static void
test_school_year(void)
{
	/* 114 runs from 2025-08-01 to 2026-07-31. */
	CHECK(selection_school_year("2025-08-01") == 114);
	CHECK(selection_school_year("2025-12-31") == 114);
	CHECK(selection_school_year("2026-01-01") == 114);
	CHECK(selection_school_year("2026-07-31") == 114);
	CHECK(selection_school_year("2026-08-01") == 115);
	CHECK(selection_school_year("2025-07-31") == 113);
	CHECK(selection_school_year("2024-02-29") == 112);
	CHECK(selection_school_year("2025-02-29") == -1);
	CHECK(selection_school_year("2025-13-01") == -1);
	CHECK(selection_school_year("2025-8-01") == -1);
	CHECK(selection_school_year("2025-08-01x") == -1);
	CHECK(selection_school_year("") == -1);
	CHECK(selection_school_year(NULL) == -1);
}

static void
test_pick_year(void)
{
	const int years[] = {115, 114, 112};
	const int one[] = {110};

	CHECK(selection_pick_year(years, 3, 114) == 114);
	CHECK(selection_pick_year(years, 3, 115) == 115);
	/* Not among them: the newest before it. */
	CHECK(selection_pick_year(years, 3, 113) == 112);
	CHECK(selection_pick_year(years, 3, 120) == 115);
	/* Only years to come: the nearest. */
	CHECK(selection_pick_year(years, 3, 100) == 112);
	CHECK(selection_pick_year(one, 1, 114) == 110);
	CHECK(selection_pick_year(one, 1, 109) == 110);
}

int
main(void)
{
	test_eligible();
	test_eligible_from_checks();
	test_names();
	test_school_year();
	test_pick_year();
	return harness_done();
}
