/*
 * heartbeat: publishes one worker process's record in Redis (see
 * heartbeat.h for the keys) and cleans up after itself and, for a master,
 * after children that were killed. It must never block a job on Redis nor
 * flood the log during an outage: a failure is logged once, then again only
 * after Redis has answered in between.
 */
#include "heartbeat.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "kv.h"
#include "log.h"
#include "pool.h"
#include "util.h"

/* Sorted-set entries older than this are dropped by any master's beat. */
#define HEARTBEAT_FORGET_AFTER 600
#define HEARTBEAT_KEY_MAX 512
#define HEARTBEAT_ID_MAX (HOST_NAME_MAX + 24)

struct heartbeat {
	struct kv *kv;
	pid_t pid;
	pid_t master;
	int interval; /* seconds */
	int down; /* 1 while Redis fails: log once */
	char host[HOST_NAME_MAX + 1];
	char id[HEARTBEAT_ID_MAX]; /* <host>:<pid> */
};

struct heartbeat *
heartbeat_new(const struct conf *c, pid_t master)
{
	struct heartbeat *hb;

	hb = xcalloc(1, sizeof(*hb));
	hb->pid = getpid();
	hb->master = master;
	hb->interval = c->worker_heartbeat > 0 ? c->worker_heartbeat : 1;
	if (gethostname(hb->host, sizeof(hb->host)) != 0) {
		log_warn("gethostname: %s; records are published as "
			 "\"localhost\"",
		    strerror(errno));
		str_copy(hb->host, sizeof(hb->host), "localhost");
	}
	hb->host[sizeof(hb->host) - 1] = '\0';
	/* The host name is at most HOST_NAME_MAX bytes and a pid at most
	 * 20 digits, so the id always fits. */
	snprintf(hb->id, sizeof(hb->id), "%s:%ld", hb->host, (long)hb->pid);
	hb->kv = kv_new(c);
	return hb;
}

void
heartbeat_free(struct heartbeat *hb)
{
	if (hb == NULL)
		return;
	kv_free(hb->kv);
	free(hb);
}

/* Writes prefix + name (+ ":" + id when id is not NULL) into out. */
static int
heartbeat_key(const struct heartbeat *hb, char *out, size_t outlen,
    const char *name, const char *id)
{
	int n;

	if (id != NULL)
		n = snprintf(
		    out, outlen, "%s%s:%s", kv_prefix(hb->kv), name, id);
	else
		n = snprintf(out, outlen, "%s%s", kv_prefix(hb->kv), name);
	if (n < 0 || (size_t)n >= outlen) {
		log_error("Redis key for %s is longer than %zu bytes; shorten "
			  "redis.prefix",
		    name, outlen - 1);
		return -1;
	}
	return 0;
}

static int
heartbeat_fail(struct heartbeat *hb, const char *what, const char *why)
{
	if (!hb->down)
		log_warn("%s: %s; retrying every %d s, logged again only "
			 "after Redis has recovered",
		    what, why, hb->interval);
	hb->down = 1;
	return -1;
}

static void
heartbeat_recovered(struct heartbeat *hb)
{
	if (hb->down)
		log_info("Redis answers again; heartbeats resumed");
	hb->down = 0;
}

/* Takes ownership of r: checks it and frees it. 0 or -1. */
static int
heartbeat_reply(struct heartbeat *hb, redisReply *r, const char *what)
{
	int rc = 0;

	if (r == NULL)
		return heartbeat_fail(hb, what, kv_errstr(hb->kv));
	if (r->type == REDIS_REPLY_ERROR)
		rc = heartbeat_fail(hb, what, r->str);
	freeReplyObject(r);
	return rc;
}

static int
heartbeat_children(struct pool *p)
{
	struct pool_board *b = pool_board(p);
	int i, n = 0;

	for (i = 0; i < b->nslots; i++)
		if (atomic_load(&b->slots[i].pid) > 0 &&
		    atomic_load(&b->slots[i].state) != POOL_SLOT_EMPTY)
			n++;
	return n;
}

static int
heartbeat_is_child(struct pool *p, long pid)
{
	struct pool_board *b = pool_board(p);
	int i;

	for (i = 0; i < b->nslots; i++)
		if (atomic_load(&b->slots[i].pid) == pid &&
		    atomic_load(&b->slots[i].state) != POOL_SLOT_EMPTY)
			return 1;
	return 0;
}

/* Removes one child's record and its sorted-set entry. */
static int
heartbeat_remove(struct heartbeat *hb, const char *id)
{
	char key[HEARTBEAT_KEY_MAX], set[HEARTBEAT_KEY_MAX];

	if (heartbeat_key(hb, key, sizeof(key), "worker", id) != 0 ||
	    heartbeat_key(hb, set, sizeof(set), "workers", NULL) != 0)
		return -1;
	if (heartbeat_reply(hb, kv_cmd(hb->kv, "DEL %s", key), "DEL") != 0 ||
	    heartbeat_reply(
		hb, kv_cmd(hb->kv, "ZREM %s %s", set, id), "ZREM") != 0)
		return -1;
	return 0;
}

/*
 * Whether the record named id belongs to a child of this master that is no
 * longer running (all: whether it belongs to any child of this master).
 * Records of other hosts and other masters are never touched.
 */
static int
heartbeat_is_ghost(
    struct heartbeat *hb, struct pool *p, const char *id, int all)
{
	char key[HEARTBEAT_KEY_MAX], mine[24];
	const char *colon;
	redisReply *r;
	size_t hostlen;
	long pid;
	char *end;
	int ghost;

	if ((colon = strrchr(id, ':')) == NULL)
		return 0;
	hostlen = (size_t)(colon - id);
	if (hostlen != strlen(hb->host) || memcmp(id, hb->host, hostlen) != 0)
		return 0;
	errno = 0;
	pid = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || pid <= 0)
		return 0;
	if (!all && heartbeat_is_child(p, pid))
		return 0;
	if (heartbeat_key(hb, key, sizeof(key), "worker", id) != 0)
		return 0;
	if ((r = kv_cmd(hb->kv, "HGET %s master", key)) == NULL) {
		heartbeat_fail(hb, "HGET", kv_errstr(hb->kv));
		return 0;
	}
	snprintf(mine, sizeof(mine), "%ld", (long)hb->pid);
	ghost = r->type == REDIS_REPLY_STRING && strcmp(r->str, mine) == 0;
	freeReplyObject(r);
	return ghost;
}

static int
heartbeat_reap(struct heartbeat *hb, struct pool *p, int all)
{
	char set[HEARTBEAT_KEY_MAX];
	redisReply *r;
	size_t i;
	int rc = 0;

	if (heartbeat_key(hb, set, sizeof(set), "workers", NULL) != 0)
		return -1;
	if ((r = kv_cmd(hb->kv, "ZRANGE %s 0 -1", set)) == NULL)
		return heartbeat_fail(hb, "ZRANGE", kv_errstr(hb->kv));
	if (r->type != REDIS_REPLY_ARRAY) {
		rc = heartbeat_fail(hb, "ZRANGE",
		    r->type == REDIS_REPLY_ERROR ? r->str : "not an array");
		freeReplyObject(r);
		return rc;
	}
	for (i = 0; i < r->elements; i++) {
		const char *id = r->element[i]->str;

		if (r->element[i]->type != REDIS_REPLY_STRING ||
		    !heartbeat_is_ghost(hb, p, id, all))
			continue;
		if (heartbeat_remove(hb, id) != 0) {
			rc = -1;
			break;
		}
		if (!all)
			log_info("removed the record of child %s, which exited "
				 "without cleaning up",
			    id);
	}
	freeReplyObject(r);
	return rc;
}

/* Publishes the record of child pid (in slot, under master) as busy with
 * job since the wall-clock second since, and its place in the workers set.
 * 0 or -1. */
static int
heartbeat_busy_record(struct heartbeat *hb, long pid, long master, int slot,
    const char *job, long long since, unsigned long long served)
{
	char id[HEARTBEAT_ID_MAX], key[HEARTBEAT_KEY_MAX];
	char workers[HEARTBEAT_KEY_MAX];
	long long now = (long long)time(NULL);

	snprintf(id, sizeof(id), "%s:%ld", hb->host, pid);
	if (heartbeat_key(hb, key, sizeof(key), "worker", id) != 0 ||
	    heartbeat_key(hb, workers, sizeof(workers), "workers", NULL) != 0)
		return -1;
	if (heartbeat_reply(hb,
		kv_cmd(hb->kv,
		    "HSET %s host %s pid %ld master %ld slot %d state busy "
		    "job %s since %lld served %llu heartbeat %lld",
		    key, hb->host, pid, master, slot, job, since, served, now),
		"HSET") != 0 ||
	    heartbeat_reply(hb,
		kv_cmd(hb->kv, "EXPIRE %s %d", key, 3 * hb->interval),
		"EXPIRE") != 0 ||
	    heartbeat_reply(hb,
		kv_cmd(hb->kv, "ZADD %s %lld %s", workers, now, id),
		"ZADD") != 0)
		return -1;
	return 0;
}

/*
 * A child busy with a long job cannot beat, so its master publishes for it
 * what the scoreboard says it is doing ("probe #12" since when), which also
 * keeps its record from expiring while the job runs. The child's own beat
 * takes over when the job is done.
 */
int
heartbeat_master_busy(struct heartbeat *hb, struct pool *p)
{
	struct pool_board *b = pool_board(p);
	char what[POOL_WHAT_MAX];
	long long busy, since;
	int i, pid;

	for (i = 0; i < b->nslots; i++) {
		struct pool_slot *s = &b->slots[i];

		pid = atomic_load(&s->pid);
		busy = atomic_load(&s->busy_since);
		if (pid <= 0 || busy == 0 ||
		    atomic_load(&s->state) != POOL_SLOT_ACTIVE)
			continue;
		/* Advisory text written by the child: copied, terminated. */
		memcpy(what, s->what, sizeof(what));
		what[sizeof(what) - 1] = '\0';
		if (what[0] == '\0' || strcmp(what, "heartbeat") == 0)
			continue;
		since = (long long)time(NULL) - (now_ms() - busy) / 1000;
		if (heartbeat_busy_record(hb, pid, (long)hb->pid, i, what,
			since, atomic_load(&s->served)) != 0)
			return -1;
	}
	heartbeat_recovered(hb);
	return 0;
}

int
heartbeat_master_beat(struct heartbeat *hb, struct pool *p)
{
	char key[HEARTBEAT_KEY_MAX], masters[HEARTBEAT_KEY_MAX];
	char workers[HEARTBEAT_KEY_MAX];
	struct pool_board *b = pool_board(p);
	long long now = (long long)time(NULL);
	long long old = now - HEARTBEAT_FORGET_AFTER;

	if (heartbeat_key(hb, key, sizeof(key), "worker-master", hb->id) != 0 ||
	    heartbeat_key(
		hb, masters, sizeof(masters), "worker-masters", NULL) != 0 ||
	    heartbeat_key(hb, workers, sizeof(workers), "workers", NULL) != 0)
		return -1;
	if (heartbeat_reply(hb,
		kv_cmd(hb->kv, "HSET %s target %d children %d heartbeat %lld",
		    key, atomic_load(&b->target), heartbeat_children(p), now),
		"HSET") != 0)
		return -1;
	if (heartbeat_reply(hb,
		kv_cmd(hb->kv, "EXPIRE %s %d", key, 3 * hb->interval),
		"EXPIRE") != 0 ||
	    heartbeat_reply(hb,
		kv_cmd(hb->kv, "ZADD %s %lld %s", masters, now, hb->id),
		"ZADD") != 0 ||
	    heartbeat_reply(hb,
		kv_cmd(hb->kv, "ZREMRANGEBYSCORE %s -inf (%lld", masters, old),
		"ZREMRANGEBYSCORE") != 0 ||
	    heartbeat_reply(hb,
		kv_cmd(hb->kv, "ZREMRANGEBYSCORE %s -inf (%lld", workers, old),
		"ZREMRANGEBYSCORE") != 0)
		return -1;
	if (heartbeat_reap(hb, p, 0) != 0)
		return -1;
	heartbeat_recovered(hb);
	return 0;
}

int
heartbeat_master_gone(struct heartbeat *hb, struct pool *p)
{
	char key[HEARTBEAT_KEY_MAX], masters[HEARTBEAT_KEY_MAX];

	if (heartbeat_key(hb, key, sizeof(key), "worker-master", hb->id) != 0 ||
	    heartbeat_key(
		hb, masters, sizeof(masters), "worker-masters", NULL) != 0)
		return -1;
	if (heartbeat_reply(hb, kv_cmd(hb->kv, "DEL %s", key), "DEL") != 0 ||
	    heartbeat_reply(
		hb, kv_cmd(hb->kv, "ZREM %s %s", masters, hb->id), "ZREM") != 0)
		return -1;
	return heartbeat_reap(hb, p, 1);
}

int
heartbeat_child_beat(struct heartbeat *hb, struct pool *p, int slot)
{
	char key[HEARTBEAT_KEY_MAX];
	struct pool_slot *s = &pool_board(p)->slots[slot];
	long long now;
	int rc = -1;

	if (heartbeat_key(hb, key, sizeof(key), "worker", hb->id) != 0)
		return -1;
	pool_child_busy(p, slot, "heartbeat");
	if (heartbeat_busy_record(hb, (long)hb->pid, (long)hb->master, slot,
		"heartbeat", (long long)time(NULL),
		atomic_load(&s->served)) != 0) {
		pool_child_idle(p, slot);
		return -1;
	}
	pool_child_idle(p, slot);
	now = (long long)time(NULL);
	if (heartbeat_reply(hb,
		kv_cmd(hb->kv,
		    "HSET %s state idle job %s since %lld served %llu", key, "",
		    now, atomic_load(&s->served)),
		"HSET") == 0) {
		heartbeat_recovered(hb);
		rc = 0;
	}
	return rc;
}

int
heartbeat_child_gone(struct heartbeat *hb)
{
	return heartbeat_remove(hb, hb->id);
}
