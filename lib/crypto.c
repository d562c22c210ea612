/*
 * crypto: SHA-256, HMAC-SHA256, AES-256-GCM and random bytes through
 * OpenSSL 3 (EVP and RAND_bytes). It owns only the digest contexts it hands
 * out; it must never return a digest, plaintext or random value after an
 * OpenSSL call failed.
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
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "log.h"
#include "util.h"

struct crypto_sha256 {
	EVP_MD_CTX *md;
};

void
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

int
crypto_key_from_hex(const char *hex, unsigned char key[CRYPTO_KEY_LEN])
{
	size_t i;
	int hi, lo;

	if (hex == NULL || strlen(hex) != 2 * CRYPTO_KEY_LEN)
		return -1;
	for (i = 0; i < CRYPTO_KEY_LEN; i++) {
		hi = hex_value(hex[2 * i]);
		lo = hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			OPENSSL_cleanse(key, CRYPTO_KEY_LEN);
			return -1;
		}
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int
crypto_hmac_sha256_hex(const unsigned char key[CRYPTO_KEY_LEN], const void *p,
    size_t n, char out[CRYPTO_SHA256_HEX_LEN + 1])
{
	unsigned char mac[CRYPTO_SHA256_LEN];
	unsigned int len = 0;

	if (HMAC(EVP_sha256(), key, CRYPTO_KEY_LEN, p, n, mac, &len) == NULL ||
	    len != CRYPTO_SHA256_LEN) {
		crypto_log_ossl(__func__, "HMAC");
		return -1;
	}
	hex_encode(mac, sizeof(mac), out);
	return 0;
}

/*
 * AES-256-GCM with a random 96-bit nonce. The output is nonce, ciphertext
 * and the 128-bit tag, so one column holds everything needed to open it;
 * aad binds the ciphertext to its row (e.g. "totp:<user public id>") so a
 * value copied into another row does not decrypt there.
 */
int
crypto_seal(const unsigned char key[CRYPTO_KEY_LEN], const char *aad,
    const void *in, size_t n, unsigned char *out, size_t outlen,
    size_t *written)
{
	EVP_CIPHER_CTX *ctx;
	int len, rc = -1;

	if (n > INT32_MAX || outlen < n + CRYPTO_SEAL_OVERHEAD) {
		log_error("%zu bytes do not fit in %zu", n, outlen);
		return -1;
	}
	if (crypto_random(out, CRYPTO_GCM_NONCE) != 0)
		return -1;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, out) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)aad,
		(int)strlen(aad)) != 1 ||
	    EVP_EncryptUpdate(ctx, out + CRYPTO_GCM_NONCE, &len, in, (int)n) !=
		1 ||
	    EVP_EncryptFinal_ex(ctx, out + CRYPTO_GCM_NONCE + len, &len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_GCM_TAG,
		out + CRYPTO_GCM_NONCE + n) != 1) {
		crypto_log_ossl(__func__, "AES-256-GCM encryption");
		goto done;
	}
	*written = n + CRYPTO_SEAL_OVERHEAD;
	rc = 0;
done:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int
crypto_open(const unsigned char key[CRYPTO_KEY_LEN], const char *aad,
    const unsigned char *in, size_t n, unsigned char *out, size_t outlen,
    size_t *written)
{
	EVP_CIPHER_CTX *ctx;
	unsigned char tag[CRYPTO_GCM_TAG];
	size_t clen;
	int len, rc = -1;

	if (n < CRYPTO_SEAL_OVERHEAD || n - CRYPTO_SEAL_OVERHEAD > outlen ||
	    n > INT32_MAX)
		return -1;
	clen = n - CRYPTO_SEAL_OVERHEAD;
	memcpy(tag, in + CRYPTO_GCM_NONCE + clen, sizeof(tag));
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, in) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)aad,
		(int)strlen(aad)) != 1 ||
	    EVP_DecryptUpdate(
		ctx, out, &len, in + CRYPTO_GCM_NONCE, (int)clen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(
		ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_GCM_TAG, tag) != 1) {
		crypto_log_ossl(__func__, "AES-256-GCM decryption");
		goto done;
	}
	/* A wrong key, a wrong aad or a changed byte fails here: logged,
	 * because it means tampering or a changed keys.data. */
	if (EVP_DecryptFinal_ex(ctx, out + len, &len) != 1) {
		log_error("AES-256-GCM: authentication failed (wrong key or "
			  "altered ciphertext)");
		OPENSSL_cleanse(out, clen);
		goto done;
	}
	*written = clen;
	rc = 0;
done:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

size_t
crypto_b64_encode(const unsigned char *in, size_t n, int url, char *out)
{
	static const char std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char web[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *alpha = url ? web : std;
	uint32_t acc = 0;
	int bits = 0;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = alpha[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		out[o++] = alpha[(acc << (6 - bits)) & 63];
	out[o] = '\0';
	return o;
}
