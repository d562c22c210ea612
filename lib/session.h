/*
 * session: sign-in sessions in Redis. The browser holds a 256-bit random
 * token; Redis holds only its SHA-256 (key <prefix>s:<hash>), so a leaked
 * Redis dump opens no session. It never writes a cookie or decides who may
 * do what: that is fcgi/auth.c's.
 *
 * A session is a hash with the user id ("0" before sign-in: the anonymous
 * session that carries the CSRF token of the sign-in and activation forms),
 * its CSRF token, the creation and last-seen times and a state (full, or
 * waiting for the second factor). The key expires after the idle timeout;
 * the absolute timeout is checked against the creation time. Each user's
 * session hashes are also in a set (<prefix>us:<user id>) so "sign out
 * everywhere" and a password change can end them all.
 */
#ifndef LICHENG_SESSION_H
#define LICHENG_SESSION_H

#include <stdint.h>

#include "crypto.h"
#include "ids.h"

struct conf;
struct kv;

enum session_state {
	SESSION_FULL, /* signed in (or anonymous when user_id is 0) */
	SESSION_MFA, /* password accepted, waiting for the TOTP code */
	SESSION_STATE__MAX
};

struct session {
	char hash[CRYPTO_SHA256_HEX_LEN + 1]; /* the Redis key's suffix */
	char token[IDS_TOKEN_LEN + 1]; /* set only by session_create */
	char csrf[IDS_TOKEN_LEN + 1];
	uint64_t user_id; /* 0: anonymous */
	enum session_state state;
	int64_t created; /* unix seconds */
	int64_t seen; /* unix seconds of the last refresh */
};

/* Creates a session (a new token and CSRF token) for user_id (0 for an
 * anonymous one) and fills s; s->token goes into the cookie. 0/-1. */
int session_create(struct kv *kv, const struct conf *c, uint64_t user_id,
    enum session_state state, struct session *s);
/*
 * Looks up the session of a cookie token. 1 and s filled when it exists and
 * neither timeout has passed (the idle expiry is pushed forward at most
 * once a minute, to spare Redis a write per request); 0 when there is none,
 * the token is malformed or it timed out (then it is deleted); -1 when
 * Redis fails.
 */
int session_load(
    struct kv *kv, const struct conf *c, const char *token, struct session *s);
/* Deletes one session. 0/-1. */
int session_destroy(struct kv *kv, const struct session *s);
/* Deletes every session of user_id except the one whose hash is keep
 * (NULL: all of them). 0/-1. */
int session_destroy_user(struct kv *kv, uint64_t user_id, const char *keep);
/* 1 when token is this session's CSRF token (constant time). */
int session_csrf_ok(const struct session *s, const char *token);

#endif
