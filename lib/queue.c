/*
 * queue: the outbox's two halves for the programs that create jobs — the
 * row inside the caller's transaction, and the XADD after the commit. The
 * stream entry holds only the job id; everything else is in the row.
 */
#include "queue.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "kv.h"
#include "log.h"
#include "util.h"

static int
queue_type_ok(const char *type)
{
	size_t i, n = strlen(type);

	if (n == 0 || n > QUEUE_TYPE_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((type[i] >= 'a' && type[i] <= 'z') || type[i] == '_'))
			return 0;
	return 1;
}

int
queue_enqueue_tx(
    struct db *db, const char *type, const char *payload, uint64_t *id)
{
	struct db_param p[2] = {DB_STR(type), DB_STR(payload)};
	unsigned long long insert_id = 0;

	*id = 0;
	if (!queue_type_ok(type)) {
		log_error("queue: bad job type \"%s\"", type);
		return -1;
	}
	if (db_exec(db,
		"INSERT INTO jobs (type, payload, not_before) "
		"VALUES (?, ?, UTC_TIMESTAMP(6))",
		p, 2, NULL, &insert_id) != 0)
		return -1;
	*id = (uint64_t)insert_id;
	return 0;
}

int
queue_enqueue_many_tx(struct db *db, const char *type,
    const char *const *payload, size_t n, uint64_t *ids)
{
	struct db_param p[2 * QUEUE_PUBLISH_CHUNK];
	struct db_res *res = NULL;
	size_t done, size, i;
	struct buf sql;
	int rc = 0;

	if (!queue_type_ok(type)) {
		log_error("queue: bad job type \"%s\"", type);
		return -1;
	}
	buf_init(&sql);
	/* A power of two rows per statement: a few statement sizes. */
	for (done = 0; rc == 0 && done < n; done += size) {
		for (size = 1;
		     size * 2 <= n - done && size * 2 <= QUEUE_PUBLISH_CHUNK;
		     size *= 2)
			;
		buf_reset(&sql);
		buf_puts(&sql,
		    "INSERT INTO jobs (type, payload, not_before) "
		    "VALUES ");
		for (i = 0; i < size; i++) {
			buf_puts(&sql,
			    i == 0 ? "(?, ?, UTC_TIMESTAMP(6))"
				   : ", (?, ?, UTC_TIMESTAMP(6))");
			p[2 * i] = DB_STR(type);
			p[2 * i + 1] = DB_STR(payload[done + i]);
		}
		buf_puts(&sql, " RETURNING id");
		if ((res = db_query(db, sql.data, p, 2 * size)) == NULL ||
		    db_res_rows(res) != size) {
			log_error("queue: %zu %s jobs not enqueued: %s", n,
			    type, res == NULL ? db_errstr(db) : "ids missing");
			rc = -1;
		}
		for (i = 0; rc == 0 && i < size; i++)
			ids[done + i] =
			    strtoull(db_res_get(res, i, 0), NULL, 10);
		db_res_free(res);
		res = NULL;
	}
	buf_free(&sql);
	return rc;
}

size_t
queue_in_list(
    struct buf *marks, struct db_param *p, const uint64_t *ids, size_t n)
{
	size_t i, size = 1;

	if (n == 0 || n > QUEUE_IN_MAX)
		return 0;
	while (size < n)
		size *= 2;
	for (i = 0; i < size; i++) {
		buf_puts(marks, i == 0 ? "?" : ", ?");
		p[i] = DB_INT((long long)ids[i < n ? i : n - 1]);
	}
	return size;
}

/* Builds q's statement around an IN list of the ids into sql and p (room
 * for QUEUE_IN_MAX + QUEUE_IN_EXTRA). The number of parameters; 0 when the
 * ids or q's parameters are too many or none. */
static size_t
queue_in_build(struct buf *sql, struct db_param *p, const struct queue_in *q,
    const uint64_t *ids, size_t n)
{
	size_t i, np;

	if (q->npre + q->npost > QUEUE_IN_EXTRA)
		return 0;
	buf_puts(sql, q->head);
	for (i = 0; i < q->npre; i++)
		p[i] = q->pre[i];
	if ((np = queue_in_list(sql, p + q->npre, ids, n)) == 0)
		return 0;
	np += q->npre;
	buf_puts(sql, q->tail);
	for (i = 0; i < q->npost; i++)
		p[np++] = q->post[i];
	return np;
}

int
queue_in_exec(struct db *db, const struct queue_in *q, const uint64_t *ids,
    size_t n, unsigned long long *affected)
{
	struct db_param p[QUEUE_IN_MAX + QUEUE_IN_EXTRA];
	struct buf sql;
	size_t np;
	int rc = -1;

	buf_init(&sql);
	if ((np = queue_in_build(&sql, p, q, ids, n)) > 0)
		rc = db_exec(db, sql.data, p, np, affected, NULL);
	else
		log_error("queue: %zu ids do not make an IN list", n);
	buf_free(&sql);
	return rc;
}

struct db_res *
queue_in_query(
    struct db *db, const struct queue_in *q, const uint64_t *ids, size_t n)
{
	struct db_param p[QUEUE_IN_MAX + QUEUE_IN_EXTRA];
	struct db_res *res = NULL;
	struct buf sql;
	size_t np;

	buf_init(&sql);
	if ((np = queue_in_build(&sql, p, q, ids, n)) > 0)
		res = db_query(db, sql.data, p, np);
	else
		log_error("queue: %zu ids do not make an IN list", n);
	buf_free(&sql);
	return res;
}

/* The stream of type, or -1 (logged) when the name does not fit. */
static int
queue_stream(char *out, size_t outlen, struct kv *kv, const char *type)
{
	int n;

	if (!queue_type_ok(type)) {
		log_error("queue: bad job type \"%s\"", type);
		return -1;
	}
	n = snprintf(out, outlen, "%sjobs:%s", kv_prefix(kv), type);
	if (n < 0 || (size_t)n >= outlen) {
		log_error("queue: the stream name of %s does not fit in %zu "
			  "bytes; shorten redis.prefix",
		    type, outlen);
		return -1;
	}
	return 0;
}

/* One chunk (n <= QUEUE_PUBLISH_CHUNK): job ids[i] of types[i] to
 * streams[i], the XADDs in one round trip, then published_at of those Redis
 * took in one UPDATE. How many it took. */
static size_t
queue_publish_chunk(struct kv *kv, struct db *db, const char *const *types,
    const char *const *streams, const uint64_t *ids, size_t n)
{
	char idtext[QUEUE_PUBLISH_CHUNK][24];
	const char *argv[QUEUE_PUBLISH_CHUNK][5];
	struct kv_cmd cmd[QUEUE_PUBLISH_CHUNK] = {{0, NULL, NULL}};
	redisReply *rep[QUEUE_PUBLISH_CHUNK];
	uint64_t took[QUEUE_PUBLISH_CHUNK];
	static const struct queue_in published = {
	    .head = "UPDATE jobs SET published_at = UTC_TIMESTAMP(6) WHERE "
		    "id IN (",
	    .tail = ") AND state = 'pending'",
	};
	const char *why = NULL;
	size_t i, ntook = 0;
	int sent;

	for (i = 0; i < n; i++) {
		str_printf(idtext[i], sizeof(idtext[i]), "%" PRIu64, ids[i]);
		argv[i][0] = "XADD";
		argv[i][1] = streams[i];
		argv[i][2] = "*";
		argv[i][3] = "job";
		argv[i][4] = idtext[i];
		cmd[i].argc = 5;
		cmd[i].argv = argv[i];
		cmd[i].argvlen = NULL;
	}
	sent = kv_pipeline(kv, cmd, n, rep) == 0;
	if (!sent)
		why = kv_errstr(kv);
	for (i = 0; sent && i < n; i++) {
		if (rep[i]->type == REDIS_REPLY_STRING)
			took[ntook++] = ids[i];
		else if (why == NULL)
			why = rep[i]->type == REDIS_REPLY_ERROR
			    ? rep[i]->str
			    : "not an entry id";
	}
	if (ntook < n) {
		if (n == 1)
			log_warn("queue: job %" PRIu64 " (%s) not published: "
				 "%s; the reconciler will publish it",
			    ids[0], types[0], why);
		else
			log_warn("queue: %zu of %zu %s%s jobs (ids %" PRIu64
				 "..%" PRIu64 ") not published: %s; the "
				 "reconciler will publish them",
			    n - ntook, n, types[0],
			    strcmp(types[0], types[n - 1]) != 0 ? " and other"
								: "",
			    ids[0], ids[n - 1], why);
	}
	for (i = 0; sent && i < n; i++)
		freeReplyObject(rep[i]);
	if (ntook == 0)
		return 0;
	/* Only pending rows: a worker may already have claimed one. */
	if (queue_in_exec(db, &published, took, ntook, NULL) != 0)
		log_warn("queue: %zu %s job%s (ids %" PRIu64 "..%" PRIu64
			 ") in Redis but published_at was not recorded (%s); "
			 "the reconciler may publish them once more",
		    ntook, types[0], ntook == 1 ? " is" : "s are", took[0],
		    took[ntook - 1], db_errstr(db));
	return ntook;
}

long
queue_publish_many(struct kv *kv, struct db *db, const char *type,
    const uint64_t *ids, size_t n)
{
	const char *types[QUEUE_PUBLISH_CHUNK], *streams[QUEUE_PUBLISH_CHUNK];
	char stream[QUEUE_STREAM_MAX];
	size_t done, k, i;
	long took = 0;

	if (queue_stream(stream, sizeof(stream), kv, type) != 0)
		return -1;
	for (i = 0; i < QUEUE_PUBLISH_CHUNK; i++) {
		types[i] = type;
		streams[i] = stream;
	}
	for (done = 0; done < n; done += k) {
		k = n - done < QUEUE_PUBLISH_CHUNK ? n - done
						   : QUEUE_PUBLISH_CHUNK;
		took += (long)queue_publish_chunk(
		    kv, db, types, streams, ids + done, k);
	}
	return took;
}

long
queue_publish_jobs(struct kv *kv, struct db *db, const char *const *types,
    const uint64_t *ids, size_t n)
{
	char stream[QUEUE_PUBLISH_MIXED][QUEUE_STREAM_MAX];
	const char *streams[QUEUE_PUBLISH_MIXED];
	size_t done, k, i;
	long took = 0;

	for (done = 0; done < n; done += k) {
		k = n - done < QUEUE_PUBLISH_MIXED ? n - done
						   : QUEUE_PUBLISH_MIXED;
		for (i = 0; i < k; i++) {
			if (queue_stream(stream[i], sizeof(stream[i]), kv,
				types[done + i]) != 0)
				return -1;
			streams[i] = stream[i];
		}
		took += (long)queue_publish_chunk(
		    kv, db, types + done, streams, ids + done, k);
	}
	return took;
}

int
queue_publish(struct kv *kv, struct db *db, const char *type, uint64_t id)
{
	return queue_publish_many(kv, db, type, &id, 1) == 1 ? 0 : -1;
}
