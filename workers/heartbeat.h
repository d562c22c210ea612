/*
 * heartbeat: the Redis records through which licheng-fcgi's /status and the
 * operators see every worker master and child on every host. Each process
 * publishes its own record over its own connection, except that a master
 * publishes for a child busy with a job (which cannot beat until the job is
 * done) what the pool's scoreboard says it is doing; records expire after
 * three missed heartbeats, so nothing here may ever be needed for a job to
 * run, and a Redis outage must never stop a worker.
 *
 * Keys, under the configured prefix P:
 *   P worker-master:<host>:<pid>  hash: target children heartbeat
 *   P worker-masters              sorted set: <host>:<pid> by last heartbeat
 *   P worker:<host>:<pid>         hash: host pid master slot state job since
 *                                 served heartbeat
 *   P workers                     sorted set: <host>:<pid> by last heartbeat
 */
#ifndef LICHENG_WORKERS_HEARTBEAT_H
#define LICHENG_WORKERS_HEARTBEAT_H

#include <sys/types.h>

struct conf;
struct pool;
struct heartbeat;

/* A new publisher for this process (getpid()) under master; it opens its own
 * Redis connection on first use. conf must outlive it. The caller owns the
 * result and frees it with heartbeat_free. */
struct heartbeat *heartbeat_new(const struct conf *c, pid_t master);
/* Closes the connection and frees hb; accepts NULL. Publishes nothing. */
void heartbeat_free(struct heartbeat *hb);

/* Master: publishes its record, drops sorted-set entries older than ten
 * minutes and removes the records of its own children that died without
 * cleaning up (kill -9). 0 or -1; a failure is logged once per outage. */
int heartbeat_master_beat(struct heartbeat *hb, struct pool *p);
/* Master, about once a second: publishes, for each child busy with a job
 * (which cannot beat until it is done), state busy, its job ("probe #12")
 * and since, from the pool's scoreboard, and keeps its record from
 * expiring. 0 or -1; a failure is logged once per outage. */
int heartbeat_master_busy(struct heartbeat *hb, struct pool *p);
/* Master, on exit: removes its record and any record of its children still
 * left. 0 or -1. */
int heartbeat_master_gone(struct heartbeat *hb, struct pool *p);

/* Child: runs the heartbeat as a unit of work (busy, publish, idle, publish
 * again). 0 or -1; a failure is logged once per outage. */
int heartbeat_child_beat(struct heartbeat *hb, struct pool *p, int slot);
/* Child, on a clean exit: removes its record so no ghost is left. 0 or -1. */
int heartbeat_child_gone(struct heartbeat *hb);

#endif
