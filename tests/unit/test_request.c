/*
 * test_request: the pure parts of fcgi/request.c — path decoding and
 * normalisation, query look-up, methods, statuses, the loopback test and
 * header checks — and the body, form type, cookie and redirect helpers,
 * which read a hand-made FCGX_Request (an environment and an input stream
 * in memory). It needs no servers and no FastCGI connection.
 */
#include <stdio.h>
#include <string.h>

#include "../harness.h"
#include "../../fcgi/request.h"

static int
norm_ok(const char *raw, const char *want)
{
	char out[REQUEST_PATH_MAX];

	return request_path_normalise(raw, strlen(raw), out, sizeof(out)) ==
	    0 &&
	    strcmp(out, want) == 0;
}

static int
norm_bad(const char *raw, size_t n)
{
	char out[REQUEST_PATH_MAX];

	return request_path_normalise(raw, n, out, sizeof(out)) == -1 &&
	    out[0] == '\0';
}

static int
query_is(const char *q, const char *name, int rc, const char *want)
{
	char out[64];
	int got = request_query_get(q, name, out, sizeof(out));

	if (got != rc)
		return 0;
	return rc != 1 || strcmp(out, want) == 0;
}

static int
loopback(struct request *r, const char *addr)
{
	r->remote_addr = addr;
	return request_is_loopback(r);
}

/* A FastCGI request in memory: one parameter (or none) and an input
 * stream that hands out the body piece bytes at a time. */
struct fake {
	FCGX_Request fx;
	FCGX_Stream in;
	char param[512];
	char *envp[2];
	unsigned char body[256];
	size_t len, off, piece;
};

static void
fake_fill(FCGX_Stream *s)
{
	struct fake *k = s->data;
	size_t n = k->len - k->off;

	if (n == 0) {
		s->isClosed = 1;
		return;
	}
	if (n > k->piece)
		n = k->piece;
	s->rdNext = k->body + k->off;
	s->stop = s->rdNext + n;
	k->off += n;
}

/* Points r at k with the parameter "name=value" (none when value is
 * NULL) and body as the input stream. */
static void
fake_setup(struct request *r, struct fake *k, const char *name,
    const char *value, const char *body, size_t piece)
{
	memset(k, 0, sizeof(*k));
	if (value != NULL)
		(void)snprintf(
		    k->param, sizeof(k->param), "%s=%s", name, value);
	k->envp[0] = value != NULL ? k->param : NULL;
	k->envp[1] = NULL;
	k->len = strlen(body);
	memcpy(k->body, body, k->len);
	k->piece = piece;
	k->in.isReader = 1;
	k->in.fillBuffProc = fake_fill;
	k->in.data = k;
	k->fx.envp = k->envp;
	k->fx.in = &k->in;
	r->fcgx = &k->fx;
}

static int
is_form(struct request *r, const char *content_type)
{
	struct fake k;
	int v;

	fake_setup(r, &k, "CONTENT_TYPE", content_type, "", 1);
	v = request_is_form(r);
	r->fcgx = NULL;
	return v;
}

static int
cookie_is(struct request *r, const char *header, const char *name, int rc,
    const char *want)
{
	struct fake k;
	char out[8];
	int got;

	fake_setup(r, &k, "HTTP_COOKIE", header, "", 1);
	got = request_cookie(r, name, out, sizeof(out));
	r->fcgx = NULL;
	if (got != rc) {
		fprintf(stderr, "  cookie %s in %s: %d\n", name,
		    header ? header : "(none)", got);
		return 0;
	}
	return rc == 1 ? strcmp(out, want) == 0 : out[0] == '\0';
}

static int
set_cookie_is(struct request *r, const char *name, const char *value,
    long max_age, const char *want)
{
	int rc = request_set_cookie(r, name, value, max_age);
	int ok;

	if (want == NULL)
		ok = rc == -1 && r->headers.len == 0;
	else
		ok = rc == 0 && strcmp(r->headers.data, want) == 0;
	request_end(r);
	return ok;
}

/* 1 when a redirect to location answers 303 with Location: want. */
static int
redirect_is(struct request *r, const char *location, const char *want)
{
	char line[256];
	int ok;

	(void)snprintf(line, sizeof(line), "Location: %s\r\n", want);
	buf_puts(&r->body, "half-built page");
	request_redirect(r, location);
	ok = r->status == 303 && r->headers.data != NULL &&
	    strcmp(r->headers.data, line) == 0 &&
	    strcmp(r->content_type, "text/plain; charset=utf-8") == 0 &&
	    strstr(r->body.data, "half-built") == NULL &&
	    strstr(r->body.data, want) != NULL;
	request_end(r);
	return ok;
}

static void
test_body(struct request *r)
{
	static const char form[] = "name=Al&password=correct+horse";
	static const size_t pieces[] = {1, 4, sizeof(form)};
	struct fake k;
	char *kept;
	size_t i, n;
	int zero;

	/* Too large: refused before anything is read. */
	fake_setup(r, &k, "CONTENT_TYPE", "text/plain", form, 4);
	r->content_length = (long long)strlen(form);
	CHECK(request_read_body(r, strlen(form) - 1) == RQ_TOO_LARGE);
	CHECK(k.off == 0 && r->input.len == 0);
	request_end(r);

	/* Read in pieces of 1, 4 and all at once. */
	for (i = 0; i < ARRAY_SIZE(pieces); i++) {
		fake_setup(
		    r, &k, "CONTENT_TYPE", "text/plain", form, pieces[i]);
		r->content_length = (long long)strlen(form);
		CHECK(request_read_body(r, strlen(form)) == RQ_OK);
		CHECK(r->input.len == strlen(form) &&
		    strcmp(r->input.data, form) == 0);
		if (i + 1 < ARRAY_SIZE(pieces))
			request_end(r);
	}
	/* request_end wipes the body in the buffer it keeps. */
	kept = r->input.data;
	n = r->input.len;
	request_end(r);
	CHECK(r->input.data == kept && r->input.len == 0);
	zero = 1;
	for (i = 0; i < n; i++)
		zero = zero && kept[i] == '\0';
	CHECK(zero);

	/* The stream ends before CONTENT_LENGTH. */
	fake_setup(r, &k, "CONTENT_TYPE", "text/plain", "name=Al", 3);
	r->content_length = 20;
	CHECK(request_read_body(r, 1024) == RQ_BAD_REQUEST);
	CHECK(r->input.len == 7 && strcmp(r->input.data, "name=Al") == 0);
	request_end(r);

	/* No body at all. */
	fake_setup(r, &k, "CONTENT_TYPE", "text/plain", "", 3);
	r->content_length = 0;
	CHECK(request_read_body(r, 0) == RQ_OK);
	CHECK(r->input.data != NULL && r->input.len == 0);
	request_end(r);

	/* Without FastCGI the test's own input stays. */
	buf_puts(&r->input, "a=1");
	r->content_length = 3;
	CHECK(request_read_body(r, 3) == RQ_OK);
	CHECK(strcmp(r->input.data, "a=1") == 0);
	CHECK(request_read_body(r, 2) == RQ_TOO_LARGE);
	request_end(r);
	CHECK(r->input.len == 0);
}

static void
test_forms_and_cookies(struct request *r)
{
	CHECK(is_form(r, "application/x-www-form-urlencoded"));
	CHECK(is_form(r, "application/x-www-form-urlencoded; charset=UTF-8"));
	CHECK(is_form(r, "Application/X-WWW-Form-URLEncoded;charset=utf-8"));
	CHECK(is_form(r, "application/x-www-form-urlencoded ; charset=utf-8"));
	CHECK(!is_form(r, "application/x-www-form-urlencodedx"));
	CHECK(!is_form(r, "application/x-www-form-urlencoded/x"));
	CHECK(!is_form(r, "multipart/form-data; boundary=x"));
	CHECK(!is_form(r, "text/plain; a=application/x-www-form-urlencoded"));
	CHECK(!is_form(r, "application/json"));
	CHECK(!is_form(r, "application/x-www-form"));
	CHECK(!is_form(r, ""));
	CHECK(!is_form(r, NULL));

	CHECK(cookie_is(r, "sid=abc", "sid", 1, "abc"));
	CHECK(cookie_is(r, "a=1; sid=abc; b=2", "sid", 1, "abc"));
	CHECK(cookie_is(r, "a=1;sid=abc", "sid", 1, "abc"));
	CHECK(cookie_is(r, "  sid = abc  ; x=y", "sid", 1, "abc"));
	CHECK(cookie_is(r, "a=1;;; sid=abc;", "sid", 1, "abc"));
	CHECK(cookie_is(r, "sid=\"abc\"", "sid", 1, "abc"));
	CHECK(cookie_is(r, "sid=\"\"", "sid", 1, ""));
	CHECK(cookie_is(r, "sid=", "sid", 1, ""));
	CHECK(cookie_is(r, "sid=abc; sid=def", "sid", 1, "abc"));
	CHECK(cookie_is(r, "sid=a=b", "sid", 1, "a=b"));
	CHECK(cookie_is(r, "bad=a b; sid=ok", "sid", 1, "ok"));
	CHECK(cookie_is(r, "xsid=1; sidx=2; SID=3", "sid", 0, NULL));
	CHECK(cookie_is(r, "sid; a=1", "sid", 0, NULL));
	CHECK(cookie_is(r, "", "sid", 0, NULL));
	CHECK(cookie_is(r, NULL, "sid", 0, NULL));
	CHECK(cookie_is(r, "sid=\"abc", "sid", -1, NULL));
	CHECK(cookie_is(r, "sid=a b", "sid", -1, NULL));
	CHECK(cookie_is(r, "sid=a,b", "sid", -1, NULL));
	CHECK(cookie_is(r, "sid=a\\b", "sid", -1, NULL));
	CHECK(cookie_is(r, "sid=a\x80", "sid", -1, NULL));
	CHECK(cookie_is(r, "sid=1234567", "sid", 1, "1234567"));
	CHECK(cookie_is(r, "sid=12345678", "sid", -1, NULL)); /* oversize */
	CHECK(cookie_is(r, "sid=12345678; sid=1", "sid", -1, NULL));

	CHECK(set_cookie_is(r, "__Host-sid", "abc123", -1,
	    "Set-Cookie: __Host-sid=abc123; Path=/; Secure; HttpOnly; "
	    "SameSite=Lax\r\n"));
	CHECK(set_cookie_is(r, "__Host-sid", "", 0,
	    "Set-Cookie: __Host-sid=; Path=/; Secure; HttpOnly; "
	    "SameSite=Lax; Max-Age=0\r\n"));
	CHECK(set_cookie_is(r, "lang", "zh-TW", 31536000,
	    "Set-Cookie: lang=zh-TW; Path=/; Secure; HttpOnly; "
	    "SameSite=Lax; Max-Age=31536000\r\n"));
	CHECK(set_cookie_is(r, "", "x", -1, NULL));
	CHECK(set_cookie_is(r, "a b", "x", -1, NULL));
	CHECK(set_cookie_is(r, "a;b", "x", -1, NULL));
	CHECK(set_cookie_is(r, "a=b", "x", -1, NULL));
	CHECK(set_cookie_is(r, "a\r\nX", "x", -1, NULL));
	CHECK(set_cookie_is(r, "\xe7\x8e\x8b", "x", -1, NULL));
	CHECK(set_cookie_is(r, "sid", "a b", -1, NULL));
	CHECK(set_cookie_is(r, "sid", "a;b", -1, NULL));
	CHECK(set_cookie_is(r, "sid", "a,b", -1, NULL));
	CHECK(set_cookie_is(r, "sid", "\"q\"", -1, NULL));
	CHECK(set_cookie_is(r, "sid", "a\\b", -1, NULL));
	CHECK(set_cookie_is(r, "sid", "a\r\nSet-Cookie: x=1", -1, NULL));
}

static void
test_redirects(struct request *r)
{
	CHECK(redirect_is(r, "/", "/"));
	CHECK(redirect_is(r, "/student/items", "/student/items"));
	CHECK(redirect_is(r, "/a?next=//x&b=1#top", "/a?next=//x&b=1#top"));
	CHECK(redirect_is(r, "/%2F%2Fevil.example", "/%2F%2Fevil.example"));
	CHECK(redirect_is(r, "//evil.example", "/"));
	CHECK(redirect_is(r, "//evil.example/", "/"));
	CHECK(redirect_is(r, "https://x", "/"));
	CHECK(redirect_is(r, "javascript:alert(1)", "/"));
	CHECK(redirect_is(r, "/a\r\nX: y", "/"));
	CHECK(redirect_is(r, "/\\evil.example", "/"));
	CHECK(redirect_is(r, "/a\\b", "/"));
	CHECK(redirect_is(r, "/\t/evil.example", "/"));
	CHECK(redirect_is(r, "/a b", "/"));
	CHECK(redirect_is(r, "/\xe7\x8e\x8b", "/"));
	CHECK(redirect_is(r, "evil", "/"));
	CHECK(redirect_is(r, "", "/"));
	CHECK(redirect_is(r, NULL, "/"));

	/* A cookie set before the redirect goes with it. */
	CHECK(request_set_cookie(r, "sid", "t", -1) == 0);
	request_redirect(r, "/home");
	CHECK(r->status == 303);
	CHECK(
	    strcmp(r->headers.data,
		"Set-Cookie: sid=t; Path=/; Secure; HttpOnly; SameSite=Lax\r\n"
		"Location: /home\r\n") == 0);
	request_end(r);
}

int
main(void)
{
	char small[8];
	struct request r;

	/* Paths that pass, decoded. */
	CHECK(norm_ok("/", "/"));
	CHECK(norm_ok("/healthz", "/healthz"));
	CHECK(norm_ok("/items/42/", "/items/42/"));
	CHECK(norm_ok("/a%20b", "/a b"));
	CHECK(norm_ok("/%E6%AD%B7%E7%A8%8B", "/\xe6\xad\xb7\xe7\xa8\x8b"));
	CHECK(norm_ok("/a.b/..c/...", "/a.b/..c/..."));
	CHECK(norm_ok("/a+b", "/a+b")); /* '+' is literal in a path */

	/* Paths that are rejected. */
	CHECK(norm_bad("", 0));
	CHECK(norm_bad("healthz", 7));
	CHECK(norm_bad("/a/../b", 7));
	CHECK(norm_bad("/..", 3));
	CHECK(norm_bad("/a/..", 5));
	CHECK(norm_bad("/a/%2e%2e/b", 11));
	CHECK(norm_bad("/a%2F..%2Fb", 11));
	CHECK(norm_bad("/./a", 4));
	CHECK(norm_bad("/a/.", 4));
	CHECK(norm_bad("//a", 3));
	CHECK(norm_bad("/a//b", 5));
	CHECK(norm_bad("/a%2F%2Fb", 9));
	CHECK(norm_bad("/a%00b", 6));
	CHECK(norm_bad("/a\0b", 4));
	CHECK(norm_bad("/a%0Ab", 6));
	CHECK(norm_bad("/a%", 3));
	CHECK(norm_bad("/a%4", 4));
	CHECK(norm_bad("/a%zz", 5));
	/* Too long for the output buffer. */
	CHECK(
	    request_path_normalise("/abcdefgh", 9, small, sizeof(small)) == -1);
	CHECK(request_path_normalise("/abcdef", 7, small, sizeof(small)) == 0);

	/* Query look-up. */
	CHECK(query_is("json", "json", 1, ""));
	CHECK(query_is("a=1&json", "json", 1, ""));
	CHECK(query_is("a=1&b=2", "b", 1, "2"));
	CHECK(query_is("a=1&b=2", "c", 0, NULL));
	CHECK(query_is("", "a", 0, NULL));
	CHECK(query_is("q=%E6%AD%B7+x", "q", 1, "\xe6\xad\xb7 x"));
	CHECK(query_is("a%20b=c", "a b", 1, "c"));
	CHECK(query_is("ab=1&a=2", "a", 1, "2"));
	CHECK(query_is("a=&b=1", "a", 1, ""));
	CHECK(query_is("a=1&a=2", "a", 1, "1")); /* the first wins */
	CHECK(query_is("a=%zz", "a", -1, NULL));
	CHECK(query_is("a=%00", "a", -1, NULL));
	CHECK(query_is("&&a=1&", "a", 1, "1"));
	CHECK(request_query_get(NULL, "a", small, sizeof(small)) == 0);
	CHECK(
	    request_query_get("a=123456789", "a", small, sizeof(small)) == -1);

	/* Methods and statuses. */
	CHECK(request_method_parse("GET") == HTTP_GET);
	CHECK(request_method_parse("HEAD") == HTTP_HEAD);
	CHECK(request_method_parse("get") == HTTP_OTHER);
	CHECK(request_method_parse("") == HTTP_OTHER);
	CHECK(strcmp(request_method_name(HTTP_DELETE), "DELETE") == 0);
	CHECK(request_outcome_status(RQ_OK) == 200);
	CHECK(request_outcome_status(RQ_BAD_REQUEST) == 400);
	CHECK(request_outcome_status(RQ_NOT_FOUND) == 404);
	CHECK(request_outcome_status(RQ_BAD_METHOD) == 405);
	CHECK(request_outcome_status(RQ_UNAVAILABLE) == 503);
	CHECK(request_outcome_status(RQ__MAX) == 500);
	CHECK(strcmp(request_status_reason(404), "Not Found") == 0);
	CHECK(strcmp(request_status_reason(599), "Unknown") == 0);

	/* Loopback. */
	request_init(&r);
	CHECK(loopback(&r, "127.0.0.1"));
	CHECK(loopback(&r, "127.255.0.9"));
	CHECK(loopback(&r, "::1"));
	CHECK(loopback(&r, "::ffff:127.0.0.1"));
	CHECK(!loopback(&r, "128.0.0.1"));
	CHECK(!loopback(&r, "10.0.0.1"));
	CHECK(!loopback(&r, "::2"));
	CHECK(!loopback(&r, "::ffff:10.0.0.1"));
	CHECK(!loopback(&r, ""));
	CHECK(!loopback(&r, "127.0.0.1 "));

	/* Headers: no CR/LF injection. */
	CHECK(request_header(&r, "Allow", "GET, HEAD") == 0);
	CHECK(request_header(&r, "X-A", "a\r\nSet-Cookie: x") == -1);
	CHECK(request_header(&r, "X-A\n", "a") == -1);
	CHECK(strcmp(r.headers.data, "Allow: GET, HEAD\r\n") == 0);
	request_end(&r);
	CHECK(r.headers.len == 0 && r.body.len == 0 && r.status == 200);
	CHECK(strcmp(r.route_name, "unmatched") == 0);

	test_body(&r);
	test_forms_and_cookies(&r);
	test_redirects(&r);
	request_free(&r);
	return harness_done();
}
