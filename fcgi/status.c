/*
 * status: GET /status, the operators' view of the pool in the manner of
 * PHP-FPM's status page — counters and one row per child from the shared
 * scoreboard, then the licheng-worker masters and children from their Redis
 * heartbeats. Text by default, JSON with ?json. It answers loopback clients
 * only and never changes anything it reads.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "log.h"
#include "pool.h"
#include "router.h"

/* Heartbeats older than this many seconds are not listed. */
#define STATUS_WORKER_AGE 60
/* At most this many worker masters and children are listed. */
#define STATUS_WORKER_MAX 256
#define STATUS_KEY_MAX 512

struct status_out {
	struct buf *b;
	int json;
};

static void
status_time(long long t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)str_copy(out, outlen, "-");
}

static void
status_num(
    struct status_out *o, const char *key, const char *label, long long v)
{
	if (o->json)
		buf_json_ki(o->b, key, v);
	else
		buf_printf(o->b, "%-22s %lld\n", label, v);
}

static void
status_str(
    struct status_out *o, const char *key, const char *label, const char *v)
{
	if (o->json)
		buf_json_kv(o->b, key, v);
	else
		buf_printf(o->b, "%-22s %s\n", label, v);
}

static void
status_pool(struct app *app, struct status_out *o)
{
	struct pool_board *bd = pool_board(app->pool);
	int i, st, idle = 0, active = 0, total = 0;
	long long now = (long long)time(NULL);
	char when[32];

	for (i = 0; i < bd->nslots; i++) {
		st = atomic_load(&bd->slots[i].state);
		if (st == POOL_SLOT_EMPTY)
			continue;
		total++;
		if (st == POOL_SLOT_IDLE)
			idle++;
		else if (st == POOL_SLOT_ACTIVE)
			active++;
	}
	status_time(bd->started_at, when, sizeof(when));
	status_str(o, "pool", "pool:", "fcgi");
	status_str(o, "start_time", "start time:", when);
	status_num(o, "start_since", "start since:", now - bd->started_at);
	status_num(o, "accepted",
	    "accepted requests:", (long long)atomic_load(&bd->accepted));
	status_num(o, "active_children", "active children:", active);
	status_num(o, "idle_children", "idle children:", idle);
	status_num(o, "total_children", "total children:", total);
	status_num(
	    o, "target_children", "target children:", atomic_load(&bd->target));
	status_num(o, "max_children",
	    "max children:", pool_limits(app->pool)->max_children);
	status_num(o, "max_children_reached",
	    "max children reached:", (long long)atomic_load(&bd->max_reached));
	status_num(o, "slow_requests",
	    "slow requests:", (long long)atomic_load(&bd->slow));
	status_num(o, "timed_out_requests",
	    "timed-out requests:", (long long)atomic_load(&bd->timed_out));
	status_num(o, "respawned_children",
	    "respawned children:", (long long)atomic_load(&bd->respawned));
}

static void
status_children(struct app *app, struct status_out *o)
{
	struct pool_board *bd = pool_board(app->pool);
	const struct pool_slot *s;
	char when[32], what[POOL_WHAT_MAX];
	long long busy, ms;
	int i, st, first = 1;

	if (o->json)
		buf_puts(o->b, ",\"children\":[");
	else
		buf_printf(o->b, "\n%-8s %-9s %-21s %8s %8s  %s\n", "pid",
		    "state", "started", "served", "ms", "request");
	for (i = 0; i < bd->nslots; i++) {
		s = &bd->slots[i];
		st = atomic_load(&s->state);
		if (st == POOL_SLOT_EMPTY)
			continue;
		busy = atomic_load(&s->busy_since);
		ms = busy > 0 ? (long long)now_ms() - busy : 0;
		/* The description is written by its child without a lock:
		 * copy it and terminate the copy whatever it held. */
		memcpy(what, s->what, sizeof(what));
		what[sizeof(what) - 1] = '\0';
		if (st != POOL_SLOT_ACTIVE)
			what[0] = '\0';
		status_time(atomic_load(&s->started_at), when, sizeof(when));
		if (!o->json) {
			buf_printf(o->b, "%-8d %-9s %-21s %8llu %8lld  %s\n",
			    atomic_load(&s->pid), pool_slot_state_name(st),
			    when, (unsigned long long)atomic_load(&s->served),
			    ms, what[0] ? what : "-");
			continue;
		}
		buf_puts(o->b, first ? "{" : ",{");
		first = 0;
		buf_json_ki(o->b, "pid", atomic_load(&s->pid));
		buf_json_kv(o->b, "state", pool_slot_state_name(st));
		buf_json_kv(o->b, "started", when);
		buf_json_ki(o->b, "served", (long long)atomic_load(&s->served));
		buf_json_kv(o->b, "request", what);
		buf_json_ki(o->b, "request_ms", ms);
		buf_putc(o->b, '}');
	}
	if (o->json)
		buf_putc(o->b, ']');
}

/* The members of a heartbeat sorted set seen in the last minute, or NULL
 * (logged by kv) when Redis does not answer. The caller frees the reply. */
static redisReply *
status_members(struct kv *kv, const char *name)
{
	char key[STATUS_KEY_MAX];
	redisReply *r;
	int n;

	n = snprintf(key, sizeof(key), "%s%s", kv_prefix(kv), name);
	if (n < 0 || (size_t)n >= sizeof(key)) {
		log_error("key %s%s too long", kv_prefix(kv), name);
		return NULL;
	}
	r = kv_cmd(kv, "ZRANGEBYSCORE %s %lld +inf LIMIT 0 %d", key,
	    (long long)time(NULL) - STATUS_WORKER_AGE, STATUS_WORKER_MAX);
	if (r != NULL && r->type != REDIS_REPLY_ARRAY) {
		log_error("ZRANGEBYSCORE %s: %s", key,
		    r->type == REDIS_REPLY_ERROR ? r->str : "not an array");
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* HMGET of fields on <prefix><kind>:<member>; NULL when it fails. */
static redisReply *
status_hash(struct kv *kv, const char *kind, const char *member,
    const char *const *fields, size_t nfields)
{
	const char *argv[16];
	char key[STATUS_KEY_MAX];
	redisReply *r;
	size_t i;
	int n;

	n = snprintf(key, sizeof(key), "%s%s:%s", kv_prefix(kv), kind, member);
	if (n < 0 || (size_t)n >= sizeof(key) || nfields + 2 > 16) {
		log_error("key %s%s:%s too long", kv_prefix(kv), kind, member);
		return NULL;
	}
	argv[0] = "HMGET";
	argv[1] = key;
	for (i = 0; i < nfields; i++)
		argv[i + 2] = fields[i];
	r = kv_cmdargv(kv, (int)nfields + 2, argv, NULL);
	if (r != NULL &&
	    (r->type != REDIS_REPLY_ARRAY || r->elements != nfields)) {
		log_error("HMGET %s: %s", key,
		    r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

static const char *
status_field(const redisReply *h, size_t i)
{
	const redisReply *e = h->element[i];

	if (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS)
		return e->str;
	return "";
}

/*
 * One list of the workers section: the members of set whose hashes
 * <kind>:<member> hold fields; shows[] picks the fields shown, in order,
 * after "host:pid". 0, or -1 when Redis did not answer.
 */
static int
status_worker_list(struct kv *kv, struct status_out *o, const char *title,
    const char *set, const char *kind, const char *const *fields,
    size_t nfields, const size_t *shows, size_t nshows)
{
	redisReply *m, *h;
	const char *member;
	size_t i, j;
	int first = 1;

	if ((m = status_members(kv, set)) == NULL)
		return -1;
	if (o->json)
		buf_printf(o->b, ",\"%s\":[", title);
	else {
		buf_printf(
		    o->b, "\n%s (%zu):\n%-28s", title, m->elements, "host:pid");
		for (j = 0; j < nshows; j++)
			buf_printf(o->b, " %-12s", fields[shows[j]]);
		buf_putc(o->b, '\n');
	}
	for (i = 0; i < m->elements; i++) {
		if (m->element[i]->type != REDIS_REPLY_STRING)
			continue;
		member = m->element[i]->str;
		if ((h = status_hash(kv, kind, member, fields, nfields)) ==
		    NULL)
			continue;
		if (o->json) {
			buf_puts(o->b, first ? "{" : ",{");
			first = 0;
			buf_json_kv(o->b, "id", member);
			for (j = 0; j < nshows; j++)
				buf_json_kv(o->b, fields[shows[j]],
				    status_field(h, shows[j]));
			buf_putc(o->b, '}');
		} else {
			buf_printf(o->b, "%-28s", member);
			for (j = 0; j < nshows; j++) {
				const char *v = status_field(h, shows[j]);

				buf_printf(o->b, " %-12s", v[0] ? v : "-");
			}
			buf_putc(o->b, '\n');
		}
		freeReplyObject(h);
	}
	if (o->json)
		buf_putc(o->b, ']');
	freeReplyObject(m);
	return 0;
}

static void
status_workers(struct app *app, struct status_out *o)
{
	static const char *const master_fields[] = {
	    "target", "children", "heartbeat"};
	static const size_t master_shows[] = {0, 1};
	static const char *const worker_fields[] = {"host", "pid", "master",
	    "slot", "state", "job", "since", "served", "heartbeat"};
	static const size_t worker_shows[] = {4, 5, 7};
	struct kv *kv = app_kv(app);
	size_t mark = o->b->len;
	int ok;

	if (o->json)
		buf_puts(o->b, ",\"workers\":{\"ok\":true");
	ok = kv != NULL &&
	    status_worker_list(kv, o, "masters", "worker-masters",
		"worker-master", master_fields, ARRAY_SIZE(master_fields),
		master_shows, ARRAY_SIZE(master_shows)) == 0 &&
	    status_worker_list(kv, o, "children", "workers", "worker",
		worker_fields, ARRAY_SIZE(worker_fields), worker_shows,
		ARRAY_SIZE(worker_shows)) == 0;
	if (!ok) {
		/* Drop a half-written section: say only that it is missing. */
		o->b->len = mark;
		o->b->data[mark] = '\0';
		if (o->json)
			buf_puts(o->b, ",\"workers\":{\"ok\":false");
		else
			buf_puts(o->b, "\nworkers: redis unavailable\n");
	}
	if (o->json)
		buf_putc(o->b, '}');
}

enum request_outcome
status_get(struct app *app, struct request *r)
{
	struct status_out o;
	char v[16];

	if (!request_is_loopback(r))
		return RQ_NOT_FOUND;
	if (app->pool == NULL)
		return RQ_UNAVAILABLE;
	o.b = &r->body;
	/* "?json", "?json=1": present at all (even malformed) means JSON. */
	o.json = request_query_get(r->query, "json", v, sizeof(v)) != 0;
	if (o.json)
		buf_putc(o.b, '{');
	status_pool(app, &o);
	status_children(app, &o);
	status_workers(app, &o);
	if (o.json)
		buf_puts(o.b, "}\n");
	request_ok(
	    r, 200, o.json ? "application/json" : "text/plain; charset=utf-8");
	return RQ_OK;
}
