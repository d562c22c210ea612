/*
 * multipart: a streaming reader of multipart/form-data bodies (RFC 7578,
 * RFC 2046 §5.1) in constant memory whatever the body's size. The caller
 * feeds bytes as they arrive, in chunks of any size (a boundary may be
 * split across chunks), and gets callbacks: a part begins (its field name,
 * its file name if any, its Content-Type), its bytes (in as many pieces as
 * it takes), its end. Nothing of a part's content is buffered beyond the
 * length of the boundary. Limits bound the number of parts, the header
 * block of a part, a plain field's size and a file's size; passing one is
 * an error, never a truncation.
 *
 * File names: filename*=UTF-8''%E7%8E%8B.pdf (RFC 5987) wins over
 * filename="..."; a plain filename is taken as UTF-8 bytes (what browsers
 * send) with \" and \\ unescaped. A file name is data, never a path for
 * the caller to open, so no name is refused: it is kept whole (slashes,
 * dots and bidirectional controls included) with every byte that is not
 * well-formed UTF-8 and every control character (NUL included) replaced
 * by U+FFFD, and a name longer than MP_FILENAME_CHARS characters is cut at
 * a character boundary, keeping its extension. Whoever shows it escapes
 * and isolates it (<bdi>).
 */
#ifndef LICHENG_MULTIPART_H
#define LICHENG_MULTIPART_H

#include <stddef.h>

#include "request.h"

#define MP_NAME_MAX 64 /* bytes of a field name */
#define MP_FILENAME_CHARS 255 /* characters of a file name */
#define MP_FILENAME_MAX (4 * MP_FILENAME_CHARS) /* its bytes, at most */
#define MP_TYPE_MAX 127 /* bytes of a part's Content-Type */
#define MP_BOUNDARY_MAX 70 /* RFC 2046 */

struct mp_part {
	char name[MP_NAME_MAX + 1];
	char filename[MP_FILENAME_MAX + 1]; /* UTF-8; "" when none */
	int is_file; /* a filename parameter was present (even empty) */
	char content_type[MP_TYPE_MAX + 1]; /* as sent; "" when none */
	size_t size; /* bytes of content so far */
};

struct mp_limits {
	size_t max_parts; /* parts in the body */
	size_t max_header_bytes; /* one part's header block */
	size_t max_field_bytes; /* a part without a filename */
	size_t max_file_bytes; /* a part with one */
};

enum mp_error {
	MP_OK,
	MP_E_CONTENT_TYPE, /* not multipart/form-data, or no valid boundary */
	MP_E_SYNTAX, /* a malformed delimiter or header line */
	MP_E_PARTS, /* more than max_parts */
	MP_E_HEADER, /* a header block over max_header_bytes */
	MP_E_FIELD, /* a field over max_field_bytes */
	MP_E_FILE, /* a file over max_file_bytes */
	MP_E_NAME, /* no form-data name, a bad field name, or a filename*
		    * that is not a UTF-8 ext-value */
	MP_E_TRUNCATED, /* the body ended before the closing delimiter */
	MP_E_CALLBACK, /* a callback returned -1 */
	MP_E__MAX
};

/* Each returns 0 to go on or -1 to stop (MP_E_CALLBACK). part's fields
 * stay valid until on_end returns; part->size counts the bytes delivered,
 * these included. on_data never gets a byte past a part's limit. A part
 * cut short by an error or by the end of the body gets no on_end: the
 * caller drops what it kept when mp_feed or mp_finish reports the error.
 * Any callback may be NULL. */
struct mp_callbacks {
	int (*on_begin)(void *user, const struct mp_part *part);
	int (*on_data)(
	    void *user, const struct mp_part *part, const char *data, size_t n);
	int (*on_end)(void *user, const struct mp_part *part);
};

struct mp;

/* A reader for a body of the given Content-Type; NULL with *err =
 * MP_E_CONTENT_TYPE when it is not multipart/form-data with a boundary
 * (quoted or not, 1..70 characters). The callbacks and limits are copied. */
struct mp *mp_new(const char *content_type, const struct mp_limits *lim,
    const struct mp_callbacks *cb, void *user, enum mp_error *err);
void mp_free(struct mp *m);
/* Feeds n more bytes. MP_OK, or the first error (sticky: later calls
 * return it again). Bytes after the closing delimiter are ignored. */
enum mp_error mp_feed(struct mp *m, const char *data, size_t n);
/* The body has ended: MP_OK when the closing delimiter was seen,
 * MP_E_TRUNCATED when not, or the earlier error. */
enum mp_error mp_finish(struct mp *m);
/* "ok", "content_type", "syntax", ...: message keys
 * "multipart.error.<name>". */
const char *mp_error_name(enum mp_error e);

/*
 * Reads the request's whole body (CONTENT_LENGTH bytes, at most max) from
 * FastCGI in chunks of 64 KiB into m. RQ_OK when every byte was read and
 * fed (the caller then calls mp_finish and checks *err); RQ_TOO_LARGE
 * without reading when the length is over max; RQ_BAD_REQUEST when the
 * stream ends early; RQ_OK with *err set when m reported an error (the rest
 * of the body is then read and discarded, so the connection stays usable).
 * Without a FastCGI request (unit tests) r->input is fed as the body, as
 * request_read_body leaves it.
 */
enum request_outcome mp_read_request(
    struct request *r, struct mp *m, size_t max, enum mp_error *err);

#endif
