/*
 * test_request: the pure parts of fcgi/request.c — path decoding and
 * normalisation, query look-up, methods, statuses, the loopback test and
 * header checks. It needs no servers and no FastCGI connection.
 */
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
	request_free(&r);
	return harness_done();
}
