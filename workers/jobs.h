/*
 * jobs: the consumer side of DESIGN.md "Jobs", run by every licheng-worker
 * child. The producer side (the outbox row and the XADD after commit) is
 * lib/queue.h.
 *
 * Streams: <prefix>jobs:<type> for each registered type, consumer group
 * "workers" (created with MKSTREAM when missing, also after Redis lost its
 * data: a NOGROUP reply recreates it). A consumer is named "<host>:<pid>".
 * An entry carries only "job <id>".
 *
 * One delivery:
 *  1. At start a consumer first reads its own pending list (XREADGROUP ...
 *     0) and runs what it finds; then it reads new entries (">"): up to
 *     jobs.batch from the streams of quick types (probe), up to 8 from each
 *     stream of a file type (hash, repair) and one from a stream of a slow
 *     type (scan) without waiting, or, when there is none, one from any
 *     stream with BLOCK jobs.block_ms; and now and then it XAUTOCLAIMs
 *     entries idle longer than jobs.visibility_timeout (their consumer died
 *     or hangs).
 *  2. It claims the rows of a batch (the quick and file entries read
 *     together, or one slow entry) in one transaction: UPDATE ... SET
 *     state='running', attempts+1, claimed_by, claimed_at WHERE id IN
 *     (...) AND (state='pending' OR state='running' under a claim older than
 * half the visibility timeout) AND not_before <= now; a SELECT of what it
 *     claimed; the attempts the previous consumers left open closed as
 *     lost; the new attempts in one INSERT. A row that is done or dead: the
 *     entry is acknowledged and deleted (a duplicate). A row not yet due:
 *     the entry is acknowledged and deleted too; the reconciler publishes it
 *     when its backoff is over. A running row claimed recently belongs to a
 *     live consumer and is skipped like a duplicate.
 *  3. The handlers run (below). A slow job runs in its own transaction,
 *     which also sets "done". Quick and file jobs run in one transaction,
 *     each after a SAVEPOINT; those that succeeded are set "done" together,
 *     and the transaction commits, early once it has run 100 ms. Only after
 *     the commit are the entries acknowledged and deleted, all in one round
 *     trip (XACK, XDEL; never MAXLEN: on Redis 7.0 it deletes entries that
 *     are still pending). A transaction that fails is rolled back, and its
 *     jobs that are still this consumer's run again one by one.
 *  4. A failure: the handler's writes are rolled back (its transaction, or
 *     to its savepoint); the row goes back to pending with not_before = now
 *     + backoff (jobs.backoff_base doubling per attempt up to
 *     jobs.backoff_max, with jitter) and last_error; or, after max_attempts
 *     deliveries, to dead, with an alert "job.dead" (detail: id, type,
 *     reason) and an audit row — in the batch's transaction, or in a new
 *     one after a slow job's rollback. Then XACK and XDEL.
 *  5. A claimed job is not started once a stop was asked or once its entry
 *     was read half the visibility timeout ago: it is given back (its
 *     attempt closed as lost with the reason, the row pending again with the
 *     attempt not counted, published again at once).
 *
 * The reconciler (one child per interval across all hosts, under a Redis
 * lock like the account sweep) publishes again what Redis does not hold.
 * Per type: when the stream's length (undelivered and unacknowledged
 * entries; acknowledged ones are deleted) is at least the number of due
 * pending and running rows, nothing; otherwise up to the shortfall, the
 * due pending jobs published longest ago (never published first, none
 * published less than jobs.republish_after ago), then running jobs whose
 * claim is older than twice the visibility timeout (Redis lost their
 * pending entries). So a Redis that loses everything (FLUSHALL, a restart
 * without its file) loses no job, and a large backlog is not published
 * again every interval.
 */
#ifndef LICHENG_WORKERS_JOBS_H
#define LICHENG_WORKERS_JOBS_H

#include <stddef.h>
#include <stdint.h>

struct conf;
struct db;
struct kv;
struct pool;
struct store;

/* What a handler gets. Everything belongs to the runner. */
struct job_ctx {
	const struct conf *conf;
	struct db *db; /* the child's DB_WORKER handle; a transaction is
			* open: the handler's writes commit with "done" */
	struct kv *kv; /* the child's Redis handle */
	struct store *store; /* both roots, ids read from the database; NULL
			      * when they could not be read (the handler
			      * fails, the job is retried) */
	struct pool *pool;
	int slot;
	uint64_t id;
	const char *type;
	const char *payload; /* the row's JSON object, NUL-terminated */
	int attempt; /* 1 for the first delivery */
	char err[512]; /* a failing handler says why here */
	/* Set by a handler that has something to do once its transaction
	 * has committed (e.g. remove a marker file that let a rerun after a
	 * crash recognise its half-done work); run by the runner after the
	 * commit and before XACK, never after a rollback. NULL by default. */
	void (*after_commit)(struct job_ctx *jc);
	void *after_arg; /* the handler's, for after_commit; it frees it */
};

/*
 * A handler: 0 when the job's effect is done (its database writes are in
 * the open transaction and commit with the job), -1 when it failed and
 * should be retried later (jc->err says why, in English, for the row and
 * `licheng jobs show`). It must be idempotent: running it again after a
 * crash at any point leaves the same state (a job may also run again
 * when its batch's transaction fails). It must not commit, roll back or
 * begin a transaction itself, nor use savepoints (the runner rolls a
 * failing job of a batch back to its own). A handler that runs long calls
 * pool_child_poll only to learn about a stop: a stopping child finishes
 * its job first.
 */
typedef int (*job_handler)(struct job_ctx *jc);

struct job_type {
	const char *name; /* [a-z_]{1,32}: the stream <prefix>jobs:<name> */
	job_handler run;
};

/* The handlers, each in workers/job_<name>.c. */
int job_hash_run(struct job_ctx *jc); /* read both copies back, repair */
int job_repair_run(struct job_ctx *jc); /* the same, asked by a download */
int job_scan_run(struct job_ctx *jc); /* clamd, command or none */
int job_probe_run(struct job_ctx *jc); /* no effect: tests the path */

/* The registered types, NULL-terminated. */
extern const struct job_type job_types[];

struct jobs;

/* A consumer for the child in slot, named "<host>:<pid>"; c, db and p must
 * outlive it. It opens its own Redis connection on first use. The caller
 * owns the result and frees it with jobs_free. */
struct jobs *
jobs_new(const struct conf *c, struct db *db, struct pool *p, int slot);
/* Publishes again the entries j read but did not run (so that a stopping
 * child does not leave them to XAUTOCLAIM), closes the connection and frees
 * j; accepts NULL. */
void jobs_free(struct jobs *j);

/*
 * Runs at most one batch of jobs (its own pending ones first, then claimed
 * stalled ones, then new ones, waiting up to jobs.block_ms for one): up to
 * jobs.batch of quick types, a few of a file type or one of a slow type;
 * and the reconciler when it is due and this child wins its lock. 1 when
 * it ran something (a batch or the reconciler) or waited in Redis for new
 * entries (the caller looks again at once), 0 when it could not look: a
 * Redis or database outage is logged once and the caller naps. A stop
 * asked during a batch is honoured between its jobs.
 */
int jobs_poll(struct jobs *j);

/* The backoff before attempt (>= 2), in ms, without jitter: base * 2^(n-2)
 * seconds, at most max seconds. */
int64_t jobs_backoff_ms(int base, int max, int attempt);

#endif
