/*
 * pii: the handling of personal data that every part shares — a national ID
 * or resident certificate number kept as an HMAC (keys.lookup) for look-up
 * and as AES-256-GCM ciphertext (keys.data) bound to its student, and the
 * masked forms shown wherever the full value is not needed (A12*****89,
 * 王○明). Nothing here logs a value it is given.
 */
#ifndef LICHENG_PII_H
#define LICHENG_PII_H

#include <stddef.h>

#include "crypto.h"

/* The sealed form of a 10-character ID: 10 + CRYPTO_SEAL_OVERHEAD bytes. */
#define PII_TWID_SEALED_MAX 64

/* "national" for a national ID (A123456789, second digit 1 or 2),
 * "resident" for a resident certificate number (new A800000014 or old
 * AB12345678); NULL when s is not a valid number (validate_twid). */
const char *pii_twid_kind(const char *s);

/* The ID upper-cased into out[11]; -1 when s is not a valid number. */
int pii_twid_normalise(const char *s, char out[11]);

/* HMAC-SHA256 hex of the upper-cased ID under the lookup key: the value of
 * users.national_id_hmac and students.national_id_hmac. 0/-1. */
int pii_twid_hmac(const unsigned char key[CRYPTO_KEY_LEN], const char *twid,
    char out[CRYPTO_SHA256_HEX_LEN + 1]);

/* Seals the upper-cased ID for the student whose public_id is given (aad
 * "twid:<public_id>") into out; *written its length. 0/-1. */
int pii_twid_seal(const unsigned char key[CRYPTO_KEY_LEN],
    const char *student_public_id, const char *twid,
    unsigned char out[PII_TWID_SEALED_MAX], size_t *written);

/* Opens what pii_twid_seal made into out[11]. -1 on any change of key,
 * student or byte. */
int pii_twid_open(const unsigned char key[CRYPTO_KEY_LEN],
    const char *student_public_id, const unsigned char *sealed, size_t n,
    char out[11]);

/* The masked form: the first three and last two characters kept, the five
 * between shown as '*' (A12*****89). Anything that is not 10 ASCII
 * characters becomes "**********". */
void pii_twid_mask(const char *twid, char out[11]);

/* A name with every code point but the first and the last replaced by ○
 * (王小明 -> 王○明, 王明 -> 王○, "Ann Lee" -> "A○○○○○e"); at most outlen
 * bytes with the NUL. Not UTF-8: "○". */
void pii_name_mask(const char *name, char *out, size_t outlen);

#endif
