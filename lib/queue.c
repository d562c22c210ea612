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
queue_publish(struct kv *kv, const char *type, uint64_t id)
{
	char stream[96], idtext[24];
	redisReply *rep;
	int rc = -1;

	if (!queue_type_ok(type))
		return -1;
	str_printf(stream, sizeof(stream), "%sjobs:%s", kv_prefix(kv), type);
	str_printf(idtext, sizeof(idtext), "%" PRIu64, id);
	rep = kv_cmd(kv, "XADD %s * job %s", stream, idtext);
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
	return rc;
}
