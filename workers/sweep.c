/*
 * sweep: runs the account sweep once per accounts.sweep_interval across
 * every worker host (see sweep.h). The lock is a Redis key set with NX and
 * an expiry of one interval: the child that sets it sweeps, the others
 * wait until it expires and try again, so one sweep runs per interval
 * whatever the number of children and hosts. The sweep itself is safe to
 * run twice at once (an account is disabled and audited once), so a lock
 * lost to a slow sweep costs time, never correctness. It must never take
 * a child down: every failure is logged, once per outage for Redis.
 */
#include "sweep.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "kv.h"
#include "log.h"
#include "pool.h"
#include "review.h"
#include "util.h"

#define SWEEP_KEY_MAX 512
/* Children's first tries are spread this far apart by slot, and a child
 * that lost the lock tries again this long after it expires. */
#define SWEEP_PHASE_MS 100
#define SWEEP_AFTER_EXPIRY_MS 50

struct sweep {
	const struct conf *conf;
	struct db *db; /* the child's; not owned */
	struct kv *kv;
	int64_t next; /* now_ms() of the next try */
	int64_t interval_ms;
	int down; /* Redis failed: logged once until it answers again */
	char id[HOST_NAME_MAX + 24]; /* <host>:<pid>, the lock's value */
};

struct sweep *
sweep_new(const struct conf *c, struct db *db, int slot)
{
	struct sweep *s = xcalloc(1, sizeof(*s));
	char host[HOST_NAME_MAX + 1];

	s->conf = c;
	s->db = db;
	s->interval_ms = (int64_t)c->accounts_sweep_interval * 1000;
	s->next = now_ms() + (int64_t)(slot % 8 + 1) * SWEEP_PHASE_MS;
	if (gethostname(host, sizeof(host)) != 0)
		(void)str_copy(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(s->id, sizeof(s->id), "%s:%ld", host, (long)getpid());
	return s;
}

void
sweep_free(struct sweep *s)
{
	if (s == NULL)
		return;
	kv_free(s->kv);
	free(s);
}

/* Logs a Redis failure once per outage; the next try is an interval
 * away. */
static void
sweep_redis_failed(struct sweep *s, const char *why)
{
	if (!s->down)
		log_warn(
		    "the account sweep's lock is unavailable (%s); no sweep "
		    "runs until Redis answers, retrying every %d s",
		    why, s->conf->accounts_sweep_interval);
	s->down = 1;
	s->next = now_ms() + s->interval_ms;
}

/*
 * Tries to take this interval's lock: 1 taken, 0 another process holds it
 * (s->next is then just after it expires), -1 Redis failed.
 */
static int
sweep_lock(struct sweep *s)
{
	char key[SWEEP_KEY_MAX];
	redisReply *rep;
	long long pttl;
	int n;

	if (s->kv == NULL)
		s->kv = kv_new(s->conf);
	n = snprintf(key, sizeof(key), "%ssweep:accounts", kv_prefix(s->kv));
	if (n < 0 || (size_t)n >= sizeof(key)) {
		sweep_redis_failed(s, "redis.prefix is too long");
		return -1;
	}
	rep = kv_cmd(s->kv, "SET %s %s NX PX %lld", key, s->id,
	    (long long)s->interval_ms);
	if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
		sweep_redis_failed(
		    s, rep != NULL ? rep->str : kv_errstr(s->kv));
		if (rep != NULL)
			freeReplyObject(rep);
		return -1;
	}
	n = rep->type == REDIS_REPLY_STATUS;
	freeReplyObject(rep);
	if (s->down)
		log_info("Redis answers again; account sweeps resume");
	s->down = 0;
	if (n)
		return 1;
	rep = kv_cmd(s->kv, "PTTL %s", key);
	pttl =
	    rep != NULL && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1;
	if (rep != NULL)
		freeReplyObject(rep);
	/* A key without an expiry (or gone meanwhile) is retried soon; a
	 * held lock just after it expires. */
	s->next = now_ms() + (pttl >= 0 ? pttl : 1000) + SWEEP_AFTER_EXPIRY_MS;
	return 0;
}

int
sweep_poll(struct sweep *s, struct pool *p, int slot)
{
	struct review_sweep_stats st;
	struct buf what;
	int64_t t0;
	int rc;

	if (now_ms() < s->next)
		return 0;
	if (sweep_lock(s) != 1)
		return 1;
	s->next = now_ms() + s->interval_ms;
	pool_child_busy(p, slot, "sweep");
	t0 = now_ms();
	rc = review_sweep(s->db, s->kv, s->conf->accounts_grace_days, &st);
	pool_child_idle(p, slot);
	buf_init(&what);
	review_sweep_summary(&st, s->conf->accounts_grace_days, &what);
	log_msg(rc == 0 ? LL_INFO : LL_WARN, __func__,
	    "account sweep%s: %s, in %lld ms",
	    rc == 0 ? "" : " ended with errors (see above)", what.data,
	    (long long)(now_ms() - t0));
	buf_free(&what);
	return 1;
}
