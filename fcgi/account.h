/*
 * account: passwords as licheng-fcgi handles them — hashing under the
 * host-wide scrypt cap, the Ministry's rules for a new password (policy,
 * minimum age, history) and storing a new one with its history row and
 * audit entry. The pages /activate, /password and /privacy live in
 * account.c too; sign-in is login.c's.
 */
#ifndef LICHENG_ACCOUNT_H
#define LICHENG_ACCOUNT_H

#include <stddef.h>

#include "passhash.h"

struct app;
struct request;
struct user;

/* The outcome of hashing work: done, or no scrypt slot free in time. */
enum account_hash { ACCOUNT_HASH_OK, ACCOUNT_HASH_BUSY, ACCOUNT_HASH_ERROR };

/* Verifies pw against stored (NULL: an unknown login, which costs the same
 * time through passhash_dummy and never matches). *match 1 or 0. */
enum account_hash
account_verify(struct app *app, const char *stored, const char *pw, int *match);
/* Hashes pw with the configured parameters into out. */
enum account_hash
account_hash(struct app *app, const char *pw, char out[PASSHASH_MAX]);

/*
 * Checks new_pw for u against every rule: the policy (length, blocklist,
 * personal information), then, unless first is set (activation) or the
 * password has expired, the minimum age, then the history (the current
 * and earlier passwords, password.history in all). Returns NULL when it
 * passes, or the rule's name ("too_short", "too_soon", "reused", ...)
 * whose message is "password.rule.<name>". *busy is set when no scrypt
 * slot was free (then the result is "busy").
 */
const char *account_check_new(struct app *app, const struct user *u,
    const char *current_hash, const char *new_pw, int first, int *busy);

/* The user's current password hash into out (empty when none). 0/-1. */
int account_current_hash(
    struct app *app, unsigned long long user_id, char *out, size_t outlen);

#endif
