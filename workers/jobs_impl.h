/*
 * jobs_impl: the job runner's insides, shared by its three files and by
 * nothing else — jobs.c (the streams: reading, acknowledging, the child's
 * loop), jobs_batch.c (claiming and running a batch of jobs) and
 * jobs_reconcile.c (publishing again what Redis does not hold). The
 * contract with the rest of licheng-worker is jobs.h.
 */
#ifndef LICHENG_WORKERS_JOBS_IMPL_H
#define LICHENG_WORKERS_JOBS_IMPL_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

#include "jobs.h"

#define JOBS_GROUP "workers"
#define JOBS_TYPES_MAX 8
#define JOBS_KEY_MAX 256
#define JOBS_ENTRY_ID_MAX 48 /* "<ms>-<seq>": at most 41 bytes */
#define JOBS_CONSUMER_MAX 96 /* job_attempts.consumer, claimed_by */

/* How a job type is read from its stream and run. */
enum jobs_kind {
	JOBS_KIND_SLOW, /* one entry at a time, in a transaction of its own */
	JOBS_KIND_FILE, /* a few at a time, run in batches */
	JOBS_KIND_QUICK /* jobs.batch at a time, run in batches */
};

/* One stream entry taken from Redis and not yet finished with. */
struct jobs_entry {
	int stream; /* index in job_types */
	char id[JOBS_ENTRY_ID_MAX];
	uint64_t job; /* 0 when the entry is malformed */
	int64_t taken_at; /* now_ms() when it was read */
	const char *why; /* why it is malformed */
};

struct jobs {
	const struct conf *conf;
	struct db *db; /* the child's; not owned */
	struct pool *pool;
	int slot;
	struct kv *kv;
	struct store *store; /* NULL until the roots' ids are read */
	int64_t store_retry_at;
	int ntypes;
	char stream[JOBS_TYPES_MAX][JOBS_KEY_MAX];
	enum jobs_kind kind[JOBS_TYPES_MAX];
	size_t take[JOBS_TYPES_MAX]; /* entries a read takes of the type */
	char drain_from[JOBS_TYPES_MAX][JOBS_ENTRY_ID_MAX];
	char claim_from[JOBS_TYPES_MAX][JOBS_ENTRY_ID_MAX];
	char lock[JOBS_KEY_MAX];
	char consumer[JOBS_CONSUMER_MAX];
	int broken; /* the keys do not fit: this child runs no job */
	int groups; /* the groups exist (as far as we know) */
	int drained; /* the own pending list was read to its end */
	int block_ms;
	size_t batch; /* jobs.batch */
	unsigned slow_turn; /* the slow stream read first next time */
	int64_t next_claim;
	int64_t next_reconcile;
	int kv_down; /* logged once per outage */
	int db_down;
	struct jobs_entry *local; /* read, not finished with: cap of them */
	size_t nlocal, cap;
};

/* jobs.c */
/* How a job type is read and run (see enum jobs_kind). */
enum jobs_kind jobs_kind_of(const struct conf *c, const char *type);
/* <prefix>jobs:<name> into out. 0/-1 (it does not fit). */
int jobs_key(char *out, size_t outlen, const struct kv *kv, const char *name);
/* A command to Redis as an argument vector. */
redisReply *jobs_cmd(struct jobs *j, int argc, const char **argv);
/* Redis or the database failed, or answers again: logged once per
 * outage. */
void jobs_kv_failed(struct jobs *j, const char *what, const redisReply *rep);
void jobs_kv_ok(struct jobs *j);
void jobs_db_failed(struct jobs *j, const char *what);
void jobs_db_ok(struct jobs *j);
/* XACK and XDEL of n entries in one round trip; failures are logged. */
void jobs_ack(struct jobs *j, const struct jobs_entry *const *e, size_t n);
/* The child's store; NULL while the roots' ids cannot be read. */
struct store *jobs_store(struct jobs *j);
/* The handler of type, or NULL. */
job_handler jobs_handler(const char *type);
/* Up to 20 % more than ms. */
int64_t jobs_jitter(int64_t ms);

/* jobs_batch.c */
/* How many entries at the front of the local queue form the next batch. */
size_t jobs_next_batch(const struct jobs *j);
/* Claims, runs and acknowledges the n entries at the front of the local
 * queue and takes them off it, but those of a claim the database did not
 * answer. 1 when the claim was made, 0 when the database failed. */
int jobs_run_batch(struct jobs *j, size_t n);

/* jobs_reconcile.c */
/* The reconciler, when it is due and this child takes its lock. 1 when it
 * ran. */
int jobs_reconcile(struct jobs *j);

#endif
