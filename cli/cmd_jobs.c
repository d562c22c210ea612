/*
 * cmd_jobs: `licheng jobs`, the operators' view of the job queue of
 * DESIGN.md "Jobs": the counts by type and state, one job with every
 * attempt, the retry of a dead job (audited), the worker processes on every
 * host from their Redis heartbeats, and probe jobs that test the whole path.
 * It connects as the application's account (it reads and updates job rows
 * and inserts them through the outbox, as licheng-fcgi does) and never runs
 * a job, changes a job that is not dead, or deletes anything.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts.h"
#include "audit.h"
#include "cli.h"
#include "conf.h"
#include "db.h"
#include "jobstats.h"
#include "kv.h"
#include "queue.h"
#include "util.h"

#define JOBS_PROBE_MAX 100000
#define JOBS_SLEEP_MAX 600000
/* How much of a dead job's last error the retry's audit row keeps. */
#define JOBS_AUDIT_ERROR_MAX 240
/* Dead job ids `licheng jobs` lists at most. */
#define JOBS_DEAD_SHOWN 10
/* Heartbeat records listed at most, per kind. */
#define JOBS_WORKERS_MAX 1024

static const char jobs_usage_text[] =
    "usage: licheng jobs [list]            counts by type and state\n"
    "       licheng jobs show ID           one job and its attempts\n"
    "       licheng jobs retry ID          run a dead job again\n"
    "       licheng jobs workers           worker processes on every host\n"
    "       licheng jobs probe [N] [--sleep MS]  enqueue N probe jobs "
    "(1 to 100000, default 1; MS 0 to 600000)\n";

/* Prints "licheng jobs: " and the reason (a printf format), then the
 * usage; the exit status of a usage error. */
static int
jobs_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
jobs_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("licheng jobs: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(jobs_usage_text, stderr);
	return 2;
}

static int
jobs_db_error(struct db *db)
{
	fprintf(stderr, "licheng: database: %s\n",
	    db_errstr(db)[0] != '\0' ? db_errstr(db) : "see the log above");
	return 1;
}

static int
jobs_flush(void)
{
	if (fflush(stdout) == 0)
		return 0;
	fprintf(stderr, "licheng: writing the output: %s\n", strerror(errno));
	return 1;
}

/* A whole decimal number in [min, max] with no sign, space or junk. */
static int
jobs_number(const char *s, unsigned long long min, unsigned long long max,
    unsigned long long *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9' || strlen(s) > 20)
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* The ID argument of show and retry: argv must be exactly {cmd, ID}. 0,
 * or the exit status: 2 a usage error, 1 an id past LLONG_MAX, which is a
 * number but no job's (the prepared statements bind ids as signed 64-bit
 * integers, and AUTO_INCREMENT never gets there). */
static int
jobs_id_arg(int argc, char **argv, unsigned long long *id)
{
	if (argc != 2)
		return jobs_usage(argc < 2 ? "%s needs the job's ID"
					   : "%s takes one job ID, no more",
		    argv[0]);
	if (jobs_number(argv[1], 1, UINT64_MAX, id) != 0)
		return jobs_usage(
		    "'%s' is not a job ID (a positive whole number)", argv[1]);
	if (*id > LLONG_MAX) {
		fprintf(stderr, "licheng: no job has the id %llu\n", *id);
		return 1;
	}
	return 0;
}

/* A duration as a person reads it: 45s, 12m05s, 3h07m, 2d04h. */
static void
jobs_age(long long s, char *out, size_t outlen)
{
	if (s < 0)
		(void)str_copy(out, outlen, "-");
	else if (s < 60)
		str_printf(out, outlen, "%llds", s);
	else if (s < 3600)
		str_printf(out, outlen, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		str_printf(
		    out, outlen, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		str_printf(
		    out, outlen, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

/* Prints a value from the database on one line: control characters (an
 * error text's newlines, or escape sequences a terminal would obey) become
 * spaces; NULL prints as "-". */
static void
jobs_put(const char *s)
{
	const unsigned char *p;

	if (s == NULL || *s == '\0') {
		fputs("-", stdout);
		return;
	}
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		putchar(*p < 0x20 || *p == 0x7f ? ' ' : *p);
}

/* jobs_put, then spaces up to width columns (the values are ASCII). */
static void
jobs_put_pad(const char *s, size_t width)
{
	size_t n = s != NULL && *s != '\0' ? strlen(s) : 1;

	jobs_put(s);
	for (; n < width; n++)
		putchar(' ');
}

static void
jobs_field(const char *label, const char *value)
{
	printf("%-14s", label);
	jobs_put(value);
	putchar('\n');
}

/* ------------------------------------------------------------------ list */

/* Done jobs by type into the matching entries of st. Only the command
 * counts them: the count reads an index entry per done job (see
 * jobstats.h), fine when an operator asks, not on every scrape. */
static int
jobs_done(struct db *db, const struct jobstats *st, long long *done)
{
	struct db_res *res;
	size_t i, j;

	if ((res = db_query(db,
		 "SELECT type, COUNT(*) FROM jobs WHERE state = 'done' "
		 "GROUP BY type",
		 NULL, 0)) == NULL)
		return -1;
	for (i = 0; i < db_res_rows(res); i++)
		for (j = 0; j < st->n; j++)
			if (db_res_get(res, i, 0) != NULL &&
			    strcmp(db_res_get(res, i, 0), st->types[j].type) ==
				0)
				done[j] = db_res_int(res, i, 1);
	db_res_free(res);
	return 0;
}

/* The latest dead jobs, so that the operator has ids to show and retry. */
static int
jobs_dead_ids(struct db *db)
{
	struct db_param p[1] = {DB_INT(JOBS_DEAD_SHOWN)};
	struct db_res *res;
	size_t i;

	if ((res = db_query(db,
		 "SELECT id, type FROM jobs WHERE state = 'dead' "
		 "ORDER BY id DESC LIMIT ?",
		 p, 1)) == NULL)
		return -1;
	printf("dead (latest first):");
	for (i = 0; i < db_res_rows(res); i++) {
		printf(" %s (", db_res_get(res, i, 0));
		jobs_put(db_res_get(res, i, 1));
		putchar(')');
	}
	printf("\n`licheng jobs show ID` says why; `licheng jobs retry ID` "
	       "runs one again once the cause is fixed\n");
	db_res_free(res);
	return 0;
}

static void
jobs_list_row(const char *type, long long due, long long wait, long long run,
    long long done, long long dead, long long oldest)
{
	char age[32];

	jobs_age(oldest, age, sizeof(age));
	jobs_put_pad(type, 12);
	printf(" %9lld %9lld %9lld %9lld %9lld  %s\n", due, wait, run, done,
	    dead, age);
}

int
cmd_jobs_list(const struct conf *c, int argc, char **argv)
{
	const struct jobstats_type *t;
	long long *done, sum[5] = {0, 0, 0, 0, 0};
	struct jobstats st;
	struct db *db;
	size_t i;
	int rc;

	if (argc > 1)
		return strcmp(argv[0], "jobs") == 0
		    ? jobs_usage("unknown subcommand '%s'", argv[1])
		    : jobs_usage("list takes no arguments");
	db = db_new(c, DB_APP);
	if (jobstats_load(db, &st) != 0) {
		rc = jobs_db_error(db);
		db_free(db);
		return rc;
	}
	done = xcalloc(st.n + 1, sizeof(*done));
	if (jobs_done(db, &st, done) != 0) {
		rc = jobs_db_error(db);
		goto out;
	}
	printf("%-12s %9s %9s %9s %9s %9s  %s\n", "type", "due", "waiting",
	    "running", "done", "dead", "oldest pending");
	for (i = 0; i < st.n; i++) {
		t = &st.types[i];
		jobs_list_row(t->type, t->pending_due, t->pending_wait,
		    t->running, done[i], t->dead, t->oldest_pending);
		sum[0] += t->pending_due;
		sum[1] += t->pending_wait;
		sum[2] += t->running;
		sum[3] += done[i];
		sum[4] += t->dead;
	}
	jobs_list_row("total", sum[0], sum[1], sum[2], sum[3], sum[4],
	    jobstats_oldest(&st));
	printf("(due: pending and may run now; waiting: pending, backing off "
	       "after a failure; oldest pending: since it was created)\n");
	if (sum[4] > 0 && jobs_dead_ids(db) != 0) {
		rc = jobs_db_error(db);
		goto out;
	}
	rc = jobs_flush();
out:
	free(done);
	jobstats_free(&st);
	db_free(db);
	return rc;
}

/* ------------------------------------------------------------------ show */

static const char jobs_show_sql[] =
    "SELECT type, state, attempts, max_attempts, payload, not_before, "
    "not_before > UTC_TIMESTAMP(6), published_at, claimed_by, claimed_at, "
    "last_error, created_at, updated_at, finished_at FROM jobs WHERE id = ?";

static const char jobs_attempts_sql[] =
    "SELECT attempt, consumer, started_at, finished_at, result, error "
    "FROM job_attempts WHERE job_id = ? ORDER BY attempt";

/* A DATETIME(6) as MariaDB sends it ("YYYY-MM-DD HH:MM:SS.ffffff"), to
 * the millisecond; "-" for NULL. */
static const char *
jobs_time(const char *t, char *out, size_t outlen)
{
	if (t == NULL)
		return "-";
	(void)str_copy(out, outlen, t);
	if (strlen(out) > 23)
		out[23] = '\0';
	return out;
}

static int
jobs_show_attempts(struct db *db, unsigned long long id)
{
	struct db_param p[1] = {DB_INT((long long)id)};
	struct db_res *res;
	char t1[32], t2[32];
	size_t i;

	if ((res = db_query(db, jobs_attempts_sql, p, 1)) == NULL)
		return -1;
	printf("\ndeliveries (%zu):\n", db_res_rows(res));
	if (db_res_rows(res) > 0)
		printf("%4s  %-28s %-23s  %-23s  %s\n", "#", "consumer",
		    "started", "finished", "result");
	for (i = 0; i < db_res_rows(res); i++) {
		printf("%4s  ", db_res_get(res, i, 0));
		jobs_put_pad(db_res_get(res, i, 1), 29);
		printf("%-23s  %-23s  ",
		    jobs_time(db_res_get(res, i, 2), t1, sizeof(t1)),
		    jobs_time(db_res_get(res, i, 3), t2, sizeof(t2)));
		/* No result yet: the delivery is under way (or its consumer
		 * died and nobody has claimed the job since). */
		jobs_put(db_res_get(res, i, 4) != NULL ? db_res_get(res, i, 4)
						       : "running");
		putchar('\n');
		if (db_res_get(res, i, 5) != NULL) {
			fputs("      error: ", stdout);
			jobs_put(db_res_get(res, i, 5));
			putchar('\n');
		}
	}
	db_res_free(res);
	return 0;
}

int
cmd_jobs_show(const struct conf *c, int argc, char **argv)
{
	unsigned long long id;
	struct db_param p[1];
	struct db_res *res;
	struct db *db;
	char text[64], t[32];
	int rc;

	if ((rc = jobs_id_arg(argc, argv, &id)) != 0)
		return rc;
	db = db_new(c, DB_APP);
	p[0] = DB_INT((long long)id);
	if ((res = db_query(db, jobs_show_sql, p, 1)) == NULL) {
		rc = jobs_db_error(db);
		db_free(db);
		return rc;
	}
	if (db_res_rows(res) == 0) {
		fprintf(stderr, "licheng: no job has the id %llu\n", id);
		db_res_free(res);
		db_free(db);
		return 1;
	}
	printf("job %llu\n", id);
	jobs_field("type", db_res_get(res, 0, 0));
	jobs_field("state", db_res_get(res, 0, 1));
	str_printf(text, sizeof(text), "%lld of %lld", db_res_int(res, 0, 2),
	    db_res_int(res, 0, 3));
	jobs_field("attempts", text);
	jobs_field("payload", db_res_get(res, 0, 4));
	jobs_field(
	    "not before", jobs_time(db_res_get(res, 0, 5), t, sizeof(t)));
	if (strcmp(db_res_get(res, 0, 1), "pending") == 0)
		jobs_field("",
		    db_res_int(res, 0, 6) != 0 ? "(waiting for its backoff)"
					       : "(due: may run now)");
	jobs_field(
	    "published at", jobs_time(db_res_get(res, 0, 7), t, sizeof(t)));
	jobs_field("claimed by", db_res_get(res, 0, 8));
	jobs_field(
	    "claimed at", jobs_time(db_res_get(res, 0, 9), t, sizeof(t)));
	jobs_field("last error", db_res_get(res, 0, 10));
	jobs_field(
	    "created at", jobs_time(db_res_get(res, 0, 11), t, sizeof(t)));
	jobs_field(
	    "updated at", jobs_time(db_res_get(res, 0, 12), t, sizeof(t)));
	jobs_field(
	    "finished at", jobs_time(db_res_get(res, 0, 13), t, sizeof(t)));
	printf("(times in UTC)\n");
	db_res_free(res);
	rc = jobs_show_attempts(db, id) == 0 ? jobs_flush() : jobs_db_error(db);
	db_free(db);
	return rc;
}

/* ----------------------------------------------------------------- retry */

/* At most max bytes of s, cut at a UTF-8 character boundary. */
static void
jobs_cut(struct buf *out, const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	buf_append(out, s, n);
}

static int
jobs_retry_audit(struct db *db, unsigned long long id, const char *type,
    long long attempts, const char *last_error)
{
	char actor[AUDIT_ACTOR_MAX + 1], target[32];
	struct audit_event ev;
	struct buf d, err;
	int rc;

	cli_actor(actor, sizeof(actor));
	str_printf(target, sizeof(target), "job:%llu", id);
	buf_init(&err);
	jobs_cut(
	    &err, last_error != NULL ? last_error : "", JOBS_AUDIT_ERROR_MAX);
	buf_init(&d);
	buf_putc(&d, '{');
	buf_json_ki(&d, "job", (long long)id);
	buf_json_kv(&d, "type", type);
	buf_json_ki(&d, "attempts", attempts);
	buf_json_kv(&d, "last_error", err.data != NULL ? err.data : "");
	buf_putc(&d, '}');
	memset(&ev, 0, sizeof(ev));
	ev.actor = actor;
	ev.role = "operator";
	ev.ip = "";
	ev.event = "job.retried";
	ev.target = target;
	ev.outcome = "success";
	ev.detail = d.data;
	rc = audit_append_tx(db, &ev);
	buf_free(&d);
	buf_free(&err);
	return rc;
}

/*
 * Puts a dead job back to pending, in one transaction with its audit row:
 * 1 done (type copied to type), 0 refused (printed), -1 database error.
 */
static int
jobs_retry_tx(struct db *db, unsigned long long id, char *type, size_t typelen)
{
	struct db_param p[1] = {DB_INT((long long)id)};
	unsigned long long changed = 0;
	struct db_res *res;
	int rc = -1;

	if (db_begin(db) != 0)
		return -1;
	res = db_query(db,
	    "SELECT type, state, attempts, last_error FROM jobs WHERE id = ? "
	    "FOR UPDATE",
	    p, 1);
	if (res == NULL)
		goto fail;
	if (db_res_rows(res) == 0) {
		fprintf(stderr, "licheng: no job has the id %llu\n", id);
		rc = 0;
		goto fail;
	}
	if (strcmp(db_res_get(res, 0, 1), "dead") != 0) {
		fprintf(stderr,
		    "licheng: job %llu is %s, not dead: only a dead job can be "
		    "retried\n",
		    id, db_res_get(res, 0, 1));
		rc = 0;
		goto fail;
	}
	(void)str_copy(type, typelen, db_res_get(res, 0, 0));
	if (db_exec(db,
		"UPDATE jobs SET state = 'pending', attempts = 0, "
		"not_before = UTC_TIMESTAMP(6), published_at = NULL, "
		"claimed_by = NULL, claimed_at = NULL, finished_at = NULL "
		"WHERE id = ? AND state = 'dead'",
		p, 1, &changed, NULL) != 0 ||
	    changed != 1 ||
	    jobs_retry_audit(db, id, type, db_res_int(res, 0, 2),
		db_res_get(res, 0, 3)) != 0)
		goto fail;
	db_res_free(res);
	return db_commit(db) == 0 ? 1 : -1;
fail:
	db_res_free(res);
	(void)db_rollback(db);
	return rc;
}

int
cmd_jobs_retry(const struct conf *c, int argc, char **argv)
{
	char type[QUEUE_TYPE_MAX + 1] = "";
	unsigned long long id;
	struct db *db;
	struct kv *kv;
	int rc;

	if ((rc = jobs_id_arg(argc, argv, &id)) != 0)
		return rc;
	db = db_new(c, DB_APP);
	rc = jobs_retry_tx(db, id, type, sizeof(type));
	if (rc <= 0) {
		rc = rc == 0 ? 1 : jobs_db_error(db);
		db_free(db);
		return rc;
	}
	/* The row is pending and committed: the reconciler publishes it in
	 * any case; publishing now only saves that wait. */
	kv = kv_new(c);
	if (queue_publish(kv, db, type, (uint64_t)id) == 0)
		printf(
		    "job %llu (%s) is pending again and published\n", id, type);
	else
		printf("job %llu (%s) is pending again; Redis did not take it, "
		       "so the reconciler publishes it within "
		       "jobs.reconcile_interval (%d s)\n",
		    id, type, c->jobs_reconcile_interval);
	kv_free(kv);
	db_free(db);
	return jobs_flush();
}

/* --------------------------------------------------------------- workers */

/* A running job: who claimed it, since when. */
struct jobs_claim {
	char *consumer;
	char *what; /* "probe #42" */
	char *at;
	long long secs;
	int shown;
};

struct jobs_claims {
	size_t n;
	struct jobs_claim *v;
};

static int
jobs_claims_load(struct db *db, struct jobs_claims *cl)
{
	struct db_res *res;
	struct jobs_claim *k;
	char what[QUEUE_TYPE_MAX + 32], t[32];
	size_t i;

	memset(cl, 0, sizeof(*cl));
	res = db_query(db,
	    "SELECT COALESCE(claimed_by, ''), type, id, claimed_at, "
	    "GREATEST(0, TIMESTAMPDIFF(SECOND, claimed_at, "
	    "UTC_TIMESTAMP(6))) FROM jobs WHERE state = 'running' "
	    "ORDER BY claimed_at DESC, id DESC",
	    NULL, 0);
	if (res == NULL)
		return -1;
	cl->n = db_res_rows(res);
	cl->v = xcalloc(cl->n + 1, sizeof(*cl->v));
	for (i = 0; i < cl->n; i++) {
		k = &cl->v[i];
		k->consumer = xstrdup(db_res_get(res, i, 0));
		str_printf(what, sizeof(what), "%s #%s", db_res_get(res, i, 1),
		    db_res_get(res, i, 2));
		k->what = xstrdup(what);
		k->at = xstrdup(jobs_time(db_res_get(res, i, 3), t, sizeof(t)));
		k->secs = db_res_int(res, i, 4);
	}
	db_res_free(res);
	return 0;
}

static void
jobs_claims_free(struct jobs_claims *cl)
{
	size_t i;

	for (i = 0; i < cl->n; i++) {
		free(cl->v[i].consumer);
		free(cl->v[i].what);
		free(cl->v[i].at);
	}
	free(cl->v);
	memset(cl, 0, sizeof(*cl));
}

/* The members of the sorted set <prefix>name (every record seen in the
 * last ten minutes; the records themselves expire sooner). NULL with the
 * reason printed when Redis did not answer. */
static redisReply *
jobs_members(struct kv *kv, const char *name)
{
	redisReply *r;

	r = kv_cmd(
	    kv, "ZRANGE %s%s 0 %d", kv_prefix(kv), name, JOBS_WORKERS_MAX - 1);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		fprintf(stderr, "licheng: Redis: ZRANGE %s%s: %s\n",
		    kv_prefix(kv), name,
		    r == NULL                          ? kv_errstr(kv)
			: r->type == REDIS_REPLY_ERROR ? r->str
						       : "not an array");
		if (r != NULL)
			freeReplyObject(r);
		return NULL;
	}
	return r;
}

/* HMGET <prefix><kind>:<member> of n fields; NULL when the record has
 * expired (every field nil) or Redis failed (printed). */
static redisReply *
jobs_record(struct kv *kv, const char *kind, const char *member,
    const char *const *fields, size_t n)
{
	const char *argv[12];
	struct buf key;
	redisReply *r;
	size_t i, have = 0;

	buf_init(&key);
	buf_printf(&key, "%s%s:%s", kv_prefix(kv), kind, member);
	argv[0] = "HMGET";
	argv[1] = key.data;
	for (i = 0; i < n && i + 2 < ARRAY_SIZE(argv); i++)
		argv[i + 2] = fields[i];
	r = kv_cmdargv(kv, (int)(i + 2), argv, NULL);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != n) {
		fprintf(stderr, "licheng: Redis: HMGET %s: %s\n", key.data,
		    r == NULL                          ? kv_errstr(kv)
			: r->type == REDIS_REPLY_ERROR ? r->str
						       : "unexpected reply");
		if (r != NULL)
			freeReplyObject(r);
		buf_free(&key);
		return NULL;
	}
	buf_free(&key);
	for (i = 0; i < n; i++)
		have += r->element[i]->type == REDIS_REPLY_STRING;
	if (have == 0) {
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

static const char *
jobs_el(const redisReply *r, size_t i)
{
	return r->element[i]->type == REDIS_REPLY_STRING ? r->element[i]->str
							 : "";
}

/* "12s ago" from a unix time in text; "-" when it is not one. */
static void
jobs_ago(const char *t, char *out, size_t outlen)
{
	unsigned long long v;
	char age[32];

	if (jobs_number(t, 0, LLONG_MAX, &v) != 0) {
		(void)str_copy(out, outlen, "-");
		return;
	}
	jobs_age((long long)time(NULL) - (long long)v, age, sizeof(age));
	str_printf(out, outlen, "%s ago", age);
}

static int
jobs_masters(struct kv *kv)
{
	static const char *const f[] = {"children", "target", "heartbeat"};
	redisReply *m, *h;
	char ago[48];
	size_t i, shown = 0;

	if ((m = jobs_members(kv, "worker-masters")) == NULL)
		return -1;
	printf("worker masters:\n  %-32s %8s %8s  %s\n", "host:pid", "children",
	    "target", "heartbeat");
	for (i = 0; i < m->elements; i++) {
		if (m->element[i]->type != REDIS_REPLY_STRING ||
		    (h = jobs_record(kv, "worker-master", m->element[i]->str, f,
			 ARRAY_SIZE(f))) == NULL)
			continue;
		jobs_ago(jobs_el(h, 2), ago, sizeof(ago));
		printf("  %-32s %8s %8s  %s\n", m->element[i]->str,
		    jobs_el(h, 0), jobs_el(h, 1), ago);
		freeReplyObject(h);
		shown++;
	}
	if (shown == 0)
		printf("  (none: no licheng-worker has a live heartbeat "
		       "record)\n");
	freeReplyObject(m);
	return 0;
}

/* The latest running job claimed by consumer, marked as shown; NULL if
 * none. (A consumer runs one job at a time: an older claim of the same
 * name is a job it lost, listed by jobs_orphans.) */
static struct jobs_claim *
jobs_claim_of(struct jobs_claims *cl, const char *consumer)
{
	size_t i;

	for (i = 0; i < cl->n; i++)
		if (strcmp(cl->v[i].consumer, consumer) == 0) {
			cl->v[i].shown = 1;
			return &cl->v[i];
		}
	return NULL;
}

static int
jobs_children(struct kv *kv, struct jobs_claims *cl)
{
	static const char *const f[] = {
	    "master", "slot", "state", "job", "since", "served"};
	struct jobs_claim *k;
	redisReply *m, *h;
	char since[64], age[32];
	size_t i, shown = 0;

	if ((m = jobs_members(kv, "workers")) == NULL)
		return -1;
	printf("\nworker children:\n  %-32s %8s %4s %-6s %8s  %-20s %s\n",
	    "host:pid", "master", "slot", "state", "served", "job", "since");
	for (i = 0; i < m->elements; i++) {
		if (m->element[i]->type != REDIS_REPLY_STRING ||
		    (h = jobs_record(kv, "worker", m->element[i]->str, f,
			 ARRAY_SIZE(f))) == NULL)
			continue;
		/* The row's claim is the truth about the job; the record
		 * is only as fresh as the child's last heartbeat, which a
		 * child running a job does not publish. */
		k = jobs_claim_of(cl, m->element[i]->str);
		if (k != NULL) {
			jobs_age(k->secs, age, sizeof(age));
			str_printf(since, sizeof(since), "%s (%s)", k->at, age);
		} else
			jobs_ago(jobs_el(h, 4), since, sizeof(since));
		printf("  %-32s %8s %4s %-6s %8s  %-20s %s\n",
		    m->element[i]->str, jobs_el(h, 0), jobs_el(h, 1),
		    k != NULL ? "busy" : jobs_el(h, 2), jobs_el(h, 5),
		    k != NULL ? k->what : "-", since);
		freeReplyObject(h);
		shown++;
	}
	if (shown == 0)
		printf("  (none)\n");
	freeReplyObject(m);
	return 0;
}

/* Running jobs not shown on a child's line: their consumer has no
 * heartbeat record (it died, and the job is claimed again after
 * jobs.visibility_timeout) or has claimed another job since. */
static void
jobs_orphans(const struct jobs_claims *cl)
{
	char age[32];
	size_t i, n = 0;

	for (i = 0; i < cl->n; i++)
		n += !cl->v[i].shown;
	if (n == 0)
		return;
	printf("\nrunning jobs that no live child is running (%zu):\n", n);
	for (i = 0; i < cl->n; i++) {
		if (cl->v[i].shown)
			continue;
		jobs_age(cl->v[i].secs, age, sizeof(age));
		printf("  %-20s claimed by ", cl->v[i].what);
		jobs_put(cl->v[i].consumer);
		printf(" at %s (%s)\n", cl->v[i].at, age);
	}
}

int
cmd_jobs_workers(const struct conf *c, int argc, char **argv)
{
	struct jobs_claims cl;
	struct db *db;
	struct kv *kv;
	int rc = 0, db_ok;

	(void)argv;
	if (argc != 1)
		return jobs_usage("workers takes no arguments");
	db = db_new(c, DB_APP);
	db_ok = jobs_claims_load(db, &cl) == 0;
	if (!db_ok) {
		fprintf(stderr,
		    "licheng: database: %s (the jobs being run are not "
		    "shown)\n",
		    db_errstr(db));
		memset(&cl, 0, sizeof(cl));
	}
	kv = kv_new(c);
	if (jobs_masters(kv) != 0 || jobs_children(kv, &cl) != 0)
		rc = 1;
	else
		jobs_orphans(&cl);
	kv_free(kv);
	jobs_claims_free(&cl);
	db_free(db);
	if (jobs_flush() != 0 || !db_ok)
		rc = 1;
	return rc;
}

/* ----------------------------------------------------------------- probe */

static int
jobs_probe_args(
    int argc, char **argv, unsigned long long *n, unsigned long long *sleep_ms)
{
	static const struct option opts[] = {
	    {"sleep", required_argument, NULL, 's'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	*n = 1;
	*sleep_ms = 0;
	/* 0, not 1: glibc then forgets the "+" (stop at the first operand)
	 * of main's option string, so that options may follow N. */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 's') {
			if (jobs_number(optarg, 0, JOBS_SLEEP_MAX, sleep_ms) !=
			    0)
				return jobs_usage("--sleep takes milliseconds "
						  "from 0 to %d, not '%s'",
				    JOBS_SLEEP_MAX, optarg);
			continue;
		}
		if (optopt == 's')
			return jobs_usage("--sleep needs milliseconds");
		return jobs_usage("probe has no option '%s'", argv[optind - 1]);
	}
	if (argc - optind > 1)
		return jobs_usage("probe takes one number N, not also '%s'",
		    argv[optind + 1]);
	if (argc - optind == 1 &&
	    jobs_number(argv[optind], 1, JOBS_PROBE_MAX, n) != 0)
		return jobs_usage("N must be a whole number from 1 to %d, not "
				  "'%s'",
		    JOBS_PROBE_MAX, argv[optind]);
	return 0;
}

/*
 * Publishes ids (committed rows) with queue_publish_many: QUEUE_PUBLISH_CHUNK
 * XADDs in one round trip and their published_at in one UPDATE, which
 * commits on its own (one log flush per chunk rather than per job, which
 * would otherwise bound the probe's rate by the disk's flushes). Returns
 * how many Redis took.
 */
static unsigned long long
jobs_publish_all(
    struct kv *kv, struct db *db, const uint64_t *ids, unsigned long long n)
{
	long took = queue_publish_many(kv, db, "probe", ids, (size_t)n);

	return took > 0 ? (unsigned long long)took : 0;
}

int
cmd_jobs_probe(const struct conf *c, int argc, char **argv)
{
	unsigned long long n, sleep_ms, i, published;
	const char **payloads;
	char payload[32];
	uint64_t *ids;
	struct db *db;
	struct kv *kv;
	int rc;

	if ((rc = jobs_probe_args(argc, argv, &n, &sleep_ms)) != 0)
		return rc;
	if (sleep_ms > 0)
		str_printf(
		    payload, sizeof(payload), "{\"sleep_ms\":%llu}", sleep_ms);
	else
		(void)str_copy(payload, sizeof(payload), "{}");
	ids = xcalloc(n, sizeof(*ids));
	payloads = xcalloc(n, sizeof(*payloads));
	for (i = 0; i < n; i++)
		payloads[i] = payload;
	db = db_new(c, DB_APP);
	if (db_begin(db) != 0)
		goto fail;
	if (queue_enqueue_many_tx(db, "probe", payloads, n, ids) != 0) {
		(void)db_rollback(db);
		goto fail;
	}
	if (db_commit(db) != 0)
		goto fail;
	kv = kv_new(c);
	published = jobs_publish_all(kv, db, ids, n);
	kv_free(kv);
	printf("enqueued %llu probe job%s (sleep %llu ms): ids %" PRIu64
	       "..%" PRIu64 "\n",
	    n, n == 1 ? "" : "s", sleep_ms, ids[0], ids[n - 1]);
	if (published == n)
		printf("published %llu\n", published);
	else
		printf("published %llu; Redis did not take the other %llu: the "
		       "reconciler publishes them within "
		       "jobs.reconcile_interval (%d s)\n",
		    published, n - published, c->jobs_reconcile_interval);
	free(payloads);
	free(ids);
	db_free(db);
	return jobs_flush();
fail:
	fprintf(stderr, "licheng: nothing was enqueued: %s\n",
	    db_errstr(db)[0] != '\0' ? db_errstr(db) : "see the log above");
	free(payloads);
	free(ids);
	db_free(db);
	return 1;
}
