/*
 * passhash: password hashing with scrypt (OpenSSL 3 EVP_KDF) in a PHC-like
 * string, and a host-wide cap on how many scrypt computations run at once.
 * It owns the stored-hash format and the slot files; it must never log or
 * keep a password, and never accept a stored string it cannot fully parse.
 *
 * Stored format:
 *   $scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt b64>$<hash b64>
 * with standard base64 without padding, a 16-byte salt and a 32-byte key.
 *
 * The cap: every scrypt costs about 128*N*r bytes (32 MiB at N=2^15, r=8),
 * so a sign-in storm at the start of a class could exhaust memory if every
 * FastCGI child hashed at once. A child takes one of n slot files with
 * flock(2) before hashing. The cap per child is 1 by construction (a child
 * is single-threaded and holds at most one slot); the host-wide cap is n.
 * The kernel drops a flock when its process dies, so a child killed
 * mid-hash never leaks a slot.
 */
#ifndef LICHENG_PASSHASH_H
#define LICHENG_PASSHASH_H

#include <stddef.h>
#include <stdint.h>

struct passhash_params {
	int log2_n;
	int r;
	int p;
};

#define PASSHASH_MAX 160 /* bytes of a stored hash incl. NUL, with room */
#define PASSHASH_SALT_LEN 16
#define PASSHASH_KEY_LEN 32

/* Raw scrypt, for the known-answer tests: n a power of two >= 2, and
 * 128*n*r*p at most 1 GiB. Writes outlen bytes to out. 0/-1. */
int passhash_scrypt_raw(const char *pw, size_t pwlen, const unsigned char *salt,
    size_t saltlen, uint64_t n, uint64_t r, uint64_t p, unsigned char *out,
    size_t outlen);

/* Hashes pw with a fresh random salt under pp into out (a stored string,
 * NUL-terminated; PASSHASH_MAX bytes are always enough). 0/-1. */
int passhash_make(const struct passhash_params *pp, const char *pw,
    size_t pwlen, char *out, size_t outlen);
/* 1 when pw matches stored, 0 when it does not, -1 when stored is
 * malformed or hashing failed. Compares with CRYPTO_memcmp. */
int passhash_verify(const char *stored, const char *pw, size_t pwlen);
/* 1 when the parameters in stored differ from pp or cannot be parsed, so
 * the caller should hash the password again after a successful sign-in. */
int passhash_needs_rehash(const char *stored, const struct passhash_params *pp);
/* The same work as passhash_verify with pp, against a fixed fake hash, so
 * that signing in as an unknown login costs the same time as a wrong
 * password. Returns 0. */
int
passhash_dummy(const struct passhash_params *pp, const char *pw, size_t pwlen);
/* About 128*N*r*p bytes: an upper bound on what one hash under pp needs
 * (OpenSSL runs the p lanes one after another, so it needs less). SIZE_MAX
 * when pp is out of any sensible range. */
size_t passhash_memory(const struct passhash_params *pp);
/* 1 when log2_n is 10..22, r 1..32, p 1..16 and memory is at most 1 GiB. */
int passhash_params_valid(const struct passhash_params *pp);

struct passhash_slots;

/* Opens dir/scrypt-slot.0 .. n-1 (creating them 0600 and dir 0700 if
 * missing); n is 1..1024. Must be called in each process after fork: flock
 * locks belong to the open file description, so descriptors inherited from
 * a parent would not exclude each other. The caller owns the handle and
 * frees it with passhash_slots_close. NULL with the cause in err. */
struct passhash_slots *
passhash_slots_open(const char *dir, int n, char *err, size_t errlen);
/* Takes a free slot: flock LOCK_EX|LOCK_NB on each file in turn, then a
 * short sleep of 5-20 ms with jitter between rounds; timeout_ms <= 0 tries
 * one round. 0 with a slot held; -1 when timeout_ms passed (not logged:
 * the caller answers "busy" and counts it) or on error (logged). Must not
 * be called while holding a slot. */
int passhash_slots_acquire(struct passhash_slots *s, int timeout_ms);
/* Gives back the slot held, if any. */
void passhash_slots_release(struct passhash_slots *s);
/* Releases, closes the files and frees the handle. Accepts NULL. */
void passhash_slots_close(struct passhash_slots *s);

#endif
