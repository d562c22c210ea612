/*
 * request: one FastCGI request as licheng-fcgi sees it — the method, the
 * decoded and normalised path, the raw query, the parameters, the body and
 * the cookies — and the response built for it (status, headers, body) until
 * request_send writes it.
 * The struct is reused from request to request so the hot path allocates
 * nothing once the buffers have grown; it never writes security headers
 * (nginx adds them) nor a Server or X-Powered-By header.
 */
#ifndef LICHENG_REQUEST_H
#define LICHENG_REQUEST_H

#include <fcgiapp.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct app;
struct auth;

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_PUT,
	HTTP_DELETE,
	HTTP_PATCH,
	HTTP_OPTIONS,
	HTTP_OTHER,
	HTTP_METHOD__MAX
};

/*
 * What a handler tells the request: RQ_OK means the handler has set the
 * response itself (status 200 unless it set another, type and body); every
 * other outcome becomes an error response through request_fail, the one
 * place where an outcome maps to an HTTP status.
 */
enum request_outcome {
	RQ_OK,
	RQ_BAD_REQUEST, /* 400 */
	RQ_FORBIDDEN, /* 403 */
	RQ_NOT_FOUND, /* 404 */
	RQ_BAD_METHOD, /* 405, with Allow */
	RQ_CONFLICT, /* 409 */
	RQ_TOO_LARGE, /* 413 */
	RQ_BAD_TYPE, /* 415 */
	RQ_INVALID, /* 422 */
	RQ_RATE_LIMITED, /* 429 */
	RQ_ERROR, /* 500 */
	RQ_UNAVAILABLE, /* 503 */
	RQ__MAX
};

#define REQUEST_PATH_MAX 2048
#define REQUEST_PARAMS_MAX 8
#define REQUEST_ALLOW_MAX 64

/* A ":name" segment of the matched route: name points into the route's
 * pattern (namelen bytes, not terminated), value into r->segs. */
struct request_capture {
	const char *name;
	size_t namelen;
	const char *value;
};

struct request {
	FCGX_Request *fcgx;
	int64_t started_us;

	/* parsed */
	enum http_method method;
	const char *method_name; /* as sent, e.g. "GET" */
	char path[REQUEST_PATH_MAX]; /* decoded, normalised */
	const char *raw_path; /* before decoding, up to '?'; for logs */
	size_t raw_path_len;
	const char *query; /* raw query string, "" when none */
	const char *remote_addr; /* "" when unknown */
	long long content_length; /* 0 when absent */
	struct buf input; /* the body, after request_read_body */

	/* who is asking: set by auth_gate (fcgi/auth.h) for every routed
	 * request; owned by the caller of the handler, never NULL there */
	struct auth *auth;

	/* routing */
	int route_index; /* router table position; router_count() if none */
	const char *route_name; /* "unmatched" until routed */
	int json; /* the route answers errors in JSON */
	char segs[REQUEST_PATH_MAX]; /* path split at '/' for captures */
	struct request_capture captures[REQUEST_PARAMS_MAX];
	size_t ncaptures;
	char allow[REQUEST_ALLOW_MAX]; /* for 405 */

	/* response */
	int status;
	const char *content_type;
	struct buf headers; /* extra "Name: value\r\n" lines */
	struct buf body;
	struct buf out; /* status line and headers, being sent */
	size_t bytes_sent; /* body bytes written */
};

/* Sets up the reusable parts; request_free releases them. */
void request_init(struct request *r);
void request_free(struct request *r);

/*
 * Reads the FastCGI parameters of an accepted request. Returns RQ_OK, or
 * RQ_BAD_REQUEST when the path or Content-Length is malformed (the path then
 * stays empty; raw_path still says what was asked for).
 */
enum request_outcome request_begin(struct request *r, FCGX_Request *fx);
/* Drops everything the request parsed or built; large buffers are released
 * so one big response does not pin memory in the child. */
void request_end(struct request *r);

/*
 * Reads exactly CONTENT_LENGTH bytes of body into r->input (terminated).
 * RQ_TOO_LARGE, without reading, when that is more than max; RQ_BAD_REQUEST
 * when the stream ends early. Without a FastCGI request (unit tests) input
 * stays as the caller set it. request_end wipes it: it may hold passwords.
 */
enum request_outcome request_read_body(struct request *r, size_t max);
/* 1 when CONTENT_TYPE is application/x-www-form-urlencoded (any case,
 * parameters such as "; charset=UTF-8" allowed). */
int request_is_form(const struct request *r);
/*
 * Looks name up in HTTP_COOKIE ("a=b; c=d"). 1 and the value (surrounding
 * double quotes removed) in out when found, the first occurrence winning; 0
 * when absent; -1 when the value does not fit in outlen or holds bytes
 * outside RFC 6265's cookie-octet. Allocates nothing.
 */
int request_cookie(
    const struct request *r, const char *name, char *out, size_t outlen);
/*
 * Adds "Set-Cookie: name=value; Path=/; Secure; HttpOnly; SameSite=Lax",
 * with "; Max-Age=N" when max_age >= 0 (0 deletes the cookie). -1 (logged)
 * when name is not an RFC 6265 token or value holds a non-cookie-octet.
 */
int request_set_cookie(
    struct request *r, const char *name, const char *value, long max_age);
/*
 * Answers 303 See Other to location with a short text/plain body, keeping
 * the headers already set (a Set-Cookie at sign-in). Anything but a local
 * absolute path of printable ASCII ("/x", not "//x", no '\') becomes "/",
 * so the site never redirects elsewhere.
 */
void request_redirect(struct request *r, const char *location);

/* 1 when c is an RFC 7230 tchar, a byte of a token (a cookie, header or
 * parameter name); 1 when c is a space or a tab (RFC 7230 OWS). */
int request_tchar(unsigned char c);
int request_space(char c);

/* A FastCGI parameter, or NULL. */
const char *request_param(const struct request *r, const char *name);
/* A captured ":name" path segment of the matched route, or NULL. */
const char *request_capture(const struct request *r, const char *name);
/* 1 when REMOTE_ADDR is 127.0.0.0/8 or ::1 (or ::ffff:127.x.y.z). */
int request_is_loopback(const struct request *r);

/* Adds a response header; -1 (logged) if either part holds CR or LF. */
int request_header(struct request *r, const char *name, const char *value);
/* Sets status and Content-Type of a successful response. */
void request_ok(struct request *r, int status, const char *content_type);
/* Turns outcome into the error response: status, Allow for 405, the
 * bilingual page (or a JSON body on JSON routes). */
void
request_fail(struct app *app, struct request *r, enum request_outcome outcome);
/* The HTTP status of an outcome. */
int request_outcome_status(enum request_outcome o);
/* "OK", "Not Found", ... for a status. */
const char *request_status_reason(int status);
/* Writes the response (headers only for HEAD). 0, or -1 when the client
 * went away. */
int request_send(struct request *r);

/* The method for its name; HTTP_OTHER when not one of the known ones. */
enum http_method request_method_parse(const char *s);
const char *request_method_name(enum http_method m);

/*
 * Decodes %XX in the n bytes of raw into out (outlen bytes) and checks the
 * result: it must start with '/', hold no NUL or control byte, no empty
 * segment ("//") and no "." or ".." segment. 0, or -1 when rejected.
 */
int request_path_normalise(const char *raw, size_t n, char *out, size_t outlen);
/*
 * Looks name up in an application/x-www-form-urlencoded query ('+' is a
 * space). Returns 1 and the decoded value in out when present ("" for
 * "?name" alone), 0 when absent, -1 when the value is malformed or does not
 * fit in outlen.
 */
int request_query_get(
    const char *query, const char *name, char *out, size_t outlen);

#endif
