/*
 * jobstats: the state of the job queue as the operators see it — per job
 * type, how many jobs are pending (due, or waiting out a backoff), running
 * and dead, and how long the oldest pending one has waited — read with one
 * statement for `licheng jobs`, /metrics and the admins' home pages. It only
 * reads the jobs table; it never counts done jobs, whose number grows
 * without bound (see jobstats_load).
 */
#ifndef LICHENG_JOBSTATS_H
#define LICHENG_JOBSTATS_H

#include <stddef.h>

#include "queue.h"

struct db;

struct jobstats_type {
	char type[QUEUE_TYPE_MAX + 1];
	long long pending_due; /* pending, not_before reached */
	long long pending_wait; /* pending, waiting for its backoff */
	long long running;
	long long dead;
	/* Seconds since the oldest pending job was created; -1 when none is
	 * pending. */
	long long oldest_pending;
};

struct jobstats {
	size_t n;
	struct jobstats_type *types; /* sorted by type */
};

/*
 * Fills st with every type that has a job in any state (a type whose jobs
 * are all done is listed with zeros, so that its gauges read 0 rather than
 * vanish). One statement: the pending, running and dead rows grouped by
 * type and state (the index jobs_type_state), and the types read by a loose
 * scan of that index. 0, or -1 on a database error (st is then empty).
 * Free with jobstats_free.
 */
int jobstats_load(struct db *db, struct jobstats *st);
void jobstats_free(struct jobstats *st);

/* The dead jobs of every type, and the longest wait of a pending job (-1
 * when none is pending). */
long long jobstats_dead(const struct jobstats *st);
long long jobstats_oldest(const struct jobstats *st);

#endif
