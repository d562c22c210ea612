/* test_import: the pure parts of the import — date forms, terms, status
 * words, header names in both languages, the problem texts, the report as
 * JSON and back, the student logins — and the problems a file gets before
 * any row is read (no database is needed for those). */
#include "../harness.h"
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "import.h"
#include "issue.h"
#include "validate.h"

static int
date_is(const char *in, const char *want)
{
	char out[11];

	if (import_parse_date(in, out) != 0)
		return want == NULL;
	return want != NULL && strcmp(out, want) == 0;
}

static void
test_dates(void)
{
	CHECK(date_is("2008-03-15", "2008-03-15"));
	CHECK(date_is("2008/3/5", "2008-03-05"));
	CHECK(date_is("2008.03.15", "2008-03-15"));
	CHECK(date_is("20080315", "2008-03-15"));
	CHECK(date_is("97/03/15", "2008-03-15")); /* 民國 97 */
	CHECK(date_is("097/03/15", "2008-03-15"));
	CHECK(date_is("097-03-15", "2008-03-15"));
	CHECK(date_is("0970315", "2008-03-15"));
	CHECK(date_is("970315", "2008-03-15"));
	CHECK(date_is("114/01/05", "2025-01-05"));
	CHECK(date_is("1140105", "2025-01-05"));
	CHECK(date_is("1/1/1", "1912-01-01"));
	CHECK(date_is("99/02/29", NULL)); /* 2010 is no leap year */
	CHECK(date_is("101/02/29", "2012-02-29"));
	CHECK(date_is("151/01/01", NULL)); /* past 民國 150 */
	CHECK(date_is("0/01/01", NULL));
	CHECK(date_is("2008-13-01", NULL));
	CHECK(date_is("2008-02-30", NULL));
	CHECK(date_is("1899-12-31", NULL));
	CHECK(date_is("2008-03/15", NULL)); /* mixed separators */
	CHECK(date_is("2008-03-15x", NULL));
	CHECK(date_is("2008-003-15", NULL));
	CHECK(date_is("12345", NULL));
	CHECK(date_is("123456789", NULL));
	CHECK(date_is("", NULL));
	CHECK(date_is(" 2008-03-15", NULL));
	CHECK(date_is("民國97年3月15日", NULL));
}

static void
test_terms(void)
{
	int y = 0, s = 0;

	CHECK(import_parse_term("114-1", &y, &s) == 0 && y == 114 && s == 1);
	CHECK(import_parse_term("99-2", &y, &s) == 0 && y == 99 && s == 2);
	CHECK(import_parse_term("114-3", &y, &s) == -1);
	CHECK(import_parse_term("114-0", &y, &s) == -1);
	CHECK(import_parse_term("114-12", &y, &s) == -1);
	CHECK(import_parse_term("0-1", &y, &s) == -1);
	CHECK(import_parse_term("1141", &y, &s) == -1);
	CHECK(import_parse_term("114/1", &y, &s) == -1);
	CHECK(import_parse_term("2025-1", &y, &s) == -1);
	CHECK(import_parse_term("", &y, &s) == -1);
	CHECK(import_parse_term(NULL, &y, &s) == -1);
}

/* got is want, or both are NULL. */
static int
same(const char *got, const char *want)
{
	return want == NULL ? got == NULL : got != NULL && !strcmp(got, want);
}

static void
test_status(void)
{
	CHECK(same(import_student_status("enrolled"), "enrolled"));
	CHECK(same(import_student_status("Enrolled"), "enrolled"));
	CHECK(same(import_student_status("SUSPENDED"), "suspended"));
	CHECK(same(import_student_status("graduated"), "graduated"));
	CHECK(same(import_student_status("left"), "left"));
	CHECK(same(import_student_status("在學"), "enrolled"));
	CHECK(same(import_student_status("休學"), "suspended"));
	CHECK(same(import_student_status("畢業"), "graduated"));
	CHECK(same(import_student_status("離校"), "left"));
	CHECK(same(import_student_status("轉出"), "left"));
	CHECK(same(import_student_status("退學"), "left"));
	CHECK(same(import_student_status("active"), NULL));
	CHECK(same(import_student_status("在職"), NULL));
	CHECK(same(import_student_status(""), NULL));
	CHECK(same(import_teacher_status("active"), "active"));
	CHECK(same(import_teacher_status("Left"), "left"));
	CHECK(same(import_teacher_status("在職"), "active"));
	CHECK(same(import_teacher_status("離職"), "left"));
	CHECK(same(import_teacher_status("enrolled"), NULL));
}

static void
test_headers(void)
{
	CHECK(same(import_header_column(IMPORT_STUDENTS, "student_no"), "student_no"));
	CHECK(same(import_header_column(IMPORT_STUDENTS, "Student_No"), "student_no"));
	CHECK(same(import_header_column(IMPORT_STUDENTS, "學號"), "student_no"));
	CHECK(same(import_header_column(IMPORT_STUDENTS, "姓名"), "name"));
	CHECK(same(import_header_column(IMPORT_STUDENTS, "身分證統一編號"), "national_id"));
	CHECK(same(import_header_column(IMPORT_STUDENTS, "身分證字號"), "national_id"));
	CHECK(same(import_header_column(IMPORT_STUDENTS, "統一證號"), "national_id"));
	CHECK(same(import_header_column(IMPORT_STUDENTS, "居留證號"), "national_id"));
	CHECK(same(import_header_column(IMPORT_STUDENTS, "NATIONAL_ID"), "national_id"));
	CHECK(same(import_header_column(IMPORT_STUDENTS, "出生日期"), "birth_date"));
	CHECK(same(import_header_column(IMPORT_STUDENTS, "班級"), "class"));
	CHECK(same(import_header_column(IMPORT_STUDENTS, "座號"), "seat_no"));
	CHECK(same(import_header_column(IMPORT_STUDENTS, "狀態"), "status"));
	CHECK(same(import_header_column(IMPORT_STUDENTS, "學年度"), "school_year"));
	CHECK(same(import_header_column(IMPORT_STUDENTS, "帳號"), NULL));
	CHECK(same(import_header_column(IMPORT_STUDENTS, "student no"), NULL));
	CHECK(same(import_header_column(IMPORT_TEACHERS, "帳號"), "login"));
	CHECK(same(import_header_column(IMPORT_TEACHERS, "教師編號"), "staff_no"));
	CHECK(same(import_header_column(IMPORT_TEACHERS, "導師班級"), "homeroom_class"));
	CHECK(same(import_header_column(IMPORT_TEACHERS, "學號"), NULL));
	CHECK(same(import_header_column(IMPORT_COURSES, "學期"), "term"));
	CHECK(same(import_header_column(IMPORT_COURSES, "課程代碼"), "code"));
	CHECK(same(import_header_column(IMPORT_COURSES, "課程名稱"), "name"));
	CHECK(same(import_header_column(IMPORT_COURSES, "學分"), "credits"));
	CHECK(same(import_header_column(IMPORT_COURSES, "授課教師"), "teachers"));
	CHECK(same(import_header_column(IMPORT_ENROLMENTS, "課程代碼"), "course_code"));
	CHECK(same(import_header_column(IMPORT_ENROLMENTS, "Course_Code"), "course_code"));
	CHECK(same(import_header_column(IMPORT_ENROLMENTS, "學號"), "student_no"));
	CHECK(same(import_header_column(IMPORT_ENROLMENTS, "姓名"), NULL));

	CHECK(!strcmp(import_column_label(IMPORT_STUDENTS, "name", "zh-TW"),
	    "姓名"));
	CHECK(!strcmp(import_column_label(IMPORT_COURSES, "name", "zh-TW"),
	    "課程名稱"));
	CHECK(!strcmp(import_column_label(IMPORT_COURSES, "name", "en"),
	    "name"));
	CHECK(!strcmp(import_column_label(IMPORT_STUDENTS, "national_id",
			  "zh-TW"),
	    "身分證統一編號"));
	CHECK(!strcmp(import_column_label(IMPORT_STUDENTS, "nope", "zh-TW"),
	    "nope"));

	CHECK(import_kind_parse("students") == IMPORT_STUDENTS);
	CHECK(import_kind_parse("enrolments") == IMPORT_ENROLMENTS);
	CHECK(import_kind_parse("enrollments") == -1);
	CHECK(import_kind_parse(NULL) == -1);
	CHECK(!strcmp(import_kind_name(IMPORT_TEACHERS), "teachers"));
}

static void
test_texts(void)
{
	static const char *const codes[] = {"encoding", "quote", "field_long",
	    "fields_many", "rows_many", "empty", "nul", "memory", "file_large",
	    "no_rows", "unknown_column", "duplicate_column", "missing_column",
	    "extra_cell", "required", "too_long", "bad_text",
	    "bad_student_no", "twid_checksum", "twid_taken", "bad_date",
	    "future_date", "bad_year", "unknown_class", "bad_seat",
	    "bad_status", "login_shape", "login_twid", "login_date",
	    "login_unavailable", "bad_staff_no", "staff_no_taken", "bad_term",
	    "unknown_term", "bad_code", "bad_credits", "unknown_teacher",
	    "unknown_student", "unknown_course", "duplicate_key", "truncated"};
	const char *other_en = import_problem_text("other", "en");
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *en = import_problem_text(codes[i], "en");
		const char *zh = import_problem_text(codes[i], "zh-TW");

		CHECK_MSG(en != other_en && en[0] != '\0', "%s", codes[i]);
		CHECK_MSG(zh != en && validate_utf8_text(zh, strlen(zh), 0) > 0,
		    "%s", codes[i]);
	}
	CHECK(import_problem_text("no_such_code", "en") == other_en);
	CHECK(import_problem_text(NULL, "fr") == other_en);
	CHECK(import_problem_text("required", "fr") ==
	    import_problem_text("required", "en"));
}

static void
test_json(void)
{
	struct import_report rep, back;
	struct import_problem p[3];
	struct buf b;

	memset(&rep, 0, sizeof(rep));
	memset(&back, 0, sizeof(back));
	memset(p, 0, sizeof(p));
	p[0].row = 2;
	strcpy(p[0].column, "name");
	p[0].code = "required";
	p[1].row = 14;
	strcpy(p[1].column, "class");
	p[1].code = "unknown_class";
	strcpy(p[1].value, "三年\"甲\"班\\\t𠀋");
	p[2].row = 0;
	p[2].code = "no_rows";
	rep.problems = p;
	rep.nproblems = 3;
	rep.truncated = 1;
	buf_init(&b);
	import_report_json(&rep, &b);
	CHECK(b.data[0] == '[' && b.data[b.len - 1] == ']');
	CHECK(strstr(b.data, "\"code\":\"truncated\"") != NULL);
	CHECK(import_report_from_json(&back, b.data, b.len) == 0);
	CHECK(back.nproblems == 3 && back.truncated == 1);
	CHECK(back.nproblems == 3 && back.problems[1].row == 14 &&
	    !strcmp(back.problems[1].column, "class") &&
	    !strcmp(back.problems[1].code, "unknown_class") &&
	    !strcmp(back.problems[1].value, p[1].value));
	CHECK(back.nproblems == 3 && !strcmp(back.problems[0].code, "required"));
	import_report_free(&back);

	/* \u escapes, a surrogate pair, an unknown code, and bad input. */
	{
		const char *j = "[ {\"row\": 3, \"column\": \"n\\u0061me\", "
				"\"code\": \"gone_code\", \"value\": "
				"\"\\ud840\\udc0b\\u738b\"} ]";

		CHECK(import_report_from_json(&back, j, strlen(j)) == 0);
		CHECK(back.nproblems == 1 && back.problems[0].row == 3 &&
		    !strcmp(back.problems[0].column, "name") &&
		    !strcmp(back.problems[0].code, "other") &&
		    !strcmp(back.problems[0].value, "𠀋王"));
		import_report_free(&back);
	}
	CHECK(import_report_from_json(&back, "[]", 2) == 0 &&
	    back.nproblems == 0);
	CHECK(import_report_from_json(&back, "[", 1) == -1);
	CHECK(import_report_from_json(&back, "[{}]", 4) == -1);
	CHECK(import_report_from_json(&back, "[{\"row\":1}] x", 13) == -1);
	CHECK(import_report_from_json(&back,
		  "[{\"row\":1,\"code\":\"required\",\"evil\":1}]", 38) == -1);
	CHECK(import_report_from_json(&back, "{\"row\":1}", 9) == -1);
	CHECK(back.problems == NULL && back.nproblems == 0);

	/* The CSV for Excel: BOM, headers in the language, CRLF. */
	buf_reset(&b);
	rep.truncated = 0;
	import_report_csv(&rep, "zh-TW", &b);
	CHECK(memcmp(b.data, "\xef\xbb\xbf", 3) == 0);
	CHECK(strstr(b.data, "列,欄位,原因,內容\r\n") != NULL);
	CHECK(strstr(b.data, "2,姓名,必填欄位未填,\r\n") != NULL);
	buf_reset(&b);
	import_report_csv(&rep, "en", &b);
	CHECK(strstr(b.data, "row,column,reason,value\r\n") != NULL);
	CHECK(strstr(b.data, ",,the file has a header row but no data rows,") !=
	    NULL);
	buf_free(&b);
}

static void
test_logins(void)
{
	char l[33], l2[33];
	size_t i;

	CHECK(issue_student_login("110001", l) == 0);
	CHECK(strlen(l) == 11 && strncmp(l, "110001-", 7) == 0);
	CHECK(strspn(l + 7, "abcdefghjkmnpqrstuvwxyz23456789") == 4);
	CHECK(validate_login(l) == VALIDATE_LOGIN_OK);
	CHECK(issue_student_login("S110-001", l) == 0 &&
	    strncmp(l, "s110-001-", 9) == 0);
	CHECK(issue_student_login("12345678901234567890", l) == 0 &&
	    strlen(l) == 25);
	CHECK(issue_student_login("123456789012345678901", l) == -1);
	CHECK(issue_student_login("", l) == -1);
	CHECK(issue_student_login("-1", l) == -1);
	CHECK(issue_student_login("11 01", l) == -1);
	CHECK(issue_student_login("學號", l) == -1);
	/* Random: twenty draws are not all the same. */
	CHECK(issue_student_login("110001", l) == 0);
	for (i = 0; i < 20; i++)
		if (issue_student_login("110001", l2) == 0 && strcmp(l, l2))
			break;
	CHECK(i < 20);
}

/* Problems of the file as a whole: no database is reached. */
static void
test_file_problems(void)
{
	struct conf c;
	struct import_ctx x;
	struct import_report rep;
	static const unsigned char key[32];

	memset(&c, 0, sizeof(c));
	c.import_max_bytes = 64;
	c.import_max_rows = 10;
	memset(&x, 0, sizeof(x));
	x.conf = &c;
	x.data_key = key;
	x.lookup_key = key;
	x.school_id = 1;
	x.school_code = "test";

	CHECK(import_check(&x, IMPORT_STUDENTS, "", 0, CSV_ENC_AUTO, &rep) == 0);
	CHECK(rep.bad_rows == 1 && rep.nproblems == 1 &&
	    !strcmp(rep.problems[0].code, "empty") && rep.problems[0].row == 0);
	import_report_free(&rep);

	{
		char big[100];

		memset(big, 'a', sizeof(big));
		CHECK(import_check(&x, IMPORT_COURSES, big, sizeof(big),
			  CSV_ENC_AUTO, &rep) == 0);
		CHECK(rep.nproblems == 1 &&
		    !strcmp(rep.problems[0].code, "file_large"));
		import_report_free(&rep);
	}
	CHECK(import_check(&x, IMPORT_COURSES, "term,co\0de\n", 11,
		  CSV_ENC_AUTO, &rep) == 0);
	CHECK(rep.nproblems == 1 && !strcmp(rep.problems[0].code, "nul"));
	import_report_free(&rep);
}

int
main(void)
{
	test_dates();
	test_terms();
	test_status();
	test_headers();
	test_texts();
	test_json();
	test_logins();
	test_file_problems();
	return harness_done();
}
