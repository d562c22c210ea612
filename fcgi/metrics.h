/*
 * metrics: the request counters and duration histograms of every route, in
 * one MAP_SHARED anonymous region the master maps before forking so that all
 * children count into the same numbers with C11 atomics. Counting never
 * allocates, locks or logs; rendering (/metrics) reads the region as it is.
 */
#ifndef LICHENG_METRICS_H
#define LICHENG_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct jobstats;
struct metrics;
struct pool_board;

/* Maps the region for nroutes routes (router_count() + 1 for "unmatched").
 * NULL, logged, on failure. The caller owns it; metrics_free unmaps it. */
struct metrics *metrics_new(size_t nroutes);
void metrics_free(struct metrics *m);

/* Counts one finished request of route index route (clamped to the last,
 * "unmatched", slot) with its status and duration in microseconds. */
void metrics_observe(struct metrics *m, size_t route, int status, int64_t us);
/* The fixed status table's slot for status (the last is "other"). */
size_t metrics_status_slot(int status);

/* Appends the Prometheus text format 0.0.4 for the routes and, when board
 * is not NULL, the pool's gauges and counters. */
void metrics_render(
    const struct metrics *m, const struct pool_board *board, struct buf *out);

/* Appends the job queue's gauges: licheng_jobs_up (0 when st is NULL: the
 * table could not be read), licheng_jobs{type,state} for pending, running
 * and dead, and licheng_jobs_oldest_pending_seconds{type}. */
void metrics_render_jobs(const struct jobstats *st, struct buf *out);

#endif
