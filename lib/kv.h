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
/* PING; 0 or -1. */
int kv_ping(struct kv *kv);
/* The configured key prefix, e.g. "licheng:". */
const char *kv_prefix(const struct kv *kv);

#endif
