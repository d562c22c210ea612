/*
 * demo_records: the demo school's records, so that `make demo` shows every
 * page with something on it — this school year's two terms, class 101 with
 * the demo teacher as its homeroom teacher, two courses the demo teacher
 * teaches this term, and the demo student's record enrolled in both, with
 * one course learning outcome (a small PDF written through the store, with
 * its hash and scan jobs). Terms and the class are made here (they have no
 * import); the rest goes through the import engine exactly as an admin's
 * CSV files would, so applying it again changes nothing. Only for a
 * configuration that says demo: true.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "accounts.h"
#include "audit.h"
#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "ids.h"
#include "import.h"
#include "items.h"
#include "kv.h"
#include "pii.h"
#include "store.h"
#include "util.h"

/* The textbook example of a national ID: valid, and known to be no one's. */
#define DEMO_TWID "A123456789"
#define DEMO_STUDENT_NO "D0001"

/* This school year's two terms, if the school has none for it. */
static int
demo_terms(struct db *db, uint64_t school_id, int year)
{
	int s, y = year + 1911;

	for (s = 1; s <= 2; s++) {
		char pub[IDS_PUBLIC_LEN + 1], from[11], to[11];
		struct db_param p[6];

		if (ids_public(pub) != 0)
			return -1;
		if (s == 1) {
			str_printf(from, sizeof(from), "%04d-08-30", y);
			str_printf(to, sizeof(to), "%04d-01-20", y + 1);
		} else {
			str_printf(from, sizeof(from), "%04d-02-11", y + 1);
			str_printf(to, sizeof(to), "%04d-06-30", y + 1);
		}
		p[0] = DB_STR(pub);
		p[1] = DB_INT((long long)school_id);
		p[2] = DB_INT(year);
		p[3] = DB_INT(s);
		p[4] = DB_STR(from);
		p[5] = DB_STR(to);
		if (db_exec(db,
			"INSERT IGNORE INTO terms (public_id, school_id, year, "
			"semester, starts_on, ends_on) VALUES (?, ?, ?, ?, ?, "
			"?)",
			p, 6, NULL, NULL) != 0)
			return -1;
	}
	return 0;
}

static int
demo_class(struct db *db, uint64_t school_id, int year)
{
	char pub[IDS_PUBLIC_LEN + 1];
	struct db_param p[3];

	if (ids_public(pub) != 0)
		return -1;
	p[0] = DB_STR(pub);
	p[1] = DB_INT((long long)school_id);
	p[2] = DB_INT(year);
	return db_exec(db,
	    "INSERT IGNORE INTO classes (public_id, school_id, year, code, "
	    "name, grade) VALUES (?, ?, ?, '101', '一年一班', 1)",
	    p, 3, NULL, NULL);
}

/* The demo student's record, tied to the demo-student account, when it
 * has none yet; its national ID and birth date also go on the account
 * (the password rules refuse a password that contains them). */
static int
demo_student(struct db *db, const unsigned char *data_key,
    const unsigned char *lookup_key, uint64_t school_id, int year)
{
	char pub[IDS_PUBLIC_LEN + 1], hmac[CRYPTO_SHA256_HEX_LEN + 1];
	unsigned char sealed[PII_TWID_SEALED_MAX];
	size_t sealed_len = 0;
	struct db_param p[8];
	struct db_res *r;
	uint64_t uid;
	int have, rc;

	p[0] = DB_INT((long long)school_id);
	r = db_query(db,
	    "SELECT u.id, (SELECT COUNT(*) FROM students s "
	    "WHERE s.user_id = u.id OR (s.school_id = u.school_id AND "
	    "s.student_no = '" DEMO_STUDENT_NO "')) "
	    "FROM users u WHERE u.login = 'demo-student' AND u.school_id = ?",
	    p, 1);
	if (r == NULL)
		return -1;
	if (db_res_rows(r) != 1) {
		db_res_free(r);
		return 0;
	}
	uid = (uint64_t)db_res_int(r, 0, 0);
	have = db_res_int(r, 0, 1) > 0;
	db_res_free(r);
	if (have)
		return 0;
	if (ids_public(pub) != 0 ||
	    pii_twid_hmac(lookup_key, DEMO_TWID, hmac) != 0 ||
	    pii_twid_seal(data_key, pub, DEMO_TWID, sealed, &sealed_len) != 0)
		return -1;
	if (db_begin(db) != 0)
		return -1;
	p[0] = DB_STR(pub);
	p[1] = DB_INT((long long)school_id);
	p[2] = DB_INT((long long)uid);
	p[3] = DB_STR(hmac);
	p[4] = DB_BLOB(sealed, sealed_len);
	p[5] = DB_INT((long long)school_id);
	p[6] = DB_INT(year);
	rc = db_exec(db,
	    "INSERT INTO students (public_id, school_id, user_id, student_no, "
	    "name, id_kind, national_id_hmac, national_id_sealed, birth_date, "
	    "class_id, seat_no) "
	    "SELECT ?, ?, u.id, '" DEMO_STUDENT_NO "', u.name, 'national', "
	    "?, ?, '2009-05-01', "
	    "(SELECT id FROM classes WHERE school_id = ? AND year = ? AND "
	    "code = '101'), 1 FROM users u WHERE u.id = ?",
	    (struct db_param[]){p[0], p[1], p[3], p[4], p[5], p[6], p[2]}, 7,
	    NULL, NULL);
	if (rc == 0) {
		p[0] = DB_STR(hmac);
		p[1] = DB_INT((long long)uid);
		rc = db_exec(db,
		    "UPDATE users SET national_id_hmac = ?, "
		    "birth_date = '2009-05-01' WHERE id = ?",
		    p, 2, NULL, NULL);
	}
	if (rc == 0)
		rc = db_commit(db);
	if (rc != 0)
		(void)db_rollback(db);
	return rc;
}

/* A one-page PDF saying what it is, with its cross-reference offsets
 * counted as it is written. */
static void
demo_pdf(struct buf *b)
{
	static const char *const obj[] = {
	    "<< /Type /Catalog /Pages 2 0 R >>",
	    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
	    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
	    "/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
	    NULL, /* the content stream */
	    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	};
	static const char text[] =
	    "BT /F1 18 Tf 72 760 Td (Licheng demo: a course learning "
	    "outcome) Tj ET";
	size_t off[ARRAY_SIZE(obj)], i, xref;

	buf_puts(b, "%PDF-1.4\n");
	for (i = 0; i < ARRAY_SIZE(obj); i++) {
		off[i] = b->len;
		buf_printf(b, "%zu 0 obj\n", i + 1);
		if (obj[i] != NULL)
			buf_printf(b, "%s\n", obj[i]);
		else
			buf_printf(b,
			    "<< /Length %zu >>\nstream\n%s\nendstream\n",
			    sizeof(text) - 1, text);
		buf_puts(b, "endobj\n");
	}
	xref = b->len;
	buf_printf(
	    b, "xref\n0 %zu\n0000000000 65535 f \n", ARRAY_SIZE(obj) + 1);
	for (i = 0; i < ARRAY_SIZE(obj); i++)
		buf_printf(b, "%010zu 00000 n \n", off[i]);
	buf_printf(b,
	    "trailer\n<< /Size %zu /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
	    ARRAY_SIZE(obj) + 1, xref);
}

/* Writes the PDF into both store roots. 0/-1. */
static int
demo_store_pdf(
    const struct conf *c, struct db *db, const struct buf *pdf, char sha256[65])
{
	char ids[2][STORE_ID_LEN + 1];
	enum store_error e = STORE_OK;
	struct store_put *put;
	struct store *s;
	int existed;

	if (store_load_ids(db, ids[0], ids[1]) != 0)
		return -1;
	s = store_new(c->store_primary, c->store_replica, ids[0], ids[1]);
	if ((put = store_put_begin(s, &e)) != NULL &&
	    (e = store_put_write(put, pdf->data, pdf->len)) != STORE_OK)
		store_put_abort(put);
	else if (put != NULL)
		e = store_put_commit(put, sha256, &existed);
	store_free(s);
	if (e != STORE_OK || put == NULL) {
		fprintf(stderr,
		    "licheng: the demo item's file could not be stored (%s)\n",
		    store_error_name(e));
		return -1;
	}
	return 0;
}

/* The demo student's course learning outcome for DEMO-MATH, unless they
 * have an item already. */
static int
demo_item(const struct conf *c, struct db *db, uint64_t school_id,
    const char *school_code, const char *term)
{
	struct db_param p[3] = {DB_INT((long long)school_id), DB_STR(term)};
	char pub[IDS_PUBLIC_LEN + 1], actor[64], target[64];
	struct item_upload file = {.slot = ITEM_DOC,
	    .type = SNIFF_PDF,
	    .name = "數學學習成果 demo.pdf"};
	struct item_new n = {
	    .kind = ITEM_COURSE, .description = "示範：函數圖形的觀察與整理"};
	struct item_jobs jobs = {0};
	uint64_t student_id, user_id;
	struct db_res *r;
	struct buf pdf;
	struct kv *kv;
	int rc = -1;

	r = db_query(db,
	    "SELECT s.id, s.user_id, k.id, k.term_id, "
	    "(SELECT COUNT(*) FROM items i WHERE i.student_id = s.id) "
	    "FROM students s JOIN courses k ON k.school_id = s.school_id "
	    "JOIN terms t ON t.id = k.term_id "
	    "WHERE s.school_id = ? AND s.student_no = '" DEMO_STUDENT_NO "' "
	    "AND s.user_id IS NOT NULL AND k.code = 'DEMO-MATH' "
	    "AND CONCAT(t.year, '-', t.semester) = ?",
	    p, 2);
	if (r == NULL)
		return -1;
	if (db_res_rows(r) != 1 || db_res_int(r, 0, 4) > 0) {
		db_res_free(r);
		return 0;
	}
	student_id = (uint64_t)db_res_int(r, 0, 0);
	user_id = (uint64_t)db_res_int(r, 0, 1);
	n.course_id = (uint64_t)db_res_int(r, 0, 2);
	n.term_id = (uint64_t)db_res_int(r, 0, 3);
	db_res_free(r);
	buf_init(&pdf);
	demo_pdf(&pdf);
	file.size = pdf.len;
	if (demo_store_pdf(c, db, &pdf, file.sha256) != 0)
		goto out;
	cli_actor(actor, sizeof(actor));
	if (db_begin(db) != 0)
		goto out;
	if (items_create_tx(db, school_id, student_id, user_id, &n, &file, 1,
		pub, &jobs) != 0)
		goto rollback;
	str_printf(target, sizeof(target), "item:%s", pub);
	if (audit_append_tx(db,
		&(struct audit_event){.actor = actor,
		    .role = "operator",
		    .school = school_code,
		    .ip = "",
		    .event = "item.create",
		    .target = target,
		    .outcome = "success",
		    .detail = "{\"demo\":true}"}) != 0 ||
	    db_commit(db) != 0)
		goto rollback;
	kv = kv_new(c);
	items_publish(kv, db, &jobs);
	kv_free(kv);
	printf("Demo item: the demo student's course learning outcome for "
	       "DEMO-MATH (%s, %zu bytes)\n",
	    file.sha256, pdf.len);
	rc = 0;
	goto out;
rollback:
	(void)db_rollback(db);
out:
	buf_free(&pdf);
	return rc;
}

/* Applies one CSV text through the import engine; prints its problems
 * (there should be none: the text is ours). */
static int
demo_import(const struct import_ctx *x, enum import_kind kind, const char *csv)
{
	struct import_report rep;
	size_t i;
	int rc;

	memset(&rep, 0, sizeof(rep));
	rc = import_apply(x, kind, csv, strlen(csv), CSV_ENC_UTF8, &rep);
	if (rc == 0 && !rep.applied) {
		for (i = 0; i < rep.nproblems; i++)
			fprintf(stderr, "licheng: demo %s row %zu, %s: %s\n",
			    import_kind_name(kind), rep.problems[i].row,
			    rep.problems[i].column,
			    import_problem_text(rep.problems[i].code, "en"));
		rc = -1;
	}
	import_report_free(&rep);
	return rc;
}

int
demo_records(const struct conf *c, struct db *db, uint64_t school_id,
    const char *school_code)
{
	unsigned char data_key[CRYPTO_KEY_LEN], lookup_key[CRYPTO_KEY_LEN];
	char actor[64], term[8], buf[512];
	int year = roc_school_year_now(), rc = -1;
	time_t now = time(NULL) + 8 * 3600;
	struct tm tm;
	struct import_ctx x;

	if (year <= 0 || gmtime_r(&now, &tm) == NULL)
		return -1;
	/* Semester 1 runs August to January, semester 2 February to July. */
	str_printf(term, sizeof(term), "%d-%d", year,
	    (tm.tm_mon >= 7 || tm.tm_mon == 0) ? 1 : 2);
	if (crypto_key_from_hex(c->secret_data_key, data_key) != 0 ||
	    crypto_key_from_hex(c->secret_lookup_key, lookup_key) != 0)
		goto out;
	cli_actor(actor, sizeof(actor));
	memset(&x, 0, sizeof(x));
	x.db = db;
	x.conf = c;
	x.data_key = data_key;
	x.lookup_key = lookup_key;
	x.school_id = school_id;
	x.school_code = school_code;
	x.who.actor = actor;
	x.who.role = "operator";
	x.who.ip = "";
	if (demo_terms(db, school_id, year) != 0 ||
	    demo_class(db, school_id, year) != 0)
		goto out;
	if (demo_import(&x, IMPORT_TEACHERS,
		"login,name,homeroom_class\n"
		"demo-teacher,示範教師 Demo Teacher,101\n") != 0)
		goto out;
	str_printf(buf, sizeof(buf),
	    "term,code,name,credits,teachers\n"
	    "%s,DEMO-MATH,數學 Mathematics,4,demo-teacher\n"
	    "%s,DEMO-ZH,國語文 Chinese,4,demo-teacher\n",
	    term, term);
	if (demo_import(&x, IMPORT_COURSES, buf) != 0 ||
	    demo_student(db, data_key, lookup_key, school_id, year) != 0)
		goto out;
	str_printf(buf, sizeof(buf),
	    "student_no,term,course_code\n" DEMO_STUDENT_NO
	    ",%s,DEMO-MATH\n" DEMO_STUDENT_NO ",%s,DEMO-ZH\n",
	    term, term);
	if (demo_import(&x, IMPORT_ENROLMENTS, buf) != 0 ||
	    demo_item(c, db, school_id, school_code, term) != 0)
		goto out;
	printf("Demo records: terms %d-1 and %d-2, class 101, courses "
	       "DEMO-MATH and DEMO-ZH in %s (demo-teacher), the demo "
	       "student's record (%s)\n",
	    year, year, term, DEMO_STUDENT_NO);
	rc = 0;
out:
	OPENSSL_cleanse(data_key, sizeof(data_key));
	OPENSSL_cleanse(lookup_key, sizeof(lookup_key));
	return rc;
}
