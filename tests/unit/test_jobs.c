/*
 * test_jobs: the job runner's pure parts — the backoff between attempts
 * (base doubling per attempt, capped), the strict parse of a stream entry's
 * job id, the probe job's payload parser, and the IN lists of job ids that
 * the batched statements use (placeholders only, a few sizes).
 */
#include <stdint.h>
#include <string.h>

#include "../../lib/conf.h"
#include "../../lib/db.h"
#include "../../lib/queue.h"
#include "../../lib/util.h"
#include "../../workers/jobs.h"
#include "../../workers/jobs_impl.h"
#include "../../workers/jobs_parse.h"
#include "../harness.h"

static void
test_backoff(void)
{
	CHECK(jobs_backoff_ms(1, 30, 2) == 1000);
	CHECK(jobs_backoff_ms(1, 30, 3) == 2000);
	CHECK(jobs_backoff_ms(1, 30, 4) == 4000);
	CHECK(jobs_backoff_ms(1, 30, 5) == 8000);
	CHECK(jobs_backoff_ms(1, 30, 6) == 16000);
	CHECK(jobs_backoff_ms(1, 30, 7) == 30000); /* capped */
	CHECK(jobs_backoff_ms(1, 30, 100) == 30000);
	CHECK(jobs_backoff_ms(10, 3600, 2) == 10000);
	CHECK(jobs_backoff_ms(10, 3600, 10) == 2560000);
	CHECK(jobs_backoff_ms(10, 3600, 11) == 3600000);
	CHECK(jobs_backoff_ms(10, 3600, 1000000) == 3600000);
	CHECK(jobs_backoff_ms(3600, 86400, 50) == 86400000);
	/* attempt 1 (or less) waits as long as attempt 2 */
	CHECK(jobs_backoff_ms(5, 60, 1) == 5000);
	CHECK(jobs_backoff_ms(5, 60, 0) == 5000);
}

static int
id_is(const char *s, uint64_t want)
{
	uint64_t id = 12345;

	return jobs_parse_id(s, strlen(s), &id) == 0 && id == want;
}

static int
id_bad(const char *s)
{
	uint64_t id = 12345;

	return jobs_parse_id(s, strlen(s), &id) == -1 && id == 0;
}

static void
test_ids(void)
{
	uint64_t id;

	CHECK(id_is("1", 1));
	CHECK(id_is("42", 42));
	CHECK(id_is("18446744073709551615", UINT64_MAX));
	CHECK(id_bad(""));
	CHECK(id_bad("0"));
	CHECK(id_bad("007"));
	CHECK(id_bad("abc"));
	CHECK(id_bad("12abc"));
	CHECK(id_bad("-1"));
	CHECK(id_bad("+1"));
	CHECK(id_bad(" 1"));
	CHECK(id_bad("1 "));
	CHECK(id_bad("1.0"));
	CHECK(id_bad("0x10"));
	CHECK(id_bad("18446744073709551616"));
	CHECK(id_bad("99999999999999999999"));
	CHECK(id_bad("123456789012345678901"));
	/* Only len bytes count: an embedded NUL or a longer buffer. */
	CHECK(jobs_parse_id("12\0"
			    "3",
		  4, &id) == -1);
	CHECK(jobs_parse_id("123", 2, &id) == 0 && id == 12);
	CHECK(jobs_parse_id(NULL, 0, &id) == -1);
}

static int
probe_ok(const char *payload, long want)
{
	char err[256] = "";
	long ms = -1;

	return job_probe_parse(payload, &ms, err, sizeof(err)) == 0 &&
	    ms == want && err[0] == '\0';
}

static int
probe_bad(const char *payload, const char *says)
{
	char err[256] = "";
	long ms = -1;

	return job_probe_parse(payload, &ms, err, sizeof(err)) == -1 &&
	    ms == 0 && strstr(err, says) != NULL;
}

static void
test_probe(void)
{
	CHECK(probe_ok("{}", 0));
	CHECK(probe_ok(" { } ", 0));
	CHECK(probe_ok("{\"sleep_ms\":0}", 0));
	CHECK(probe_ok("{\"sleep_ms\": 6000}", 6000));
	CHECK(probe_ok("\n{ \"sleep_ms\" :\t600000 }\r\n", 600000));
	CHECK(probe_bad("", "not a JSON object"));
	CHECK(probe_bad("[]", "not a JSON object"));
	CHECK(probe_bad("null", "not a JSON object"));
	CHECK(probe_bad("{", "unknown field"));
	CHECK(probe_bad("{}}", "trailing data"));
	CHECK(probe_bad("{} x", "trailing data"));
	CHECK(probe_bad("{\"sleep_ms\": 615}} {}", "trailing data"));
	CHECK(probe_bad("{\"sleep\":5}", "unknown field"));
	CHECK(probe_bad("{\"sleep_msx\":5}", "unknown field"));
	CHECK(probe_bad("{\"sleep_ms\"5}", "expected ':'"));
	CHECK(probe_bad("{\"sleep_ms\":}", "integer from 0 to 600000"));
	CHECK(probe_bad("{\"sleep_ms\":-1}", "integer from 0 to 600000"));
	CHECK(probe_bad("{\"sleep_ms\":600001}", "integer from 0 to 600000"));
	CHECK(probe_bad(
	    "{\"sleep_ms\":99999999999999999999999}", "integer from 0"));
	CHECK(probe_bad("{\"sleep_ms\":1.5}", "integer from 0 to 600000"));
	CHECK(probe_bad("{\"sleep_ms\":1e3}", "integer from 0 to 600000"));
	CHECK(probe_bad("{\"sleep_ms\":\"5\"}", "integer from 0 to 600000"));
	CHECK(probe_bad("{\"sleep_ms\":05}", "leading zero"));
	CHECK(probe_bad("{\"sleep_ms\":5,\"x\":1}", "more than one field"));
	CHECK(probe_bad("{\"sleep_ms\":5 6}", "expected '}'"));
	CHECK(probe_bad("{\"sleep_ms\":5", "expected '}'"));
	CHECK(probe_bad(NULL, "missing"));
}

/* queue_in_list of n ids 1..n: the marks and the parameters. */
static size_t
in_list(size_t n, struct buf *marks, struct db_param *p)
{
	uint64_t ids[QUEUE_IN_MAX + 1];
	size_t i;

	for (i = 0; i < n && i < QUEUE_IN_MAX + 1; i++)
		ids[i] = 1000 + i;
	buf_reset(marks);
	return queue_in_list(marks, p, ids, n);
}

static void
test_in_list(void)
{
	struct db_param p[QUEUE_IN_MAX];
	struct buf marks;
	size_t i, np, commas;
	int same;

	buf_init(&marks);
	CHECK(in_list(0, &marks, p) == 0);
	CHECK(in_list(1, &marks, p) == 1);
	CHECK(marks.len == 1 && memcmp(marks.data, "?", 1) == 0);
	CHECK(p[0].type == DB_P_INT && p[0].i == 1000);
	/* Three ids: four placeholders, the last id once more. */
	CHECK(in_list(3, &marks, p) == 4);
	CHECK(marks.len == 10 && memcmp(marks.data, "?, ?, ?, ?", 10) == 0);
	CHECK(p[0].i == 1000 && p[1].i == 1001 && p[2].i == 1002 &&
	    p[3].i == 1002);
	/* Every size from 1 to the most comes out as a power of two no more
	 * than twice it, with one placeholder per parameter. */
	same = 1;
	for (i = 1; i <= QUEUE_IN_MAX; i++) {
		np = in_list(i, &marks, p);
		commas = 0;
		for (size_t k = 0; k < marks.len; k++)
			commas += marks.data[k] == ',';
		if (np < i || np >= 2 * i + (i == 1) || (np & (np - 1)) != 0 ||
		    commas + 1 != np ||
		    p[np - 1].i != (long long)(1000 + i - 1))
			same = 0;
	}
	CHECK(same);
	CHECK(in_list(QUEUE_IN_MAX, &marks, p) == QUEUE_IN_MAX);
	CHECK(in_list(QUEUE_IN_MAX + 1, &marks, p) == 0);
	buf_free(&marks);
}

/* How each type is read and run: the file types in batches while they are
 * not throttled, anything unknown one at a time. */
static void
test_kinds(void)
{
	struct conf c;

	memset(&c, 0, sizeof(c));
	CHECK(jobs_kind_of(&c, "probe") == JOBS_KIND_QUICK);
	CHECK(jobs_kind_of(&c, "hash") == JOBS_KIND_FILE);
	CHECK(jobs_kind_of(&c, "repair") == JOBS_KIND_FILE);
	CHECK(jobs_kind_of(&c, "scan") == JOBS_KIND_SLOW);
	CHECK(jobs_kind_of(&c, "submit") == JOBS_KIND_SLOW);
	CHECK(jobs_kind_of(&c, "") == JOBS_KIND_SLOW);
	CHECK(jobs_kind_of(&c, "hash ") == JOBS_KIND_SLOW);
	c.hash_read_rate = 50 * 1000 * 1000;
	CHECK(jobs_kind_of(&c, "hash") == JOBS_KIND_SLOW);
	CHECK(jobs_kind_of(&c, "repair") == JOBS_KIND_SLOW);
	CHECK(jobs_kind_of(&c, "probe") == JOBS_KIND_QUICK);
}

int
main(void)
{
	test_backoff();
	test_ids();
	test_probe();
	test_in_list();
	test_kinds();
	return harness_done();
}
