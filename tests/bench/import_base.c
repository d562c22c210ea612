/*
 * import_base: the baseline of the import benchmark (tests/bench/run,
 * bench_import). It writes the same rows an apply of the benchmark's
 * students and enrolments files writes — a users row and a students row per
 * student, an enrolments row per enrolment — with plain prepared INSERTs,
 * each file in one transaction, and none of the import's checking,
 * look-ups, sealing or letters. It prints the seconds of each.
 *
 *   import_base CONF SCHOOL STUDENTS.csv ENROLMENTS.csv
 *
 * The files are those the benchmark generates: students numbered from
 * 200001 upwards in file order, their classes by code, courses of term
 * 114-1 by code. The school must have that term, the classes and the
 * courses already.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "csv.h"
#include "db.h"
#include "ids.h"
#include "import.h"
#include "log.h"
#include "util.h"

#define FIRST_NO 200001

struct named {
	struct db_res *r; /* id, code */
};

/* The id of the row of r whose second column is code; 0 when none. */
static long long
named_id(const struct named *n, const char *code)
{
	size_t i;

	for (i = 0; i < db_res_rows(n->r); i++)
		if (strcmp(db_res_get(n->r, i, 1), code) == 0)
			return db_res_int(n->r, i, 0);
	return 0;
}

static struct csv *
load(const char *path)
{
	char err[256], *data;
	size_t len;
	struct csv_error e;
	struct csv *c;

	if (file_read_all(path, 64u << 20, &data, &len, err, sizeof(err))) {
		fprintf(stderr, "import_base: %s\n", err);
		return NULL;
	}
	c = csv_parse(data, len, CSV_ENC_UTF8, 1000000, &e);
	free(data);
	if (c == NULL)
		fprintf(stderr, "import_base: %s: %s at row %zu\n", path,
		    e.code, e.row);
	return c;
}

/* The students of s (student_no, name, national_id, birth_date, class,
 * seat_no) as users and students rows; their ids into ids[]. 0/-1. */
static int
students(struct db *db, long long school, const struct named *classes,
    const struct csv *s, long long *ids)
{
	static const unsigned char sealed[38] = {1, 2, 3};
	char upub[IDS_PUBLIC_LEN + 1], spub[IDS_PUBLIC_LEN + 1], login[33];
	char hmac[65], hash[65], birth[11];
	struct db_param p[12];
	unsigned long long uid, sid;
	size_t i;

	memset(hash, 'a', 64);
	hash[64] = '\0';
	for (i = 1; i < csv_records(s); i++) {
		const char *no = csv_cell(s, i, 0);

		if (ids_public(upub) != 0 || ids_public(spub) != 0)
			return -1;
		(void)snprintf(login, sizeof(login), "b%lld-%s", school, no);
		(void)snprintf(hmac, sizeof(hmac), "%064zx", i);
		/* The stored form of the date, as the import writes it. */
		if (import_parse_date(csv_cell(s, i, 3), birth) != 0)
			return -1;
		p[0] = DB_STR(upub);
		p[1] = DB_INT(school);
		p[2] = DB_STR(login);
		p[3] = DB_STR(csv_cell(s, i, 1));
		p[4] = DB_STR(birth);
		p[5] = DB_STR(hmac);
		p[6] = DB_STR(hash);
		if (db_exec(db,
			"INSERT INTO users (public_id, school_id, role, login, "
			"name, birth_date, national_id_hmac, status, "
			"activation_hash, activation_expires) VALUES (?, ?, "
			"'student', ?, ?, ?, ?, 'pending', ?, "
			"'2030-01-01 00:00:00')",
			p, 7, NULL, &uid) != 0)
			return -1;
		p[0] = DB_STR(spub);
		p[1] = DB_INT(school);
		p[2] = DB_INT((long long)uid);
		p[3] = DB_STR(no);
		p[4] = DB_STR(csv_cell(s, i, 1));
		p[5] = DB_STR("national");
		p[6] = DB_STR(hmac);
		p[7] = DB_BLOB(sealed, sizeof(sealed));
		p[8] = DB_STR(birth);
		p[9] = DB_INT(named_id(classes, csv_cell(s, i, 4)));
		p[10] = DB_INT(atoi(csv_cell(s, i, 5)));
		p[11] = DB_STR("enrolled");
		if (db_exec(db,
			"INSERT INTO students (public_id, school_id, user_id, "
			"student_no, name, id_kind, national_id_hmac, "
			"national_id_sealed, birth_date, class_id, seat_no, "
			"status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			p, 12, NULL, &sid) != 0)
			return -1;
		ids[i - 1] = (long long)sid;
	}
	return 0;
}

/* The enrolments of e (student_no, term, course_code). 0/-1. */
static int
enrolments(struct db *db, long long school, const struct named *courses,
    const struct csv *e, const long long *ids, size_t nids)
{
	char pub[IDS_PUBLIC_LEN + 1];
	struct db_param p[4];
	size_t i;
	long k;

	for (i = 1; i < csv_records(e); i++) {
		k = atol(csv_cell(e, i, 0)) - FIRST_NO;
		if (k < 0 || (size_t)k >= nids || ids_public(pub) != 0)
			return -1;
		p[0] = DB_STR(pub);
		p[1] = DB_INT(school);
		p[2] = DB_INT(ids[k]);
		p[3] = DB_INT(named_id(courses, csv_cell(e, i, 2)));
		if (db_exec(db,
			"INSERT INTO enrolments (public_id, school_id, "
			"student_id, course_id) VALUES (?, ?, ?, ?)",
			p, 4, NULL, NULL) != 0)
			return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	char err[CONF_ERR_MAX];
	struct conf *c;
	struct db *db;
	struct db_param p[1];
	struct db_res *r;
	struct named classes = {NULL}, courses = {NULL};
	struct csv *s = NULL, *e = NULL;
	long long school, *ids = NULL;
	int64_t t0, t1, t2;
	int rc = 1;

	if (argc != 5) {
		fprintf(stderr,
		    "usage: import_base CONF SCHOOL STUDENTS.csv "
		    "ENROLMENTS.csv\n");
		return 2;
	}
	if (log_open("-", LL_WARN) != 0 ||
	    (c = conf_load(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "import_base: %s\n", err);
		return 1;
	}
	db = db_new(c, DB_APP);
	p[0] = DB_STR(argv[2]);
	r = db_query(db, "SELECT id FROM schools WHERE code = ?", p, 1);
	school = r != NULL && db_res_rows(r) == 1 ? db_res_int(r, 0, 0) : 0;
	db_res_free(r);
	if (school == 0)
		goto out;
	p[0] = DB_INT(school);
	classes.r = db_query(db,
	    "SELECT id, code FROM classes WHERE school_id = ? AND year = 114",
	    p, 1);
	courses.r = db_query(db,
	    "SELECT c.id, c.code FROM courses c JOIN terms t ON t.id = "
	    "c.term_id WHERE c.school_id = ? AND t.year = 114 AND "
	    "t.semester = 1",
	    p, 1);
	if (classes.r == NULL || courses.r == NULL ||
	    (s = load(argv[3])) == NULL || (e = load(argv[4])) == NULL)
		goto out;
	ids = xcalloc(csv_records(s), sizeof(*ids));
	t0 = now_us();
	if (db_begin(db) != 0 || students(db, school, &classes, s, ids) != 0 ||
	    db_commit(db) != 0)
		goto out;
	t1 = now_us();
	if (db_begin(db) != 0 ||
	    enrolments(db, school, &courses, e, ids, csv_records(s) - 1) != 0 ||
	    db_commit(db) != 0)
		goto out;
	t2 = now_us();
	printf("students %.3f %zu\nenrolments %.3f %zu\n",
	    (double)(t1 - t0) / 1e6, csv_records(s) - 1,
	    (double)(t2 - t1) / 1e6, csv_records(e) - 1);
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "import_base: failed: %s\n", db_errstr(db));
	free(ids);
	csv_free(s);
	csv_free(e);
	db_res_free(classes.r);
	db_res_free(courses.r);
	db_free(db);
	conf_free(c);
	return rc;
}
