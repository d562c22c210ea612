/*
 * test_pool: drives lib/pool.c for real — a master forked from the test,
 * children that do timed units of work — and watches the shared scoreboard
 * (the test maps it before forking, so it sees what the master sees).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../harness.h"
#include "log.h"
#include "pool.h"
#include "util.h"

enum mode { MODE_WORK, MODE_CRASH, MODE_RECYCLE };

struct testctx {
	enum mode mode;
	int unit_ms;
	int done_fd;   /* children write one byte per finished unit */
};

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int
child_main(struct pool *p, int slot, void *arg)
{
	struct testctx *t = arg;
	int units = 0;

	if (t->mode == MODE_CRASH)
		return 3;
	for (;;) {
		struct timespec ts = { 0, 20 * 1000000L };

		if (pool_child_poll(p))
			return 0;
		/* Idle wait that a signal interrupts, like accept(2). */
		nanosleep(&ts, NULL);
		if (pool_child_poll(p))
			return 0;
		pool_child_busy(p, slot, "unit");
		sleep_ms(t->unit_ms);
		if (t->done_fd >= 0 && write(t->done_fd, "u", 1) != 1)
			return 1;
		pool_child_idle(p, slot);
		if (t->mode == MODE_RECYCLE && ++units >= 3)
			return 0;
	}
}

static int
count_alive(struct pool_board *b)
{
	int i, n = 0;

	for (i = 0; i < b->nslots; i++)
		if (atomic_load(&b->slots[i].pid) > 0)
			n++;
	return n;
}

static int
first_pid(struct pool_board *b)
{
	int i;

	for (i = 0; i < b->nslots; i++)
		if (atomic_load(&b->slots[i].pid) > 0)
			return atomic_load(&b->slots[i].pid);
	return 0;
}

static int
has_pid(struct pool_board *b, int pid)
{
	int i;

	for (i = 0; i < b->nslots; i++)
		if (atomic_load(&b->slots[i].pid) == pid)
			return 1;
	return 0;
}

/* Waits up to ms for count_alive == n. */
static int
wait_alive(struct pool_board *b, int n, int ms)
{
	int64_t end = now_ms() + ms;

	while (now_ms() < end) {
		if (count_alive(b) == n)
			return 1;
		sleep_ms(20);
	}
	return count_alive(b) == n;
}

static pid_t
start_master(struct pool *p)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(pool_run(p));
	return pid;
}

static int
stop_master(pid_t m, int ms)
{
	int64_t end = now_ms() + ms;
	int status;

	kill(m, SIGTERM);
	while (now_ms() < end) {
		if (waitpid(m, &status, WNOHANG) == m)
			return WIFEXITED(status) && WEXITSTATUS(status) == 0;
		sleep_ms(20);
	}
	kill(m, SIGKILL);
	waitpid(m, &status, 0);
	return 0;
}

static struct pool *
make_pool(struct testctx *t, int children, int drain)
{
	struct pool_ops ops = {
		.name = "test", .unit = "unit", .children_key = "test.children",
		.child_main = child_main, .arg = t,
	};
	struct pool_limits lim = {
		.children = children, .max_children = 8, .request_timeout = 0,
		.slow_request = 0, .drain_timeout = drain,
	};

	return pool_new(&ops, &lim);
}

static void
test_lifecycle(void)
{
	struct testctx t = { MODE_WORK, 30, -1 };
	struct pool *p = make_pool(&t, 3, 5);
	struct pool_board *b;
	pid_t m;
	int victim, i, gen_pids[8], n = 0;

	CHECK(p != NULL);
	if (p == NULL)
		return;
	b = pool_board(p);
	m = start_master(p);
	CHECK(wait_alive(b, 3, 3000));

	victim = first_pid(b);
	CHECK(victim > 0 && kill(victim, SIGKILL) == 0);
	sleep_ms(300);
	CHECK_MSG(wait_alive(b, 3, 3000) && !has_pid(b, victim),
	    "killed child %d replaced", victim);

	CHECK(kill(m, SIGTTIN) == 0);
	CHECK(wait_alive(b, 4, 3000));
	CHECK(atomic_load(&b->target) == 4);
	CHECK(kill(m, SIGTTOU) == 0);
	CHECK(wait_alive(b, 3, 3000));

	for (i = 0; i < b->nslots && n < 8; i++)
		if (atomic_load(&b->slots[i].pid) > 0)
			gen_pids[n++] = atomic_load(&b->slots[i].pid);
	CHECK(kill(m, SIGHUP) == 0);
	sleep_ms(1500);
	CHECK(atomic_load(&b->generation) == 1);
	CHECK(wait_alive(b, 3, 3000));
	for (i = 0; i < n; i++)
		CHECK_MSG(!has_pid(b, gen_pids[i]), "old child %d replaced",
		    gen_pids[i]);
	CHECK(atomic_load(&b->accepted) > 0);
	CHECK(stop_master(m, 5000));
	pool_free(p);
}

/* SIGTERM while every child is inside a long unit: each unit finishes. */
static void
test_drain(void)
{
	struct testctx t = { MODE_WORK, 700, -1 };
	struct pool *p;
	struct pool_board *b;
	int fds[2], flags, started, finished = 0;
	char c;
	pid_t m;

	CHECK(pipe(fds) == 0);
	t.done_fd = fds[1];
	p = make_pool(&t, 2, 10);
	CHECK(p != NULL);
	if (p == NULL)
		return;
	b = pool_board(p);
	m = start_master(p);
	sleep_ms(300);
	started = (int)atomic_load(&b->accepted);
	CHECK(started >= 1);
	CHECK(stop_master(m, 8000));
	close(fds[1]);
	flags = fcntl(fds[0], F_GETFL);
	fcntl(fds[0], F_SETFL, flags | O_NONBLOCK);
	while (read(fds[0], &c, 1) == 1)
		finished++;
	close(fds[0]);
	CHECK_MSG(finished == (int)atomic_load(&b->accepted),
	    "every started unit finished: started %llu, finished %d",
	    (unsigned long long)atomic_load(&b->accepted), finished);
	CHECK(count_alive(b) == 0);
	pool_free(p);
}

/* Children that exit after 3 units are replaced and counted. */
static void
test_recycle(void)
{
	struct testctx t = { MODE_RECYCLE, 5, -1 };
	struct pool *p = make_pool(&t, 2, 5);
	struct pool_board *b;
	pid_t m;
	int i;

	CHECK(p != NULL);
	if (p == NULL)
		return;
	b = pool_board(p);
	m = start_master(p);
	sleep_ms(1500);
	CHECK(atomic_load(&b->respawned) >= 2);
	/* Children recycle all the time here: one may be between its exit
	 * and its replacement at any given moment, the longer on a loaded
	 * machine. Both slots must be filled again soon. */
	for (i = 0; i < 100 && count_alive(b) != 2; i++)
		sleep_ms(20);
	CHECK(count_alive(b) == 2);
	CHECK(stop_master(m, 5000));
	pool_free(p);
}

/* Children that die at once are respawned with a brake, not in a tight
 * loop. */
static void
test_crash_brake(void)
{
	struct testctx t = { MODE_CRASH, 0, -1 };
	struct pool *p = make_pool(&t, 2, 5);
	struct pool_board *b;
	pid_t m;

	CHECK(p != NULL);
	if (p == NULL)
		return;
	b = pool_board(p);
	m = start_master(p);
	sleep_ms(2500);
	CHECK_MSG(atomic_load(&b->respawned) < 40,
	    "respawns in 2.5 s bounded: %llu",
	    (unsigned long long)atomic_load(&b->respawned));
	CHECK(atomic_load(&b->respawned) >= 2);
	CHECK(stop_master(m, 5000));
	pool_free(p);
}

static void
test_bad_limits(void)
{
	struct testctx t = { MODE_WORK, 1, -1 };

	CHECK(make_pool(&t, 0, 5) == NULL);
	CHECK(make_pool(&t, 9, 5) == NULL);
	CHECK(make_pool(&t, 2, 0) == NULL);
}

int
main(void)
{
	log_open("/dev/null", LL_DEBUG);
	test_bad_limits();
	test_lifecycle();
	test_drain();
	test_recycle();
	test_crash_brake();
	return harness_done();
}
