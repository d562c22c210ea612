/*
 * cmd_audit: `licheng audit verify` and `licheng audit tail`, the auditors'
 * view of the audit log through the read-only audit account. It owns how a
 * verdict is printed and which exit status it maps to; it must never write
 * to the log or connect as any account that could.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cli.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "util.h"

#define CMD_AUDIT_TAIL_DEFAULT 20
/* Enough for a screenful of history; a full export is a job for a
 * database backup, not for a line-per-row printer holding it all. */
#define CMD_AUDIT_TAIL_MAX 10000

/* Connects as the audit account; prints why not and returns -1. */
static int
cmd_audit_connect(struct db *db)
{
	if (db_ping(db) == 0)
		return 0;
	fprintf(stderr, "licheng: cannot connect as the audit account: %s\n",
	    db_errstr(db));
	return -1;
}

int
cmd_audit_verify(const struct conf *c, int argc, char **argv)
{
	struct audit_verify_result res;
	struct db *db;
	int rc;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: licheng audit verify\n");
		return 2;
	}
	db = db_new(c, DB_AUDIT);
	if (cmd_audit_connect(db) != 0) {
		db_free(db);
		return 2;
	}
	rc = audit_verify(db, &res);
	if (rc == 0) {
		printf(
		    "audit log verified: %llu rows, chain intact\n", res.rows);
	} else if (rc == 1) {
		printf("audit log broken: %s\n", res.reason);
		printf("first bad row: %llu (%llu rows checked)\n", res.bad_id,
		    res.rows);
	} else {
		/* Not a verdict: exit 1 is kept for a broken chain, so that a
		 * monitor never mistakes an outage for tampering. */
		fprintf(stderr,
		    "licheng: the audit log could not be read: %s\n",
		    db_errstr(db));
		rc = 2;
	}
	db_free(db);
	return rc;
}

/* Parses --limit N into *limit; 0, or -1 on a usage error. */
static int
cmd_audit_tail_opts(int argc, char **argv, long *limit)
{
	static const struct option opts[] = {
	    {"limit", required_argument, NULL, 'l'},
	    {NULL, 0, NULL, 0},
	};
	char *end;
	int ch;

	optind = 1;
	opterr = 0;
	*limit = CMD_AUDIT_TAIL_DEFAULT;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'l')
			return -1;
		*limit = strtol(optarg, &end, 10);
		if (end == optarg || *end != '\0' || *limit < 1 ||
		    *limit > CMD_AUDIT_TAIL_MAX)
			return -1;
	}
	return optind == argc ? 0 : -1;
}

int
cmd_audit_tail(const struct conf *c, int argc, char **argv)
{
	struct audit_event e;
	struct db_param p[1];
	struct db_res *r;
	struct db *db;
	struct buf line;
	unsigned long long id;
	size_t i, n;
	long limit;
	int rc = 1;

	if (cmd_audit_tail_opts(argc, argv, &limit) != 0) {
		fprintf(stderr,
		    "usage: licheng audit tail [--limit N] (1 to "
		    "%d, default %d)\n",
		    CMD_AUDIT_TAIL_MAX, CMD_AUDIT_TAIL_DEFAULT);
		return 2;
	}
	db = db_new(c, DB_AUDIT);
	if (cmd_audit_connect(db) != 0) {
		db_free(db);
		return 2;
	}
	p[0] = DB_INT(limit);
	r = db_query(db,
	    "SELECT id, DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f'), actor, role, "
	    "school, ip, event, target, outcome, detail, hash "
	    "FROM audit_log ORDER BY id DESC LIMIT ?",
	    p, 1);
	if (r == NULL) {
		fprintf(stderr,
		    "licheng: the audit log could not be read: %s\n",
		    db_errstr(db));
		db_free(db);
		return 1;
	}
	buf_init(&line);
	/* Oldest first, like tail(1); each line is the row's canonical form,
	 * the very text its hash covers, with the hash added at the end. */
	for (n = db_res_rows(r); n > 0; n--) {
		i = n - 1;
		/* id is the primary key, never NULL; the check is for the
		 * compiler's and the reader's peace of mind. */
		id = db_res_get(r, i, 0) != NULL
		    ? strtoull(db_res_get(r, i, 0), NULL, 10)
		    : 0;
		e.actor = db_res_get(r, i, 2);
		e.role = db_res_get(r, i, 3);
		e.school = db_res_get(r, i, 4);
		e.ip = db_res_get(r, i, 5);
		e.event = db_res_get(r, i, 6);
		e.target = db_res_get(r, i, 7);
		e.outcome = db_res_get(r, i, 8);
		e.detail = db_res_get(r, i, 9);
		buf_reset(&line);
		audit_canonical(&line, id, db_res_get(r, i, 1), &e);
		/* Reopen the object to add the hash after the hashed keys. */
		line.len--;
		buf_json_kv(&line, "hash", db_res_get(r, i, 10));
		buf_puts(&line, "}\n");
		if (fputs(line.data, stdout) == EOF)
			goto out;
	}
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	buf_free(&line);
	db_res_free(r);
	db_free(db);
	return rc;
}
