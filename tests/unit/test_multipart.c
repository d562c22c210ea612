/*
 * test_multipart: fcgi/multipart.c — the boundary from Content-Type,
 * curl- and Chromium-style bodies, preamble, padding and epilogue, UTF-8,
 * filename*, file names kept as data (paths kept, control characters and
 * broken UTF-8 replaced, long names cut keeping the extension), every
 * error and that errors stick, the same bodies fed split at every position and in random pieces, a 20 MiB
 * file through a counting callback (no content held back beyond the
 * delimiter), mp_read_request over an in-memory FastCGI stream, and the
 * error messages in both catalogues. Needs no servers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "../../fcgi/i18n.h"
#include "../../fcgi/multipart.h"

/* What the callbacks saw: every finished part as one line of text. */
struct seen {
	struct buf parts; /* name|filename|is_file|type|size|content\n */
	struct buf cur; /* the content of the open part */
	int open;
	int broken; /* a callback came out of order or sizes disagreed */
	int fail_in; /* 1 begin, 2 data, 3 end: that callback returns -1 */
	size_t data_calls;
};

static int
seen_begin(void *user, const struct mp_part *p)
{
	struct seen *s = user;

	if (s->open || p->size != 0)
		s->broken = 1;
	s->open = 1;
	buf_reset(&s->cur);
	return s->fail_in == 1 ? -1 : 0;
}

static int
seen_data(void *user, const struct mp_part *p, const char *data, size_t n)
{
	struct seen *s = user;

	if (!s->open || n == 0 || p->size != s->cur.len + n)
		s->broken = 1;
	buf_append(&s->cur, data, n);
	s->data_calls++;
	return s->fail_in == 2 ? -1 : 0;
}

static int
seen_end(void *user, const struct mp_part *p)
{
	struct seen *s = user;

	if (!s->open || p->size != s->cur.len)
		s->broken = 1;
	s->open = 0;
	buf_printf(&s->parts, "%s|%s|%d|%s|%zu|", p->name, p->filename,
	    p->is_file, p->content_type, p->size);
	buf_append(&s->parts, s->cur.data ? s->cur.data : "", s->cur.len);
	buf_putc(&s->parts, '\n');
	return s->fail_in == 3 ? -1 : 0;
}

static const struct mp_callbacks seen_cb = {seen_begin, seen_data, seen_end};

static const struct mp_limits lim_default = {
    .max_parts = 10,
    .max_header_bytes = 1024,
    .max_field_bytes = 200,
    .max_file_bytes = 4096,
};

static void
seen_init(struct seen *s)
{
	memset(s, 0, sizeof(*s));
	buf_init(&s->parts);
	buf_init(&s->cur);
}

static void
seen_free(struct seen *s)
{
	buf_free(&s->parts);
	buf_free(&s->cur);
}

/* Feeds n bytes as an exact-size copy, so ASan sees reads past them. */
static enum mp_error
feed_copy(struct mp *m, const char *p, size_t n)
{
	char *copy = xmalloc(n ? n : 1);
	enum mp_error e;

	memcpy(copy, p, n);
	e = mp_feed(m, copy, n);
	free(copy);
	return e;
}

/*
 * Parses body (len bytes) of Content-Type ct with limits lim, cut at the
 * `ncuts` positions in cuts (ascending), into s; the result of mp_finish
 * (or MP_E_CONTENT_TYPE from mp_new).
 */
static enum mp_error
run_cuts(const char *ct, const char *body, size_t len,
    const struct mp_limits *lim, const size_t *cuts, size_t ncuts,
    struct seen *s)
{
	enum mp_error e, first = MP_OK;
	struct mp *m = mp_new(ct, lim, &seen_cb, s, &e);
	size_t at = 0, k, end;

	if (m == NULL)
		return e;
	for (k = 0; k <= ncuts; k++) {
		end = k < ncuts ? cuts[k] : len;
		e = feed_copy(m, body + at, end - at);
		if (first == MP_OK)
			first = e;
		else if (e != first)
			s->broken = 1; /* errors are sticky */
		at = end;
	}
	e = mp_finish(m);
	if (first != MP_OK && e != first)
		s->broken = 1;
	if (mp_feed(m, "x", 1) != e && e != MP_OK)
		s->broken = 1;
	mp_free(m);
	return e;
}

static enum mp_error
run(const char *ct, const char *body, size_t len, struct seen *s)
{
	return run_cuts(ct, body, len, &lim_default, NULL, 0, s);
}

/* Parses body whole and expects result e and, when want is not NULL,
 * exactly those parts. */
static int
parses_to(const char *ct, const char *body, const struct mp_limits *lim,
    enum mp_error want_e, const char *want)
{
	struct seen s;
	enum mp_error e;
	int ok;

	seen_init(&s);
	e = run_cuts(ct, body, strlen(body), lim ? lim : &lim_default, NULL, 0,
	    &s);
	ok = e == want_e && !s.broken &&
	    (want == NULL ||
		strcmp(s.parts.data ? s.parts.data : "", want) == 0);
	if (!ok)
		fprintf(stderr, "  got %s (%s), parts:\n%s\n", mp_error_name(e),
		    s.broken ? "broken" : "in order",
		    s.parts.data ? s.parts.data : "");
	seen_free(&s);
	return ok;
}

#define CURL_CT "multipart/form-data; boundary=------------------------d74496d66958873e"
#define CURL_B "--------------------------d74496d66958873e"

static const char curl_body[] =
    CURL_B "\r\n"
    "Content-Disposition: form-data; name=\"csrf\"\r\n"
    "\r\n"
    "tok123\r\n" CURL_B "\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"students.csv\"\r\n"
    "Content-Type: text/csv\r\n"
    "\r\n"
    "學號,姓名\r\nS001,王小明\r\n\r\n" CURL_B "--\r\n";

static const char curl_want[] = "csrf||0||6|tok123\n"
				"file|students.csv|1|text/csv|31|"
				"學號,姓名\r\nS001,王小明\r\n\n";

#define CHROME_CT "multipart/form-data; boundary=----WebKitFormBoundaryAbCdEf0123456789"
#define CHROME_B "------WebKitFormBoundaryAbCdEf0123456789"
/* The delimiter but its last byte; and content (93 bytes) that holds it,
 * the delimiter with a dash too many, and a CR before a CRLF. */
#define CHROME_NEAR "------WebKitFormBoundaryAbCdEf012345678"
#define CHROME_FILE "a\r\n--\r\r\n" CHROME_NEAR "\r\n-" CHROME_B "8\r\n"

/* Chromium: raw UTF-8 file names with '"' as %22, an empty file input,
 * and content full of near-delimiters. */
static const char chrome_body[] =
    CHROME_B "\r\n"
    "Content-Disposition: form-data; name=\"csrf\"\r\n"
    "\r\n"
    "abc\r\n" CHROME_B "\r\n"
    "Content-Disposition: form-data; name=\"kind\"\r\n"
    "\r\n"
    "students\r\n" CHROME_B "\r\n"
    "Content-Disposition: form-data; name=\"file\"; "
    "filename=\"學生名單 %22114%22.csv\"\r\n"
    "Content-Type: text/csv\r\n"
    "\r\n"
    CHROME_FILE "\r\n" CHROME_B "\r\n"
    "Content-Disposition: form-data; name=\"extra\"; filename=\"\"\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n"
    "\r\n" CHROME_B "--\r\n";

static const char chrome_want[] =
    "csrf||0||3|abc\n"
    "kind||0||8|students\n"
    "file|學生名單 %22114%22.csv|1|text/csv|93|" CHROME_FILE "\n"
    "extra||1|application/octet-stream|0|\n";

/* Preamble, a quoted boundary with a space, padding, an epilogue that
 * looks like more parts; header names and values in any case. */
static const char rfc_ct[] =
    "Multipart/Form-Data; charset=UTF-8; BOUNDARY=\"simple boundary\"";
static const char rfc_body[] =
    "This is the preamble.\r\n"
    "--simple boundary \t \r\n"
    "content-disposition: FORM-DATA; NAME=a\r\n"
    "X-Other: ignored\r\n"
    "\r\n"
    "x\r\n--simple boundary\t\r\n"
    "CONTENT-DISPOSITION:form-data;name=\"b\" ; Filename=\"c.txt\"  \r\n"
    "Content-type:   Text/Plain; Charset=UTF-8  \r\n"
    "\r\n"
    "\r\n--simple boundary--  \r\n"
    "This is the epilogue.\r\n--simple boundary\r\nnot a part\r\n";

static void
test_well_formed(void)
{
	CHECK(parses_to(CURL_CT, curl_body, NULL, MP_OK, curl_want));
	CHECK(parses_to(CHROME_CT, chrome_body, NULL, MP_OK, chrome_want));
	CHECK(parses_to(rfc_ct, rfc_body, NULL, MP_OK,
	    "a||0||1|x\n"
	    "b|c.txt|1|Text/Plain; Charset=UTF-8|0|\n"));
	/* The first delimiter at the very start, and a body ending right
	 * after the close delimiter. */
	CHECK(parses_to(rfc_ct, strstr(rfc_body, "--simple boundary \t"), NULL,
	    MP_OK,
	    "a||0||1|x\n"
	    "b|c.txt|1|Text/Plain; Charset=UTF-8|0|\n"));
	CHECK(parses_to(rfc_ct, "--simple boundary\r\n"
				"content-disposition: form-data; name=a\r\n\r\n"
				"x\r\n--simple boundary--",
	    NULL, MP_OK, "a||0||1|x\n"));

	/* A body with no parts at all. */
	CHECK(parses_to("multipart/form-data; boundary=b", "--b--\r\n", NULL,
	    MP_OK, ""));
	/* Token boundaries with RFC 2046 characters. */
	CHECK(parses_to("multipart/form-data;boundary=\"a'()+_,-./:=?z\"",
	    "--a'()+_,-./:=?z\r\nContent-Disposition: form-data; "
	    "name=n\r\n\r\nv\r\n--a'()+_,-./:=?z--",
	    NULL, MP_OK, "n||0||1|v\n"));
}

static void
test_names(void)
{
	static const char ct[] = "multipart/form-data; boundary=XyZ";
	struct {
		const char *disp;
		enum mp_error e;
		const char *filename;
	} cases[] = {
	    /* RFC 5987 wins over filename, before or after it. */
	    {"name=\"f\"; filename=\"fallback.csv\"; "
	     "filename*=UTF-8''%E7%8E%8B%E5%B0%8F%E6%98%8E.csv",
		MP_OK, "王小明.csv"},
	    {"name=\"f\"; filename*=utf-8'zh-TW'%E5%90%8D%E5%96%AE.csv; "
	     "filename=\"x.csv\"",
		MP_OK, "名單.csv"},
	    {"name=\"f\"; filename*=UTF-8''", MP_OK, ""},
	    /* A name is data, kept whole: paths, dots and all. */
	    {"name=\"f\"; filename=\"C:\\Users\\王\\Desktop\\名單.csv\"", MP_OK,
		"C:\\Users\\王\\Desktop\\名單.csv"},
	    {"name=\"f\"; filename=\"/etc/passwd\"", MP_OK, "/etc/passwd"},
	    {"name=\"f\"; filename=\"..\\..\\x.csv\"", MP_OK, "..\\..\\x.csv"},
	    {"name=\"f\"; filename*=UTF-8''..%2F..%2Fy.csv", MP_OK,
		"../../y.csv"},
	    {"name=\"f\"; filename=\"..\"", MP_OK, ".."},
	    {"name=\"f\"; filename=\"x/.\"", MP_OK, "x/."},
	    {"name=\"f\"; filename=\"C:\\dir\\\"", MP_E_SYNTAX, NULL},
	    /* curl's escapes. */
	    {"name=\"f\"; filename=\"a\\\"b.csv\"", MP_OK, "a\"b.csv"},
	    {"name=\"f\"; filename=\"a\\\\\\\\b.csv\"", MP_OK, "a\\\\b.csv"},
	    {"name=\"f\"; filename=plain.csv", MP_OK, "plain.csv"},
	    /* Control characters and bytes that are not UTF-8 become U+FFFD
	     * (one per byte of a broken sequence); bidi controls stay. */
	    {"name=\"f\"; filename=\"a\tb.csv\"", MP_OK, "a\xef\xbf\xbd" "b.csv"},
	    {"name=\"f\"; filename=\"a\xff.csv\"", MP_OK, "a\xef\xbf\xbd.csv"},
	    {"name=\"f\"; filename=\"a\xe2\x80\xae"
	     "vsc.exe\"",
		MP_OK, "a\xe2\x80\xaevsc.exe"},
	    {"name=\"f\"; filename*=UTF-8''%FF.csv", MP_OK,
		"\xef\xbf\xbd.csv"},
	    {"name=\"f\"; filename*=UTF-8''a%00.csv", MP_OK,
		"a\xef\xbf\xbd.csv"},
	    {"name=\"f\"; filename*=UTF-8''a%0A%7F%C2%85.csv", MP_OK,
		"a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd.csv"},
	    /* Overlong, surrogate, past U+10FFFF, cut short. */
	    {"name=\"f\"; filename*=UTF-8''%C0%AF%ED%A0%80.x", MP_OK,
		"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd.x"},
	    {"name=\"f\"; filename*=UTF-8''%F4%90%80%80", MP_OK,
		"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
	    {"name=\"f\"; filename*=UTF-8''%E7%8E.%F0%9F%98%80", MP_OK,
		"\xef\xbf\xbd\xef\xbf\xbd.\xf0\x9f\x98\x80"},
	    {"name=\"f\"; filename*=UTF-8''%EF%BF%BD", MP_OK, "\xef\xbf\xbd"},
	    /* Refused: a filename* that is not a UTF-8 ext-value, no name. */
	    {"name=\"f\"; filename*=ISO-8859-1''%E9.csv", MP_E_NAME, NULL},
	    {"name=\"f\"; filename*=UTF-8''%G1.csv", MP_E_NAME, NULL},
	    {"name=\"f\"; filename*=UTF-8''a%4", MP_E_NAME, NULL},
	    {"name=\"f\"; filename*=UTF-8", MP_E_NAME, NULL},
	    {"filename=\"a.csv\"", MP_E_NAME, NULL},
	    {"name=\"\"", MP_E_NAME, NULL},
	    {"name=\"a\xc0\xaf\"", MP_E_NAME, NULL},
	    {"name=\"12345678901234567890123456789012345678901234567890"
	     "12345678901234\"",
		MP_OK, NULL},
	    {"name=\"12345678901234567890123456789012345678901234567890"
	     "123456789012345\"",
		MP_E_NAME, NULL},
	};
	struct buf body, name;
	size_t i;

	buf_init(&body);
	buf_init(&name);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct seen s;
		enum mp_error e;

		buf_reset(&body);
		buf_printf(&body,
		    "--XyZ\r\nContent-Disposition: form-data; %s\r\n\r\n"
		    "1\r\n--XyZ--\r\n",
		    cases[i].disp);
		seen_init(&s);
		e = run(ct, body.data, body.len, &s);
		CHECK_MSG(e == cases[i].e && !s.broken, "case %zu: %s", i,
		    mp_error_name(e));
		if (e == MP_OK && cases[i].filename != NULL) {
			buf_reset(&name);
			buf_printf(&name, "|%s|1|", cases[i].filename);
			CHECK_MSG(s.parts.data != NULL &&
				strstr(s.parts.data, name.data) != NULL,
			    "case %zu: %s", i, s.parts.data);
		}
		seen_free(&s);
	}
	/* Long names are cut to 255 characters at a character boundary,
	 * keeping the extension when there is a short one. */
	{
		static const struct {
			const char *unit; /* repeated */
			size_t times;
			const char *ext;
			size_t want_units; /* of unit, then ext */
		} longs[] = {
		    {"n", 255, "", 255},
		    {"n", 251, ".pdf", 251},
		    {"n", 296, ".pdf", 251},
		    {"名", 296, ".pdf", 251},
		    {"n", 300, "", 255},
		    {"😀", 230, ".mp4", 230},
		    /* An "extension" of 20 characters is not one. */
		    {"n", 290, ".abcdefghijklmnopqrs", 255},
		    /* Nor is a dot before a slash. */
		    {"n.", 150, "/x", 255},
		};
		struct buf want;

		buf_init(&want);
		for (i = 0; i < ARRAY_SIZE(longs); i++) {
			struct seen s;
			size_t k, units = longs[i].want_units;
			int cut_ext = strlen(longs[i].ext) > 16 ||
			    strchr(longs[i].ext, '/') != NULL;

			buf_reset(&body);
			buf_puts(&body, "--XyZ\r\nContent-Disposition: "
					"form-data; name=f; filename=\"");
			for (k = 0; k < longs[i].times; k++)
				buf_puts(&body, longs[i].unit);
			buf_puts(&body, longs[i].ext);
			buf_puts(&body, "\"\r\n\r\n\r\n--XyZ--");
			buf_reset(&want);
			buf_putc(&want, '|');
			if (cut_ext) {
				/* The first 255 characters. */
				buf_reset(&name);
				for (k = 0; k < longs[i].times; k++)
					buf_puts(&name, longs[i].unit);
				buf_puts(&name, longs[i].ext);
				buf_append(&want, name.data, 255); /* ASCII */
			} else {
				for (k = 0; k < units; k++)
					buf_puts(&want, longs[i].unit);
				buf_puts(&want, longs[i].ext);
			}
			buf_puts(&want, "|1|");
			seen_init(&s);
			CHECK_MSG(run(ct, body.data, body.len, &s) == MP_OK &&
				s.parts.data != NULL &&
				strstr(s.parts.data, want.data) != NULL,
			    "long name %zu: %.80s", i,
			    s.parts.data != NULL ? s.parts.data : "");
			seen_free(&s);
		}
		buf_free(&want);
	}
	buf_free(&name);
	buf_free(&body);
}

static void
test_content_types(void)
{
	static const struct mp_callbacks none = {NULL, NULL, NULL};
	static const struct {
		const char *ct;
		int ok;
	} cases[] = {
	    {"multipart/form-data; boundary=abc", 1},
	    {"MULTIPART/FORM-DATA;BOUNDARY=abc", 1},
	    {"  multipart/form-data ; charset=utf-8 ; boundary = \"a b\" ", 1},
	    {"multipart/form-data; boundary=\"a\\\"b\"", 0},
	    {"multipart/form-data; boundary=", 0},
	    {"multipart/form-data; boundary=\"\"", 0},
	    {"multipart/form-data; boundary=\"ab \"", 0},
	    {"multipart/form-data; boundary=\"unclosed", 0},
	    {"multipart/form-data; boundary=a; boundary=b", 0},
	    {"multipart/form-data; boundary=a;", 1},
	    {"multipart/form-data; boundary=a x", 0},
	    {"multipart/form-data; boundary=a{", 0},
	    {"multipart/form-data; boundary=a=b", 0},
	    {"multipart/form-data; boundary=\"a=b\"", 1},
	    {"multipart/form-data", 0},
	    {"multipart/form-data;", 0},
	    {"multipart/form-datax; boundary=a", 0},
	    {"multipart/mixed; boundary=a", 0},
	    {"application/x-www-form-urlencoded", 0},
	    {"text/plain; boundary=a", 0},
	    {"", 0},
	    {NULL, 0},
	};
	char ct[200];
	enum mp_error e;
	struct mp *m;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		e = MP_E__MAX;
		m = mp_new(cases[i].ct, &lim_default, &none, NULL, &e);
		CHECK_MSG((m != NULL) == cases[i].ok &&
			e == (cases[i].ok ? MP_OK : MP_E_CONTENT_TYPE),
		    "%s", cases[i].ct ? cases[i].ct : "(null)");
		mp_free(m);
	}
	/* 70 characters pass, 71 do not. */
	memcpy(ct, "multipart/form-data; boundary=", 30);
	memset(ct + 30, 'b', 71);
	ct[30 + 70] = '\0';
	m = mp_new(ct, &lim_default, &none, NULL, &e);
	CHECK(m != NULL && e == MP_OK);
	mp_free(m);
	ct[30 + 70] = 'b';
	ct[30 + 71] = '\0';
	m = mp_new(ct, &lim_default, &none, NULL, &e);
	CHECK(m == NULL && e == MP_E_CONTENT_TYPE);
	/* Callbacks may be NULL: the body is still checked. */
	m = mp_new("multipart/form-data; boundary=q", &lim_default, NULL, NULL,
	    NULL);
	CHECK(m != NULL);
	{
		static const char b[] = "--q\r\nContent-Disposition: form-data; "
					"name=a\r\n\r\n1\r\n--q--";

		CHECK(mp_feed(m, b, strlen(b)) == MP_OK);
	}
	CHECK(mp_finish(m) == MP_OK);
	mp_free(m);
	mp_free(NULL);
}

static void
test_errors(void)
{
	static const char ct[] = "multipart/form-data; boundary=b";
	struct mp_limits lim = lim_default;
	struct buf body;
	size_t i;

	/* syntax */
	CHECK(parses_to(ct, "--bX\r\n", NULL, MP_E_SYNTAX, ""));
	CHECK(parses_to(ct, "--b-x", NULL, MP_E_SYNTAX, ""));
	CHECK(parses_to(ct, "--b\rx", NULL, MP_E_SYNTAX, ""));
	CHECK(parses_to(ct, "--b \n", NULL, MP_E_SYNTAX, ""));
	CHECK(parses_to(ct,
	    "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--bb",
	    NULL, MP_E_SYNTAX, "a||0||1|1\n"));
	CHECK(parses_to(ct, "--b\r\nno colon\r\n\r\n", NULL, MP_E_SYNTAX, ""));
	CHECK(parses_to(ct, "--b\r\n: empty name\r\n\r\n", NULL, MP_E_SYNTAX,
	    ""));
	CHECK(parses_to(ct, "--b\r\nBad Name: x\r\n\r\n", NULL, MP_E_SYNTAX,
	    ""));
	CHECK(parses_to(ct,
	    "--b\r\nContent-Disposition: form-data; name=a\n\r\n", NULL,
	    MP_E_SYNTAX, ""));
	CHECK(parses_to(ct,
	    "--b\r\nContent-Disposition: form-data; name=a\r\r\n", NULL,
	    MP_E_SYNTAX, ""));
	CHECK(parses_to(ct,
	    "--b\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\n", NULL,
	    MP_E_SYNTAX, ""));
	CHECK(parses_to(ct, "--b\r\nX: a\x01z\r\n\r\n", NULL, MP_E_SYNTAX, ""));
	CHECK(parses_to(ct, "--b\r\nContent-Disposition: form-data; name\r\n",
	    NULL, MP_E_SYNTAX, ""));
	CHECK(parses_to(ct,
	    "--b\r\nContent-Disposition: form-data; name=a; name=b\r\n", NULL,
	    MP_E_SYNTAX, ""));
	CHECK(parses_to(ct,
	    "--b\r\nContent-Disposition: form-data; name=\"a\r\n", NULL,
	    MP_E_SYNTAX, ""));
	CHECK(parses_to(ct,
	    "--b\r\nContent-Disposition: form-data; name=\"a\" x\r\n", NULL,
	    MP_E_SYNTAX, ""));
	CHECK(parses_to(ct,
	    "--b\r\nContent-Disposition: form-data; name=a\r\n"
	    "Content-Disposition: form-data; name=b\r\n\r\n",
	    NULL, MP_E_SYNTAX, ""));
	CHECK(parses_to(ct,
	    "--b\r\nContent-Disposition: form-data; name=a\r\n"
	    "Content-Type: text/csv\r\nContent-Type: text/csv\r\n\r\n",
	    NULL, MP_E_SYNTAX, ""));
	CHECK(parses_to(ct,
	    "--b\r\nContent-Disposition: form-data; name=a\r\n"
	    "Content-Type: text/\xe7\x8e\x8b\r\n\r\n",
	    NULL, MP_E_SYNTAX, ""));

	/* name: no Content-Disposition, or not form-data */
	CHECK(parses_to(ct, "--b\r\nContent-Type: text/plain\r\n\r\nx", NULL,
	    MP_E_NAME, ""));
	CHECK(parses_to(ct,
	    "--b\r\nContent-Disposition: attachment; name=a\r\n\r\nx", NULL,
	    MP_E_NAME, ""));
	CHECK(parses_to(ct, "--b\r\nContent-Disposition: \r\n\r\nx", NULL,
	    MP_E_NAME, ""));

	/* truncated: nothing, no delimiter, in the headers, in a part, on
	 * a delimiter line, between "-" and "-" */
	CHECK(parses_to(ct, "", NULL, MP_E_TRUNCATED, ""));
	CHECK(parses_to(ct, "just text\r\n", NULL, MP_E_TRUNCATED, ""));
	CHECK(parses_to(ct, "--b\r\nContent-Disp", NULL, MP_E_TRUNCATED, ""));
	CHECK(parses_to(ct,
	    "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nabc\r\n--",
	    NULL, MP_E_TRUNCATED, ""));
	CHECK(parses_to(ct,
	    "--b\r\nContent-Disposition: form-data; name=a\r\n\r\nabc\r\n--b",
	    NULL, MP_E_TRUNCATED, "a||0||3|abc\n"));
	CHECK(parses_to(ct, "--b-", NULL, MP_E_TRUNCATED, ""));

	/* parts: max_parts pass, one more does not */
	lim.max_parts = 2;
	buf_init(&body);
	for (i = 0; i < 3; i++)
		buf_printf(&body,
		    "--b\r\nContent-Disposition: form-data; name=p%zu\r\n\r\n"
		    "%zu\r\n",
		    i, i);
	buf_puts(&body, "--b--\r\n");
	CHECK(parses_to(ct, body.data, &lim, MP_E_PARTS, "p0||0||1|0\np1||0||1|1\n"));
	lim.max_parts = 3;
	CHECK(parses_to(ct, body.data, &lim, MP_OK, NULL));
	lim = lim_default;

	/* header: max_header_bytes counts the whole block with its CRLFs */
	buf_reset(&body);
	buf_puts(&body, "--b\r\nContent-Disposition: form-data; name=a\r\n"
			"X-Pad: ");
	while (body.len < 5 + 1000 - 4)
		buf_putc(&body, 'p');
	buf_puts(&body, "\r\n\r\nv\r\n--b--");
	lim.max_header_bytes = 1000;
	CHECK(parses_to(ct, body.data, &lim, MP_OK, "a||0||1|v\n"));
	lim.max_header_bytes = 999;
	CHECK(parses_to(ct, body.data, &lim, MP_E_HEADER, ""));
	lim = lim_default;

	/* field and file: the limit passes, one byte more does not, and the
	 * callback never gets more than the limit */
	for (i = 0; i < 4; i++) {
		int file = i >= 2, over = i % 2;
		size_t max = file ? 300 : 100, n = max + (size_t)over, k;
		struct seen s;
		enum mp_error e;

		buf_reset(&body);
		buf_printf(&body,
		    "--b\r\nContent-Disposition: form-data; name=x%s\r\n\r\n",
		    file ? "; filename=f.csv" : "");
		for (k = 0; k < n; k++)
			buf_putc(&body, (char)('a' + k % 26));
		buf_puts(&body, "\r\n--b--\r\n");
		lim.max_field_bytes = 100;
		lim.max_file_bytes = 300;
		seen_init(&s);
		e = run_cuts(ct, body.data, body.len, &lim, NULL, 0, &s);
		CHECK_MSG(e == (!over ? MP_OK
				      : file ? MP_E_FILE : MP_E_FIELD),
		    "%zu: %s", i, mp_error_name(e));
		CHECK(s.cur.len <= max && !s.broken);
		seen_free(&s);
	}
	lim = lim_default;

	/* callback: each of the three */
	for (i = 1; i <= 3; i++) {
		struct seen s;

		seen_init(&s);
		s.fail_in = (int)i;
		CHECK(run(CURL_CT, curl_body, strlen(curl_body), &s) ==
		    MP_E_CALLBACK);
		seen_free(&s);
	}
	buf_free(&body);

	CHECK(strcmp(mp_error_name(MP_OK), "ok") == 0);
	CHECK(strcmp(mp_error_name(MP_E_CONTENT_TYPE), "content_type") == 0);
	CHECK(strcmp(mp_error_name(MP_E_CALLBACK), "callback") == 0);
	for (i = 0; i < MP_E__MAX; i++)
		CHECK(mp_error_name((enum mp_error)i)[0] != '\0');
}

/* 1 when body cut at the n positions in cuts gives exactly want. */
static int
split_ok(const char *ct, const char *body, size_t len, const size_t *cuts,
    size_t n, const char *want)
{
	struct seen s;
	int ok;

	seen_init(&s);
	ok = run_cuts(ct, body, len, &lim_default, cuts, n, &s) == MP_OK &&
	    !s.broken && strcmp(s.parts.data, want) == 0;
	seen_free(&s);
	return ok;
}

/* Every chunk size from 1 up, every two-piece split and random pieces of
 * the body all give the parts of a single feed. */
static void
test_splits(const char *ct, const char *body, const char *want)
{
	size_t len = strlen(body), *cuts = xcalloc(len + 1, sizeof(*cuts));
	size_t size, k, n, trial, bad = 0;
	unsigned int seed = 12345;

	for (size = 1; size <= len; size++) {
		for (n = 0, k = size; k < len; k += size)
			cuts[n++] = k;
		bad += !split_ok(ct, body, len, cuts, n, want);
	}
	CHECK_MSG(bad == 0, "%zu chunk sizes differ", bad);
	for (k = 0, bad = 0; k <= len; k++) {
		cuts[0] = k;
		bad += !split_ok(ct, body, len, cuts, 1, want);
	}
	CHECK_MSG(bad == 0, "%zu split points differ", bad);
	for (trial = 0, bad = 0; trial < 500; trial++) {
		for (n = 0, k = 0;;) {
			seed = seed * 1103515245u + 12345u;
			k += 1 + (seed >> 16) % 24;
			if (k >= len)
				break;
			cuts[n++] = k;
		}
		bad += !split_ok(ct, body, len, cuts, n, want);
	}
	CHECK_MSG(bad == 0, "%zu random splits differ", bad);
	free(cuts);
}

/* The 20 MiB file: its bytes are a function of their offset; each 8 KiB
 * block opens with the delimiter but its last byte (23 bytes), then an X;
 * the rest holds LFs and dashes but no CR, so what may be held back at any
 * offset is known exactly. */
#define BIG_SIZE (20u * 1024 * 1024)
#define BIG_B "8a0d4f1e9c2b7a6d5e3f"
#define BIG_NEAR (sizeof("\r\n--" BIG_B) - 2)

static char
big_byte(size_t off)
{
	static const char near[] = "\r\n--" BIG_B;
	size_t k = off % 8192;
	char c;

	if (k < BIG_NEAR)
		return near[k];
	if (k == BIG_NEAR)
		return 'X';
	c = (char)((off * 2654435761u) >> 13);
	return c == '\r' ? '-' : c;
}

struct counter {
	size_t bytes, calls, largest, mismatches;
};

static int
count_data(void *user, const struct mp_part *p, const char *data, size_t n)
{
	struct counter *c = user;
	size_t i;

	(void)p;
	for (i = 0; i < n; i++)
		if (data[i] != big_byte(c->bytes + i))
			c->mismatches++;
	c->bytes += n;
	c->calls++;
	if (n > c->largest)
		c->largest = n;
	return 0;
}

static const char big_head[] = "--" BIG_B "\r\n"
			       "Content-Disposition: form-data; "
			       "name=\"file\"; filename=\"big.bin\"\r\n\r\n";
static const char big_tail[] = "\r\n--" BIG_B "--\r\n";

/* Feeds the file's bytes [from, to) through chunk. */
static enum mp_error
big_feed(struct mp *m, char *chunk, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++)
		chunk[i - from] = big_byte(i);
	return mp_feed(m, chunk, to - from);
}

static void
test_big_file(void)
{
	const struct mp_callbacks cb = {NULL, count_data, NULL};
	struct mp_limits lim = lim_default;
	struct counter c = {0, 0, 0, 0};
	size_t fed = 0, to, j, held, want, wrong = 0, most = 0;
	char *chunk = xmalloc(65536 + 24);
	enum mp_error e = MP_OK;
	struct mp *m;

	lim.max_file_bytes = BIG_SIZE;
	m = mp_new("multipart/form-data; boundary=" BIG_B, &lim, &cb, &c, NULL);
	CHECK(m != NULL && mp_feed(m, big_head, strlen(big_head)) == MP_OK);
	/* Pieces of about 64 KiB, the j-th ending j % 24 bytes into an
	 * 8 KiB block, so every depth of a partial delimiter is met; after
	 * each, exactly that partial delimiter is held back and everything
	 * before it has been delivered. */
	for (j = 1; e == MP_OK && fed < BIG_SIZE; j++) {
		to = 65536 * j + j % 24;
		if (to > BIG_SIZE)
			to = BIG_SIZE;
		e = big_feed(m, chunk, fed, to);
		fed = to;
		held = fed - c.bytes;
		want = fed % 8192 <= BIG_NEAR ? fed % 8192 : 0;
		if (held != want)
			wrong++;
		if (held > most)
			most = held;
	}
	CHECK(e == MP_OK && wrong == 0);
	CHECK(most == BIG_NEAR);
	CHECK(mp_feed(m, big_tail, strlen(big_tail)) == MP_OK);
	CHECK(mp_finish(m) == MP_OK);
	CHECK(c.bytes == BIG_SIZE && c.mismatches == 0);
	CHECK(c.largest <= 65536 + 24);
	printf("20 MiB in %zu on_data calls, at most %zu bytes held back\n",
	    c.calls, most);
	mp_free(m);

	/* One byte over the limit: refused, never truncated. */
	lim.max_file_bytes = BIG_SIZE - 1;
	memset(&c, 0, sizeof(c));
	m = mp_new("multipart/form-data; boundary=" BIG_B, &lim, &cb, &c, NULL);
	CHECK(m != NULL && mp_feed(m, big_head, strlen(big_head)) == MP_OK);
	for (fed = 0; fed < BIG_SIZE; fed = to) {
		to = fed + 65536 < BIG_SIZE ? fed + 65536 : BIG_SIZE;
		e = big_feed(m, chunk, fed, to);
	}
	CHECK(e == MP_E_FILE);
	CHECK(mp_feed(m, big_tail, strlen(big_tail)) == MP_E_FILE);
	CHECK(mp_finish(m) == MP_E_FILE);
	CHECK(c.bytes <= BIG_SIZE - 1 && c.mismatches == 0);
	mp_free(m);
	free(chunk);
}

/* An in-memory FastCGI input stream handing out the body in pieces. */
struct stream {
	FCGX_Request fx;
	FCGX_Stream in;
	const char *body;
	size_t len, off, piece;
	char *envp[1];
};

static void
stream_fill(FCGX_Stream *st)
{
	struct stream *k = st->data;
	size_t n = k->len - k->off;

	if (n == 0) {
		st->isClosed = 1;
		return;
	}
	if (n > k->piece)
		n = k->piece;
	st->rdNext = (unsigned char *)k->body + k->off;
	st->stop = st->rdNext + n;
	k->off += n;
}

static void
stream_attach(struct request *r, struct stream *k, const char *body,
    size_t len, size_t piece, long long content_length)
{
	memset(k, 0, sizeof(*k));
	k->body = body;
	k->len = len;
	k->piece = piece;
	k->in.isReader = 1;
	k->in.fillBuffProc = stream_fill;
	k->in.data = k;
	k->fx.in = &k->in;
	k->fx.envp = k->envp;
	r->fcgx = &k->fx;
	r->content_length = content_length;
}

static void
test_read_request(void)
{
	static const char ct[] = "multipart/form-data; boundary=b";
	struct request r;
	struct stream k;
	struct seen s;
	struct buf big;
	enum mp_error e;
	struct mp *m;
	size_t len = strlen(curl_body), i;

	request_init(&r);

	/* Read in 64 KiB pieces from a stream of small ones. */
	seen_init(&s);
	m = mp_new(CURL_CT, &lim_default, &seen_cb, &s, NULL);
	stream_attach(&r, &k, curl_body, len, 7, (long long)len);
	CHECK(mp_read_request(&r, m, 1 << 20, &e) == RQ_OK && e == MP_OK);
	CHECK(mp_finish(m) == MP_OK && k.off == len);
	CHECK(strcmp(s.parts.data, curl_want) == 0);
	mp_free(m);
	seen_free(&s);
	request_end(&r);

	/* Over max: refused before a byte is read. */
	seen_init(&s);
	m = mp_new(CURL_CT, &lim_default, &seen_cb, &s, NULL);
	stream_attach(&r, &k, curl_body, len, 7, (long long)len);
	CHECK(mp_read_request(&r, m, len - 1, &e) == RQ_TOO_LARGE);
	CHECK(k.off == 0);
	mp_free(m);
	seen_free(&s);
	request_end(&r);

	/* The stream ends early. */
	seen_init(&s);
	m = mp_new(CURL_CT, &lim_default, &seen_cb, &s, NULL);
	stream_attach(&r, &k, curl_body, len, 100, (long long)len + 10);
	CHECK(mp_read_request(&r, m, 1 << 20, &e) == RQ_BAD_REQUEST);
	mp_free(m);
	seen_free(&s);
	request_end(&r);

	/* A parser error early in a 300 KiB body: RQ_OK with the error,
	 * and the whole body read (and dropped). */
	buf_init(&big);
	buf_puts(&big, "--b\r\nContent-Disposition: form-data; name=a\r\n\r\n");
	for (i = 0; i < 300 * 1024; i++)
		buf_putc(&big, 'z');
	buf_puts(&big, "\r\n--b--\r\n");
	seen_init(&s);
	m = mp_new(ct, &lim_default, &seen_cb, &s, NULL);
	stream_attach(&r, &k, big.data, big.len, 4000, (long long)big.len);
	CHECK(mp_read_request(&r, m, 1 << 20, &e) == RQ_OK);
	CHECK(e == MP_E_FIELD && k.off == big.len);
	CHECK(mp_finish(m) == MP_E_FIELD);
	mp_free(m);
	seen_free(&s);
	request_end(&r);

	/* The same body within limits, in 64 KiB reads. */
	{
		struct mp_limits lim = lim_default;

		lim.max_field_bytes = 300 * 1024;
		seen_init(&s);
		m = mp_new(ct, &lim, &seen_cb, &s, NULL);
		stream_attach(
		    &r, &k, big.data, big.len, big.len, (long long)big.len);
		CHECK(mp_read_request(&r, m, 1 << 20, &e) == RQ_OK &&
		    e == MP_OK);
		CHECK(mp_finish(m) == MP_OK && s.cur.len == 300 * 1024);
		CHECK(s.data_calls >= 5);
		mp_free(m);
		seen_free(&s);
		request_end(&r);
	}
	buf_free(&big);

	/* Without FastCGI (unit tests of handlers): the body is r->input. */
	seen_init(&s);
	m = mp_new(CURL_CT, &lim_default, &seen_cb, &s, NULL);
	buf_puts(&r.input, curl_body);
	r.content_length = (long long)len;
	CHECK(mp_read_request(&r, m, len, &e) == RQ_OK && e == MP_OK);
	CHECK(mp_finish(m) == MP_OK && strcmp(s.parts.data, curl_want) == 0);
	mp_free(m);
	seen_free(&s);
	request_end(&r);
	request_free(&r);
}

/* Every error has its message ("multipart.error.<name>") in both
 * catalogues, for the pages that show it. */
static void
test_messages(void)
{
	char err[I18N_ERR_MAX], path[512], key[64];
	const char *src = getenv("LICHENG_SRCDIR");
	struct i18n *m;
	size_t i;

	CHECK(snprintf(path, sizeof(path), "%s/conf/messages",
		  src ? src : ".") > 0);
	m = i18n_load(path, err, sizeof(err));
	CHECK_MSG(m != NULL, "%s", err);
	for (i = 0; m != NULL && i < MP_E__MAX; i++) {
		CHECK(snprintf(key, sizeof(key), "multipart.error.%s",
			  mp_error_name((enum mp_error)i)) > 0);
		CHECK_MSG(i18n_has(m, key), "%s", key);
		CHECK(strcmp(i18n_get(m, "zh-TW", key), key) != 0 &&
		    strcmp(i18n_get(m, "en", key), key) != 0);
	}
	CHECK(m == NULL || strcmp(i18n_get(m, "zh-TW", "multipart.error.file"),
			       "檔案超過大小上限。") == 0);
	i18n_free(m);
}

int
main(void)
{
	test_well_formed();
	test_names();
	test_content_types();
	test_errors();
	test_splits(CURL_CT, curl_body, curl_want);
	test_splits(CHROME_CT, chrome_body, chrome_want);
	test_big_file();
	test_read_request();
	test_messages();
	return harness_done();
}
