/*
 * queue: the outbox of DESIGN.md "Jobs". A job is a row of the jobs table,
 * inserted in the same transaction as the change that needs it; after that
 * transaction commits, its id is published with XADD to the stream
 * <prefix>jobs:<type>. Stream entries carry only the job id. Publishing may
 * fail (Redis down): the row stays pending and the reconciler of
 * licheng-worker publishes it later, so no job is lost.
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

/* XADD <prefix>jobs:<type> * job <id>, after the commit. 0, or -1 when
 * Redis did not take it (logged; the reconciler publishes it later). */
int queue_publish(struct kv *kv, const char *type, uint64_t id);

#endif
