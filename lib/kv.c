/*
 * kv: one hiredis connection that survives a Redis restart. It owns the
 * redisContext: on an I/O or end-of-file error it frees it, connects again
 * and retries the command once. It never blocks longer than the configured
 * timeout on a connect or a reply, and never interprets the replies.
 */
#include "kv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "conf.h"
#include "log.h"
#include "util.h"

struct kv {
	const struct conf *c;
	redisContext *ctx;
	char err[256];
};

static void
kv_set_err(struct kv *kv, const char *what, const char *cause)
{
	if (snprintf(kv->err, sizeof(kv->err), "%s: %s", what,
		cause != NULL ? cause : "") >= (int)sizeof(kv->err)) {
		/* A truncated message still names the failure. */
		kv->err[sizeof(kv->err) - 1] = '\0';
	}
}

struct kv *
kv_new(const struct conf *c)
{
	struct kv *kv = xcalloc(1, sizeof(*kv));

	kv->c = c;
	return kv;
}

static void
kv_disconnect(struct kv *kv)
{
	if (kv->ctx != NULL) {
		redisFree(kv->ctx);
		kv->ctx = NULL;
	}
}

void
kv_free(struct kv *kv)
{
	if (kv == NULL)
		return;
	kv_disconnect(kv);
	free(kv);
}

const char *
kv_errstr(const struct kv *kv)
{
	return kv->err;
}

const char *
kv_prefix(const struct kv *kv)
{
	return kv->c->redis_prefix != NULL ? kv->c->redis_prefix : "";
}

static struct timeval
kv_timeout(const struct kv *kv)
{
	struct timeval tv;
	int ms = kv->c->redis_timeout_ms > 0 ? kv->c->redis_timeout_ms : 1000;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	return tv;
}

static int
kv_connect(struct kv *kv)
{
	const struct conf *c = kv->c;
	struct timeval tv = kv_timeout(kv);
	const char *where;
	redisReply *r;
	int unix_sock;

	if (kv->ctx != NULL)
		return 0;
	unix_sock = c->redis_socket != NULL && c->redis_socket[0] != '\0';
	where = unix_sock
	    ? c->redis_socket
	    : (c->redis_host != NULL ? c->redis_host : "127.0.0.1");
	if (unix_sock)
		kv->ctx = redisConnectUnixWithTimeout(where, tv);
	else
		kv->ctx = redisConnectWithTimeout(
		    where, c->redis_port > 0 ? c->redis_port : 6379, tv);
	if (kv->ctx == NULL) {
		kv_set_err(kv, where, "cannot allocate a redis context");
		log_error("%s", kv->err);
		return -1;
	}
	if (kv->ctx->err != 0) {
		kv_set_err(kv, where, kv->ctx->errstr);
		log_error("connecting to redis at %s", kv->err);
		kv_disconnect(kv);
		return -1;
	}
	if (redisSetTimeout(kv->ctx, tv) != REDIS_OK) {
		kv_set_err(kv, where, "cannot set the command timeout");
		log_error("%s", kv->err);
		kv_disconnect(kv);
		return -1;
	}
	if (c->secret_redis_password == NULL ||
	    c->secret_redis_password[0] == '\0')
		return 0;
	r = redisCommand(kv->ctx, "AUTH %s", c->secret_redis_password);
	if (r == NULL) {
		kv_set_err(kv, "AUTH", kv->ctx->errstr);
		log_error("redis at %s: %s", where, kv->err);
		kv_disconnect(kv);
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		kv_set_err(kv, "AUTH", r->str);
		log_error("redis at %s: %s", where, kv->err);
		freeReplyObject(r);
		kv_disconnect(kv);
		return -1;
	}
	freeReplyObject(r);
	return 0;
}

static void
kv_free_replies(redisReply **rep, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rep[i] != NULL) {
			freeReplyObject(rep[i]);
			rep[i] = NULL;
		}
}

/*
 * Sends n formatted commands at once and reads their n replies; on a
 * connection error (the server restarted, or the connection was never
 * made) connects again and sends them all once more. A timeout is not
 * retried: the commands may have run, and a second wait would double the
 * time a request blocks. 0 with rep[0..n-1] set, or -1 with none kept.
 */
static int
kv_send(struct kv *kv, char *const *cmd, const size_t *len, size_t n,
    redisReply **rep)
{
	void *reply;
	size_t i, got;
	int attempt, err, timed_out;

	kv->err[0] = '\0';
	for (i = 0; i < n; i++)
		rep[i] = NULL;
	for (attempt = 0; attempt < 2; attempt++) {
		if (kv_connect(kv) != 0)
			return -1;
		for (i = 0; i < n; i++)
			if (redisAppendFormattedCommand(
				kv->ctx, cmd[i], len[i]) != REDIS_OK)
				break;
		for (got = 0; i == n && got < n; got++) {
			reply = NULL;
			if (redisGetReply(kv->ctx, &reply) != REDIS_OK ||
			    reply == NULL)
				break;
			rep[got] = reply;
		}
		if (i == n && got == n)
			return 0;
		kv_free_replies(rep, n);
		err = kv->ctx->err;
		timed_out = err == REDIS_ERR_IO &&
		    (errno == EAGAIN || errno == EWOULDBLOCK);
		kv_set_err(kv, "redis",
		    kv->ctx->errstr[0] != '\0' ? kv->ctx->errstr : "no reply");
		/* After any error the context cannot be used again. */
		kv_disconnect(kv);
		if ((err != REDIS_ERR_IO && err != REDIS_ERR_EOF) || timed_out)
			break;
		if (attempt == 0)
			log_warn("redis connection lost (%s), reconnecting",
			    kv->err);
	}
	log_error("%s", kv->err);
	return -1;
}

static redisReply *
kv_send1(struct kv *kv, char *cmd, size_t len)
{
	redisReply *r;

	return kv_send(kv, &cmd, &len, 1, &r) == 0 ? r : NULL;
}

redisReply *
kv_cmd(struct kv *kv, const char *fmt, ...)
{
	redisReply *r;
	char *cmd = NULL;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = redisvFormatCommand(&cmd, fmt, ap);
	va_end(ap);
	if (len < 0 || cmd == NULL) {
		kv_set_err(kv, "redis", "cannot format the command");
		log_error("%s: %s", kv->err, fmt);
		return NULL;
	}
	r = kv_send1(kv, cmd, (size_t)len);
	redisFreeCommand(cmd);
	return r;
}

redisReply *
kv_cmdargv(struct kv *kv, int argc, const char **argv, const size_t *argvlen)
{
	redisReply *r;
	char *cmd = NULL;
	int len;

	len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
	if (len < 0 || cmd == NULL) {
		kv_set_err(kv, "redis", "cannot format the command");
		log_error("%s", kv->err);
		return NULL;
	}
	r = kv_send1(kv, cmd, (size_t)len);
	redisFreeCommand(cmd);
	return r;
}

int
kv_pipeline(
    struct kv *kv, const struct kv_cmd *cmds, size_t n, redisReply **rep)
{
	char **cmd;
	size_t *len, i;
	int rc = -1;
	long long l;

	if (n == 0)
		return 0;
	cmd = xcalloc(n, sizeof(*cmd));
	len = xcalloc(n, sizeof(*len));
	for (i = 0; i < n; i++) {
		l = redisFormatCommandArgv(
		    &cmd[i], cmds[i].argc, cmds[i].argv, cmds[i].argvlen);
		if (l < 0 || cmd[i] == NULL) {
			kv_set_err(kv, "redis", "cannot format the command");
			log_error("%s", kv->err);
			goto out;
		}
		len[i] = (size_t)l;
	}
	rc = kv_send(kv, cmd, len, n, rep);
out:
	for (i = 0; i < n; i++)
		if (cmd[i] != NULL)
			redisFreeCommand(cmd[i]);
	free(cmd);
	free(len);
	return rc;
}

int
kv_ping(struct kv *kv)
{
	redisReply *r = kv_cmd(kv, "PING");
	int rc = 0;

	if (r == NULL)
		return -1;
	if (r->type != REDIS_REPLY_STATUS || r->str == NULL ||
	    strcmp(r->str, "PONG") != 0) {
		kv_set_err(kv, "PING",
		    r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		log_error("%s", kv->err);
		rc = -1;
	}
	freeReplyObject(r);
	return rc;
}
