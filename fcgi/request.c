/*
 * request: reads one FastCGI request's parameters and body into struct
 * request and writes its response back. It owns the path rules (decoding,
 * rejecting "..", "//" and NUL), the cookie syntax, the one mapping of
 * outcomes to HTTP statuses and the rule that redirects stay on the site. It
 * never writes security, Server or X-Powered-By headers, never puts the query
 * string anywhere but the handler's hands, and never keeps a body (which may
 * hold a password) past request_end without wiping it.
 */
#include "request.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "app.h"
#include "log.h"
#include "page.h"

/* Buffers past this size are released after a request instead of kept. */
#define REQUEST_KEEP_MAX (256 * 1024)
/* FCGX_GetStr takes an int count; the body is read in pieces of this. */
#define REQUEST_READ_CHUNK (1 << 20)

static const char *const request_method_names[HTTP_METHOD__MAX] = {
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "PATCH",
    "OPTIONS",
    "OTHER",
};

static const int request_outcome_statuses[RQ__MAX] = {
    [RQ_OK] = 200,
    [RQ_BAD_REQUEST] = 400,
    [RQ_FORBIDDEN] = 403,
    [RQ_NOT_FOUND] = 404,
    [RQ_BAD_METHOD] = 405,
    [RQ_CONFLICT] = 409,
    [RQ_TOO_LARGE] = 413,
    [RQ_BAD_TYPE] = 415,
    [RQ_INVALID] = 422,
    [RQ_RATE_LIMITED] = 429,
    [RQ_ERROR] = 500,
    [RQ_UNAVAILABLE] = 503,
};

/* Short machine names for JSON error bodies. */
static const char *const request_outcome_names[RQ__MAX] = {
    [RQ_OK] = "ok",
    [RQ_BAD_REQUEST] = "bad_request",
    [RQ_FORBIDDEN] = "forbidden",
    [RQ_NOT_FOUND] = "not_found",
    [RQ_BAD_METHOD] = "method_not_allowed",
    [RQ_CONFLICT] = "conflict",
    [RQ_TOO_LARGE] = "too_large",
    [RQ_BAD_TYPE] = "unsupported_type",
    [RQ_INVALID] = "invalid",
    [RQ_RATE_LIMITED] = "rate_limited",
    [RQ_ERROR] = "error",
    [RQ_UNAVAILABLE] = "unavailable",
};

static const struct {
	int status;
	const char *reason;
} request_reasons[] = {
    {200, "OK"},
    {201, "Created"},
    {204, "No Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {409, "Conflict"},
    {413, "Content Too Large"},
    {415, "Unsupported Media Type"},
    {422, "Unprocessable Content"},
    {429, "Too Many Requests"},
    {500, "Internal Server Error"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
};

void
request_init(struct request *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->headers);
	buf_init(&r->body);
	buf_init(&r->out);
	buf_init(&r->input);
	request_end(r);
}

void
request_free(struct request *r)
{
	buf_free(&r->headers);
	buf_free(&r->body);
	buf_free(&r->out);
	if (r->input.data != NULL)
		OPENSSL_cleanse(r->input.data, r->input.len);
	buf_free(&r->input);
}

static void
request_buf_done(struct buf *b)
{
	if (b->cap > REQUEST_KEEP_MAX)
		buf_free(b);
	else
		buf_reset(b);
}

void
request_end(struct request *r)
{
	r->fcgx = NULL;
	r->started_us = 0;
	r->method = HTTP_OTHER;
	r->method_name = "";
	r->path[0] = '\0';
	r->raw_path = "";
	r->raw_path_len = 0;
	r->query = "";
	r->remote_addr = "";
	r->content_length = 0;
	r->route_index = -1;
	r->route_name = "unmatched";
	r->json = 0;
	r->segs[0] = '\0';
	r->ncaptures = 0;
	r->allow[0] = '\0';
	r->status = 200;
	r->content_type = NULL;
	r->bytes_sent = 0;
	request_buf_done(&r->headers);
	request_buf_done(&r->body);
	request_buf_done(&r->out);
	/* The body of a sign-in or password form holds a password. */
	if (r->input.data != NULL)
		OPENSSL_cleanse(r->input.data, r->input.len);
	request_buf_done(&r->input);
}

enum http_method
request_method_parse(const char *s)
{
	int i;

	for (i = 0; i < HTTP_OTHER; i++)
		if (strcmp(s, request_method_names[i]) == 0)
			return (enum http_method)i;
	return HTTP_OTHER;
}

const char *
request_method_name(enum http_method m)
{
	return m < HTTP_METHOD__MAX ? request_method_names[m] : "OTHER";
}

/*
 * Decodes n bytes of s into out; plus turns '+' into a space (forms). -1 on
 * a malformed escape, a decoded NUL or when out is too small.
 */
static int
request_decode(
    const char *s, size_t n, int plus, char *out, size_t outlen, size_t *outn)
{
	size_t i, o = 0;
	int hi, lo;
	char c;

	for (i = 0; i < n; i++) {
		c = s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			if ((hi = hex_value(s[i + 1])) < 0 ||
			    (lo = hex_value(s[i + 2])) < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus)
			c = ' ';
		if (c == '\0' || o + 1 >= outlen)
			return -1;
		out[o++] = c;
	}
	if (outlen == 0)
		return -1;
	out[o] = '\0';
	*outn = o;
	return 0;
}

int
request_path_normalise(const char *raw, size_t n, char *out, size_t outlen)
{
	size_t len, i, seg;

	if (request_decode(raw, n, 0, out, outlen, &len) != 0)
		goto fail;
	if (len == 0 || out[0] != '/')
		goto fail;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)out[i];

		if (c < 0x20 || c == 0x7f)
			goto fail;
	}
	/* Check each segment between slashes; the root "/" is the only path
	 * with an empty last segment besides a trailing slash. */
	seg = 1;
	for (i = 1; i <= len; i++) {
		if (i < len && out[i] != '/')
			continue;
		if (i - seg == 0 && i < len)
			goto fail; /* "//" */
		if (i - seg == 1 && out[seg] == '.')
			goto fail;
		if (i - seg == 2 && out[seg] == '.' && out[seg + 1] == '.')
			goto fail;
		seg = i + 1;
	}
	return 0;
fail:
	if (outlen > 0)
		out[0] = '\0';
	return -1;
}

int
request_query_get(const char *query, const char *name, char *out, size_t outlen)
{
	const char *p = query, *amp, *eq;
	char key[128];
	size_t keylen, vlen, n;

	if (query == NULL)
		return 0;
	while (*p != '\0') {
		amp = strchr(p, '&');
		n = amp ? (size_t)(amp - p) : strlen(p);
		eq = memchr(p, '=', n);
		keylen = eq ? (size_t)(eq - p) : n;
		/* Keys longer than any we look for cannot match. */
		if (request_decode(p, keylen, 1, key, sizeof(key), &vlen) ==
			0 &&
		    strcmp(key, name) == 0) {
			if (eq == NULL) {
				if (outlen == 0)
					return -1;
				out[0] = '\0';
				return 1;
			}
			if (request_decode(eq + 1, n - keylen - 1, 1, out,
				outlen, &vlen) != 0)
				return -1;
			return 1;
		}
		p += n;
		if (*p == '&')
			p++;
	}
	return 0;
}

static long long
request_parse_length(const char *s, int *bad)
{
	char *end;
	long long v;

	*bad = 0;
	if (s == NULL || *s == '\0')
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || s[0] < '0' || s[0] > '9') {
		*bad = 1;
		return 0;
	}
	return v;
}

enum request_outcome
request_begin(struct request *r, FCGX_Request *fx)
{
	const char *s, *uri, *q;
	int bad;

	r->fcgx = fx;
	r->started_us = now_us();
	s = request_param(r, "REQUEST_METHOD");
	r->method_name = s ? s : "";
	r->method = request_method_parse(r->method_name);
	s = request_param(r, "REMOTE_ADDR");
	r->remote_addr = s ? s : "";

	/* REQUEST_URI is what the client sent, before nginx decoded or merged
	 * anything: the path rules below are ours to apply, not nginx's. */
	uri = request_param(r, "REQUEST_URI");
	if (uri == NULL)
		uri = request_param(r, "DOCUMENT_URI");
	if (uri == NULL)
		uri = request_param(r, "SCRIPT_NAME");
	if (uri == NULL)
		uri = "";
	q = strchr(uri, '?');
	r->raw_path = uri;
	r->raw_path_len = q ? (size_t)(q - uri) : strlen(uri);
	s = request_param(r, "QUERY_STRING");
	if (s != NULL)
		r->query = s;
	else
		r->query = q ? q + 1 : "";

	r->content_length =
	    request_parse_length(request_param(r, "CONTENT_LENGTH"), &bad);
	if (bad)
		return RQ_BAD_REQUEST;
	if (request_path_normalise(
		r->raw_path, r->raw_path_len, r->path, sizeof(r->path)) != 0)
		return RQ_BAD_REQUEST;
	return RQ_OK;
}

/*
 * Gives b room for n bytes and a NUL without realloc, which would leave a
 * copy of the old bytes (perhaps a password) in freed memory.
 */
static void
request_input_reserve(struct buf *b, size_t n)
{
	if (b->data != NULL)
		OPENSSL_cleanse(b->data, b->len);
	if (b->cap < n + 1) {
		free(b->data);
		b->data = xmalloc(n + 1);
		b->cap = n + 1;
	}
	b->len = 0;
	b->data[0] = '\0';
}

enum request_outcome
request_read_body(struct request *r, size_t max)
{
	struct buf *b = &r->input;
	size_t want, got = 0;
	int chunk, n;

	if (r->content_length < 0 ||
	    (unsigned long long)r->content_length > (unsigned long long)max)
		return RQ_TOO_LARGE;
	if (r->fcgx == NULL)
		return RQ_OK;
	want = (size_t)r->content_length;
	request_input_reserve(b, want);
	while (got < want) {
		chunk = want - got > REQUEST_READ_CHUNK ? REQUEST_READ_CHUNK
							: (int)(want - got);
		n = FCGX_GetStr(b->data + got, chunk, r->fcgx->in);
		if (n > 0)
			got += (size_t)n;
		/* len always covers what was read so request_end wipes it. */
		b->len = got;
		b->data[got] = '\0';
		if (n < chunk)
			return RQ_BAD_REQUEST;
	}
	return RQ_OK;
}

int
request_is_form(const struct request *r)
{
	static const char type[] = "application/x-www-form-urlencoded";
	const char *s = request_param(r, "CONTENT_TYPE");

	if (s == NULL || strncasecmp(s, type, sizeof(type) - 1) != 0)
		return 0;
	s += sizeof(type) - 1;
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == '\0' || *s == ';';
}

/* RFC 6265 cookie-octet: printable US-ASCII but '"', ',', ';' and '\\'. */
static int
request_cookie_octet(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' &&
	    c != '\\';
}

int
request_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int
request_space(char c)
{
	return c == ' ' || c == '\t';
}

int
request_cookie(
    const struct request *r, const char *name, char *out, size_t outlen)
{
	const char *p = request_param(r, "HTTP_COOKIE"), *end, *eq, *v;
	size_t nlen = strlen(name), klen, vlen, i;

	if (outlen > 0)
		out[0] = '\0';
	if (p == NULL)
		return 0;
	for (;;) {
		while (request_space(*p) || *p == ';')
			p++;
		if (*p == '\0')
			return 0;
		end = p + strcspn(p, ";");
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq == NULL) {
			p = end;
			continue;
		}
		klen = (size_t)(eq - p);
		while (klen > 0 && request_space(p[klen - 1]))
			klen--;
		if (klen != nlen || memcmp(p, name, nlen) != 0) {
			p = end;
			continue;
		}
		v = eq + 1;
		while (v < end && request_space(*v))
			v++;
		vlen = (size_t)(end - v);
		while (vlen > 0 && request_space(v[vlen - 1]))
			vlen--;
		/* RFC 6265 allows the value in double quotes; the quotes are
		 * not part of what the site set. */
		if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
			v++;
			vlen -= 2;
		}
		for (i = 0; i < vlen; i++)
			if (!request_cookie_octet((unsigned char)v[i]))
				return -1;
		if (vlen >= outlen)
			return -1;
		memcpy(out, v, vlen);
		out[vlen] = '\0';
		return 1;
	}
}

int
request_set_cookie(
    struct request *r, const char *name, const char *value, long max_age)
{
	struct buf b;
	const char *p;
	int rc;

	for (p = name; *p != '\0'; p++)
		if (!request_tchar((unsigned char)*p))
			break;
	if (*name == '\0' || *p != '\0') {
		log_error("refusing a cookie whose name is not a token");
		return -1;
	}
	for (p = value; *p != '\0'; p++) {
		if (!request_cookie_octet((unsigned char)*p)) {
			/* The value is not logged: it may be a session token.
			 */
			log_error("refusing cookie %s: its value holds a byte "
				  "outside cookie-octet",
			    name);
			return -1;
		}
	}
	buf_init(&b);
	buf_printf(
	    &b, "%s=%s; Path=/; Secure; HttpOnly; SameSite=Lax", name, value);
	if (max_age >= 0)
		buf_printf(&b, "; Max-Age=%ld", max_age);
	rc = request_header(r, "Set-Cookie", b.data);
	OPENSSL_cleanse(b.data, b.len);
	buf_free(&b);
	return rc;
}

/*
 * 1 for a local absolute path: '/', not "//" (another host to a browser),
 * then printable ASCII without '\\' (which browsers read as '/'). Spaces and
 * controls are refused too: browsers drop tabs and newlines inside a URL, so
 * "/\t/evil.example" would become "//evil.example".
 */
static int
request_local_path(const char *s)
{
	const unsigned char *p;

	if (s == NULL || s[0] != '/' || s[1] == '/')
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x21 || *p > 0x7e || *p == '\\')
			return 0;
	return 1;
}

void
request_redirect(struct request *r, const char *location)
{
	if (!request_local_path(location)) {
		log_warn("redirect target is not a local path; using /");
		location = "/";
	}
	buf_reset(&r->body);
	request_ok(r, 303, "text/plain; charset=utf-8");
	if (request_header(r, "Location", location) == -1) {
		/* Unreachable: request_local_path refused CR and LF. */
		r->status = 500;
		return;
	}
	buf_puts(&r->body, "See Other: ");
	buf_puts(&r->body, location);
	buf_putc(&r->body, '\n');
}

const char *
request_param(const struct request *r, const char *name)
{
	if (r->fcgx == NULL)
		return NULL;
	return FCGX_GetParam(name, r->fcgx->envp);
}

const char *
request_capture(const struct request *r, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < r->ncaptures; i++)
		if (r->captures[i].namelen == n &&
		    memcmp(r->captures[i].name, name, n) == 0)
			return r->captures[i].value;
	return NULL;
}

int
request_is_loopback(const struct request *r)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, r->remote_addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, r->remote_addr, &a6) != 1)
		return 0;
	if (IN6_IS_ADDR_LOOPBACK(&a6))
		return 1;
	return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
}

int
request_header(struct request *r, const char *name, const char *value)
{
	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL) {
		log_error("refusing header %s: holds CR, LF or ':'", name);
		return -1;
	}
	buf_puts(&r->headers, name);
	buf_puts(&r->headers, ": ");
	buf_puts(&r->headers, value);
	buf_puts(&r->headers, "\r\n");
	return 0;
}

void
request_ok(struct request *r, int status, const char *content_type)
{
	r->status = status;
	r->content_type = content_type;
}

int
request_outcome_status(enum request_outcome o)
{
	return o < RQ__MAX ? request_outcome_statuses[o] : 500;
}

const char *
request_status_reason(int status)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(request_reasons); i++)
		if (request_reasons[i].status == status)
			return request_reasons[i].reason;
	return "Unknown";
}

void
request_fail(struct app *app, struct request *r, enum request_outcome outcome)
{
	if (outcome >= RQ__MAX || outcome == RQ_OK)
		outcome = RQ_ERROR;
	r->status = request_outcome_status(outcome);
	/* A half-built response is discarded: the error replaces it. */
	buf_reset(&r->headers);
	buf_reset(&r->body);
	if (outcome == RQ_BAD_METHOD && r->allow[0] != '\0')
		request_header(r, "Allow", r->allow);
	if (r->json) {
		r->content_type = "application/json";
		buf_puts(&r->body, "{\"error\":\"");
		buf_puts(&r->body, request_outcome_names[outcome]);
		buf_puts(&r->body, "\"}\n");
		return;
	}
	r->content_type = "text/html; charset=utf-8";
	/* page_error appends a minimal static page itself when the templates
	 * fail, and logs why; nothing more to do here. */
	(void)page_error(app->tmpl, app->msgs, r->status, &r->body);
}

static int
request_put(struct request *r, const char *p, size_t n)
{
	int w;

	if (n == 0)
		return 0;
	if (n > INT32_MAX)
		return -1;
	w = FCGX_PutStr(p, (int)n, r->fcgx->out);
	if (w < 0 || (size_t)w != n)
		return -1;
	return 0;
}

/* 1 when the handler added a header of that name (any case). */
static int
request_has_header(const struct request *r, const char *name)
{
	const char *p = r->headers.data, *e;
	size_t n = strlen(name);

	while (p != NULL && *p != '\0') {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return 1;
		if ((e = strstr(p, "\r\n")) == NULL)
			break;
		p = e + 2;
	}
	return 0;
}

int
request_send(struct request *r)
{
	struct buf *o = &r->out;

	buf_reset(o);
	buf_printf(o, "Status: %d %s\r\n", r->status,
	    request_status_reason(r->status));
	if (r->content_type != NULL) {
		buf_puts(o, "Content-Type: ");
		buf_puts(o, r->content_type);
		buf_puts(o, "\r\n");
	}
	if (r->status != 204 && r->status != 304)
		buf_printf(o, "Content-Length: %zu\r\n", r->body.len);
	/* no-store unless the handler chose its own (a download's
	 * "private, no-store"): never two Cache-Control lines. */
	if (!request_has_header(r, "Cache-Control"))
		buf_puts(o, "Cache-Control: no-store\r\n");
	buf_append(o, r->headers.data ? r->headers.data : "", r->headers.len);
	buf_puts(o, "\r\n");
	if (request_put(r, o->data, o->len) != 0)
		return -1;
	if (r->method == HTTP_HEAD || r->status == 204 || r->status == 304)
		return 0;
	if (request_put(r, r->body.data, r->body.len) != 0)
		return -1;
	r->bytes_sent = r->body.len;
	return 0;
}
