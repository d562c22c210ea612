/*
 * demo_records: the demo school's records, so that `make demo` shows every
 * page with something on it — this school year's two terms, class 101 with
 * the demo teacher as its homeroom teacher, two courses the demo teacher
 * teaches this term, and the demo student's record enrolled in both. Terms
 * and the class are made here (they have no import); the rest goes through
 * the import engine exactly as an admin's CSV files would, so applying it
 * again changes nothing. Only for a configuration that says demo: true.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "accounts.h"
#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "ids.h"
#include "import.h"
#include "pii.h"
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
	if (demo_import(&x, IMPORT_ENROLMENTS, buf) != 0)
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
