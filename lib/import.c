/*
 * import: the CSV import of a school's students, teachers, courses and
 * enrolments (import.h), shared by the admin's page and `licheng import`.
 * It owns the columns of each kind, the problem codes with their texts in
 * both languages (one table, the only source for the page and the command),
 * the check of every cell and reference, and the apply: one transaction of
 * upserts, new accounts, one letter batch and the audit rows.
 *
 * A run loads what it refers to of the school (students, classes, terms,
 * courses, teachers, enrolments) once into hash tables, so a row costs no
 * query while it is checked and only its own writes while it is applied.
 * It never writes a national ID anywhere but sealed into students, and
 * never puts one, unmasked, into a problem, a log line or an audit row.
 */
#include "import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <mysqld_error.h>
#include <openssl/crypto.h>

#include "audit.h"
#include "conf.h"
#include "db.h"
#include "issue.h"
#include "letters.h"
#include "log.h"
#include "pii.h"
#include "validate.h"

/* ------------------------------------------------------------ columns */

struct import_col {
	const char *name; /* canonical, also the English header */
	const char *zh; /* the Chinese header */
	const char *alias[4]; /* more accepted headers */
	int required;
};

enum { S_NO, S_NAME, S_TWID, S_BIRTH, S_CLASS, S_SEAT, S_STATUS, S_YEAR };
static const struct import_col student_cols[] = {
    {"student_no", "學號", {NULL}, 1},
    {"name", "姓名", {NULL}, 1},
    {"national_id", "身分證統一編號",
	{"身分證字號", "統一證號", "居留證號", "身分證號"}, 1},
    {"birth_date", "出生日期", {"生日"}, 1},
    {"class", "班級", {NULL}, 0},
    {"seat_no", "座號", {NULL}, 0},
    {"status", "狀態", {NULL}, 0},
    {"school_year", "學年度", {NULL}, 0},
};

enum { T_LOGIN, T_NAME, T_STAFF, T_CLASS, T_STATUS, T_YEAR };
static const struct import_col teacher_cols[] = {
    {"login", "帳號", {NULL}, 1},
    {"name", "姓名", {NULL}, 1},
    {"staff_no", "教師編號", {NULL}, 0},
    {"homeroom_class", "導師班級", {NULL}, 0},
    {"status", "狀態", {NULL}, 0},
    {"school_year", "學年度", {NULL}, 0},
};

enum { C_TERM, C_CODE, C_NAME, C_CREDITS, C_TEACHERS };
static const struct import_col course_cols[] = {
    {"term", "學期", {NULL}, 1},
    {"code", "課程代碼", {NULL}, 1},
    {"name", "課程名稱", {NULL}, 1},
    {"credits", "學分", {"學分數"}, 1},
    {"teachers", "授課教師", {NULL}, 0},
};

enum { E_NO, E_TERM, E_CODE };
static const struct import_col enrolment_cols[] = {
    {"student_no", "學號", {NULL}, 1},
    {"term", "學期", {NULL}, 1},
    {"course_code", "課程代碼", {NULL}, 1},
};

#define IMPORT_COLS_MAX 8

static const struct import_kind_def {
	const char *name;
	const struct import_col *cols;
	size_t ncols;
} import_kinds[IMPORT_KIND__MAX] = {
    [IMPORT_STUDENTS] = {"students", student_cols, ARRAY_SIZE(student_cols)},
    [IMPORT_TEACHERS] = {"teachers", teacher_cols, ARRAY_SIZE(teacher_cols)},
    [IMPORT_COURSES] = {"courses", course_cols, ARRAY_SIZE(course_cols)},
    [IMPORT_ENROLMENTS] = {"enrolments", enrolment_cols,
	ARRAY_SIZE(enrolment_cols)},
};

/* ------------------------------------------------------------ problems */

/* Every problem code with its reason in both languages: the one source of
 * these texts for the command line, the page and the report CSV. */
static const struct import_text {
	const char *code;
	const char *en;
	const char *zh;
} import_texts[] = {
    /* the file as a whole (lib/csv.h's codes, then the import's own) */
    {"encoding",
	"a cell is neither UTF-8 nor Big5 (or not UTF-8 when UTF-8 was "
	"chosen)",
	"儲存格的編碼不是 UTF-8 也不是 Big5（或指定了 UTF-8 但不符）"},
    {"quote",
	"a quoted cell is not closed, or a quote stands inside an unquoted "
	"cell",
	"引號未成對，或引號出現在未加引號的儲存格中"},
    {"field_long", "a cell is longer than 4096 bytes",
	"儲存格內容超過 4096 位元組"},
    {"fields_many", "a row has more than 64 cells", "一列超過 64 個欄位"},
    {"rows_many",
	"the file has more rows than one import takes (import.max_rows)",
	"檔案列數超過單次匯入的上限（import.max_rows）"},
    {"empty", "the file is empty: no header row", "檔案是空的：沒有標題列"},
    {"nul", "the file holds a NUL byte: it is not a text file",
	"檔案含有 NUL 位元組，不是文字檔"},
    {"memory", "the file could not be converted to UTF-8",
	"無法將檔案轉換為 UTF-8"},
    {"file_large",
	"the file is larger than one import takes "
	"(import.max_bytes)",
	"檔案大小超過單次匯入的上限（import.max_bytes）"},
    {"no_rows", "the file has a header row but no data rows",
	"檔案只有標題列，沒有資料列"},
    /* the header row */
    {"unknown_column", "unknown column header", "無法辨識的欄位名稱"},
    {"duplicate_column", "this column appears twice in the header row",
	"此欄位在標題列中重複出現"},
    {"missing_column", "a required column is missing from the header row",
	"標題列缺少必要欄位"},
    /* cells */
    {"extra_cell", "a cell outside the columns of the header row",
	"此儲存格不在標題列的任何欄位之下"},
    {"required", "required: the cell is empty", "必填欄位未填"},
    {"too_long", "too long", "內容過長"},
    {"bad_text", "not one line of text (control characters)",
	"含有不允許的控制字元"},
    {"bad_student_no", "a student number is 1 to 20 letters, digits or '-'",
	"學號須為 1 至 20 個英文字母、數字或「-」"},
    {"twid_checksum",
	"not a national ID or resident certificate number (wrong form or "
	"check digit)",
	"身分證統一編號或居留證號的格式或檢查碼錯誤"},
    {"twid_taken",
	"this national ID belongs to another student number of the school",
	"此身分證統一編號已屬於本校另一個學號"},
    {"bad_date",
	"not a date: write YYYY-MM-DD, YYYY/MM/DD or the ROC forms "
	"YYY/MM/DD, YYYMMDD",
	"日期格式錯誤：請寫 YYYY-MM-DD、YYYY/MM/DD 或民國 YYY/MM/DD、YYYMMDD"},
    {"future_date", "a birth date must lie in the past",
	"出生日期必須早於今天"},
    {"bad_year", "a school year is an ROC year such as 114",
	"學年度須為民國年，例如 114"},
    {"unknown_class", "no class of that school year has this code or name",
	"該學年度沒有此代碼或名稱的班級"},
    {"bad_seat", "a seat number is a whole number from 1 to 99",
	"座號須為 1 至 99 的整數"},
    {"bad_status",
	"unknown status: enrolled, suspended, graduated or left "
	"(在學、休學、畢業、離校、轉出、退學); for teachers active or left "
	"(在職、離職)",
	"無法辨識的狀態：學生為在學、休學、畢業、離校（轉出、退學）；"
	"教師為在職、離職"},
    {"login_shape",
	"a login name is 3 to 32 characters of a-z, 0-9, '.', '_' and '-', "
	"starting with a letter or digit",
	"帳號須為 3 至 32 個 "
	"a-z、0-9、「.」「_」「-」字元，並以字母或數字開頭"},
    {"login_twid",
	"a login name must not be a national ID or resident certificate "
	"number",
	"帳號不得使用身分證字號或居留證號"},
    {"login_date", "a login name must not be a date such as a birth date",
	"帳號不得使用日期（例如生日）"},
    {"login_unavailable",
	"this login is taken by another account or is a school code",
	"此帳號已被其他帳號使用，或與學校代碼相同"},
    {"bad_staff_no", "a staff number is 1 to 20 letters, digits or '-'",
	"教師編號須為 1 至 20 個英文字母、數字或「-」"},
    {"staff_no_taken",
	"this staff number belongs to another teacher of the school",
	"此教師編號已屬於本校另一位教師"},
    {"bad_term",
	"a term is written like 114-1 (school year, semester 1 "
	"or 2)",
	"學期格式須如 114-1（學年度-第 1 或第 2 學期）"},
    {"unknown_term", "the school has no such term", "本校沒有這個學期"},
    {"bad_code", "a course code is 1 to 32 letters, digits, '_', '.' or '-'",
	"課程代碼須為 1 至 32 個英文字母、數字或「_」「.」「-」"},
    {"bad_credits", "credits are a whole number from 0 to 30",
	"學分須為 0 至 30 的整數"},
    {"unknown_teacher", "no teacher of the school has this login",
	"本校沒有使用此帳號的教師"},
    {"unknown_student", "no student of the school has this number",
	"本校沒有這個學號的學生"},
    {"unknown_course", "that term has no course with this code",
	"該學期沒有這個課程代碼"},
    {"duplicate_key",
	"the same as an earlier row of this file (the row is named)",
	"與本檔案前面的一列重複（已註明列號）"},
    {"truncated",
	"more problems than one report holds: fix these and check again",
	"問題過多，只列出前面的部分：請修正後再檢查一次"},
    {"other", "a problem", "問題"},
};

static const struct import_text *
import_text_find(const char *code)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(import_texts); i++)
		if (strcmp(import_texts[i].code, code) == 0)
			return &import_texts[i];
	return NULL;
}

const char *
import_problem_text(const char *code, const char *lang)
{
	const struct import_text *t = import_text_find(code ? code : "");

	if (t == NULL)
		t = import_text_find("other");
	return lang != NULL && strcmp(lang, "zh-TW") == 0 ? t->zh : t->en;
}

const char *
import_kind_name(enum import_kind k)
{
	return (unsigned)k < IMPORT_KIND__MAX ? import_kinds[k].name : "";
}

int
import_kind_parse(const char *s)
{
	int k;

	for (k = 0; k < IMPORT_KIND__MAX; k++)
		if (s != NULL && strcmp(s, import_kinds[k].name) == 0)
			return k;
	return -1;
}

static const struct import_col *
import_col_find(enum import_kind k, const char *column)
{
	size_t i;

	if ((unsigned)k >= IMPORT_KIND__MAX || column == NULL)
		return NULL;
	for (i = 0; i < import_kinds[k].ncols; i++)
		if (strcmp(import_kinds[k].cols[i].name, column) == 0)
			return &import_kinds[k].cols[i];
	return NULL;
}

const char *
import_column_label(enum import_kind k, const char *column, const char *lang)
{
	const struct import_col *c = import_col_find(k, column);

	if (c == NULL)
		return column != NULL ? column : "";
	return lang != NULL && strcmp(lang, "zh-TW") == 0 ? c->zh : c->name;
}

/* The index of the column a header names in kind k, or -1. */
static int
import_header_index(enum import_kind k, const char *header)
{
	const struct import_kind_def *d = &import_kinds[k];
	size_t i, j;

	for (i = 0; i < d->ncols; i++) {
		const struct import_col *c = &d->cols[i];

		if (strcasecmp(header, c->name) == 0 ||
		    strcmp(header, c->zh) == 0)
			return (int)i;
		for (j = 0; j < ARRAY_SIZE(c->alias) && c->alias[j]; j++)
			if (strcmp(header, c->alias[j]) == 0)
				return (int)i;
	}
	return -1;
}

const char *
import_header_column(enum import_kind k, const char *header)
{
	int i;

	if ((unsigned)k >= IMPORT_KIND__MAX || header == NULL)
		return NULL;
	i = import_header_index(k, header);
	return i < 0 ? NULL : import_kinds[k].cols[i].name;
}

/* ------------------------------------------------------------ pure parts */

/* Reads 1..max digits at *p into *v; advances *p. The count, or 0. */
static int
digits(const char **p, int max, int *v)
{
	int n = 0;

	*v = 0;
	while (n < max && **p >= '0' && **p <= '9') {
		*v = *v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return n;
}

/* The Western year of a year written with ny digits: four digits are
 * Western, one to three are ROC (民國 1..150). -1 when neither. */
static int
date_year(int y, int ny)
{
	if (ny == 4)
		return y >= 1900 ? y : -1;
	if (y >= 1 && y <= 150)
		return y + 1911;
	return -1;
}

static int
date_out(int y, int m, int d, char out[11])
{
	char t[32];

	if (y < 0 || y > 9999 || !validate_ymd(y, m, d))
		return -1;
	(void)snprintf(t, sizeof(t), "%04d-%02d-%02d", y, m, d);
	return str_copy(out, 11, t);
}

int
import_parse_date(const char *s, char out[11])
{
	const char *p = s;
	int y, m, d, ny, nm, nd;
	char sep;
	size_t n;

	out[0] = '\0';
	if (s == NULL)
		return -1;
	n = strlen(s);
	if (n >= 6 && n <= 8 && strspn(s, "0123456789") == n) {
		/* 20080315; ROC 0970315 or 970315. */
		ny = (int)n - 4;
		(void)digits(&p, ny, &y);
		(void)digits(&p, 2, &m);
		(void)digits(&p, 2, &d);
		return date_out(date_year(y, ny), m, d, out);
	}
	ny = digits(&p, 4, &y);
	if (ny == 0 || (*p != '-' && *p != '/' && *p != '.'))
		return -1;
	sep = *p++;
	nm = digits(&p, 2, &m);
	if (nm == 0 || *p++ != sep)
		return -1;
	nd = digits(&p, 2, &d);
	if (nd == 0 || *p != '\0')
		return -1;
	return date_out(date_year(y, ny), m, d, out);
}

int
import_parse_term(const char *s, int *year, int *semester)
{
	const char *p = s;

	if (s == NULL || digits(&p, 3, year) == 0 || *year < 1 || *p++ != '-')
		return -1;
	if ((*p != '1' && *p != '2') || p[1] != '\0')
		return -1;
	*semester = *p - '0';
	return 0;
}

struct import_word {
	const char *word;
	const char *value;
};

static const char *
import_word_find(const struct import_word *w, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s != NULL && i < n; i++)
		if (strcasecmp(s, w[i].word) == 0)
			return w[i].value;
	return NULL;
}

static const struct import_word student_status_words[] = {
    {"enrolled", "enrolled"},
    {"在學", "enrolled"},
    {"suspended", "suspended"},
    {"休學", "suspended"},
    {"graduated", "graduated"},
    {"畢業", "graduated"},
    {"left", "left"},
    {"離校", "left"},
    {"轉出", "left"},
    {"退學", "left"},
};
static const struct import_word teacher_status_words[] = {
    {"active", "active"},
    {"在職", "active"},
    {"left", "left"},
    {"離職", "left"},
};

const char *
import_student_status(const char *s)
{
	return import_word_find(
	    student_status_words, ARRAY_SIZE(student_status_words), s);
}

const char *
import_teacher_status(const char *s)
{
	return import_word_find(
	    teacher_status_words, ARRAY_SIZE(teacher_status_words), s);
}

/* 1 when s is 1..max characters of [A-Za-z0-9] and those of extra. */
static int
import_code_ok(const char *s, size_t max, const char *extra)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
			(s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= 'a' && s[i] <= 'z') || strchr(extra, s[i])))
			return 0;
	return 1;
}

/* A whole number of at most 3 digits from lo to hi, or -1. */
static int
import_small_int(const char *s, int lo, int hi)
{
	const char *p = s;
	int v;

	if (digits(&p, 3, &v) == 0 || *p != '\0' || v < lo || v > hi)
		return -1;
	return v;
}

/* Today in Taiwan (UTC+8) as YYYY-MM-DD. */
static void
import_today(char out[11])
{
	time_t t = time(NULL) + 8 * 3600;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 11, "%Y-%m-%d", &tm) == 0)
		(void)str_copy(out, 11, "0000-00-00");
}

/* ------------------------------------------------------------ hash map */

/* A string -> index map with open addressing, for the school's rows and
 * the keys seen earlier in the file. */
struct smap_ent {
	char *key;
	size_t val;
};
struct smap {
	struct smap_ent *e;
	size_t cap, n;
};

static uint64_t
smap_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct smap_ent *
smap_slot(const struct smap *m, const char *key)
{
	size_t i = (size_t)smap_hash(key) & (m->cap - 1);

	while (m->e[i].key != NULL && strcmp(m->e[i].key, key) != 0)
		i = (i + 1) & (m->cap - 1);
	return &m->e[i];
}

static int
smap_get(const struct smap *m, const char *key, size_t *val)
{
	const struct smap_ent *e;

	if (m->cap == 0 || key == NULL)
		return 0;
	e = smap_slot(m, key);
	if (e->key == NULL)
		return 0;
	*val = e->val;
	return 1;
}

/* Adds key -> val unless key is there; returns 1 with the earlier value in
 * *old when it was. */
static int
smap_add(struct smap *m, const char *key, size_t val, size_t *old)
{
	struct smap_ent *e;

	if (key == NULL)
		return 0;
	if (2 * (m->n + 1) > m->cap) {
		struct smap bigger = {NULL, m->cap ? 2 * m->cap : 64, 0};
		size_t i;

		bigger.e = xcalloc(bigger.cap, sizeof(*bigger.e));
		for (i = 0; i < m->cap; i++)
			if (m->e[i].key != NULL)
				*smap_slot(&bigger, m->e[i].key) = m->e[i];
		bigger.n = m->n;
		free(m->e);
		*m = bigger;
	}
	e = smap_slot(m, key);
	if (e->key != NULL) {
		if (old != NULL)
			*old = e->val;
		return 1;
	}
	e->key = xstrdup(key);
	e->val = val;
	m->n++;
	return 0;
}

static void
smap_free(struct smap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->e[i].key);
	free(m->e);
	memset(m, 0, sizeof(*m));
}

/* A key of up to three parts, ASCII letters lower-cased (student numbers,
 * course codes, logins and class codes compare without case in the
 * database), separated by 0x1f, into buf; NULL when it does not fit. */
static const char *
import_key(char *buf, size_t n, const char *a, const char *b, const char *c)
{
	const char *parts[3] = {a, b, c};
	size_t o = 0, i;
	const char *s;

	for (i = 0; i < 3 && parts[i] != NULL; i++) {
		if (i > 0) {
			if (o + 1 >= n)
				goto cut;
			buf[o++] = '\x1f';
		}
		for (s = parts[i]; *s != '\0'; s++) {
			if (o + 1 >= n)
				goto cut;
			buf[o++] =
			    (*s >= 'A' && *s <= 'Z') ? (char)(*s + 32) : *s;
		}
	}
	buf[o] = '\0';
	return buf;
cut:
	buf[o] = '\0';
	return NULL;
}

#define KEY_MAX 256

/* ------------------------------------------------------------ a run */

/* Parsed rows, kept from the check for the apply. An index of -1 is "not
 * in the database" or "not given". */
struct st_row {
	size_t row;
	const char *no, *name, *kind;
	char twid[11];
	char hmac[CRYPTO_SHA256_HEX_LEN + 1];
	char birth[11];
	long pre, cls;
	int seat; /* 0: not given */
	const char *status; /* NULL: not given */
};
struct te_row {
	size_t row;
	char login[33];
	const char *name, *staff, *status;
	long pre, cls;
};
struct co_row {
	size_t row;
	const char *code, *name;
	long term, pre;
	int credits, has_teachers;
	size_t t_first, t_n; /* into run.tlist: teachers rows */
};
struct en_row {
	size_t row;
	long stu, course;
	int exists;
};

/* What a run loads of the school; the look-ups of a run, on those rows and
 * then on this file's keys. */
enum pre {
	P_STUDENTS,
	P_CLASSES,
	P_TERMS,
	P_COURSES,
	P_TEACHERS,
	P_COURSE_TEACHERS,
	P_ENROLMENTS,
	P__MAX
};
enum look {
	K_STU_NO,
	K_STU_HMAC,
	K_CLASS,
	K_CLASS_ID,
	K_TERM,
	K_COURSE,
	K_TEACHER,
	K_STAFF_NO,
	K_COURSE_FIRST,
	K_ENROLMENT,
	K_SEEN_A,
	K_SEEN_B,
	K_SEEN_C,
	K__MAX
};

struct run {
	const struct import_ctx *x;
	enum import_kind kind;
	struct import_report *rep;
	struct csv *csv;
	int col[IMPORT_COLS_MAX];
	size_t counted_row;
	int year_now;
	char today[11];
	/* the school's rows (preloaded: enum pre) and the look-ups on them
	 * and on the keys seen earlier in this file (enum look) */
	struct db_res *res[P__MAX];
	struct smap map[K__MAX];
	/* the rows */
	struct st_row *st;
	struct te_row *te;
	struct co_row *co;
	struct en_row *en;
	size_t nrows;
	size_t *tlist, ntlist, captlist;
	size_t accounts_needed;
};

/* Column indexes of the preloaded results. */
enum {
	PS_ID,
	PS_PUB,
	PS_NO,
	PS_NAME,
	PS_KIND,
	PS_HMAC,
	PS_BIRTH,
	PS_CLASS,
	PS_SEAT,
	PS_STATUS,
	PS_USER
};
enum { PC_ID, PC_YEAR, PC_CODE, PC_NAME, PC_HOMEROOM };
enum { PT_ID, PT_YEAR, PT_SEM };
enum { PK_ID, PK_TERM, PK_CODE, PK_NAME, PK_CREDITS };
enum { PU_ID, PU_LOGIN, PU_NAME, PU_TID, PU_STAFF, PU_STATUS };

static const char *
res_s(const struct db_res *r, long row, int col)
{
	const char *v = db_res_get(r, (size_t)row, (size_t)col);

	return v != NULL ? v : "";
}

static uint64_t
res_u(const struct db_res *r, long row, int col)
{
	return (uint64_t)db_res_int(r, (size_t)row, (size_t)col);
}

/* Copies s into dst (dstlen bytes) cut at a UTF-8 boundary. */
static void
import_cut(char *dst, size_t dstlen, const char *s)
{
	size_t n = strlen(s);

	if (n >= dstlen) {
		n = dstlen - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* Masks, in place, the middle of every run of ten ASCII letters and digits
 * that is a valid national ID, wherever it stands in v. */
static void
import_scrub(char *v)
{
	size_t i, n = strlen(v);
	char w[11];

	for (i = 0; i + 10 <= n; i++) {
		memcpy(w, v + i, 10);
		w[10] = '\0';
		if (validate_twid(w))
			memset(v + i + 3, '*', 5);
	}
	OPENSSL_cleanse(w, sizeof(w));
}

/* Records a problem of row at column with a value that is already safe to
 * show (cut here). Rows come in order, so a row is counted as bad once. */
static void
problem_put(struct run *u, size_t row, const char *column, const char *code,
    const char *safe)
{
	struct import_report *rep = u->rep;
	const struct import_text *t = import_text_find(code);
	struct import_problem *p;

	if (row != u->counted_row || rep->bad_rows == 0) {
		u->counted_row = row;
		rep->bad_rows++;
	}
	if (rep->nproblems >= IMPORT_PROBLEMS_MAX) {
		rep->truncated = 1;
		return;
	}
	if (rep->nproblems % 256 == 0)
		rep->problems = xrealloc(rep->problems,
		    (rep->nproblems + 256) * sizeof(*rep->problems));
	p = &rep->problems[rep->nproblems++];
	memset(p, 0, sizeof(*p));
	p->row = row;
	import_cut(p->column, sizeof(p->column), column != NULL ? column : "");
	p->code = t != NULL ? t->code : import_text_find("other")->code;
	import_cut(p->value, sizeof(p->value), safe);
}

/* The form of a cell a problem may show, into out (n bytes): a national
 * ID masked (the whole cell when it is not 10 letters and digits), any
 * other cell cut, with every national ID inside it masked. */
static void
problem_value(const char *column, const char *value, char *out, size_t n)
{
	char m[11];

	if (value == NULL || value[0] == '\0') {
		out[0] = '\0';
		return;
	}
	if (strcmp(column, "national_id") == 0) {
		pii_twid_mask(value, m);
		import_cut(out, n, m);
		return;
	}
	import_cut(out, n, value);
	import_scrub(out);
}

/* Records a problem of row at column about value. */
static void
problem(struct run *u, size_t row, const char *column, const char *code,
    const char *value)
{
	char v[sizeof(((struct import_problem *)0)->value)];

	problem_value(column, value, v, sizeof(v));
	problem_put(u, row, column, code, v);
}

/* A duplicate_key problem: the value and the earlier row it repeats. */
static void
problem_dup(struct run *u, size_t row, const char *column, const char *value,
    size_t earlier)
{
	char v[sizeof(((struct import_problem *)0)->value)], cut[80];

	problem_value(column, value, cut, sizeof(cut));
	(void)snprintf(v, sizeof(v), "%s (row %zu)", cut, earlier);
	problem_put(u, row, column, "duplicate_key", v);
}

/* The cell of column c in record rec: NULL when the file has no such
 * column. */
static const char *
cell(const struct run *u, size_t rec, int c)
{
	return u->col[c] < 0 ? NULL : csv_cell(u->csv, rec, (size_t)u->col[c]);
}

/* Checks a required text cell of at most max characters. 1 when good. */
static int
check_text(struct run *u, size_t row, const char *column, const char *s,
    size_t max, int required)
{
	long n;

	if (s == NULL)
		return 0;
	if (*s == '\0') {
		if (required)
			problem(u, row, column, "required", s);
		return 0;
	}
	n = validate_utf8_text(s, strlen(s), 0);
	if (n < 0) {
		problem(u, row, column, "bad_text", s);
		return 0;
	}
	if ((size_t)n > max) {
		problem(u, row, column, "too_long", s);
		return 0;
	}
	return 1;
}

/* The school year of a row (its school_year cell, else this year), or -1
 * after a problem. */
static int
row_year(struct run *u, size_t row, const char *s)
{
	int y;

	if (s == NULL || *s == '\0')
		return u->year_now;
	y = import_small_int(s, 1, 999);
	if (y < 0)
		problem(u, row, "school_year", "bad_year", s);
	return y;
}

/* The class a cell names in year (its code, else its name): its row in
 * u->res[P_CLASSES], or -1 after a problem. */
static long
row_class(
    struct run *u, size_t row, const char *column, int year, const char *s)
{
	char key[KEY_MAX], ys[8];
	size_t i;

	(void)snprintf(ys, sizeof(ys), "%d", year);
	if (smap_get(&u->map[K_CLASS], import_key(key, sizeof(key), ys, "c", s),
		&i) ||
	    smap_get(
		&u->map[K_CLASS], import_key(key, sizeof(key), ys, "n", s), &i))
		return (long)i;
	problem(u, row, column, "unknown_class", s);
	return -1;
}

/* The term a cell names: its row in u->res[P_TERMS], or -1 after a problem. */
static long
row_term(struct run *u, size_t row, const char *column, const char *s)
{
	int y, sem;
	size_t i;
	char key[32], ys[8], ss[4];

	if (*s == '\0') {
		problem(u, row, column, "required", s);
		return -1;
	}
	if (import_parse_term(s, &y, &sem) != 0) {
		problem(u, row, column, "bad_term", s);
		return -1;
	}
	(void)snprintf(ys, sizeof(ys), "%d", y);
	(void)snprintf(ss, sizeof(ss), "%d", sem);
	if (!smap_get(&u->map[K_TERM],
		import_key(key, sizeof(key), ys, ss, NULL), &i)) {
		problem(u, row, column, "unknown_term", s);
		return -1;
	}
	return (long)i;
}

/* ------------------------------------------------------------ preload */

static const char sql_students[] =
    "SELECT id, public_id, student_no, name, id_kind, national_id_hmac, "
    "DATE_FORMAT(birth_date, '%Y-%m-%d'), class_id, seat_no, status, "
    "user_id FROM students WHERE school_id = ?";
static const char sql_classes[] =
    "SELECT id, year, code, name, homeroom_teacher_id FROM classes "
    "WHERE school_id = ?";
static const char sql_terms[] =
    "SELECT id, year, semester FROM terms WHERE school_id = ?";
static const char sql_courses[] =
    "SELECT id, term_id, code, name, credits FROM courses "
    "WHERE school_id = ?";
static const char sql_teachers[] =
    "SELECT u.id, u.login, u.name, t.id, t.staff_no, t.status FROM users u "
    "LEFT JOIN teachers t ON t.user_id = u.id AND t.school_id = u.school_id "
    "WHERE u.school_id = ? AND u.role = 'teacher'";
static const char sql_course_teachers[] =
    "SELECT ct.course_id, ct.teacher_id FROM course_teachers ct "
    "JOIN courses c ON c.id = ct.course_id WHERE c.school_id = ? "
    "ORDER BY ct.course_id";
static const char sql_enrolments[] =
    "SELECT student_id, course_id FROM enrolments WHERE school_id = ?";

/* How each of enum pre is loaded, and the look-ups built on it: a key of
 * column a, the tag and column b (either may be absent), to the row's
 * index. A row whose key column is NULL has no key. */
static const struct preload_def {
	const char *sql;
	struct preload_key {
		int map; /* enum look; -1 ends the list */
		int a;
		const char *tag;
		int b; /* -1: none */
	} keys[3];
} preloads[P__MAX] = {
    [P_STUDENTS] = {sql_students,
	{{K_STU_NO, PS_NO, NULL, -1}, {K_STU_HMAC, PS_HMAC, NULL, -1},
	    {-1, 0, NULL, -1}}},
    /* Codes first, so that a code wins over another class's name. */
    [P_CLASSES] = {sql_classes,
	{{K_CLASS, PC_YEAR, "c", PC_CODE}, {K_CLASS, PC_YEAR, "n", PC_NAME},
	    {K_CLASS_ID, PC_ID, NULL, -1}}},
    [P_TERMS] = {sql_terms,
	{{K_TERM, PT_YEAR, NULL, PT_SEM}, {-1, 0, NULL, -1}}},
    [P_COURSES] = {sql_courses,
	{{K_COURSE, PK_TERM, NULL, PK_CODE}, {-1, 0, NULL, -1}}},
    [P_TEACHERS] = {sql_teachers,
	{{K_TEACHER, PU_LOGIN, NULL, -1}, {K_STAFF_NO, PU_STAFF, NULL, -1},
	    {-1, 0, NULL, -1}}},
    /* Ordered by course: the first row of each course is its key. */
    [P_COURSE_TEACHERS] = {sql_course_teachers,
	{{K_COURSE_FIRST, 0, NULL, -1}, {-1, 0, NULL, -1}}},
    [P_ENROLMENTS] = {sql_enrolments,
	{{K_ENROLMENT, 0, NULL, 1}, {-1, 0, NULL, -1}}},
};

/* What each kind loads. */
static const unsigned import_needs[IMPORT_KIND__MAX] = {
    [IMPORT_STUDENTS] = 1u << P_STUDENTS | 1u << P_CLASSES,
    [IMPORT_TEACHERS] = 1u << P_TEACHERS | 1u << P_CLASSES,
    [IMPORT_COURSES] = 1u << P_TERMS | 1u << P_COURSES | 1u << P_TEACHERS |
	1u << P_COURSE_TEACHERS,
    [IMPORT_ENROLMENTS] =
	1u << P_STUDENTS | 1u << P_TERMS | 1u << P_COURSES | 1u << P_ENROLMENTS,
};

static int
preload(struct run *u, enum pre which)
{
	const struct preload_def *d = &preloads[which];
	struct db_param p[1] = {DB_INT((long long)u->x->school_id)};
	struct db_res *r;
	char key[KEY_MAX];
	size_t i, k, n;

	if ((r = u->res[which] = db_query(u->x->db, d->sql, p, 1)) == NULL)
		return -1;
	n = db_res_rows(r);
	for (k = 0; k < ARRAY_SIZE(d->keys) && d->keys[k].map >= 0; k++) {
		const struct preload_key *pk = &d->keys[k];

		for (i = 0; i < n; i++) {
			const char *a = db_res_get(r, i, (size_t)pk->a);
			const char *b =
			    pk->b >= 0 ? db_res_get(r, i, (size_t)pk->b) : NULL;

			if (a == NULL || (pk->b >= 0 && b == NULL))
				continue;
			(void)smap_add(&u->map[pk->map],
			    pk->tag != NULL
				? import_key(key, sizeof(key), a, pk->tag, b)
				: import_key(key, sizeof(key), a, b, NULL),
			    i, NULL);
		}
	}
	return 0;
}

static int
run_preload(struct run *u)
{
	int w;

	for (w = 0; w < P__MAX; w++)
		if ((import_needs[u->kind] & 1u << w) &&
		    preload(u, (enum pre)w) != 0)
			return -1;
	return 0;
}

static void
run_free(struct run *u)
{
	size_t i;

	csv_free(u->csv);
	for (i = 0; i < P__MAX; i++)
		db_res_free(u->res[i]);
	for (i = 0; i < K__MAX; i++)
		smap_free(&u->map[i]);
	if (u->st != NULL) {
		for (i = 0; i < u->nrows; i++)
			OPENSSL_cleanse(u->st[i].twid, sizeof(u->st[i].twid));
		free(u->st);
	}
	free(u->te);
	free(u->co);
	free(u->en);
	free(u->tlist);
	memset(u, 0, sizeof(*u));
}

/* ------------------------------------------------------------ the header */

/* The encoding a file that did not parse would have been read in. */
static enum csv_encoding
import_guess_encoding(const char *data, size_t len, enum csv_encoding enc)
{
	if (enc != CSV_ENC_AUTO)
		return enc;
	if ((len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) ||
	    validate_utf8_text(data, len, 1) >= 0)
		return CSV_ENC_UTF8;
	return CSV_ENC_BIG5;
}

/* A CSV-level error as a problem: at its row, and at its column's name when
 * the header row can still be read on its own. */
static void
import_csv_problem(struct run *u, const char *data, size_t len,
    enum csv_encoding enc, const struct csv_error *err)
{
	const char *nl = memchr(data, '\n', len);
	const char *column = "";
	char where[100] = "";
	struct csv_error e2;
	struct csv *head = NULL;
	int ix = -1;

	if (err->col > 0 && err->row > 1 && nl != NULL) {
		head = csv_parse(data, (size_t)(nl - data) + 1, enc, 0, &e2);
		if (head != NULL && err->col <= csv_cells(head, 0))
			ix = import_header_index(
			    u->kind, csv_cell(head, 0, err->col - 1));
	}
	if (ix >= 0)
		column = import_kinds[u->kind].cols[ix].name;
	else if (err->col > 0)
		(void)snprintf(where, sizeof(where), "column %zu", err->col);
	problem(u, err->row, column, err->code ? err->code : "other", where);
	csv_free(head);
}

/* Maps the header row onto the columns of the kind; problems at row 1. */
static void
import_header(struct run *u)
{
	const struct import_kind_def *d = &import_kinds[u->kind];
	size_t j, n = csv_cells(u->csv, 0), row = csv_row(u->csv, 0);
	size_t i;

	for (i = 0; i < IMPORT_COLS_MAX; i++)
		u->col[i] = -1;
	for (j = 0; j < n; j++) {
		const char *h = csv_cell(u->csv, 0, j);
		int ix;

		if (*h == '\0')
			continue; /* an empty header: ignored (extra_cell) */
		ix = import_header_index(u->kind, h);
		if (ix < 0)
			problem(u, row, "", "unknown_column", h);
		else if (u->col[ix] >= 0)
			problem(
			    u, row, d->cols[ix].name, "duplicate_column", h);
		else
			u->col[ix] = (int)j;
	}
	for (i = 0; i < d->ncols; i++)
		if (d->cols[i].required && u->col[i] < 0)
			problem(u, row, d->cols[i].name, "missing_column", "");
}

/* 1 when every cell of record rec is empty (rows a spreadsheet leaves). */
static int
record_blank(const struct run *u, size_t rec)
{
	size_t j, n = csv_cells(u->csv, rec);

	for (j = 0; j < n; j++)
		if (*csv_cell(u->csv, rec, j) != '\0')
			return 0;
	return 1;
}

/* Cells of record rec that stand under no known column. */
static void
check_extra_cells(struct run *u, size_t rec, size_t row)
{
	size_t j, k, n = csv_cells(u->csv, rec);
	int used;

	for (j = 0; j < n; j++) {
		const char *v = csv_cell(u->csv, rec, j);

		if (*v == '\0')
			continue;
		used = 0;
		for (k = 0; k < IMPORT_COLS_MAX; k++)
			if (u->col[k] == (int)j)
				used = 1;
		/* A column with an unknown header was reported at row 1. */
		if (!used &&
		    (j >= csv_cells(u->csv, 0) ||
			*csv_cell(u->csv, 0, j) == '\0'))
			problem(u, row, "", "extra_cell", v);
	}
}

/* ------------------------------------------------------------ the rows */

static void
check_student(struct run *u, size_t rec, struct st_row *r)
{
	const char *no = cell(u, rec, S_NO), *name = cell(u, rec, S_NAME);
	const char *twid = cell(u, rec, S_TWID), *v;
	char key[KEY_MAX];
	size_t row = r->row, i;
	int year;

	r->pre = r->cls = -1;
	r->no = no;
	r->name = name;
	if (no != NULL) {
		if (*no == '\0')
			problem(u, row, "student_no", "required", no);
		else if (!import_code_ok(no, 20, "-"))
			problem(u, row, "student_no", "bad_student_no", no);
		else if (smap_add(&u->map[K_SEEN_A],
			     import_key(key, sizeof(key), no, NULL, NULL), row,
			     &i))
			problem_dup(u, row, "student_no", no, i);
		else if (smap_get(&u->map[K_STU_NO], key, &i))
			r->pre = (long)i;
	}
	(void)check_text(u, row, "name", name, 100, 1);
	if (twid != NULL) {
		if (*twid == '\0')
			problem(u, row, "national_id", "required", twid);
		else if ((r->kind = pii_twid_kind(twid)) == NULL ||
		    pii_twid_normalise(twid, r->twid) != 0)
			problem(u, row, "national_id", "twid_checksum", twid);
		else if (pii_twid_hmac(u->x->lookup_key, r->twid, r->hmac) != 0)
			problem(u, row, "national_id", "other", twid);
		else if (smap_add(&u->map[K_SEEN_B], r->hmac, row, &i))
			problem_dup(u, row, "national_id", twid, i);
		else if (smap_get(&u->map[K_STU_HMAC], r->hmac, &i) &&
		    no != NULL &&
		    strcasecmp(res_s(u->res[P_STUDENTS], (long)i, PS_NO), no) !=
			0)
			problem(u, row, "national_id", "twid_taken", twid);
	}
	if ((v = cell(u, rec, S_BIRTH)) != NULL) {
		if (*v == '\0')
			problem(u, row, "birth_date", "required", v);
		else if (import_parse_date(v, r->birth) != 0)
			problem(u, row, "birth_date", "bad_date", v);
		else if (strcmp(r->birth, u->today) >= 0)
			problem(u, row, "birth_date", "future_date", v);
	}
	year = row_year(u, row, cell(u, rec, S_YEAR));
	if ((v = cell(u, rec, S_CLASS)) != NULL && *v != '\0' && year > 0)
		r->cls = row_class(u, row, "class", year, v);
	if ((v = cell(u, rec, S_SEAT)) != NULL && *v != '\0' &&
	    (r->seat = import_small_int(v, 1, 99)) < 0)
		problem(u, row, "seat_no", "bad_seat", v);
	if ((v = cell(u, rec, S_STATUS)) != NULL && *v != '\0' &&
	    (r->status = import_student_status(v)) == NULL)
		problem(u, row, "status", "bad_status", v);
	if (r->pre < 0 ||
	    db_res_get(u->res[P_STUDENTS], (size_t)r->pre, PS_USER) == NULL)
		u->accounts_needed++;
}

/* 0, or -1 on a database error. */
static int
check_teacher(struct run *u, size_t rec, struct te_row *r)
{
	const char *login = cell(u, rec, T_LOGIN), *v;
	char key[KEY_MAX];
	size_t row = r->row, i;
	int year, dberr = 0;
	enum validate_login_result lv = VALIDATE_LOGIN_OK;

	r->pre = r->cls = -1;
	r->name = cell(u, rec, T_NAME);
	if (login != NULL) {
		(void)import_key(r->login, sizeof(r->login), login, NULL, NULL);
		if (*login == '\0')
			problem(u, row, "login", "required", login);
		else if (strlen(login) >= sizeof(r->login) ||
		    (lv = validate_login(r->login)) == VALIDATE_LOGIN_SHAPE)
			problem(u, row, "login", "login_shape", login);
		else if (smap_add(&u->map[K_SEEN_A], r->login, row, &i))
			problem_dup(u, row, "login", login, i);
		else if (smap_get(&u->map[K_TEACHER], r->login, &i))
			r->pre = (long)i;
		else if (lv == VALIDATE_LOGIN_TWID)
			problem(u, row, "login", "login_twid", login);
		else if (lv == VALIDATE_LOGIN_DATE)
			problem(u, row, "login", "login_date", login);
		else if (issue_login_refusal(u->x->db, r->login, &dberr) !=
		    NULL)
			problem(u, row, "login", "login_unavailable", login);
		else if (dberr != 0)
			return -1;
	}
	(void)check_text(u, row, "name", r->name, 100, 1);
	if ((v = cell(u, rec, T_STAFF)) != NULL && *v != '\0') {
		if (!import_code_ok(v, 20, "-"))
			problem(u, row, "staff_no", "bad_staff_no", v);
		else if (smap_add(&u->map[K_SEEN_B],
			     import_key(key, sizeof(key), v, NULL, NULL), row,
			     &i))
			problem_dup(u, row, "staff_no", v, i);
		else if (smap_get(&u->map[K_STAFF_NO], key, &i) &&
		    strcmp(res_s(u->res[P_TEACHERS], (long)i, PU_LOGIN),
			r->login) != 0)
			problem(u, row, "staff_no", "staff_no_taken", v);
		else
			r->staff = v;
	}
	year = row_year(u, row, cell(u, rec, T_YEAR));
	if ((v = cell(u, rec, T_CLASS)) != NULL && *v != '\0' && year > 0 &&
	    (r->cls = row_class(u, row, "homeroom_class", year, v)) >= 0) {
		(void)snprintf(key, sizeof(key), "%ld", r->cls);
		if (smap_add(&u->map[K_SEEN_C], key, row, &i))
			problem_dup(u, row, "homeroom_class", v, i);
	}
	if ((v = cell(u, rec, T_STATUS)) != NULL && *v != '\0' &&
	    (r->status = import_teacher_status(v)) == NULL)
		problem(u, row, "status", "bad_status", v);
	if (r->pre < 0)
		u->accounts_needed++;
	return 0;
}

/* The logins of a teachers cell, split on ; ； 、 , ， and spaces. */
static void
check_course_teachers(
    struct run *u, size_t row, const char *s, struct co_row *r)
{
	static const char *const seps[] = {";", "\xef\xbc\x9b", "\xe3\x80\x81",
	    ",", "\xef\xbc\x8c", " ", "\xe3\x80\x80"};
	char tok[KEY_MAX];
	size_t i, k, n, t;
	const char *p = s;

	r->has_teachers = 1;
	r->t_first = u->ntlist;
	while (*p != '\0') {
		for (k = 0; k < ARRAY_SIZE(seps); k++)
			if (strncmp(p, seps[k], strlen(seps[k])) == 0)
				break;
		if (k < ARRAY_SIZE(seps)) {
			p += strlen(seps[k]);
			continue;
		}
		n = 0;
		while (p[n] != '\0') {
			for (k = 0; k < ARRAY_SIZE(seps); k++)
				if (strncmp(p + n, seps[k], strlen(seps[k])) ==
				    0)
					break;
			if (k < ARRAY_SIZE(seps))
				break;
			n++;
		}
		if (n >= sizeof(tok))
			n = sizeof(tok) - 1;
		for (i = 0; i < n; i++)
			tok[i] = (p[i] >= 'A' && p[i] <= 'Z')
			    ? (char)(p[i] + 32)
			    : p[i];
		tok[n] = '\0';
		p += n;
		if (!smap_get(&u->map[K_TEACHER], tok, &t) ||
		    db_res_get(u->res[P_TEACHERS], t, PU_TID) == NULL) {
			problem(u, row, "teachers", "unknown_teacher", tok);
			continue;
		}
		for (i = r->t_first; i < u->ntlist; i++)
			if (u->tlist[i] == t)
				break;
		if (i < u->ntlist)
			continue; /* named twice in one cell */
		if (u->ntlist == u->captlist) {
			u->captlist = u->captlist ? 2 * u->captlist : 64;
			u->tlist =
			    xrealloc(u->tlist, u->captlist * sizeof(*u->tlist));
		}
		u->tlist[u->ntlist++] = t;
	}
	r->t_n = u->ntlist - r->t_first;
}

static void
check_course(struct run *u, size_t rec, struct co_row *r)
{
	const char *code = cell(u, rec, C_CODE), *term = cell(u, rec, C_TERM);
	const char *v;
	char key[KEY_MAX];
	size_t row = r->row, i;

	r->term = r->pre = -1;
	r->code = code;
	r->name = cell(u, rec, C_NAME);
	if (term != NULL)
		r->term = row_term(u, row, "term", term);
	if (code != NULL) {
		if (*code == '\0')
			problem(u, row, "code", "required", code);
		else if (!import_code_ok(code, 32, "_.-"))
			problem(u, row, "code", "bad_code", code);
		else if (smap_add(&u->map[K_SEEN_A],
			     import_key(key, sizeof(key), term ? term : "",
				 code, NULL),
			     row, &i))
			problem_dup(u, row, "code", code, i);
		else if (r->term >= 0 &&
		    smap_get(&u->map[K_COURSE],
			import_key(key, sizeof(key),
			    res_s(u->res[P_TERMS], r->term, PT_ID), code, NULL),
			&i))
			r->pre = (long)i;
	}
	(void)check_text(u, row, "name", r->name, 100, 1);
	if ((v = cell(u, rec, C_CREDITS)) != NULL) {
		if (*v == '\0')
			problem(u, row, "credits", "required", v);
		else if ((r->credits = import_small_int(v, 0, 30)) < 0)
			problem(u, row, "credits", "bad_credits", v);
	}
	if ((v = cell(u, rec, C_TEACHERS)) != NULL)
		check_course_teachers(u, row, v, r);
}

static void
check_enrolment(struct run *u, size_t rec, struct en_row *r)
{
	const char *no = cell(u, rec, E_NO), *term = cell(u, rec, E_TERM);
	const char *code = cell(u, rec, E_CODE);
	char key[KEY_MAX], pair[64];
	size_t row = r->row, i;
	long t = -1;

	r->stu = r->course = -1;
	if (no != NULL) {
		if (*no == '\0')
			problem(u, row, "student_no", "required", no);
		else if (!import_code_ok(no, 20, "-"))
			problem(u, row, "student_no", "bad_student_no", no);
		else if (!smap_get(&u->map[K_STU_NO],
			     import_key(key, sizeof(key), no, NULL, NULL), &i))
			problem(u, row, "student_no", "unknown_student", no);
		else
			r->stu = (long)i;
	}
	if (term != NULL)
		t = row_term(u, row, "term", term);
	if (code != NULL) {
		if (*code == '\0')
			problem(u, row, "course_code", "required", code);
		else if (!import_code_ok(code, 32, "_.-"))
			problem(u, row, "course_code", "bad_code", code);
		else if (t >= 0 &&
		    !smap_get(&u->map[K_COURSE],
			import_key(key, sizeof(key),
			    res_s(u->res[P_TERMS], t, PT_ID), code, NULL),
			&i))
			problem(u, row, "course_code", "unknown_course", code);
		else if (t >= 0)
			r->course = (long)i;
	}
	if (no == NULL || term == NULL || code == NULL)
		return;
	if (smap_add(&u->map[K_SEEN_A],
		import_key(key, sizeof(key), no, term, code), row, &i)) {
		problem_dup(u, row, "course_code", code, i);
		return;
	}
	if (r->stu >= 0 && r->course >= 0) {
		r->exists = smap_get(&u->map[K_ENROLMENT],
		    import_key(pair, sizeof(pair),
			res_s(u->res[P_STUDENTS], r->stu, PS_ID),
			res_s(u->res[P_COURSES], r->course, PK_ID), NULL),
		    &i);
	}
}

/* Every data row. 0, or -1 on a database error. */
static int
check_rows(struct run *u)
{
	size_t rec, n = csv_records(u->csv);

	switch (u->kind) {
	case IMPORT_STUDENTS: u->st = xcalloc(n, sizeof(*u->st)); break;
	case IMPORT_TEACHERS: u->te = xcalloc(n, sizeof(*u->te)); break;
	case IMPORT_COURSES: u->co = xcalloc(n, sizeof(*u->co)); break;
	default: u->en = xcalloc(n, sizeof(*u->en)); break;
	}
	for (rec = 1; rec < n; rec++) {
		size_t row = csv_row(u->csv, rec), k = u->nrows;

		if (record_blank(u, rec))
			continue;
		u->nrows++;
		switch (u->kind) {
		case IMPORT_STUDENTS:
			u->st[k].row = row;
			check_student(u, rec, &u->st[k]);
			break;
		case IMPORT_TEACHERS:
			u->te[k].row = row;
			if (check_teacher(u, rec, &u->te[k]) != 0)
				return -1;
			break;
		case IMPORT_COURSES:
			u->co[k].row = row;
			check_course(u, rec, &u->co[k]);
			break;
		default:
			u->en[k].row = row;
			check_enrolment(u, rec, &u->en[k]);
			break;
		}
		check_extra_cells(u, rec, row);
	}
	u->rep->rows = u->nrows;
	if (u->nrows == 0)
		problem(u, 0, "", "no_rows", "");
	return 0;
}

/* The whole check of a file into u (and u->rep). 0, or -1 on a database
 * error. */
static int
run_check(struct run *u, const struct import_ctx *x, enum import_kind kind,
    const char *data, size_t len, enum csv_encoding enc,
    struct import_report *rep)
{
	struct csv_error err;
	size_t max_rows = (size_t)x->conf->import_max_rows;

	memset(u, 0, sizeof(*u));
	memset(rep, 0, sizeof(*rep));
	u->x = x;
	u->kind = kind;
	u->rep = rep;
	u->year_now = roc_school_year_now();
	import_today(u->today);
	rep->kind = kind;
	if ((unsigned)kind >= IMPORT_KIND__MAX) {
		log_error("import kind %d", (int)kind);
		return -1;
	}
	rep->encoding = import_guess_encoding(data, len, enc);
	if (len > (size_t)x->conf->import_max_bytes) {
		problem(u, 0, "", "file_large", "");
		return 0;
	}
	u->csv = csv_parse(data, len, enc, max_rows, &err);
	if (u->csv == NULL) {
		import_csv_problem(u, data, len, enc, &err);
		return 0;
	}
	rep->encoding = csv_encoding_used(u->csv);
	import_header(u);
	if (run_preload(u) != 0)
		return -1;
	return check_rows(u);
}

int
import_check(const struct import_ctx *x, enum import_kind kind,
    const char *data, size_t len, enum csv_encoding enc,
    struct import_report *rep)
{
	struct run u;
	int rc = run_check(&u, x, kind, data, len, enc, rep);

	run_free(&u);
	if (rc != 0)
		import_report_free(rep);
	return rc;
}

/* ------------------------------------------------------------ the apply */

/* The letters of the accounts made so far (sized once: see run_free). */
struct issuance {
	struct letter *l;
	size_t n, cap;
};

/* A new account with a letter; *user_id its id. For a student login is
 * generated from the student number and drawn again if it is taken. */
static int
apply_account(struct run *u, struct issuance *is, const char *role,
    const char *login_or_no, const char *name, const struct issue_facts *facts,
    uint64_t *user_id)
{
	struct issued out;
	char login[33];
	struct letter *l;
	int tries, student = strcmp(role, "student") == 0;

	if (is->n >= is->cap) {
		log_error(
		    "more accounts than the check counted (%zu)", is->cap);
		return -1;
	}
	for (tries = 0;; tries++) {
		if (student) {
			if (issue_student_login(login_or_no, login) != 0)
				return -1;
		} else if (str_copy(login, sizeof(login), login_or_no) != 0)
			return -1;
		if (issue_account_tx(u->x->db, u->x->school_id, role, login,
			name, facts, &out) == 0)
			break;
		/* A generated login that another school's student drew
		 * already: draw again. */
		if (!student || db_errno(u->x->db) != ER_DUP_ENTRY ||
		    tries >= 8)
			return -1;
	}
	l = &is->l[is->n++];
	(void)str_copy(l->role, sizeof(l->role), role);
	(void)str_copy(l->login, sizeof(l->login), login);
	import_cut(l->name, sizeof(l->name), name);
	(void)str_copy(l->code, sizeof(l->code), out.code);
	(void)str_copy(l->expires, sizeof(l->expires), out.expires);
	OPENSSL_cleanse(out.code, sizeof(out.code));
	*user_id = out.user_id;
	u->rep->accounts_issued++;
	return 0;
}

/* The class name and seat of a student's letter. */
static void
letter_class(
    struct run *u, struct letter *l, long cls, const char *no, int seat)
{
	if (cls >= 0)
		import_cut(l->class_name, sizeof(l->class_name),
		    res_s(u->res[P_CLASSES], cls, PC_NAME));
	(void)str_copy(l->student_no, sizeof(l->student_no), no);
	l->seat_no = seat;
}

static const char sql_student_insert[] =
    "INSERT INTO students (public_id, school_id, user_id, student_no, name, "
    "id_kind, national_id_hmac, national_id_sealed, birth_date, class_id, "
    "seat_no, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_student_update[] =
    "UPDATE students SET name = ?, id_kind = ?, national_id_hmac = ?, "
    "national_id_sealed = COALESCE(?, national_id_sealed), birth_date = ?, "
    "class_id = ?, seat_no = ?, "
    "status_changed_at = IF(?, UTC_TIMESTAMP(6), status_changed_at), "
    "status = ? WHERE id = ? AND school_id = ?";
static const char sql_student_user[] =
    "UPDATE students SET user_id = ? WHERE id = ? AND school_id = ?";
static const char sql_user_facts[] =
    "UPDATE users SET name = ?, birth_date = ?, national_id_hmac = ? "
    "WHERE id = ? AND school_id = ?";

static int
apply_student_new(struct run *u, struct issuance *is, struct st_row *r)
{
	char pub[IDS_PUBLIC_LEN + 1];
	unsigned char sealed[PII_TWID_SEALED_MAX];
	size_t slen = 0;
	uint64_t uid;
	struct issue_facts f = {r->birth, r->hmac};
	struct db_param p[12];
	const char *status = r->status ? r->status : "enrolled";

	if (ids_public(pub) != 0 ||
	    pii_twid_seal(u->x->data_key, pub, r->twid, sealed, &slen) != 0 ||
	    apply_account(u, is, "student", r->no, r->name, &f, &uid) != 0)
		return -1;
	letter_class(u, &is->l[is->n - 1], r->cls, r->no, r->seat);
	p[0] = DB_STR(pub);
	p[1] = DB_INT((long long)u->x->school_id);
	p[2] = DB_INT((long long)uid);
	p[3] = DB_STR(r->no);
	p[4] = DB_STR(r->name);
	p[5] = DB_STR(r->kind);
	p[6] = DB_STR(r->hmac);
	p[7] = DB_BLOB(sealed, slen);
	p[8] = DB_STR(r->birth);
	p[9] = r->cls >= 0
	    ? DB_INT((long long)res_u(u->res[P_CLASSES], r->cls, PC_ID))
	    : DB_NULLP;
	p[10] = r->seat > 0 ? DB_INT(r->seat) : DB_NULLP;
	p[11] = DB_STR(status);
	if (db_exec(u->x->db, sql_student_insert, p, 12, NULL, NULL) != 0)
		return -1;
	u->rep->created++;
	return 0;
}

static int
apply_student_old(struct run *u, struct issuance *is, struct st_row *r)
{
	const struct db_res *s = u->res[P_STUDENTS];
	long i = r->pre;
	const char *old_status = res_s(s, i, PS_STATUS);
	const char *status = r->status ? r->status : old_status;
	uint64_t cls = r->cls >= 0 ? res_u(u->res[P_CLASSES], r->cls, PC_ID)
				   : res_u(s, i, PS_CLASS);
	int seat =
	    r->seat > 0 ? r->seat : (int)db_res_int(s, (size_t)i, PS_SEAT);
	int id_changed = strcmp(r->hmac, res_s(s, i, PS_HMAC)) != 0;
	int facts_changed = id_changed ||
	    strcmp(r->name, res_s(s, i, PS_NAME)) != 0 ||
	    strcmp(r->birth, res_s(s, i, PS_BIRTH)) != 0;
	int status_changed = strcmp(status, old_status) != 0;
	unsigned char sealed[PII_TWID_SEALED_MAX];
	size_t slen = 0, k;
	uint64_t uid = res_u(s, i, PS_USER);
	struct issue_facts f = {r->birth, r->hmac};
	struct db_param p[11];

	if (facts_changed || status_changed || cls != res_u(s, i, PS_CLASS) ||
	    seat != (int)db_res_int(s, (size_t)i, PS_SEAT)) {
		if (id_changed &&
		    pii_twid_seal(u->x->data_key, res_s(s, i, PS_PUB), r->twid,
			sealed, &slen) != 0)
			return -1;
		p[0] = DB_STR(r->name);
		p[1] = DB_STR(r->kind);
		p[2] = DB_STR(r->hmac);
		p[3] = id_changed ? DB_BLOB(sealed, slen) : DB_NULLP;
		p[4] = DB_STR(r->birth);
		p[5] = cls != 0 ? DB_INT((long long)cls) : DB_NULLP;
		p[6] = seat > 0 ? DB_INT(seat) : DB_NULLP;
		p[7] = DB_INT(status_changed);
		p[8] = DB_STR(status);
		p[9] = DB_INT((long long)res_u(s, i, PS_ID));
		p[10] = DB_INT((long long)u->x->school_id);
		if (db_exec(u->x->db, sql_student_update, p, 11, NULL, NULL) !=
		    0)
			return -1;
		u->rep->updated++;
	} else
		u->rep->unchanged++;
	if (uid != 0 && facts_changed) {
		/* The account's facts follow the record: the password rules
		 * check them. */
		p[0] = DB_STR(r->name);
		p[1] = DB_STR(r->birth);
		p[2] = DB_STR(r->hmac);
		p[3] = DB_INT((long long)uid);
		p[4] = DB_INT((long long)u->x->school_id);
		if (db_exec(u->x->db, sql_user_facts, p, 5, NULL, NULL) != 0)
			return -1;
	}
	if (uid != 0)
		return 0;
	/* A student recorded without an account gets one now. */
	if (apply_account(u, is, "student", r->no, r->name, &f, &uid) != 0)
		return -1;
	if (r->cls < 0 && cls != 0 &&
	    smap_get(&u->map[K_CLASS_ID], res_s(s, i, PS_CLASS), &k))
		letter_class(u, &is->l[is->n - 1], (long)k, r->no, seat);
	else
		letter_class(u, &is->l[is->n - 1], r->cls, r->no, seat);
	p[0] = DB_INT((long long)uid);
	p[1] = DB_INT((long long)res_u(s, i, PS_ID));
	p[2] = DB_INT((long long)u->x->school_id);
	return db_exec(u->x->db, sql_student_user, p, 3, NULL, NULL);
}

static const char sql_teacher_insert[] =
    "INSERT INTO teachers (public_id, school_id, user_id, staff_no, status) "
    "VALUES (?, ?, ?, ?, ?)";
static const char sql_teacher_update[] =
    "UPDATE teachers SET staff_no = ?, status = ? WHERE id = ? AND "
    "school_id = ?";
static const char sql_user_name[] =
    "UPDATE users SET name = ? WHERE id = ? AND school_id = ?";
static const char sql_homeroom[] =
    "UPDATE classes SET homeroom_teacher_id = ? WHERE id = ? AND "
    "school_id = ?";

/* A teachers row for the account uid; its id into *tid. */
static int
apply_teacher_insert(
    struct run *u, const struct te_row *r, uint64_t uid, uint64_t *tid)
{
	char pub[IDS_PUBLIC_LEN + 1];
	struct db_param p[5];
	unsigned long long id = 0;

	if (ids_public(pub) != 0)
		return -1;
	p[0] = DB_STR(pub);
	p[1] = DB_INT((long long)u->x->school_id);
	p[2] = DB_INT((long long)uid);
	p[3] = r->staff != NULL ? DB_STR(r->staff) : DB_NULLP;
	p[4] = DB_STR(r->status != NULL ? r->status : "active");
	if (db_exec(u->x->db, sql_teacher_insert, p, 5, NULL, &id) != 0)
		return -1;
	*tid = id;
	return 0;
}

static int
apply_teacher(struct run *u, struct issuance *is, const struct te_row *r)
{
	const struct db_res *t = u->res[P_TEACHERS];
	struct db_param p[4];
	uint64_t uid, tid = 0;
	int created = 0, changed = 0;

	if (r->pre < 0) {
		if (apply_account(
			u, is, "teacher", r->login, r->name, NULL, &uid) != 0 ||
		    apply_teacher_insert(u, r, uid, &tid) != 0)
			return -1;
		created = 1;
	} else {
		uid = res_u(t, r->pre, PU_ID);
		tid = res_u(t, r->pre, PU_TID);
		if (strcmp(r->name, res_s(t, r->pre, PU_NAME)) != 0) {
			p[0] = DB_STR(r->name);
			p[1] = DB_INT((long long)uid);
			p[2] = DB_INT((long long)u->x->school_id);
			if (db_exec(u->x->db, sql_user_name, p, 3, NULL, NULL))
				return -1;
			changed = 1;
		}
		if (tid == 0) {
			/* An account made with `licheng user add`: its
			 * record starts now. */
			if (apply_teacher_insert(u, r, uid, &tid) != 0)
				return -1;
			created = 1;
		} else if ((r->staff != NULL &&
			       strcasecmp(r->staff,
				   res_s(t, r->pre, PU_STAFF)) != 0) ||
		    (r->status != NULL &&
			strcmp(r->status, res_s(t, r->pre, PU_STATUS)) != 0)) {
			const char *old_staff =
			    db_res_get(t, (size_t)r->pre, PU_STAFF);

			p[0] = r->staff != NULL ? DB_STR(r->staff)
			    : old_staff != NULL ? DB_STR(old_staff)
						: DB_NULLP;
			p[1] = DB_STR(r->status != NULL
				? r->status
				: res_s(t, r->pre, PU_STATUS));
			p[2] = DB_INT((long long)tid);
			p[3] = DB_INT((long long)u->x->school_id);
			if (db_exec(
				u->x->db, sql_teacher_update, p, 4, NULL, NULL))
				return -1;
			changed = 1;
		}
	}
	if (r->cls >= 0 &&
	    res_u(u->res[P_CLASSES], r->cls, PC_HOMEROOM) != tid) {
		p[0] = DB_INT((long long)tid);
		p[1] =
		    DB_INT((long long)res_u(u->res[P_CLASSES], r->cls, PC_ID));
		p[2] = DB_INT((long long)u->x->school_id);
		if (db_exec(u->x->db, sql_homeroom, p, 3, NULL, NULL) != 0)
			return -1;
		changed = 1;
	}
	if (created)
		u->rep->created++;
	else if (changed)
		u->rep->updated++;
	else
		u->rep->unchanged++;
	return 0;
}

static const char sql_course_insert[] =
    "INSERT INTO courses (public_id, school_id, term_id, code, name, "
    "credits) VALUES (?, ?, ?, ?, ?, ?)";
static const char sql_course_update[] =
    "UPDATE courses SET name = ?, credits = ? WHERE id = ? AND school_id = ?";
static const char sql_ct_insert[] =
    "INSERT INTO course_teachers (course_id, teacher_id) VALUES (?, ?)";
static const char sql_ct_delete[] =
    "DELETE FROM course_teachers WHERE course_id = ? AND teacher_id = ?";

/* Sets the teachers of course cid to exactly those of r. *changed is set
 * when any was added or removed. */
static int
apply_course_teachers(
    struct run *u, const struct co_row *r, uint64_t cid, int *changed)
{
	const struct db_res *ct = u->res[P_COURSE_TEACHERS];
	char key[24];
	size_t first, i, k, n = db_res_rows(ct);
	struct db_param p[2];
	uint64_t tid;

	(void)snprintf(key, sizeof(key), "%llu", (unsigned long long)cid);
	if (smap_get(&u->map[K_COURSE_FIRST], key, &first)) {
		/* Remove those no longer listed. */
		for (i = first; i < n && res_u(ct, (long)i, 0) == cid; i++) {
			tid = res_u(ct, (long)i, 1);
			for (k = 0; k < r->t_n; k++)
				if (res_u(u->res[P_TEACHERS],
					(long)u->tlist[r->t_first + k],
					PU_TID) == tid)
					break;
			if (k < r->t_n)
				continue;
			p[0] = DB_INT((long long)cid);
			p[1] = DB_INT((long long)tid);
			if (db_exec(u->x->db, sql_ct_delete, p, 2, NULL, NULL))
				return -1;
			*changed = 1;
		}
	}
	for (k = 0; k < r->t_n; k++) {
		int have = 0;

		tid = res_u(
		    u->res[P_TEACHERS], (long)u->tlist[r->t_first + k], PU_TID);
		if (smap_get(&u->map[K_COURSE_FIRST], key, &first))
			for (i = first;
			     i < n && res_u(ct, (long)i, 0) == cid && !have;
			     i++)
				have = res_u(ct, (long)i, 1) == tid;
		if (have)
			continue;
		p[0] = DB_INT((long long)cid);
		p[1] = DB_INT((long long)tid);
		if (db_exec(u->x->db, sql_ct_insert, p, 2, NULL, NULL) != 0)
			return -1;
		*changed = 1;
	}
	return 0;
}

static int
apply_course(struct run *u, const struct co_row *r)
{
	const struct db_res *c = u->res[P_COURSES];
	char pub[IDS_PUBLIC_LEN + 1];
	struct db_param p[6];
	unsigned long long id = 0;
	uint64_t cid;
	int changed = 0;

	if (r->pre < 0) {
		if (ids_public(pub) != 0)
			return -1;
		p[0] = DB_STR(pub);
		p[1] = DB_INT((long long)u->x->school_id);
		p[2] =
		    DB_INT((long long)res_u(u->res[P_TERMS], r->term, PT_ID));
		p[3] = DB_STR(r->code);
		p[4] = DB_STR(r->name);
		p[5] = DB_INT(r->credits);
		if (db_exec(u->x->db, sql_course_insert, p, 6, NULL, &id) != 0)
			return -1;
		cid = id;
	} else {
		cid = res_u(c, r->pre, PK_ID);
		if (strcmp(r->name, res_s(c, r->pre, PK_NAME)) != 0 ||
		    r->credits !=
			(int)db_res_int(c, (size_t)r->pre, PK_CREDITS)) {
			p[0] = DB_STR(r->name);
			p[1] = DB_INT(r->credits);
			p[2] = DB_INT((long long)cid);
			p[3] = DB_INT((long long)u->x->school_id);
			if (db_exec(u->x->db, sql_course_update, p, 4, NULL,
				NULL) != 0)
				return -1;
			changed = 1;
		}
	}
	if (r->has_teachers && apply_course_teachers(u, r, cid, &changed))
		return -1;
	if (r->pre < 0)
		u->rep->created++;
	else if (changed)
		u->rep->updated++;
	else
		u->rep->unchanged++;
	return 0;
}

static const char sql_enrolment_insert[] =
    "INSERT INTO enrolments (public_id, school_id, student_id, course_id) "
    "VALUES (?, ?, ?, ?)";

static int
apply_enrolment(struct run *u, const struct en_row *r)
{
	char pub[IDS_PUBLIC_LEN + 1];
	struct db_param p[4];

	if (r->exists) {
		u->rep->unchanged++;
		return 0;
	}
	if (ids_public(pub) != 0)
		return -1;
	p[0] = DB_STR(pub);
	p[1] = DB_INT((long long)u->x->school_id);
	p[2] = DB_INT((long long)res_u(u->res[P_STUDENTS], r->stu, PS_ID));
	p[3] = DB_INT((long long)res_u(u->res[P_COURSES], r->course, PK_ID));
	if (db_exec(u->x->db, sql_enrolment_insert, p, 4, NULL, NULL) != 0)
		return -1;
	u->rep->created++;
	return 0;
}

static int
apply_rows(struct run *u, struct issuance *is)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < u->nrows && rc == 0; i++) {
		switch (u->kind) {
		case IMPORT_STUDENTS:
			rc = u->st[i].pre < 0
			    ? apply_student_new(u, is, &u->st[i])
			    : apply_student_old(u, is, &u->st[i]);
			break;
		case IMPORT_TEACHERS:
			rc = apply_teacher(u, is, &u->te[i]);
			break;
		case IMPORT_COURSES: rc = apply_course(u, &u->co[i]); break;
		default: rc = apply_enrolment(u, &u->en[i]); break;
		}
	}
	return rc;
}

/* The audit rows of an apply, inside its transaction: never a national ID,
 * a code or a name, only counts and public ids. */
static int
apply_audit(const struct run *u)
{
	const struct import_ctx *x = u->x;
	const struct import_report *rep = u->rep;
	struct audit_event ev;
	struct buf target, detail;
	int rc;

	buf_init(&target);
	buf_init(&detail);
	if (x->import_id != NULL)
		buf_printf(&target, "import:%s", x->import_id);
	else
		buf_printf(&target, "school:%s", x->school_code);
	buf_putc(&detail, '{');
	buf_json_kv(&detail, "kind", import_kind_name(u->kind));
	buf_json_ki(&detail, "rows", (long long)rep->rows);
	buf_json_ki(&detail, "created", (long long)rep->created);
	buf_json_ki(&detail, "updated", (long long)rep->updated);
	buf_json_ki(&detail, "unchanged", (long long)rep->unchanged);
	buf_json_ki(&detail, "accounts", (long long)rep->accounts_issued);
	buf_json_kv(&detail, "import", x->import_id);
	buf_json_kv(&detail, "letters",
	    rep->letters_id[0] != '\0' ? rep->letters_id : NULL);
	buf_putc(&detail, '}');
	memset(&ev, 0, sizeof(ev));
	ev.actor = x->who.actor;
	ev.role = x->who.role;
	ev.school = x->school_code;
	ev.ip = x->who.ip != NULL ? x->who.ip : "";
	ev.event = "import.apply";
	ev.target = target.data;
	ev.outcome = "success";
	ev.detail = detail.data;
	rc = audit_append_tx(x->db, &ev);
	if (rc == 0 && rep->accounts_issued > 0) {
		buf_reset(&target);
		buf_reset(&detail);
		buf_printf(&target, "letters:%s", rep->letters_id);
		buf_putc(&detail, '{');
		buf_json_ki(&detail, "count", (long long)rep->accounts_issued);
		buf_json_kv(&detail, "letters", rep->letters_id);
		buf_json_kv(&detail, "via", "import");
		buf_json_kv(&detail, "kind", import_kind_name(u->kind));
		buf_putc(&detail, '}');
		ev.event = "accounts.issue";
		ev.target = target.data;
		ev.detail = detail.data;
		rc = audit_append_tx(x->db, &ev);
	}
	buf_free(&target);
	buf_free(&detail);
	return rc;
}

static int mark_applied_tx(const struct import_ctx *x, const char *public_id,
    const struct import_report *rep);

/* Everything an apply writes, inside the open transaction. */
static int
apply_all(struct run *u)
{
	const struct import_ctx *x = u->x;
	struct issuance is = {NULL, 0, u->accounts_needed};
	int rc;

	if (is.cap > 0)
		is.l = xcalloc(is.cap, sizeof(*is.l));
	rc = apply_rows(u, &is);
	if (rc == 0 && is.n > 0)
		rc = letters_create_tx(x->db, x->data_key, x->school_id,
		    x->who.user_id, x->who.actor, x->conf->letters_keep_hours,
		    is.l, is.n, u->rep->letters_id);
	if (rc == 0)
		rc = apply_audit(u);
	if (rc == 0 && x->import_id != NULL)
		rc = mark_applied_tx(x, x->import_id, u->rep);
	letters_free(is.l, is.cap);
	return rc;
}

int
import_apply(const struct import_ctx *x, enum import_kind kind,
    const char *data, size_t len, enum csv_encoding enc,
    struct import_report *rep)
{
	struct run u;
	struct db_param p[1] = {DB_INT((long long)x->school_id)};
	struct db_res *lock;
	int rc = -1;

	memset(&u, 0, sizeof(u));
	memset(rep, 0, sizeof(*rep));
	if (db_begin(x->db) != 0)
		return -1;
	/* One import of a school at a time: the check below then sees what
	 * the writes will meet. */
	lock = db_query(
	    x->db, "SELECT id FROM schools WHERE id = ? FOR UPDATE", p, 1);
	if (lock == NULL || db_res_rows(lock) != 1) {
		db_res_free(lock);
		goto out;
	}
	db_res_free(lock);
	if (run_check(&u, x, kind, data, len, enc, rep) != 0)
		goto out;
	if (rep->bad_rows > 0) {
		rc = 0;
		goto out;
	}
	if (apply_all(&u) != 0 || db_commit(x->db) != 0)
		goto out;
	rep->applied = 1;
	rc = 0;
out:
	if (!rep->applied)
		(void)db_rollback(x->db);
	if (rc != 0) {
		import_report_free(rep);
		memset(rep, 0, sizeof(*rep));
	} else if (!rep->applied) {
		/* Nothing was written: the counts of a rolled-back apply
		 * would mislead. */
		rep->created = rep->updated = rep->unchanged = 0;
		rep->accounts_issued = 0;
		rep->letters_id[0] = '\0';
	}
	run_free(&u);
	return rc;
}

void
import_report_free(struct import_report *rep)
{
	if (rep == NULL)
		return;
	free(rep->problems);
	rep->problems = NULL;
	rep->nproblems = 0;
}

/* ------------------------------------------------------------ reports */

void
import_report_csv(
    const struct import_report *rep, const char *lang, struct buf *out)
{
	int zh = lang != NULL && strcmp(lang, "zh-TW") == 0;
	char row[24];
	size_t i;

	csv_put_bom(out);
	csv_put_cell(out, zh ? "列" : "row", 0);
	csv_put_cell(out, zh ? "欄位" : "column", 0);
	csv_put_cell(out, zh ? "原因" : "reason", 0);
	csv_put_cell(out, zh ? "內容" : "value", 1);
	for (i = 0; i < rep->nproblems; i++) {
		const struct import_problem *p = &rep->problems[i];

		if (p->row > 0)
			(void)snprintf(row, sizeof(row), "%zu", p->row);
		else
			row[0] = '\0';
		csv_put_cell(out, row, 0);
		csv_put_cell(out,
		    p->column[0]
			? import_column_label(rep->kind, p->column, lang)
			: "",
		    0);
		csv_put_cell(out, import_problem_text(p->code, lang), 0);
		csv_put_cell(out, p->value, 1);
	}
	if (rep->truncated) {
		csv_put_cell(out, "", 0);
		csv_put_cell(out, "", 0);
		csv_put_cell(out, import_problem_text("truncated", lang), 0);
		csv_put_cell(out, "", 1);
	}
}

void
import_report_json(const struct import_report *rep, struct buf *out)
{
	size_t i;

	buf_putc(out, '[');
	for (i = 0; i < rep->nproblems; i++) {
		const struct import_problem *p = &rep->problems[i];

		if (i > 0)
			buf_putc(out, ',');
		buf_putc(out, '{');
		buf_json_ki(out, "row", (long long)p->row);
		buf_json_kv(out, "column", p->column);
		buf_json_kv(out, "code", p->code);
		buf_json_kv(out, "value", p->value);
		buf_putc(out, '}');
	}
	if (rep->truncated) {
		if (rep->nproblems > 0)
			buf_putc(out, ',');
		buf_puts(out,
		    "{\"row\":0,\"column\":\"\",\"code\":"
		    "\"truncated\",\"value\":\"\"}");
	}
	buf_putc(out, ']');
}

/* A reader of the JSON import_report_json writes (and no more). */
struct jr {
	const char *p, *end;
};

static void
jr_ws(struct jr *j)
{
	while (j->p < j->end &&
	    (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
		j->p++;
}

static int
jr_char(struct jr *j, char c)
{
	jr_ws(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return 1;
	}
	return 0;
}

static void
jr_utf8(unsigned long cp, char *out, size_t n, size_t *o)
{
	unsigned char b[4];
	size_t k, len;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		len = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		len = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		len = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		len = 4;
	}
	if (*o + len >= n)
		return;
	for (k = 0; k < len; k++)
		out[(*o)++] = (char)b[k];
}

/* The length of s[0..n) without a last character that was cut short. */
static size_t
utf8_whole(const char *s, size_t n)
{
	size_t i = n, need;
	unsigned char c;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return n;
	c = (unsigned char)s[i - 1];
	need = c < 0x80          ? 1
	    : (c & 0xe0) == 0xc0 ? 2
	    : (c & 0xf0) == 0xe0 ? 3
				 : 4;
	return i - 1 + need <= n ? n : i - 1;
}

static int
jr_hex4(struct jr *j, unsigned long *v)
{
	int k, h;

	*v = 0;
	if (j->end - j->p < 4)
		return -1;
	for (k = 0; k < 4; k++) {
		if ((h = hex_value(j->p[k])) < 0)
			return -1;
		*v = *v * 16 + (unsigned long)h;
	}
	j->p += 4;
	return 0;
}

/* A string into out (n bytes, cut); 0/-1. */
static int
jr_string(struct jr *j, char *out, size_t n)
{
	size_t o = 0;
	unsigned long cp, lo;

	if (!jr_char(j, '"'))
		return -1;
	while (j->p < j->end && *j->p != '"') {
		char c = *j->p++;

		if (c != '\\') {
			if (o + 1 < n)
				out[o++] = c;
			continue;
		}
		if (j->p >= j->end)
			return -1;
		c = *j->p++;
		switch (c) {
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case '"':
		case '\\':
		case '/': cp = (unsigned char)c; break;
		case 'u':
			if (jr_hex4(j, &cp) != 0)
				return -1;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (j->end - j->p < 6 || j->p[0] != '\\' ||
				    j->p[1] != 'u')
					return -1;
				j->p += 2;
				if (jr_hex4(j, &lo) != 0 || lo < 0xdc00 ||
				    lo > 0xdfff)
					return -1;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			}
			break;
		default: return -1;
		}
		jr_utf8(cp, out, n, &o);
	}
	if (j->p >= j->end)
		return -1;
	j->p++;
	out[utf8_whole(out, o)] = '\0';
	return 0;
}

static int
jr_number(struct jr *j, size_t *v)
{
	size_t n = 0;
	int any = 0;

	jr_ws(j);
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
		if (n > (SIZE_MAX - 9) / 10)
			return -1;
		n = n * 10 + (size_t)(*j->p++ - '0');
		any = 1;
	}
	*v = n;
	return any ? 0 : -1;
}

/* One {"row":..,"column":..,"code":..,"value":..} into p; 0/-1. */
static int
jr_problem(struct jr *j, struct import_problem *p, const char **code)
{
	char key[16], c[32];
	const struct import_text *t;

	memset(p, 0, sizeof(*p));
	*code = NULL;
	if (!jr_char(j, '{'))
		return -1;
	if (jr_char(j, '}'))
		return -1;
	do {
		if (jr_string(j, key, sizeof(key)) != 0 || !jr_char(j, ':'))
			return -1;
		if (strcmp(key, "row") == 0) {
			if (jr_number(j, &p->row) != 0)
				return -1;
		} else if (strcmp(key, "column") == 0) {
			if (jr_string(j, p->column, sizeof(p->column)) != 0)
				return -1;
		} else if (strcmp(key, "code") == 0) {
			if (jr_string(j, c, sizeof(c)) != 0)
				return -1;
			t = import_text_find(c);
			*code = t != NULL ? t->code : "other";
		} else if (strcmp(key, "value") == 0) {
			if (jr_string(j, p->value, sizeof(p->value)) != 0)
				return -1;
		} else
			return -1;
	} while (jr_char(j, ','));
	if (!jr_char(j, '}') || *code == NULL)
		return -1;
	p->code = *code;
	return 0;
}

int
import_report_from_json(struct import_report *rep, const char *json, size_t len)
{
	struct jr j = {json, json + len};
	struct import_problem p;
	const char *code;

	free(rep->problems);
	rep->problems = NULL;
	rep->nproblems = 0;
	rep->truncated = 0;
	if (!jr_char(&j, '['))
		return -1;
	if (!jr_char(&j, ']')) {
		do {
			if (jr_problem(&j, &p, &code) != 0)
				goto bad;
			if (strcmp(code, "truncated") == 0) {
				rep->truncated = 1;
				continue;
			}
			if (rep->nproblems >= IMPORT_PROBLEMS_MAX) {
				rep->truncated = 1;
				continue;
			}
			if (rep->nproblems % 256 == 0)
				rep->problems = xrealloc(rep->problems,
				    (rep->nproblems + 256) *
					sizeof(*rep->problems));
			rep->problems[rep->nproblems++] = p;
		} while (jr_char(&j, ','));
		if (!jr_char(&j, ']'))
			goto bad;
	}
	jr_ws(&j);
	if (j.p == j.end)
		return 0;
bad:
	log_error("an import report that is not the JSON this file writes");
	import_report_free(rep);
	return -1;
}

/* ------------------------------------------------------------ saved imports */

static void
import_aad(const char *public_id, char aad[64])
{
	(void)snprintf(aad, 64, "import:%s", public_id);
}

/* A file name as stored: at most 255 characters of one line of UTF-8
 * (cut), or "" when it is not that. */
static void
import_filename(const char *name, char out[256 * 4])
{
	const char *s = name != NULL ? name : "";
	size_t i = 0, chars = 0;

	out[0] = '\0';
	if (validate_utf8_text(s, strlen(s), 0) < 0)
		return;
	while (s[i] != '\0' && chars < 255) {
		i++;
		while (((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		chars++;
	}
	memcpy(out, s, i);
	out[i] = '\0';
}

int
import_save_check(const struct import_ctx *x, enum import_kind kind,
    const char *filename, const char *data, size_t len,
    const struct import_report *rep, char public_id[IDS_PUBLIC_LEN + 1])
{
	char aad[64], fname[256 * 4];
	unsigned char *sealed = NULL;
	size_t slen = 0;
	struct buf report, target, detail;
	struct db_param p[12];
	struct audit_event ev;
	int keep = rep->bad_rows == 0, rc = -1;

	if (ids_public(public_id) != 0)
		return -1;
	buf_init(&report);
	buf_init(&target);
	buf_init(&detail);
	import_report_json(rep, &report);
	import_filename(filename, fname);
	if (keep) {
		sealed = xmalloc(len + CRYPTO_SEAL_OVERHEAD);
		import_aad(public_id, aad);
		if (crypto_seal(x->data_key, aad, data, len, sealed,
			len + CRYPTO_SEAL_OVERHEAD, &slen) != 0)
			goto out;
	}
	p[0] = DB_STR(public_id);
	p[1] = DB_INT((long long)x->school_id);
	p[2] = DB_STR(import_kind_name(kind));
	p[3] = DB_STR(fname);
	p[4] = DB_STR(rep->encoding == CSV_ENC_BIG5 ? "big5" : "utf-8");
	p[5] = DB_INT((long long)rep->rows);
	p[6] = DB_INT((long long)rep->bad_rows);
	p[7] = DB_STRN(report.data, report.len);
	p[8] = keep ? DB_BLOB(sealed, slen) : DB_NULLP;
	p[9] = x->who.user_id ? DB_INT((long long)x->who.user_id) : DB_NULLP;
	p[10] = DB_STR(x->who.actor);
	p[11] = DB_INT(x->conf->import_keep_hours);
	buf_printf(&target, "import:%s", public_id);
	buf_putc(&detail, '{');
	buf_json_kv(&detail, "kind", import_kind_name(kind));
	buf_json_ki(&detail, "rows", (long long)rep->rows);
	buf_json_ki(&detail, "bad_rows", (long long)rep->bad_rows);
	buf_json_kv(&detail, "encoding", csv_encoding_name(rep->encoding));
	buf_putc(&detail, '}');
	memset(&ev, 0, sizeof(ev));
	ev.actor = x->who.actor;
	ev.role = x->who.role;
	ev.school = x->school_code;
	ev.ip = x->who.ip != NULL ? x->who.ip : "";
	ev.event = "import.check";
	ev.target = target.data;
	ev.outcome = "success";
	ev.detail = detail.data;
	if (db_begin(x->db) != 0)
		goto out;
	if (db_exec(x->db,
		"INSERT INTO imports (public_id, school_id, kind, filename, "
		"encoding, state, rows_total, rows_bad, report, payload, "
		"created_by, created_by_actor, expires_at) VALUES (?, ?, ?, ?, "
		"?, 'checked', ?, ?, ?, ?, ?, ?, "
		"UTC_TIMESTAMP(6) + INTERVAL ? HOUR)",
		p, 12, NULL, NULL) != 0 ||
	    audit_append_tx(x->db, &ev) != 0 || db_commit(x->db) != 0) {
		(void)db_rollback(x->db);
		goto out;
	}
	rc = 0;
out:
	free(sealed);
	buf_free(&report);
	buf_free(&target);
	buf_free(&detail);
	return rc;
}

int
import_load(const struct import_ctx *x, const char *public_id,
    enum import_kind *kind, enum csv_encoding *enc, char **data, size_t *len)
{
	struct db_param p[2];
	struct db_res *r;
	char aad[64], *plain;
	size_t slen, plen = 0;
	int k, rc = -1;

	*data = NULL;
	*len = 0;
	if (!ids_public_valid(public_id))
		return 0;
	p[0] = DB_STR(public_id);
	p[1] = DB_INT((long long)x->school_id);
	r = db_query(x->db,
	    "SELECT kind, encoding, state = 'checked' AND payload IS NOT NULL "
	    "AND expires_at > UTC_TIMESTAMP(6), payload FROM imports "
	    "WHERE public_id = ? AND school_id = ?",
	    p, 2);
	if (r == NULL)
		return -1;
	if (db_res_rows(r) != 1) {
		db_res_free(r);
		return 0;
	}
	k = import_kind_parse(db_res_get(r, 0, 0));
	*kind = k >= 0 ? (enum import_kind)k : IMPORT_STUDENTS;
	*enc =
	    strcmp(res_s(r, 0, 1), "big5") == 0 ? CSV_ENC_BIG5 : CSV_ENC_UTF8;
	if (db_res_int(r, 0, 2) != 1) {
		db_res_free(r);
		return 2;
	}
	slen = db_res_len(r, 0, 3);
	if (k < 0 || slen < CRYPTO_SEAL_OVERHEAD) {
		log_error("import %s: kind or payload unreadable", public_id);
		db_res_free(r);
		return -1;
	}
	plain = xmalloc(slen + 1);
	import_aad(public_id, aad);
	if (crypto_open(x->data_key, aad,
		(const unsigned char *)db_res_get(r, 0, 3), slen,
		(unsigned char *)plain, slen, &plen) != 0) {
		log_error("import %s: the sealed file does not open "
			  "(keys.data changed, or the row was altered)",
		    public_id);
		OPENSSL_cleanse(plain, slen);
		free(plain);
	} else {
		plain[plen] = '\0';
		*data = plain;
		*len = plen;
		rc = 1;
	}
	db_res_free(r);
	return rc;
}

void
import_payload_free(char *data, size_t len)
{
	if (data == NULL)
		return;
	OPENSSL_cleanse(data, len);
	free(data);
}

static int
mark_applied_tx(const struct import_ctx *x, const char *public_id,
    const struct import_report *rep)
{
	struct db_param p[8];

	p[0] = DB_INT((long long)rep->created);
	p[1] = DB_INT((long long)rep->updated);
	p[2] = DB_INT((long long)rep->unchanged);
	p[3] = DB_INT((long long)rep->accounts_issued);
	p[4] = DB_STR(rep->letters_id);
	p[5] = DB_INT((long long)x->school_id);
	p[6] = DB_STR(public_id);
	p[7] = DB_INT((long long)x->school_id);
	return db_exec(x->db,
	    "UPDATE imports SET state = 'applied', rows_created = ?, "
	    "rows_updated = ?, rows_unchanged = ?, accounts_issued = ?, "
	    "letter_batch_id = (SELECT id FROM letter_batches WHERE "
	    "public_id = ? AND school_id = ?), applied_at = UTC_TIMESTAMP(6), "
	    "payload = NULL WHERE public_id = ? AND school_id = ? AND "
	    "state = 'checked'",
	    p, 8, NULL, NULL);
}

int
import_mark_applied(const struct import_ctx *x, const char *public_id,
    const struct import_report *rep)
{
	if (db_begin(x->db) != 0)
		return -1;
	if (mark_applied_tx(x, public_id, rep) != 0 || db_commit(x->db) != 0) {
		(void)db_rollback(x->db);
		return -1;
	}
	return 0;
}

long
import_expire(struct db *db)
{
	unsigned long long affected = 0;

	if (db_exec(db,
		"UPDATE imports SET payload = NULL, state = IF(state = "
		"'checked', 'expired', state) WHERE payload IS NOT NULL AND "
		"expires_at <= UTC_TIMESTAMP(6)",
		NULL, 0, &affected, NULL) != 0)
		return -1;
	return (long)affected;
}
