/*
 * crypto: SHA-256 and random bytes through OpenSSL 3 (EVP and RAND_bytes).
 * It owns only the digest contexts it hands out; it must never return a
 * digest or random value after an OpenSSL call failed.
 */
#include "crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "log.h"
#include "util.h"

struct crypto_sha256 {
	EVP_MD_CTX *md;
};

/* Logs what failed with OpenSSL's reason, once, as the caller. */
static void
crypto_log_ossl(const char *func, const char *what)
{
	char msg[256];
	unsigned long e = ERR_get_error();

	if (e == 0) {
		log_msg(LL_ERROR, func, "%s failed", what);
		return;
	}
	ERR_error_string_n(e, msg, sizeof(msg));
	ERR_clear_error();
	log_msg(LL_ERROR, func, "%s: %s", what, msg);
}

struct crypto_sha256 *
crypto_sha256_new(void)
{
	struct crypto_sha256 *h;
	EVP_MD_CTX *md;

	if ((md = EVP_MD_CTX_new()) == NULL) {
		crypto_log_ossl(__func__, "EVP_MD_CTX_new");
		return NULL;
	}
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		crypto_log_ossl(__func__, "EVP_DigestInit_ex");
		EVP_MD_CTX_free(md);
		return NULL;
	}
	h = xcalloc(1, sizeof(*h));
	h->md = md;
	return h;
}

int
crypto_sha256_update(struct crypto_sha256 *h, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (EVP_DigestUpdate(h->md, p, n) != 1) {
		crypto_log_ossl(__func__, "EVP_DigestUpdate");
		return -1;
	}
	return 0;
}

static int
crypto_sha256_final(
    struct crypto_sha256 *h, unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int len = 0;

	if (EVP_DigestFinal_ex(h->md, out, &len) != 1 ||
	    len != CRYPTO_SHA256_LEN) {
		crypto_log_ossl(__func__, "EVP_DigestFinal_ex");
		return -1;
	}
	return 0;
}

int
crypto_sha256_final_hex(
    struct crypto_sha256 *h, char out[CRYPTO_SHA256_HEX_LEN + 1])
{
	unsigned char d[CRYPTO_SHA256_LEN];

	if (crypto_sha256_final(h, d) != 0)
		return -1;
	hex_encode(d, sizeof(d), out);
	return 0;
}

void
crypto_sha256_free(struct crypto_sha256 *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->md);
	free(h);
}

int
crypto_sha256(const void *p, size_t n, unsigned char out[CRYPTO_SHA256_LEN])
{
	unsigned int len = 0;

	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 ||
	    len != CRYPTO_SHA256_LEN) {
		crypto_log_ossl(__func__, "EVP_Digest");
		return -1;
	}
	return 0;
}

int
crypto_sha256_hex(const void *p, size_t n, char out[CRYPTO_SHA256_HEX_LEN + 1])
{
	unsigned char d[CRYPTO_SHA256_LEN];

	if (crypto_sha256(p, n, d) != 0)
		return -1;
	hex_encode(d, sizeof(d), out);
	return 0;
}

int
crypto_sha256_file(const char *path, char out[CRYPTO_SHA256_HEX_LEN + 1])
{
	struct crypto_sha256 *h;
	unsigned char chunk[65536];
	ssize_t n;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_error("open %s: %s", path, strerror(errno));
		return -1;
	}
	if ((h = crypto_sha256_new()) == NULL)
		goto out;
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_error("read %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (crypto_sha256_update(h, chunk, (size_t)n) != 0)
			goto out;
	}
	if (crypto_sha256_final_hex(h, out) != 0)
		goto out;
	rc = 0;
out:
	crypto_sha256_free(h);
	if (close(fd) == -1 && rc == 0) {
		log_error("close %s: %s", path, strerror(errno));
		rc = -1;
	}
	return rc;
}

int
crypto_random(void *p, size_t n)
{
	if (n > (size_t)INT32_MAX) {
		log_error("%zu random bytes requested", n);
		return -1;
	}
	if (RAND_bytes(p, (int)n) != 1) {
		crypto_log_ossl(__func__, "RAND_bytes");
		return -1;
	}
	return 0;
}

int
crypto_random_hex(size_t nbytes, char *out, size_t outlen)
{
	unsigned char raw[256];

	if (nbytes > sizeof(raw) || outlen < 2 * nbytes + 1) {
		log_error("%zu random bytes do not fit in %zu", nbytes, outlen);
		return -1;
	}
	if (crypto_random(raw, nbytes) != 0)
		return -1;
	hex_encode(raw, nbytes, out);
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}
