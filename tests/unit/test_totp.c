/*
 * test_totp: RFC 4226 and RFC 6238 vectors, the ±1 step window and replay
 * refusal, RFC 4648 base32, the otpauth URI's percent-encoding, and the QR
 * SVG (redrawn from its path and compared with libqrencode's matrix).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "../harness.h"
#include "log.h"
#include "totp.h"
#include "util.h"

static const unsigned char rfc_key[] = "12345678901234567890";
#define RFC_KEY_LEN 20

static void
test_hotp(void)
{
	static const char *const want[] = {"755224", "287082", "359152",
	    "969429", "338314", "254676", "287922", "162583", "399871",
	    "520489"};
	char out[9];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(want); i++) {
		CHECK(totp_hotp(rfc_key, RFC_KEY_LEN, i, 6, out, sizeof(out)) ==
		    0);
		CHECK_MSG(strcmp(out, want[i]) == 0, "count %zu: %s", i, out);
	}
	CHECK(log_open("/dev/null", LL_ERROR) == 0);
	CHECK(totp_hotp(rfc_key, RFC_KEY_LEN, 0, 5, out, sizeof(out)) == -1);
	CHECK(totp_hotp(rfc_key, RFC_KEY_LEN, 0, 9, out, sizeof(out)) == -1);
	CHECK(totp_hotp(rfc_key, RFC_KEY_LEN, 0, 8, out, 8) == -1);
	CHECK(totp_hotp(rfc_key, 0, 0, 6, out, sizeof(out)) == -1);
	CHECK(log_open("-", LL_INFO) == 0);
}

static void
test_rfc6238(void)
{
	static const struct {
		int64_t t;
		const char *code;
	} v[] = {
	    {59, "94287082"},
	    {1111111109, "07081804"},
	    {1111111111, "14050471"},
	    {1234567890, "89005924"},
	    {2000000000, "69279037"},
	    {20000000000LL, "65353130"},
	};
	char out[9];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		CHECK(totp_hotp(rfc_key, RFC_KEY_LEN, (uint64_t)(v[i].t / 30),
		    8, out, sizeof(out)) == 0);
		CHECK_MSG(strcmp(out, v[i].code) == 0, "t=%lld: %s",
		    (long long)v[i].t, out);
	}
}

/* The 6-digit code of step s into out[7]. */
static void
code_at(int64_t s, char out[7])
{
	CHECK(totp_hotp(rfc_key, RFC_KEY_LEN, (uint64_t)s, 6, out, 7) == 0);
}

static void
test_check(void)
{
	const int64_t t = 1111111111, step = t / 30;
	char c[7], spaced[16];
	int64_t k;

	for (k = -1; k <= 1; k++) {
		code_at(step + k, c);
		CHECK_MSG(totp_check(rfc_key, RFC_KEY_LEN, c, t, -1) == step + k,
		    "step %+lld", (long long)k);
	}
	code_at(step - 2, c);
	CHECK(totp_check(rfc_key, RFC_KEY_LEN, c, t, -1) == -1);
	code_at(step + 2, c);
	CHECK(totp_check(rfc_key, RFC_KEY_LEN, c, t, -1) == -1);

	/* Replay: a step at or before the last one used is refused. */
	code_at(step, c);
	CHECK(totp_check(rfc_key, RFC_KEY_LEN, c, t, step) == -1);
	CHECK(totp_check(rfc_key, RFC_KEY_LEN, c, t, step + 1) == -1);
	CHECK(totp_check(rfc_key, RFC_KEY_LEN, c, t, step - 1) == step);
	code_at(step - 1, c);
	CHECK(totp_check(rfc_key, RFC_KEY_LEN, c, t, step - 1) == -1);

	/* Typed shapes. */
	code_at(step, c);
	snprintf(spaced, sizeof(spaced), "%.3s %.3s", c, c + 3);
	CHECK(totp_check(rfc_key, RFC_KEY_LEN, spaced, t, -1) == step);
	snprintf(spaced, sizeof(spaced), " %s ", c);
	CHECK(totp_check(rfc_key, RFC_KEY_LEN, spaced, t, -1) == step);
	snprintf(spaced, sizeof(spaced), "%.5s", c);
	CHECK(totp_check(rfc_key, RFC_KEY_LEN, spaced, t, -1) == -1);
	snprintf(spaced, sizeof(spaced), "%s0", c);
	CHECK(totp_check(rfc_key, RFC_KEY_LEN, spaced, t, -1) == -1);
	snprintf(spaced, sizeof(spaced), "%.5sx", c);
	CHECK(totp_check(rfc_key, RFC_KEY_LEN, spaced, t, -1) == -1);
	snprintf(spaced, sizeof(spaced), "%.3s-%.3s", c, c + 3);
	CHECK(totp_check(rfc_key, RFC_KEY_LEN, spaced, t, -1) == -1);
	snprintf(spaced, sizeof(spaced), "%.3s\t%.3s", c, c + 3);
	CHECK(totp_check(rfc_key, RFC_KEY_LEN, spaced, t, -1) == -1);
	CHECK(totp_check(rfc_key, RFC_KEY_LEN, "", t, -1) == -1);
	CHECK(totp_check(rfc_key, RFC_KEY_LEN, "１２３４５６", t, -1) == -1);
	CHECK(totp_check(rfc_key, RFC_KEY_LEN, "1 2 3 4 5 6         ", t, -1) ==
	    -1); /* longer than any typed code */
	CHECK(totp_check(rfc_key, RFC_KEY_LEN, c, -1, -1) == -1);

	/* At step 0 there is no step before. */
	code_at(0, c);
	CHECK(totp_check(rfc_key, RFC_KEY_LEN, c, 10, -1) == 0);
	code_at(1, c);
	CHECK(totp_check(rfc_key, RFC_KEY_LEN, c, 10, -1) == 1);
}

static int
enc_is(const char *in, const char *want)
{
	char out[TOTP_B32_MAX];

	if (totp_b32_encode((const unsigned char *)in, strlen(in), out,
		sizeof(out)) != 0)
		return 0;
	return strcmp(out, want) == 0;
}

static int
dec_is(const char *in, const char *want)
{
	unsigned char out[TOTP_B32_MAX];
	size_t n = 999;

	if (totp_b32_decode(in, out, sizeof(out), &n) != 0)
		return 0;
	return n == strlen(want) && memcmp(out, want, n) == 0;
}

static int
dec_fails(const char *in)
{
	unsigned char out[TOTP_B32_MAX];
	size_t n;

	return totp_b32_decode(in, out, sizeof(out), &n) == -1;
}

static void
test_b32(void)
{
	static const char *const v[][3] = {
	    {"", "", ""},
	    {"f", "MY", "MY======"},
	    {"fo", "MZXQ", "MZXQ===="},
	    {"foo", "MZXW6", "MZXW6==="},
	    {"foob", "MZXW6YQ", "MZXW6YQ="},
	    {"fooba", "MZXW6YTB", "MZXW6YTB"},
	    {"foobar", "MZXW6YTBOI", "MZXW6YTBOI======"},
	};
	unsigned char key[TOTP_KEY_LEN], back[TOTP_KEY_LEN];
	char out[TOTP_B32_MAX];
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		CHECK_MSG(enc_is(v[i][0], v[i][1]), "encode %s", v[i][0]);
		CHECK_MSG(dec_is(v[i][1], v[i][0]), "decode %s", v[i][1]);
		CHECK_MSG(dec_is(v[i][2], v[i][0]), "decode %s", v[i][2]);
	}
	CHECK(dec_is("mzxw6ytboi", "foobar"));
	CHECK(dec_is("MZXW 6YTB OI", "foobar"));
	CHECK(dec_is("mzxw6ytboi ====== ", "foobar"));
	CHECK(dec_fails("MZXW1YTB"));   /* 1 is not base32 */
	CHECK(dec_fails("MZXW6YTB!"));
	CHECK(dec_fails("MZXW6YTB\n"));
	CHECK(dec_fails("MY=A"));       /* data after padding */
	CHECK(dec_fails("MY="));        /* wrong amount of padding */
	CHECK(dec_fails("MZXW6YTBOI=")); /* wrong amount of padding */
	CHECK(dec_fails("M"));          /* impossible lengths */
	CHECK(dec_fails("MZX"));
	CHECK(dec_fails("MZXW6Y"));
	CHECK(dec_fails("MZ"));         /* unused bits not zero */
	CHECK(dec_fails("MZXW6YTBOJ"));

	CHECK(log_open("/dev/null", LL_ERROR) == 0);
	CHECK(totp_b32_encode((const unsigned char *)"foobar", 6, out, 10) ==
	    -1);
	CHECK(totp_b32_encode((const unsigned char *)"foobar", 6, out, 11) ==
	    0);
	CHECK(log_open("-", LL_INFO) == 0);
	CHECK(totp_b32_decode("MZXW6YTBOI", back, 5, &n) == -1);
	CHECK(totp_b32_decode("MZXW6YTBOI", back, 6, &n) == 0 && n == 6);

	/* A secret of the enrolment's size goes there and back. */
	for (i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(i * 37 + 11);
	CHECK(totp_b32_encode(key, sizeof(key), out, sizeof(out)) == 0);
	CHECK(strlen(out) == 32);
	CHECK(totp_b32_decode(out, back, sizeof(back), &n) == 0);
	CHECK(n == sizeof(key) && memcmp(key, back, n) == 0);
}

static void
test_uri(void)
{
	struct buf b;

	buf_init(&b);
	CHECK(totp_uri("Licheng 歷程", "chen.wei@school.edu.tw:x~1",
	    "JBSWY3DPEHPK3PXP", &b) == 0);
	CHECK_MSG(strcmp(b.data,
	    "otpauth://totp/Licheng%20%E6%AD%B7%E7%A8%8B:"
	    "chen.wei%40school.edu.tw%3Ax~1?secret=JBSWY3DPEHPK3PXP"
	    "&issuer=Licheng%20%E6%AD%B7%E7%A8%8B"
	    "&algorithm=SHA1&digits=6&period=30") == 0, "%s", b.data);

	/* An account cannot smuggle in its own parameters. */
	buf_reset(&b);
	CHECK(totp_uri("L", "a&secret=X?#/", "AB", &b) == 0);
	CHECK_MSG(strcmp(b.data, "otpauth://totp/L:a%26secret%3DX%3F%23%2F"
	    "?secret=AB&issuer=L&algorithm=SHA1&digits=6&period=30") == 0,
	    "%s", b.data);

	CHECK(log_open("/dev/null", LL_ERROR) == 0);
	buf_reset(&b);
	CHECK(totp_uri("", "a", "AB", &b) == -1);
	CHECK(totp_uri("L", "", "AB", &b) == -1);
	CHECK(totp_uri("L", "a", "", &b) == -1);
	CHECK(totp_uri("L", "a", "ab", &b) == -1);
	CHECK(totp_uri("L", "a", "AB&x=1", &b) == -1);
	CHECK(totp_uri("L", "a", "AB==", &b) == -1);
	CHECK(b.len == 0);
	CHECK(log_open("-", LL_INFO) == 0);
	buf_free(&b);
}

/* Reads an integer attribute name="..." out of svg; -1 if missing. */
static int
svg_attr(const char *svg, const char *name)
{
	char key[32];
	const char *p;

	snprintf(key, sizeof(key), " %s=\"", name);
	if ((p = strstr(svg, key)) == NULL)
		return -1;
	return atoi(p + strlen(key));
}

/* Redraws the path's runs and compares them with libqrencode's matrix for
 * the same text: every dark module drawn once, no light one drawn. */
static int
svg_matches_qr(const char *svg, const char *text)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	const char *p = strstr(svg, " d=\"");
	unsigned char *seen;
	int x, y, n, m, used, w, ok = 1;

	if (qr == NULL || p == NULL)
		return 0;
	w = qr->width;
	seen = xcalloc((size_t)w * (size_t)w, 1);
	for (p += 4; ok && *p == 'M'; p += used) {
		if (sscanf(p, "M%d %dh%dv1h-%dz%n", &x, &y, &n, &m, &used) != 4 ||
		    n != m || n < 1 || y < 4 || y >= w + 4 || x < 4 ||
		    x + n > w + 4) {
			ok = 0;
			break;
		}
		for (; n > 0; n--, x++)
			seen[(y - 4) * w + (x - 4)]++;
	}
	for (y = 0; ok && y < w * w; y++)
		ok = seen[y] == (qr->data[y] & 1);
	ok = ok && *p == '"';
	free(seen);
	QRcode_free(qr);
	return ok;
}

static void
test_qr(void)
{
	const char *text = "otpauth://totp/Licheng:chen.wei?secret="
			   "JBSWY3DPEHPK3PXP&issuer=Licheng&algorithm=SHA1"
			   "&digits=6&period=30";
	struct buf a, b;
	int vb, w;

	buf_init(&a);
	buf_init(&b);
	CHECK(totp_qr_svg(text, 4, "QR <code> & \"more\"", &a) == 0);
	CHECK(strncmp(a.data, "<svg", 4) == 0);
	CHECK(strstr(a.data, "viewBox=\"0 0 ") != NULL);
	CHECK(strstr(a.data, "shape-rendering=\"crispEdges\"") != NULL);
	CHECK(strstr(a.data, "role=\"img\"") != NULL);
	CHECK(strstr(a.data,
	    "aria-label=\"QR &lt;code&gt; &amp; &quot;more&quot;\"") != NULL);
	CHECK(strstr(a.data, "<script") == NULL);
	CHECK(strstr(a.data, "href") == NULL);
	CHECK(strstr(a.data, "url(") == NULL);
	CHECK(strstr(a.data, "<path") != NULL);
	CHECK(strstr(a.data, "<rect") != NULL);
	CHECK(a.len > 6 && strcmp(a.data + a.len - 6, "</svg>") == 0);

	/* The viewBox is the symbol plus a 4-module quiet zone each side;
	 * width is 4 px per module. */
	vb = atoi(strstr(a.data, "viewBox=\"0 0 ") + 13);
	w = svg_attr(a.data, "width");
	CHECK_MSG(vb >= 21 + 8 && w == 4 * vb, "viewBox %d, width %d", vb, w);
	CHECK(svg_attr(a.data, "height") == w);
	CHECK(svg_matches_qr(a.data, text));

	/* Deterministic. */
	CHECK(totp_qr_svg(text, 4, "QR <code> & \"more\"", &b) == 0);
	CHECK(a.len == b.len && strcmp(a.data, b.data) == 0);

	CHECK(log_open("/dev/null", LL_ERROR) == 0);
	buf_reset(&b);
	CHECK(totp_qr_svg(text, 0, "x", &b) == -1);
	CHECK(totp_qr_svg(text, 65, "x", &b) == -1);
	CHECK(totp_qr_svg("", 4, "x", &b) == -1);
	CHECK(b.len == 0);
	CHECK(log_open("-", LL_INFO) == 0);
	buf_free(&a);
	buf_free(&b);
}

int
main(void)
{
	test_hotp();
	test_rfc6238();
	test_check();
	test_b32();
	test_uri();
	test_qr();
	return harness_done();
}
