/*
 * licheng-worker: the job pool's entry point. The master reads the
 * configuration, opens the log, writes the pid file and hands the children
 * to lib/pool; it publishes its heartbeat and reloads on SIGHUP, and it never
 * runs a job itself. A child opens its own Redis and MariaDB handles and
 * never touches the master's; between heartbeats and the account sweep it
 * runs jobs (workers/jobs.c), one at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "db.h"
#include "heartbeat.h"
#include "jobs.h"
#include "log.h"
#include "pidfile.h"
#include "pool.h"
#include "store.h"
#include "sweep.h"
#include "util.h"

/* A child wakes at least this often to look for a stop request, which
 * bounds the cost of a signal arriving just before it goes to sleep. */
#define WORKER_NAP_MS 500
/* Children's heartbeats are spread over this many phases this far apart. */
#define WORKER_PHASES 8
#define WORKER_PHASE_MS 100

/* The master's one context, passed to every pool callback. */
struct worker {
	const char *conf_path;
	struct conf *conf;
	int workers; /* --workers, 0 = worker.children */
	pid_t master;
	char pid_file[PATH_MAX]; /* as written; "" = none */
	struct heartbeat *hb; /* the master's own record */
	int64_t next_beat; /* monotonic ms */
	struct store *store; /* for sweeping tmp/; NULL until ids are read */
	int64_t store_retry_at; /* monotonic ms */
};

static void
worker_usage(FILE *f)
{
	fprintf(f,
	    "usage: licheng-worker [-n] [-c file] [--workers M]\n"
	    "  -c file      configuration (default: $LICHENG_CONF, else %s)\n"
	    "  -n           check the configuration, print \"configuration "
	    "OK\" and exit\n"
	    "  --workers M  run M children instead of worker.children "
	    "(at most worker.max_children)\n"
	    "  -h           this help\n",
	    conf_default_path(NULL));
}

/* Fills lim from c and the --workers override; -1 (with the reason in err)
 * when the override exceeds worker.max_children. */
static int
worker_limits(const struct conf *c, int workers, struct pool_limits *lim,
    char *err, size_t errlen)
{
	memset(lim, 0, sizeof(*lim));
	lim->children = workers > 0 ? workers : c->worker_children;
	lim->max_children = c->worker_max_children;
	lim->request_timeout = 0;
	lim->slow_request = 0;
	lim->drain_timeout = c->worker_drain_timeout;
	if (workers > c->worker_max_children) {
		snprintf(err, errlen,
		    "%s: --workers %d exceeds "
		    "worker.max_children (%d)",
		    c->path, workers, c->worker_max_children);
		return -1;
	}
	return 0;
}

static int
worker_log_open(const struct conf *c)
{
	enum log_level level = LL_INFO;

	if (c->log_level[0] != '\0' &&
	    log_level_parse(c->log_level, &level) != 0) {
		fprintf(stderr, "%s: log.level: unknown level \"%s\"\n",
		    c->path, c->log_level);
		return -1;
	}
	if (log_open(c->log_file, level) != 0) {
		fprintf(stderr, "licheng-worker: cannot open log %s: %s\n",
		    c->log_file, strerror(errno));
		return -1;
	}
	return 0;
}

/* Writes the pid file when one is configured; remembers its path so that
 * the master removes exactly what it wrote. */
static int
worker_pid_write(struct worker *w)
{
	char err[512];

	if (w->conf->worker_pid_file[0] == '\0')
		return 0;
	if (str_copy(w->pid_file, sizeof(w->pid_file),
		w->conf->worker_pid_file) != 0) {
		log_error("worker.pid_file is too long");
		w->pid_file[0] = '\0';
		return -1;
	}
	if (pidfile_write(w->pid_file, err, sizeof(err)) != 0) {
		log_error("%s", err);
		w->pid_file[0] = '\0';
		return -1;
	}
	return 0;
}

static void
worker_pid_remove(struct worker *w)
{
	pidfile_remove(w->pid_file);
	w->pid_file[0] = '\0';
}

/* Sleeps up to ms, returning early when a signal arrives. */
static void
worker_nap(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	if (ms > WORKER_NAP_MS)
		ms = WORKER_NAP_MS;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	/* EINTR is the point: the pool's handler has run, and the loop
	 * asks pool_child_poll what it means. */
	if (nanosleep(&ts, NULL) != 0 && errno != EINTR)
		log_warn("nanosleep: %s", strerror(errno));
}

static int
worker_child_main(struct pool *p, int slot, void *arg)
{
	struct worker *w = arg;
	struct heartbeat *hb;
	struct sweep *sw;
	struct jobs *jobs;
	struct db *db;
	int64_t next, interval;

	log_set_proc("worker-child");
	/* The master's connection was inherited across fork: close our copy
	 * of it so this child never writes on the master's socket. */
	heartbeat_free(w->hb);
	w->hb = NULL;
	hb = heartbeat_new(w->conf, w->master);
	/* The job queue's database handle; it connects on first use. */
	db = db_new(w->conf, DB_WORKER);
	sw = sweep_new(w->conf, db, slot);
	jobs = jobs_new(w->conf, db, p, slot);
	interval =
	    (int64_t)(w->conf->worker_heartbeat > 0 ? w->conf->worker_heartbeat
						    : 1) *
	    1000;
	/* Each slot beats at its own phase (a multiple of WORKER_PHASE_MS
	 * after the start), so that the children's beats do not fall in the
	 * same millisecond and look to the pool like every child being busy
	 * at once. The first comes within a second, so a new child shows on
	 * /status quickly. */
	next = now_ms() + (int64_t)(slot % WORKER_PHASES) * WORKER_PHASE_MS;
	while (!pool_child_poll(p)) {
		if (now_ms() >= next) {
			heartbeat_child_beat(hb, p, slot);
			next += interval;
			if (next <= now_ms())
				next = now_ms() + interval;
			continue;
		}
		if (sweep_poll(sw, p, slot))
			continue;
		/* A job (or the reconciler) ran, or Redis was asked to wait
		 * for one: look again at once. An outage: nap. A stop asked
		 * during a job is seen here, after it finished. */
		if (jobs_poll(jobs))
			continue;
		worker_nap(next - now_ms());
	}
	heartbeat_child_gone(hb);
	jobs_free(jobs);
	sweep_free(sw);
	db_free(db);
	heartbeat_free(hb);
	return 0;
}

/* The temporary files in the store roots that writers of this host (fcgi
 * children, jobs) left when they died are removed once at start, as soon
 * as the ids can be read (worker_tick), and after a child dies (here). */
static void
worker_child_died(struct pool *p, pid_t pid, void *arg)
{
	struct worker *w = arg;

	(void)p;
	if (w->store != NULL)
		(void)store_tmp_sweep(w->store, (long)pid);
}

static void
worker_tick(struct pool *p, void *arg)
{
	struct worker *w = arg;
	int64_t now = now_ms();

	store_sweep_start(&w->store, &w->store_retry_at, w->conf, DB_WORKER);
	if (w->hb == NULL)
		w->hb = heartbeat_new(w->conf, w->master);
	if (now >= w->next_beat) {
		w->next_beat = now + (int64_t)w->conf->worker_heartbeat * 1000;
		heartbeat_master_beat(w->hb, p);
	}
	/* Every tick: a child that took a job shows it within a second. */
	heartbeat_master_busy(w->hb, p);
}

static int
worker_reload(struct pool *p, void *arg)
{
	struct worker *w = arg;
	struct pool_limits lim;
	char err[CONF_ERR_MAX];
	struct conf *c;

	if ((c = conf_load(w->conf_path, err, sizeof(err))) == NULL) {
		log_error("reload refused, keeping the running configuration: "
			  "%s",
		    err);
		return -1;
	}
	if (worker_limits(c, w->workers, &lim, err, sizeof(err)) != 0) {
		log_error("reload refused, keeping the running configuration: "
			  "%s",
		    err);
		conf_free(c);
		return -1;
	}
	if (pool_set_limits(p, &lim) != 0) {
		log_error("reload refused: the pool rejected the new limits; "
			  "keeping the running configuration");
		conf_free(c);
		return -1;
	}
	if (worker_log_open(c) != 0)
		log_error("cannot open the new log settings of %s; still "
			  "logging as before",
		    c->path);
	/* The heartbeat refers to the configuration it was made with. */
	heartbeat_free(w->hb);
	w->hb = NULL;
	conf_free(w->conf);
	w->conf = c;
	w->next_beat = 0;
	log_info("reloaded %s: %d children (max %d)", c->path, lim.children,
	    lim.max_children);
	return 0;
}

static int
worker_ignore_sigpipe(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL) != 0) {
		log_error("sigaction SIGPIPE: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
worker_parse_count(const char *s, int *out)
{
	long v;
	char *end;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 4096)
		return -1;
	*out = (int)v;
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"workers", required_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct worker w;
	struct pool_limits lim;
	struct pool_ops ops;
	struct pool *p;
	char err[CONF_ERR_MAX];
	const char *cli_conf = NULL;
	int ch, check = 0, status;

	memset(&w, 0, sizeof(w));
	while ((ch = getopt_long(argc, argv, "c:nh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': cli_conf = optarg; break;
		case 'n': check = 1; break;
		case 'w':
			if (worker_parse_count(optarg, &w.workers) != 0) {
				fprintf(stderr,
				    "licheng-worker: --workers "
				    "needs a number from 1 to 4096, not "
				    "\"%s\"\n",
				    optarg);
				return 1;
			}
			break;
		case 'h': worker_usage(stdout); return 0;
		default: worker_usage(stderr); return 1;
		}
	}
	if (optind != argc) {
		worker_usage(stderr);
		return 1;
	}

	w.conf_path = conf_default_path(cli_conf);
	if ((w.conf = conf_load(w.conf_path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (worker_limits(w.conf, w.workers, &lim, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		conf_free(w.conf);
		return 1;
	}
	if (check) {
		printf("configuration OK\n");
		conf_free(w.conf);
		return 0;
	}

	if (worker_log_open(w.conf) != 0) {
		conf_free(w.conf);
		return 1;
	}
	log_set_proc("worker-master");
	w.master = getpid();
	/* A write to a Redis or MariaDB connection the server has closed
	 * must come back as EPIPE for the handle to reconnect, not kill the
	 * master (the children get the same from lib/pool). */
	if (worker_ignore_sigpipe() != 0) {
		conf_free(w.conf);
		log_close();
		return 1;
	}

	memset(&ops, 0, sizeof(ops));
	ops.name = "worker";
	ops.unit = "job";
	ops.children_key = "worker.children";
	ops.child_main = worker_child_main;
	ops.reload = worker_reload;
	ops.tick = worker_tick;
	ops.child_died = worker_child_died;
	ops.arg = &w;
	if ((p = pool_new(&ops, &lim)) == NULL) {
		conf_free(w.conf);
		log_close();
		return 1;
	}
	if (worker_pid_write(&w) != 0) {
		pool_free(p);
		conf_free(w.conf);
		log_close();
		return 1;
	}
	log_info("starting %d children (max %d), heartbeat every %d s, "
		 "configuration %s",
	    lim.children, lim.max_children, w.conf->worker_heartbeat,
	    w.conf_path);
	store_sweep_start(&w.store, &w.store_retry_at, w.conf, DB_WORKER);

	status = pool_run(p);

	/* pool_run returns in the master only; the check guards the pid
	 * file and the records against a child ever getting here. */
	if (getpid() == w.master) {
		if (w.hb == NULL)
			w.hb = heartbeat_new(w.conf, w.master);
		heartbeat_master_gone(w.hb, p);
		worker_pid_remove(&w);
		log_info("stopped with status %d", status);
	}
	heartbeat_free(w.hb);
	store_free(w.store);
	pool_free(p);
	conf_free(w.conf);
	log_close();
	return status;
}
