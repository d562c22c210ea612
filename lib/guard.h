/*
 * guard: lock-outs and attack detection, with counters in Redis (the rules
 * of seeds/002 cases 1 and 2: brute force against one account, and many
 * accounts failing or changing passwords from one address). It only counts
 * and answers; raising alerts, auditing and the pages are the caller's.
 *
 * Accounts are counted by login name, whether or not the login exists, so
 * a lock-out tells an attacker nothing about which logins are real.
 */
#ifndef LICHENG_GUARD_H
#define LICHENG_GUARD_H

#include <stdint.h>

struct conf;
struct kv;

enum guard_kind {
	GUARD_SIGNIN, /* a failed sign-in */
	GUARD_PASSWORD, /* a password set (activation or change) */
	GUARD_KIND__MAX
};

enum guard_verdict {
	GUARD_QUIET, /* below the threshold, or already handled */
	GUARD_BLOCKED, /* the address has just been blocked */
	GUARD_ALERTED, /* an egress address crossed its threshold: alert only */
	GUARD_VERDICT__MAX
};

/* Seconds the login stays locked (0 when not locked), or -1. */
long guard_login_locked(struct kv *kv, const char *login);
/* Counts a failed sign-in of login; 1 when this failure locked it (for
 * lockout.duration seconds), 0 when not, -1 on a Redis failure. */
int guard_login_failed(struct kv *kv, const struct conf *c, const char *login);
/* Forgets the failures of login after a successful sign-in. */
void guard_login_clear(struct kv *kv, const char *login);
/* Lifts a lock (an administrator's unlock). 0/-1. */
int guard_login_unlock(struct kv *kv, const char *login);

/* Seconds the address stays blocked (0 when not), or -1. */
long guard_addr_blocked(struct kv *kv, const char *ip);
/*
 * Notes that login failed to sign in, or set a password, from ip, and
 * counts the distinct logins of that kind from ip within detect.window.
 * Past the threshold (detect.signin_accounts / detect.password_changes, or
 * the egress_* ones when egress is set) the address is blocked for
 * detect.block seconds, or for an egress address an alert is due instead;
 * *verdict says which, once per crossing. 0/-1.
 */
int guard_addr_note(struct kv *kv, const struct conf *c, enum guard_kind kind,
    const char *ip, const char *login, int egress, enum guard_verdict *verdict,
    long *count);
/* Lifts an address block. 0/-1. */
int guard_addr_unblock(struct kv *kv, const char *ip);

#endif
