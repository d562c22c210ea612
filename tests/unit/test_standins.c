/*
 * test_standins: the parts of lib/standins that need no database — where
 * today stands in an assignment, the names of scopes and refusals (which
 * are message keys), and the audit detail of each kind of assignment.
 */
#include <string.h>

#include "../harness.h"
#include "standins.h"
#include "util.h"

static void
test_state(void)
{
	/* A course's assignment: in force until revoked, whatever the day. */
	CHECK(standins_state(0, NULL, NULL, "2026-03-01") == STANDIN_IN_FORCE);
	CHECK(standins_state(0, "", "", "1999-01-01") == STANDIN_IN_FORCE);
	CHECK(standins_state(1, NULL, NULL, "2026-03-01") == STANDIN_REVOKED);
	/* A teacher's: both ends inclusive. */
	CHECK(standins_state(0, "2026-03-01", "2026-03-10", "2026-02-28") ==
	    STANDIN_NOT_YET);
	CHECK(standins_state(0, "2026-03-01", "2026-03-10", "2026-03-01") ==
	    STANDIN_IN_FORCE);
	CHECK(standins_state(0, "2026-03-01", "2026-03-10", "2026-03-10") ==
	    STANDIN_IN_FORCE);
	CHECK(standins_state(0, "2026-03-01", "2026-03-10", "2026-03-11") ==
	    STANDIN_ENDED);
	CHECK(standins_state(0, "2026-03-01", "2026-03-01", "2026-03-01") ==
	    STANDIN_IN_FORCE);
	/* Across a year and a month boundary, by text order. */
	CHECK(standins_state(0, "2025-12-31", "2026-01-02", "2026-01-01") ==
	    STANDIN_IN_FORCE);
	/* Revoked wins over the dates. */
	CHECK(standins_state(1, "2026-03-01", "2026-03-10", "2026-03-05") ==
	    STANDIN_REVOKED);
}

static void
test_names(void)
{
	int i;

	CHECK(strcmp(standins_scope_name(STANDIN_SCOPE_COURSE), "course") == 0);
	CHECK(strcmp(standins_scope_name(STANDIN_SCOPE_TEACHER), "teacher") ==
	    0);
	CHECK(standins_scope_parse("course") == STANDIN_SCOPE_COURSE);
	CHECK(standins_scope_parse("teacher") == STANDIN_SCOPE_TEACHER);
	CHECK(standins_scope_parse("Course") == -1);
	CHECK(standins_scope_parse("") == -1);
	CHECK(standins_scope_parse(NULL) == -1);
	CHECK(strcmp(standins_scope_name(STANDIN_SCOPE__MAX), "") == 0);
	for (i = 0; i < STANDIN_STATE__MAX; i++)
		CHECK_MSG(standins_state_name((enum standin_state)i)[0] != '\0',
		    "state %d has no name", i);
	for (i = 0; i < STANDIN_R__MAX; i++)
		CHECK_MSG(
		    standins_refusal_name((enum standin_refusal)i)[0] != '\0',
		    "refusal %d has no name", i);
	CHECK(strcmp(standins_state_name(STANDIN_IN_FORCE), "in_force") == 0);
	CHECK(strcmp(standins_refusal_name(STANDIN_R_NO_TEACHER),
		  "no_teacher") == 0);
	CHECK(strcmp(standins_refusal_name(STANDIN_R__MAX), "") == 0);
}

static void
test_detail(void)
{
	struct standin_facts f;
	struct buf d;

	memset(&f, 0, sizeof(f));
	f.scope = STANDIN_SCOPE_COURSE;
	(void)str_copy(f.standin_login, sizeof(f.standin_login), "t-lin");
	(void)str_copy(f.course_code, sizeof(f.course_code), "MA\"101");
	(void)str_copy(f.course_term, sizeof(f.course_term), "114-1");
	buf_init(&d);
	standins_detail(&f, &d);
	CHECK_MSG(strcmp(d.data, "{\"standin\":\"t-lin\",\"scope\":\"course\","
				 "\"course\":\"MA\\\"101\",\"term\":\"114-1\"}") ==
		0,
	    "%s", d.data);
	buf_free(&d);

	memset(&f, 0, sizeof(f));
	f.scope = STANDIN_SCOPE_TEACHER;
	(void)str_copy(f.standin_login, sizeof(f.standin_login), "t-lin");
	(void)str_copy(f.for_login, sizeof(f.for_login), "t-wang");
	(void)str_copy(f.starts_on, sizeof(f.starts_on), "2026-03-01");
	(void)str_copy(f.ends_on, sizeof(f.ends_on), "2026-03-10");
	buf_init(&d);
	standins_detail(&f, &d);
	CHECK_MSG(strcmp(d.data,
		      "{\"standin\":\"t-lin\",\"scope\":\"teacher\","
		      "\"for_teacher\":\"t-wang\",\"starts_on\":\"2026-03-01\","
		      "\"ends_on\":\"2026-03-10\"}") == 0,
	    "%s", d.data);
	buf_free(&d);
}

int
main(void)
{
	test_state();
	test_names();
	test_detail();
	return harness_done();
}
