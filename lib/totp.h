/*
 * totp: the second factor — RFC 4226 HOTP and RFC 6238 TOTP with HMAC-SHA1,
 * 30-second steps and 6 digits, plus what the enrolment page shows: the
 * base32 secret, the otpauth:// URI and that URI as an inline SVG QR code.
 * It owns no keys (callers pass them in and wipe them); it must never
 * accept a code for a step at or before the last one used.
 */
#ifndef LICHENG_TOTP_H
#define LICHENG_TOTP_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define TOTP_KEY_LEN 20 /* bytes of a new secret: RFC 4226 advises 160 bits */
#define TOTP_B32_MAX 64 /* bytes of a base32 secret incl. NUL, with room */
#define TOTP_STEP 30
#define TOTP_DIGITS 6

/* RFC 4648 base32 of n bytes, upper case, no padding, NUL-terminated into
 * out. -1 when out is too small. */
int
totp_b32_encode(const unsigned char *in, size_t n, char *out, size_t outlen);
/* Decodes base32 into out (outlen bytes) and sets *n. Accepts lower case,
 * ignores spaces, allows '=' padding at the end; -1 on anything else (a
 * foreign character, an impossible length, non-zero unused bits, too
 * little room). */
int
totp_b32_decode(const char *in, unsigned char *out, size_t outlen, size_t *n);
/* RFC 4226 HOTP: digits (6..8) decimal digits and a NUL into out, which
 * holds digits + 1 bytes. 0/-1. */
int totp_hotp(const unsigned char *key, size_t keylen, uint64_t counter,
    int digits, char *out, size_t outlen);
/* Checks a 6-digit code at unix time t: steps floor(t/30)-1 .. +1. Returns
 * the matched step (>= 0), or -1 when none matches or when the matching
 * step is <= last_step (a replayed code). Compares in constant time;
 * refuses a code that is not exactly 6 ASCII digits (spaces inside are
 * allowed and ignored, e.g. "123 456"). The caller stores the step
 * returned as the new last_step. */
int64_t totp_check(const unsigned char *key, size_t keylen, const char *code,
    int64_t t, int64_t last_step);
/* otpauth://totp/<Issuer>:<account>?secret=<B32>&issuer=<Issuer>
 * &algorithm=SHA1&digits=6&period=30 with label and issuer
 * percent-encoded (RFC 3986 unreserved kept; UTF-8 bytes encoded).
 * Appends to out. 0/-1. */
int totp_uri(
    const char *issuer, const char *account, const char *b32, struct buf *out);
/* An SVG image of text as a QR code (error correction level M) with a
 * 4-module quiet zone, a viewBox in modules, shape-rendering="crispEdges",
 * width and height of px_per_module (1..64) per module, the dark modules
 * as one <path> on a white <rect>, role="img" and aria-label (label,
 * HTML-escaped). Self-contained: no script, no external reference, safe to
 * embed inline in an HTML page. Appends to out. 0/-1. */
int totp_qr_svg(
    const char *text, int px_per_module, const char *label, struct buf *out);

#endif
