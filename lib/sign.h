/*
 * sign: the school platform's Ed25519 key (RFC 8032, through OpenSSL 3's
 * EVP_PKEY_ED25519): generate it, load it from the 64-hex-digit seed of the
 * secrets file (signing.school_key), sign and verify, and write its
 * certificate request (PKCS#10) for the central CA and the self-signed
 * certificate that serves until the CA issues one. A private key is wiped
 * when freed and never written anywhere but out of sign_key_seed_hex.
 */
#ifndef LICHENG_SIGN_H
#define LICHENG_SIGN_H

#include <stddef.h>

struct buf;

#define SIGN_PUB_LEN 32
#define SIGN_SIG_LEN 64
#define SIGN_HEX_LEN 64 /* a seed, a public key or a key id in hex */
#define SIGN_SIG_HEX_LEN 128

struct sign_key;

/* A new random key; NULL on failure. */
struct sign_key *sign_key_generate(void);
/* The key of a 64-hex-digit seed (lower or upper case); NULL when hex is
 * not one. */
struct sign_key *sign_key_from_hex(const char *hex);
/* Frees and wipes k (NULL is fine). */
void sign_key_free(struct sign_key *k);
/* The seed as 64 lower-case hex digits and a NUL. 0/-1. */
int sign_key_seed_hex(const struct sign_key *k, char out[SIGN_HEX_LEN + 1]);
/* The raw public key. 0/-1. */
int sign_key_public(const struct sign_key *k, unsigned char pub[SIGN_PUB_LEN]);
/* The key id: SHA-256 of the raw public key, 64 lower-case hex digits. */
void
sign_key_id(const unsigned char pub[SIGN_PUB_LEN], char out[SIGN_HEX_LEN + 1]);
/* The raw public key of 64 hex digits. 0/-1. */
int sign_pub_from_hex(const char *hex, unsigned char pub[SIGN_PUB_LEN]);

/* Signs the n bytes at msg. 0/-1. */
int sign_message(const struct sign_key *k, const void *msg, size_t n,
    unsigned char sig[SIGN_SIG_LEN]);
/* 1 when sig is pub's signature of msg, 0 when it is not, -1 on an error
 * of OpenSSL's. */
int sign_verify(const unsigned char pub[SIGN_PUB_LEN], const void *msg,
    size_t n, const unsigned char sig[SIGN_SIG_LEN]);

/* The subject of the platform's request and certificate: CN = common_name
 * (the platform's host name), O = organisation, C = TW. Both are UTF-8 of
 * 1..64 characters. */
/* A PEM certificate request signed by k, appended to out. 0/-1. */
int sign_csr_pem(const struct sign_key *k, const char *common_name,
    const char *organisation, struct buf *out);
/* A PEM self-signed X.509 v3 certificate of k, valid from now for days
 * days, with a random serial, appended to out. 0/-1. */
int sign_selfcert_pem(const struct sign_key *k, const char *common_name,
    const char *organisation, int days, struct buf *out);
/* The Ed25519 public key of a PEM certificate. 0, or -1 when pem is not a
 * certificate of an Ed25519 key. */
int sign_cert_public(const char *pem, unsigned char pub[SIGN_PUB_LEN]);

#endif
