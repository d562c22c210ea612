// fuzz-sources: fcgi/multipart.c fcgi/request.c fcgi/page.c fcgi/template.c fcgi/i18n.c
/*
 * fuzz_multipart: libFuzzer target for fcgi/multipart.c. The input's first
 * byte says how many of the next bytes are chunk sizes (and, with its top
 * bit, that the body's first line is the Content-Type); the rest is the
 * body. The body is fed whole and then in chunks of those sizes (cycled),
 * each chunk an exact-size copy: both must give the same callbacks, parts,
 * contents and error, the callbacks must come in order, and every part must
 * respect the limits, and every file name must come out as text (UTF-8,
 * no control characters, at most MP_FILENAME_CHARS characters).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../fcgi/multipart.h"
#include "util.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct mp_limits fuzz_lim = {
    .max_parts = 8,
    .max_header_bytes = 512,
    .max_field_bytes = 256,
    .max_file_bytes = 2048,
};

/* Everything the callbacks saw, as text. */
struct fuzz_log {
	struct buf out;
	int open;
};

/* The characters of a file name when it is well-formed UTF-8 without
 * C0, DEL or C1 controls (bidirectional controls are data: whoever shows
 * the name isolates it), else -1. Written apart from the parser's own
 * decoder on purpose, so that the two check each other. */
static long
fuzz_name_chars(const char *name, size_t n)
{
	const unsigned char *s = (const unsigned char *)name;
	unsigned long cp;
	size_t i = 0, len, k;
	long chars = 0;

	for (; i < n; i += len, chars++) {
		len = s[i] < 0x80 ? 1 : s[i] < 0xc2 ? 0 : s[i] < 0xe0 ? 2
		    : s[i] < 0xf0				    ? 3
		    : s[i] < 0xf5				    ? 4
								    : 0;
		if (len == 0 || i + len > n)
			return -1;
		cp = len == 1 ? s[i] : s[i] & (0x7f >> len);
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return -1;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
		    (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return -1;
	}
	return chars;
}

static void
fuzz_check_part(const struct mp_part *p)
{
	size_t n = strlen(p->filename);
	long chars;

	if (p->name[0] == '\0' || strlen(p->name) > MP_NAME_MAX ||
	    validate_utf8_text(p->name, strlen(p->name), 0) < 0)
		abort();
	/* A file name is data: any name is taken, as well-formed UTF-8
	 * without control characters, of at most MP_FILENAME_CHARS. */
	if (n > MP_FILENAME_MAX || (n > 0 && !p->is_file))
		abort();
	chars = fuzz_name_chars(p->filename, n);
	if (chars < 0 || chars > MP_FILENAME_CHARS)
		abort();
	if (strlen(p->content_type) > MP_TYPE_MAX)
		abort();
	if (p->size > (p->is_file ? fuzz_lim.max_file_bytes
				  : fuzz_lim.max_field_bytes))
		abort();
}

static int
fuzz_begin(void *user, const struct mp_part *p)
{
	struct fuzz_log *l = user;

	if (l->open || p->size != 0)
		abort();
	fuzz_check_part(p);
	l->open = 1;
	buf_printf(&l->out, "<%s|%s|%d|%s>", p->name, p->filename, p->is_file,
	    p->content_type);
	return 0;
}

static int
fuzz_data(void *user, const struct mp_part *p, const char *data, size_t n)
{
	struct fuzz_log *l = user;

	if (!l->open || n == 0)
		abort();
	fuzz_check_part(p);
	buf_append(&l->out, data, n);
	return 0;
}

static int
fuzz_end(void *user, const struct mp_part *p)
{
	struct fuzz_log *l = user;

	if (!l->open)
		abort();
	fuzz_check_part(p);
	l->open = 0;
	buf_printf(&l->out, "</%zu>", p->size);
	return 0;
}

/* 1 when the shorter of a and b is where the longer starts. */
static int
fuzz_prefix(const struct buf *a, const struct buf *b)
{
	size_t n = a->len < b->len ? a->len : b->len;

	return n == 0 || memcmp(a->data, b->data, n) == 0;
}

static const struct mp_callbacks fuzz_cb = {fuzz_begin, fuzz_data, fuzz_end};

/* Parses body in pieces of sizes[] (nsizes of them, cycled; none: whole)
 * into l; the result of mp_finish. */
static enum mp_error
fuzz_run(const char *ct, const uint8_t *body, size_t len,
    const uint8_t *sizes, size_t nsizes, struct fuzz_log *l)
{
	enum mp_error e, first = MP_OK;
	struct mp *m = mp_new(ct, &fuzz_lim, &fuzz_cb, l, &e);
	size_t at = 0, k = 0, n;
	char *piece;

	if (m == NULL) {
		if (e != MP_E_CONTENT_TYPE)
			abort();
		return e;
	}
	while (at < len) {
		n = nsizes > 0 ? (size_t)sizes[k++ % nsizes] + 1 : len - at;
		if (n > len - at)
			n = len - at;
		piece = xmalloc(n);
		memcpy(piece, body + at, n);
		e = mp_feed(m, piece, n);
		free(piece);
		if (first == MP_OK)
			first = e;
		else if (e != first)
			abort(); /* errors stick */
		at += n;
	}
	e = mp_finish(m);
	if ((first != MP_OK && e != first) || mp_feed(m, "--", 2) != e ||
	    mp_finish(m) != e || (unsigned)e >= MP_E__MAX)
		abort();
	if (mp_error_name(e)[0] == '\0')
		abort();
	mp_free(m);
	return e;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char ct[256] = "multipart/form-data; boundary=AaB03x";
	const uint8_t *sizes, *body, *nl;
	size_t nsizes, len;
	struct fuzz_log whole, split;
	enum mp_error e1, e2;

	if (size < 1)
		return 0;
	nsizes = (size_t)(data[0] & 0x0f);
	if (nsizes > size - 1)
		nsizes = size - 1;
	sizes = data + 1;
	body = sizes + nsizes;
	len = size - 1 - nsizes;
	if (data[0] & 0x80) {
		nl = memchr(body, '\n', len < sizeof(ct) ? len : sizeof(ct) - 1);
		if (nl != NULL) {
			memcpy(ct, body, (size_t)(nl - body));
			ct[nl - body] = '\0';
			len -= (size_t)(nl - body) + 1;
			body = nl + 1;
		}
	}
	memset(&whole, 0, sizeof(whole));
	memset(&split, 0, sizeof(split));
	buf_init(&whole.out);
	buf_init(&split.out);
	e1 = fuzz_run(ct, body, len, NULL, 0, &whole);
	e2 = fuzz_run(ct, body, len, sizes, nsizes, &split);
	/* Identical when the body is accepted; after an error, how much of
	 * the last piece of content came through before it depends on the
	 * pieces, so one must be the start of the other. */
	if (e1 != e2 || (e1 == MP_OK && whole.out.len != split.out.len) ||
	    !fuzz_prefix(&whole.out, &split.out))
		abort();
	buf_free(&whole.out);
	buf_free(&split.out);
	return 0;
}
