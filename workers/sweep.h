/*
 * sweep: the periodic sweep of licheng-worker — every
 * accounts.sweep_interval seconds, one child of one host (whichever takes
 * the interval's lock in Redis first) disables the accounts of students
 * past their grace period and wipes expired activation letters and import
 * files (lib/review.h's review_sweep). Nothing here may stop a child: a
 * failure is logged and the next interval tries again.
 *
 * Key, under the configured prefix P:
 *   P sweep:accounts   string: <host>:<pid> of the sweeper, expiring after
 *                      one interval (SET NX PX)
 */
#ifndef LICHENG_WORKERS_SWEEP_H
#define LICHENG_WORKERS_SWEEP_H

struct conf;
struct db;
struct pool;
struct sweep;

/* A sweeper for the child in slot; c and db (the child's DB_WORKER
 * handle) must outlive it. It opens its own Redis connection on first
 * use. The caller owns the result and frees it with sweep_free. */
struct sweep *sweep_new(const struct conf *c, struct db *db, int slot);
/* Closes the connection and frees s; accepts NULL. */
void sweep_free(struct sweep *s);

/* When the sweep is due, tries to take this interval's lock and, when
 * this child wins it, runs one sweep as the child's unit of work. 1 when
 * it was due (whatever happened), 0 when not. */
int sweep_poll(struct sweep *s, struct pool *p, int slot);

#endif
