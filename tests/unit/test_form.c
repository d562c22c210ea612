/*
 * test_form: lib/form.c — table checks in form_new, urlencoded decoding,
 * every kind and every error, repeats, undeclared names and the limits, and
 * that accepted values come back exactly as sent. Needs no servers.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../harness.h"
#include "form.h"
#include "util.h"

enum {
	T_NAME,
	T_BIO,
	T_PW,
	T_LOGIN,
	T_AGE,
	T_DELTA,
	T_BORN,
	T_AGREE,
	T_ROLE,
	T_ITEM,
	T__MAX
};

/* Every kind, designated initializers as handlers write them; only name is
 * required so each other field can be tried on its own. */
static const struct form_field tf[T__MAX] = {
    [T_NAME] = {"name", FORM_TEXT, FORM_REQUIRED, 2, 10, NULL},
    [T_BIO] = {"bio", FORM_MULTILINE, 0, 0, 5, NULL},
    [T_PW] = {"password", FORM_PASSWORD, 0, 8, 64, NULL},
    [T_LOGIN] = {"login", FORM_PATTERN, 0, 3, 32, "[a-z0-9][a-z0-9._-]*"},
    [T_AGE] = {"age", FORM_INT, 0, 15, 120, NULL},
    [T_DELTA] = {"delta", FORM_INT, 0, LLONG_MIN, LLONG_MAX, NULL},
    [T_BORN] = {"born", FORM_DATE, 0, 0, 0, NULL},
    [T_AGREE] = {"agree", FORM_CHECKBOX, 0, 0, 0, NULL},
    [T_ROLE] = {"role", FORM_ENUM, 0, 0, 0, "student|teacher|school_admin"},
    [T_ITEM] = {"item", FORM_PATTERN, FORM_REPEAT, 1, 16, "[a-z0-9]+"},
};

/* Parses text against tf; the caller frees. */
static struct form *
parse(const char *text, int *rc)
{
	struct form *f = form_new(tf, T__MAX);

	if (f == NULL) {
		*rc = -2;
		return NULL;
	}
	*rc = form_parse(f, text, strlen(text));
	return f;
}

/* The error of field i after parsing "name=Al&" text. */
static enum form_error
err_of(const char *text, size_t i)
{
	struct buf b;
	struct form *f;
	enum form_error e;
	int rc;

	buf_init(&b);
	buf_printf(&b, "name=Al&%s", text);
	f = parse(b.data, &rc);
	buf_free(&b);
	if (f == NULL)
		return FORM_E__MAX;
	e = form_error(f, i);
	/* form_parse fails exactly when some field does. */
	if ((rc == 0) != (e == FORM_E_OK))
		e = FORM_E__MAX;
	form_free(f);
	return e;
}

/* 1 when field i of "name=Al&" text is valid with value want. */
static int
value_is(const char *text, size_t i, const char *want)
{
	struct buf b;
	struct form *f;
	int rc, ok;

	buf_init(&b);
	buf_printf(&b, "name=Al&%s", text);
	f = parse(b.data, &rc);
	buf_free(&b);
	if (f == NULL)
		return 0;
	ok = rc == 0 && form_error(f, i) == FORM_E_OK &&
	    strcmp(form_str(f, i), want) == 0;
	if (!ok)
		fprintf(stderr, "  %s: rc %d, error %s, value \"%s\"\n", text,
		    rc, form_error_name(form_error(f, i)), form_str(f, i));
	form_free(f);
	return ok;
}

/* FORM_INT value of field i, or -1234 when it is not valid. */
static long long
int_of(const char *text, size_t i)
{
	struct buf b;
	struct form *f;
	long long v;
	int rc;

	buf_init(&b);
	buf_printf(&b, "name=Al&%s", text);
	f = parse(b.data, &rc);
	buf_free(&b);
	if (f == NULL)
		return -1234;
	v = rc == 0 ? form_int(f, i) : -1234;
	form_free(f);
	return v;
}

/* The first undeclared name reported for text, or "" when none. */
static int
unknown_is(const char *text, const char *want)
{
	struct form *f;
	const char *u;
	int rc, ok;

	if ((f = parse(text, &rc)) == NULL)
		return 0;
	u = form_unknown(f);
	ok = want == NULL ? u == NULL && rc == 0
			  : rc == -1 && u != NULL && strcmp(u, want) == 0;
	if (!ok)
		fprintf(stderr, "  unknown: got %s\n", u ? u : "(null)");
	form_free(f);
	return ok;
}

/* Percent-encodes every byte of s but [A-Za-z0-9] into b. */
static void
urlencode(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			buf_putc(b, (char)c);
		else
			buf_printf(b, "%%%02X", c);
	}
}

static int
new_fails(const struct form_field *fields, size_t n)
{
	struct form *f = form_new(fields, n);

	form_free(f);
	return f == NULL;
}

static void
test_tables(void)
{
	/* A designated entry left out is a NULL name. */
	static const struct form_field gap[3] = {
	    [0] = {"a", FORM_TEXT, 0, 0, 10, NULL},
	    [2] = {"c", FORM_TEXT, 0, 0, 10, NULL},
	};
	static const struct form_field bad_re[] = {
	    {"a", FORM_PATTERN, 0, 1, 10, "([a-z]"}};
	static const struct form_field bad_range[] = {
	    {"a", FORM_PATTERN, 0, 1, 10, "[z-a]+"}};
	static const struct form_field bad_count[] = {
	    {"a", FORM_PATTERN, 0, 1, 10, "a{2,1}"}};
	static const struct form_field unnested[] = {
	    {"a", FORM_PATTERN, 0, 1, 10, "a)|(b"}};
	static const struct form_field bracket_paren[] = {
	    {"a", FORM_PATTERN, 0, 1, 10, "[)(]+|\\)[[:alpha:]]"}};
	static const struct form_field dup[] = {
	    {"a", FORM_TEXT, 0, 0, 10, NULL}, {"a", FORM_INT, 0, 0, 10, NULL}};
	static const struct form_field upper[] = {
	    {"Login", FORM_TEXT, 0, 0, 10, NULL}};
	static const struct form_field empty_name[] = {
	    {"", FORM_TEXT, 0, 0, 10, NULL}};
	static const struct form_field no_max[] = {
	    {"a", FORM_TEXT, 0, 0, 0, NULL}};
	static const struct form_field min_gt_max[] = {
	    {"a", FORM_PASSWORD, 0, 9, 8, NULL}};
	static const struct form_field int_bounds[] = {
	    {"a", FORM_INT, 0, 5, 4, NULL}};
	static const struct form_field no_re[] = {
	    {"a", FORM_PATTERN, 0, 1, 10, NULL}};
	static const struct form_field no_words[] = {
	    {"a", FORM_ENUM, 0, 0, 0, NULL}};
	static const struct form_field empty_word[] = {
	    {"a", FORM_ENUM, 0, 0, 0, "x||y"}};
	static const struct form_field bad_flag[] = {
	    {"a", FORM_TEXT, 0x4, 0, 10, NULL}};
	static const struct form_field bad_kind[] = {
	    {"a", (enum form_kind)FORM_KIND__MAX, 0, 0, 10, NULL}};
	struct form *f;

	CHECK(!new_fails(tf, T__MAX));
	CHECK(new_fails(gap, ARRAY_SIZE(gap)));
	CHECK(new_fails(bad_re, 1));
	CHECK(new_fails(bad_range, 1));
	CHECK(new_fails(bad_count, 1));
	CHECK(new_fails(unnested, 1));
	CHECK(!new_fails(bracket_paren, 1));
	CHECK(new_fails(dup, 2));
	CHECK(new_fails(upper, 1));
	CHECK(new_fails(empty_name, 1));
	CHECK(new_fails(no_max, 1));
	CHECK(new_fails(min_gt_max, 1));
	CHECK(new_fails(int_bounds, 1));
	CHECK(new_fails(no_re, 1));
	CHECK(new_fails(no_words, 1));
	CHECK(new_fails(empty_word, 1));
	CHECK(new_fails(bad_flag, 1));
	CHECK(new_fails(bad_kind, 1));
	CHECK(new_fails(NULL, 1));
	form_free(NULL);

	/* A form without fields accepts only nothing. */
	f = form_new(NULL, 0);
	CHECK(f != NULL && form_parse(f, NULL, 0) == 0);
	CHECK(form_unknown(f) == NULL);
	form_free(f);
	f = form_new(NULL, 0);
	CHECK(f != NULL && form_parse(f, "a=1", 3) == -1);
	CHECK(strcmp(form_unknown(f), "a") == 0);
	/* Once per form. */
	CHECK(form_parse(f, "", 0) == -1);
	form_free(f);
}

static void
test_text(void)
{
	struct form *f;
	int rc;

	CHECK(value_is("", T_NAME, "Al"));
	CHECK(err_of("", T_BIO) == FORM_E_OK);

	f = parse("name=%E7%8E%8B+%E5%B0%8F%E6%98%8E", &rc);
	CHECK(rc == 0 && strcmp(form_str(f, T_NAME), "王 小明") == 0);
	CHECK(form_has(f, T_NAME) && !form_has(f, T_BIO));
	form_free(f);
	/* Unescaped UTF-8 passes through as it is. */
	f = parse("name=王小明", &rc);
	CHECK(rc == 0 && strcmp(form_str(f, T_NAME), "王小明") == 0);
	form_free(f);

	/* Surrounding spaces are trimmed; the echo keeps them. */
	f = parse("name=++A+l+%20", &rc);
	CHECK(rc == 0 && strcmp(form_str(f, T_NAME), "A l") == 0);
	CHECK(strcmp(form_echo(f, T_NAME), "  A l  ") == 0);
	form_free(f);

	/* Required: absent, empty and only spaces are all missing. */
	f = parse("", &rc);
	CHECK(rc == -1 && form_error(f, T_NAME) == FORM_E_MISSING);
	CHECK(form_error(f, T_BIO) == FORM_E_OK);
	CHECK(strcmp(form_str(f, T_NAME), "") == 0);
	CHECK(strcmp(form_echo(f, T_NAME), "") == 0);
	form_free(f);
	f = parse("name=", &rc);
	CHECK(rc == -1 && form_error(f, T_NAME) == FORM_E_MISSING);
	form_free(f);
	f = parse("name=+++", &rc);
	CHECK(rc == -1 && form_error(f, T_NAME) == FORM_E_MISSING);
	CHECK(!form_has(f, T_NAME));
	form_free(f);
	f = parse("name", &rc);
	CHECK(rc == -1 && form_error(f, T_NAME) == FORM_E_MISSING);
	form_free(f);

	/* Bounds count code points, not bytes. */
	f = parse("name=A", &rc);
	CHECK(rc == -1 && form_error(f, T_NAME) == FORM_E_SHORT);
	CHECK(strcmp(form_echo(f, T_NAME), "A") == 0);
	form_free(f);
	f = parse("name=%E7%8E%8B", &rc); /* 王: 3 bytes, 1 code point */
	CHECK(rc == -1 && form_error(f, T_NAME) == FORM_E_SHORT);
	form_free(f);
	f = parse("name=王小明王小明王小明王", &rc); /* 10 code points */
	CHECK(rc == 0);
	form_free(f);
	f = parse("name=Abcdefghijk", &rc);
	CHECK(rc == -1 && form_error(f, T_NAME) == FORM_E_LONG);
	form_free(f);
	f = parse("name=+Abcdefghij+", &rc); /* 10 once trimmed */
	CHECK(rc == 0 && strcmp(form_str(f, T_NAME), "Abcdefghij") == 0);
	form_free(f);

	/* Control characters. */
	f = parse("name=A%09l", &rc);
	CHECK(rc == -1 && form_error(f, T_NAME) == FORM_E_CHARS);
	CHECK(strcmp(form_str(f, T_NAME), "") == 0);
	CHECK(strcmp(form_echo(f, T_NAME), "A\tl") == 0);
	form_free(f);
	f = parse("name=Al%0A", &rc);
	CHECK(rc == -1 && form_error(f, T_NAME) == FORM_E_CHARS);
	form_free(f);
	f = parse("name=A%00l", &rc);
	CHECK(rc == -1 && form_error(f, T_NAME) == FORM_E_CHARS);
	form_free(f);
	f = form_new(tf, T__MAX);
	CHECK(form_parse(f, "name=A\0l", 8) == -1);
	CHECK(form_error(f, T_NAME) == FORM_E_CHARS);
	form_free(f);
	f = parse("name=A%7Fl", &rc);
	CHECK(rc == -1 && form_error(f, T_NAME) == FORM_E_CHARS);
	form_free(f);
	f = parse("name=A%C2%85l", &rc); /* U+0085, a C1 control */
	CHECK(rc == -1 && form_error(f, T_NAME) == FORM_E_CHARS);
	form_free(f);
	f = parse("name=A%E2%80%AEl", &rc); /* U+202E, right-to-left */
	CHECK(rc == -1 && form_error(f, T_NAME) == FORM_E_CHARS);
	form_free(f);

	/* Invalid UTF-8. */
	f = parse("name=A%FFl", &rc);
	CHECK(rc == -1 && form_error(f, T_NAME) == FORM_E_ENCODING);
	form_free(f);
	f = parse("name=A%C0%AFl", &rc); /* overlong '/' */
	CHECK(rc == -1 && form_error(f, T_NAME) == FORM_E_ENCODING);
	form_free(f);
	f = parse("name=A%ED%A0%80l", &rc); /* a surrogate */
	CHECK(rc == -1 && form_error(f, T_NAME) == FORM_E_ENCODING);
	form_free(f);
	f = parse("name=Al%E7%8E", &rc); /* cut short */
	CHECK(rc == -1 && form_error(f, T_NAME) == FORM_E_ENCODING);
	form_free(f);
	f = parse("name=A%F4%90%80%80l", &rc); /* past U+10FFFF */
	CHECK(rc == -1 && form_error(f, T_NAME) == FORM_E_ENCODING);
	form_free(f);

	/* Malformed escapes are an error of their field, never dropped. */
	f = parse("name=A%G1l", &rc);
	CHECK(rc == -1 && form_error(f, T_NAME) == FORM_E_ENCODING);
	CHECK(form_has(f, T_NAME));
	CHECK(strcmp(form_echo(f, T_NAME), "") == 0);
	form_free(f);
	f = parse("name=Al%", &rc);
	CHECK(rc == -1 && form_error(f, T_NAME) == FORM_E_ENCODING);
	form_free(f);
	f = parse("name=Al%4", &rc);
	CHECK(rc == -1 && form_error(f, T_NAME) == FORM_E_ENCODING);
	form_free(f);
	f = parse("bio=x%&name=Al", &rc);
	CHECK(rc == -1 && form_error(f, T_BIO) == FORM_E_ENCODING);
	CHECK(form_error(f, T_NAME) == FORM_E_OK);
	CHECK(strcmp(form_str(f, T_NAME), "Al") == 0);
	form_free(f);

	/* '+' is a space, %2B a plus; '=' after the first is data. */
	CHECK(value_is("bio=1%2B1=2", T_BIO, "1+1=2"));
	CHECK(value_is("bio=a+b", T_BIO, "a b"));
}

static void
test_multiline_password(void)
{
	struct form *f;
	int rc;

	CHECK(value_is("bio=a%0D%0Ab", T_BIO, "a\nb"));
	CHECK(value_is("bio=a%0Ab%09c", T_BIO, "a\nb\tc"));
	/* Bounds count after CRLF became LF: 5, then 6 code points. */
	CHECK(value_is("bio=a%0D%0Ab%0D%0Ac", T_BIO, "a\nb\nc"));
	CHECK(err_of("bio=a%0D%0Ab%0D%0Acd", T_BIO) == FORM_E_LONG);
	CHECK(err_of("bio=a%0Db", T_BIO) == FORM_E_CHARS); /* a lone CR */
	CHECK(err_of("bio=ab%0D", T_BIO) == FORM_E_CHARS);
	CHECK(err_of("bio=a%0Bb", T_BIO) == FORM_E_CHARS);
	CHECK(err_of("bio=a%00b", T_BIO) == FORM_E_CHARS);
	CHECK(err_of("bio=a%FEb", T_BIO) == FORM_E_ENCODING);
	/* Not trimmed: spaces count. */
	CHECK(value_is("bio=+a+", T_BIO, " a "));

	/* Passwords are never trimmed and never echoed. */
	f = parse("name=Al&password=+correct+horse+", &rc);
	CHECK(rc == 0);
	CHECK(strcmp(form_str(f, T_PW), " correct horse ") == 0);
	CHECK(strcmp(form_echo(f, T_PW), "") == 0);
	CHECK(form_has(f, T_PW));
	form_free(f);
	f = parse("name=Al&password=short", &rc);
	CHECK(rc == -1 && form_error(f, T_PW) == FORM_E_SHORT);
	CHECK(strcmp(form_echo(f, T_PW), "") == 0);
	CHECK(strcmp(form_str(f, T_PW), "") == 0);
	form_free(f);
	CHECK(err_of("password=%E5%AF%86%E7%A2%BC%E5%AF%86%E7%A2%BC%E5%AF%86"
		     "%E7%A2%BC%E5%AF%86%E7%A2%BC",
		  T_PW) == FORM_E_OK); /* 密碼 x4: 8 code points */
	CHECK(err_of("password=correct%0Ahorse", T_PW) == FORM_E_CHARS);
	CHECK(err_of("password=correct%80horse", T_PW) == FORM_E_ENCODING);
	CHECK(err_of("password=", T_PW) == FORM_E_OK);
}

static void
test_pattern(void)
{
	static const struct form_field words[] = {
	    {"w", FORM_PATTERN, FORM_REQUIRED, 1, 64, "[a-z]+"},
	    {"alt", FORM_PATTERN, 0, 1, 64, "a|b"},
	};
	struct form *f;
	char big[64];

	CHECK(value_is("login=abc", T_LOGIN, "abc"));
	CHECK(value_is("login=s1.a_b-c", T_LOGIN, "s1.a_b-c"));
	CHECK(err_of("login=Abc", T_LOGIN) == FORM_E_PATTERN);
	CHECK(err_of("login=.abc", T_LOGIN) == FORM_E_PATTERN);
	CHECK(err_of("login=ab", T_LOGIN) == FORM_E_SHORT);
	CHECK(value_is("login=abcdefghijabcdefghijabcdefghijkl", T_LOGIN,
	    "abcdefghijabcdefghijabcdefghijkl"));
	CHECK(err_of("login=abcdefghijabcdefghijabcdefghijklm", T_LOGIN) ==
	    FORM_E_LONG);
	CHECK(err_of("login=ab%C3%A9", T_LOGIN) == FORM_E_PATTERN);
	CHECK(err_of("login=abc%0A", T_LOGIN) == FORM_E_CHARS);
	CHECK(err_of("login=+abc", T_LOGIN) == FORM_E_PATTERN);

	/* Anchored at both ends, around the whole alternation. */
	f = form_new(words, 2);
	CHECK(f != NULL && form_parse(f, "w=abc&alt=a", 11) == 0);
	CHECK(strcmp(form_str(f, 0), "abc") == 0);
	form_free(f);
	f = form_new(words, 2);
	CHECK(form_parse(f, "w=abc%0A", 8) == -1);
	CHECK(form_error(f, 0) != FORM_E_OK);
	form_free(f);
	f = form_new(words, 2);
	CHECK(form_parse(f, "w=x+abc", 7) == -1);
	CHECK(form_error(f, 0) == FORM_E_PATTERN);
	CHECK(strcmp(form_echo(f, 0), "x abc") == 0);
	form_free(f);
	f = form_new(words, 2);
	CHECK(form_parse(f, "w=abc1", 6) == -1);
	CHECK(form_error(f, 0) == FORM_E_PATTERN);
	form_free(f);
	f = form_new(words, 2);
	CHECK(form_parse(f, "w=a&alt=ab", 10) == -1);
	CHECK(form_error(f, 1) == FORM_E_PATTERN);
	form_free(f);
	f = form_new(words, 2);
	CHECK(form_parse(f, "w=a&alt=xb", 10) == -1);
	CHECK(form_error(f, 1) == FORM_E_PATTERN);
	form_free(f);

	/* Bytes, not code points, for PATTERN bounds. */
	memset(big, 'a', sizeof(big));
	big[0] = 'w';
	big[1] = '=';
	f = form_new(words, 2);
	CHECK(form_parse(f, big, sizeof(big)) == 0); /* 62 bytes */
	form_free(f);
}

static void
test_int_date(void)
{
	CHECK(int_of("age=42", T_AGE) == 42);
	CHECK(int_of("age=017", T_AGE) == 17);
	CHECK(int_of("age=15", T_AGE) == 15);
	CHECK(int_of("age=120", T_AGE) == 120);
	CHECK(int_of("", T_AGE) == 0);
	CHECK(err_of("age=14", T_AGE) == FORM_E_RANGE);
	CHECK(err_of("age=121", T_AGE) == FORM_E_RANGE);
	CHECK(err_of("age=-20", T_AGE) == FORM_E_RANGE);
	CHECK(err_of("age=4x", T_AGE) == FORM_E_PATTERN);
	CHECK(err_of("age=-", T_AGE) == FORM_E_PATTERN);
	CHECK(err_of("age=--5", T_AGE) == FORM_E_PATTERN);
	CHECK(err_of("age=%2B20", T_AGE) == FORM_E_PATTERN);
	CHECK(err_of("age=+20", T_AGE) == FORM_E_PATTERN); /* " 20" */
	CHECK(err_of("age=20.5", T_AGE) == FORM_E_PATTERN);
	CHECK(err_of("age=0x20", T_AGE) == FORM_E_PATTERN);
	CHECK(err_of("age=%EF%BC%92%EF%BC%90", T_AGE) == FORM_E_PATTERN);
	CHECK(err_of("age=20%00", T_AGE) == FORM_E_CHARS);
	CHECK(int_of("delta=-7", T_DELTA) == -7);
	CHECK(int_of("delta=-0", T_DELTA) == 0);
	CHECK(int_of("delta=9223372036854775807", T_DELTA) == LLONG_MAX);
	CHECK(int_of("delta=-9223372036854775808", T_DELTA) == LLONG_MIN);
	CHECK(err_of("delta=9223372036854775808", T_DELTA) == FORM_E_RANGE);
	CHECK(err_of("delta=-9223372036854775809", T_DELTA) == FORM_E_RANGE);
	CHECK(err_of("delta=99999999999999999999", T_DELTA) == FORM_E_RANGE);
	CHECK(err_of("delta=-99999999999999999999", T_DELTA) == FORM_E_RANGE);
	CHECK(int_of("delta=000000000000000000000000042", T_DELTA) == 42);

	CHECK(value_is("born=2024-02-29", T_BORN, "2024-02-29"));
	CHECK(value_is("born=2000-02-29", T_BORN, "2000-02-29"));
	CHECK(value_is("born=2008-12-31", T_BORN, "2008-12-31"));
	CHECK(err_of("born=2023-02-29", T_BORN) == FORM_E_DATE);
	CHECK(err_of("born=1900-02-29", T_BORN) == FORM_E_DATE);
	CHECK(err_of("born=2023-04-31", T_BORN) == FORM_E_DATE);
	CHECK(err_of("born=2023-13-01", T_BORN) == FORM_E_DATE);
	CHECK(err_of("born=2023-00-10", T_BORN) == FORM_E_DATE);
	CHECK(err_of("born=0000-01-01", T_BORN) == FORM_E_DATE);
	CHECK(err_of("born=2023-1-01", T_BORN) == FORM_E_DATE);
	CHECK(err_of("born=2023%2F01%2F01", T_BORN) == FORM_E_DATE);
	CHECK(err_of("born=20230101", T_BORN) == FORM_E_DATE);
	CHECK(err_of("born=2023-01-01x", T_BORN) == FORM_E_DATE);
	CHECK(err_of("born=+2023-01-01", T_BORN) == FORM_E_DATE);
	CHECK(err_of("born=2023-0a-01", T_BORN) == FORM_E_DATE);
}

static void
test_choices(void)
{
	static const struct form_field must[] = {
	    {"consent", FORM_CHECKBOX, FORM_REQUIRED, 0, 0, NULL}};
	struct form *f;
	int rc;

	f = parse("name=Al", &rc);
	CHECK(rc == 0 && form_int(f, T_AGREE) == 0 && !form_has(f, T_AGREE));
	CHECK(form_error(f, T_AGREE) == FORM_E_OK);
	form_free(f);
	CHECK(int_of("agree=on", T_AGREE) == 1);
	CHECK(int_of("agree=1", T_AGREE) == 1);
	CHECK(int_of("agree=yes", T_AGREE) == 1);
	CHECK(int_of("agree=true", T_AGREE) == 1);
	CHECK(int_of("agree=", T_AGREE) == 0);
	CHECK(int_of("agree", T_AGREE) == 0);
	CHECK(err_of("agree=off", T_AGREE) == FORM_E_CHOICE);
	CHECK(err_of("agree=0", T_AGREE) == FORM_E_CHOICE);
	CHECK(err_of("agree=ON", T_AGREE) == FORM_E_CHOICE);
	CHECK(err_of("agree=on+", T_AGREE) == FORM_E_CHOICE);
	CHECK(err_of("agree=on&agree=on", T_AGREE) == FORM_E_REPEATED);

	f = form_new(must, 1);
	CHECK(form_parse(f, "", 0) == -1);
	CHECK(form_error(f, 0) == FORM_E_MISSING);
	form_free(f);
	f = form_new(must, 1);
	CHECK(form_parse(f, "consent=on", 10) == 0 && form_int(f, 0) == 1);
	form_free(f);

	CHECK(value_is("role=teacher", T_ROLE, "teacher"));
	CHECK(value_is("role=student", T_ROLE, "student"));
	CHECK(value_is("role=school_admin", T_ROLE, "school_admin"));
	CHECK(err_of("role=teach", T_ROLE) == FORM_E_CHOICE);
	CHECK(err_of("role=teachers", T_ROLE) == FORM_E_CHOICE);
	CHECK(err_of("role=Student", T_ROLE) == FORM_E_CHOICE);
	CHECK(err_of("role=student%7Cteacher", T_ROLE) == FORM_E_CHOICE);
	CHECK(err_of("role=school", T_ROLE) == FORM_E_CHOICE);
	CHECK(err_of("role=student%00", T_ROLE) == FORM_E_CHARS);
	CHECK(value_is("role=", T_ROLE, ""));
}

static void
test_repeats_and_names(void)
{
	struct form *f;
	struct buf b;
	size_t i;
	int rc;

	f = parse("name=Al&item=a1&item=b2&item=&item=c3", &rc);
	CHECK(rc == 0 && form_count(f, T_ITEM) == 3);
	CHECK(strcmp(form_str_at(f, T_ITEM, 0), "a1") == 0);
	CHECK(strcmp(form_str_at(f, T_ITEM, 1), "b2") == 0);
	CHECK(strcmp(form_str_at(f, T_ITEM, 2), "c3") == 0);
	CHECK(strcmp(form_str_at(f, T_ITEM, 3), "") == 0);
	CHECK(strcmp(form_str(f, T_ITEM), "a1") == 0);
	CHECK(form_count(f, T_NAME) == 1 && form_count(f, T_AGE) == 0);
	form_free(f);
	f = parse("name=Al&item=a1&item=B2", &rc);
	CHECK(rc == -1 && form_error(f, T_ITEM) == FORM_E_PATTERN);
	CHECK(form_count(f, T_ITEM) == 0);
	CHECK(strcmp(form_str_at(f, T_ITEM, 0), "") == 0);
	form_free(f);

	/* A field not declared repeatable may appear once. */
	f = parse("name=Al&name=Bo", &rc);
	CHECK(rc == -1 && form_error(f, T_NAME) == FORM_E_REPEATED);
	CHECK(strcmp(form_str(f, T_NAME), "") == 0);
	form_free(f);
	CHECK(err_of("age=20&age=20", T_AGE) == FORM_E_REPEATED);
	CHECK(err_of("password=aaaaaaaa&password=", T_PW) == FORM_E_REPEATED);

	/* Undeclared names fail the form and the first is reported. */
	f = parse("name=Al&evil=1&worse=2", &rc);
	CHECK(rc == -1 && strcmp(form_unknown(f), "evil") == 0);
	CHECK(form_error(f, T_NAME) == FORM_E_OK);
	CHECK(strcmp(form_str(f, T_NAME), "Al") == 0);
	form_free(f);
	CHECK(unknown_is("name=Al", NULL));
	CHECK(unknown_is("na%6De=Al", NULL));
	CHECK(unknown_is("name=Al&Name=x", "Name"));
	CHECK(unknown_is("name=Al&name%00=x", "(malformed name)"));
	CHECK(unknown_is("name=Al&a+b=x", "(malformed name)"));
	CHECK(unknown_is("name=Al&%ZZ=x", "(malformed name)"));
	CHECK(unknown_is("name=Al&=x", "(empty name)"));
	CHECK(unknown_is("name=Al&%3Cscript%3E=1", "<script>"));
	CHECK(unknown_is("name=Al&flag", "flag"));

	/* Names: 64 bytes are reported, 65 are too long. */
	buf_init(&b);
	buf_puts(&b, "name=Al&");
	for (i = 0; i < FORM_NAME_MAX; i++)
		buf_putc(&b, 'n');
	CHECK(unknown_is(b.data, b.data + 8));
	buf_puts(&b, "n=1");
	CHECK(unknown_is(b.data, "(name too long)"));
	buf_reset(&b);
	buf_puts(&b, "name=Al&");
	for (i = 0; i < 300; i++)
		buf_puts(&b, "%6E");
	CHECK(unknown_is(b.data, "(name too long)"));

	/* FORM_PAIRS_MAX pairs; empty ones do not count. */
	buf_reset(&b);
	buf_puts(&b, "&&name=Al&&");
	for (i = 1; i < FORM_PAIRS_MAX; i++)
		buf_puts(&b, "item=x&&");
	f = parse(b.data, &rc);
	CHECK(rc == 0 && form_count(f, T_ITEM) == FORM_PAIRS_MAX - 1);
	CHECK(form_unknown(f) == NULL);
	form_free(f);
	buf_puts(&b, "item=y");
	f = parse(b.data, &rc);
	CHECK(rc == -1);
	CHECK(strcmp(form_unknown(f), "(too many fields)") == 0);
	form_free(f);
	/* A batch of the largest page (certify.page_size 500) and its other
	 * fields fit. */
	CHECK(FORM_PAIRS_MAX >= 500 + 2 && FORM_REPEAT_MAX >= 500);
	buf_reset(&b);
	buf_puts(&b, "name=Al");
	for (i = 0; i < 500; i++)
		buf_puts(&b, "&item=a0123456789");
	f = parse(b.data, &rc);
	CHECK(rc == 0 && form_count(f, T_ITEM) == 500);
	form_free(f);
	buf_free(&b);
}

/* Accepted payloads come back byte for byte; escaping is the template's. */
static int
xss_round_trip(const char *payload, size_t i, enum form_error want)
{
	struct buf b;
	struct form *f;
	int rc, ok;

	buf_init(&b);
	buf_puts(&b, i == T_NAME ? "" : "name=Al&");
	buf_puts(&b, tf[i].name);
	buf_putc(&b, '=');
	urlencode(&b, payload);
	f = parse(b.data, &rc);
	buf_free(&b);
	if (f == NULL)
		return 0;
	ok = form_error(f, i) == want &&
	    strcmp(form_echo(f, i), i == T_PW ? "" : payload) == 0 &&
	    strcmp(form_str(f, i), want == FORM_E_OK ? payload : "") == 0;
	form_free(f);
	return ok;
}

static void
test_payloads(void)
{
	static const struct form_field wide[] = {
	    {"comment", FORM_TEXT, 0, 0, 200, NULL},
	    {"body", FORM_MULTILINE, 0, 0, 200, NULL},
	    {"secret", FORM_PASSWORD, 0, 1, 200, NULL},
	};
	static const char *const payloads[] = {
	    "<script>alert(1)</script>",
	    "\"'><img src=x onerror=alert(1)>",
	    "javascript:alert(1)",
	    "{{name}} {{{raw}}} ${x} %s %n",
	    "' OR 1=1; -- ",
	    "&amp;&lt;&#x3c;",
	};
	struct form *f;
	struct buf b;
	char want[64];
	size_t k, j, n;

	for (k = 0; k < ARRAY_SIZE(payloads); k++) {
		CHECK_MSG(xss_round_trip(payloads[k], T_LOGIN, FORM_E_PATTERN),
		    "%s", payloads[k]);
		CHECK_MSG(xss_round_trip(payloads[k], T_ROLE, FORM_E_CHOICE),
		    "%s", payloads[k]);
		for (j = 0; j < ARRAY_SIZE(wide); j++) {
			buf_init(&b);
			buf_puts(&b, wide[j].name);
			buf_putc(&b, '=');
			urlencode(&b, payloads[k]);
			/* One-line text loses its trailing space, nothing
			 * else. */
			CHECK(str_copy(want, sizeof(want), payloads[k]) == 0);
			n = strlen(want);
			while (j == 0 && n > 0 && want[n - 1] == ' ')
				want[--n] = '\0';
			f = form_new(wide, ARRAY_SIZE(wide));
			CHECK_MSG(f != NULL &&
				form_parse(f, b.data, b.len) == 0 &&
				strcmp(form_str(f, j), want) == 0,
			    "%s as %s", payloads[k], wide[j].name);
			CHECK(strcmp(form_echo(f, j),
				  j == 2 ? "" : payloads[k]) == 0);
			form_free(f);
			buf_free(&b);
		}
	}
	CHECK(xss_round_trip("<script>x</script>", T_NAME, FORM_E_LONG));
	CHECK(xss_round_trip("<i>A</i>", T_NAME, FORM_E_OK));
	CHECK(xss_round_trip("\"><svg/x>", T_PW, FORM_E_OK));
}

static void
test_error_names(void)
{
	static const char *const want[FORM_E__MAX] = {"ok", "missing", "short",
	    "long", "encoding", "chars", "pattern", "range", "date", "choice",
	    "repeated"};
	int e;

	for (e = 0; e < FORM_E__MAX; e++)
		CHECK_MSG(
		    strcmp(form_error_name((enum form_error)e), want[e]) == 0,
		    "%d", e);
	CHECK(strcmp(form_error_name(FORM_E__MAX), "invalid") == 0);
	CHECK(strcmp(form_error_name((enum form_error) - 1), "invalid") == 0);
}

int
main(void)
{
	test_tables();
	test_text();
	test_multiline_password();
	test_pattern();
	test_int_date();
	test_choices();
	test_repeats_and_names();
	test_payloads();
	test_error_names();
	return harness_done();
}
