/*
 * jobs_batch: a batch of the job runner (see jobs.c) — the entries at the
 * front of a child's local queue: one of a slow type, or up to jobs.batch
 * of quick and file types. Their rows are claimed in one transaction (one
 * UPDATE, one SELECT of what it claimed, one INSERT of the attempts); the
 * quick and file jobs run in one transaction with a savepoint each (a
 * failing handler is rolled back to its savepoint and its failure recorded
 * in the same transaction), committed at least every JOBS_GROUP_MS so that a
 * job that happens to be slow holds few others' locks; a slow job runs in its
 * own transaction; then every finished entry is acknowledged and deleted in one
 * round trip.
 *
 * It must never acknowledge an entry before its job's outcome committed,
 * never start a job whose claim may have passed to another consumer or
 * after a stop was asked (such jobs are given back: pending again, the
 * attempt not counted, published at once), and never run a job twice at
 * once: a transaction that fails is rolled back and its jobs that are
 * still this consumer's run again one by one (handlers are idempotent).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "conf.h"
#include "db.h"
#include "jobs.h"
#include "jobs_impl.h"
#include "log.h"
#include "pool.h"
#include "queue.h"
#include "util.h"

/* A transaction of batched jobs commits once it has run this long, so
 * that a job that happens to be slow holds few other jobs' locks and
 * outcomes. */
#define JOBS_GROUP_MS 100
/* A job is never started once its entry was read longer ago than this
 * fraction of jobs.visibility_timeout (1/2): by then another consumer may
 * claim it. */
#define JOBS_START_LIMIT_DIV 2

/* What became of a job of a batch. */
enum jobs_state {
	JOBS_NEW, /* not claimed (yet): the database did not answer */
	JOBS_MISSING, /* no such row: its entries are dropped */
	JOBS_SKIP, /* done, dead, not due or held by a live consumer */
	JOBS_CLAIMED, /* claimed by this consumer, not started */
	JOBS_RAN, /* its handler succeeded in the open transaction */
	JOBS_DONE, /* done, committed */
	JOBS_RETRY, /* failed: pending again after its backoff */
	JOBS_DEAD, /* failed for the last time: dead, with its alert */
	JOBS_TAKEN, /* another consumer holds it: the outcome is theirs */
	JOBS_GIVEN_BACK, /* claimed but not started: pending again */
	JOBS_UNRECORDED /* nothing recorded: its entry stays pending */
};

/* One job of a batch (several entries may name it). */
struct jobs_item {
	uint64_t id;
	enum jobs_state state;
	int64_t taken_at; /* when its first entry was read */
	char type[QUEUE_TYPE_MAX + 1];
	char *payload;
	int attempts; /* deliveries so far, this one included */
	int attempt; /* its number in job_attempts */
	uint64_t attempt_id; /* its job_attempts row */
	int open; /* attempts left open by a consumer that died */
	int64_t wait_ms; /* JOBS_RETRY: the backoff */
	struct job_ctx jc;
};

/* The entries at the front of the local queue that are run together, and
 * their jobs. */
struct jobs_batch {
	struct jobs_entry *ent;
	size_t nent;
	int *of; /* per entry: its item; JOBS_MALFORMED or JOBS_LEFT */
	struct jobs_item *item;
	size_t nitem;
	char claimed_at[40]; /* the rows' claimed_at of this claim */
};

#define JOBS_MALFORMED (-1) /* acknowledged and deleted */
#define JOBS_LEFT (-2) /* waited too long here: left to XAUTOCLAIM */

/* The batched handlers' open transaction. */
struct jobs_group {
	int open;
	int broken; /* a statement failed: it is rolled back */
	char why[256]; /* which, and the database's reason */
	int64_t t0;
	size_t *member; /* indices in the batch's items */
	size_t n;
};

static int64_t
jobs_start_limit_ms(const struct jobs *j)
{
	return (int64_t)j->conf->jobs_visibility_timeout * 1000 /
	    JOBS_START_LIMIT_DIV;
}

/* The job_attempts rows of the n items idx names, to rows. */
static void
jobs_attempt_rows(
    const struct jobs_batch *b, const size_t *idx, size_t n, uint64_t *rows)
{
	size_t i;

	for (i = 0; i < n; i++)
		rows[i] = b->item[idx[i]].attempt_id;
}

/* The items of b in state st, their indices to idx and ids to ids (either
 * may be NULL). How many. */
static size_t
jobs_items_in(const struct jobs_batch *b, enum jobs_state st, size_t from,
    size_t *idx, uint64_t *ids)
{
	size_t i, n = 0;

	for (i = from; i < b->nitem; i++)
		if (b->item[i].state == st) {
			if (idx != NULL)
				idx[n] = i;
			if (ids != NULL)
				ids[n] = b->item[i].id;
			n++;
		}
	return n;
}

/* In the claim's transaction: the attempts that consumers which died left
 * open, closed as lost. 0/-1. */
static int
jobs_claim_lost(struct jobs *j, const struct jobs_batch *b)
{
	struct db_param p[1];
	struct queue_in q = {
	    .head = "UPDATE job_attempts SET finished_at = UTC_TIMESTAMP(6), "
		    "result = 'lost', error = ? WHERE job_id IN (",
	    .tail = ") AND finished_at IS NULL",
	    .pre = p,
	    .npre = 1,
	};
	uint64_t ids[QUEUE_IN_MAX];
	char lost[160];
	size_t i, n = 0;

	for (i = 0; i < b->nitem; i++)
		if (b->item[i].state == JOBS_CLAIMED && b->item[i].open > 0)
			ids[n++] = b->item[i].id;
	if (n == 0)
		return 0;
	str_printf(lost, sizeof(lost),
	    "its consumer did not finish it; claimed again by %s", j->consumer);
	p[0] = DB_STR(lost);
	return queue_in_exec(j->db, &q, ids, n, NULL);
}

/* In the claim's transaction: one job_attempts row per claimed job, in
 * multi-row INSERTs of a power of two rows each (a few statement sizes)
 * that return the rows' ids. 0/-1. */
static int
jobs_claim_attempts(struct jobs *j, struct jobs_batch *b)
{
	size_t idx[QUEUE_IN_MAX], n, done, size, i;
	struct db_param *p;
	struct db_res *res;
	struct buf sql;
	int rc = 0;

	n = jobs_items_in(b, JOBS_CLAIMED, 0, idx, NULL);
	p = xcalloc(3 * (n > 0 ? n : 1), sizeof(*p));
	buf_init(&sql);
	for (done = 0; rc == 0 && done < n; done += size) {
		for (size = 1; size * 2 <= n - done; size *= 2)
			;
		buf_reset(&sql);
		buf_puts(&sql,
		    "INSERT INTO job_attempts (job_id, attempt, "
		    "consumer) VALUES ");
		for (i = 0; i < size; i++) {
			const struct jobs_item *it = &b->item[idx[done + i]];

			buf_puts(&sql, i == 0 ? "(?, ?, ?)" : ", (?, ?, ?)");
			p[3 * i] = DB_INT((long long)it->id);
			p[3 * i + 1] = DB_INT(it->attempt);
			p[3 * i + 2] = DB_STR(j->consumer);
		}
		buf_puts(&sql, " RETURNING id");
		res = db_query(j->db, sql.data, p, 3 * size);
		if (res == NULL || db_res_rows(res) != size)
			rc = -1;
		for (i = 0; rc == 0 && i < size; i++)
			b->item[idx[done + i]].attempt_id =
			    strtoull(db_res_get(res, i, 0), NULL, 10);
		db_res_free(res);
	}
	buf_free(&sql);
	free(p);
	return rc;
}

/* Fills the items of b from the claim's SELECT: claimed (with their rows'
 * values), skipped, or missing. */
static void
jobs_claim_read(struct jobs_batch *b, const struct db_res *res)
{
	size_t r, i, rows = db_res_rows(res);

	for (i = 0; i < b->nitem; i++)
		b->item[i].state = JOBS_MISSING;
	for (r = 0; r < rows; r++) {
		uint64_t id = strtoull(db_res_get(res, r, 0), NULL, 10);
		const char *type = db_res_get(res, r, 2);
		const char *payload = db_res_get(res, r, 3);
		const char *at = db_res_get(res, r, 7);
		struct jobs_item *it = NULL;

		for (i = 0; i < b->nitem && it == NULL; i++)
			if (b->item[i].id == id)
				it = &b->item[i];
		if (it == NULL)
			continue;
		if (db_res_int(res, r, 1) != 1) {
			it->state = JOBS_SKIP;
			continue;
		}
		it->state = JOBS_CLAIMED;
		/* A type that does not fit has no handler: the job fails
		 * and, after max_attempts, is dead with the reason. */
		if (type == NULL ||
		    str_copy(it->type, sizeof(it->type), type) != 0)
			it->type[0] = '\0';
		it->payload = xstrdup(payload != NULL ? payload : "");
		it->attempts = (int)db_res_int(res, r, 4);
		it->attempt = (int)db_res_int(res, r, 5);
		it->open = (int)db_res_int(res, r, 6);
		if (b->claimed_at[0] == '\0' && at != NULL)
			(void)str_copy(
			    b->claimed_at, sizeof(b->claimed_at), at);
	}
}

/*
 * Claims the rows of b's jobs for this consumer, in one transaction: one
 * guarded UPDATE of them all (due, and pending, or running under a claim
 * older than half the visibility timeout: its consumer died or lost its
 * entry), one SELECT of what it claimed (the rows it set, told apart by
 * claimed_at, which one statement sets to one instant), the attempts
 * their previous consumers left open closed as lost, and the new attempts
 * in one INSERT. The claim commits before any handler runs, so that a crash
 * during one still counts as a delivery. A running job claimed more
 * recently belongs to a live consumer (this entry is a stale duplicate):
 * it is skipped, never run twice at once. 0, or -1 when the database
 * failed (nothing is claimed; the entries are tried again).
 */
static int
jobs_claim(struct jobs *j, struct jobs_batch *b)
{
	struct db_param pre[2], post[1];
	struct queue_in claim = {
	    .head = "UPDATE jobs SET state = 'running', attempts = attempts + "
		    "1, claimed_by = ?, claimed_at = (@licheng_claim := "
		    "UTC_TIMESTAMP(6)) WHERE id IN (",
	    .tail = ") AND (state = 'pending' OR (state = 'running' AND "
		    "claimed_at <= UTC_TIMESTAMP(6) - INTERVAL ? MICROSECOND)) "
		    "AND not_before <= UTC_TIMESTAMP(6)",
	    .pre = pre,
	    .post = post,
	    .npre = 1,
	    .npost = 1,
	};
	/* A plain read (no gap locks: two children claiming different jobs
	 * must not deadlock on job_attempts); the row locks of the claim
	 * keep every other consumer off these jobs' attempts. The session
	 * variable is the claim's only when it claimed a row. */
	struct queue_in read = {
	    .head =
		"SELECT id, ? AND state = 'running' AND claimed_by = ? AND "
		"claimed_at = @licheng_claim, type, payload, attempts, "
		"(SELECT COALESCE(MAX(a.attempt), 0) + 1 FROM job_attempts a "
		"WHERE a.job_id = jobs.id), (SELECT COUNT(*) FROM "
		"job_attempts a WHERE a.job_id = jobs.id AND a.finished_at "
		"IS NULL), claimed_at FROM jobs WHERE id IN (",
	    .tail = ")",
	    .pre = pre,
	    .npre = 2,
	};
	uint64_t ids[QUEUE_IN_MAX];
	unsigned long long claimed = 0;
	const char *what = "BEGIN";
	struct db_res *res;
	size_t i;

	for (i = 0; i < b->nitem; i++)
		ids[i] = b->item[i].id;
	if (db_begin(j->db) != 0)
		goto fail;
	what = "the claim";
	pre[0] = DB_STR(j->consumer);
	post[0] = DB_INT((long long)j->conf->jobs_visibility_timeout * 500000);
	if (queue_in_exec(j->db, &claim, ids, b->nitem, &claimed) != 0)
		goto fail;
	what = "reading the claimed rows";
	pre[0] = DB_INT(claimed > 0);
	pre[1] = DB_STR(j->consumer);
	if ((res = queue_in_query(j->db, &read, ids, b->nitem)) == NULL)
		goto fail;
	jobs_claim_read(b, res);
	db_res_free(res);
	what = "recording the attempts";
	if (jobs_claim_lost(j, b) != 0 || jobs_claim_attempts(j, b) != 0)
		goto fail;
	what = "COMMIT";
	if (db_commit(j->db) != 0)
		goto fail;
	jobs_db_ok(j);
	return 0;
fail:
	jobs_db_failed(j, what);
	(void)db_rollback(j->db);
	for (i = 0; i < b->nitem; i++) {
		free(b->item[i].payload);
		b->item[i].payload = NULL;
		b->item[i].state = JOBS_NEW;
	}
	b->claimed_at[0] = '\0';
	return -1;
}

/* In the open transaction: the rows of the n items idx names that ran
 * (JOBS_RAN) done and their attempts ok, only while this consumer still
 * holds their claims. 0, or -1 with the reason in err. */
static int
jobs_finish_tx(struct jobs *j, const struct jobs_batch *b, const size_t *idx,
    size_t n, char *err, size_t errlen)
{
	struct db_param post[1];
	const struct queue_in done_q = {
	    .head = "UPDATE jobs SET state = 'done', finished_at = "
		    "UTC_TIMESTAMP(6) WHERE id IN (",
	    .tail = ") AND state = 'running' AND claimed_by = ?",
	    .post = post,
	    .npost = 1,
	};
	static const struct queue_in ok_q = {
	    .head = "UPDATE job_attempts SET finished_at = UTC_TIMESTAMP(6), "
		    "result = 'ok' WHERE id IN (",
	    .tail = ") AND finished_at IS NULL",
	};
	uint64_t ids[QUEUE_IN_MAX], rows[QUEUE_IN_MAX];
	size_t ran[QUEUE_IN_MAX], nran = 0, i;
	unsigned long long done = 0, closed = 0;

	for (i = 0; i < n; i++)
		if (b->item[idx[i]].state == JOBS_RAN) {
			ran[nran] = idx[i];
			ids[nran++] = b->item[idx[i]].id;
		}
	if (nran == 0)
		return 0;
	post[0] = DB_STR(j->consumer);
	jobs_attempt_rows(b, ran, nran, rows);
	if (queue_in_exec(j->db, &done_q, ids, nran, &done) != 0 ||
	    queue_in_exec(j->db, &ok_q, rows, nran, &closed) != 0) {
		str_printf(err, errlen,
		    "the job's outcome was not recorded: %s", db_errstr(j->db));
		return -1;
	}
	if (done != nran || closed != nran) {
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

/*
 * In the open transaction, after a failed delivery's effects were rolled
 * back: the attempt closed with the reason, and the row back to pending
 * after the backoff, or dead with an alert after jobs.max_attempts
 * deliveries. JOBS_RETRY or JOBS_DEAD; JOBS_TAKEN when another consumer
 * holds the job (*changed: after a write, which the caller must undo);
 * JOBS_UNRECORDED when the database failed.
 */
static enum jobs_state
jobs_fail_tx(struct jobs *j, struct jobs_item *it, int *changed)
{
	const struct conf *c = j->conf;
	const char *reason = it->jc.err;
	const char *sql;
	struct db_param p[5];
	unsigned long long n = 0;
	int dead = it->attempts >= c->jobs_max_attempts;
	size_t np = 2;

	*changed = 0;
	it->wait_ms = 0;
	p[0] = DB_STR(reason);
	p[1] = DB_INT((long long)it->attempt_id);
	if (db_exec(j->db,
		"UPDATE job_attempts SET finished_at = UTC_TIMESTAMP(6), "
		"result = 'error', error = ? WHERE id = ? AND finished_at IS "
		"NULL",
		p, 2, &n, NULL) != 0)
		return JOBS_UNRECORDED;
	if (n != 1)
		return JOBS_TAKEN;
	*changed = 1;
	p[1] = DB_INT(c->jobs_max_attempts);
	if (dead)
		sql =
		    "UPDATE jobs SET state = 'dead', finished_at = "
		    "UTC_TIMESTAMP(6), last_error = ?, max_attempts = ? WHERE "
		    "id = ? AND state = 'running' AND claimed_by = ?";
	else {
		it->wait_ms = jobs_jitter(jobs_backoff_ms(c->jobs_backoff_base,
		    c->jobs_backoff_max, it->attempts + 1));
		p[np++] = DB_INT((long long)it->wait_ms * 1000);
		sql =
		    "UPDATE jobs SET state = 'pending', last_error = ?, "
		    "max_attempts = ?, not_before = UTC_TIMESTAMP(6) + "
		    "INTERVAL ? MICROSECOND, published_at = NULL WHERE id = ? "
		    "AND state = 'running' AND claimed_by = ?";
	}
	p[np++] = DB_INT((long long)it->id);
	p[np++] = DB_STR(j->consumer);
	if (db_exec(j->db, sql, p, np, &n, NULL) != 0)
		return JOBS_UNRECORDED;
	if (n != 1)
		return JOBS_TAKEN;
	if (dead && jobs_dead_alert_tx(j, it->id, it->type, reason) != 0)
		return JOBS_UNRECORDED;
	return dead ? JOBS_DEAD : JOBS_RETRY;
}

/* After a failed delivery run on its own (its transaction rolled back):
 * its failure recorded in one new transaction. The item's new state. */
static enum jobs_state
jobs_failed(struct jobs *j, struct jobs_item *it)
{
	enum jobs_state st = JOBS_UNRECORDED;
	int changed;

	if (db_begin(j->db) == 0) {
		st = jobs_fail_tx(j, it, &changed);
		if (st == JOBS_RETRY || st == JOBS_DEAD) {
			if (db_commit(j->db) != 0)
				st = JOBS_UNRECORDED;
		} else
			(void)db_rollback(j->db);
	}
	if (st == JOBS_UNRECORDED) {
		log_error("job %" PRIu64 " (%s): its failure could not be "
			  "recorded (%s); it is claimed again after "
			  "jobs.visibility_timeout",
		    it->id, it->type, db_errstr(j->db));
		(void)db_rollback(j->db);
	}
	return st;
}

/* Logs what became of a job that ran. */
static void
jobs_log_outcome(const struct jobs *j, const struct jobs_item *it)
{
	switch (it->state) {
	case JOBS_DONE:
		log_debug("job %" PRIu64 " (%s) done, attempt %d", it->id,
		    it->type, it->attempt);
		break;
	case JOBS_RETRY:
		log_warn("job %" PRIu64 " (%s) failed on delivery %d of %d: "
			 "%s; retried in %lld ms",
		    it->id, it->type, it->attempts, j->conf->jobs_max_attempts,
		    it->jc.err, (long long)it->wait_ms);
		break;
	case JOBS_DEAD:
		log_error("job %" PRIu64 " (%s) is dead after %d deliveries: "
			  "%s (alert job.dead raised; `licheng jobs retry "
			  "%" PRIu64 "` runs it again)",
		    it->id, it->type, it->attempts, it->jc.err, it->id);
		break;
	case JOBS_TAKEN:
		log_warn("job %" PRIu64 " (%s): another consumer claimed it "
			 "while it ran here (%s); its outcome is theirs",
		    it->id, it->type, it->jc.err);
		break;
	default: break;
	}
}

/* The handler's context for a claimed job; the store is read beforehand,
 * outside any transaction. */
static void
jobs_ctx(struct jobs *j, struct jobs_item *it, struct store *st)
{
	memset(&it->jc, 0, sizeof(it->jc));
	it->jc.conf = j->conf;
	it->jc.db = j->db;
	it->jc.kv = j->kv;
	it->jc.pool = j->pool;
	it->jc.slot = j->slot;
	it->jc.id = it->id;
	it->jc.type = it->type;
	it->jc.payload = it->payload;
	it->jc.attempt = it->attempts;
	it->jc.store = st;
}

/* Marks the child busy with the job, for /status and the heartbeat. */
static void
jobs_busy(struct jobs *j, const struct jobs_item *it)
{
	char what[POOL_WHAT_MAX];

	str_printf(what, sizeof(what), "%s #%" PRIu64, it->type, it->id);
	pool_child_busy(j->pool, j->slot, what);
}

/* Runs the handler of it in the open transaction. 0, or -1 with the reason
 * in it->jc.err. */
static int
jobs_handle(struct jobs_item *it)
{
	job_handler run = jobs_handler(it->type);

	if (run == NULL) {
		str_printf(it->jc.err, sizeof(it->jc.err),
		    "no handler for the job type \"%s\" in this licheng-worker",
		    it->type);
		return -1;
	}
	if (run(&it->jc) == 0)
		return 0;
	if (it->jc.err[0] == '\0')
		str_printf(it->jc.err, sizeof(it->jc.err),
		    "the %s handler failed without saying why", it->type);
	return -1;
}

/*
 * Runs one claimed job on its own: its handler and its outcome in one
 * transaction, then the after-commit hook; or the failure recorded in a
 * new one. Its state says which.
 */
static void
jobs_execute(struct jobs *j, struct jobs_batch *b, struct jobs_item *it)
{
	size_t me = (size_t)(it - b->item);
	int rc = -1;

	jobs_busy(j, it);
	/* Read before the transaction; a handler that needs the store
	 * fails (and is retried) while it is NULL. */
	jobs_ctx(j, it, jobs_store(j));
	if (db_begin(j->db) != 0)
		str_printf(it->jc.err, sizeof(it->jc.err),
		    "cannot begin the job's transaction: %s", db_errstr(j->db));
	else {
		rc = jobs_handle(it);
		if (rc == 0) {
			it->state = JOBS_RAN;
			if (jobs_finish_tx(j, b, &me, 1, it->jc.err,
				sizeof(it->jc.err)) != 0)
				rc = -1;
		}
		if (rc == 0 && db_commit(j->db) != 0) {
			str_printf(it->jc.err, sizeof(it->jc.err),
			    "the job's transaction did not commit: %s",
			    db_errstr(j->db));
			rc = -1;
		}
		if (rc != 0)
			(void)db_rollback(j->db);
	}
	if (rc == 0) {
		it->state = JOBS_DONE;
		if (it->jc.after_commit != NULL)
			it->jc.after_commit(&it->jc);
	} else
		it->state = jobs_failed(j, it);
	jobs_log_outcome(j, it);
	pool_child_idle(j->pool, j->slot);
}

/* A statement of the group's transaction failed: it is rolled back at
 * jobs_group_end. */
static void
jobs_group_broken(struct jobs *j, struct jobs_group *g, const char *what)
{
	g->broken = 1;
	str_printf(g->why, sizeof(g->why), "%s: %s", what, db_errstr(j->db));
}

static int
jobs_group_begin(struct jobs *j, struct jobs_group *g)
{
	if (db_begin(j->db) != 0)
		return -1;
	g->open = 1;
	g->broken = 0;
	g->n = 0;
	g->t0 = now_ms();
	return 0;
}

/*
 * Runs one claimed job in the group's transaction, after a savepoint: a
 * failing handler's writes are rolled back to it and its failure is
 * recorded in the same transaction. A statement of the runner's own that
 * fails breaks the group (jobs_group_end rolls it back).
 */
static void
jobs_group_job(struct jobs *j, struct jobs_batch *b, struct jobs_group *g,
    struct jobs_item *it, struct store *st)
{
	enum jobs_state fs;
	int changed;

	jobs_busy(j, it);
	g->member[g->n++] = (size_t)(it - b->item);
	jobs_ctx(j, it, st);
	if (db_exec(j->db, "SAVEPOINT job", NULL, 0, NULL, NULL) != 0) {
		jobs_group_broken(j, g, "SAVEPOINT");
		pool_child_idle(j->pool, j->slot);
		return;
	}
	if (jobs_handle(it) == 0)
		it->state = JOBS_RAN;
	else if (db_exec(j->db, "ROLLBACK TO SAVEPOINT job", NULL, 0, NULL,
		     NULL) != 0)
		jobs_group_broken(j, g, "ROLLBACK TO SAVEPOINT");
	else {
		fs = jobs_fail_tx(j, it, &changed);
		if (fs == JOBS_UNRECORDED)
			jobs_group_broken(j, g, "recording a failure");
		else if (fs == JOBS_TAKEN && changed)
			jobs_group_broken(j, g, "a failed job's row");
		else
			it->state = fs;
	}
	pool_child_idle(j->pool, j->slot);
}

/*
 * After the group's transaction failed and was rolled back: the jobs this
 * consumer still holds run again, each on its own (handlers are
 * idempotent); the others are finished elsewhere (or by the commit whose
 * answer was lost).
 */
static void
jobs_group_fallback(
    struct jobs *j, struct jobs_batch *b, const struct jobs_group *g)
{
	struct db_param post[2];
	const struct queue_in mine_q = {
	    .head = "SELECT id FROM jobs WHERE id IN (",
	    .tail = ") AND state = 'running' AND claimed_by = ? AND "
		    "claimed_at = ?",
	    .post = post,
	    .npost = 2,
	};
	uint64_t ids[QUEUE_IN_MAX];
	struct db_res *res;
	size_t i, k, rows;

	log_warn("a transaction of %zu batched job%s was rolled back (%s); "
		 "they run again one by one",
	    g->n, g->n == 1 ? "" : "s", g->why);
	for (i = 0; i < g->n; i++)
		ids[i] = b->item[g->member[i]].id;
	post[0] = DB_STR(j->consumer);
	post[1] = DB_STR(b->claimed_at);
	if ((res = queue_in_query(j->db, &mine_q, ids, g->n)) == NULL) {
		jobs_db_failed(j, "the batch's claims");
		for (i = 0; i < g->n; i++)
			b->item[g->member[i]].state = JOBS_UNRECORDED;
		return;
	}
	rows = db_res_rows(res);
	for (i = 0; i < g->n; i++) {
		struct jobs_item *it = &b->item[g->member[i]];
		int mine = 0;

		for (k = 0; k < rows && !mine; k++)
			mine =
			    strtoull(db_res_get(res, k, 0), NULL, 10) == it->id;
		if (mine) {
			it->state = JOBS_CLAIMED;
			jobs_execute(j, b, it);
		} else {
			it->state = JOBS_TAKEN;
			log_info("job %" PRIu64 " (%s) is no longer this "
				 "consumer's after its batch was rolled back: "
				 "finished or claimed elsewhere",
			    it->id, it->type);
		}
	}
	db_res_free(res);
}

/* Commits the group's transaction: the jobs that ran done, their hooks
 * run, their outcomes logged. A group that fails is rolled back and its
 * jobs run again one by one. */
static void
jobs_group_end(struct jobs *j, struct jobs_batch *b, struct jobs_group *g)
{
	char err[256];
	size_t i;

	if (!g->open)
		return;
	g->open = 0;
	if (!g->broken &&
	    jobs_finish_tx(j, b, g->member, g->n, err, sizeof(err)) != 0) {
		g->broken = 1;
		(void)str_copy(g->why, sizeof(g->why), err);
	}
	if (!g->broken && db_commit(j->db) != 0)
		jobs_group_broken(j, g, "COMMIT");
	if (g->broken) {
		(void)db_rollback(j->db);
		jobs_group_fallback(j, b, g);
		return;
	}
	for (i = 0; i < g->n; i++) {
		struct jobs_item *it = &b->item[g->member[i]];

		if (it->state == JOBS_RAN) {
			it->state = JOBS_DONE;
			if (it->jc.after_commit != NULL)
				it->jc.after_commit(&it->jc);
		}
		jobs_log_outcome(j, it);
	}
	g->n = 0;
}

/* Publishes the n given-back jobs idx names again, per type; their old
 * entries are acknowledged with the batch's. */
static void
jobs_publish_again(
    struct jobs *j, const struct jobs_batch *b, const size_t *idx, size_t n)
{
	uint64_t same[QUEUE_IN_MAX];
	size_t i, k, m;

	for (i = 0; i < n; i++) {
		const char *type = b->item[idx[i]].type;

		for (k = 0; k < i && strcmp(b->item[idx[k]].type, type); k++)
			;
		if (k < i)
			continue; /* that type is published already */
		for (m = 0, k = i; k < n; k++)
			if (strcmp(b->item[idx[k]].type, type) == 0)
				same[m++] = b->item[idx[k]].id;
		(void)queue_publish_many(j->kv, j->db, type, same, m);
	}
}

/*
 * Claimed jobs (from the item from on) that are not started now, because
 * the child is stopping or because they waited so long that their claims
 * may pass to another consumer: in one transaction their attempts closed as
 * lost with the reason and their rows back to pending with the attempt
 * not counted, then published again at once for any child to take. If
 * that cannot be recorded their entries stay pending here, and another
 * consumer claims them after the visibility timeout.
 */
static void
jobs_give_back(
    struct jobs *j, struct jobs_batch *b, size_t from, const char *why)
{
	struct db_param pre[1], post[2];
	const struct queue_in lost_q = {
	    .head = "UPDATE job_attempts SET finished_at = UTC_TIMESTAMP(6), "
		    "result = 'lost', error = ? WHERE id IN (",
	    .tail = ") AND finished_at IS NULL",
	    .pre = pre,
	    .npre = 1,
	};
	const struct queue_in back_q = {
	    .head = "UPDATE jobs SET state = 'pending', attempts = attempts - "
		    "1, published_at = NULL WHERE id IN (",
	    .tail = ") AND state = 'running' AND claimed_by = ? AND "
		    "claimed_at = ?",
	    .post = post,
	    .npost = 2,
	};
	size_t idx[QUEUE_IN_MAX], n, i;
	uint64_t ids[QUEUE_IN_MAX], rows[QUEUE_IN_MAX];
	unsigned long long closed = 0, back = 0;
	char reason[256];
	int rc;

	n = jobs_items_in(b, JOBS_CLAIMED, from, idx, ids);
	if (n == 0)
		return;
	str_printf(reason, sizeof(reason), "not started by %s (%s); given back",
	    j->consumer, why);
	pre[0] = DB_STR(reason);
	post[0] = DB_STR(j->consumer);
	post[1] = DB_STR(b->claimed_at);
	jobs_attempt_rows(b, idx, n, rows);
	rc = db_begin(j->db);
	if (rc == 0)
		rc = queue_in_exec(j->db, &lost_q, rows, n, &closed);
	if (rc == 0)
		rc = queue_in_exec(j->db, &back_q, ids, n, &back);
	if (rc == 0 && (closed != n || back != n))
		rc = -1; /* some are no longer ours: leave all to Redis */
	if (rc == 0)
		rc = db_commit(j->db);
	if (rc != 0) {
		log_warn("%zu claimed job%s not started (%s) could not be "
			 "given back (%s); claimed again after "
			 "jobs.visibility_timeout",
		    n, n == 1 ? "" : "s", why, db_errstr(j->db));
		(void)db_rollback(j->db);
		for (i = 0; i < n; i++)
			b->item[idx[i]].state = JOBS_UNRECORDED;
		return;
	}
	log_info("%zu claimed job%s not started (%s): given back and "
		 "published again",
	    n, n == 1 ? "" : "s", why);
	for (i = 0; i < n; i++)
		b->item[idx[i]].state = JOBS_GIVEN_BACK;
	jobs_publish_again(j, b, idx, n);
}

/*
 * Runs b's claimed jobs in order: slow ones each on its own, quick and file
 * ones in groups sharing a transaction for up to JOBS_GROUP_MS. Before each job
 * it looks for a stop and at the job's age: the rest are given back rather than
 * started then.
 */
static void
jobs_run_claimed(struct jobs *j, struct jobs_batch *b)
{
	struct jobs_group g;
	struct store *st;
	const char *why;
	size_t i;

	memset(&g, 0, sizeof(g));
	g.member = xcalloc(b->nitem, sizeof(*g.member));
	st = jobs_store(j); /* outside any transaction */
	for (i = 0; i < b->nitem; i++) {
		struct jobs_item *it = &b->item[i];

		if (it->state != JOBS_CLAIMED)
			continue;
		why = NULL;
		if (pool_child_poll(j->pool))
			why = "the child is stopping";
		else if (now_ms() - it->taken_at > jobs_start_limit_ms(j))
			why = "it waited too long behind other jobs";
		if (why != NULL) {
			jobs_group_end(j, b, &g);
			jobs_give_back(j, b, i, why);
			break;
		}
		if (jobs_kind_of(j->conf, it->type) == JOBS_KIND_SLOW) {
			jobs_group_end(j, b, &g);
			jobs_execute(j, b, it);
			continue;
		}
		if (g.open && now_ms() - g.t0 >= JOBS_GROUP_MS)
			jobs_group_end(j, b, &g);
		if (!g.open && jobs_group_begin(j, &g) != 0) {
			jobs_execute(j, b, it);
			continue;
		}
		jobs_group_job(j, b, &g, it, st);
		if (g.broken)
			jobs_group_end(j, b, &g);
	}
	jobs_group_end(j, b, &g);
	free(g.member);
}

/* Whether an entry whose job ended in st is acknowledged and deleted. */
static int
jobs_state_acks(enum jobs_state st)
{
	switch (st) {
	case JOBS_MISSING:
	case JOBS_SKIP:
	case JOBS_DONE:
	case JOBS_RETRY:
	case JOBS_DEAD:
	case JOBS_TAKEN:
	case JOBS_GIVEN_BACK: return 1;
	default: return 0;
	}
}

/* Sorts the n entries at the front of the local queue into b's items: a
 * malformed one, one that waited too long here, or a job (several entries
 * may name one). */
static void
jobs_batch_items(struct jobs *j, struct jobs_batch *b)
{
	size_t i, k;

	for (i = 0; i < b->nent; i++) {
		const struct jobs_entry *e = &b->ent[i];

		if (e->job == 0) {
			log_warn("%s: entry %s is not a job (%s); "
				 "acknowledged and deleted",
			    j->stream[e->stream], e->id, e->why);
			b->of[i] = JOBS_MALFORMED;
			continue;
		}
		/* An entry that waited here behind a long job may have
		 * been claimed by another consumer meanwhile: it is left
		 * to Redis (still pending here or there) rather than run
		 * twice. */
		if (now_ms() - e->taken_at > jobs_start_limit_ms(j)) {
			log_info("entry %s of %s waited too long behind "
				 "another job; left for XAUTOCLAIM",
			    e->id, j->stream[e->stream]);
			b->of[i] = JOBS_LEFT;
			continue;
		}
		for (k = 0; k < b->nitem && b->item[k].id != e->job; k++)
			;
		if (k == b->nitem) {
			b->item[k].id = e->job;
			b->item[k].taken_at = e->taken_at;
			b->item[k].state = JOBS_NEW;
			b->nitem++;
		}
		b->of[i] = (int)k;
	}
}

/* Logs the entries whose jobs were not run: no row, or a duplicate. */
static void
jobs_batch_log(const struct jobs *j, const struct jobs_batch *b)
{
	size_t i;

	for (i = 0; i < b->nent; i++) {
		const struct jobs_entry *e = &b->ent[i];
		const struct jobs_item *it;

		if (b->of[i] < 0)
			continue;
		it = &b->item[b->of[i]];
		if (it->state == JOBS_MISSING)
			log_warn("%s: entry %s names job %" PRIu64 ", which "
				 "has no row; acknowledged and deleted",
			    j->stream[e->stream], e->id, e->job);
		else if (it->state == JOBS_SKIP)
			/* Done, dead, or waiting for its backoff (the
			 * reconciler publishes it when it is due). */
			log_debug("job %" PRIu64 " is not due or already "
				  "finished; entry %s dropped",
			    e->job, e->id);
		else if (it->state == JOBS_CLAIMED &&
		    strcmp(it->type, job_types[e->stream].name) != 0)
			log_warn("job %" PRIu64 " is a %s job but came on %s",
			    e->job, it->type, j->stream[e->stream]);
	}
}

/*
 * Runs the n entries at the front of the local queue as one batch: claims
 * their jobs, runs them, acknowledges and deletes every entry whose job's
 * outcome committed (or that is to be dropped) in one round trip, and takes
 * the entries off the queue — all but those of a claim the database did
 * not answer, which stay to be tried again. 1 when the claim was made, 0
 * when the database failed.
 */
int
jobs_run_batch(struct jobs *j, size_t n)
{
	struct jobs_batch b;
	const struct jobs_entry **ack;
	size_t i, nack = 0, kept = 0;
	int claimed;

	memset(&b, 0, sizeof(b));
	b.ent = j->local;
	b.nent = n;
	b.of = xcalloc(n, sizeof(*b.of));
	b.item = xcalloc(n, sizeof(*b.item));
	ack = xcalloc(n, sizeof(*ack));
	jobs_batch_items(j, &b);
	claimed = b.nitem == 0 || jobs_claim(j, &b) == 0;
	if (claimed) {
		jobs_batch_log(j, &b);
		jobs_run_claimed(j, &b);
	}
	for (i = 0; i < n; i++)
		if (b.of[i] == JOBS_MALFORMED ||
		    (b.of[i] >= 0 && jobs_state_acks(b.item[b.of[i]].state)))
			ack[nack++] = &b.ent[i];
	jobs_ack(j, ack, nack);
	/* Off the queue: all but the entries of jobs not claimed. */
	for (i = 0; i < n; i++)
		if (b.of[i] >= 0 && b.item[b.of[i]].state == JOBS_NEW)
			j->local[kept++] = j->local[i];
	memmove(&j->local[kept], &j->local[n],
	    (j->nlocal - n) * sizeof(j->local[0]));
	j->nlocal -= n - kept;
	for (i = 0; i < b.nitem; i++)
		free(b.item[i].payload);
	free(ack);
	free(b.item);
	free(b.of);
	return claimed;
}

/* How many entries at the front of the local queue form the next batch:
 * one of a slow type, or up to jobs.batch consecutive ones of quick and
 * file types. */
size_t
jobs_next_batch(const struct jobs *j)
{
	size_t n = 1;

	if (j->kind[j->local[0].stream] == JOBS_KIND_SLOW)
		return 1;
	while (n < j->nlocal && n < j->batch &&
	    j->kind[j->local[n].stream] != JOBS_KIND_SLOW)
		n++;
	return n;
}
