/*
 * jobs_reconcile: the job runner's reconciler (see jobs.c). Every
 * jobs.reconcile_interval one child across all hosts, the one that takes a
 * Redis lock for the interval, publishes again what Redis does not hold —
 * judged per type by the stream's length against the rows that should have
 * an entry, so that a large backlog is not published again every interval —
 * and deletes the consumers of children long gone. Publishing twice is
 * harmless (a job runs only while it is due and pending); publishing
 * nothing while Redis lost a job is not, so it counts conservatively only
 * in the direction of publishing less when jobs finish while it counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "db.h"
#include "jobs.h"
#include "jobs_impl.h"
#include "kv.h"
#include "log.h"
#include "pool.h"
#include "queue.h"
#include "util.h"

/* A job that was never published is left to its producer this long. */
#define JOBS_UNPUBLISHED_GRACE 5
/* A reconciler that lost the lock tries again this long after it
 * expires. */
#define JOBS_AFTER_EXPIRY_MS 50

/* One type's rows as the reconciler counts them. */
struct jobs_due {
	char type[QUEUE_TYPE_MAX + 1];
	long long pending; /* due */
	long long running; /* claimed, under any claim */
	long long xlen; /* entries its stream holds */
};

/* The most types the reconciler looks at in one run, and the most jobs it
 * publishes of one type (the rest at its next run). */
#define JOBS_DUE_TYPES 32
#define JOBS_RECONCILE_MAX 10000

/*
 * Publishes the rows (at most max) that sql selects (id; its parameters
 * p[0..np-1], then a LIMIT), QUEUE_PUBLISH_CHUNK at a time. The number
 * published, or -1 when the database failed.
 */
static long
jobs_republish(struct jobs *j, const char *type, const char *sql,
    struct db_param *p, size_t np, long long max)
{
	struct db_res *res;
	uint64_t *ids;
	long total = 0;
	size_t i, rows;

	if (max > JOBS_RECONCILE_MAX)
		max = JOBS_RECONCILE_MAX;
	p[np] = DB_INT(max);
	if ((res = db_query(j->db, sql, p, np + 1)) == NULL) {
		jobs_db_failed(j, "the reconciler");
		return -1;
	}
	rows = db_res_rows(res);
	ids = xcalloc(rows + 1, sizeof(*ids));
	for (i = 0; i < rows; i++)
		ids[i] = strtoull(db_res_get(res, i, 0), NULL, 10);
	db_res_free(res);
	if (rows > 0)
		total = queue_publish_many(j->kv, j->db, type, ids, rows);
	free(ids);
	return total > 0 ? total : 0;
}

/* The XLEN of the stream of type (0 when it cannot be read), all in one
 * round trip; n types. 0/-1. */
static int
jobs_xlen(struct jobs *j, struct jobs_due *d, size_t n)
{
	char key[JOBS_DUE_TYPES][JOBS_KEY_MAX];
	const char *argv[JOBS_DUE_TYPES][2];
	struct kv_cmd cmd[JOBS_DUE_TYPES] = {{0, NULL, NULL}};
	redisReply *rep[JOBS_DUE_TYPES];
	size_t i;

	for (i = 0; i < n; i++) {
		if (jobs_key(key[i], sizeof(key[i]), j->kv, d[i].type) != 0)
			key[i][0] = '\0';
		argv[i][0] = "XLEN";
		argv[i][1] = key[i];
		cmd[i] = (struct kv_cmd){2, argv[i], NULL};
	}
	if (kv_pipeline(j->kv, cmd, n, rep) != 0) {
		jobs_kv_failed(j, "XLEN", NULL);
		return -1;
	}
	for (i = 0; i < n; i++) {
		d[i].xlen =
		    rep[i]->type == REDIS_REPLY_INTEGER ? rep[i]->integer : 0;
		freeReplyObject(rep[i]);
	}
	return 0;
}

/* A query of the reconciler's without parameters; NULL (logged) when the
 * database failed. */
static struct db_res *
jobs_reconcile_query(struct jobs *j, const char *sql)
{
	struct db_res *res = db_query(j->db, sql, NULL, 0);

	if (res == NULL)
		jobs_db_failed(j, "the reconciler");
	return res;
}

/*
 * Per type (every registered one, and any other that has rows): the
 * entries of its stream, then the due pending rows and the running ones.
 * In that order, so that jobs finishing meanwhile make the shortfall look
 * smaller, never larger. The number of types, or -1.
 */
static int
jobs_due_count(struct jobs *j, struct jobs_due *d)
{
	struct db_res *res;
	size_t i, k, rows, n = 0;

	for (i = 0; i < (size_t)j->ntypes; i++) {
		(void)str_copy(d[n].type, sizeof(d[n].type), job_types[i].name);
		d[n].pending = d[n].running = 0;
		n++;
	}
	res = jobs_reconcile_query(j,
	    "SELECT DISTINCT type FROM jobs WHERE state IN ('pending', "
	    "'running')");
	if (res == NULL)
		return -1;
	rows = db_res_rows(res);
	for (i = 0; i < rows && n < JOBS_DUE_TYPES; i++) {
		const char *type = db_res_get(res, i, 0);

		for (k = 0; k < n && type != NULL && strcmp(d[k].type, type);
		     k++)
			;
		if (type == NULL || k < n ||
		    str_copy(d[n].type, sizeof(d[n].type), type) != 0)
			continue;
		d[n].pending = d[n].running = 0;
		n++;
	}
	db_res_free(res);
	if (jobs_xlen(j, d, n) != 0)
		return -1;
	res = jobs_reconcile_query(j,
	    "SELECT type, SUM(state = 'pending'), SUM(state = 'running') FROM "
	    "jobs WHERE (state = 'pending' AND not_before <= "
	    "UTC_TIMESTAMP(6)) OR state = 'running' GROUP BY type");
	if (res == NULL)
		return -1;
	rows = db_res_rows(res);
	for (i = 0; i < rows; i++)
		for (k = 0; k < n; k++)
			if (db_res_get(res, i, 0) != NULL &&
			    strcmp(d[k].type, db_res_get(res, i, 0)) == 0) {
				d[k].pending = db_res_int(res, i, 1);
				d[k].running = db_res_int(res, i, 2);
			}
	db_res_free(res);
	return (int)n;
}

/*
 * Publishes again what Redis does not hold, per type. A stream's length
 * counts its undelivered and unacknowledged entries (acknowledged ones are
 * deleted), which is one per due pending row and one per running row when
 * nothing was lost; when it holds at least that many, nothing is published
 * (a backlog larger than republish_after's worth of work is not published
 * again every interval). Otherwise up to the shortfall: the due pending
 * rows published longest ago (never published first; none published less
 * than jobs.republish_after ago, none never published younger than its
 * producer's grace), then running rows claimed longer than twice the
 * visibility timeout ago (their entries were lost with Redis's data). The
 * numbers published, or -1 when the database or Redis failed.
 */
static int
jobs_reconcile_publish(struct jobs *j, long *pending, long *running)
{
	const struct conf *c = j->conf;
	struct jobs_due d[JOBS_DUE_TYPES];
	struct db_param p[6];
	long long need;
	long r;
	int i, n;

	*pending = *running = 0;
	if ((n = jobs_due_count(j, d)) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		need = d[i].pending + d[i].running - d[i].xlen;
		if (need <= 0) {
			log_debug("reconciler: %s holds %lld entries for %lld "
				  "due and %lld running jobs; nothing to "
				  "publish",
			    d[i].type, d[i].xlen, d[i].pending, d[i].running);
			continue;
		}
		p[0] = DB_STR(d[i].type);
		p[1] = DB_INT(JOBS_UNPUBLISHED_GRACE);
		p[2] = DB_INT(c->jobs_republish_after);
		r = jobs_republish(j, d[i].type,
		    "SELECT id FROM jobs WHERE type = ? AND state = 'pending' "
		    "AND not_before <= UTC_TIMESTAMP(6) AND ((published_at IS "
		    "NULL AND (attempts > 0 OR created_at <= UTC_TIMESTAMP(6) "
		    "- "
		    "INTERVAL ? SECOND)) OR published_at <= UTC_TIMESTAMP(6) - "
		    "INTERVAL ? SECOND) ORDER BY published_at IS NOT NULL, "
		    "published_at, id LIMIT ?",
		    p, 3, need);
		if (r < 0)
			return -1;
		*pending += r;
		need -= r;
		if (need <= 0)
			continue;
		p[0] = DB_STR(d[i].type);
		p[1] = DB_INT(2 * (long long)c->jobs_visibility_timeout);
		r = jobs_republish(j, d[i].type,
		    "SELECT id FROM jobs WHERE type = ? AND state = 'running' "
		    "AND claimed_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND "
		    "ORDER BY claimed_at, id LIMIT ?",
		    p, 2, need);
		if (r < 0)
			return -1;
		*running += r;
	}
	return 0;
}

/* Takes the reconciler's lock for one interval: 1 taken, 0 held by another
 * consumer (next_reconcile is then just after it expires), -1 Redis
 * failed. */
static int
jobs_reconcile_lock(struct jobs *j, int64_t interval_ms)
{
	char px[24];
	const char *set[6] = {"SET", j->lock, j->consumer, "NX", "PX", px};
	const char *pttl[2] = {"PTTL", j->lock};
	redisReply *rep;
	long long ttl;
	int taken;

	str_printf(px, sizeof(px), "%lld", (long long)interval_ms);
	rep = jobs_cmd(j, 6, set);
	if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
		jobs_kv_failed(j, "SET (the reconciler's lock)", rep);
		if (rep != NULL)
			freeReplyObject(rep);
		return -1;
	}
	taken = rep->type == REDIS_REPLY_STATUS;
	freeReplyObject(rep);
	jobs_kv_ok(j);
	if (taken)
		return 1;
	rep = jobs_cmd(j, 2, pttl);
	ttl =
	    rep != NULL && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1;
	if (rep != NULL)
		freeReplyObject(rep);
	j->next_reconcile =
	    now_ms() + (ttl >= 0 ? ttl : 1000) + JOBS_AFTER_EXPIRY_MS;
	return 0;
}

/* The integer field name of an XINFO CONSUMERS entry (a flat list of
 * names and values), or -1. */
static long long
jobs_info_int(const redisReply *c, const char *name)
{
	size_t i;

	for (i = 0; i + 1 < c->elements; i += 2)
		if (c->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(c->element[i]->str, name) == 0 &&
		    c->element[i + 1]->type == REDIS_REPLY_INTEGER)
			return c->element[i + 1]->integer;
	return -1;
}

/*
 * Every child that ever ran left a consumer in the group; the reconciler
 * deletes those with nothing pending that have not read for twice the
 * visibility timeout (a live one reads every jobs.block_ms, and would only
 * be created again by its next read). The number deleted.
 */
static long
jobs_forget_consumers(struct jobs *j)
{
	const char *info[4] = {"XINFO", "CONSUMERS", NULL, JOBS_GROUP};
	const char *del[5] = {"XGROUP", "DELCONSUMER", NULL, JOBS_GROUP, NULL};
	long long idle_max = (long long)j->conf->jobs_visibility_timeout * 2000;
	redisReply *rep, *r;
	long n = 0;
	size_t i;
	int t;

	for (t = 0; t < j->ntypes; t++) {
		info[2] = j->stream[t];
		rep = jobs_cmd(j, 4, info);
		if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
			if (rep != NULL)
				freeReplyObject(rep);
			continue;
		}
		for (i = 0; i < rep->elements; i++) {
			const redisReply *c = rep->element[i];
			const redisReply *name =
			    c->type == REDIS_REPLY_ARRAY && c->elements >= 2
			    ? c->element[1]
			    : NULL;

			if (name == NULL || name->type != REDIS_REPLY_STRING ||
			    jobs_info_int(c, "pending") != 0 ||
			    jobs_info_int(c, "idle") <= idle_max)
				continue;
			del[2] = j->stream[t];
			del[4] = name->str;
			if ((r = jobs_cmd(j, 5, del)) != NULL &&
			    r->type == REDIS_REPLY_INTEGER)
				n++;
			if (r != NULL)
				freeReplyObject(r);
		}
		freeReplyObject(rep);
	}
	return n;
}

/*
 * The reconciler, when its interval has passed and this child takes the
 * lock: publishes the jobs that Redis does not hold (jobs_reconcile_publish)
 * and deletes the consumers of children long gone. 1 when it ran, 0 when
 * not.
 */
int
jobs_reconcile(struct jobs *j)
{
	const struct conf *c = j->conf;
	int64_t interval = (int64_t)c->jobs_reconcile_interval * 1000;
	int64_t t0 = now_ms();
	long pending, running, gone;
	int rc;

	j->next_reconcile = t0 + interval;
	if (jobs_reconcile_lock(j, interval) != 1)
		return 0;
	pool_child_busy(j->pool, j->slot, "reconcile");
	rc = jobs_reconcile_publish(j, &pending, &running);
	gone = jobs_forget_consumers(j);
	pool_child_idle(j->pool, j->slot);
	if (gone > 0)
		log_info("reconciler: deleted %ld consumer%s of children gone "
			 "for more than twice jobs.visibility_timeout",
		    gone, gone == 1 ? "" : "s");
	if (rc != 0)
		log_warn("the reconciler stopped early (see above); it runs "
			 "again in %d s",
		    c->jobs_reconcile_interval);
	if (pending > 0 || running > 0)
		log_info("reconciler: published %ld pending job%s and %ld "
			 "stalled running job%s in %lld ms",
		    pending, pending == 1 ? "" : "s", running,
		    running == 1 ? "" : "s", (long long)(now_ms() - t0));
	else
		log_debug("reconciler: nothing to publish");
	return 1;
}
