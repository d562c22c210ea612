/*
 * util: the small things every file needs — allocation that aborts on
 * exhaustion, a growable byte buffer with escaping appenders, and time.
 * Nothing here logs or touches the network; out of memory aborts so that the
 * pool respawns the process instead of limping on.
 */
#ifndef LICHENG_UTIL_H
#define LICHENG_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* A growable buffer. The buffer owns data; buf_free releases it. data is
 * always NUL-terminated so it can be used as a C string. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Appends "name=value" to a query string being built in b, with '&'
 * before it unless b is empty or ends in '?', every byte of value outside
 * RFC 3986's unreserved set percent-encoded. */
void buf_query_param(struct buf *b, const char *name, const char *value);
/* Appends s (n bytes) escaped for a JSON string body (no quotes added). */
void buf_json_str(struct buf *b, const char *s, size_t n);
/* Appends "key":"value" with value JSON-escaped; a leading comma unless the
 * buffer ends in '{'. value NULL writes null. */
void buf_json_kv(struct buf *b, const char *key, const char *value);
void buf_json_ki(struct buf *b, const char *key, long long value);
/* Appends s escaped for HTML text and attribute values. */
void buf_html(struct buf *b, const char *s, size_t n);
/* Detaches and returns data (caller frees); the buffer is left empty. */
char *buf_steal(struct buf *b);

/* Reads the regular file at path, of at most max bytes, into a new
 * NUL-terminated buffer the caller frees. On failure returns -1 with
 * "path: reason" in err. */
int file_read_all(const char *path, size_t max, char **out, size_t *outlen,
    char *err, size_t errlen);

/* Milliseconds since an arbitrary point (CLOCK_MONOTONIC). */
int64_t now_ms(void);
/* Microseconds, monotonic. */
int64_t now_us(void);
/* Wall-clock time as RFC 3339 UTC with milliseconds into out (>= 32 bytes). */
void time_rfc3339(char *out, size_t outlen);

/* Copies src into dst of size dstlen; returns -1 (and writes a truncated,
 * terminated string) when it does not fit. */
int str_copy(char *dst, size_t dstlen, const char *src);
/* Formats into dst of size dstlen; a message that does not fit is cut but
 * stays terminated (error texts for callers' fixed buffers). */
void str_printf(char *dst, size_t dstlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Lower-case hex of n bytes into out, which must hold 2n+1 bytes. */
void hex_encode(const unsigned char *in, size_t n, char *out);
/* The value of one hexadecimal digit (either case), or -1. */
int hex_value(char c);
/* 1 when the n bytes at s are all lower-case hexadecimal digits (it stops
 * at the first that is not, so a shorter NUL-terminated s is safe). */
int hex_lower_is(const char *s, size_t n);

/* The ROC school year (學年度) a Western year and month fall in: the year
 * starts on 1 August, so 2025-08 .. 2026-07 is 114. */
int roc_school_year(int year, int month);
/* The school year of today (UTC+8, Taiwan's time). */
int roc_school_year_now(void);

#endif
