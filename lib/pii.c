/*
 * pii: national IDs kept as HMAC + sealed ciphertext, and masked display.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "pii.h"
#include "validate.h"

const char *
pii_twid_kind(const char *s)
{
	if (s == NULL || !validate_twid(s))
		return NULL;
	return (s[1] == '1' || s[1] == '2') ? "national" : "resident";
}

int
pii_twid_normalise(const char *s, char out[11])
{
	size_t i;

	if (s == NULL || !validate_twid(s))
		return -1;
	for (i = 0; i < 10; i++)
		out[i] = (char)toupper((unsigned char)s[i]);
	out[10] = '\0';
	return 0;
}

int
pii_twid_hmac(const unsigned char key[CRYPTO_KEY_LEN], const char *twid,
    char out[CRYPTO_SHA256_HEX_LEN + 1])
{
	char up[11];
	int rc;

	if (pii_twid_normalise(twid, up) != 0)
		return -1;
	rc = crypto_hmac_sha256_hex(key, up, 10, out);
	OPENSSL_cleanse(up, sizeof(up));
	return rc;
}

/* "twid:<public_id>" into aad; -1 when it does not fit. */
static int
pii_aad(const char *student_public_id, char *aad, size_t len)
{
	int n = snprintf(aad, len, "twid:%s", student_public_id);

	return n > 0 && (size_t)n < len ? 0 : -1;
}

int
pii_twid_seal(const unsigned char key[CRYPTO_KEY_LEN],
    const char *student_public_id, const char *twid,
    unsigned char out[PII_TWID_SEALED_MAX], size_t *written)
{
	char up[11], aad[64];
	int rc;

	if (pii_aad(student_public_id, aad, sizeof(aad)) != 0 ||
	    pii_twid_normalise(twid, up) != 0)
		return -1;
	rc = crypto_seal(key, aad, up, 10, out, PII_TWID_SEALED_MAX, written);
	OPENSSL_cleanse(up, sizeof(up));
	return rc;
}

int
pii_twid_open(const unsigned char key[CRYPTO_KEY_LEN],
    const char *student_public_id, const unsigned char *sealed, size_t n,
    char out[11])
{
	char aad[64];
	unsigned char plain[PII_TWID_SEALED_MAX];
	size_t got = 0;
	int rc = -1;

	out[0] = '\0';
	if (pii_aad(student_public_id, aad, sizeof(aad)) != 0)
		return -1;
	if (crypto_open(key, aad, sealed, n, plain, sizeof(plain), &got) == 0 &&
	    got == 10) {
		memcpy(out, plain, 10);
		out[10] = '\0';
		rc = 0;
	}
	OPENSSL_cleanse(plain, sizeof(plain));
	return rc;
}

void
pii_twid_mask(const char *twid, char out[11])
{
	size_t i, n = twid != NULL ? strlen(twid) : 0;

	for (i = 0; i < 10; i++)
		out[i] = '*';
	out[10] = '\0';
	if (n != 10)
		return;
	for (i = 0; i < 10; i++)
		if ((unsigned char)twid[i] >= 0x80 ||
		    !isalnum((unsigned char)twid[i]))
			return;
	for (i = 0; i < 10; i++)
		if (i < 3 || i >= 8)
			out[i] = (char)toupper((unsigned char)twid[i]);
}

/* The byte length of the UTF-8 sequence starting at s (1 for a stray
 * byte, so a malformed name still advances). */
static size_t
pii_cp_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0 && (s[1] & 0xc0) == 0x80)
		return 2;
	if ((s[0] & 0xf0) == 0xe0 && (s[1] & 0xc0) == 0x80 &&
	    (s[2] & 0xc0) == 0x80)
		return 3;
	if ((s[0] & 0xf8) == 0xf0 && (s[1] & 0xc0) == 0x80 &&
	    (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80)
		return 4;
	return 1;
}

void
pii_name_mask(const char *name, char *out, size_t outlen)
{
	static const char ring[] = "\xe2\x97\x8b"; /* ○ */
	const unsigned char *s = (const unsigned char *)(name ? name : "");
	size_t cps = 0, i, k, o = 0, first, last_at = 0, last_len = 0;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (i = 0; s[i] != '\0'; i += k) {
		k = pii_cp_len(s + i);
		last_at = i;
		last_len = k;
		cps++;
	}
	if (cps == 0)
		return;
	first = pii_cp_len(s);
	if (first + 1 > outlen)
		return;
	memcpy(out, s, first);
	o = first;
	/* One ring per hidden code point; a one-character name shows a ring
	 * after it so its length is not given away as 1 either. */
	for (i = 0; i < (cps > 2 ? cps - 2 : 1); i++) {
		if (o + sizeof(ring) - 1 + 1 > outlen)
			break;
		memcpy(out + o, ring, sizeof(ring) - 1);
		o += sizeof(ring) - 1;
	}
	if (cps > 2 && o + last_len + 1 <= outlen) {
		memcpy(out + o, s + last_at, last_len);
		o += last_len;
	}
	out[o] = '\0';
}
