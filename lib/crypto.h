/*
 * crypto: the OpenSSL primitives Licheng needs, behind small functions:
 * SHA-256 of a buffer, a stream and a file, random bytes and hex. It owns
 * no keys yet; it never falls back to a weaker source when the system's
 * random generator fails.
 */
#ifndef LICHENG_CRYPTO_H
#define LICHENG_CRYPTO_H

#include <stddef.h>

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_SHA256_HEX_LEN 64

struct crypto_sha256;

/* SHA-256 of n bytes at p into out. 0/-1. */
int
crypto_sha256(const void *p, size_t n, unsigned char out[CRYPTO_SHA256_LEN]);
/* The same as lower-case hex, NUL-terminated. 0/-1. */
int
crypto_sha256_hex(const void *p, size_t n, char out[CRYPTO_SHA256_HEX_LEN + 1]);
/* SHA-256 of the file at path, read in constant memory, as hex. 0/-1. */
int crypto_sha256_file(const char *path, char out[CRYPTO_SHA256_HEX_LEN + 1]);

/* Incremental SHA-256 (uploads hash as they stream in). new returns NULL
 * on failure; the caller owns the context and frees it with
 * crypto_sha256_free (accepts NULL), also after final. */
struct crypto_sha256 *crypto_sha256_new(void);
int crypto_sha256_update(struct crypto_sha256 *h, const void *p, size_t n);
int crypto_sha256_final_hex(
    struct crypto_sha256 *h, char out[CRYPTO_SHA256_HEX_LEN + 1]);
void crypto_sha256_free(struct crypto_sha256 *h);

/* n cryptographically random bytes (RAND_bytes). 0/-1. */
int crypto_random(void *p, size_t n);

/* Logs, as func, that what failed, with OpenSSL's reason (once). */
void crypto_log_ossl(const char *func, const char *what);
/* Base64 of n bytes without padding into out (at least (4n + 2) / 3 + 1
 * bytes), NUL-terminated: the standard alphabet, or with url set the
 * URL-safe one (RFC 4648 section 5). Returns the characters written. */
size_t crypto_b64_encode(const unsigned char *in, size_t n, int url, char *out);
/* nbytes random bytes as hex into out, which holds 2 * nbytes + 1. 0/-1. */
int crypto_random_hex(size_t nbytes, char *out, size_t outlen);

/* 256-bit keys (keys.data, keys.lookup) and the sealed-box layout. */
#define CRYPTO_KEY_LEN 32
#define CRYPTO_GCM_NONCE 12
#define CRYPTO_GCM_TAG 16
#define CRYPTO_SEAL_OVERHEAD (CRYPTO_GCM_NONCE + CRYPTO_GCM_TAG)

/* Decodes 64 hex digits into key; -1 (key wiped) when hex is not that. */
int crypto_key_from_hex(const char *hex, unsigned char key[CRYPTO_KEY_LEN]);
/* HMAC-SHA256 of n bytes under key, as 64 lower-case hex digits. */
int crypto_hmac_sha256_hex(const unsigned char key[CRYPTO_KEY_LEN],
    const void *p, size_t n, char out[CRYPTO_SHA256_HEX_LEN + 1]);
/*
 * AES-256-GCM: seals n bytes into out as nonce || ciphertext || tag
 * (n + CRYPTO_SEAL_OVERHEAD bytes), authenticating aad (a NUL-terminated
 * label that binds the value to its place). crypto_open reverses it and
 * fails (-1) on any change of key, aad or byte. Both 0 / -1.
 */
int crypto_seal(const unsigned char key[CRYPTO_KEY_LEN], const char *aad,
    const void *in, size_t n, unsigned char *out, size_t outlen,
    size_t *written);
int crypto_open(const unsigned char key[CRYPTO_KEY_LEN], const char *aad,
    const unsigned char *in, size_t n, unsigned char *out, size_t outlen,
    size_t *written);

#endif
