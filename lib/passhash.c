/*
 * passhash: scrypt through OpenSSL's EVP_KDF, the strict parser of stored
 * hashes, and the flock(2) slots that cap concurrent hashing on a host. It
 * must never log a password or a stored hash, never compare keys with
 * memcmp, and never hash without a bound on the memory it will take.
 */
#include "passhash.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "crypto.h"
#include "log.h"
#include "util.h"

#define PASSHASH_MEM_MAX ((uint64_t)1 << 30)
#define PASSHASH_SLOTS_MAX 1024
#define PASSHASH_PREFIX "$scrypt$"
/* Base64 lengths without padding of the salt and the key. */
#define PASSHASH_SALT_B64 22
#define PASSHASH_KEY_B64 43

/* A stored hash taken apart. */
struct passhash_parsed {
	struct passhash_params pp;
	unsigned char salt[PASSHASH_SALT_LEN];
	unsigned char key[PASSHASH_KEY_LEN];
};

struct passhash_slots {
	int n;
	int *fds;
	int held; /* index of the slot held, or -1 */
	uint32_t rand; /* xorshift state for the sleep's jitter */
};

static const char passhash_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 128*n*r*p with every multiplication checked; UINT64_MAX on overflow. */
static uint64_t
passhash_mem(uint64_t n, uint64_t r, uint64_t p)
{
	uint64_t m = 128;

	if (n == 0 || r == 0 || p == 0)
		return UINT64_MAX;
	if (n > UINT64_MAX / m)
		return UINT64_MAX;
	m *= n;
	if (r > UINT64_MAX / m)
		return UINT64_MAX;
	m *= r;
	if (p > UINT64_MAX / m)
		return UINT64_MAX;
	return m * p;
}

int
passhash_scrypt_raw(const char *pw, size_t pwlen, const unsigned char *salt,
    size_t saltlen, uint64_t n, uint64_t r, uint64_t p, unsigned char *out,
    size_t outlen)
{
	OSSL_PARAM params[7], *q = params;
	EVP_KDF *kdf;
	EVP_KDF_CTX *ctx;
	uint64_t mem = passhash_mem(n, r, p), maxmem;
	int rc = -1;

	if (n < 2 || (n & (n - 1)) != 0 || mem > PASSHASH_MEM_MAX ||
	    outlen == 0) {
		log_error("refused scrypt N=%llu r=%llu p=%llu out=%zu",
		    (unsigned long long)n, (unsigned long long)r,
		    (unsigned long long)p, outlen);
		return -1;
	}
	/* OpenSSL refuses a derivation whose working set exceeds maxmem; twice
	 * our estimate plus a MiB leaves room for its bookkeeping. */
	maxmem = 2 * mem + (1u << 20);
	/* OSSL_PARAM wants non-const pointers; OpenSSL only reads these. */
	*q++ = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_PASSWORD, (void *)(pwlen > 0 ? pw : ""), pwlen);
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)(saltlen > 0 ? (const void *)salt : ""), saltlen);
	*q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	*q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_R, &r);
	*q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_P, &p);
	*q++ =
	    OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
	*q = OSSL_PARAM_construct_end();

	if ((kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL)) == NULL) {
		crypto_log_ossl(__func__, "EVP_KDF_fetch SCRYPT");
		return -1;
	}
	if ((ctx = EVP_KDF_CTX_new(kdf)) == NULL) {
		crypto_log_ossl(__func__, "EVP_KDF_CTX_new");
		goto out;
	}
	if (EVP_KDF_derive(ctx, out, outlen, params) != 1) {
		crypto_log_ossl(__func__, "EVP_KDF_derive");
		OPENSSL_cleanse(out, outlen);
		goto out;
	}
	rc = 0;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

size_t
passhash_memory(const struct passhash_params *pp)
{
	uint64_t m;

	/* The shift below must stay defined whatever the caller passes. */
	if (pp->log2_n < 1 || pp->log2_n > 56 || pp->r < 1 || pp->p < 1)
		return SIZE_MAX;
	m = passhash_mem(
	    (uint64_t)1 << pp->log2_n, (uint64_t)pp->r, (uint64_t)pp->p);
	return m > SIZE_MAX ? SIZE_MAX : (size_t)m;
}

int
passhash_params_valid(const struct passhash_params *pp)
{
	if (pp->log2_n < 10 || pp->log2_n > 22)
		return 0;
	if (pp->r < 1 || pp->r > 32 || pp->p < 1 || pp->p > 16)
		return 0;
	return passhash_memory(pp) <= PASSHASH_MEM_MAX;
}

/* Decodes exactly outlen bytes from the inlen characters at in. Refuses a
 * wrong length, a character outside the alphabet and unused trailing bits
 * that are not zero, so each value has exactly one accepted spelling. */
static int
passhash_b64_decode(
    const char *in, size_t inlen, unsigned char *out, size_t outlen)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t i, o = 0;

	if (inlen != (4 * outlen + 2) / 3)
		return -1;
	for (i = 0; i < inlen; i++) {
		const char *c =
		    in[i] == '\0' ? NULL : strchr(passhash_b64, in[i]);

		if (c == NULL)
			return -1;
		acc = (acc << 6) | (uint32_t)(c - passhash_b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	if (o != outlen || (acc & ((1u << bits) - 1)) != 0)
		return -1;
	return 0;
}

/* Reads "<key><1-2 digits>" at s, without leading zeros, into v; returns
 * the position after the digits or NULL. */
static const char *
passhash_parse_num(const char *s, const char *key, int *v)
{
	size_t klen = strlen(key);
	int i;

	if (strncmp(s, key, klen) != 0)
		return NULL;
	s += klen;
	if (s[0] < '0' || s[0] > '9' ||
	    (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
		return NULL;
	*v = 0;
	for (i = 0; i < 2 && s[i] >= '0' && s[i] <= '9'; i++)
		*v = *v * 10 + (s[i] - '0');
	return s + i;
}

/* Takes a stored hash apart; -1 on anything but the exact format with
 * parameters inside passhash_params_valid. */
static int
passhash_parse(const char *stored, struct passhash_parsed *ph)
{
	const char *s = stored, *end;
	size_t len;

	if (stored == NULL ||
	    (len = strnlen(stored, PASSHASH_MAX)) == PASSHASH_MAX)
		return -1;
	if (strncmp(s, PASSHASH_PREFIX, strlen(PASSHASH_PREFIX)) != 0)
		return -1;
	s += strlen(PASSHASH_PREFIX);
	if ((s = passhash_parse_num(s, "ln=", &ph->pp.log2_n)) == NULL ||
	    (s = passhash_parse_num(s, ",r=", &ph->pp.r)) == NULL ||
	    (s = passhash_parse_num(s, ",p=", &ph->pp.p)) == NULL || *s != '$')
		return -1;
	if (!passhash_params_valid(&ph->pp))
		return -1;
	s++;
	end = stored + len;
	if ((size_t)(end - s) != PASSHASH_SALT_B64 + 1 + PASSHASH_KEY_B64 ||
	    s[PASSHASH_SALT_B64] != '$')
		return -1;
	if (passhash_b64_decode(
		s, PASSHASH_SALT_B64, ph->salt, sizeof(ph->salt)) != 0)
		return -1;
	s += PASSHASH_SALT_B64 + 1;
	return passhash_b64_decode(
	    s, PASSHASH_KEY_B64, ph->key, sizeof(ph->key));
}

/* Hashes pw under ph's parameters and salt and compares in constant time:
 * 1 match, 0 mismatch, -1 error. verify and dummy both come through here
 * so that they cost the same. */
static int
passhash_check(const struct passhash_parsed *ph, const char *pw, size_t pwlen)
{
	unsigned char key[PASSHASH_KEY_LEN];
	int rc;

	if (passhash_scrypt_raw(pw, pwlen, ph->salt, sizeof(ph->salt),
		(uint64_t)1 << ph->pp.log2_n, (uint64_t)ph->pp.r,
		(uint64_t)ph->pp.p, key, sizeof(key)) != 0)
		return -1;
	rc = CRYPTO_memcmp(key, ph->key, sizeof(key)) == 0;
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int
passhash_make(const struct passhash_params *pp, const char *pw, size_t pwlen,
    char *out, size_t outlen)
{
	unsigned char salt[PASSHASH_SALT_LEN], key[PASSHASH_KEY_LEN];
	char salt64[PASSHASH_SALT_B64 + 1], key64[PASSHASH_KEY_B64 + 1];
	int n, rc = -1;

	if (!passhash_params_valid(pp)) {
		log_error("scrypt parameters ln=%d r=%d p=%d out of range",
		    pp->log2_n, pp->r, pp->p);
		return -1;
	}
	if (crypto_random(salt, sizeof(salt)) != 0)
		return -1;
	if (passhash_scrypt_raw(pw, pwlen, salt, sizeof(salt),
		(uint64_t)1 << pp->log2_n, (uint64_t)pp->r, (uint64_t)pp->p,
		key, sizeof(key)) != 0)
		return -1;
	(void)crypto_b64_encode(salt, sizeof(salt), 0, salt64);
	(void)crypto_b64_encode(key, sizeof(key), 0, key64);
	n = snprintf(out, outlen, PASSHASH_PREFIX "ln=%d,r=%d,p=%d$%s$%s",
	    pp->log2_n, pp->r, pp->p, salt64, key64);
	if (n < 0 || (size_t)n >= outlen) {
		log_error(
		    "stored hash needs %d bytes, buffer has %zu", n, outlen);
		if (outlen > 0)
			OPENSSL_cleanse(out, outlen);
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(key64, sizeof(key64));
	return rc;
}

int
passhash_verify(const char *stored, const char *pw, size_t pwlen)
{
	struct passhash_parsed ph;

	if (passhash_parse(stored, &ph) != 0) {
		/* The string came from our own database: say so, but never
		 * print it. */
		log_error("stored password hash is malformed");
		return -1;
	}
	return passhash_check(&ph, pw, pwlen);
}

int
passhash_needs_rehash(const char *stored, const struct passhash_params *pp)
{
	struct passhash_parsed ph;

	if (passhash_parse(stored, &ph) != 0)
		return 1;
	return ph.pp.log2_n != pp->log2_n || ph.pp.r != pp->r ||
	    ph.pp.p != pp->p;
}

int
passhash_dummy(const struct passhash_params *pp, const char *pw, size_t pwlen)
{
	struct passhash_parsed ph;

	if (!passhash_params_valid(pp)) {
		log_error("scrypt parameters ln=%d r=%d p=%d out of range",
		    pp->log2_n, pp->r, pp->p);
		return 0;
	}
	/* A fixed salt and key: no password has to match, the work does. */
	memset(&ph, 0x5a, sizeof(ph));
	ph.pp = *pp;
	(void)passhash_check(&ph, pw, pwlen);
	return 0;
}

/* Creates dir 0700 unless it exists and checks that it is a directory. */
static int
passhash_slots_mkdir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		str_printf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) == -1) {
		str_printf(err, errlen, "stat %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		str_printf(err, errlen, "%s: not a directory", dir);
		return -1;
	}
	return 0;
}

struct passhash_slots *
passhash_slots_open(const char *dir, int n, char *err, size_t errlen)
{
	struct passhash_slots *s;
	char path[4096];
	int i, len;

	if (n < 1 || n > PASSHASH_SLOTS_MAX) {
		str_printf(err, errlen, "%d scrypt slots: must be 1..%d", n,
		    PASSHASH_SLOTS_MAX);
		return NULL;
	}
	if (passhash_slots_mkdir(dir, err, errlen) != 0)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->fds = xcalloc((size_t)n, sizeof(*s->fds));
	s->held = -1;
	/* Only the sleep's jitter: processes that started in the same
	 * millisecond get different states from their pids. */
	s->rand = (uint32_t)getpid() * 2654435761u ^ (uint32_t)now_us();
	if (s->rand == 0)
		s->rand = 1;
	for (i = 0; i < n; i++, s->n++) {
		len = snprintf(path, sizeof(path), "%s/scrypt-slot.%d", dir, i);
		if (len < 0 || (size_t)len >= sizeof(path)) {
			str_printf(err, errlen, "%s: path too long", dir);
			goto fail;
		}
		s->fds[i] =
		    open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (s->fds[i] == -1) {
			str_printf(
			    err, errlen, "open %s: %s", path, strerror(errno));
			goto fail;
		}
	}
	return s;
fail:
	passhash_slots_close(s);
	return NULL;
}

/* Sleeps 5-20 ms, but never past deadline (now_ms clock). */
static void
passhash_slots_nap(struct passhash_slots *s, int64_t deadline)
{
	struct timespec ts;
	int64_t ms, left = deadline - now_ms();

	s->rand ^= s->rand << 13;
	s->rand ^= s->rand >> 17;
	s->rand ^= s->rand << 5;
	ms = 5 + (int64_t)(s->rand % 16);
	if (ms > left)
		ms = left;
	if (ms <= 0)
		return;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)ms * 1000000L;
	/* An interrupted nap only makes the next round come sooner. */
	(void)nanosleep(&ts, NULL);
}

int
passhash_slots_acquire(struct passhash_slots *s, int timeout_ms)
{
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int i;

	assert(s->held == -1);
	for (;;) {
		for (i = 0; i < s->n; i++) {
			if (flock(s->fds[i], LOCK_EX | LOCK_NB) == 0) {
				s->held = i;
				return 0;
			}
			if (errno != EWOULDBLOCK && errno != EINTR) {
				log_error("flock scrypt slot %d: %s", i,
				    strerror(errno));
				return -1;
			}
		}
		if (now_ms() >= deadline)
			return -1;
		passhash_slots_nap(s, deadline);
	}
}

void
passhash_slots_release(struct passhash_slots *s)
{
	if (s->held == -1)
		return;
	/* On failure the lock goes with the descriptor at close or exit;
	 * nothing better can be done here than to say so. */
	if (flock(s->fds[s->held], LOCK_UN) == -1)
		log_error(
		    "unlock scrypt slot %d: %s", s->held, strerror(errno));
	s->held = -1;
}

void
passhash_slots_close(struct passhash_slots *s)
{
	int i;

	if (s == NULL)
		return;
	passhash_slots_release(s);
	for (i = 0; i < s->n; i++)
		if (close(s->fds[i]) == -1)
			log_error(
			    "close scrypt slot %d: %s", i, strerror(errno));
	free(s->fds);
	free(s);
}
