/*
 * pool: the pre-fork process manager for licheng-fcgi and licheng-worker.
 * The master forks the children, watches them through a shared scoreboard,
 * respawns the dead (with a brake on crash loops), recycles, reloads and
 * drains on signals. It must never serve a request or run a job itself, and
 * never block on anything but sigtimedwait(2).
 *
 * A child blocks its stop and log signals while it is busy, so a drain or a
 * reload never interrupts a request or a job half-way (no EINTR inside
 * libfcgi, MariaDB or hiredis), and unblocks them while it waits for work, so
 * that a blocking accept(2) or sleep returns at once.
 */
#include "pool.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* Enough for the largest configurable pool plus one retiring generation. */
#define POOL_SLOTS 2080
#define POOL_RESEND_MS 250
#define POOL_CRASH_WINDOW_MS 10000
#define POOL_BACKOFF_MIN_MS 500
#define POOL_BACKOFF_MAX_MS 30000
#define POOL_MAX_WARN_MS 60000

struct pool {
	struct pool_ops ops;
	struct pool_limits lim;
	struct pool_board *board;
	size_t board_size;
	int generation;
	int stopping; /* 0 running, 1 draining, 2 killing */
	int64_t stop_deadline;
	int64_t last_resend;
	int64_t next_tick;
	/* Crash-loop brake. */
	int crashes;
	int64_t crash_window_start;
	int backoff_ms;
	int64_t respawn_after;
	/* Master-only per-slot bookkeeping: when a retiring child must be gone.
	 */
	int64_t retire_deadline[POOL_SLOTS];
	int64_t slot_started_ms[POOL_SLOTS];
	unsigned long long max_seen;
	int64_t last_max_warn;
	/* Child side. */
	sigset_t busy_mask;
};

static volatile sig_atomic_t child_stop;
static volatile sig_atomic_t child_reopen;

static const char *const slot_state_names[POOL_SLOT__MAX] = {
    "empty",
    "starting",
    "idle",
    "active",
    "stopping",
};

const char *
pool_slot_state_name(int state)
{
	if (state < 0 || state >= POOL_SLOT__MAX)
		return "?";
	return slot_state_names[state];
}

static int
pool_limits_check(const struct pool_limits *lim)
{
	if (lim->children < 1 || lim->max_children < lim->children ||
	    lim->max_children > POOL_SLOTS / 2 - 8) {
		log_error("children %d / max_children %d out of range (1..%d)",
		    lim->children, lim->max_children, POOL_SLOTS / 2 - 8);
		return -1;
	}
	if (lim->drain_timeout < 1 || lim->request_timeout < 0 ||
	    lim->slow_request < 0) {
		log_error("bad timeouts: drain %d, request %d, slow %d",
		    lim->drain_timeout, lim->request_timeout,
		    lim->slow_request);
		return -1;
	}
	return 0;
}

struct pool *
pool_new(const struct pool_ops *ops, const struct pool_limits *lim)
{
	struct pool *p;
	size_t size;
	void *mem;

	if (ops->child_main == NULL || pool_limits_check(lim) != 0)
		return NULL;
	size =
	    sizeof(struct pool_board) + POOL_SLOTS * sizeof(struct pool_slot);
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		log_error("mmap of the %s scoreboard (%zu bytes): %s",
		    ops->name, size, strerror(errno));
		return NULL;
	}
	memset(mem, 0, size);
	p = xcalloc(1, sizeof(*p));
	p->ops = *ops;
	p->lim = *lim;
	p->board = mem;
	p->board_size = size;
	p->board->nslots = POOL_SLOTS;
	p->board->started_at = (long long)time(NULL);
	atomic_store(&p->board->target, lim->children);
	sigemptyset(&p->busy_mask);
	sigaddset(&p->busy_mask, SIGTERM);
	sigaddset(&p->busy_mask, SIGINT);
	sigaddset(&p->busy_mask, SIGUSR1);
	return p;
}

void
pool_free(struct pool *p)
{
	if (p == NULL)
		return;
	if (munmap(p->board, p->board_size) != 0)
		log_error("munmap: %s", strerror(errno));
	free(p);
}

int
pool_set_limits(struct pool *p, const struct pool_limits *lim)
{
	if (pool_limits_check(lim) != 0)
		return -1;
	p->lim = *lim;
	return 0;
}

const struct pool_limits *
pool_limits(const struct pool *p)
{
	return &p->lim;
}

struct pool_board *
pool_board(struct pool *p)
{
	return p->board;
}

/* Child side. */

static void
child_on_stop(int sig)
{
	(void)sig;
	child_stop = 1;
}

static void
child_on_reopen(int sig)
{
	(void)sig;
	child_reopen = 1;
}

static int
child_signal(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a child waiting for work must wake up. */
	sa.sa_flags = 0;
	return sigaction(sig, &sa, NULL);
}

static void
child_setup(struct pool *p, int slot)
{
	struct pool_slot *s = &p->board->slots[slot];
	sigset_t none;

	log_after_fork();
	child_stop = 0;
	child_reopen = 0;
	if (child_signal(SIGTERM, child_on_stop) != 0 ||
	    child_signal(SIGINT, child_on_stop) != 0 ||
	    child_signal(SIGUSR1, child_on_reopen) != 0 ||
	    child_signal(SIGHUP, SIG_IGN) != 0 ||
	    child_signal(SIGTTIN, SIG_IGN) != 0 ||
	    child_signal(SIGTTOU, SIG_IGN) != 0 ||
	    child_signal(SIGPIPE, SIG_IGN) != 0 ||
	    child_signal(SIGCHLD, SIG_DFL) != 0 ||
	    child_signal(SIGQUIT, SIG_DFL) != 0) {
		log_error("sigaction: %s", strerror(errno));
		exit(1);
	}
	atomic_store(&s->pid, (int)getpid());
	atomic_store(&s->state, POOL_SLOT_IDLE);
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) != 0) {
		log_error("sigprocmask: %s", strerror(errno));
		exit(1);
	}
}

int
pool_child_poll(struct pool *p)
{
	(void)p;
	if (child_reopen) {
		child_reopen = 0;
		log_reopen();
	}
	return child_stop ? 1 : 0;
}

void
pool_child_busy(struct pool *p, int slot, const char *what)
{
	struct pool_slot *s = &p->board->slots[slot];
	int active;

	/* Hold stop and reopen signals until the unit is done: they are
	 * delivered (and acted on) at the next pool_child_idle. */
	sigprocmask(SIG_BLOCK, &p->busy_mask, NULL);
	str_copy(s->what, sizeof(s->what), what != NULL ? what : "");
	atomic_store(&s->busy_since, (long long)now_ms());
	atomic_store(&s->state, POOL_SLOT_ACTIVE);
	atomic_fetch_add(&p->board->accepted, 1);
	active = atomic_fetch_add(&p->board->active, 1) + 1;
	if (active >= atomic_load(&p->board->target))
		atomic_store(&p->board->saturated, 1);
}

void
pool_child_idle(struct pool *p, int slot)
{
	struct pool_slot *s = &p->board->slots[slot];

	atomic_store(&s->busy_since, 0);
	atomic_store(&s->slow_logged, 0);
	atomic_store(&s->state, POOL_SLOT_IDLE);
	atomic_fetch_add(&s->served, 1);
	atomic_fetch_sub(&p->board->active, 1);
	sigprocmask(SIG_UNBLOCK, &p->busy_mask, NULL);
}

/* Master side. */

static int
slot_alive(const struct pool *p, int i)
{
	return atomic_load(&p->board->slots[i].pid) > 0;
}

static int
slot_current(const struct pool *p, int i)
{
	return slot_alive(p, i) && p->retire_deadline[i] == 0 &&
	    atomic_load(&p->board->slots[i].generation) == p->generation;
}

static int
pool_count_current(const struct pool *p)
{
	int i, n = 0;

	for (i = 0; i < POOL_SLOTS; i++)
		if (slot_current(p, i))
			n++;
	return n;
}

static int
pool_count_alive(const struct pool *p)
{
	int i, n = 0;

	for (i = 0; i < POOL_SLOTS; i++)
		if (slot_alive(p, i))
			n++;
	return n;
}

static int
pool_spawn(struct pool *p)
{
	struct pool_slot *s;
	pid_t pid;
	int i, rc;

	for (i = 0; i < POOL_SLOTS; i++)
		if (!slot_alive(p, i) &&
		    atomic_load(&p->board->slots[i].state) == POOL_SLOT_EMPTY)
			break;
	if (i == POOL_SLOTS) {
		log_error("no free %s slot", p->ops.name);
		return -1;
	}
	s = &p->board->slots[i];
	atomic_store(&s->state, POOL_SLOT_STARTING);
	atomic_store(&s->generation, p->generation);
	atomic_store(&s->served, 0);
	atomic_store(&s->busy_since, 0);
	atomic_store(&s->slow_logged, 0);
	atomic_store(&s->started_at, (long long)time(NULL));
	s->what[0] = '\0';
	p->retire_deadline[i] = 0;
	p->slot_started_ms[i] = now_ms();
	pid = fork();
	if (pid < 0) {
		log_error(
		    "fork of a %s child: %s", p->ops.name, strerror(errno));
		atomic_store(&s->state, POOL_SLOT_EMPTY);
		return -1;
	}
	if (pid == 0) {
		child_setup(p, i);
		rc = p->ops.child_main(p, i, p->ops.arg);
		atomic_store(&s->state, POOL_SLOT_STOPPING);
		exit(rc);
	}
	atomic_store(&s->pid, (int)pid);
	return 0;
}

static void
pool_retire(struct pool *p, int i, int64_t now)
{
	pid_t pid = (pid_t)atomic_load(&p->board->slots[i].pid);

	if (pid <= 0 || p->retire_deadline[i] != 0)
		return;
	p->retire_deadline[i] = now + (int64_t)p->lim.drain_timeout * 1000;
	if (kill(pid, SIGTERM) != 0 && errno != ESRCH)
		log_error("kill %d: %s", (int)pid, strerror(errno));
}

static void
pool_signal_all(struct pool *p, int sig)
{
	int i;

	for (i = 0; i < POOL_SLOTS; i++) {
		pid_t pid = (pid_t)atomic_load(&p->board->slots[i].pid);

		if (pid > 0 && kill(pid, sig) != 0 && errno != ESRCH)
			log_error("kill %d: %s", (int)pid, strerror(errno));
	}
}

static void
pool_note_crash(struct pool *p, int64_t now)
{
	if (now - p->crash_window_start > POOL_CRASH_WINDOW_MS) {
		p->crash_window_start = now;
		p->crashes = 0;
	}
	p->crashes++;
	if (p->crashes <= p->lim.children && p->crashes < 5)
		return;
	p->backoff_ms =
	    p->backoff_ms == 0 ? POOL_BACKOFF_MIN_MS : p->backoff_ms * 2;
	if (p->backoff_ms > POOL_BACKOFF_MAX_MS)
		p->backoff_ms = POOL_BACKOFF_MAX_MS;
	p->respawn_after = now + p->backoff_ms;
	log_error("%s children are crashing (%d exits in %d s); delaying "
		  "respawn by %d ms — see the lines above for the cause",
	    p->ops.name, p->crashes, POOL_CRASH_WINDOW_MS / 1000,
	    p->backoff_ms);
}

static void
pool_reap(struct pool *p)
{
	int64_t now = now_ms();
	pid_t pid;
	int status, i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct pool_slot *s = NULL;
		int was_active, retiring, abnormal;

		for (i = 0; i < POOL_SLOTS; i++) {
			if (atomic_load(&p->board->slots[i].pid) == (int)pid) {
				s = &p->board->slots[i];
				break;
			}
		}
		if (s == NULL)
			continue;
		was_active = atomic_load(&s->state) == POOL_SLOT_ACTIVE;
		retiring = p->retire_deadline[i] != 0 || p->stopping ||
		    atomic_load(&s->generation) != p->generation;
		if (was_active)
			atomic_fetch_sub(&p->board->active, 1);
		abnormal = WIFSIGNALED(status) ||
		    (WIFEXITED(status) && WEXITSTATUS(status) != 0);
		if (abnormal) {
			if (WIFSIGNALED(status))
				log_warn("%s child %d killed by signal %d%s",
				    p->ops.name, (int)pid, WTERMSIG(status),
				    was_active ? " during a unit of work" : "");
			else
				log_warn("%s child %d exited with status %d",
				    p->ops.name, (int)pid, WEXITSTATUS(status));
			if (!retiring)
				pool_note_crash(p, now);
			if (p->ops.child_died != NULL)
				p->ops.child_died(p, pid, p->ops.arg);
		} else if (!retiring) {
			log_info(
			    "%s child %d exited after %llu %ss; replacing it",
			    p->ops.name, (int)pid,
			    (unsigned long long)atomic_load(&s->served),
			    p->ops.unit);
		}
		atomic_store(&s->pid, 0);
		atomic_store(&s->busy_since, 0);
		atomic_store(&s->state, POOL_SLOT_EMPTY);
		p->retire_deadline[i] = 0;
	}
}

static void
pool_maintain(struct pool *p, int64_t now)
{
	int have, want;

	if (p->stopping)
		return;
	if (p->backoff_ms != 0 &&
	    now - p->crash_window_start > 3 * POOL_CRASH_WINDOW_MS)
		p->backoff_ms = 0;
	if (now < p->respawn_after)
		return;
	want = atomic_load(&p->board->target);
	have = pool_count_current(p);
	while (have < want) {
		if (pool_spawn(p) != 0)
			return;
		if (p->board->started_at != 0 && p->next_tick != 0)
			atomic_fetch_add(&p->board->respawned, 1);
		have++;
	}
	/* Retire surplus children of the current generation (SIGTTOU). */
	while (have > want) {
		int i, pick = -1;

		for (i = POOL_SLOTS - 1; i >= 0; i--) {
			if (!slot_current(p, i))
				continue;
			if (pick < 0 ||
			    atomic_load(&p->board->slots[i].state) ==
				POOL_SLOT_IDLE)
				pick = i;
			if (atomic_load(&p->board->slots[i].state) ==
			    POOL_SLOT_IDLE)
				break;
		}
		if (pick < 0)
			break;
		pool_retire(p, pick, now);
		have--;
	}
}

static void
pool_watch(struct pool *p, int64_t now)
{
	int i;

	for (i = 0; i < POOL_SLOTS; i++) {
		struct pool_slot *s = &p->board->slots[i];
		long long since = atomic_load(&s->busy_since);
		pid_t pid = (pid_t)atomic_load(&s->pid);
		int64_t dur;

		if (pid <= 0)
			continue;
		if (p->retire_deadline[i] != 0 && now > p->retire_deadline[i]) {
			log_warn(
			    "%s child %d did not finish within drain_timeout "
			    "(%d s); killing it",
			    p->ops.name, (int)pid, p->lim.drain_timeout);
			kill(pid, SIGKILL);
			p->retire_deadline[i] = now + 3600 * 1000;
			continue;
		}
		if (since == 0)
			continue;
		dur = now - since;
		if (p->lim.slow_request > 0 &&
		    dur >= (int64_t)p->lim.slow_request * 1000 &&
		    atomic_exchange(&s->slow_logged, 1) == 0) {
			atomic_fetch_add(&p->board->slow, 1);
			log_warn(
			    "slow %s: child %d has been running \"%s\" for "
			    "%lld ms (slow_request is %d s)",
			    p->ops.unit, (int)pid, s->what, (long long)dur,
			    p->lim.slow_request);
		}
		if (p->lim.request_timeout > 0 &&
		    dur >= (int64_t)p->lim.request_timeout * 1000) {
			atomic_fetch_add(&p->board->timed_out, 1);
			log_error(
			    "%s \"%s\" in child %d passed request_timeout "
			    "(%d s); killing the child",
			    p->ops.unit, s->what, (int)pid,
			    p->lim.request_timeout);
			kill(pid, SIGKILL);
			atomic_store(&s->busy_since, 0);
		}
	}
}

static void
pool_warn_max(struct pool *p, int64_t now)
{
	unsigned long long n;

	/* Counted once per tick in which every child was busy at least once,
	 * so one child under steady load is not a warning per request. */
	if (atomic_exchange(&p->board->saturated, 0) != 0)
		atomic_fetch_add(&p->board->max_reached, 1);
	n = atomic_load(&p->board->max_reached);

	if (n == p->max_seen)
		return;
	if (p->last_max_warn != 0 && now - p->last_max_warn < POOL_MAX_WARN_MS)
		return;
	p->max_seen = n;
	p->last_max_warn = now;
	log_warn("reached %s (%d): every %s child was busy at once (in %llu "
		 "seconds so far); consider raising it",
	    p->ops.children_key, atomic_load(&p->board->target), p->ops.name,
	    n);
}

static void
pool_reload(struct pool *p, int64_t now)
{
	int i, old = p->generation;

	log_info("reloading %s on SIGHUP", p->ops.name);
	if (p->ops.reload != NULL && p->ops.reload(p, p->ops.arg) != 0) {
		log_error("reload of %s failed; the running children keep "
			  "serving with the old configuration",
		    p->ops.name);
		return;
	}
	p->generation++;
	atomic_store(&p->board->generation, p->generation);
	atomic_store(&p->board->target, p->lim.children);
	/* New children first, so that the socket always has listeners. */
	pool_maintain(p, now);
	for (i = 0; i < POOL_SLOTS; i++)
		if (slot_alive(p, i) &&
		    atomic_load(&p->board->slots[i].generation) == old)
			pool_retire(p, i, now);
}

static void
pool_begin_stop(struct pool *p, int immediate, int64_t now)
{
	if (immediate) {
		log_info("stopping %s now (SIGQUIT)", p->ops.name);
		p->stopping = 2;
		pool_signal_all(p, SIGKILL);
		return;
	}
	if (p->stopping)
		return;
	log_info("draining %s: children finish their current %s (up to %d s)",
	    p->ops.name, p->ops.unit, p->lim.drain_timeout);
	p->stopping = 1;
	p->stop_deadline = now + (int64_t)p->lim.drain_timeout * 1000;
	p->last_resend = now;
	pool_signal_all(p, SIGTERM);
}

static void
pool_handle(struct pool *p, int sig, int64_t now)
{
	int target;

	switch (sig) {
	case SIGTERM:
	case SIGINT: pool_begin_stop(p, 0, now); break;
	case SIGQUIT: pool_begin_stop(p, 1, now); break;
	case SIGHUP:
		if (!p->stopping)
			pool_reload(p, now);
		break;
	case SIGUSR1:
		log_reopen();
		pool_signal_all(p, SIGUSR1);
		break;
	case SIGTTIN:
		target = atomic_load(&p->board->target);
		if (target >= p->lim.max_children) {
			log_warn("%s already has max_children (%d) children",
			    p->ops.name, p->lim.max_children);
			break;
		}
		atomic_store(&p->board->target, target + 1);
		log_info("SIGTTIN: %s children %d -> %d", p->ops.name, target,
		    target + 1);
		break;
	case SIGTTOU:
		target = atomic_load(&p->board->target);
		if (target <= 1)
			break;
		atomic_store(&p->board->target, target - 1);
		log_info("SIGTTOU: %s children %d -> %d", p->ops.name, target,
		    target - 1);
		break;
	default: break;
	}
}

int
pool_run(struct pool *p)
{
	sigset_t set, old;
	int64_t now;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTTIN);
	sigaddset(&set, SIGTTOU);
	if (sigprocmask(SIG_BLOCK, &set, &old) != 0) {
		log_error("sigprocmask: %s", strerror(errno));
		return 1;
	}
	/* A master may talk to Redis (the worker's heartbeat): a server that
	 * went away must be an error return, not a fatal SIGPIPE. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		log_error("signal(SIGPIPE): %s", strerror(errno));
		return 1;
	}
	log_info("%s pool starting %d children", p->ops.name, p->lim.children);
	pool_maintain(p, now_ms());
	p->next_tick = now_ms() + 1000;
	for (;;) {
		struct timespec ts;
		int sig;
		int64_t wait;

		now = now_ms();
		wait = p->stopping ? POOL_RESEND_MS : p->next_tick - now;
		if (wait < 1)
			wait = 1;
		if (wait > 1000)
			wait = 1000;
		ts.tv_sec = (time_t)(wait / 1000);
		ts.tv_nsec = (long)(wait % 1000) * 1000000L;
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig < 0 && errno != EAGAIN && errno != EINTR)
			log_error("sigtimedwait: %s", strerror(errno));
		now = now_ms();
		if (sig > 0)
			pool_handle(p, sig, now);
		pool_reap(p);
		if (p->stopping) {
			if (pool_count_alive(p) == 0)
				break;
			if (p->stopping == 1 && now > p->stop_deadline) {
				log_warn(
				    "%s drain_timeout (%d s) passed; killing "
				    "%d children",
				    p->ops.name, p->lim.drain_timeout,
				    pool_count_alive(p));
				p->stopping = 2;
				pool_signal_all(p, SIGKILL);
			} else if (p->stopping == 1 &&
			    now - p->last_resend >= POOL_RESEND_MS) {
				/* A child may have been between its stop check
				 * and accept(2) when the first signal came. */
				p->last_resend = now;
				pool_signal_all(p, SIGTERM);
			}
			continue;
		}
		pool_maintain(p, now);
		if (now >= p->next_tick) {
			int i;

			p->next_tick = now + 1000;
			pool_watch(p, now);
			pool_warn_max(p, now);
			for (i = 0; i < POOL_SLOTS; i++) {
				pid_t pid =
				    (pid_t)atomic_load(&p->board->slots[i].pid);

				if (pid > 0 && p->retire_deadline[i] != 0)
					kill(pid, SIGTERM);
			}
			if (p->ops.tick != NULL)
				p->ops.tick(p, p->ops.arg);
		}
	}
	log_info("%s pool stopped", p->ops.name);
	if (sigprocmask(SIG_SETMASK, &old, NULL) != 0)
		log_error("sigprocmask: %s", strerror(errno));
	return 0;
}
