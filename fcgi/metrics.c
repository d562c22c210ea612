/*
 * metrics: per-route request counters and duration histograms in a shared
 * anonymous mapping, counted with relaxed C11 atomics by every child and
 * rendered in the Prometheus text format by GET /metrics (loopback only),
 * followed by the job queue's gauges, read with one statement per scrape.
 * Counting never allocates, locks or logs; the region is created once by the
 * master before the first fork and never resized.
 */
#include "metrics.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "app.h"
#include "jobstats.h"
#include "log.h"
#include "pool.h"
#include "router.h"

#define METRICS_BUCKETS 13

static const int64_t metrics_bucket_us[METRICS_BUCKETS] = {
    1000,
    2500,
    5000,
    10000,
    25000,
    50000,
    100000,
    250000,
    500000,
    1000000,
    2500000,
    5000000,
    10000000,
};

static const char *const metrics_bucket_le[METRICS_BUCKETS] = {
    "0.001",
    "0.0025",
    "0.005",
    "0.01",
    "0.025",
    "0.05",
    "0.1",
    "0.25",
    "0.5",
    "1",
    "2.5",
    "5",
    "10",
};

static const int metrics_statuses[] = {
    200,
    201,
    204,
    301,
    302,
    303,
    304,
    400,
    401,
    403,
    404,
    405,
    409,
    413,
    415,
    422,
    429,
    500,
    502,
    503,
};

/* The known statuses and one "other". */
#define METRICS_STATUS_SLOTS (ARRAY_SIZE(metrics_statuses) + 1)

struct metrics_route {
	atomic_ullong requests[METRICS_STATUS_SLOTS];
	/* Per-bucket counts (not cumulative); the last one is past 10 s. */
	atomic_ullong buckets[METRICS_BUCKETS + 1];
	atomic_ullong sum_us;
};

struct metrics {
	size_t nroutes;
	size_t maplen;
	struct metrics_route routes[];
};

struct metrics *
metrics_new(size_t nroutes)
{
	struct metrics *m;
	size_t len;

	if (nroutes == 0) {
		log_error("no routes to count");
		return NULL;
	}
	len = sizeof(*m) + nroutes * sizeof(struct metrics_route);
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (m == MAP_FAILED) {
		log_error("mmap %zu bytes: %s", len, strerror(errno));
		return NULL;
	}
	/* A fresh anonymous mapping is zero-filled: every counter starts at
	 * zero, which is a valid atomic_ullong representation. */
	m->nroutes = nroutes;
	m->maplen = len;
	return m;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	if (munmap(m, m->maplen) != 0)
		log_error("munmap: %s", strerror(errno));
}

size_t
metrics_status_slot(int status)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(metrics_statuses); i++)
		if (metrics_statuses[i] == status)
			return i;
	return ARRAY_SIZE(metrics_statuses);
}

void
metrics_observe(struct metrics *m, size_t route, int status, int64_t us)
{
	struct metrics_route *mr;
	size_t b;

	if (m == NULL)
		return;
	if (route >= m->nroutes)
		route = m->nroutes - 1;
	if (us < 0)
		us = 0;
	mr = &m->routes[route];
	for (b = 0; b < METRICS_BUCKETS; b++)
		if (us <= metrics_bucket_us[b])
			break;
	atomic_fetch_add_explicit(&mr->requests[metrics_status_slot(status)], 1,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&mr->buckets[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(
	    &mr->sum_us, (unsigned long long)us, memory_order_relaxed);
}

static void
metrics_render_requests(const struct metrics *m, struct buf *out)
{
	unsigned long long v;
	size_t r, s;

	buf_puts(out,
	    "# HELP licheng_http_requests_total HTTP requests "
	    "answered, by route and status.\n"
	    "# TYPE licheng_http_requests_total counter\n");
	for (r = 0; r < m->nroutes; r++) {
		for (s = 0; s < METRICS_STATUS_SLOTS; s++) {
			v = atomic_load_explicit(
			    &m->routes[r].requests[s], memory_order_relaxed);
			if (v == 0)
				continue;
			buf_printf(out,
			    "licheng_http_requests_total{route=\"%s\","
			    "status=\"",
			    router_name(r));
			if (s < ARRAY_SIZE(metrics_statuses))
				buf_printf(out, "%d", metrics_statuses[s]);
			else
				buf_puts(out, "other");
			buf_printf(out, "\"} %llu\n", v);
		}
	}
}

static void
metrics_render_durations(const struct metrics *m, struct buf *out)
{
	const struct metrics_route *mr;
	unsigned long long cum, sum;
	size_t r, b;

	buf_puts(out,
	    "# HELP licheng_http_request_duration_seconds Time to "
	    "answer a request, by route.\n"
	    "# TYPE licheng_http_request_duration_seconds histogram\n");
	for (r = 0; r < m->nroutes; r++) {
		mr = &m->routes[r];
		cum = 0;
		for (b = 0; b < METRICS_BUCKETS; b++) {
			cum += atomic_load_explicit(
			    &mr->buckets[b], memory_order_relaxed);
			buf_printf(out,
			    "licheng_http_request_duration_seconds_"
			    "bucket{route=\"%s\",le=\"%s\"} %llu\n",
			    router_name(r), metrics_bucket_le[b], cum);
		}
		/* +Inf and _count come from the same reads as the buckets, so
		 * the series stay consistent while children keep counting. */
		cum += atomic_load_explicit(
		    &mr->buckets[METRICS_BUCKETS], memory_order_relaxed);
		sum = atomic_load_explicit(&mr->sum_us, memory_order_relaxed);
		buf_printf(out,
		    "licheng_http_request_duration_seconds_bucket"
		    "{route=\"%s\",le=\"+Inf\"} %llu\n",
		    router_name(r), cum);
		buf_printf(out,
		    "licheng_http_request_duration_seconds_sum"
		    "{route=\"%s\"} %llu.%06llu\n",
		    router_name(r), sum / 1000000, sum % 1000000);
		buf_printf(out,
		    "licheng_http_request_duration_seconds_count"
		    "{route=\"%s\"} %llu\n",
		    router_name(r), cum);
	}
}

static void
metrics_render_pool(const struct pool_board *board, struct buf *out)
{
	int i, idle = 0, active = 0, st;

	for (i = 0; i < board->nslots; i++) {
		st = atomic_load(&board->slots[i].state);
		if (st == POOL_SLOT_IDLE)
			idle++;
		else if (st == POOL_SLOT_ACTIVE)
			active++;
	}
	buf_printf(out,
	    "# HELP licheng_pool_children Children of the "
	    "licheng-fcgi pool, by state.\n"
	    "# TYPE licheng_pool_children gauge\n"
	    "licheng_pool_children{state=\"idle\"} %d\n"
	    "licheng_pool_children{state=\"active\"} %d\n",
	    idle, active);
	buf_printf(out,
	    "# HELP licheng_pool_accepted_total Requests accepted "
	    "by the pool.\n"
	    "# TYPE licheng_pool_accepted_total counter\n"
	    "licheng_pool_accepted_total %llu\n",
	    (unsigned long long)atomic_load(&board->accepted));
	buf_printf(out,
	    "# HELP licheng_pool_max_children_reached_total Times "
	    "every child was busy at once.\n"
	    "# TYPE licheng_pool_max_children_reached_total counter\n"
	    "licheng_pool_max_children_reached_total %llu\n",
	    (unsigned long long)atomic_load(&board->max_reached));
	buf_printf(out,
	    "# HELP licheng_pool_slow_requests_total Requests "
	    "that passed fcgi.slow_request.\n"
	    "# TYPE licheng_pool_slow_requests_total counter\n"
	    "licheng_pool_slow_requests_total %llu\n",
	    (unsigned long long)atomic_load(&board->slow));
}

void
metrics_render(
    const struct metrics *m, const struct pool_board *board, struct buf *out)
{
	metrics_render_requests(m, out);
	metrics_render_durations(m, out);
	if (board != NULL)
		metrics_render_pool(board, out);
}

/* A label value as the text format wants it: backslash, double quote and
 * newline escaped. Job types are [a-z_], but the column could hold
 * anything a hand-written row put there. */
static void
metrics_label(struct buf *out, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			buf_putc(out, '\\');
		if (*v == '\n')
			buf_puts(out, "\\n");
		else
			buf_putc(out, *v);
	}
}

void
metrics_render_jobs(const struct jobstats *st, struct buf *out)
{
	static const char *const states[] = {"pending", "running", "dead"};
	const struct jobstats_type *t;
	long long v;
	size_t i, s;

	buf_printf(out,
	    "# HELP licheng_jobs_up 1 when the jobs table could be read "
	    "for this scrape.\n"
	    "# TYPE licheng_jobs_up gauge\n"
	    "licheng_jobs_up %d\n",
	    st != NULL);
	if (st == NULL)
		return;
	buf_puts(out,
	    "# HELP licheng_jobs Jobs not done, by type and state "
	    "(pending includes those waiting for their backoff).\n"
	    "# TYPE licheng_jobs gauge\n");
	for (i = 0; i < st->n; i++) {
		t = &st->types[i];
		for (s = 0; s < ARRAY_SIZE(states); s++) {
			v = s == 0   ? t->pending_due + t->pending_wait
			    : s == 1 ? t->running
				     : t->dead;
			buf_puts(out, "licheng_jobs{type=\"");
			metrics_label(out, t->type);
			buf_printf(
			    out, "\",state=\"%s\"} %lld\n", states[s], v);
		}
	}
	buf_puts(out,
	    "# HELP licheng_jobs_oldest_pending_seconds Seconds since the "
	    "oldest pending job of a type was created (0 when none is "
	    "pending).\n"
	    "# TYPE licheng_jobs_oldest_pending_seconds gauge\n");
	for (i = 0; i < st->n; i++) {
		t = &st->types[i];
		buf_puts(out, "licheng_jobs_oldest_pending_seconds{type=\"");
		metrics_label(out, t->type);
		buf_printf(out, "\"} %lld\n",
		    t->oldest_pending > 0 ? t->oldest_pending : 0);
	}
}

/*
 * The job gauges cost one statement per scrape (jobstats_load). There is
 * no licheng_jobs_done_total: InnoDB keeps no row counts, so counting the
 * done jobs reads one index entry per job ever done — a scan that grows
 * with the queue's history on every scrape. `licheng jobs` counts them
 * when an operator asks.
 */
enum request_outcome
metrics_get(struct app *app, struct request *r)
{
	struct jobstats st;
	int jobs_ok;

	if (!request_is_loopback(r))
		return RQ_NOT_FOUND;
	if (app->metrics == NULL)
		return RQ_UNAVAILABLE;
	metrics_render(
	    app->metrics, app->pool ? pool_board(app->pool) : NULL, &r->body);
	jobs_ok = jobstats_load(app_db(app), &st) == 0;
	metrics_render_jobs(jobs_ok ? &st : NULL, &r->body);
	jobstats_free(&st);
	request_ok(r, 200, "text/plain; version=0.0.4; charset=utf-8");
	return RQ_OK;
}
