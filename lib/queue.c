/*
 * queue: the outbox's two halves for the programs that create jobs — the
 * row inside the caller's transaction, and the XADD after the commit. The
 * stream entry holds only the job id; everything else is in the row.
 */
#include "queue.h"

#include <inttypes.h>
#include <stdio.h>
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
queue_publish(struct kv *kv, struct db *db, const char *type, uint64_t id)
{
	char stream[256], idtext[24];
	const char *argv[5];
	size_t argvlen[5];
	struct db_param p[1];
	redisReply *rep;
	int n, rc = -1;

	if (!queue_type_ok(type)) {
		log_error("queue: bad job type \"%s\"", type);
		return -1;
	}
	n = snprintf(stream, sizeof(stream), "%sjobs:%s", kv_prefix(kv), type);
	if (n < 0 || (size_t)n >= sizeof(stream)) {
		log_error("queue: the stream name of %s does not fit in %zu "
			  "bytes; shorten redis.prefix",
		    type, sizeof(stream));
		return -1;
	}
	str_printf(idtext, sizeof(idtext), "%" PRIu64, id);
	argv[0] = "XADD";
	argv[1] = stream;
	argv[2] = "*";
	argv[3] = "job";
	argv[4] = idtext;
	for (n = 0; n < 5; n++)
		argvlen[n] = strlen(argv[n]);
	rep = kv_cmdargv(kv, 5, argv, argvlen);
	if (rep != NULL && rep->type == REDIS_REPLY_STRING)
		rc = 0;
	if (rc != 0)
		log_warn("queue: job %" PRIu64 " (%s) not published: %s; the "
			 "reconciler will publish it",
		    id, type,
		    rep != NULL && rep->type == REDIS_REPLY_ERROR
			? rep->str
			: kv_errstr(kv));
	if (rep != NULL)
		freeReplyObject(rep);
	if (rc != 0)
		return -1;
	/* Only a pending row: a worker may already have claimed it. */
	p[0] = DB_INT((long long)id);
	if (db_exec(db,
		"UPDATE jobs SET published_at = UTC_TIMESTAMP(6) WHERE id = ? "
		"AND state = 'pending'",
		p, 1, NULL, NULL) != 0)
		log_warn("queue: job %" PRIu64 " (%s) is in Redis but its "
			 "published_at was not recorded (%s); the reconciler "
			 "may publish it once more",
		    id, type, db_errstr(db));
	return 0;
}
