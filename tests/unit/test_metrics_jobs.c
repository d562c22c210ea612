/*
 * test_metrics_jobs: the job gauges of /metrics (fcgi/metrics.c) rendered
 * from a struct jobstats made here — the series and their values, pending
 * as due plus waiting, 0 for a type with nothing pending, label escaping,
 * and licheng_jobs_up 0 without the series when the table was not read. It
 * needs no servers.
 */
#include <string.h>

#include "../harness.h"
#include "../../fcgi/metrics.h"
#include "jobstats.h"
#include "util.h"

static int
has(const struct buf *b, const char *line)
{
	const char *p = b->data;
	size_t n = strlen(line);

	/* A whole line, not a prefix of a longer one. */
	while (p != NULL && (p = strstr(p, line)) != NULL) {
		if ((p == b->data || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p++;
	}
	return 0;
}

int
main(void)
{
	struct jobstats_type t[3];
	struct jobstats st = {3, t};
	struct buf b;

	memset(t, 0, sizeof(t));
	(void)str_copy(t[0].type, sizeof(t[0].type), "hash");
	t[0].pending_due = 3;
	t[0].pending_wait = 2;
	t[0].running = 1;
	t[0].dead = 4;
	t[0].oldest_pending = 7300;
	(void)str_copy(t[1].type, sizeof(t[1].type), "probe");
	t[1].oldest_pending = -1;
	(void)str_copy(t[2].type, sizeof(t[2].type), "a\"b\\c");
	t[2].oldest_pending = -1;

	buf_init(&b);
	metrics_render_jobs(&st, &b);
	CHECK(has(&b, "licheng_jobs_up 1"));
	CHECK(has(&b, "# TYPE licheng_jobs gauge"));
	CHECK(has(&b, "licheng_jobs{type=\"hash\",state=\"pending\"} 5"));
	CHECK(has(&b, "licheng_jobs{type=\"hash\",state=\"running\"} 1"));
	CHECK(has(&b, "licheng_jobs{type=\"hash\",state=\"dead\"} 4"));
	CHECK(has(&b, "licheng_jobs_oldest_pending_seconds{type=\"hash\"} 7300"));
	CHECK(has(&b, "licheng_jobs{type=\"probe\",state=\"pending\"} 0"));
	CHECK(has(&b, "licheng_jobs{type=\"probe\",state=\"dead\"} 0"));
	CHECK(has(&b, "licheng_jobs_oldest_pending_seconds{type=\"probe\"} 0"));
	CHECK(has(&b,
	    "licheng_jobs{type=\"a\\\"b\\\\c\",state=\"running\"} 0"));
	CHECK(strstr(b.data, "state=\"done\"") == NULL);
	CHECK(strstr(b.data, "licheng_jobs_done") == NULL);
	CHECK(jobstats_dead(&st) == 4);
	CHECK(jobstats_oldest(&st) == 7300);

	buf_reset(&b);
	metrics_render_jobs(NULL, &b);
	CHECK(has(&b, "licheng_jobs_up 0"));
	CHECK(strstr(b.data, "licheng_jobs{") == NULL);
	CHECK(strstr(b.data, "oldest_pending_seconds{") == NULL);
	buf_free(&b);
	return harness_done();
}
