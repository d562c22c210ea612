/*
 * cmd_import: `licheng import KIND --school CODE FILE [--dry-run]
 * [--encoding utf-8|big5] [--report FILE]`, the operators' way into the
 * same import engine as the admin's page (lib/import.c). It owns reading
 * the file, the printing of the report and the exit status; it never
 * prints a national ID (the engine masks them) nor an activation code (the
 * letters are printed from the admin page).
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "accounts.h"
#include "cli.h"
#include "conf.h"
#include "crypto.h"
#include "csv.h"
#include "db.h"
#include "import.h"
#include "log.h"
#include "util.h"

struct cmd_import_opts {
	const char *school, *encoding, *report;
	int dry_run;
	int kind;
	const char *file;
};

static void
cmd_import_usage(void)
{
	fprintf(stderr,
	    "usage: licheng import students|teachers|courses|enrolments "
	    "--school CODE FILE\n"
	    "    [--dry-run] [--encoding utf-8|big5] [--report FILE]\n"
	    "  --dry-run   check every row and change nothing\n"
	    "  --encoding  read the file as UTF-8 or Big5 (default: detect)\n"
	    "  --report    write the problems as CSV for Excel (UTF-8, BOM)\n"
	    "  The columns are described in docs/import.md.\n");
}

/* 0, or -1 after a usage message. */
static int
cmd_import_parse(int argc, char **argv, struct cmd_import_opts *o)
{
	static const struct option opts[] = {
	    {"school", required_argument, NULL, 's'},
	    {"encoding", required_argument, NULL, 'e'},
	    {"report", required_argument, NULL, 'r'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	memset(o, 0, sizeof(*o));
	/* 0, not 1: glibc then starts over, forgetting the "+" (stop at the
	 * first argument) of main's own getopt, so that options may follow
	 * KIND and FILE. */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's': o->school = optarg; break;
		case 'e': o->encoding = optarg; break;
		case 'r': o->report = optarg; break;
		case 'n': o->dry_run = 1; break;
		default:
			fprintf(stderr,
			    "licheng: unknown or incomplete option \"%s\"\n",
			    argv[optind - 1]);
			cmd_import_usage();
			return -1;
		}
	}
	if (argc - optind != 2 || o->school == NULL) {
		cmd_import_usage();
		return -1;
	}
	if ((o->kind = import_kind_parse(argv[optind])) < 0) {
		fprintf(stderr,
		    "licheng: unknown kind \"%s\" (students, teachers, "
		    "courses, enrolments)\n",
		    argv[optind]);
		return -1;
	}
	o->file = argv[optind + 1];
	return 0;
}

/* One problem as "row N, column: reason (原因) [value]". */
static void
cmd_import_print_problem(enum import_kind k, const struct import_problem *p)
{
	if (p->row == 0)
		printf("file");
	else
		printf("row %zu", p->row);
	if (p->column[0] != '\0')
		printf(", %s", import_column_label(k, p->column, "en"));
	printf(": %s (%s)", import_problem_text(p->code, "en"),
	    import_problem_text(p->code, "zh-TW"));
	if (p->value[0] != '\0')
		printf(" [%s]", p->value);
	printf("\n");
}

static void
cmd_import_print_problems(const struct import_report *rep)
{
	size_t i;

	for (i = 0; i < rep->nproblems; i++)
		cmd_import_print_problem(rep->kind, &rep->problems[i]);
	if (rep->truncated)
		printf("... %s (%s)\n", import_problem_text("truncated", "en"),
		    import_problem_text("truncated", "zh-TW"));
}

/* Writes the report CSV (zh-TW headers and reasons: the file is for the
 * school's staff) to path, readable by its owner only (it holds names).
 * 0/-1. */
static int
cmd_import_write_report(const struct import_report *rep, const char *path)
{
	struct buf b;
	size_t off = 0;
	ssize_t w;
	int fd, rc = 0;

	buf_init(&b);
	import_report_csv(rep, "zh-TW", &b);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		fprintf(
		    stderr, "licheng: %s: cannot write the report: %m\n", path);
		buf_free(&b);
		return -1;
	}
	while (off < b.len) {
		w = write(fd, b.data + off, b.len - off);
		if (w < 0) {
			fprintf(stderr, "licheng: %s: writing the report: %m\n",
			    path);
			rc = -1;
			break;
		}
		off += (size_t)w;
	}
	if (close(fd) != 0 && rc == 0) {
		fprintf(stderr, "licheng: %s: writing the report: %m\n", path);
		rc = -1;
	}
	buf_free(&b);
	return rc;
}

/* Where and until when the letters of an apply can be printed. */
static void
cmd_import_print_letters(const struct conf *c, struct db *db,
    uint64_t school_id, const char *letters_id)
{
	struct db_param p[2];
	struct db_res *r;
	const char *until = NULL;

	p[0] = DB_STR(letters_id);
	p[1] = DB_INT((long long)school_id);
	r = db_query(db,
	    "SELECT DATE_FORMAT(expires_at, '%Y-%m-%d %H:%i UTC') FROM "
	    "letter_batches WHERE public_id = ? AND school_id = ?",
	    p, 2);
	if (r != NULL && db_res_rows(r) == 1)
		until = db_res_get(r, 0, 0);
	printf("the activation letters can be printed from the admin page "
	       "%s/admin/letters/%s until %s\n"
	       "(可於管理頁面列印開通通知單，期限至 %s)\n",
	    c->site_url != NULL ? c->site_url : "", letters_id,
	    until != NULL ? until : "?", until != NULL ? until : "?");
	db_res_free(r);
}

/* Runs the check or the apply and prints its outcome; the exit status. */
static int
cmd_import_run(const struct conf *c, struct import_ctx *x,
    const struct cmd_import_opts *o, const char *data, size_t len,
    enum csv_encoding enc)
{
	struct import_report rep;
	const char *kind = import_kind_name((enum import_kind)o->kind);
	int rc;

	if (o->dry_run)
		rc = import_check(
		    x, (enum import_kind)o->kind, data, len, enc, &rep);
	else
		rc = import_apply(
		    x, (enum import_kind)o->kind, data, len, enc, &rep);
	if (rc != 0) {
		fprintf(stderr,
		    "licheng: import failed, nothing was changed: "
		    "database: %s\n",
		    db_errstr(x->db)[0] ? db_errstr(x->db) : "error");
		return 2;
	}
	printf("%s: %zu rows read as %s, %zu bad%s\n", kind, rep.rows,
	    csv_encoding_name(rep.encoding), rep.bad_rows,
	    o->dry_run ? " (dry run: nothing was changed)" : "");
	cmd_import_print_problems(&rep);
	if (rep.applied) {
		printf("applied: %zu created, %zu updated, %zu unchanged, %zu "
		       "accounts issued\n",
		    rep.created, rep.updated, rep.unchanged,
		    rep.accounts_issued);
		if (rep.letters_id[0] != '\0')
			cmd_import_print_letters(
			    c, x->db, x->school_id, rep.letters_id);
	} else if (!o->dry_run)
		printf("nothing was changed: fix the rows above and run the "
		       "import again (未變更任何資料)\n");
	rc = rep.bad_rows > 0 ? 1 : 0;
	if (o->report != NULL && cmd_import_write_report(&rep, o->report) != 0)
		rc = rc ? rc : 1;
	import_report_free(&rep);
	return rc;
}

int
cmd_import(const struct conf *c, int argc, char **argv)
{
	struct cmd_import_opts o;
	struct import_ctx x;
	unsigned char data_key[CRYPTO_KEY_LEN], lookup_key[CRYPTO_KEY_LEN];
	char err[512], actor[65], *data = NULL;
	size_t len = 0;
	int enc = CSV_ENC_AUTO, rc = 2;
	uint64_t school_id = 0;

	if (cmd_import_parse(argc, argv, &o) != 0)
		return 2;
	if (o.encoding != NULL &&
	    ((enc = csv_encoding_parse(o.encoding)) < 0 ||
		enc == CSV_ENC_AUTO)) {
		fprintf(stderr,
		    "licheng: --encoding \"%s\": utf-8 or big5 (leave it out "
		    "to detect)\n",
		    o.encoding);
		return 2;
	}
	if (file_read_all(o.file, (size_t)c->import_max_bytes, &data, &len, err,
		sizeof(err)) != 0) {
		fprintf(stderr, "licheng: %s%s\n", err,
		    strstr(err, "at most") != NULL ? " (import.max_bytes)"
						   : "");
		return 1;
	}
	if (crypto_key_from_hex(c->secret_data_key, data_key) != 0 ||
	    crypto_key_from_hex(c->secret_lookup_key, lookup_key) != 0) {
		fprintf(stderr,
		    "licheng: keys.data or keys.lookup in %s is not 64 hex "
		    "digits\n",
		    c->secrets_file);
		goto out_data;
	}
	memset(&x, 0, sizeof(x));
	x.db = db_new(c, DB_APP);
	x.conf = c;
	x.data_key = data_key;
	x.lookup_key = lookup_key;
	cli_actor(actor, sizeof(actor));
	x.who.actor = actor;
	x.who.role = "operator";
	x.who.ip = "";
	if (cli_school_id(x.db, o.school, &school_id) != 0) {
		fprintf(stderr, "licheng: database: %s\n", db_errstr(x.db));
		goto out;
	}
	if (school_id == 0) {
		fprintf(stderr, "licheng: no school with code %s\n", o.school);
		rc = 1;
		goto out;
	}
	x.school_id = school_id;
	x.school_code = o.school;
	rc = cmd_import_run(c, &x, &o, data, len, (enum csv_encoding)enc);
out:
	db_free(x.db);
out_data:
	OPENSSL_cleanse(data_key, sizeof(data_key));
	OPENSSL_cleanse(lookup_key, sizeof(lookup_key));
	OPENSSL_cleanse(data, len);
	free(data);
	return rc;
}
