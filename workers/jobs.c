/*
 * jobs: the job runner of every licheng-worker child (see jobs.h) — it reads
 * the streams as consumer "<host>:<pid>" of the group "workers", claims the
 * job's row, runs its handler inside a transaction that also records the
 * outcome, and acknowledges the entry only after that commit; it retries
 * with backoff, buries a job after jobs.max_attempts with an alert, and runs
 * the reconciler that republishes what Redis does not hold. It also holds
 * the probe handler, which does nothing but wait.
 *
 * It must never acknowledge an entry before the job's outcome has
 * committed, never abort a running job because a stop was asked (the pool
 * holds stop signals while the child is busy), and never let a malformed
 * entry, a Redis or a database outage take a child down. Every command to
 * Redis is sent as an argument vector (kv_cmdargv), never built as text.
 */
#include "jobs.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "conf.h"
#include "crypto.h"
#include "db.h"
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

#define JOBS_GROUP "workers"
#define JOBS_TYPES_MAX 8
#define JOBS_KEY_MAX 256
#define JOBS_ENTRY_ID_MAX 48 /* "<ms>-<seq>": at most 41 bytes */
#define JOBS_CONSUMER_MAX 96 /* job_attempts.consumer, claimed_by */
/* Entries read but not run yet. A read of new entries returns at most one
 * per stream; a read of the own pending list at most JOBS_LOCAL_MAX. */
#define JOBS_LOCAL_MAX 32
/* How often a child looks for entries stalled in a dead consumer's
 * pending list, and how many it takes from one stream at a time. */
#define JOBS_CLAIM_EVERY_MS 3000
#define JOBS_CLAIM_COUNT 4
/* Rows per reconciler statement. */
#define JOBS_RECONCILE_BATCH 500
/* A job that was never published is left to its producer this long. */
#define JOBS_UNPUBLISHED_GRACE 5
#define JOBS_STORE_RETRY_MS 5000
#define JOBS_PROBE_STEP_MS 100
/* A reconciler that lost the lock tries again this long after it
 * expires. */
#define JOBS_AFTER_EXPIRY_MS 50

/* One stream entry taken from Redis and not yet finished with. */
struct jobs_entry {
	int stream; /* index in job_types */
	char id[JOBS_ENTRY_ID_MAX];
	uint64_t job; /* 0 when the entry is malformed */
	int64_t taken_at; /* now_ms() when it was read */
	const char *why; /* why it is malformed */
};

struct jobs {
	const struct conf *conf;
	struct db *db; /* the child's; not owned */
	struct pool *pool;
	int slot;
	struct kv *kv;
	struct store *store; /* NULL until the roots' ids are read */
	int64_t store_retry_at;
	int ntypes;
	char stream[JOBS_TYPES_MAX][JOBS_KEY_MAX];
	char drain_from[JOBS_TYPES_MAX][JOBS_ENTRY_ID_MAX];
	char claim_from[JOBS_TYPES_MAX][JOBS_ENTRY_ID_MAX];
	char lock[JOBS_KEY_MAX];
	char consumer[JOBS_CONSUMER_MAX];
	int broken; /* the keys do not fit: this child runs no job */
	int groups; /* the groups exist (as far as we know) */
	int drained; /* the own pending list was read to its end */
	int block_ms;
	int64_t next_claim;
	int64_t next_reconcile;
	int kv_down; /* logged once per outage */
	int db_down;
	struct jobs_entry local[JOBS_LOCAL_MAX];
	size_t nlocal;
};

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
static int64_t
jobs_jitter(int64_t ms)
{
	uint32_t r;

	if (ms < 5 || crypto_random(&r, sizeof(r)) != 0)
		return ms;
	return ms + (int64_t)(r % (uint32_t)(ms / 5 + 1));
}

static int
jobs_key(char *out, size_t outlen, const struct kv *kv, const char *name)
{
	int n = snprintf(out, outlen, "%sjobs:%s", kv_prefix(kv), name);

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
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
static void
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

static void
jobs_kv_ok(struct jobs *j)
{
	if (j->kv_down)
		log_info("Redis answers again; jobs are taken again");
	j->kv_down = 0;
}

static void
jobs_db_failed(struct jobs *j, const char *what)
{
	if (!j->db_down)
		log_warn("the job rows are unavailable (%s: %s); jobs wait in "
			 "Redis until the database answers",
		    what, db_errstr(j->db));
	j->db_down = 1;
}

static void
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

static redisReply *
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

		if (j->nlocal >= JOBS_LOCAL_MAX) {
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

/*
 * XREADGROUP: own (1) reads this consumer's pending list from the drain
 * cursors without blocking; otherwise new entries, one per stream at most,
 * waiting up to block_ms. Entries go to the local queue. 0 (also when
 * there was nothing), -1 when Redis failed.
 */
static int
jobs_read(struct jobs *j, int own)
{
	const char *argv[10 + 2 * JOBS_TYPES_MAX];
	char count[16], block[16];
	redisReply *rep;
	size_t i, got = 0;
	int argc = 0, t;

	if (own)
		str_printf(count, sizeof(count), "%d",
		    JOBS_LOCAL_MAX / (j->ntypes > 0 ? j->ntypes : 1));
	else
		str_printf(count, sizeof(count), "1");
	str_printf(block, sizeof(block), "%d", j->block_ms);
	argv[argc++] = "XREADGROUP";
	argv[argc++] = "GROUP";
	argv[argc++] = JOBS_GROUP;
	argv[argc++] = j->consumer;
	argv[argc++] = "COUNT";
	argv[argc++] = count;
	if (!own) {
		argv[argc++] = "BLOCK";
		argv[argc++] = block;
	}
	argv[argc++] = "STREAMS";
	for (t = 0; t < j->ntypes; t++)
		argv[argc++] = j->stream[t];
	for (t = 0; t < j->ntypes; t++)
		argv[argc++] = own ? j->drain_from[t] : ">";
	rep = jobs_cmd(j, argc, argv);
	if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
		if (jobs_group_lost(rep)) {
			log_info(
			    "the job streams' consumer group is gone (%s); "
			    "Redis lost its data? Creating it again",
			    rep->str);
			j->groups = 0;
		} else
			jobs_kv_failed(j, "XREADGROUP", rep);
		if (rep != NULL)
			freeReplyObject(rep);
		return -1;
	}
	jobs_kv_ok(j);
	if (rep->type == REDIS_REPLY_ARRAY)
		for (i = 0; i < rep->elements; i++) {
			const redisReply *s = rep->element[i];

			if (s->type != REDIS_REPLY_ARRAY || s->elements != 2 ||
			    (t = jobs_stream_index(j, s->element[0])) < 0)
				continue;
			got += jobs_take(
			    j, t, s->element[1], own ? j->drain_from[t] : NULL);
		}
	freeReplyObject(rep);
	if (own && got == 0) {
		j->drained = 1;
		log_debug("consumer %s: own pending list drained", j->consumer);
	}
	return 0;
}

/* XAUTOCLAIM of entries idle longer than the visibility timeout, from each
 * stream in turn, into the local queue. 0/-1 (Redis failed). */
static int
jobs_autoclaim(struct jobs *j)
{
	const char *argv[8];
	char idle[24], count[16];
	redisReply *rep;
	size_t before, space;
	int t;

	str_printf(idle, sizeof(idle), "%lld",
	    (long long)j->conf->jobs_visibility_timeout * 1000);
	for (t = 0; t < j->ntypes; t++) {
		space = JOBS_LOCAL_MAX - j->nlocal;
		if (space == 0)
			break;
		str_printf(count, sizeof(count), "%zu",
		    space < JOBS_CLAIM_COUNT ? space : JOBS_CLAIM_COUNT);
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
		if (jobs_read(j, 1) != 0)
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
	return jobs_read(j, 0);
}

/* XACK and XDEL of an entry: its job has its outcome committed, or it is
 * one to drop. Failures are logged; an entry left behind comes back as a
 * duplicate, which is harmless. */
static void
jobs_ack(struct jobs *j, const struct jobs_entry *e)
{
	const char *ack[4] = {"XACK", j->stream[e->stream], JOBS_GROUP, e->id};
	const char *del[3] = {"XDEL", j->stream[e->stream], e->id};
	redisReply *rep;

	rep = jobs_cmd(j, 4, ack);
	if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
		if (jobs_group_lost(rep))
			j->groups = 0;
		else
			log_warn("XACK %s %s failed (%s); the entry comes "
				 "back as a duplicate",
			    j->stream[e->stream], e->id,
			    rep != NULL ? rep->str : kv_errstr(j->kv));
	}
	if (rep != NULL)
		freeReplyObject(rep);
	/* Never MAXLEN: on Redis 7.0 it deletes entries still pending. */
	rep = jobs_cmd(j, 3, del);
	if (rep == NULL || rep->type == REDIS_REPLY_ERROR)
		log_warn("XDEL %s %s failed (%s)", j->stream[e->stream], e->id,
		    rep != NULL ? rep->str : kv_errstr(j->kv));
	if (rep != NULL)
		freeReplyObject(rep);
}

/* The child's store, made once from the roots' recorded ids; NULL (tried
 * again a few seconds later) while they cannot be read. */
static struct store *
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

static job_handler
jobs_handler(const char *type)
{
	int i;

	for (i = 0; job_types[i].name != NULL; i++)
		if (strcmp(job_types[i].name, type) == 0)
			return job_types[i].run;
	return NULL;
}

/* A claimed job: its row's values, copied out. */
struct jobs_claim {
	char type[QUEUE_TYPE_MAX + 1];
	char *payload;
	int attempts; /* deliveries so far, this one included */
	int attempt; /* its number in job_attempts */
};

enum jobs_claim_result {
	JOBS_CLAIMED,
	JOBS_SKIP, /* done, dead, running elsewhere or not due */
	JOBS_MISSING, /* no such row */
	JOBS_CLAIM_FAILED /* the database failed */
};

static enum jobs_claim_result
jobs_claim_fail(struct jobs *j, const char *what)
{
	jobs_db_failed(j, what);
	(void)db_rollback(j->db);
	return JOBS_CLAIM_FAILED;
}

/*
 * Claims the row of job id for this consumer, in one transaction: the
 * guarded UPDATE (due, and pending, or running under a claim older than
 * half the visibility timeout: its consumer died or lost its entry), the
 * previous delivery's open attempt closed as lost, the new attempt. The
 * claim commits before the handler runs, so that a crash during it still
 * counts as a delivery. A running job claimed more recently belongs to a
 * live consumer (this entry is a stale duplicate): it is skipped, never run
 * twice at once.
 */
static enum jobs_claim_result
jobs_claim(struct jobs *j, uint64_t id, struct jobs_claim *cl)
{
	struct db_param p[3];
	struct db_res *res;
	unsigned long long n = 0;
	const char *type, *payload;
	long long nopen;
	char lost[160];

	memset(cl, 0, sizeof(*cl));
	if (db_begin(j->db) != 0)
		return jobs_claim_fail(j, "BEGIN");
	p[0] = DB_STR(j->consumer);
	p[1] = DB_INT((long long)id);
	p[2] = DB_INT((long long)j->conf->jobs_visibility_timeout * 500000);
	if (db_exec(j->db,
		"UPDATE jobs SET state = 'running', attempts = attempts + 1, "
		"claimed_by = ?, claimed_at = UTC_TIMESTAMP(6) WHERE id = ? "
		"AND (state = 'pending' OR (state = 'running' AND claimed_at "
		"<= UTC_TIMESTAMP(6) - INTERVAL ? MICROSECOND)) AND not_before "
		"<= "
		"UTC_TIMESTAMP(6)",
		p, 3, &n, NULL) != 0)
		return jobs_claim_fail(j, "the claim");
	if (n != 1) {
		(void)db_rollback(j->db);
		p[0] = DB_INT((long long)id);
		res = db_query(
		    j->db, "SELECT state FROM jobs WHERE id = ?", p, 1);
		if (res == NULL) {
			jobs_db_failed(j, "SELECT state");
			return JOBS_CLAIM_FAILED;
		}
		n = db_res_rows(res);
		db_res_free(res);
		jobs_db_ok(j);
		return n == 0 ? JOBS_MISSING : JOBS_SKIP;
	}
	/* A plain read (no gap locks: two children claiming different jobs
	 * must not deadlock on job_attempts); the row lock of the claim
	 * keeps every other consumer off this job's attempts. */
	p[0] = DB_INT((long long)id);
	p[1] = DB_INT((long long)id);
	p[2] = DB_INT((long long)id);
	res = db_query(j->db,
	    "SELECT type, payload, attempts, (SELECT COALESCE(MAX(attempt), "
	    "0) + 1 FROM job_attempts WHERE job_id = ?), (SELECT COUNT(*) FROM "
	    "job_attempts WHERE job_id = ? AND finished_at IS NULL) FROM jobs "
	    "WHERE id = ?",
	    p, 3);
	if (res == NULL)
		return jobs_claim_fail(j, "reading the claimed row");
	type = db_res_rows(res) == 1 ? db_res_get(res, 0, 0) : NULL;
	payload = type != NULL ? db_res_get(res, 0, 1) : NULL;
	if (type == NULL || payload == NULL ||
	    str_copy(cl->type, sizeof(cl->type), type) != 0) {
		log_error("job %" PRIu64 ": its row has no usable type or "
			  "payload",
		    id);
		db_res_free(res);
		(void)db_rollback(j->db);
		return JOBS_CLAIM_FAILED;
	}
	nopen = db_res_int(res, 0, 4);
	cl->payload = xstrdup(payload);
	cl->attempts = (int)db_res_int(res, 0, 2);
	cl->attempt = (int)db_res_int(res, 0, 3);
	db_res_free(res);
	/* The previous delivery's consumer died or lost its entry. */
	if (nopen > 0) {
		str_printf(lost, sizeof(lost),
		    "its consumer did not finish it; claimed again by %s",
		    j->consumer);
		p[0] = DB_STR(lost);
		p[1] = DB_INT((long long)id);
		if (db_exec(j->db,
			"UPDATE job_attempts SET finished_at = "
			"UTC_TIMESTAMP(6), result = 'lost', error = ? WHERE "
			"job_id = ? AND finished_at IS NULL",
			p, 2, NULL, NULL) != 0) {
			free(cl->payload);
			cl->payload = NULL;
			return jobs_claim_fail(j, "closing a lost attempt");
		}
	}
	p[0] = DB_INT((long long)id);
	p[1] = DB_INT(cl->attempt);
	p[2] = DB_STR(j->consumer);
	if (db_exec(j->db,
		"INSERT INTO job_attempts (job_id, attempt, consumer) VALUES "
		"(?, ?, ?)",
		p, 3, NULL, NULL) != 0 ||
	    db_commit(j->db) != 0) {
		free(cl->payload);
		cl->payload = NULL;
		return jobs_claim_fail(j, "recording the attempt");
	}
	jobs_db_ok(j);
	return JOBS_CLAIMED;
}

/* In the job's open transaction: the row done and the attempt ok, both
 * only while this consumer still holds the claim. 0, or -1 with the reason
 * in err. */
static int
jobs_finish_tx(struct jobs *j, uint64_t id, const struct jobs_claim *cl,
    char *err, size_t errlen)
{
	struct db_param p[2] = {DB_INT((long long)id), DB_STR(j->consumer)};
	struct db_param a[2] = {DB_INT((long long)id), DB_INT(cl->attempt)};
	unsigned long long n = 0, m = 0;

	if (db_exec(j->db,
		"UPDATE jobs SET state = 'done', finished_at = "
		"UTC_TIMESTAMP(6) WHERE id = ? AND state = 'running' AND "
		"claimed_by = ?",
		p, 2, &n, NULL) != 0 ||
	    db_exec(j->db,
		"UPDATE job_attempts SET finished_at = UTC_TIMESTAMP(6), "
		"result = 'ok' WHERE job_id = ? AND attempt = ? AND "
		"finished_at IS NULL",
		a, 2, &m, NULL) != 0) {
		str_printf(err, errlen,
		    "the job's outcome was not recorded: %s", db_errstr(j->db));
		return -1;
	}
	if (n != 1 || m != 1) {
		str_printf(err, errlen,
		    "another consumer claimed the job while it ran (it ran "
		    "longer than jobs.visibility_timeout?)");
		return -1;
	}
	return 0;
}

/* The alert of a dead job, in the open transaction. */
static int
jobs_dead_alert_tx(
    struct jobs *j, uint64_t id, const char *type, const char *reason)
{
	struct buf d;
	int rc;

	buf_init(&d);
	buf_putc(&d, '{');
	buf_json_ki(&d, "job", (long long)id);
	buf_json_kv(&d, "type", type);
	buf_json_kv(&d, "reason", reason);
	buf_putc(&d, '}');
	rc = alert_raise_tx(j->db, 0, NULL, "job.dead", "", d.data);
	buf_free(&d);
	return rc;
}

enum jobs_failed_result { JOBS_RETRY, JOBS_DEAD, JOBS_TAKEN, JOBS_UNRECORDED };

/*
 * After a failed delivery (its transaction rolled back), in one new
 * transaction: the attempt closed with the reason, and the row back to
 * pending after the backoff, or dead with an alert after
 * jobs.max_attempts deliveries.
 */
static enum jobs_failed_result
jobs_failed(struct jobs *j, uint64_t id, const struct jobs_claim *cl,
    const char *reason, int64_t *wait_ms)
{
	const struct conf *c = j->conf;
	struct db_param p[6];
	unsigned long long n = 0;
	int dead = cl->attempts >= c->jobs_max_attempts;

	*wait_ms = 0;
	if (db_begin(j->db) != 0)
		goto fail;
	p[0] = DB_STR(reason);
	p[1] = DB_INT((long long)id);
	p[2] = DB_INT(cl->attempt);
	if (db_exec(j->db,
		"UPDATE job_attempts SET finished_at = UTC_TIMESTAMP(6), "
		"result = 'error', error = ? WHERE job_id = ? AND attempt = ? "
		"AND finished_at IS NULL",
		p, 3, &n, NULL) != 0)
		goto fail;
	if (n != 1) {
		(void)db_rollback(j->db);
		return JOBS_TAKEN;
	}
	p[0] = DB_STR(reason);
	p[1] = DB_INT(c->jobs_max_attempts);
	if (dead) {
		p[2] = DB_INT((long long)id);
		p[3] = DB_STR(j->consumer);
		if (db_exec(j->db,
			"UPDATE jobs SET state = 'dead', finished_at = "
			"UTC_TIMESTAMP(6), last_error = ?, max_attempts = ? "
			"WHERE id = ? AND state = 'running' AND claimed_by = ?",
			p, 4, &n, NULL) != 0)
			goto fail;
	} else {
		*wait_ms = jobs_jitter(jobs_backoff_ms(c->jobs_backoff_base,
		    c->jobs_backoff_max, cl->attempts + 1));
		p[2] = DB_INT((long long)*wait_ms * 1000);
		p[3] = DB_INT((long long)id);
		p[4] = DB_STR(j->consumer);
		if (db_exec(j->db,
			"UPDATE jobs SET state = 'pending', last_error = ?, "
			"max_attempts = ?, not_before = UTC_TIMESTAMP(6) + "
			"INTERVAL ? MICROSECOND, published_at = NULL WHERE id "
			"= ? AND state = 'running' AND claimed_by = ?",
			p, 5, &n, NULL) != 0)
			goto fail;
	}
	if (n != 1) {
		(void)db_rollback(j->db);
		return JOBS_TAKEN;
	}
	if (dead && jobs_dead_alert_tx(j, id, cl->type, reason) != 0)
		goto fail;
	if (db_commit(j->db) != 0)
		goto fail;
	return dead ? JOBS_DEAD : JOBS_RETRY;
fail:
	log_error("job %" PRIu64 " (%s): its failure could not be recorded "
		  "(%s); it is claimed again after jobs.visibility_timeout",
	    id, cl->type, db_errstr(j->db));
	(void)db_rollback(j->db);
	return JOBS_UNRECORDED;
}

/*
 * Runs a claimed job: its handler and its outcome in one transaction, then
 * the after-commit hook, or the failure recorded. 1 when the entry may be
 * acknowledged, 0 when it must stay pending in Redis (nothing could be
 * recorded: the entry is claimed again after the visibility timeout).
 */
static int
jobs_execute(struct jobs *j, uint64_t id, struct jobs_claim *cl)
{
	struct job_ctx jc;
	job_handler run = jobs_handler(cl->type);
	enum jobs_failed_result fr;
	int64_t t0 = now_ms(), wait_ms;
	int rc = -1;

	memset(&jc, 0, sizeof(jc));
	jc.conf = j->conf;
	jc.db = j->db;
	jc.kv = j->kv;
	jc.pool = j->pool;
	jc.slot = j->slot;
	jc.id = id;
	jc.type = cl->type;
	jc.payload = cl->payload;
	jc.attempt = cl->attempts;
	/* Read before the transaction; a handler that needs the store
	 * fails (and is retried) while it is NULL. */
	jc.store = jobs_store(j);
	if (run == NULL)
		str_printf(jc.err, sizeof(jc.err),
		    "no handler for the job type \"%s\" in this licheng-worker",
		    cl->type);
	else if (db_begin(j->db) != 0)
		str_printf(jc.err, sizeof(jc.err),
		    "cannot begin the job's transaction: %s", db_errstr(j->db));
	else {
		rc = run(&jc);
		if (rc == 0 &&
		    jobs_finish_tx(j, id, cl, jc.err, sizeof(jc.err)) != 0)
			rc = -1;
		if (rc == 0 && db_commit(j->db) != 0) {
			str_printf(jc.err, sizeof(jc.err),
			    "the job's transaction did not commit: %s",
			    db_errstr(j->db));
			rc = -1;
		}
		if (rc != 0)
			(void)db_rollback(j->db);
	}
	if (rc == 0) {
		if (jc.after_commit != NULL)
			jc.after_commit(&jc);
		log_debug("job %" PRIu64 " (%s) done in %lld ms, attempt %d",
		    id, cl->type, (long long)(now_ms() - t0), cl->attempt);
		return 1;
	}
	if (jc.err[0] == '\0')
		str_printf(jc.err, sizeof(jc.err),
		    "the %s handler failed without saying why", cl->type);
	fr = jobs_failed(j, id, cl, jc.err, &wait_ms);
	switch (fr) {
	case JOBS_RETRY:
		log_warn("job %" PRIu64 " (%s) failed on delivery %d of %d: "
			 "%s; retried in %lld ms",
		    id, cl->type, cl->attempts, j->conf->jobs_max_attempts,
		    jc.err, (long long)wait_ms);
		return 1;
	case JOBS_DEAD:
		log_error("job %" PRIu64 " (%s) is dead after %d deliveries: "
			  "%s (alert job.dead raised; `licheng jobs retry "
			  "%" PRIu64 "` runs it again)",
		    id, cl->type, cl->attempts, jc.err, id);
		return 1;
	case JOBS_TAKEN:
		log_warn("job %" PRIu64 " (%s): another consumer claimed it "
			 "while it ran here (%s); its outcome is theirs",
		    id, cl->type, jc.err);
		return 1;
	case JOBS_UNRECORDED: break;
	}
	return 0;
}

/*
 * One entry from the local queue: a malformed one or a duplicate is
 * acknowledged and deleted; a job is claimed, run and then acknowledged.
 * 1 when the entry is finished with, 0 when the database did not answer
 * before the claim (the entry is kept and tried again).
 */
static int
jobs_run_entry(struct jobs *j, const struct jobs_entry *e)
{
	const char *stype = job_types[e->stream].name;
	struct jobs_claim cl;
	char what[POOL_WHAT_MAX];
	int ack = 1;

	if (e->job == 0) {
		log_warn("%s: entry %s is not a job (%s); acknowledged and "
			 "deleted",
		    j->stream[e->stream], e->id, e->why);
		jobs_ack(j, e);
		return 1;
	}
	str_printf(what, sizeof(what), "%s #%" PRIu64, stype, e->job);
	pool_child_busy(j->pool, j->slot, what);
	switch (jobs_claim(j, e->job, &cl)) {
	case JOBS_CLAIM_FAILED: pool_child_idle(j->pool, j->slot); return 0;
	case JOBS_MISSING:
		log_warn("%s: entry %s names job %" PRIu64 ", which has no "
			 "row; acknowledged and deleted",
		    j->stream[e->stream], e->id, e->job);
		break;
	case JOBS_SKIP:
		/* Done, dead, or waiting for its backoff (the reconciler
		 * publishes it when it is due). */
		log_debug("job %" PRIu64 " is not due or already finished; "
			  "entry %s dropped",
		    e->job, e->id);
		break;
	case JOBS_CLAIMED:
		if (strcmp(cl.type, stype) != 0)
			log_warn("job %" PRIu64 " is a %s job but came on %s",
			    e->job, cl.type, j->stream[e->stream]);
		ack = jobs_execute(j, e->job, &cl);
		free(cl.payload);
		break;
	}
	if (ack)
		jobs_ack(j, e);
	pool_child_idle(j->pool, j->slot);
	return 1;
}

static void
jobs_pop(struct jobs *j)
{
	if (j->nlocal == 0)
		return;
	memmove(
	    &j->local[0], &j->local[1], (j->nlocal - 1) * sizeof(j->local[0]));
	j->nlocal--;
}

/*
 * Publishes, in batches by id, the rows that sql selects (id, type; its
 * parameters are p[0..np-1] and then the last id seen). The number
 * published, or -1 when the database or Redis failed first.
 */
static long
jobs_republish(struct jobs *j, const char *sql, struct db_param *p, size_t np)
{
	struct db_res *res;
	unsigned long long last = 0;
	long total = 0;
	size_t i, rows;

	do {
		p[np] = DB_INT((long long)last);
		if ((res = db_query(j->db, sql, p, np + 1)) == NULL) {
			jobs_db_failed(j, "the reconciler");
			return -1;
		}
		rows = db_res_rows(res);
		for (i = 0; i < rows; i++) {
			const char *type = db_res_get(res, i, 1);

			last = strtoull(db_res_get(res, i, 0), NULL, 10);
			if (type == NULL)
				continue;
			if (queue_publish(j->kv, j->db, type, (uint64_t)last) !=
			    0) {
				db_res_free(res);
				return -1;
			}
			total++;
		}
		db_res_free(res);
	} while (rows == JOBS_RECONCILE_BATCH);
	return total;
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
 * lock: publishes the due pending jobs that Redis may not hold, and the
 * running ones whose claim is older than twice the visibility timeout, and
 * deletes the consumers of children long gone.
 * 1 when it ran, 0 when not.
 */
static int
jobs_reconcile(struct jobs *j)
{
	const struct conf *c = j->conf;
	int64_t interval = (int64_t)c->jobs_reconcile_interval * 1000;
	int64_t t0 = now_ms();
	struct db_param p[3];
	long pending, running = 0, gone;

	j->next_reconcile = t0 + interval;
	if (jobs_reconcile_lock(j, interval) != 1)
		return 0;
	pool_child_busy(j->pool, j->slot, "reconcile");
	p[0] = DB_INT(JOBS_UNPUBLISHED_GRACE);
	p[1] = DB_INT(c->jobs_republish_after);
	pending = jobs_republish(j,
	    "SELECT id, type FROM jobs WHERE state = 'pending' AND not_before "
	    "<= UTC_TIMESTAMP(6) AND ((published_at IS NULL AND (attempts > 0 "
	    "OR created_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND)) OR "
	    "published_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND) AND id > ? "
	    "ORDER BY id LIMIT 500",
	    p, 2);
	if (pending >= 0) {
		p[0] = DB_INT(2 * (long long)c->jobs_visibility_timeout);
		running = jobs_republish(j,
		    "SELECT id, type FROM jobs WHERE state = 'running' AND "
		    "claimed_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND AND id "
		    "> ? ORDER BY id LIMIT 500",
		    p, 1);
	}
	gone = jobs_forget_consumers(j);
	pool_child_idle(j->pool, j->slot);
	if (gone > 0)
		log_info("reconciler: deleted %ld consumer%s of children gone "
			 "for more than twice jobs.visibility_timeout",
		    gone, gone == 1 ? "" : "s");
	if (pending < 0 || running < 0)
		log_warn("the reconciler stopped early (see above); it runs "
			 "again in %d s",
		    c->jobs_reconcile_interval);
	if (pending > 0 || running > 0)
		log_info("reconciler: published %ld pending job%s and %ld "
			 "stalled running job%s in %lld ms",
		    pending > 0 ? pending : 0, pending == 1 ? "" : "s",
		    running > 0 ? running : 0, running == 1 ? "" : "s",
		    (long long)(now_ms() - t0));
	else
		log_debug("reconciler: nothing to publish");
	return 1;
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
	if (j->nlocal == 0)
		return ran;
	/* An entry that waited here behind a long job may have been claimed
	 * by another consumer meanwhile: it is left to Redis (still pending
	 * here or there) rather than run twice. */
	if (now_ms() - j->local[0].taken_at >
	    (int64_t)j->conf->jobs_visibility_timeout * 500) {
		log_info("entry %s of %s waited too long behind another job; "
			 "left for XAUTOCLAIM",
		    j->local[0].id, j->stream[j->local[0].stream]);
		jobs_pop(j);
		return 1;
	}
	if (jobs_run_entry(j, &j->local[0]) == 0)
		return ran;
	jobs_pop(j);
	return 1;
}

void
jobs_free(struct jobs *j)
{
	size_t i;

	if (j == NULL)
		return;
	/* Entries this child read but did not run go back to their stream
	 * at once (a new entry, and the old one acknowledged), rather than
	 * waiting for another child's XAUTOCLAIM. */
	for (i = 0; i < j->nlocal && !j->kv_down; i++) {
		const struct jobs_entry *e = &j->local[i];

		if (e->job != 0 &&
		    queue_publish(
			j->kv, j->db, job_types[e->stream].name, e->job) != 0)
			break;
		jobs_ack(j, e);
	}
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
