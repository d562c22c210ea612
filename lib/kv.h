/*
 * kv: one Redis connection (hiredis) that reconnects after the server
 * restarts. Callers own each reply and free it with freeReplyObject in the
 * function that obtained it. Keys are built by the caller under the
 * configured prefix. hiredis writes with write(2), so a process using kv
 * must ignore SIGPIPE (the pools and the licheng command do): a write to a
 * restarted server then fails with EPIPE and kv reconnects.
 */
#ifndef LICHENG_KV_H
#define LICHENG_KV_H

#include <hiredis/hiredis.h>
#include <stddef.h>

struct conf;
struct kv;

/* A new, unconnected handle; conf must outlive it. */
struct kv *kv_new(const struct conf *c);
void kv_free(struct kv *kv);
const char *kv_errstr(const struct kv *kv);

/* Runs one command (redisCommand format). On a connection error it
 * reconnects once and retries. NULL on error (errstr set); a reply of
 * type REDIS_REPLY_ERROR is returned as is. */
redisReply *kv_cmd(struct kv *kv, const char *fmt, ...);
redisReply *
kv_cmdargv(struct kv *kv, int argc, const char **argv, const size_t *argvlen);

/* One command of a pipeline: argv[0..argc-1], lengths in argvlen (NULL:
 * each argument is a NUL-terminated string). */
struct kv_cmd {
	int argc;
	const char **argv;
	const size_t *argvlen;
};
/* Sends n commands at once and reads their n replies in order (one round
 * trip instead of n). 0 with rep[0..n-1] set (each may be of type
 * REDIS_REPLY_ERROR; the caller frees every one), or -1 with no reply kept
 * (errstr set). Like kv_cmd it reconnects once after a connection error and
 * sends the whole pipeline again: only for commands that may run twice. */
int kv_pipeline(
    struct kv *kv, const struct kv_cmd *cmds, size_t n, redisReply **rep);
/* PING; 0 or -1. */
int kv_ping(struct kv *kv);
/* The configured key prefix, e.g. "licheng:". */
const char *kv_prefix(const struct kv *kv);

#endif
