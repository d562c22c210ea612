/*
 * test_certify: the parts of lib/certify.c that need no database — the
 * decisions' names, the reason's rules (required for a rejection, at most
 * 200 characters, none kept for a certification), the names of outcomes
 * and look-ups, and the shape of CERTIFY_COURSES_SQL and its parameters.
 * Needs no servers.
 */
#include <string.h>

#include "../harness.h"
#include "certify.h"
#include "db.h"
#include "util.h"

static void
test_decisions(void)
{
	CHECK(strcmp(certify_decision_name(CERTIFY_CERTIFIED), "certified") ==
	    0);
	CHECK(strcmp(certify_decision_name(CERTIFY_REJECTED), "rejected") == 0);
	CHECK(strcmp(certify_decision_name(CERTIFY__MAX), "") == 0);
	CHECK(certify_decision_parse("certified") == CERTIFY_CERTIFIED);
	CHECK(certify_decision_parse("rejected") == CERTIFY_REJECTED);
	CHECK(certify_decision_parse("Certified") == -1);
	CHECK(certify_decision_parse("") == -1);
	CHECK(certify_decision_parse(NULL) == -1);
}

/* A reason of n copies of the UTF-8 character c. */
static void
repeat(struct buf *b, const char *c, int n)
{
	int i;

	buf_reset(b);
	for (i = 0; i < n; i++)
		buf_puts(b, c);
}

static void
test_reasons(void)
{
	struct buf b;
	long chars;

	/* A rejection needs a reason; spaces and line breaks are none. */
	CHECK(certify_reason_check(CERTIFY_REJECTED, "", &chars) ==
	    CERTIFY_REASON_MISSING);
	CHECK(certify_reason_check(CERTIFY_REJECTED, NULL, &chars) ==
	    CERTIFY_REASON_MISSING);
	CHECK(certify_reason_check(CERTIFY_REJECTED, " \n\t\r ", &chars) ==
	    CERTIFY_REASON_MISSING);
	CHECK(certify_reason_check(CERTIFY_REJECTED, "缺少出處。", &chars) ==
	    CERTIFY_REASON_OK);
	CHECK(chars == 5);
	/* Several lines are fine (the signed text escapes them). */
	CHECK(certify_reason_check(CERTIFY_REJECTED, "一\n二\r\n三", &chars) ==
	    CERTIFY_REASON_OK);
	/* 200 characters, counted as characters, not bytes; 201 are too
	 * many. */
	buf_init(&b);
	repeat(&b, "太", 200);
	CHECK(certify_reason_check(CERTIFY_REJECTED, b.data, &chars) ==
	    CERTIFY_REASON_OK);
	CHECK(chars == 200);
	repeat(&b, "太", 201);
	CHECK(certify_reason_check(CERTIFY_REJECTED, b.data, &chars) ==
	    CERTIFY_REASON_LONG);
	CHECK(chars == 201);
	repeat(&b, "a", 201);
	CHECK(certify_reason_check(CERTIFY_REJECTED, b.data, &chars) ==
	    CERTIFY_REASON_LONG);
	buf_free(&b);
	/* Control characters and bad UTF-8 are not text. */
	CHECK(certify_reason_check(CERTIFY_REJECTED, "a\x01z", &chars) ==
	    CERTIFY_REASON_BAD);
	CHECK(certify_reason_check(CERTIFY_REJECTED, "\xff\xfe", &chars) ==
	    CERTIFY_REASON_BAD);
	/* A certification keeps no reason, so whatever was typed is fine. */
	CHECK(certify_reason_check(CERTIFY_CERTIFIED, "", &chars) ==
	    CERTIFY_REASON_OK);
	CHECK(certify_reason_check(CERTIFY_CERTIFIED, "a\x01z", &chars) ==
	    CERTIFY_REASON_OK);
}

static void
test_names(void)
{
	CHECK(strcmp(certify_outcome_name(CERTIFY_DONE), "done") == 0);
	CHECK(strcmp(certify_outcome_name(CERTIFY_LATE), "late") == 0);
	CHECK(strcmp(certify_outcome_name(CERTIFY_NO_KEY), "no_key") == 0);
	CHECK(strcmp(certify_outcome_name(CERTIFY_ERROR), "error") == 0);
	CHECK(strcmp(certify_outcome_name((enum certify_outcome)99), "") == 0);
	/* The reasons audited with access.denied: one word each. */
	CHECK(strcmp(certify_found_name(CERTIFY_UNKNOWN), "not_found") == 0);
	CHECK(strcmp(certify_found_name(CERTIFY_DELETED), "deleted") == 0);
	CHECK(strcmp(certify_found_name(CERTIFY_DIVERSE), "diverse") == 0);
	CHECK(strcmp(certify_found_name(CERTIFY_NOT_YOURS), "not_yours") == 0);
}

static void
test_courses_sql(void)
{
	struct db_param p[CERTIFY_COURSES_NPARAMS];
	const char *s = CERTIFY_COURSES_SQL;
	size_t marks = 0, i;

	/* As many placeholders as certify_courses_params fills. */
	for (i = 0; s[i] != '\0'; i++)
		marks += s[i] == '?';
	CHECK(marks == CERTIFY_COURSES_NPARAMS);
	/* Three ways to certify, each scoped by the user's teachers row and
	 * school; the teacher scope by today's date. */
	certify_courses_params(p, 7, 42, "2026-11-21");
	for (i = 0; i < 3; i++) {
		CHECK(p[2 * i].type == DB_P_INT && p[2 * i].i == 42);
		CHECK(p[2 * i + 1].type == DB_P_INT && p[2 * i + 1].i == 7);
	}
	CHECK(p[6].type == DB_P_STR && strcmp(p[6].s, "2026-11-21") == 0);
	/* Only active teachers and assignments not revoked count. */
	CHECK(strstr(s, "me.status = 'active'") != NULL);
	CHECK(strstr(s, "cs.revoked_at IS NULL") != NULL);
	CHECK(strstr(s, "BETWEEN cs.starts_on AND cs.ends_on") != NULL);
}

int
main(void)
{
	test_decisions();
	test_reasons();
	test_names();
	test_courses_sql();
	return harness_done();
}
