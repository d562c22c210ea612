/*
 * pool: the pre-fork process manager shared by licheng-fcgi and
 * licheng-worker, in the manner of PHP-FPM's static pool. The master owns
 * the children and a shared-memory scoreboard; it never serves a request or
 * runs a job itself. Children report busy/idle through the scoreboard and
 * check pool_child_poll() between units of work.
 *
 * Signals to the master: SIGTERM/SIGINT drain (children finish the current
 * unit, then exit; SIGKILL after drain_timeout), SIGQUIT stops at once,
 * SIGHUP reloads (ops->reload, then new children replace old ones, which
 * finish what they are doing), SIGUSR1 reopens logs (forwarded to the
 * children), SIGTTIN/SIGTTOU add or remove a child.
 */
#ifndef LICHENG_POOL_H
#define LICHENG_POOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

#define POOL_WHAT_MAX 96

enum pool_slot_state {
	POOL_SLOT_EMPTY,
	POOL_SLOT_STARTING,
	POOL_SLOT_IDLE,
	POOL_SLOT_ACTIVE,
	POOL_SLOT_STOPPING,
	POOL_SLOT__MAX
};

struct pool_slot {
	atomic_int pid;
	atomic_int state; /* enum pool_slot_state */
	atomic_int generation;
	atomic_ullong served; /* units of work finished by this child */
	atomic_llong started_at; /* wall-clock seconds when forked */
	atomic_llong busy_since; /* monotonic ms; 0 when idle */
	atomic_int slow_logged;
	char what[POOL_WHAT_MAX]; /* the current unit, for /status; advisory */
};

/* The scoreboard, in memory shared by the master and every child. */
struct pool_board {
	atomic_ullong accepted; /* units started, all children ever */
	atomic_ullong max_reached; /* seconds in which every child was busy */
	atomic_int saturated; /* set by a child that made every one busy */
	atomic_ullong slow; /* units that passed slow_request */
	atomic_ullong timed_out; /* children killed past request_timeout */
	atomic_ullong respawned; /* children started after the first ones */
	atomic_int active; /* children busy now */
	atomic_int target; /* children wanted now */
	atomic_int generation;
	long long started_at; /* wall-clock seconds at pool start */
	int nslots;
	struct pool_slot slots[];
};

struct pool;

struct pool_limits {
	int children; /* started at once and kept */
	int max_children; /* SIGTTIN stops here */
	int request_timeout; /* seconds; 0 = none */
	int slow_request; /* seconds; 0 = none */
	int drain_timeout; /* seconds */
};

struct pool_ops {
	const char
	    *name; /* "fcgi" or "worker": used in process titles and logs */
	const char *unit; /* "request" or "job": used in log lines */
	const char *children_key; /* configuration key to suggest raising */
	/* Runs in a child; returns its exit status. */
	int (*child_main)(struct pool *p, int slot, void *arg);
	/* Runs in the master on SIGHUP: re-reads the configuration and updates
	 * the limits with pool_set_limits. 0 replaces the children, -1 keeps
	 * them (the callee logs why). May be NULL. */
	int (*reload)(struct pool *p, void *arg);
	/* Runs in the master about once a second. May be NULL. */
	void (*tick)(struct pool *p, void *arg);
	/* Runs in the master after it reaped a child that was killed by a
	 * signal or exited non-zero, before a replacement is forked (to
	 * clean up what the child left half-done). May be NULL. */
	void (*child_died)(struct pool *p, pid_t pid, void *arg);
	void *arg;
};

/* Maps the scoreboard and checks the limits; nothing is forked yet. The
 * caller owns the pool and frees it with pool_free after pool_run. NULL
 * with a logged reason on bad limits. */
struct pool *
pool_new(const struct pool_ops *ops, const struct pool_limits *lim);
void pool_free(struct pool *p);
/* Forks the children and supervises them until a stop signal; returns the
 * master's exit status. */
int pool_run(struct pool *p);
/* From ops->reload: new limits for the next generation. -1 if invalid. */
int pool_set_limits(struct pool *p, const struct pool_limits *lim);
const struct pool_limits *pool_limits(const struct pool *p);
struct pool_board *pool_board(struct pool *p);

/* In a child: handles pending signals (log reopen) and returns 1 when the
 * child should stop after its current unit of work, else 0. */
int pool_child_poll(struct pool *p);
/* In a child: marks the slot busy with a short description (truncated). */
void pool_child_busy(struct pool *p, int slot, const char *what);
/* In a child: marks the slot idle and counts the finished unit. */
void pool_child_idle(struct pool *p, int slot);

const char *pool_slot_state_name(int state);

#endif
