/*
 * certsig: the canonical text of a certification decision (its exact form
 * is in certsig.h), its signature with the platform key, and the check of
 * every decision of an item rebuilt from the database. It validates every
 * field before writing a byte, so a record either has exactly one text or
 * none; it never writes to the database.
 */
#include "certsig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "util.h"
#include "validate.h"

#define CERTSIG_SCHOOL_MAX 64 /* characters of a school code */
#define CERTSIG_REASON_MAX 200 /* certifications.reason VARCHAR(200) */
#define CERTSIG_FILES_MAX 2 /* a doc and a video */

static int
certsig_is_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int
certsig_num(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* 1 when s is "YYYY-MM-DD HH:MM:SS.ffffff", a real date and time. */
static int
certsig_time_ok(const char *s)
{
	static const int mdays[12] = {
	    31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, sec;

	if (s == NULL || strlen(s) != CERTSIG_TIME_LEN)
		return 0;
	if (!certsig_is_digits(s, 4) || s[4] != '-' ||
	    !certsig_is_digits(s + 5, 2) || s[7] != '-' ||
	    !certsig_is_digits(s + 8, 2) || s[10] != ' ' ||
	    !certsig_is_digits(s + 11, 2) || s[13] != ':' ||
	    !certsig_is_digits(s + 14, 2) || s[16] != ':' ||
	    !certsig_is_digits(s + 17, 2) || s[19] != '.' ||
	    !certsig_is_digits(s + 20, 6))
		return 0;
	y = certsig_num(s, 4);
	mo = certsig_num(s + 5, 2);
	d = certsig_num(s + 8, 2);
	h = certsig_num(s + 11, 2);
	mi = certsig_num(s + 14, 2);
	sec = certsig_num(s + 17, 2);
	if (y < 1000 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h > 23 || mi > 59 || sec > 59)
		return 0;
	if (mo == 2 && d == 29 &&
	    !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 0;
	return 1;
}

static int
certsig_hex64_ok(const char *s)
{
	return s != NULL && strlen(s) == SIGN_HEX_LEN &&
	    hex_lower_is(s, SIGN_HEX_LEN);
}

/* A public id, or with optional set also "" (NULL counts as ""). */
static int
certsig_id_ok(const char *s, int optional)
{
	if (s == NULL || s[0] == '\0')
		return optional;
	return ids_public_valid(s);
}

static int
certsig_files_ok(const struct certsig_file *f, size_t n)
{
	size_t i;

	if (n > CERTSIG_FILES_MAX || (n > 0 && f == NULL))
		return 0;
	for (i = 0; i < n; i++) {
		if (f[i].slot == NULL || !certsig_hex64_ok(f[i].sha256))
			return 0;
		if (strcmp(f[i].slot, "doc") != 0 &&
		    strcmp(f[i].slot, "video") != 0)
			return 0;
		/* doc before video, each at most once */
		if (i > 0 &&
		    (strcmp(f[i - 1].slot, "doc") != 0 ||
			strcmp(f[i].slot, "video") != 0))
			return 0;
	}
	return 1;
}

/* The name of the first field of r that does not fit its form, or NULL
 * when every field does. */
static const char *
certsig_invalid(const struct certsig_rec *r)
{
	const char *reason = r->reason != NULL ? r->reason : "";
	long nreason = validate_utf8_text(reason, strlen(reason), 1);

	if (r->school == NULL || !validate_line(r->school, CERTSIG_SCHOOL_MAX))
		return "school";
	if (!certsig_id_ok(r->item, 0))
		return "item";
	if (r->version < 1 || r->version > 0xffffffffUL)
		return "version";
	if (!certsig_id_ok(r->student, 0))
		return "student";
	if (!certsig_id_ok(r->course, 0))
		return "course";
	if (!certsig_id_ok(r->teacher, 0))
		return "teacher";
	if (!certsig_id_ok(r->for_teacher, 1))
		return "for-teacher";
	if (!certsig_id_ok(r->standin, 1))
		return "standin";
	if (!certsig_files_ok(r->files, r->nfiles))
		return "file";
	if (r->decision == NULL ||
	    (strcmp(r->decision, "certified") != 0 &&
		strcmp(r->decision, "rejected") != 0))
		return "decision";
	if (nreason < 0 || nreason > CERTSIG_REASON_MAX ||
	    (nreason == 0 && strcmp(r->decision, "rejected") == 0))
		return "reason";
	if (!certsig_time_ok(r->decided_at))
		return "time";
	if (!certsig_hex64_ok(r->key_id))
		return "key";
	return NULL;
}

int
certsig_text(const struct certsig_rec *r, struct buf *out)
{
	const char *bad = certsig_invalid(r), *p;
	size_t i;

	if (bad != NULL) {
		log_warn("a certification record does not fit the canonical "
			 "form: bad %s",
		    bad);
		return -1;
	}
	buf_puts(out, "licheng-certification-v1\n");
	buf_printf(out, "school: %s\n", r->school);
	buf_printf(out, "item: %s\n", r->item);
	buf_printf(out, "version: %lu\n", r->version);
	buf_printf(out, "student: %s\n", r->student);
	buf_printf(out, "course: %s\n", r->course);
	buf_printf(out, "teacher: %s\n", r->teacher);
	buf_printf(out, "for-teacher: %s\n",
	    r->for_teacher != NULL ? r->for_teacher : "");
	buf_printf(out, "standin: %s\n", r->standin != NULL ? r->standin : "");
	for (i = 0; i < r->nfiles; i++)
		buf_printf(
		    out, "file: %s %s\n", r->files[i].slot, r->files[i].sha256);
	buf_printf(out, "decision: %s\n", r->decision);
	buf_puts(out, "reason: ");
	for (p = r->reason != NULL ? r->reason : ""; *p != '\0'; p++) {
		if (*p == '\\')
			buf_puts(out, "\\\\");
		else if (*p == '\n')
			buf_puts(out, "\\n");
		else if (*p == '\r')
			buf_puts(out, "\\r");
		else
			buf_putc(out, *p);
	}
	/* "YYYY-MM-DD HH:MM:SS.ffffff" -> "YYYY-MM-DDTHH:MM:SS.ffffffZ" */
	buf_printf(
	    out, "\ntime: %.10sT%sZ\n", r->decided_at, r->decided_at + 11);
	buf_printf(out, "key: %s\n", r->key_id);
	return 0;
}

int
certsig_sign(const struct sign_key *k, const struct certsig_rec *r,
    char sig[SIGN_SIG_HEX_LEN + 1])
{
	unsigned char raw[SIGN_SIG_LEN];
	struct buf text;
	int rc = -1;

	buf_init(&text);
	if (certsig_text(r, &text) == 0 &&
	    sign_message(k, text.data, text.len, raw) == 0) {
		hex_encode(raw, sizeof(raw), sig);
		rc = 0;
	}
	buf_free(&text);
	return rc;
}

/* 1 when sig (128 lower-case hex digits) is pub's signature of the n
 * bytes at text, 0 when it is not or sig is malformed, -1 on an error. */
static int
certsig_check_text(const unsigned char pub[SIGN_PUB_LEN], const char *text,
    size_t n, const char *sig)
{
	unsigned char raw[SIGN_SIG_LEN];
	size_t i;

	if (sig == NULL || strlen(sig) != SIGN_SIG_HEX_LEN ||
	    !hex_lower_is(sig, SIGN_SIG_HEX_LEN))
		return 0;
	for (i = 0; i < SIGN_SIG_LEN; i++)
		raw[i] = (unsigned char)(hex_value(sig[2 * i]) << 4 |
		    hex_value(sig[2 * i + 1]));
	return sign_verify(pub, text, n, raw);
}

int
certsig_check(const unsigned char pub[SIGN_PUB_LEN],
    const struct certsig_rec *r, const char *sig)
{
	struct buf text;
	int rc;

	buf_init(&text);
	if (certsig_text(r, &text) != 0)
		rc = 0;
	else
		rc = certsig_check_text(pub, text.data, text.len, sig);
	buf_free(&text);
	return rc;
}

int
certsig_now(char out[CERTSIG_TIME_LEN + 1])
{
	struct timespec ts;
	struct tm tm;
	int n;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 ||
	    gmtime_r(&ts.tv_sec, &tm) == NULL) {
		log_error("%s", "cannot read the clock");
		return -1;
	}
	n = snprintf(out, CERTSIG_TIME_LEN + 1,
	    "%04d-%02d-%02d %02d:%02d:%02d.%06ld", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (long)(ts.tv_nsec / 1000));
	if (n != CERTSIG_TIME_LEN) {
		log_error("the time does not fit: %d characters", n);
		return -1;
	}
	return 0;
}

const char *
certsig_result_name(enum certsig_result r)
{
	switch (r) {
	case CERTSIG_OK: return "OK";
	case CERTSIG_BAD_SIGNATURE: return "BAD_SIGNATURE";
	case CERTSIG_UNKNOWN_KEY: return "UNKNOWN_KEY";
	case CERTSIG_MALFORMED: return "MALFORMED";
	case CERTSIG_STALE: return "STALE";
	}
	return "UNKNOWN";
}

/*
 * Verification from the database. Every signed field is read through a
 * join from the row it names, so that a changed public id, code, hash,
 * decision, reason or time all change the rebuilt text.
 */
static const char Q_ITEM[] =
    "SELECT id, cert_id FROM items WHERE public_id = ?";

enum {
	QC_ID,
	QC_PUBLIC_ID,
	QC_SCHOOL,
	QC_ITEM,
	QC_VERSION,
	QC_STUDENT,
	QC_COURSE,
	QC_TEACHER,
	QC_FOR_TEACHER,
	QC_STANDIN,
	QC_DECISION,
	QC_REASON,
	QC_DECIDED_AT,
	QC_KEY_ID,
	QC_SIGNATURE,
	QC_PUBLIC_KEY
};
static const char Q_CERTS[] =
    "SELECT c.id, c.public_id, sc.code, i.public_id, c.item_version, "
    "st.public_id, co.public_id, t.public_id, ft.public_id, cs.public_id, "
    "c.decision, c.reason, "
    "DATE_FORMAT(c.decided_at, '%Y-%m-%d %H:%i:%S.%f'), c.key_id, "
    "c.signature, pk.public_key "
    "FROM certifications c "
    "JOIN schools sc ON sc.id = c.school_id "
    "JOIN items i ON i.id = c.item_id "
    "JOIN students st ON st.id = i.student_id "
    "LEFT JOIN courses co ON co.id = i.course_id "
    "JOIN teachers t ON t.id = c.teacher_id "
    "LEFT JOIN teachers ft ON ft.id = c.for_teacher_id "
    "LEFT JOIN cert_standins cs ON cs.id = c.standin_id "
    "LEFT JOIN platform_keys pk ON pk.key_id = c.key_id "
    "WHERE c.item_id = ? ORDER BY c.decided_at, c.id";

/* ORDER BY an ENUM sorts by its index: doc before video. */
static const char Q_FILES[] =
    "SELECT f.certification_id, f.slot, f.sha256 "
    "FROM certification_files f "
    "JOIN certifications c ON c.id = f.certification_id "
    "WHERE c.item_id = ? ORDER BY f.certification_id, f.slot";

static const char Q_CURRENT[] =
    "SELECT slot, sha256 FROM item_files "
    "WHERE item_id = ? AND replaced_at IS NULL ORDER BY slot";

static const char *
certsig_col(const struct db_res *res, size_t row, size_t col)
{
	const char *s = db_res_get(res, row, col);

	return s != NULL ? s : "";
}

/* The files of certification id among files' rows, into f. */
static size_t
certsig_files_of(const struct db_res *files, long long id,
    struct certsig_file f[CERTSIG_FILES_MAX + 1])
{
	size_t i, n = 0;

	for (i = 0; i < db_res_rows(files) && n <= CERTSIG_FILES_MAX; i++) {
		if (db_res_int(files, i, 0) != id)
			continue;
		f[n].slot = certsig_col(files, i, 1);
		f[n].sha256 = certsig_col(files, i, 2);
		n++;
	}
	return n;
}

/* 1 when the decision's files are exactly the item's current files. */
static int
certsig_files_current(
    const struct certsig_file *f, size_t n, const struct db_res *cur)
{
	size_t i;

	if (db_res_rows(cur) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(f[i].slot, certsig_col(cur, i, 0)) != 0 ||
		    strcmp(f[i].sha256, certsig_col(cur, i, 1)) != 0)
			return 0;
	return 1;
}

/* Row of certs (with its files) rebuilt into e: its canonical text and
 * its result under its recorded key. */
static void
certsig_row_check(const struct db_res *certs, size_t row,
    const struct certsig_file *files, size_t nfiles, struct certsig_entry *e)
{
	struct certsig_rec rec;
	const char *pubhex = db_res_get(certs, row, QC_PUBLIC_KEY);
	const char *version = certsig_col(certs, row, QC_VERSION);
	unsigned char pub[SIGN_PUB_LEN];
	char id[SIGN_HEX_LEN + 1];
	struct buf text;
	char *end;

	e->result = CERTSIG_MALFORMED;
	memset(&rec, 0, sizeof(rec));
	rec.school = certsig_col(certs, row, QC_SCHOOL);
	rec.item = certsig_col(certs, row, QC_ITEM);
	rec.version = strtoul(version, &end, 10);
	if (version[0] < '0' || version[0] > '9' || *end != '\0')
		return;
	rec.student = certsig_col(certs, row, QC_STUDENT);
	rec.course = certsig_col(certs, row, QC_COURSE);
	rec.teacher = certsig_col(certs, row, QC_TEACHER);
	rec.for_teacher = certsig_col(certs, row, QC_FOR_TEACHER);
	rec.standin = certsig_col(certs, row, QC_STANDIN);
	rec.files = files;
	rec.nfiles = nfiles;
	rec.decision = certsig_col(certs, row, QC_DECISION);
	rec.reason = certsig_col(certs, row, QC_REASON);
	rec.decided_at = certsig_col(certs, row, QC_DECIDED_AT);
	rec.key_id = certsig_col(certs, row, QC_KEY_ID);
	if (certsig_invalid(&rec) != NULL)
		return;
	buf_init(&text);
	if (certsig_text(&rec, &text) != 0) {
		buf_free(&text);
		return;
	}
	e->text = buf_steal(&text);
	if (pubhex == NULL) {
		e->result = CERTSIG_UNKNOWN_KEY;
		return;
	}
	/* A key row whose public key is not the one its id names cannot
	 * vouch for anything. */
	if (sign_pub_from_hex(pubhex, pub) != 0)
		return;
	sign_key_id(pub, id);
	if (strcmp(id, rec.key_id) != 0)
		return;
	e->result =
	    certsig_check_text(pub, e->text, strlen(e->text), e->signature) == 1
	    ? CERTSIG_OK
	    : CERTSIG_BAD_SIGNATURE;
}

static void
certsig_entry_fill(
    struct certsig_entry *e, const struct db_res *certs, size_t row)
{
	/* Columns too long for their field (only a damaged row has them)
	 * are cut; such a row is reported MALFORMED anyway. */
	(void)str_copy(e->public_id, sizeof(e->public_id),
	    certsig_col(certs, row, QC_PUBLIC_ID));
	(void)str_copy(e->decision, sizeof(e->decision),
	    certsig_col(certs, row, QC_DECISION));
	(void)str_copy(e->decided_at, sizeof(e->decided_at),
	    certsig_col(certs, row, QC_DECIDED_AT));
	(void)str_copy(e->teacher, sizeof(e->teacher),
	    certsig_col(certs, row, QC_TEACHER));
	(void)str_copy(e->for_teacher, sizeof(e->for_teacher),
	    certsig_col(certs, row, QC_FOR_TEACHER));
	(void)str_copy(
	    e->key_id, sizeof(e->key_id), certsig_col(certs, row, QC_KEY_ID));
	(void)str_copy(e->signature, sizeof(e->signature),
	    certsig_col(certs, row, QC_SIGNATURE));
}

int
certsig_verify_item(struct db *db, const char *item, struct certsig_report *out)
{
	struct db_res *ires = NULL, *certs = NULL, *files = NULL, *cur = NULL;
	struct certsig_file f[CERTSIG_FILES_MAX + 1];
	long long item_id, cert_id = -1;
	struct db_param p;
	size_t i, n;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (item == NULL || !ids_public_valid(item))
		return 0;
	p = DB_STR(item);
	if ((ires = db_query(db, Q_ITEM, &p, 1)) == NULL)
		goto done;
	if (db_res_rows(ires) == 0) {
		rc = 0;
		goto done;
	}
	item_id = db_res_int(ires, 0, 0);
	if (db_res_get(ires, 0, 1) != NULL)
		cert_id = db_res_int(ires, 0, 1);
	p = DB_INT(item_id);
	if ((certs = db_query(db, Q_CERTS, &p, 1)) == NULL ||
	    (files = db_query(db, Q_FILES, &p, 1)) == NULL ||
	    (cur = db_query(db, Q_CURRENT, &p, 1)) == NULL)
		goto done;
	out->n = db_res_rows(certs);
	out->v = out->n > 0 ? xcalloc(out->n, sizeof(*out->v)) : NULL;
	for (i = 0; i < out->n; i++) {
		struct certsig_entry *e = &out->v[i];
		long long id = db_res_int(certs, i, QC_ID);

		certsig_entry_fill(e, certs, i);
		e->current = id == cert_id;
		n = certsig_files_of(files, id, f);
		if (n > CERTSIG_FILES_MAX)
			e->result = CERTSIG_MALFORMED;
		else
			certsig_row_check(certs, i, f, n, e);
		if (e->current && e->result == CERTSIG_OK &&
		    !certsig_files_current(f, n, cur))
			e->result = CERTSIG_STALE;
	}
	rc = 1;
done:
	if (rc < 0)
		log_error("item %s: %s", item, db_errstr(db));
	db_res_free(ires);
	db_res_free(certs);
	db_res_free(files);
	db_res_free(cur);
	return rc;
}

void
certsig_report_free(struct certsig_report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		free(r->v[i].text);
	free(r->v);
	r->v = NULL;
	r->n = 0;
}
