/*
 * jobs: the job runner of every licheng-worker child (see jobs.h) — it reads
 * the streams as consumer "<host>:<pid>" of the group "workers" into a
 * local queue, hands the queue's front to jobs_batch.c (which claims the
 * jobs' rows, runs their handlers in transactions that also record the
 * outcomes, and acknowledges the entries only after those commits), lets
 * jobs_reconcile.c publish again what Redis does not hold, and gives back
 * what it read but did not run when the child stops. It also holds the
 * probe handler, which does nothing but wait.
 *
 * Quick job types are read jobs.batch entries at a time and run in
 * batches; file types (those that read an object back, for a time bounded
 * by its size) JOBS_FILE_BATCH at a time, also run in batches; slow types
 * (those that wait for another server, like a scanner) one entry per
 * stream at a time, so that the children share a backlog of them instead
 * of one child holding it.
 *
 * It must never let a malformed entry, a Redis or a database outage take a
 * child down. Every command to Redis is sent as an argument vector
 * (kv_cmdargv, kv_pipeline), never built as text.
 */
#include "jobs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "jobs_impl.h"
#include "jobs_parse.h"
#include "kv.h"
#include "log.h"
#include "pool.h"
#include "queue.h"
#include "store.h"
#include "util.h"

const struct job_type job_types[] = {
    {"hash", job_hash_run},
    {"repair", job_repair_run},
    {"scan", job_scan_run},
    {"probe", job_probe_run},
    {NULL, NULL},
};

/*
 * The quick types, read and run in batches: their handlers touch no file
 * and wait for no other server (a probe only sleeps when asked to, in
 * tests). Any other type, present or future, is slow until listed here.
 */
static const char *const jobs_quick_types[] = {"probe", NULL};

/*
 * The file types: their handlers read both copies of one object back (a
 * few milliseconds per MiB) and wait for no other server. They are read a
 * few at a time and run in batches like the quick ones, so that their
 * claims, outcomes and acknowledgements share round trips and commits —
 * which cost as much as reading a 4 MiB object from memory — while a
 * backlog still spreads over the children. Throttled (hash.read_rate) they
 * are in no hurry, and run one at a time like slow ones.
 */
static const char *const jobs_file_types[] = {"hash", "repair", NULL};
#define JOBS_FILE_BATCH 8

/* The local queue holds jobs.batch entries and this many more: a read's
 * file entries (JOBS_FILE_BATCH per file type), one per slow stream, a
 * few claimed stalled ones. */
#define JOBS_LOCAL_EXTRA 32
_Static_assert(2 * JOBS_FILE_BATCH + 4 <= JOBS_LOCAL_EXTRA,
    "the local queue holds a read of every file type and a slow entry");
/* How often a child looks for entries stalled in a dead consumer's
 * pending list. */
#define JOBS_CLAIM_EVERY_MS 3000
#define JOBS_STORE_RETRY_MS 5000
#define JOBS_PROBE_STEP_MS 100

int64_t
jobs_backoff_ms(int base, int max, int attempt)
{
	int64_t ms, cap;
	int i;

	if (base < 1)
		base = 1;
	if (max < base)
		max = base;
	ms = (int64_t)base * 1000;
	cap = (int64_t)max * 1000;
	for (i = 2; i < attempt && ms < cap; i++)
		ms *= 2;
	return ms < cap ? ms : cap;
}

/* Up to 20 % more than ms, so that jobs that failed together do not all
 * come back in the same second. */
int64_t
jobs_jitter(int64_t ms)
{
	uint32_t r;

	if (ms < 5 || crypto_random(&r, sizeof(r)) != 0)
		return ms;
	return ms + (int64_t)(r % (uint32_t)(ms / 5 + 1));
}

int
jobs_key(char *out, size_t outlen, const struct kv *kv, const char *name)
{
	int n = snprintf(out, outlen, "%sjobs:%s", kv_prefix(kv), name);

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static int
jobs_listed(const char *const *list, const char *type)
{
	int i;

	for (i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], type) == 0)
			return 1;
	return 0;
}

enum jobs_kind
jobs_kind_of(const struct conf *c, const char *type)
{
	if (jobs_listed(jobs_quick_types, type))
		return JOBS_KIND_QUICK;
	if (jobs_listed(jobs_file_types, type) && c->hash_read_rate <= 0)
		return JOBS_KIND_FILE;
	return JOBS_KIND_SLOW;
}

struct jobs *
jobs_new(const struct conf *c, struct db *db, struct pool *p, int slot)
{
	struct jobs *j = xcalloc(1, sizeof(*j));
	struct utsname u;
	int i, n, timeout, keys_ok;

	j->conf = c;
	j->db = db;
	j->pool = p;
	j->slot = slot;
	j->kv = kv_new(c);
	j->batch = c->jobs_batch >= 1 && c->jobs_batch <= QUEUE_IN_MAX
	    ? (size_t)c->jobs_batch
	    : 1;
	j->cap = j->batch + JOBS_LOCAL_EXTRA;
	j->local = xcalloc(j->cap, sizeof(*j->local));
	/* The host as `uname -n` prints it; the consumer names its
	 * attempts in job_attempts, so it must fit there. */
	if (uname(&u) != 0)
		(void)str_copy(u.nodename, sizeof(u.nodename), "localhost");
	n = snprintf(j->consumer, sizeof(j->consumer), "%s:%ld", u.nodename,
	    (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(j->consumer)) {
		log_error("the host name %s is too long for a consumer name "
			  "(%zu bytes at most with the pid); this child runs "
			  "no job",
		    u.nodename, sizeof(j->consumer) - 1);
		j->broken = 1;
	}
	keys_ok = 1;
	for (i = 0; i < JOBS_TYPES_MAX && job_types[i].name != NULL; i++) {
		if (jobs_key(j->stream[i], sizeof(j->stream[i]), j->kv,
			job_types[i].name) != 0)
			keys_ok = 0;
		j->kind[i] = jobs_kind_of(c, job_types[i].name);
		j->take[i] = j->kind[i] == JOBS_KIND_QUICK ? j->batch
		    : j->kind[i] == JOBS_KIND_FILE
		    ? (j->batch < JOBS_FILE_BATCH ? j->batch : JOBS_FILE_BATCH)
		    : 1;
		(void)str_copy(j->drain_from[i], JOBS_ENTRY_ID_MAX, "0");
		(void)str_copy(j->claim_from[i], JOBS_ENTRY_ID_MAX, "0-0");
	}
	j->ntypes = i;
	if (jobs_key(j->lock, sizeof(j->lock), j->kv, "reconcile") != 0)
		keys_ok = 0;
	if (!keys_ok) {
		log_error("redis.prefix is too long for the job streams' keys "
			  "(%d bytes at most); this child runs no job",
		    JOBS_KEY_MAX - 32);
		j->broken = 1;
	}
	/* A blocking read must come back before the connection's timeout,
	 * or kv takes it for a dead server. */
	timeout = c->redis_timeout_ms > 0 ? c->redis_timeout_ms : 1000;
	j->block_ms = c->jobs_block_ms;
	if (j->block_ms > timeout * 3 / 4) {
		j->block_ms = timeout * 3 / 4 > 0 ? timeout * 3 / 4 : 1;
		if (slot == 0)
			log_warn("jobs.block_ms (%d) is not well below "
				 "redis.timeout_ms (%d); waiting %d ms for a "
				 "job instead",
			    c->jobs_block_ms, timeout, j->block_ms);
	}
	/* Spread the children's first looks at stalled entries and at the
	 * reconciler's lock. */
	j->next_claim = now_ms() + (int64_t)(slot % 8) * 250;
	j->next_reconcile = now_ms() + (int64_t)(slot % 8 + 1) * 100;
	return j;
}

/* Redis failed: logged once per outage. */
void
jobs_kv_failed(struct jobs *j, const char *what, const redisReply *rep)
{
	if (!j->kv_down)
		log_warn("the job queue in Redis is unavailable (%s: %s); no "
			 "job is taken until it answers",
		    what,
		    rep != NULL && rep->type == REDIS_REPLY_ERROR
			? rep->str
			: kv_errstr(j->kv));
	j->kv_down = 1;
}

void
jobs_kv_ok(struct jobs *j)
{
	if (j->kv_down)
		log_info("Redis answers again; jobs are taken again");
	j->kv_down = 0;
}

void
jobs_db_failed(struct jobs *j, const char *what)
{
	if (!j->db_down)
		log_warn("the job rows are unavailable (%s: %s); jobs wait in "
			 "Redis until the database answers",
		    what, db_errstr(j->db));
	j->db_down = 1;
}

void
jobs_db_ok(struct jobs *j)
{
	if (j->db_down)
		log_info("the database answers again; jobs run again");
	j->db_down = 0;
}

/* Whether rep says the group or its stream is gone (Redis lost its data,
 * or a blocked read was cut off by the stream's deletion). */
static int
jobs_group_lost(const redisReply *rep)
{
	return rep != NULL && rep->type == REDIS_REPLY_ERROR &&
	    (strncmp(rep->str, "NOGROUP", 7) == 0 ||
		strncmp(rep->str, "UNBLOCKED", 9) == 0);
}

redisReply *
jobs_cmd(struct jobs *j, int argc, const char **argv)
{
	size_t len[32];
	int i;

	if (argc > (int)ARRAY_SIZE(len))
		return NULL;
	for (i = 0; i < argc; i++)
		len[i] = strlen(argv[i]);
	return kv_cmdargv(j->kv, argc, argv, len);
}

/* XGROUP CREATE for every stream; an existing group is fine. 0/-1. */
static int
jobs_groups(struct jobs *j)
{
	const char *argv[6] = {
	    "XGROUP", "CREATE", NULL, JOBS_GROUP, "0", "MKSTREAM"};
	redisReply *rep;
	int i, ok;

	/* From "0", not "$": entries published before the group existed
	 * (the first start, or just after Redis lost its data) are
	 * delivered now rather than after jobs.republish_after. */
	for (i = 0; i < j->ntypes; i++) {
		argv[2] = j->stream[i];
		rep = jobs_cmd(j, 6, argv);
		ok = rep != NULL &&
		    ((rep->type == REDIS_REPLY_STATUS) ||
			(rep->type == REDIS_REPLY_ERROR &&
			    strncmp(rep->str, "BUSYGROUP", 9) == 0));
		if (!ok) {
			jobs_kv_failed(j, "XGROUP CREATE", rep);
			if (rep != NULL)
				freeReplyObject(rep);
			return -1;
		}
		if (rep->type == REDIS_REPLY_STATUS)
			log_info("created the consumer group %s on %s",
			    JOBS_GROUP, j->stream[i]);
		freeReplyObject(rep);
	}
	jobs_kv_ok(j);
	j->groups = 1;
	return 0;
}

/* Fills e from one entry [id, [field, value, ...] | nil]. -1 when even its
 * id is unusable (it cannot be acknowledged). */
static int
jobs_entry_parse(struct jobs_entry *e, int stream, const redisReply *r)
{
	const redisReply *id, *f;

	memset(e, 0, sizeof(*e));
	e->stream = stream;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
		return -1;
	id = r->element[0];
	f = r->element[1];
	if (id->type != REDIS_REPLY_STRING || id->len == 0 ||
	    id->len >= sizeof(e->id))
		return -1;
	memcpy(e->id, id->str, id->len);
	e->id[id->len] = '\0';
	if (f->type == REDIS_REPLY_NIL) {
		e->why = "its data was deleted";
		return 0;
	}
	if (f->type != REDIS_REPLY_ARRAY || f->elements != 2 ||
	    f->element[0]->type != REDIS_REPLY_STRING ||
	    f->element[1]->type != REDIS_REPLY_STRING ||
	    f->element[0]->len != 3 ||
	    memcmp(f->element[0]->str, "job", 3) != 0) {
		e->why = "it is not a single \"job\" field";
		return 0;
	}
	if (jobs_parse_id(f->element[1]->str, f->element[1]->len, &e->job) != 0)
		e->why = "its job id is not a decimal number from 1 to 2^64-1";
	return 0;
}

/* Appends the entries of list (of stream t) to the local queue; returns how
 * many. *last gets the id of the last one (for a cursor), when not NULL. */
static size_t
jobs_take(struct jobs *j, int t, const redisReply *list, char *last)
{
	size_t i, n = 0;

	if (list->type != REDIS_REPLY_ARRAY)
		return 0;
	for (i = 0; i < list->elements; i++) {
		struct jobs_entry *e;

		if (j->nlocal >= j->cap) {
			/* Stays in this consumer's pending list; the next
			 * drain or XAUTOCLAIM takes it. */
			log_warn("more entries than the runner holds at once; "
				 "the rest wait in Redis");
			break;
		}
		e = &j->local[j->nlocal];
		if (jobs_entry_parse(e, t, list->element[i]) != 0) {
			log_error("%s: an entry without a usable id; left "
				  "in Redis",
			    j->stream[t]);
			continue;
		}
		e->taken_at = now_ms();
		if (last != NULL)
			(void)str_copy(last, JOBS_ENTRY_ID_MAX, e->id);
		j->nlocal++;
		n++;
	}
	return n;
}

static int
jobs_stream_index(const struct jobs *j, const redisReply *name)
{
	int i;

	if (name->type != REDIS_REPLY_STRING)
		return -1;
	for (i = 0; i < j->ntypes; i++)
		if (strlen(j->stream[i]) == name->len &&
		    memcmp(j->stream[i], name->str, name->len) == 0)
			return i;
	return -1;
}

/* The streams a read asks for: all, those of quick types, those of file
 * types, or one. */
#define JOBS_ALL (-1)
#define JOBS_QUICK (-2)
#define JOBS_FILES (-3)

static int
jobs_selected(const struct jobs *j, int t, int which)
{
	return which == JOBS_ALL ||
	    (which == JOBS_QUICK && j->kind[t] == JOBS_KIND_QUICK) ||
	    (which == JOBS_FILES && j->kind[t] == JOBS_KIND_FILE) || which == t;
}

/*
 * Fills argv (room for 10 + 2 * JOBS_TYPES_MAX) with an XREADGROUP of the
 * streams which selects (JOBS_ALL, JOBS_QUICK, JOBS_FILES or a stream's
 * index): own (1) from this consumer's drain cursors, else new entries
 * (">"); block NULL for a read that does not wait. The number of
 * arguments, 0 when no stream is selected.
 */
static int
jobs_xread_argv(struct jobs *j, const char **argv, const char *count,
    const char *block, int which, int own)
{
	int argc = 0, t, n = 0;

	argv[argc++] = "XREADGROUP";
	argv[argc++] = "GROUP";
	argv[argc++] = JOBS_GROUP;
	argv[argc++] = j->consumer;
	argv[argc++] = "COUNT";
	argv[argc++] = count;
	if (block != NULL) {
		argv[argc++] = "BLOCK";
		argv[argc++] = block;
	}
	argv[argc++] = "STREAMS";
	for (t = 0; t < j->ntypes; t++)
		if (jobs_selected(j, t, which)) {
			argv[argc++] = j->stream[t];
			n++;
		}
	for (t = 0; t < j->ntypes; t++)
		if (jobs_selected(j, t, which))
			argv[argc++] = own ? j->drain_from[t] : ">";
	return n > 0 ? argc : 0;
}

/* Takes the entries of an XREADGROUP reply into the local queue (own: and
 * moves the drain cursors). How many, or -1 when Redis failed (logged; a
 * lost group is created again before the next read). */
static long
jobs_xread_reply(struct jobs *j, const redisReply *rep, int own)
{
	size_t i, got = 0;
	int t;

	if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
		if (jobs_group_lost(rep)) {
			log_info(
			    "the job streams' consumer group is gone (%s); "
			    "Redis lost its data? Creating it again",
			    rep->str);
			j->groups = 0;
		} else
			jobs_kv_failed(j, "XREADGROUP", rep);
		return -1;
	}
	jobs_kv_ok(j);
	if (rep->type != REDIS_REPLY_ARRAY)
		return 0;
	for (i = 0; i < rep->elements; i++) {
		const redisReply *s = rep->element[i];

		if (s->type != REDIS_REPLY_ARRAY || s->elements != 2 ||
		    (t = jobs_stream_index(j, s->element[0])) < 0)
			continue;
		got += jobs_take(
		    j, t, s->element[1], own ? j->drain_from[t] : NULL);
	}
	return (long)got;
}

/* One XREADGROUP (argv from jobs_xread_argv) into the local queue. How
 * many entries it took, or -1 when Redis failed. */
static long
jobs_xread(struct jobs *j, int argc, const char **argv, int own)
{
	redisReply *rep = jobs_cmd(j, argc, argv);
	long got = jobs_xread_reply(j, rep, own);

	if (rep != NULL)
		freeReplyObject(rep);
	return got;
}

/* This consumer's own pending list (what a previous process of the same
 * name left), from the drain cursors, without waiting. 0/-1. */
static int
jobs_read_own(struct jobs *j)
{
	const char *argv[10 + 2 * JOBS_TYPES_MAX];
	char count[16];
	long got;

	str_printf(count, sizeof(count), "%zu",
	    j->cap / (size_t)(j->ntypes > 0 ? j->ntypes : 1));
	got = jobs_xread(
	    j, jobs_xread_argv(j, argv, count, NULL, JOBS_ALL, 1), argv, 1);
	if (got < 0)
		return -1;
	if (got == 0) {
		j->drained = 1;
		log_debug("consumer %s: own pending list drained", j->consumer);
	}
	return 0;
}

/*
 * New entries: without waiting, up to jobs.batch from the quick streams, up
 * to JOBS_FILE_BATCH from each file stream and one from a slow stream — the
 * next in turn — in one round trip, the other slow streams one by one after
 * it while none had any; when there was none at all, one from any stream,
 * waiting up to block_ms. A slow job is taken one at a time, and file jobs
 * a few, so that the other children share a backlog of them (a hash and a
 * scan published together go to two children) rather than wait while one
 * child holds it. 1 when it read something, 0 when there was nothing (after
 * waiting), -1 when Redis failed.
 */
static int
jobs_read_new(struct jobs *j)
{
	const char *argv[3][10 + 2 * JOBS_TYPES_MAX];
	char batch[16], files[16], block[16];
	int slow[JOBS_TYPES_MAX], nslow = 0, start = 0, argc, t, k;
	struct kv_cmd cmd[3] = {{0, NULL, NULL}};
	redisReply *rep[3];
	size_t n = 0, i, take = 1;
	long got = 0, r;

	str_printf(batch, sizeof(batch), "%zu", j->batch);
	str_printf(block, sizeof(block), "%d", j->block_ms);
	for (t = 0; t < j->ntypes; t++) {
		if (j->kind[t] == JOBS_KIND_SLOW)
			slow[nslow++] = t;
		else if (j->kind[t] == JOBS_KIND_FILE)
			take = j->take[t];
	}
	str_printf(files, sizeof(files), "%zu", take);
	if (nslow > 0)
		start = (int)(j->slow_turn++ % (unsigned)nslow);
	if ((argc = jobs_xread_argv(j, argv[n], batch, NULL, JOBS_QUICK, 0)) >
	    0) {
		cmd[n] = (struct kv_cmd){argc, argv[n], NULL};
		n++;
	}
	if ((argc = jobs_xread_argv(j, argv[n], files, NULL, JOBS_FILES, 0)) >
	    0) {
		cmd[n] = (struct kv_cmd){argc, argv[n], NULL};
		n++;
	}
	if (nslow > 0) {
		argc = jobs_xread_argv(j, argv[n], "1", NULL, slow[start], 0);
		cmd[n] = (struct kv_cmd){argc, argv[n], NULL};
		n++;
	}
	if (kv_pipeline(j->kv, cmd, n, rep) != 0) {
		jobs_kv_failed(j, "XREADGROUP", NULL);
		return -1;
	}
	for (i = 0; i < n; i++) {
		r = got >= 0 ? jobs_xread_reply(j, rep[i], 0) : 0;
		got = r < 0 ? -1 : got + r;
		freeReplyObject(rep[i]);
	}
	for (k = 1; got == 0 && k < nslow; k++) {
		argc = jobs_xread_argv(
		    j, argv[0], "1", NULL, slow[(start + k) % nslow], 0);
		got = jobs_xread(j, argc, argv[0], 0);
	}
	if (got != 0)
		return got < 0 ? -1 : 1;
	argc = jobs_xread_argv(j, argv[0], "1", block, JOBS_ALL, 0);
	got = jobs_xread(j, argc, argv[0], 0);
	return got < 0 ? -1 : got > 0;
}

/* XAUTOCLAIM of entries idle longer than the visibility timeout, from each
 * stream in turn, into the local queue: a batch of each quick and file type,
 * one entry of one slow type (the other children take the others). 0/-1
 * (Redis failed). */
static int
jobs_autoclaim(struct jobs *j)
{
	const char *argv[8];
	char idle[24], count[16];
	redisReply *rep;
	size_t before, space, want;
	int t, slow_taken = 0;

	str_printf(idle, sizeof(idle), "%lld",
	    (long long)j->conf->jobs_visibility_timeout * 1000);
	for (t = 0; t < j->ntypes; t++) {
		space = j->cap - j->nlocal;
		if (space == 0)
			break;
		if (j->kind[t] == JOBS_KIND_SLOW && slow_taken)
			continue;
		want = j->take[t];
		str_printf(
		    count, sizeof(count), "%zu", space < want ? space : want);
		argv[0] = "XAUTOCLAIM";
		argv[1] = j->stream[t];
		argv[2] = JOBS_GROUP;
		argv[3] = j->consumer;
		argv[4] = idle;
		argv[5] = j->claim_from[t];
		argv[6] = "COUNT";
		argv[7] = count;
		rep = jobs_cmd(j, 8, argv);
		if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
			if (jobs_group_lost(rep))
				j->groups = 0;
			else
				jobs_kv_failed(j, "XAUTOCLAIM", rep);
			if (rep != NULL)
				freeReplyObject(rep);
			return -1;
		}
		before = j->nlocal;
		if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 2 &&
		    rep->element[0]->type == REDIS_REPLY_STRING) {
			(void)str_copy(j->claim_from[t], JOBS_ENTRY_ID_MAX,
			    rep->element[0]->str);
			(void)jobs_take(j, t, rep->element[1], NULL);
		}
		freeReplyObject(rep);
		slow_taken |=
		    j->kind[t] == JOBS_KIND_SLOW && j->nlocal > before;
		if (j->nlocal > before)
			log_info("claimed %zu entr%s of %s idle for more than "
				 "jobs.visibility_timeout (%d s): their "
				 "consumer stopped answering",
			    j->nlocal - before,
			    j->nlocal - before == 1 ? "y" : "ies", j->stream[t],
			    j->conf->jobs_visibility_timeout);
	}
	jobs_kv_ok(j);
	return 0;
}

/* Fills the local queue: the own pending list until it is drained, then
 * stalled entries now and then, then new ones. 0/-1 (Redis failed). */
static int
jobs_fetch(struct jobs *j)
{
	if (!j->groups && jobs_groups(j) != 0)
		return -1;
	if (!j->drained) {
		if (jobs_read_own(j) != 0)
			return -1;
		if (j->nlocal > 0)
			return 0;
	}
	if (now_ms() >= j->next_claim) {
		j->next_claim = now_ms() + JOBS_CLAIM_EVERY_MS;
		if (jobs_autoclaim(j) != 0)
			return -1;
		if (j->nlocal > 0)
			return 0;
	}
	return jobs_read_new(j) < 0 ? -1 : 0;
}

/*
 * XACK and XDEL of n entries (their jobs' outcomes have committed, or they
 * are to be dropped): per stream one XACK and one XDEL of all its ids,
 * every command in one round trip. Failures are logged; an entry left
 * behind comes back as a duplicate, which is harmless. Never MAXLEN: on
 * Redis 7.0 it deletes entries still pending.
 */
void
jobs_ack(struct jobs *j, const struct jobs_entry *const *e, size_t n)
{
	struct kv_cmd cmd[2 * JOBS_TYPES_MAX] = {{0, NULL, NULL}};
	redisReply *rep[2 * JOBS_TYPES_MAX];
	const char **argv;
	size_t i, k, ncmd = 0, used = 0;
	int t;

	if (n == 0)
		return;
	argv = xcalloc(2 * n + 5 * JOBS_TYPES_MAX, sizeof(*argv));
	for (t = 0; t < j->ntypes; t++) {
		for (k = 0, i = 0; i < n; i++)
			k += e[i]->stream == t;
		if (k == 0)
			continue;
		cmd[ncmd].argv = argv + used;
		argv[used++] = "XACK";
		argv[used++] = j->stream[t];
		argv[used++] = JOBS_GROUP;
		for (i = 0; i < n; i++)
			if (e[i]->stream == t)
				argv[used++] = e[i]->id;
		cmd[ncmd].argc = (int)(3 + k);
		cmd[ncmd++].argvlen = NULL;
		cmd[ncmd].argv = argv + used;
		argv[used++] = "XDEL";
		argv[used++] = j->stream[t];
		for (i = 0; i < n; i++)
			if (e[i]->stream == t)
				argv[used++] = e[i]->id;
		cmd[ncmd].argc = (int)(2 + k);
		cmd[ncmd++].argvlen = NULL;
	}
	if (kv_pipeline(j->kv, cmd, ncmd, rep) != 0) {
		log_warn("XACK and XDEL of %zu entr%s failed (%s); they come "
			 "back as duplicates",
		    n, n == 1 ? "y" : "ies", kv_errstr(j->kv));
		free(argv);
		return;
	}
	for (i = 0; i < ncmd; i++) {
		if (rep[i]->type == REDIS_REPLY_ERROR) {
			if (jobs_group_lost(rep[i]))
				j->groups = 0;
			else
				log_warn("%s %s failed (%s); its entries come "
					 "back as duplicates",
				    cmd[i].argv[0], cmd[i].argv[1],
				    rep[i]->str);
		}
		freeReplyObject(rep[i]);
	}
	free(argv);
}

/* The child's store, made once from the roots' recorded ids; NULL (tried
 * again a few seconds later) while they cannot be read. */
struct store *
jobs_store(struct jobs *j)
{
	char ids[2][STORE_ID_LEN + 1];

	if (j->store != NULL || now_ms() < j->store_retry_at)
		return j->store;
	if (store_load_ids(j->db, ids[0], ids[1]) != 0 || ids[0][0] == '\0' ||
	    ids[1][0] == '\0') {
		log_warn("the store roots' recorded ids cannot be read (%s); "
			 "jobs that need the store fail and are retried",
		    ids[0][0] == '\0' && db_errstr(j->db)[0] == '\0'
			? "none recorded: run licheng store init"
			: db_errstr(j->db));
		j->store_retry_at = now_ms() + JOBS_STORE_RETRY_MS;
		return NULL;
	}
	j->store = store_new(
	    j->conf->store_primary, j->conf->store_replica, ids[0], ids[1]);
	return j->store;
}

job_handler
jobs_handler(const char *type)
{
	int i;

	for (i = 0; job_types[i].name != NULL; i++)
		if (strcmp(job_types[i].name, type) == 0)
			return job_types[i].run;
	return NULL;
}

int
jobs_poll(struct jobs *j)
{
	int ran = 0;

	if (j->broken)
		return 0;
	if (now_ms() >= j->next_reconcile)
		ran = jobs_reconcile(j);
	if (j->nlocal == 0 && jobs_fetch(j) != 0)
		return ran;
	/* Nothing, after waiting up to block_ms in Redis for a new entry:
	 * the caller looks again at once. A nap here would leave a job
	 * published meanwhile waiting for it to end. */
	if (j->nlocal == 0)
		return 1;
	return jobs_run_batch(j, jobs_next_batch(j)) ? 1 : ran;
}

void
jobs_free(struct jobs *j)
{
	const struct jobs_entry **ack;
	uint64_t *ids;
	size_t i, n, nack = 0;
	int t;

	if (j == NULL)
		return;
	/* Entries this child read but did not run go back to their stream
	 * at once (new entries, and the old ones acknowledged), rather than
	 * waiting for another child's XAUTOCLAIM. */
	ack = xcalloc(j->nlocal + 1, sizeof(*ack));
	ids = xcalloc(j->nlocal + 1, sizeof(*ids));
	for (t = 0; t < j->ntypes && j->nlocal > 0 && !j->kv_down; t++) {
		for (n = 0, i = 0; i < j->nlocal; i++)
			if (j->local[i].stream == t && j->local[i].job != 0)
				ids[n++] = j->local[i].job;
		if (n > 0 &&
		    queue_publish_many(
			j->kv, j->db, job_types[t].name, ids, n) != (long)n)
			continue;
		for (i = 0; i < j->nlocal; i++)
			if (j->local[i].stream == t)
				ack[nack++] = &j->local[i];
	}
	jobs_ack(j, ack, nack);
	free(ids);
	free(ack);
	free(j->local);
	store_free(j->store);
	kv_free(j->kv);
	free(j);
}

int
job_probe_run(struct job_ctx *jc)
{
	struct timespec ts;
	int64_t end, left;
	long ms;

	if (job_probe_parse(jc->payload, &ms, jc->err, sizeof(jc->err)) != 0)
		return -1;
	end = now_ms() + ms;
	while ((left = end - now_ms()) > 0) {
		if (left > JOBS_PROBE_STEP_MS)
			left = JOBS_PROBE_STEP_MS;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000000L;
		if (nanosleep(&ts, NULL) != 0 && errno != EINTR) {
			str_printf(jc->err, sizeof(jc->err), "nanosleep: %s",
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}
