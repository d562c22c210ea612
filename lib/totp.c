/*
 * totp: HOTP/TOTP over OpenSSL's HMAC-SHA1 (EVP_MAC), base32, the otpauth
 * URI and its QR code as SVG (libqrencode). It never keeps a key or a code
 * beyond the call that was given it, wiping the expected codes before it
 * returns, and never writes markup that is not escaped or generated here.
 */
#include "totp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <qrencode.h>

#include "crypto.h"
#include "log.h"
#include "util.h"

#define TOTP_SHA1_LEN 20
#define TOTP_CODE_IN_MAX 16 /* bytes of a typed code, spaces included */
#define TOTP_URI_PART_MAX 128
#define TOTP_QR_QUIET 4
#define TOTP_QR_PX_MAX 64

static const char totp_b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int
totp_b32_encode(const unsigned char *in, size_t n, char *out, size_t outlen)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t i, o = 0;

	if (n > (SIZE_MAX - 4) / 8 || outlen < (n * 8 + 4) / 5 + 1) {
		log_error("base32 of %zu bytes does not fit in %zu", n, outlen);
		return -1;
	}
	for (i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = totp_b32[(acc >> bits) & 31];
		}
	}
	if (bits > 0)
		out[o++] = totp_b32[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return 0;
}

/* The value of a base32 character in either case, or -1. */
static int
totp_b32_value(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* Checks what follows the data: '=' and spaces only, and if there is any
 * padding, exactly the amount RFC 4648 gives for nchars data characters. */
static int
totp_b32_tail(const char *s, size_t nchars)
{
	static const int pad_for[8] = {0, -1, 6, -1, 4, 3, -1, 1};
	int pads = 0;

	for (; *s != '\0'; s++) {
		if (*s == '=')
			pads++;
		else if (*s != ' ')
			return -1;
	}
	if (pad_for[nchars % 8] < 0)
		return -1;
	return pads == 0 || pads == pad_for[nchars % 8] ? 0 : -1;
}

int
totp_b32_decode(const char *in, unsigned char *out, size_t outlen, size_t *n)
{
	uint32_t acc = 0;
	int bits = 0, v;
	size_t o = 0, nchars = 0;

	for (; *in != '\0' && *in != '='; in++) {
		if (*in == ' ')
			continue;
		if ((v = totp_b32_value(*in)) < 0)
			return -1;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		nchars++;
		if (bits >= 8) {
			bits -= 8;
			if (o == outlen)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	/* Unused low bits must be zero so that each secret has one spelling. */
	if (totp_b32_tail(in, nchars) != 0 || (acc & ((1u << bits) - 1)) != 0)
		return -1;
	*n = o;
	return 0;
}

/* HMAC-SHA1 of the counter as 8 big-endian bytes. 0/-1. */
static int
totp_hmac(const unsigned char *key, size_t keylen, uint64_t counter,
    unsigned char mac[TOTP_SHA1_LEN])
{
	unsigned char msg[8];
	size_t len = 0;
	int i;

	for (i = 7; i >= 0; i--, counter >>= 8)
		msg[i] = (unsigned char)(counter & 0xff);
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA1", NULL, key, keylen, msg,
		sizeof(msg), mac, TOTP_SHA1_LEN, &len) == NULL ||
	    len != TOTP_SHA1_LEN) {
		crypto_log_ossl(__func__, "EVP_Q_mac HMAC-SHA1");
		return -1;
	}
	return 0;
}

int
totp_hotp(const unsigned char *key, size_t keylen, uint64_t counter, int digits,
    char *out, size_t outlen)
{
	static const uint32_t mod[] = {1000000, 10000000, 100000000};
	unsigned char mac[TOTP_SHA1_LEN];
	uint32_t bin;
	int off, n;

	if (digits < 6 || digits > 8 || outlen < (size_t)digits + 1 ||
	    key == NULL || keylen == 0) {
		log_error("HOTP of %d digits into %zu bytes, key of %zu bytes",
		    digits, outlen, keylen);
		return -1;
	}
	if (totp_hmac(key, keylen, counter, mac) != 0)
		return -1;
	/* RFC 4226 section 5.3: dynamic truncation. */
	off = mac[TOTP_SHA1_LEN - 1] & 0x0f;
	bin = (uint32_t)(mac[off] & 0x7f) << 24 | (uint32_t)mac[off + 1] << 16 |
	    (uint32_t)mac[off + 2] << 8 | (uint32_t)mac[off + 3];
	OPENSSL_cleanse(mac, sizeof(mac));
	n = snprintf(
	    out, outlen, "%0*u", digits, (unsigned)(bin % mod[digits - 6]));
	return n == digits ? 0 : -1;
}

/* Copies the 6 digits of a typed code into out, dropping spaces; -1 unless
 * there are exactly 6 ASCII digits and nothing else. */
static int
totp_code_norm(const char *code, char out[TOTP_DIGITS + 1])
{
	size_t i, len = strnlen(code, TOTP_CODE_IN_MAX + 1);
	int n = 0;

	if (len > TOTP_CODE_IN_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		if (code[i] == ' ')
			continue;
		if (code[i] < '0' || code[i] > '9' || n == TOTP_DIGITS)
			return -1;
		out[n++] = code[i];
	}
	out[n] = '\0';
	return n == TOTP_DIGITS ? 0 : -1;
}

int64_t
totp_check(const unsigned char *key, size_t keylen, const char *code, int64_t t,
    int64_t last_step)
{
	char got[TOTP_DIGITS + 1], want[TOTP_DIGITS + 1];
	int64_t step, s, found = -1;

	if (code == NULL || t < 0 || totp_code_norm(code, got) != 0)
		return -1;
	step = t / TOTP_STEP;
	for (s = step - 1; s <= step + 1; s++) {
		if (s < 0)
			continue;
		if (totp_hotp(key, keylen, (uint64_t)s, TOTP_DIGITS, want,
			sizeof(want)) != 0) {
			found = -1;
			break;
		}
		/* All three steps are computed and compared whatever matched,
		 * so the time taken says nothing about which one did. */
		if (CRYPTO_memcmp(want, got, TOTP_DIGITS) == 0 &&
		    s > last_step && found < 0)
			found = s;
	}
	OPENSSL_cleanse(want, sizeof(want));
	OPENSSL_cleanse(got, sizeof(got));
	return found;
}

/* Appends s percent-encoded: RFC 3986 unreserved characters stay, every
 * other byte (UTF-8 included) becomes %XX. */
static void
totp_pct(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			buf_putc(out, (char)c);
		else
			buf_printf(out, "%%%02X", c);
	}
}

/* 1 when s is 1..max bytes long. */
static int
totp_len_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	return n > 0 && n <= max;
}

int
totp_uri(
    const char *issuer, const char *account, const char *b32, struct buf *out)
{
	size_t i;

	if (!totp_len_ok(issuer, TOTP_URI_PART_MAX) ||
	    !totp_len_ok(account, TOTP_URI_PART_MAX) ||
	    !totp_len_ok(b32, TOTP_B32_MAX - 1)) {
		log_error("issuer, account or secret empty or too long");
		return -1;
	}
	for (i = 0; b32[i] != '\0'; i++) {
		if (strchr(totp_b32, b32[i]) == NULL) {
			log_error("secret is not upper-case base32");
			return -1;
		}
	}
	buf_puts(out, "otpauth://totp/");
	totp_pct(out, issuer);
	buf_putc(out, ':');
	totp_pct(out, account);
	buf_printf(out, "?secret=%s&issuer=", b32);
	totp_pct(out, issuer);
	buf_printf(
	    out, "&algorithm=SHA1&digits=%d&period=%d", TOTP_DIGITS, TOTP_STEP);
	return 0;
}

/* Appends the dark modules as path data: one "M x y h n v1 h-n z" per run
 * of dark modules in a row, offset by the quiet zone. */
static void
totp_qr_path(const QRcode *qr, struct buf *out)
{
	int x, y, run;

	for (y = 0; y < qr->width; y++) {
		const unsigned char *row = qr->data + (size_t)y * qr->width;

		for (x = 0; x < qr->width; x++) {
			if ((row[x] & 1) == 0)
				continue;
			for (run = 1; x + run < qr->width && (row[x + run] & 1);
			     run++)
				;
			buf_printf(out, "M%d %dh%dv1h-%dz", x + TOTP_QR_QUIET,
			    y + TOTP_QR_QUIET, run, run);
			/* x + run is light or the edge; the loop steps past. */
			x += run;
		}
	}
}

int
totp_qr_svg(
    const char *text, int px_per_module, const char *label, struct buf *out)
{
	QRcode *qr;
	int size;

	if (px_per_module < 1 || px_per_module > TOTP_QR_PX_MAX) {
		log_error("%d pixels per module: must be 1..%d", px_per_module,
		    TOTP_QR_PX_MAX);
		return -1;
	}
	if ((qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1)) ==
	    NULL) {
		log_error("QRcode_encodeString: %s", strerror(errno));
		return -1;
	}
	size = qr->width + 2 * TOTP_QR_QUIET;
	/* xmlns is a namespace name, never fetched: the image stays
	 * self-contained inline and as a file. */
	buf_printf(out,
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%d\" viewBox=\"0 0 %d %d\" "
	    "shape-rendering=\"crispEdges\" "
	    "role=\"img\" aria-label=\"",
	    size * px_per_module, size * px_per_module, size, size);
	buf_html(out, label, strlen(label));
	buf_printf(out,
	    "\"><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
	    "<path fill=\"#000\" d=\"",
	    size, size);
	totp_qr_path(qr, out);
	buf_puts(out, "\"/></svg>");
	QRcode_free(qr);
	return 0;
}
