/*
 * import: CSV import of a school's students, teachers, courses and
 * enrolments from its existing system, shared by the admin's page
 * (fcgi/imports.c) and `licheng import` (cli/cmd_import.c). The columns,
 * their Chinese and English header names and the accepted values are
 * documented in docs/import.md, with an example file for each kind.
 *
 * A check (dry run) reads the whole file, validates every cell and every
 * reference (class, term, course, teacher, student) against the database
 * and reports every bad row with its row number, column and reason; it
 * changes nothing. An apply checks again inside one transaction and, only
 * when no row is bad, writes every row (all or nothing): an upsert by
 * student number / teacher login / course code + term, so applying the
 * same file twice changes nothing the second time. New students and
 * teachers get accounts with activation codes, gathered into one letter
 * batch (letters.h). The apply is audited (import.apply, with its
 * counts, and accounts.issue when accounts were made) inside the same
 * transaction, so the change and its audit rows commit together.
 *
 * National IDs are checked by their checksum, stored as pii_twid_hmac +
 * pii_twid_seal, and never appear unmasked in a report, a log line or an
 * audit row.
 */
#ifndef LICHENG_IMPORT_H
#define LICHENG_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "csv.h"
#include "ids.h"
#include "util.h"

struct conf;
struct db;

enum import_kind {
	IMPORT_STUDENTS,
	IMPORT_TEACHERS,
	IMPORT_COURSES,
	IMPORT_ENROLMENTS,
	IMPORT_KIND__MAX
};

/* Problems kept in one report; a file with more says so (truncated). */
#define IMPORT_PROBLEMS_MAX 5000

struct import_problem {
	size_t row; /* spreadsheet row (header = 1); 0 for the whole file */
	char column[48]; /* the canonical column name ("national_id"), or "" */
	/* A stable reason code, e.g. "required", "twid_checksum",
	 * "unknown_class", "duplicate_key" (import_problem_text). */
	const char *code;
	char value[100]; /* the cell as read, cut; national IDs masked */
};

struct import_report {
	enum import_kind kind;
	enum csv_encoding encoding; /* what the file was read as */
	size_t rows; /* data rows (records after the header) */
	size_t bad_rows;
	struct import_problem *problems;
	size_t nproblems;
	int truncated; /* more problems than IMPORT_PROBLEMS_MAX */
	/* After an apply: */
	int applied;
	size_t created, updated, unchanged, accounts_issued;
	char letters_id[IDS_PUBLIC_LEN + 1]; /* the letter batch, or "" */
};

/* Who runs the import, for the audit rows and the letter batch. */
struct import_actor {
	uint64_t user_id; /* 0 from the command line */
	const char *actor; /* login, or "cli:<unix user>" */
	const char *role; /* "school_admin" or "operator" */
	const char *ip; /* "" from the command line */
};

struct import_ctx {
	struct db *db; /* the app (or migrate-free operator) connection */
	const struct conf *conf; /* import.max_rows, letters.keep_hours */
	const unsigned char *data_key; /* keys.data, CRYPTO_KEY_LEN bytes */
	const unsigned char *lookup_key; /* keys.lookup */
	uint64_t school_id;
	const char *school_code;
	struct import_actor who;
	/* The saved import (import_save_check) that import_apply applies, or
	 * NULL (the command line). When set, the apply names it in its audit
	 * row and marks it applied in the same transaction, as
	 * import_mark_applied would. */
	const char *import_id;
};

/* "students", "teachers", "courses", "enrolments"; and back (-1). */
const char *import_kind_name(enum import_kind k);
int import_kind_parse(const char *s);

/* The dry run: 0 with rep (overwritten) filled, rep->bad_rows possibly
 * above 0; -1 on a database error (rep then holds nothing useful). Changes
 * nothing. */
int import_check(const struct import_ctx *x, enum import_kind kind,
    const char *data, size_t len, enum csv_encoding enc,
    struct import_report *rep);

/* The apply: as import_check, then, when no row is bad, every row in one
 * transaction. 0 with rep->applied set when written; 0 with
 * rep->applied == 0 and the problems when any row is bad (nothing
 * written); -1 on a database error (nothing written). */
int import_apply(const struct import_ctx *x, enum import_kind kind,
    const char *data, size_t len, enum csv_encoding enc,
    struct import_report *rep);

void import_report_free(struct import_report *rep);

/*
 * The pure parts of the check, shared with the record forms and the unit
 * tests. A date in one of the forms docs/import.md lists (2008-03-15,
 * 2008/3/15, 20080315, ROC 97/03/15, 097-03-15, 0970315, 970315) into
 * out as YYYY-MM-DD: 0, or -1 when it is none of them or no such day. A
 * term "114-1" into its year and semester: 0/-1. A status word (English or
 * Chinese, docs/import.md) as the stored word, or NULL. The canonical
 * column a header names (either language, any case), or NULL.
 */
int import_parse_date(const char *s, char out[11]);
int import_parse_term(const char *s, int *year, int *semester);
const char *import_student_status(const char *s);
const char *import_teacher_status(const char *s);
const char *import_header_column(enum import_kind k, const char *header);

/* The reason of a problem code in "zh-TW" or "en" (anything else: en). */
const char *import_problem_text(const char *code, const char *lang);
/* The header name of a canonical column in "zh-TW" or "en". */
const char *
import_column_label(enum import_kind k, const char *column, const char *lang);

/* The report as CSV for Excel (BOM, CRLF): row, column, reason, value —
 * headers and reasons in lang. */
void import_report_csv(
    const struct import_report *rep, const char *lang, struct buf *out);
/* The problems as the JSON array stored in imports.report. */
void import_report_json(const struct import_report *rep, struct buf *out);
/* Reads that JSON back into rep->problems (the page's report after a
 * redirect). 0/-1. */
int import_report_from_json(
    struct import_report *rep, const char *json, size_t len);

/*
 * The imports row of a check: records kind, file name, encoding, counts and
 * report, and keeps the file sealed (aad "import:<public_id>") for
 * import.keep_hours so the admin can apply it — only when no row was bad:
 * a file with bad rows can never be applied, so it is not kept (its report
 * is). Its public id into public_id. Own transaction, audited as
 * import.check. 0/-1.
 */
int import_save_check(const struct import_ctx *x, enum import_kind kind,
    const char *filename, const char *data, size_t len,
    const struct import_report *rep, char public_id[IDS_PUBLIC_LEN + 1]);

/*
 * Loads a saved import of the school: 1 with its kind, encoding and
 * (unsealed) file in *data / *len (free with import_payload_free) when it
 * can still be applied; 0 when there is no such import in this school;
 * 2 when it exists but cannot be applied: applied, expired, or checked with
 * bad rows (data NULL; kind and encoding are set). -1 on error.
 */
int import_load(const struct import_ctx *x, const char *public_id,
    enum import_kind *kind, enum csv_encoding *enc, char **data, size_t *len);
void import_payload_free(char *data, size_t len);

/* After a successful apply of a saved import: marks it applied with its
 * counts and letter batch, wiping the sealed file. import_apply does this
 * itself when x->import_id is set; then this changes nothing. 0/-1. */
int import_mark_applied(const struct import_ctx *x, const char *public_id,
    const struct import_report *rep);

/* Wipes the sealed files of imports past import.keep_hours (any school):
 * the worker's sweep. The number wiped, or -1. */
long import_expire(struct db *db);

#endif
