/*
 * session: the Redis side of sign-in sessions (see session.h). Tokens are
 * hashed before they touch Redis or a log; a token is never stored,
 * logged or compared in clear outside session_load.
 */
#include "session.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "conf.h"
#include "kv.h"
#include "log.h"
#include "util.h"

/* The idle expiry is refreshed when the last refresh is older than this. */
#define SESSION_TOUCH_EVERY 60

static int
session_key(const struct kv *kv, const char *hash, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%ss:%s", kv_prefix(kv), hash);

	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

static int
session_user_key(const struct kv *kv, uint64_t uid, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%sus:%" PRIu64, kv_prefix(kv), uid);

	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

/* Runs a command whose reply only needs checking for an error. */
static int
session_simple(redisReply *rep, const char *what)
{
	int rc = 0;

	if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
		log_error("%s: %s", what,
		    rep != NULL && rep->str != NULL ? rep->str : "no reply");
		rc = -1;
	}
	if (rep != NULL)
		freeReplyObject(rep);
	return rc;
}

int
session_create(struct kv *kv, const struct conf *c, uint64_t user_id,
    enum session_state state, struct session *s)
{
	char key[128], ukey[96], uid[24], st[4], now[24];
	int64_t t = (int64_t)time(NULL);

	memset(s, 0, sizeof(*s));
	if (ids_token(s->token) != 0 || ids_token(s->csrf) != 0 ||
	    crypto_sha256_hex(s->token, strlen(s->token), s->hash) != 0)
		return -1;
	s->user_id = user_id;
	s->state = state;
	s->created = s->seen = t;
	if (session_key(kv, s->hash, key, sizeof(key)) != 0 ||
	    session_user_key(kv, user_id, ukey, sizeof(ukey)) != 0)
		return -1;
	snprintf(uid, sizeof(uid), "%" PRIu64, user_id);
	snprintf(st, sizeof(st), "%d", (int)state);
	snprintf(now, sizeof(now), "%" PRId64, t);
	/* Anonymous sessions only carry a CSRF token for a form: they live
	 * for the idle timeout or 30 minutes, whichever is shorter. */
	if (session_simple(kv_cmd(kv, "HSET %s u %s c %s st %s t0 %s ts %s",
			       key, uid, s->csrf, st, now, now),
		"HSET session") != 0 ||
	    session_simple(
		kv_cmd(kv, "EXPIRE %s %d", key,
		    user_id == 0 && c->session_idle > 1800 ? 1800
							   : c->session_idle),
		"EXPIRE session") != 0)
		return -1;
	if (user_id == 0)
		return 0;
	if (session_simple(kv_cmd(kv, "SADD %s %s", ukey, s->hash),
		"SADD user sessions") != 0 ||
	    session_simple(
		kv_cmd(kv, "EXPIRE %s %d", ukey, c->session_absolute),
		"EXPIRE user sessions") != 0)
		return -1;
	return 0;
}

/* A decimal field of an HGETALL reply; -1 when absent or malformed. */
static int64_t
session_field(const redisReply *rep, const char *name)
{
	size_t i;
	char *end;
	long long v;

	for (i = 0; i + 1 < rep->elements; i += 2) {
		if (rep->element[i]->type != REDIS_REPLY_STRING ||
		    rep->element[i + 1]->type != REDIS_REPLY_STRING ||
		    strcmp(rep->element[i]->str, name) != 0)
			continue;
		v = strtoll(rep->element[i + 1]->str, &end, 10);
		return *end == '\0' && v >= 0 ? v : -1;
	}
	return -1;
}

static const char *
session_field_str(const redisReply *rep, const char *name)
{
	size_t i;

	for (i = 0; i + 1 < rep->elements; i += 2)
		if (rep->element[i]->type == REDIS_REPLY_STRING &&
		    rep->element[i + 1]->type == REDIS_REPLY_STRING &&
		    strcmp(rep->element[i]->str, name) == 0)
			return rep->element[i + 1]->str;
	return NULL;
}

int
session_load(
    struct kv *kv, const struct conf *c, const char *token, struct session *s)
{
	char key[128], now[24];
	redisReply *rep;
	const char *csrf;
	int64_t t = (int64_t)time(NULL), uid, st;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	if (token == NULL || !ids_token_valid(token))
		return 0;
	if (crypto_sha256_hex(token, strlen(token), s->hash) != 0 ||
	    session_key(kv, s->hash, key, sizeof(key)) != 0)
		return -1;
	rep = kv_cmd(kv, "HGETALL %s", key);
	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
		log_error("HGETALL session: %s",
		    rep != NULL && rep->str != NULL ? rep->str : kv_errstr(kv));
		if (rep != NULL)
			freeReplyObject(rep);
		return -1;
	}
	if (rep->elements == 0)
		goto done;
	uid = session_field(rep, "u");
	st = session_field(rep, "st");
	s->created = session_field(rep, "t0");
	s->seen = session_field(rep, "ts");
	csrf = session_field_str(rep, "c");
	if (uid < 0 || st < 0 || st >= SESSION_STATE__MAX || s->created < 0 ||
	    s->seen < 0 || csrf == NULL ||
	    str_copy(s->csrf, sizeof(s->csrf), csrf) != 0) {
		log_warn("session %.12s... is malformed; deleting it", s->hash);
		rc = -2;
		goto done;
	}
	s->user_id = (uint64_t)uid;
	s->state = (enum session_state)st;
	if (t - s->created >= c->session_absolute) {
		rc = -2;
		goto done;
	}
	rc = 1;
	if (t - s->seen >= SESSION_TOUCH_EVERY) {
		snprintf(now, sizeof(now), "%" PRId64, t);
		if (session_simple(kv_cmd(kv, "HSET %s ts %s", key, now),
			"HSET session") != 0 ||
		    session_simple(
			kv_cmd(kv, "EXPIRE %s %d", key, c->session_idle),
			"EXPIRE session") != 0)
			rc = -1;
		s->seen = t;
	}
done:
	freeReplyObject(rep);
	if (rc == -2) {
		(void)session_destroy(kv, s);
		rc = 0;
	}
	if (rc != 1) {
		OPENSSL_cleanse(s->csrf, sizeof(s->csrf));
		s->user_id = 0;
	}
	return rc;
}

int
session_destroy(struct kv *kv, const struct session *s)
{
	char key[128], ukey[96];

	if (session_key(kv, s->hash, key, sizeof(key)) != 0)
		return -1;
	if (session_simple(kv_cmd(kv, "DEL %s", key), "DEL session") != 0)
		return -1;
	if (s->user_id == 0 ||
	    session_user_key(kv, s->user_id, ukey, sizeof(ukey)) != 0)
		return 0;
	return session_simple(
	    kv_cmd(kv, "SREM %s %s", ukey, s->hash), "SREM user sessions");
}

int
session_destroy_user(struct kv *kv, uint64_t user_id, const char *keep)
{
	char ukey[96], key[128];
	redisReply *rep;
	size_t i;
	int rc = 0;

	if (session_user_key(kv, user_id, ukey, sizeof(ukey)) != 0)
		return -1;
	rep = kv_cmd(kv, "SMEMBERS %s", ukey);
	if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
		log_error("SMEMBERS user sessions failed");
		if (rep != NULL)
			freeReplyObject(rep);
		return -1;
	}
	for (i = 0; i < rep->elements; i++) {
		const char *h = rep->element[i]->str;

		if (rep->element[i]->type != REDIS_REPLY_STRING ||
		    (keep != NULL && strcmp(h, keep) == 0))
			continue;
		if (session_key(kv, h, key, sizeof(key)) != 0 ||
		    session_simple(kv_cmd(kv, "DEL %s", key), "DEL session") !=
			0 ||
		    session_simple(kv_cmd(kv, "SREM %s %s", ukey, h),
			"SREM user sessions") != 0)
			rc = -1;
	}
	freeReplyObject(rep);
	return rc;
}

int
session_csrf_ok(const struct session *s, const char *token)
{
	if (token == NULL || s->csrf[0] == '\0' ||
	    strlen(token) != strlen(s->csrf))
		return 0;
	return CRYPTO_memcmp(token, s->csrf, strlen(s->csrf)) == 0;
}
