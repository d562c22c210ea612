/*
 * test_csv: lib/csv.c — the BOM, quoting and "" escapes, line breaks inside
 * quotes and the spreadsheet row numbers, blank lines, Big5 files built here
 * from hex literals (with 堃 and 峯 both as Big5-HKSCS bytes and as UTF-8
 * cells), forced encodings, every error code with its row and column, the
 * speed on a 10,000-row file, and the writer's quoting and formula guard.
 * Needs no servers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "csv.h"
#include "util.h"

/* Big5 (and Big5-HKSCS) bytes, checked with
 * `printf 王 | iconv -t BIG5-HKSCS | xxd`. */
#define B5_XUEHAO "\xbe\xc7\xb8\xb9" /* 學號 */
#define B5_XINGMING "\xa9\x6d\xa6\x57" /* 姓名 */
#define B5_BANJI "\xaf\x5a\xaf\xc5" /* 班級 */
#define B5_WANG "\xa4\xfd" /* 王 */
#define B5_XIAOMING "\xa4\x70\xa9\xfa" /* 小明 */
#define B5_LIN "\xaa\x4c" /* 林 */
#define B5_ZHONG "\xa9\xbe" /* 忠 */
#define B5_LUO "\xc3\xb9" /* 羅: also valid UTF-8 ("ù") */
#define B5_JIANWEI "\xc2\xb2\xde\xb3" /* 簡瑋: also UTF-8 "²޳" */
#define HK_KUN "\xfb\x69" /* 堃 in Big5-HKSCS */
#define HK_FENG "\xfb\xdf" /* 峯 in Big5-HKSCS */
#define U8_KUN "\xe5\xa0\x83" /* 堃 U+5803 */
#define U8_FENG "\xe5\xb3\xaf" /* 峯 U+5CEF */

static struct csv *
parse(const char *data, size_t len, enum csv_encoding enc, size_t max,
    struct csv_error *err)
{
	/* An exact-size copy: the parser must not read past len. */
	char *copy = xmalloc(len ? len : 1);
	struct csv *c;

	memcpy(copy, data, len);
	c = csv_parse(copy, len, enc, max, err);
	free(copy);
	return c;
}

static struct csv *
parse_s(const char *s, enum csv_encoding enc)
{
	struct csv_error err;
	struct csv *c = parse(s, strlen(s), enc, 1000, &err);

	if (c == NULL)
		fprintf(stderr, "  parse failed: %s at %zu:%zu\n", err.code,
		    err.row, err.col);
	return c;
}

/* 1 when record i is at spreadsheet row `row` with exactly the n cells
 * given after n. */
static int
rec_is(const struct csv *c, size_t i, size_t row, size_t n, ...)
{
	va_list ap;
	size_t j;
	int ok = 1;

	if (c == NULL)
		return 0;
	if (csv_row(c, i) != row || csv_cells(c, i) != n) {
		fprintf(stderr, "  record %zu: row %zu, %zu cells\n", i,
		    csv_row(c, i), csv_cells(c, i));
		return 0;
	}
	va_start(ap, n);
	for (j = 0; j < n; j++) {
		const char *want = va_arg(ap, const char *);

		if (strcmp(csv_cell(c, i, j), want) != 0) {
			fprintf(stderr, "  record %zu cell %zu: [%s] not [%s]\n",
			    i, j, csv_cell(c, i, j), want);
			ok = 0;
		}
	}
	va_end(ap);
	return ok;
}

/* 1 when data fails with code at row:col (and returns NULL). */
static int
err_is(const char *data, size_t len, enum csv_encoding enc, size_t max,
    const char *code, size_t row, size_t col)
{
	struct csv_error err = {99, 99, NULL};
	struct csv *c = parse(data, len, enc, max, &err);

	if (c != NULL) {
		fprintf(stderr, "  parsed, expected %s\n", code);
		csv_free(c);
		return 0;
	}
	if (err.code == NULL || strcmp(err.code, code) != 0 ||
	    err.row != row || err.col != col) {
		fprintf(stderr, "  got %s at %zu:%zu, expected %s at %zu:%zu\n",
		    err.code ? err.code : "(null)", err.row, err.col, code, row,
		    col);
		return 0;
	}
	return 1;
}

#define ERR_IS(lit, enc, max, code, row, col)                                \
	err_is(lit, sizeof(lit) - 1, enc, max, code, row, col)

static void
test_bom_and_basics(void)
{
	static const char bom[] = "\xef\xbb\xbf"
				  "學號,姓名\r\n1,王小明\r\n";
	struct csv_error err;
	struct csv *c;

	c = parse_s(bom, CSV_ENC_AUTO);
	CHECK(c != NULL && csv_encoding_used(c) == CSV_ENC_UTF8);
	CHECK(csv_records(c) == 2);
	CHECK(rec_is(c, 0, 1, 2, "學號", "姓名"));
	CHECK(rec_is(c, 1, 2, 2, "1", "王小明"));
	csv_free(c);

	/* Without the BOM: still UTF-8, the same cells. */
	c = parse_s(bom + 3, CSV_ENC_AUTO);
	CHECK(c != NULL && csv_encoding_used(c) == CSV_ENC_UTF8);
	CHECK(rec_is(c, 0, 1, 2, "學號", "姓名"));
	csv_free(c);

	/* The BOM is dropped when an encoding is forced too. */
	c = parse_s(bom, CSV_ENC_UTF8);
	CHECK(rec_is(c, 0, 1, 2, "學號", "姓名"));
	csv_free(c);
	c = parse_s("\xef\xbb\xbf"
		    "id," B5_XINGMING "\r\n",
	    CSV_ENC_BIG5);
	CHECK(c != NULL && csv_encoding_used(c) == CSV_ENC_BIG5);
	CHECK(rec_is(c, 0, 1, 2, "id", "姓名"));
	csv_free(c);

	/* LF, CRLF, a lone CR, and a last line without a line end. */
	c = parse_s("a,b\nc,d\r\ne,f\rg,h", CSV_ENC_AUTO);
	CHECK(csv_records(c) == 4);
	CHECK(rec_is(c, 0, 1, 2, "a", "b") && rec_is(c, 1, 2, 2, "c", "d") &&
	    rec_is(c, 2, 3, 2, "e", "f") && rec_is(c, 3, 4, 2, "g", "h"));
	csv_free(c);

	/* Trimming: unquoted cells lose surrounding spaces, empty cells
	 * stay, a trailing comma is one more empty cell; tabs are data. */
	c = parse_s("  a  , b c ,,\t,\n", CSV_ENC_AUTO);
	CHECK(rec_is(c, 0, 1, 5, "a", "b c", "", "\t", ""));
	CHECK(strcmp(csv_cell(c, 0, 5), "") == 0);
	CHECK(strcmp(csv_cell(c, 1, 0), "") == 0 && csv_cells(c, 1) == 0);
	CHECK(csv_row(c, 1) == 0);
	csv_free(c);

	/* err->code is NULL on success; err may be NULL. */
	c = parse("x", 1, CSV_ENC_AUTO, 0, &err);
	CHECK(c != NULL && err.code == NULL && err.row == 0);
	csv_free(c);
	c = csv_parse("x\ny", 3, CSV_ENC_AUTO, 0, NULL);
	CHECK(c == NULL);
	csv_free(NULL);
}

static void
test_quotes(void)
{
	struct csv *c;

	c = parse_s("\"a,b\",\"say \"\"hi\"\"\",\"\",\"\"\"\"\n", CSV_ENC_AUTO);
	CHECK(rec_is(c, 0, 1, 4, "a,b", "say \"hi\"", "", "\""));
	csv_free(c);

	/* Quoted cells keep their inner spaces; spaces around the quotes
	 * are allowed and dropped. */
	c = parse_s("  \"  x  \"  ,\" \",y\n", CSV_ENC_AUTO);
	CHECK(rec_is(c, 0, 1, 3, "  x  ", " ", "y"));
	csv_free(c);

	/* A quoted cell at the very end, without a line end. */
	c = parse_s("a,\"b\"", CSV_ENC_AUTO);
	CHECK(rec_is(c, 0, 1, 2, "a", "b"));
	csv_free(c);
}

static void
test_rows(void)
{
	/* Header row 1; a two-line quoted cell is row 2; a CRLF inside a
	 * quoted cell is kept; blank lines count (rows 4, 6, 7) but are no
	 * records; so are lines of spaces and commas. */
	static const char text[] = "id,note\r\n"
				   "1,\"line one\nline two\"\r\n"
				   "2,\"a\r\nb\r\nc\"\r\n"
				   "\r\n"
				   "3,x\r\n"
				   "  \r\n"
				   " , ,\"\"\r\n"
				   "4,\"\n\"\r\n"
				   "\r\n";
	struct csv *c = parse_s(text, CSV_ENC_AUTO);

	CHECK(csv_records(c) == 5);
	CHECK(rec_is(c, 0, 1, 2, "id", "note"));
	CHECK(rec_is(c, 1, 2, 2, "1", "line one\nline two"));
	CHECK(rec_is(c, 2, 3, 2, "2", "a\r\nb\r\nc"));
	CHECK(rec_is(c, 3, 5, 2, "3", "x"));
	CHECK(rec_is(c, 4, 8, 2, "4", "\n"));
	csv_free(c);

	/* Blank lines before the header count too. */
	c = parse_s("\n\nh1,h2\n\nv1,v2", CSV_ENC_AUTO);
	CHECK(csv_records(c) == 2);
	CHECK(rec_is(c, 0, 3, 2, "h1", "h2") &&
	    rec_is(c, 1, 5, 2, "v1", "v2"));
	csv_free(c);
}

/* A Big5 file as a school's system exports it. */
static const char big5_file[] = B5_XUEHAO "," B5_XINGMING "," B5_BANJI
					  "\r\n"
					  "S001," B5_WANG B5_XIAOMING
					  "," B5_ZHONG "\r\n"
					  "S002," B5_LIN HK_KUN
					  ",\"" B5_ZHONG "\"\r\n"
					  "S003,  " B5_WANG HK_FENG " ," B5_ZHONG
					  "\r\n";

static void
test_big5(void)
{
	struct csv *c;
	int forced;

	for (forced = 0; forced < 2; forced++) {
		c = parse_s(big5_file, forced ? CSV_ENC_BIG5 : CSV_ENC_AUTO);
		CHECK(c != NULL && csv_encoding_used(c) == CSV_ENC_BIG5);
		CHECK(csv_records(c) == 4);
		CHECK(rec_is(c, 0, 1, 3, "學號", "姓名", "班級"));
		CHECK(rec_is(c, 1, 2, 3, "S001", "王小明", "忠"));
		/* HKSCS characters: 堃 FB 69 and 峯 FB DF. */
		CHECK(rec_is(c, 2, 3, 3, "S002", "林堃", "忠"));
		CHECK(rec_is(c, 3, 4, 3, "S003", "王峯", "忠"));
		csv_free(c);
	}

	/* The raw Big5 bytes read as UTF-8 when forced: an encoding error
	 * at the first cell with non-ASCII bytes. */
	CHECK(ERR_IS(big5_file, CSV_ENC_UTF8, 100, "encoding", 1, 1));
	CHECK(ERR_IS("id,name\r\n1,ok\r\n2," B5_WANG "\r\n", CSV_ENC_UTF8,
	    100, "encoding", 3, 2));
}

static void
test_big5_with_utf8_cells(void)
{
	/* An export patched to write what Big5 lacks as UTF-8: whole cells
	 * of UTF-8 among Big5 ones. 張峯, 志峯 and 楊峯 in UTF-8 happen to
	 * be valid Big5-HKSCS bytes too, and must still come out right. */
	static const char mixed[] = B5_XUEHAO "," B5_XINGMING "\r\n"
					      "S001," U8_KUN "\r\n"
					      "S002," U8_FENG "\r\n"
					      "S003,林" U8_KUN "\r\n"
					      "S004,張" U8_FENG "\r\n"
					      "S005,志" U8_FENG "\r\n"
					      "S006,楊" U8_FENG "\r\n"
					      "S007," B5_WANG B5_XIAOMING "\r\n"
					      "S008," HK_KUN HK_FENG "\r\n";
	/* Big5 names whose bytes are also valid UTF-8 (羅 is "ù"). */
	static const char lookalike[] = B5_XINGMING "\r\n" B5_LUO
						    "\r\n" B5_JIANWEI
						    "\r\n" B5_WANG "\r\n";
	static const char *const names[] = {"堃", "峯", "林堃", "張峯", "志峯",
	    "楊峯", "王小明", "堃峯"};
	char number[8];
	struct csv *c;
	size_t i;
	int forced;

	for (forced = 0; forced < 2; forced++) {
		c = parse_s(mixed, forced ? CSV_ENC_BIG5 : CSV_ENC_AUTO);
		CHECK(c != NULL && csv_encoding_used(c) == CSV_ENC_BIG5);
		CHECK(csv_records(c) == 1 + ARRAY_SIZE(names));
		CHECK(rec_is(c, 0, 1, 2, "學號", "姓名"));
		for (i = 0; i < ARRAY_SIZE(names); i++) {
			(void)snprintf(number, sizeof(number), "S%03zu", i + 1);
			CHECK(rec_is(c, i + 1, i + 2, 2, number, names[i]));
		}
		csv_free(c);
	}

	c = parse_s(lookalike, CSV_ENC_BIG5);
	CHECK(rec_is(c, 0, 1, 1, "姓名") && rec_is(c, 1, 2, 1, "羅") &&
	    rec_is(c, 2, 3, 1, "簡瑋") && rec_is(c, 3, 4, 1, "王"));
	csv_free(c);

	/* A cell neither UTF-8 nor Big5: a lone lead byte, 0xff, a lead byte
	 * with a trail byte outside Big5. */
	CHECK(ERR_IS(B5_XINGMING ",x\r\n" B5_WANG ",\xa4\r\n", CSV_ENC_AUTO,
	    100, "encoding", 2, 2));
	CHECK(ERR_IS(B5_XINGMING ",x\r\n\r\n\"a\",\"\xff\"\r\n", CSV_ENC_BIG5,
	    100, "encoding", 3, 2));
	/* Forcing UTF-8 on the mixed file stops at its first Big5 cell. */
	CHECK(ERR_IS("h\r\nx,\xa1" "0\r\n", CSV_ENC_AUTO, 100, "encoding", 2,
	    2));
	CHECK(ERR_IS(mixed, CSV_ENC_UTF8, 100, "encoding", 1, 1));
	/* A UTF-8 file forced to Big5 keeps its UTF-8 cells. */
	{
		c = parse_s("學號,姓名\n1,林" U8_KUN "\n", CSV_ENC_BIG5);
		CHECK(rec_is(c, 1, 2, 2, "1", "林堃"));
		csv_free(c);
	}
}

static void
test_errors(void)
{
	struct buf b;
	size_t i;

	/* quote: unterminated (where it starts), inside an unquoted cell,
	 * and text after a closing quote. */
	CHECK(ERR_IS("a,b\r\nc,\"d\r\ne\r\n", CSV_ENC_AUTO, 100, "quote", 2,
	    2));
	CHECK(ERR_IS("a,b\r\nc,d\"e\r\n", CSV_ENC_AUTO, 100, "quote", 2, 2));
	CHECK(ERR_IS("a,b\r\n\r\n\"c\"x,d\r\n", CSV_ENC_AUTO, 100, "quote", 3,
	    1));
	CHECK(ERR_IS("a,\"b\" \"c\"\r\n", CSV_ENC_AUTO, 100, "quote", 1, 2));

	/* nul, in an unquoted and in a quoted cell, and after a quote. */
	CHECK(ERR_IS("a,b\nc,d\0e\n", CSV_ENC_AUTO, 100, "nul", 2, 2));
	CHECK(ERR_IS("a,b\n\"c\0\",d\n", CSV_ENC_AUTO, 100, "nul", 2, 1));
	CHECK(ERR_IS("a,b\n\"c\"\0,d\n", CSV_ENC_BIG5, 100, "nul", 2, 1));
	CHECK(ERR_IS("\0", CSV_ENC_UTF8, 100, "nul", 1, 1));

	/* empty: nothing, only a BOM, only blank lines. */
	CHECK(err_is("", 0, CSV_ENC_AUTO, 100, "empty", 0, 0));
	CHECK(ERR_IS("\xef\xbb\xbf", CSV_ENC_AUTO, 100, "empty", 0, 0));
	CHECK(ERR_IS("\r\n\n  \n,,\n", CSV_ENC_BIG5, 100, "empty", 0, 0));

	/* field_long: CSV_FIELD_MAX bytes pass, one more does not; a Big5
	 * cell is measured after decoding (1366 characters of 2 bytes
	 * become 4098 bytes of UTF-8). */
	buf_init(&b);
	buf_puts(&b, "h\r\n\"");
	for (i = 0; i < CSV_FIELD_MAX; i++)
		buf_putc(&b, 'x');
	buf_puts(&b, "\"\r\n");
	{
		struct csv *c = parse(b.data, b.len, CSV_ENC_AUTO, 10, NULL);

		CHECK(c != NULL && strlen(csv_cell(c, 1, 0)) == CSV_FIELD_MAX);
		csv_free(c);
	}
	buf_reset(&b);
	buf_puts(&b, "h\r\nok,");
	for (i = 0; i <= CSV_FIELD_MAX; i++)
		buf_putc(&b, 'x');
	CHECK(err_is(b.data, b.len, CSV_ENC_AUTO, 10, "field_long", 2, 2));
	buf_reset(&b);
	buf_puts(&b, B5_XINGMING "\r\n\r\n");
	for (i = 0; i < 1366; i++)
		buf_puts(&b, B5_WANG);
	CHECK(err_is(b.data, b.len, CSV_ENC_AUTO, 10, "field_long", 3, 1));

	/* fields_many: CSV_FIELDS_MAX cells pass; the next is column 65. */
	buf_reset(&b);
	for (i = 0; i < CSV_FIELDS_MAX; i++)
		buf_puts(&b, i ? ",c" : "c");
	buf_puts(&b, "\r\n");
	{
		struct csv *c = parse(b.data, b.len, CSV_ENC_AUTO, 10, NULL);

		CHECK(c != NULL && csv_cells(c, 0) == CSV_FIELDS_MAX);
		csv_free(c);
	}
	buf_puts(&b, "1\r\n");
	for (i = 0; i <= CSV_FIELDS_MAX; i++)
		buf_puts(&b, i ? ",d" : "d");
	CHECK(err_is(b.data, b.len, CSV_ENC_AUTO, 10, "fields_many", 3,
	    CSV_FIELDS_MAX + 1));
	buf_free(&b);

	/* rows_many: max_rows data records pass; the next one fails at its
	 * own row (blank lines counted), column 0. */
	{
		static const char rows[] = "h\n1\n2\n\n3\n";
		struct csv *c = parse(rows, strlen(rows), CSV_ENC_AUTO, 3, NULL);

		CHECK(c != NULL && csv_records(c) == 4);
		csv_free(c);
		CHECK(ERR_IS(rows, CSV_ENC_AUTO, 2, "rows_many", 5, 0));
		CHECK(ERR_IS(rows, CSV_ENC_AUTO, 0, "rows_many", 2, 0));
		c = parse("h\n\n", 3, CSV_ENC_AUTO, 0, NULL);
		CHECK(c != NULL && csv_records(c) == 1);
		csv_free(c);
	}

	/* The first problem in the file wins. */
	CHECK(ERR_IS("a\n\"b\nc\0", CSV_ENC_AUTO, 100, "nul", 2, 1));
}

static void
test_speed(void)
{
	struct buf b;
	struct csv *c;
	int64_t t0, t1;
	size_t i;
	int big5;

	/* 10,000 rows in UTF-8 and in Big5 (a converter for every cell):
	 * milliseconds, not seconds. The bound is loose for ASan builds. */
	for (big5 = 0; big5 < 2; big5++) {
		buf_init(&b);
		buf_puts(&b, "學號,姓名,班級,座號,備註\r\n");
		for (i = 0; i < 10000; i++)
			buf_printf(&b, "S%05zu,%s,%s,%zu,\"a, \"\"b\"\"\"\r\n", i,
			    big5 ? B5_WANG B5_XIAOMING : "王小明",
			    big5 ? B5_ZHONG : "忠", i % 50);
		t0 = now_us();
		c = parse(b.data, b.len, CSV_ENC_AUTO, 10000, NULL);
		t1 = now_us();
		CHECK(c != NULL && csv_records(c) == 10001);
		CHECK(rec_is(c, 10000, 10001, 5, "S09999", "王小明", "忠", "49",
		    "a, \"b\""));
		CHECK_MSG(t1 - t0 < 500000, "%lld us", (long long)(t1 - t0));
		printf("10,000 %s rows parsed in %lld us\n",
		    big5 ? "Big5" : "UTF-8", (long long)(t1 - t0));
		csv_free(c);
		buf_free(&b);
	}
}

static void
test_writer(void)
{
	static const char *const guarded[] = {
	    "=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"};
	static const char *const want[] = {"'=1+2,", "'+1,", "'-1,",
	    "'@SUM(A1),", "'\tx,", "\"'\rx\","};
	struct buf b;
	struct csv *c;
	size_t i;

	buf_init(&b);
	csv_put_bom(&b);
	CHECK(b.len == 3 && memcmp(b.data, "\xef\xbb\xbf", 3) == 0);

	buf_reset(&b);
	csv_put_cell(&b, "plain", 0);
	csv_put_cell(&b, "a,b", 0);
	csv_put_cell(&b, "say \"hi\"", 0);
	csv_put_cell(&b, "two\nlines", 0);
	csv_put_cell(&b, "", 0);
	csv_put_cell(&b, NULL, 0);
	csv_put_cell(&b, "王小明", 1);
	CHECK(strcmp(b.data, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\""
			     ",,,王小明\r\n") == 0);

	for (i = 0; i < ARRAY_SIZE(guarded); i++) {
		buf_reset(&b);
		csv_put_cell(&b, guarded[i], 0);
		CHECK_MSG(strcmp(b.data, want[i]) == 0, "%s", b.data);
	}
	/* Quoted and guarded: the ' goes inside the quotes. */
	buf_reset(&b);
	csv_put_cell(&b, "=HYPERLINK(\"x\",\"y\")", 1);
	CHECK(strcmp(b.data, "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"\r\n") == 0);
	/* Spaces at either end are kept by quoting. */
	buf_reset(&b);
	csv_put_cell(&b, " a", 0);
	csv_put_cell(&b, "b ", 0);
	csv_put_cell(&b, "c d", 1);
	CHECK(strcmp(b.data, "\" a\",\"b \",c d\r\n") == 0);
	/* Not at the start: no guard. */
	buf_reset(&b);
	csv_put_cell(&b, "a=b", 1);
	CHECK(strcmp(b.data, "a=b\r\n") == 0);

	/* What the writer writes, the reader reads back. */
	buf_reset(&b);
	csv_put_bom(&b);
	csv_put_cell(&b, "列", 0);
	csv_put_cell(&b, " 內,容 \"x\"\r\n二 ", 1);
	csv_put_cell(&b, "=1", 0);
	csv_put_cell(&b, "", 1);
	c = parse(b.data, b.len, CSV_ENC_AUTO, 10, NULL);
	CHECK(rec_is(c, 0, 1, 2, "列", " 內,容 \"x\"\r\n二 "));
	CHECK(rec_is(c, 1, 2, 2, "'=1", ""));
	csv_free(c);
	buf_free(&b);
}

static void
test_names(void)
{
	CHECK(strcmp(csv_encoding_name(CSV_ENC_UTF8), "utf-8") == 0);
	CHECK(strcmp(csv_encoding_name(CSV_ENC_BIG5), "big5") == 0);
	CHECK(strcmp(csv_encoding_name(CSV_ENC_AUTO), "auto") == 0);
	CHECK(csv_encoding_parse("utf-8") == CSV_ENC_UTF8);
	CHECK(csv_encoding_parse("UTF8") == CSV_ENC_UTF8);
	CHECK(csv_encoding_parse("Big5") == CSV_ENC_BIG5);
	CHECK(csv_encoding_parse("auto") == CSV_ENC_AUTO);
	CHECK(csv_encoding_parse("latin1") == -1);
	CHECK(csv_encoding_parse("") == -1 && csv_encoding_parse(NULL) == -1);
}

int
main(void)
{
	test_bom_and_basics();
	test_quotes();
	test_rows();
	test_big5();
	test_big5_with_utf8_cells();
	test_errors();
	test_speed();
	test_writer();
	test_names();
	return harness_done();
}
