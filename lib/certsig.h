/*
 * certsig: the signed record of a certification decision (DESIGN.md
 * "Central submission": the school platform signs, as arbiter, over the
 * teacher, the item, the file hashes, the decision and the time), its
 * canonical text, and its verification from the database.
 *
 * The canonical text is UTF-8, one "name: value" line per field ending in
 * "\n", in this order and nothing else:
 *
 *   licheng-certification-v1
 *   school: <schools.code>
 *   item: <items.public_id>
 *   version: <certifications.item_version, decimal>
 *   student: <students.public_id>
 *   course: <courses.public_id>
 *   teacher: <the acting teacher's teachers.public_id>
 *   for-teacher: <teachers.public_id acted for, or empty>
 *   standin: <cert_standins.public_id, or empty>
 *   file: doc <sha256>          (one line per certification_files row,
 *   file: video <sha256>         doc before video; none when none)
 *   decision: certified | rejected
 *   reason: <the reason, or empty; "\" as "\\", LF as "\n", CR as "\r">
 *   time: <decided_at as "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC)>
 *   key: <platform_keys.key_id>
 *
 * The signature is Ed25519 by the platform key over exactly those bytes,
 * stored as 128 lower-case hex digits in certifications.signature. Since
 * the text is rebuilt from the columns when it is checked, changing any
 * signed column (a file's hash, the decision, the reason, the time, who
 * acted) makes the check fail.
 */
#ifndef LICHENG_CERTSIG_H
#define LICHENG_CERTSIG_H

#include <stddef.h>

#include "ids.h"
#include "sign.h"

struct buf;
struct db;

struct certsig_file {
	const char *slot; /* "doc" or "video" */
	const char *sha256; /* 64 lower-case hex digits */
};

/* Every field is NUL-terminated text; "" stands for none. */
struct certsig_rec {
	const char *school;
	const char *item;
	unsigned long version;
	const char *student;
	const char *course;
	const char *teacher;
	const char *for_teacher;
	const char *standin;
	const struct certsig_file *files; /* doc first */
	size_t nfiles;
	const char *decision; /* "certified" or "rejected" */
	const char *reason;
	/* "YYYY-MM-DD HH:MM:SS.ffffff" in UTC, as a DATETIME(6) column reads
	 * and is written */
	const char *decided_at;
	const char *key_id;
};

/* The canonical text of r, appended to out. 0, or -1 when a field does not
 * fit its form (an empty required field, a bad hash, slot, decision or
 * time, a rejection without a reason, a line break in a one-line field). */
int certsig_text(const struct certsig_rec *r, struct buf *out);
/* Signs r's canonical text with k into sig (128 hex digits and a NUL).
 * 0/-1. */
int certsig_sign(const struct sign_key *k, const struct certsig_rec *r,
    char sig[SIGN_SIG_HEX_LEN + 1]);
/* 1 when sig (hex) is pub's signature of r's canonical text, 0 when it is
 * not (or r or sig is malformed), -1 on an error. */
int certsig_check(const unsigned char pub[SIGN_PUB_LEN],
    const struct certsig_rec *r, const char *sig);

/* A decision's time now, "YYYY-MM-DD HH:MM:SS.ffffff" UTC. 0/-1. */
#define CERTSIG_TIME_LEN 26
int certsig_now(char out[CERTSIG_TIME_LEN + 1]);

/*
 * Verification from the database: every decision of one item, oldest
 * first, each rebuilt from its columns and checked against the public key
 * of its key_id in platform_keys.
 */
enum certsig_result {
	CERTSIG_OK,
	CERTSIG_BAD_SIGNATURE, /* the columns are not what was signed */
	CERTSIG_UNKNOWN_KEY, /* key_id is not in platform_keys */
	CERTSIG_MALFORMED, /* a column does not fit the canonical form */
	CERTSIG_STALE /* the current decision's files are not the item's
		       * current files (checked for the current one only) */
};

struct certsig_entry {
	char public_id[IDS_PUBLIC_LEN + 1];
	char decision[10];
	char decided_at[CERTSIG_TIME_LEN + 1];
	char teacher[IDS_PUBLIC_LEN + 1];
	char for_teacher[IDS_PUBLIC_LEN + 1];
	char key_id[SIGN_HEX_LEN + 1];
	int current; /* items.cert_id names it */
	enum certsig_result result;
	char signature[SIGN_SIG_HEX_LEN + 1]; /* as recorded */
	/* The canonical text rebuilt from the columns (NULL when they do not
	 * fit its form), owned by the report: `verify-cert --text` prints
	 * it, so that it can be checked with other tools. */
	char *text;
};

struct certsig_report {
	struct certsig_entry *v;
	size_t n;
};

const char *certsig_result_name(enum certsig_result r);

/* The item with public id item (of any school): 1 with its decisions in
 * out (free with certsig_report_free; n may be 0), 0 when there is no such
 * item, -1 on a database error. */
int certsig_verify_item(
    struct db *db, const char *item, struct certsig_report *out);
void certsig_report_free(struct certsig_report *r);

#endif
