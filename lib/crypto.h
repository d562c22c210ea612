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
/* nbytes random bytes as hex into out, which holds 2 * nbytes + 1. 0/-1. */
int crypto_random_hex(size_t nbytes, char *out, size_t outlen);

#endif
