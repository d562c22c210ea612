/*
 * hash_objects: the load of the hash benchmark (tests/bench/run,
 * bench_hash). It writes objects with the store as an upload does and
 * queues their hash jobs as the outbox does, and times the jobs.
 *
 *   hash_objects CONF put N SIZE   writes N objects of SIZE random bytes
 *                                  into both roots (lib/store: tmp/,
 *                                  fsync, rename, fsync) with their objects
 *                                  rows; prints their SHA-256, one a line
 *   hash_objects CONF run FILE     queues a hash job for each SHA-256 of
 *                                  FILE in one transaction, publishes them,
 *                                  and waits until all are done; prints
 *                                  "jobs N seconds S" (from just before the
 *                                  transaction to the last job's
 *                                  finished_at, by the database's clock)
 *
 * It connects as licheng-fcgi does (the application's account), which may
 * record objects and queue jobs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "kv.h"
#include "log.h"
#include "queue.h"
#include "store.h"
#include "util.h"

/* How long run waits for the jobs, and how often it looks. */
#define RUN_TIMEOUT_MS (15 * 60 * 1000)
#define RUN_POLL_MS 20

static int
put(const struct conf *c, struct db *db, long n, long size)
{
	char ids[2][STORE_ID_LEN + 1], sha[65];
	unsigned char *b = xmalloc(1024 * 1024);
	enum store_error e;
	struct store_put *p;
	struct store *s;
	struct db_param q[2];
	long i, off, k;
	int rc = 1;

	if (store_load_ids(db, ids[0], ids[1]) != 0) {
		fprintf(stderr, "hash_objects: %s\n", db_errstr(db));
		free(b);
		return 1;
	}
	s = store_new(c->store_primary, c->store_replica, ids[0], ids[1]);
	for (i = 0; i < n; i++) {
		if ((p = store_put_begin(s, &e)) == NULL)
			goto out;
		for (off = 0; off < size; off += k) {
			k = size - off < 1024 * 1024 ? size - off : 1024 * 1024;
			if (crypto_random(b, (size_t)k) != 0 ||
			    (e = store_put_write(p, b, (size_t)k)) !=
				STORE_OK) {
				store_put_abort(p);
				goto out;
			}
		}
		if ((e = store_put_commit(p, sha, NULL)) != STORE_OK)
			goto out;
		q[0] = DB_STR(sha);
		q[1] = DB_INT(size);
		if (db_exec(db,
			"INSERT IGNORE INTO objects (sha256, size, mime) "
			"VALUES (?, ?, 'application/pdf')",
			q, 2, NULL, NULL) != 0) {
			fprintf(stderr, "hash_objects: %s\n", db_errstr(db));
			goto out;
		}
		printf("%s\n", sha);
	}
	rc = 0;
out:
	if (rc != 0 && i < n)
		fprintf(stderr, "hash_objects: object %ld of %ld not written\n",
		    i + 1, n);
	store_free(s);
	free(b);
	return rc;
}

/* The number of jobs from first to last that are in state. -1 on error. */
static long
count_state(struct db *db, uint64_t first, uint64_t last, const char *state)
{
	struct db_param p[3] = {
	    DB_INT((long long)first), DB_INT((long long)last), DB_STR(state)};
	struct db_res *r;
	long n;

	r = db_query(db,
	    "SELECT COUNT(*) FROM jobs WHERE id BETWEEN ? AND ? AND state = ?",
	    p, 3);
	if (r == NULL)
		return -1;
	n = (long)db_res_int(r, 0, 0);
	db_res_free(r);
	return n;
}

static int
run(const struct conf *c, struct db *db, const char *file)
{
	char line[128], payload[96], start[40];
	struct db_param p[3];
	uint64_t *ids = NULL, first;
	size_t n = 0, cap = 0, i;
	struct timespec ts = {0, RUN_POLL_MS * 1000000L};
	struct db_res *r;
	struct kv *kv;
	int64_t t0, until, seen = 0;
	long done = 0, dead;
	FILE *f;

	if ((f = fopen(file, "r")) == NULL) {
		perror(file);
		return 1;
	}
	r = db_query(db, "SELECT UTC_TIMESTAMP(6)", NULL, 0);
	if (r == NULL || str_copy(start, sizeof(start), db_res_get(r, 0, 0))) {
		fprintf(stderr, "hash_objects: %s\n", db_errstr(db));
		db_res_free(r);
		fclose(f);
		return 1;
	}
	db_res_free(r);
	t0 = now_ms();
	if (db_begin(db) != 0)
		goto fail;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			ids = xrealloc(ids, cap * sizeof(*ids));
		}
		str_printf(
		    payload, sizeof(payload), "{\"sha256\":\"%s\"}", line);
		if (queue_enqueue_tx(db, "hash", payload, &ids[n]) != 0)
			goto fail;
		n++;
	}
	fclose(f);
	f = NULL;
	if (n == 0 || db_commit(db) != 0)
		goto fail;
	kv = kv_new(c);
	for (i = 0; i < n; i++)
		(void)queue_publish(kv, db, "hash", ids[i]);
	kv_free(kv);
	first = ids[0];
	until = now_ms() + RUN_TIMEOUT_MS;
	while ((done = count_state(db, first, ids[n - 1], "done")) >= 0 &&
	    (size_t)done < n && now_ms() < until) {
		dead = count_state(db, first, ids[n - 1], "dead");
		if (dead > 0) {
			fprintf(
			    stderr, "hash_objects: %ld jobs are dead\n", dead);
			goto fail;
		}
		(void)nanosleep(&ts, NULL);
	}
	seen = now_ms();
	if (done < 0 || (size_t)done < n) {
		fprintf(
		    stderr, "hash_objects: %ld of %zu jobs done\n", done, n);
		goto fail;
	}
	p[0] = DB_STR(start);
	p[1] = DB_INT((long long)first);
	p[2] = DB_INT((long long)ids[n - 1]);
	r = db_query(db,
	    "SELECT TIMESTAMPDIFF(MICROSECOND, ?, MAX(finished_at)) FROM jobs "
	    "WHERE id BETWEEN ? AND ?",
	    p, 3);
	if (r == NULL) {
		fprintf(stderr, "hash_objects: %s\n", db_errstr(db));
		goto fail;
	}
	/* The runner records when each job finished; without that, when
	 * this loop saw the last one done (at most RUN_POLL_MS later). */
	if (db_res_get(r, 0, 0) != NULL)
		printf("jobs %zu seconds %.3f\n", n,
		    (double)db_res_int(r, 0, 0) / 1e6);
	else
		printf("jobs %zu seconds %.3f\n", n, (double)(seen - t0) / 1e3);
	db_res_free(r);
	free(ids);
	return 0;
fail:
	if (f != NULL)
		fclose(f);
	(void)db_rollback(db);
	fprintf(stderr, "hash_objects: %s\n", db_errstr(db));
	free(ids);
	return 1;
}

int
main(int argc, char **argv)
{
	char err[512];
	struct conf *c;
	struct db *db;
	int rc;

	if (argc < 4 || (strcmp(argv[2], "put") == 0 && argc != 5) ||
	    (strcmp(argv[2], "run") == 0 && argc != 4)) {
		fprintf(stderr,
		    "usage: hash_objects CONF put N SIZE | "
		    "hash_objects CONF run FILE\n");
		return 2;
	}
	(void)log_open("-", LL_WARN);
	if ((c = conf_load(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "hash_objects: %s\n", err);
		return 1;
	}
	db = db_new(c, DB_APP);
	if (strcmp(argv[2], "put") == 0)
		rc = put(c, db, atol(argv[3]), atol(argv[4]));
	else if (strcmp(argv[2], "run") == 0)
		rc = run(c, db, argv[3]);
	else {
		fprintf(stderr, "hash_objects: unknown command %s\n", argv[2]);
		rc = 2;
	}
	db_free(db);
	conf_free(c);
	return rc;
}
