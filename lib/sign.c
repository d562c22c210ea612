/*
 * sign: the platform's Ed25519 key through OpenSSL 3's EVP interface only
 * (raw keys, one-shot EVP_DigestSign / EVP_DigestVerify with a NULL digest,
 * as Ed25519 requires), and its PKCS#10 request and self-signed X.509 v3
 * certificate. It owns the EVP_PKEY of a struct sign_key; a seed it decodes
 * or reads back is wiped with OPENSSL_cleanse, and it never writes a
 * private key anywhere but into the caller's buffer of sign_key_seed_hex.
 */
#include "sign.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto.h"
#include "log.h"
#include "util.h"
#include "validate.h"

#define SIGN_SEED_LEN 32
#define SIGN_NAME_MAX 64 /* characters of a subject's CN and O */

struct sign_key {
	EVP_PKEY *pkey;
};

/* 2n hex digits (either case) into n bytes. 0, or -1 (out wiped). */
static int
sign_unhex(const char *hex, unsigned char *out, size_t n)
{
	size_t i;

	if (hex == NULL || strlen(hex) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			OPENSSL_cleanse(out, n);
			return -1;
		}
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static struct sign_key *
sign_key_from_seed(const unsigned char seed[SIGN_SEED_LEN])
{
	struct sign_key *k;
	EVP_PKEY *pkey;

	pkey = EVP_PKEY_new_raw_private_key(
	    EVP_PKEY_ED25519, NULL, seed, SIGN_SEED_LEN);
	if (pkey == NULL) {
		crypto_log_ossl(__func__, "EVP_PKEY_new_raw_private_key");
		return NULL;
	}
	k = xcalloc(1, sizeof(*k));
	k->pkey = pkey;
	return k;
}

struct sign_key *
sign_key_generate(void)
{
	unsigned char seed[SIGN_SEED_LEN];
	struct sign_key *k;

	if (crypto_random(seed, sizeof(seed)) != 0)
		return NULL;
	k = sign_key_from_seed(seed);
	OPENSSL_cleanse(seed, sizeof(seed));
	return k;
}

struct sign_key *
sign_key_from_hex(const char *hex)
{
	unsigned char seed[SIGN_SEED_LEN];
	struct sign_key *k;

	if (sign_unhex(hex, seed, sizeof(seed)) != 0)
		return NULL;
	k = sign_key_from_seed(seed);
	OPENSSL_cleanse(seed, sizeof(seed));
	return k;
}

void
sign_key_free(struct sign_key *k)
{
	if (k == NULL)
		return;
	/* EVP_PKEY_free clears the raw key material of an ECX key. */
	EVP_PKEY_free(k->pkey);
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

int
sign_key_seed_hex(const struct sign_key *k, char out[SIGN_HEX_LEN + 1])
{
	unsigned char seed[SIGN_SEED_LEN];
	size_t n = sizeof(seed);

	if (EVP_PKEY_get_raw_private_key(k->pkey, seed, &n) != 1 ||
	    n != sizeof(seed)) {
		OPENSSL_cleanse(seed, sizeof(seed));
		crypto_log_ossl(__func__, "EVP_PKEY_get_raw_private_key");
		return -1;
	}
	hex_encode(seed, sizeof(seed), out);
	OPENSSL_cleanse(seed, sizeof(seed));
	return 0;
}

int
sign_key_public(const struct sign_key *k, unsigned char pub[SIGN_PUB_LEN])
{
	size_t n = SIGN_PUB_LEN;

	if (EVP_PKEY_get_raw_public_key(k->pkey, pub, &n) != 1 ||
	    n != SIGN_PUB_LEN) {
		crypto_log_ossl(__func__, "EVP_PKEY_get_raw_public_key");
		return -1;
	}
	return 0;
}

void
sign_key_id(const unsigned char pub[SIGN_PUB_LEN], char out[SIGN_HEX_LEN + 1])
{
	/* SHA-256 fails only when OpenSSL cannot allocate; an empty id then
	 * matches no key and fits no record, so it cannot be mistaken. */
	if (crypto_sha256_hex(pub, SIGN_PUB_LEN, out) != 0)
		out[0] = '\0';
}

int
sign_pub_from_hex(const char *hex, unsigned char pub[SIGN_PUB_LEN])
{
	return sign_unhex(hex, pub, SIGN_PUB_LEN);
}

int
sign_message(const struct sign_key *k, const void *msg, size_t n,
    unsigned char sig[SIGN_SIG_LEN])
{
	EVP_MD_CTX *md;
	size_t len = SIGN_SIG_LEN;
	int rc = -1;

	if ((md = EVP_MD_CTX_new()) == NULL) {
		crypto_log_ossl(__func__, "EVP_MD_CTX_new");
		return -1;
	}
	if (EVP_DigestSignInit(md, NULL, NULL, NULL, k->pkey) != 1)
		crypto_log_ossl(__func__, "EVP_DigestSignInit");
	else if (EVP_DigestSign(md, sig, &len, msg, n) != 1 ||
	    len != SIGN_SIG_LEN)
		crypto_log_ossl(__func__, "EVP_DigestSign");
	else
		rc = 0;
	EVP_MD_CTX_free(md);
	return rc;
}

int
sign_verify(const unsigned char pub[SIGN_PUB_LEN], const void *msg, size_t n,
    const unsigned char sig[SIGN_SIG_LEN])
{
	EVP_PKEY *pkey;
	EVP_MD_CTX *md;
	int rc = -1, v;

	pkey = EVP_PKEY_new_raw_public_key(
	    EVP_PKEY_ED25519, NULL, pub, SIGN_PUB_LEN);
	if (pkey == NULL) {
		crypto_log_ossl(__func__, "EVP_PKEY_new_raw_public_key");
		return -1;
	}
	if ((md = EVP_MD_CTX_new()) == NULL) {
		crypto_log_ossl(__func__, "EVP_MD_CTX_new");
		EVP_PKEY_free(pkey);
		return -1;
	}
	if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, pkey) != 1) {
		crypto_log_ossl(__func__, "EVP_DigestVerifyInit");
		goto done;
	}
	/* 1 is a good signature; anything else is not. A point that does
	 * not decode, a signature out of range or simply a wrong one all
	 * come back as 0, with a reason on the error queue that is no
	 * error of ours. */
	v = EVP_DigestVerify(md, sig, SIGN_SIG_LEN, msg, n);
	ERR_clear_error();
	rc = v == 1 ? 1 : 0;
done:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	return rc;
}

/* 1..SIGN_NAME_MAX characters of one-line UTF-8. */
static int
sign_name_ok(const char *s)
{
	return s != NULL && validate_line(s, SIGN_NAME_MAX);
}

/* The subject (and, self-signed, issuer) CN / O / C=TW; NULL on error. */
static X509_NAME *
sign_subject(const char *cn, const char *org)
{
	X509_NAME *name;

	if (!sign_name_ok(cn) || !sign_name_ok(org)) {
		log_error("%s",
		    "the subject's CN and O must be 1..64 "
		    "characters of one line");
		return NULL;
	}
	if ((name = X509_NAME_new()) == NULL) {
		crypto_log_ossl(__func__, "X509_NAME_new");
		return NULL;
	}
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
		(const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
		(const unsigned char *)org, -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC,
		(const unsigned char *)"TW", -1, -1, 0) != 1) {
		crypto_log_ossl(__func__, "X509_NAME_add_entry_by_txt");
		X509_NAME_free(name);
		return NULL;
	}
	return name;
}

/* Appends the PEM text of the certificate x, or else of the request req,
 * to out. 0/-1. */
static int
sign_pem_out(X509 *x, X509_REQ *req, struct buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p = NULL;
	long n;
	int rc = -1;

	if (bio == NULL) {
		crypto_log_ossl(__func__, "BIO_new");
		return -1;
	}
	if ((x != NULL ? PEM_write_bio_X509(bio, x)
		       : PEM_write_bio_X509_REQ(bio, req)) != 1) {
		crypto_log_ossl(__func__, "PEM_write_bio");
	} else if ((n = BIO_get_mem_data(bio, &p)) <= 0 || p == NULL) {
		log_error("%s", "empty PEM output");
	} else {
		buf_append(out, p, (size_t)n);
		rc = 0;
	}
	BIO_free(bio);
	return rc;
}

int
sign_csr_pem(const struct sign_key *k, const char *common_name,
    const char *organisation, struct buf *out)
{
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	int rc = -1;

	if ((name = sign_subject(common_name, organisation)) == NULL)
		return -1;
	if ((req = X509_REQ_new()) == NULL) {
		crypto_log_ossl(__func__, "X509_REQ_new");
		goto done;
	}
	/* Version 1 of PKCS#10 is the value 0. */
	if (X509_REQ_set_version(req, 0) != 1 ||
	    X509_REQ_set_subject_name(req, name) != 1 ||
	    X509_REQ_set_pubkey(req, k->pkey) != 1) {
		crypto_log_ossl(__func__, "X509_REQ_set_*");
		goto done;
	}
	/* Ed25519 signs the message itself: no digest. */
	if (X509_REQ_sign(req, k->pkey, NULL) <= 0) {
		crypto_log_ossl(__func__, "X509_REQ_sign");
		goto done;
	}
	rc = sign_pem_out(NULL, req, out);
done:
	X509_REQ_free(req);
	X509_NAME_free(name);
	return rc;
}

/* A random positive serial of 128 bits into x. 0/-1. */
static int
sign_cert_serial(X509 *x)
{
	unsigned char r[16];
	BIGNUM *bn;
	int rc = -1;

	if (crypto_random(r, sizeof(r)) != 0)
		return -1;
	r[0] |= 0x01 << 6; /* never zero, always the full 128 bits wide */
	r[0] &= 0x7f; /* and positive without a padding byte */
	if ((bn = BN_bin2bn(r, sizeof(r), NULL)) == NULL) {
		crypto_log_ossl(__func__, "BN_bin2bn");
		return -1;
	}
	if (BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		crypto_log_ossl(__func__, "BN_to_ASN1_INTEGER");
	else
		rc = 0;
	BN_free(bn);
	return rc;
}

/* Adds the extension nid = value (OpenSSL's configuration syntax). */
static int
sign_cert_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext;
	int rc = 0;

	ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	if (ext == NULL) {
		crypto_log_ossl(__func__, value);
		return -1;
	}
	if (X509_add_ext(x, ext, -1) != 1) {
		crypto_log_ossl(__func__, "X509_add_ext");
		rc = -1;
	}
	X509_EXTENSION_free(ext);
	return rc;
}

int
sign_selfcert_pem(const struct sign_key *k, const char *common_name,
    const char *organisation, int days, struct buf *out)
{
	X509 *x = NULL;
	X509_NAME *name = NULL;
	X509V3_CTX ctx;
	int rc = -1;

	if (days < 1 || days > 36500) {
		log_error("validity of %d days is out of range", days);
		return -1;
	}
	if ((name = sign_subject(common_name, organisation)) == NULL)
		return -1;
	if ((x = X509_new()) == NULL) {
		crypto_log_ossl(__func__, "X509_new");
		goto done;
	}
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    sign_cert_serial(x) != 0 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) == NULL ||
	    X509_set_subject_name(x, name) != 1 ||
	    X509_set_issuer_name(x, name) != 1 ||
	    X509_set_pubkey(x, k->pkey) != 1) {
		crypto_log_ossl(__func__, "X509_set_*");
		goto done;
	}
	/* The subject key identifier hashes the public key set above. */
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (sign_cert_ext(x, &ctx, NID_basic_constraints, "CA:FALSE") != 0 ||
	    sign_cert_ext(
		x, &ctx, NID_key_usage, "critical,digitalSignature") != 0 ||
	    sign_cert_ext(x, &ctx, NID_subject_key_identifier, "hash") != 0)
		goto done;
	if (X509_sign(x, k->pkey, NULL) <= 0) {
		crypto_log_ossl(__func__, "X509_sign");
		goto done;
	}
	rc = sign_pem_out(x, NULL, out);
done:
	X509_free(x);
	X509_NAME_free(name);
	return rc;
}

int
sign_cert_public(const char *pem, unsigned char pub[SIGN_PUB_LEN])
{
	BIO *bio;
	X509 *x;
	EVP_PKEY *pkey;
	size_t n = SIGN_PUB_LEN;
	int rc = -1;

	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL) {
		crypto_log_ossl(__func__, "BIO_new_mem_buf");
		return -1;
	}
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (x == NULL) {
		ERR_clear_error();
		return -1;
	}
	pkey = X509_get0_pubkey(x);
	if (pkey != NULL && EVP_PKEY_is_a(pkey, "ED25519") &&
	    EVP_PKEY_get_raw_public_key(pkey, pub, &n) == 1 &&
	    n == SIGN_PUB_LEN)
		rc = 0;
	ERR_clear_error();
	X509_free(x);
	return rc;
}
