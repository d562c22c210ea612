/*
 * queue: the outbox of DESIGN.md "Jobs". A job is a row of the jobs table,
 * inserted in the same transaction as the change that needs it; after that
 * transaction commits, its id is published with XADD to the stream
 * <prefix>jobs:<type> and the row's published_at is set. Stream entries
 * carry only the job id. Publishing may fail (Redis down): the row stays
 * pending with published_at NULL and the reconciler of licheng-worker
 * (workers/jobs.c) publishes it later, so no job is lost.
 */
#ifndef LICHENG_QUEUE_H
#define LICHENG_QUEUE_H

#include <stdint.h>

struct db;
struct kv;

/* The job types: [a-z_]{1,32}. */
#define QUEUE_TYPE_MAX 32

/* Inserts a pending job of type with payload (the text of a JSON object)
 * inside the caller's open transaction. Its id goes to *id. 0/-1. */
int queue_enqueue_tx(
    struct db *db, const char *type, const char *payload, uint64_t *id);

/* XADD <prefix>jobs:<type> * job <id>, after the commit, then records the
 * publication in the row (published_at, while it is still pending) so that
 * licheng-worker's reconciler leaves it alone until jobs.republish_after.
 * The reconciler publishes through this function too. 0, or -1 when Redis
 * did not take it (logged; the row's published_at stays as it was, so the
 * reconciler publishes it later). A failure to record published_at after a
 * successful XADD is logged and still 0: the job is in Redis, and at worst
 * the reconciler publishes it once more. */
int queue_publish(struct kv *kv, struct db *db, const char *type, uint64_t id);

#endif
