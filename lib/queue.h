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

#include <stddef.h>
#include <stdint.h>

struct buf;
struct db;
struct db_param;
struct db_res;
struct kv;

/* The job types: [a-z_]{1,32}. */
#define QUEUE_TYPE_MAX 32

/* Inserts a pending job of type with payload (the text of a JSON object)
 * inside the caller's open transaction. Its id goes to *id. 0/-1. */
int queue_enqueue_tx(
    struct db *db, const char *type, const char *payload, uint64_t *id);

/* queue_enqueue_tx of n jobs of one type at once, payload[i] for the i-th:
 * multi-row INSERTs (at most QUEUE_PUBLISH_CHUNK rows each) that return
 * their ids, into ids[0..n-1] in order. 0/-1 (the caller rolls back). */
int queue_enqueue_many_tx(struct db *db, const char *type,
    const char *const *payload, size_t n, uint64_t *ids);

/* XADD <prefix>jobs:<type> * job <id>, after the commit, then records the
 * publication in the row (published_at, while it is still pending) so that
 * licheng-worker's reconciler leaves it alone until jobs.republish_after.
 * The reconciler publishes through this function too. 0, or -1 when Redis
 * did not take it (logged; the row's published_at stays as it was, so the
 * reconciler publishes it later). A failure to record published_at after a
 * successful XADD is logged and still 0: the job is in Redis, and at worst
 * the reconciler publishes it once more. */
int queue_publish(struct kv *kv, struct db *db, const char *type, uint64_t id);

/* queue_publish of n jobs of one type at once: their XADDs pipelined in
 * one round trip and their published_at in one UPDATE, QUEUE_PUBLISH_CHUNK
 * at a time (outside a transaction each UPDATE commits on its own). How
 * many Redis took (n when all), or -1 for a bad type; a failure is logged
 * once per chunk and those jobs wait for the reconciler. */
#define QUEUE_PUBLISH_CHUNK 128
long queue_publish_many(struct kv *kv, struct db *db, const char *type,
    const uint64_t *ids, size_t n);

/* queue_publish of n jobs of any types (job ids[i] of types[i]), such as
 * the hash and scan jobs of one upload: QUEUE_PUBLISH_MIXED at a time, each
 * group's XADDs in one round trip and their published_at in one UPDATE, so
 * that an upload pays one commit for them rather than one per job. How many
 * Redis took, or -1 for a bad type (then none of the rest is tried). */
#define QUEUE_PUBLISH_MIXED 8
long queue_publish_jobs(struct kv *kv, struct db *db, const char *const *types,
    const uint64_t *ids, size_t n);

/* The longest stream name, with its NUL. */
#define QUEUE_STREAM_MAX 256

/* The most ids queue_in_list takes. */
#define QUEUE_IN_MAX 256
/* An IN list of n job ids (1..QUEUE_IN_MAX) for a prepared statement:
 * appends "?, ?, ..." to marks and fills p[0..], n rounded up to a power of
 * two so that a statement is prepared for a few sizes only (p has room for
 * QUEUE_IN_MAX), the last id repeated (which changes nothing in an IN
 * list). The number of parameters filled; 0 when n is 0 or too many. */
size_t queue_in_list(
    struct buf *marks, struct db_param *p, const uint64_t *ids, size_t n);

/* A statement around an IN list of ids: head, the list, tail; its
 * parameters pre[0..npre-1], the ids, post[0..npost-1] (npre + npost at
 * most QUEUE_IN_EXTRA). */
#define QUEUE_IN_EXTRA 4
struct queue_in {
	const char *head; /* "... WHERE id IN (" */
	const char *tail; /* ") AND ..." */
	const struct db_param *pre, *post;
	size_t npre, npost;
};
/* db_exec of q with ids[0..n-1] (1..QUEUE_IN_MAX). 0/-1. */
int queue_in_exec(struct db *db, const struct queue_in *q, const uint64_t *ids,
    size_t n, unsigned long long *affected);
/* db_query of q with ids[0..n-1]; NULL on error. */
struct db_res *queue_in_query(
    struct db *db, const struct queue_in *q, const uint64_t *ids, size_t n);

#endif
