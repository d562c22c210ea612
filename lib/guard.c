/*
 * guard: the Redis counters behind lock-outs and address blocks (see
 * guard.h). Keys:
 *   <prefix>g:f:<login>         failures of a login (expires with the window)
 *   <prefix>g:l:<login>         the lock itself (expires when it ends)
 *   <prefix>g:a:<kind>:<ip>     sorted set of logins by time, per address
 *   <prefix>g:b:<ip>            the address block
 *   <prefix>g:n:<kind>:<ip>     "already alerted" for an egress address
 * Every key expires on its own, so a Redis restart at worst forgets a lock;
 * it never locks anyone forever.
 */
#include "guard.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "kv.h"
#include "log.h"
#include "util.h"

static const char *const guard_kind_names[GUARD_KIND__MAX] = {
    [GUARD_SIGNIN] = "signin",
    [GUARD_PASSWORD] = "password",
};

/* <prefix>g:<tag>:<a>[:<b>] into out. */
static int
guard_key(const struct kv *kv, char *out, size_t outlen, const char *tag,
    const char *a, const char *b)
{
	int n;

	if (b != NULL)
		n = snprintf(
		    out, outlen, "%sg:%s:%s:%s", kv_prefix(kv), tag, a, b);
	else
		n = snprintf(out, outlen, "%sg:%s:%s", kv_prefix(kv), tag, a);
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

/* An integer reply, or -1 (logged). */
static long long
guard_int(redisReply *rep, const char *what)
{
	long long v = -1;

	if (rep != NULL && rep->type == REDIS_REPLY_INTEGER)
		v = rep->integer;
	else
		log_error("%s: %s", what,
		    rep != NULL && rep->str != NULL ? rep->str : "no reply");
	if (rep != NULL)
		freeReplyObject(rep);
	return v;
}

/* TTL of a key in seconds: 0 when it does not exist, -1 on error. */
static long
guard_ttl(struct kv *kv, const char *key)
{
	long long t = guard_int(kv_cmd(kv, "TTL %s", key), "TTL");

	if (t == -2 || t == 0)
		return 0;
	if (t == -1) /* no expiry: never set by us, treat as one second */
		return 1;
	return (long)t;
}

long
guard_login_locked(struct kv *kv, const char *login)
{
	char key[192];

	if (guard_key(kv, key, sizeof(key), "l", login, NULL) != 0)
		return -1;
	return guard_ttl(kv, key);
}

int
guard_login_failed(struct kv *kv, const struct conf *c, const char *login)
{
	char fkey[192], lkey[192];
	long long n;

	if (guard_key(kv, fkey, sizeof(fkey), "f", login, NULL) != 0 ||
	    guard_key(kv, lkey, sizeof(lkey), "l", login, NULL) != 0)
		return -1;
	n = guard_int(kv_cmd(kv, "INCR %s", fkey), "INCR failures");
	if (n < 0)
		return -1;
	/* The window starts at the first failure. */
	if (n == 1 &&
	    guard_int(kv_cmd(kv, "EXPIRE %s %d", fkey, c->lock_window),
		"EXPIRE failures") < 0)
		return -1;
	if (n < c->lock_failures)
		return 0;
	if (guard_int(kv_cmd(kv, "DEL %s", fkey), "DEL failures") < 0)
		return -1;
	{
		redisReply *rep =
		    kv_cmd(kv, "SET %s 1 EX %d", lkey, c->lock_duration);
		int ok = rep != NULL && rep->type == REDIS_REPLY_STATUS;

		if (rep != NULL)
			freeReplyObject(rep);
		if (!ok) {
			log_error("SET lock failed");
			return -1;
		}
	}
	return 1;
}

void
guard_login_clear(struct kv *kv, const char *login)
{
	char key[192];

	if (guard_key(kv, key, sizeof(key), "f", login, NULL) == 0)
		(void)guard_int(kv_cmd(kv, "DEL %s", key), "DEL failures");
}

int
guard_login_unlock(struct kv *kv, const char *login)
{
	char key[192];

	if (guard_key(kv, key, sizeof(key), "l", login, NULL) != 0)
		return -1;
	guard_login_clear(kv, login);
	return guard_int(kv_cmd(kv, "DEL %s", key), "DEL lock") < 0 ? -1 : 0;
}

long
guard_addr_blocked(struct kv *kv, const char *ip)
{
	char key[192];

	if (guard_key(kv, key, sizeof(key), "b", ip, NULL) != 0)
		return -1;
	return guard_ttl(kv, key);
}

/* SET key 1 EX secs NX: 1 when this call set it, 0 when it existed. */
static int
guard_set_once(struct kv *kv, const char *key, int secs)
{
	redisReply *rep = kv_cmd(kv, "SET %s 1 EX %d NX", key, secs);
	int rc;

	if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
		log_error("SET NX %s failed", key);
		rc = -1;
	} else
		rc = rep->type == REDIS_REPLY_STATUS ? 1 : 0;
	if (rep != NULL)
		freeReplyObject(rep);
	return rc;
}

int
guard_addr_note(struct kv *kv, const struct conf *c, enum guard_kind kind,
    const char *ip, const char *login, int egress, enum guard_verdict *verdict,
    long *count)
{
	char akey[192], flag[192];
	long long now = now_ms(), n;
	int limit, first;

	*verdict = GUARD_QUIET;
	*count = 0;
	if (ip == NULL || ip[0] == '\0')
		return 0;
	if (guard_key(
		kv, akey, sizeof(akey), "a", guard_kind_names[kind], ip) != 0)
		return -1;
	if (guard_int(kv_cmd(kv, "ZADD %s %lld %s", akey, now, login), "ZADD") <
		0 ||
	    guard_int(kv_cmd(kv, "ZREMRANGEBYSCORE %s -inf %lld", akey,
			  now - (long long)c->detect_window * 1000),
		"ZREMRANGEBYSCORE") < 0 ||
	    guard_int(kv_cmd(kv, "EXPIRE %s %d", akey, c->detect_window),
		"EXPIRE") < 0)
		return -1;
	n = guard_int(kv_cmd(kv, "ZCARD %s", akey), "ZCARD");
	if (n < 0)
		return -1;
	*count = (long)n;
	if (kind == GUARD_SIGNIN)
		limit = egress ? c->detect_egress_signin_accounts
			       : c->detect_signin_accounts;
	else
		limit = egress ? c->detect_egress_password_changes
			       : c->detect_password_changes;
	/* "More than N accounts": the (N+1)th distinct one trips it. */
	if (n <= limit)
		return 0;
	if (egress) {
		if (guard_key(kv, flag, sizeof(flag), "n",
			guard_kind_names[kind], ip) != 0)
			return -1;
		first = guard_set_once(kv, flag, c->detect_window);
		if (first < 0)
			return -1;
		if (first)
			*verdict = GUARD_ALERTED;
		return 0;
	}
	if (guard_key(kv, flag, sizeof(flag), "b", ip, NULL) != 0)
		return -1;
	first = guard_set_once(kv, flag, c->detect_block);
	if (first < 0)
		return -1;
	if (first)
		*verdict = GUARD_BLOCKED;
	return 0;
}

int
guard_addr_unblock(struct kv *kv, const char *ip)
{
	char key[192];

	if (guard_key(kv, key, sizeof(key), "b", ip, NULL) != 0)
		return -1;
	return guard_int(kv_cmd(kv, "DEL %s", key), "DEL block") < 0 ? -1 : 0;
}
