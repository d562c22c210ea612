/*
 * review: `licheng accounts review --school CODE [--csv]`, the periodic
 * account review of one school as aligned text or CSV (the same listing as
 * the admins' page, recorded in the audit log as an export), and
 * `licheng accounts sweep`, one run now of the sweep licheng-worker runs
 * every accounts.sweep_interval. The sweep connects as the worker's
 * database account, so that it runs with exactly the rights the worker
 * has and no more. Neither shows a national ID or a birth date.
 */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "cli.h"
#include "conf.h"
#include "db.h"
#include "kv.h"
#include "review.h"
#include "util.h"

/* The audit actor of the command: "cli:" and the effective unix user's
 * name, or "cli" when it is unknown or too long for the column. */
static void
review_cli_actor(char *out, size_t outlen)
{
	const struct passwd *pw = getpwuid(geteuid());

	if (pw == NULL || pw->pw_name == NULL ||
	    strlen(pw->pw_name) + 4 > AUDIT_ACTOR_MAX)
		(void)str_copy(out, outlen, "cli");
	else
		str_printf(out, outlen, "cli:%s", pw->pw_name);
}

/* The id of the school with code; 1 found, 0 not, -1 database error. */
static int
review_school(struct db *db, const char *code, long long *id)
{
	struct db_param p[1] = {DB_STR(code)};
	struct db_res *res;
	int rc;

	if ((res = db_query(
		 db, "SELECT id FROM schools WHERE code = ?", p, 1)) == NULL)
		return -1;
	rc = db_res_rows(res) == 1;
	if (rc)
		*id = db_res_int(res, 0, 0);
	db_res_free(res);
	return rc;
}

/* Records the listing as an export of the school's accounts. 0/-1. */
static int
review_cli_audit(struct db *db, const char *school, size_t rows, int csv)
{
	char actor[AUDIT_ACTOR_MAX + 1], target[64];
	struct audit_event ev;
	struct buf d;
	int rc;

	review_cli_actor(actor, sizeof(actor));
	str_printf(target, sizeof(target), "school:%s", school);
	buf_init(&d);
	buf_putc(&d, '{');
	buf_json_ki(&d, "rows", (long long)rows);
	buf_json_kv(&d, "format", csv ? "csv" : "text");
	buf_putc(&d, '}');
	memset(&ev, 0, sizeof(ev));
	ev.actor = actor;
	ev.role = "operator";
	ev.school = school;
	ev.ip = "";
	ev.event = "account.review_export";
	ev.target = target;
	ev.outcome = "success";
	ev.detail = d.data;
	rc = audit_append(db, &ev);
	buf_free(&d);
	return rc;
}

/* The command speaks in codes: a message key's last segment
 * ("review.col.login" -> "login", "review.status.active" -> "active"). */
static const char *
review_code(void *arg, const char *key)
{
	const char *dot = strrchr(key, '.');

	(void)arg;
	return dot != NULL ? dot + 1 : key;
}

/* The columns a terminal shows a UTF-8 text in: two for the East Asian
 * wide and full-width ranges (CJK, Hangul, full-width forms), one for
 * anything else; continuation bytes take none. */
static size_t
review_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	size_t w = 0;
	int extra;

	while (*p != '\0') {
		if (*p < 0x80) {
			w++;
			p++;
			continue;
		}
		extra = *p >= 0xF0 ? 3 : *p >= 0xE0 ? 2 : 1;
		cp = *p & (0x3F >> extra);
		for (p++; extra > 0 && (*p & 0xC0) == 0x80; extra--, p++)
			cp = (cp << 6) | (*p & 0x3F);
		w += (cp >= 0x1100 && cp <= 0x115F) ||
			(cp >= 0x2E80 && cp <= 0xA4CF) ||
			(cp >= 0xAC00 && cp <= 0xD7A3) ||
			(cp >= 0xF900 && cp <= 0xFAFF) ||
			(cp >= 0xFE30 && cp <= 0xFE4F) ||
			(cp >= 0xFF00 && cp <= 0xFF60) ||
			(cp >= 0xFFE0 && cp <= 0xFFE6) ||
			(cp >= 0x20000 && cp <= 0x3FFFD)
		    ? 2
		    : 1;
	}
	return w;
}

/* Appends s and the spaces that pad it to width columns. */
static void
review_pad(struct buf *b, const char *s, size_t width)
{
	size_t w = review_width(s);

	buf_puts(b, s);
	for (; w < width; w++)
		buf_putc(b, ' ');
}

/* The listing as aligned text: a header of column names, then a line per
 * account, "-" for an empty value; the last column is not padded. */
static void
review_text(const struct review_list *l, struct buf *out)
{
	size_t width[REVIEW_COL__MAX], i, w;
	char tmp[24];
	const char *v;
	int c;

	for (c = 0; c < REVIEW_COL__MAX; c++)
		width[c] = strlen(review_col_name((enum review_col)c));
	for (i = 0; i < l->n; i++)
		for (c = 0; c < REVIEW_COL__MAX; c++) {
			v = review_cell(&l->rows[i], (enum review_col)c, tmp);
			w = v[0] != '\0' ? review_width(v) : 1;
			if (w > width[c])
				width[c] = w;
		}
	for (c = 0; c < REVIEW_COL__MAX; c++) {
		review_pad(out, review_col_name((enum review_col)c),
		    c + 1 < REVIEW_COL__MAX ? width[c] + 2 : 0);
	}
	buf_putc(out, '\n');
	for (i = 0; i < l->n; i++) {
		for (c = 0; c < REVIEW_COL__MAX; c++) {
			v = review_cell(&l->rows[i], (enum review_col)c, tmp);
			review_pad(out, v[0] != '\0' ? v : "-",
			    c + 1 < REVIEW_COL__MAX ? width[c] + 2 : 0);
		}
		buf_putc(out, '\n');
	}
}

int
cmd_accounts_review(const struct conf *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"school", required_argument, NULL, 's'},
	    {"csv", no_argument, NULL, 'c'},
	    {NULL, 0, NULL, 0},
	};
	struct review_filter f;
	struct review_list l;
	const char *school = NULL;
	long long school_id = 0;
	struct db *db;
	struct buf out;
	int ch, csv = 0, bad = 0, rc = 1, found;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's': school = optarg; break;
		case 'c': csv = 1; break;
		default: bad = 1; break;
		}
	}
	if (bad || school == NULL || optind != argc) {
		fprintf(stderr,
		    "usage: licheng accounts review --school CODE "
		    "[--csv]\n");
		return 2;
	}
	db = db_new(c, DB_APP);
	found = review_school(db, school, &school_id);
	if (found <= 0) {
		if (found == 0)
			fprintf(stderr, "licheng: no school has the code %s\n",
			    school);
		goto out;
	}
	memset(&f, 0, sizeof(f));
	if (review_list(
		db, (uint64_t)school_id, &f, c->accounts_grace_days, &l) != 0)
		goto out;
	if (review_cli_audit(db, school, l.n, csv) != 0) {
		review_list_free(&l);
		goto out;
	}
	buf_init(&out);
	if (csv)
		review_csv(&l, review_code, NULL, &out);
	else
		review_text(&l, &out);
	review_list_free(&l);
	rc = fwrite(out.data, 1, out.len, stdout) == out.len &&
		fflush(stdout) == 0
	    ? 0
	    : 1;
	buf_free(&out);
out:
	if (rc != 0 && db_errstr(db)[0] != '\0')
		fprintf(stderr, "licheng: database: %s\n", db_errstr(db));
	db_free(db);
	return rc;
}

int
cmd_accounts_sweep(const struct conf *c, int argc, char **argv)
{
	struct review_sweep_stats st;
	struct buf what;
	struct db *db;
	struct kv *kv;
	int rc;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: licheng accounts sweep\n");
		return 2;
	}
	db = db_new(c, DB_WORKER);
	kv = kv_new(c);
	rc = review_sweep(db, kv, c->accounts_grace_days, &st);
	buf_init(&what);
	review_sweep_summary(&st, c->accounts_grace_days, &what);
	printf("account sweep: %s\n", what.data);
	buf_free(&what);
	if (rc != 0)
		fprintf(stderr, "licheng: the sweep did not finish: %s\n",
		    db_errstr(db)[0] != '\0' ? db_errstr(db)
					     : "see the log lines above");
	kv_free(kv);
	db_free(db);
	return rc == 0 ? 0 : 1;
}
