/*
 * job_scan: the "scan" job — the virus scan of one stored object by the
 * scanner scan.mode chooses (clamd over its unix socket, a command, or none
 * in the demo stack) and the quarantine of an infected one: both copies are
 * moved, never deleted, from objects/ to quarantine/, the objects row says
 * so, and every school whose items use the object gets an alert and an
 * audit row, all in the job's transaction. It never records a scan as clean
 * unless the scanner said so in full: any other reply, a socket error, a
 * timeout or an odd exit fails the job, which is retried.
 */
#include "job_scan.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "audit.h"
#include "conf.h"
#include "db.h"
#include "job_hash_payload.h"
#include "jobs.h"
#include "log.h"
#include "store.h"
#include "util.h"

/* The most of a scanner's reply or output kept for an error message. */
#define SCAN_REPLY_MAX 1024
#define SCAN_OUTPUT_MAX 240
/* Why clamd may have closed or reset the connection mid-stream. */
#define SCAN_RESET_HINT                                                        \
	"; clamd does so when a stream exceeds its StreamMaxLength, which "    \
	"must be at least scan.stream_max"
/* The items named in one alert's detail; more are counted. */
#define SCAN_ALERT_ITEMS 100
/* A copy that is quarantined again (the same bytes uploaded after the
 * first quarantine) is named <sha256>.N, N below this. */
#define SCAN_QUARANTINE_NAMES 1000

static void
scan_result_init(struct job_scan_result *res)
{
	memset(res, 0, sizeof(*res));
	res->verdict = JOB_SCAN_ERROR;
}

/* s (n bytes) for a message: printable ASCII kept, anything else '?', cut
 * to fit out. */
static void
scan_quote(char *out, size_t outlen, const char *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n && k + 4 < outlen; i++)
		out[k++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (i < n && k + 4 <= outlen) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = '\0';
}

/* "120 s" or "250 ms": a timeout for a message. */
static void
scan_ms_text(char *out, size_t outlen, int64_t ms)
{
	if (ms % 1000 == 0)
		str_printf(out, outlen, "%lld s", (long long)(ms / 1000));
	else
		str_printf(out, outlen, "%lld ms", (long long)ms);
}

/* -------------------------------------------------------------- clamd */

void
job_scan_clamd_reply(const char *reply, size_t len, struct job_scan_result *res)
{
	static const char prefix[] = "stream: ", found[] = " FOUND",
			  error[] = " ERROR";
	const size_t np = sizeof(prefix) - 1, nf = sizeof(found) - 1,
		     ne = sizeof(error) - 1;
	char q[160];
	size_t i, n;

	scan_result_init(res);
	scan_quote(q, sizeof(q), reply, len);
	if (len == 0) {
		str_printf(
		    res->err, sizeof(res->err), "clamd sent an empty reply");
		return;
	}
	if (len == np + 2 && memcmp(reply, "stream: OK", np + 2) == 0) {
		res->verdict = JOB_SCAN_CLEAN;
		return;
	}
	if (len > ne && memcmp(reply + len - ne, error, ne) == 0) {
		str_printf(res->err, sizeof(res->err),
		    "clamd could not scan the stream: \"%s\"", q);
		return;
	}
	if (len <= np + nf || memcmp(reply, prefix, np) != 0 ||
	    memcmp(reply + len - nf, found, nf) != 0) {
		str_printf(res->err, sizeof(res->err),
		    "clamd sent an unexpected reply: \"%s\"", q);
		return;
	}
	n = len - np - nf;
	for (i = 0; i < n; i++)
		if (reply[np + i] < 0x20 || reply[np + i] >= 0x7f)
			break;
	if (n > JOB_SCAN_SIG_MAX || i < n || reply[np] == ' ') {
		str_printf(res->err, sizeof(res->err),
		    "clamd found something but its signature name is not 1 "
		    "to %d printable characters: \"%s\"",
		    JOB_SCAN_SIG_MAX, q);
		return;
	}
	memcpy(res->signature, reply + np, n);
	res->signature[n] = '\0';
	res->verdict = JOB_SCAN_INFECTED;
}

/* Waits until fd is ready for events or the deadline (now_ms) passes: 1
 * ready (an error or a hang-up counts: the next call reports it), 0 timed
 * out, -1 poll failed. A signal does not cut the wait short: a stopping
 * child finishes its job. */
static int
scan_wait(int fd, short events, int64_t deadline)
{
	struct pollfd pfd;
	int64_t left;
	int rc;

	for (;;) {
		if ((left = deadline - now_ms()) <= 0)
			return 0;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		rc = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (rc > 0)
			return 1;
		if (rc == -1 && errno != EINTR)
			return -1;
	}
}

/* Sends n bytes on the non-blocking socket s: 0, -1 with errno, or -2 when
 * the deadline passed. */
static int
scan_send(int s, const void *data, size_t n, int64_t deadline)
{
	const char *p = data;
	ssize_t w;
	int rc;

	while (n > 0) {
		w = send(s, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if ((rc = scan_wait(s, POLLOUT, deadline)) <= 0)
			return rc == 0 ? -2 : -1;
	}
	return 0;
}

/* Reads clamd's reply into buf (cap bytes) up to its NUL: 1 with a whole
 * reply (*len bytes, the NUL not counted), 0 when the connection closed
 * before the NUL (*len bytes came), -1 with errno, -2 when the deadline
 * passed or the reply does not fit. */
static int
scan_recv_reply(int s, char *buf, size_t cap, size_t *len, int64_t deadline)
{
	char *nul;
	ssize_t r;
	int rc;

	*len = 0;
	for (;;) {
		if (*len + 1 >= cap)
			return -2;
		r = recv(s, buf + *len, cap - 1 - *len, 0);
		if (r > 0) {
			nul = memchr(buf + *len, '\0', (size_t)r);
			*len += (size_t)r;
			if (nul != NULL) {
				*len = (size_t)(nul - buf);
				return 1;
			}
			continue;
		}
		if (r == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if ((rc = scan_wait(s, POLLIN, deadline)) <= 0)
			return rc == 0 ? -2 : -1;
	}
}

/* A non-blocking connection to the unix socket path, or -1 with the reason
 * in res. A listener whose backlog is full (EAGAIN) is tried again until
 * the deadline. */
static int
scan_connect(const char *path, int64_t deadline, struct job_scan_result *res)
{
	const struct timespec nap = {0, 20 * 1000000L};
	struct sockaddr_un sa;
	int s;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (str_copy(sa.sun_path, sizeof(sa.sun_path), path) != 0) {
		str_printf(res->err, sizeof(res->err),
		    "scan.clamd_socket %s is longer than a unix socket path "
		    "may be",
		    path);
		return -1;
	}
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s == -1) {
		str_printf(
		    res->err, sizeof(res->err), "socket: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		if (connect(s, (const struct sockaddr *)&sa, sizeof(sa)) == 0)
			return s;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN && now_ms() < deadline) {
			(void)nanosleep(&nap, NULL);
			continue;
		}
		str_printf(res->err, sizeof(res->err),
		    "cannot connect to clamd at %s: %s", path,
		    errno == EAGAIN ? "its backlog stayed full until the "
				      "scan's time was up"
				    : strerror(errno));
		(void)close(s);
		return -1;
	}
}

/* After a failed send: what clamd said before it closed, if anything, in
 * q (quoted), waiting at most a second. */
static void
scan_late_reply(int s, int64_t deadline, char *q, size_t qlen)
{
	char reply[SCAN_REPLY_MAX];
	int64_t soon = now_ms() + 1000;
	size_t len = 0;

	q[0] = '\0';
	if (soon > deadline)
		soon = deadline;
	if (scan_recv_reply(s, reply, sizeof(reply), &len, soon) >= 0 &&
	    len > 0)
		scan_quote(q, qlen, reply, len);
}

void
job_scan_clamd(const char *sock, int fd, long long max, int64_t timeout_ms,
    struct job_scan_result *res)
{
	static const char cmd[] = "zINSTREAM"; /* sent with its NUL */
	int64_t deadline = now_ms() + timeout_ms;
	unsigned char *buf = NULL;
	char reply[SCAN_REPLY_MAX], q[160], t[32], why[64];
	long long sent = 0, size = -1;
	struct stat st;
	size_t len;
	ssize_t n;
	int s = -1, rc;

	scan_result_init(res);
	scan_ms_text(t, sizeof(t), timeout_ms);
	if (fstat(fd, &st) != 0) {
		str_printf(
		    res->err, sizeof(res->err), "fstat: %s", strerror(errno));
		return;
	}
	if (S_ISREG(st.st_mode))
		size = (long long)st.st_size;
	if (size > max) {
		str_printf(res->err, sizeof(res->err),
		    "the object is %lld bytes, more than scan.stream_max "
		    "(%lld): it is not sent to clamd, so it is not scanned",
		    size, max);
		return;
	}
	if ((s = scan_connect(sock, deadline, res)) == -1)
		return;
	buf = xmalloc(4 + JOB_SCAN_CHUNK);
	if ((rc = scan_send(s, cmd, sizeof(cmd), deadline)) != 0)
		goto send_failed;
	for (;;) {
		n = read(fd, buf + 4, JOB_SCAN_CHUNK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			str_printf(res->err, sizeof(res->err),
			    "reading the object: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (sent + n > max) {
			str_printf(res->err, sizeof(res->err),
			    "the object has more than scan.stream_max (%lld) "
			    "bytes: it is not sent to clamd whole, so it is "
			    "not scanned",
			    max);
			goto out;
		}
		buf[0] = (unsigned char)((size_t)n >> 24);
		buf[1] = (unsigned char)((size_t)n >> 16);
		buf[2] = (unsigned char)((size_t)n >> 8);
		buf[3] = (unsigned char)n;
		if ((rc = scan_send(s, buf, 4 + (size_t)n, deadline)) != 0)
			goto send_failed;
		sent += n;
	}
	memset(buf, 0, 4);
	if ((rc = scan_send(s, buf, 4, deadline)) != 0)
		goto send_failed;
	rc = scan_recv_reply(s, reply, sizeof(reply), &len, deadline);
	if (rc == 1) {
		job_scan_clamd_reply(reply, len, res);
	} else if (rc == 0 && len == 0) {
		str_printf(res->err, sizeof(res->err),
		    "clamd closed the connection without a reply (after all "
		    "%lld bytes)",
		    sent);
	} else if (rc == 0) {
		scan_quote(q, sizeof(q), reply, len);
		str_printf(res->err, sizeof(res->err),
		    "clamd closed the connection in the middle of its reply "
		    "\"%s\"",
		    q);
	} else if (rc == -1) {
		str_printf(res->err, sizeof(res->err),
		    "reading clamd's reply: %s%s", strerror(errno),
		    errno == ECONNRESET ? SCAN_RESET_HINT : "");
	} else {
		str_printf(res->err, sizeof(res->err),
		    "clamd did not answer within %s (scan.timeout)", t);
	}
	goto out;
send_failed:
	if (rc == -2) {
		str_printf(res->err, sizeof(res->err),
		    "clamd did not take the stream within %s (scan.timeout; "
		    "%lld bytes sent)",
		    t, sent);
		goto out;
	}
	str_printf(why, sizeof(why), "%s", strerror(errno));
	scan_late_reply(s, deadline, q, sizeof(q));
	str_printf(res->err, sizeof(res->err),
	    "clamd closed the connection after %lld of %lld bytes (%s)%s%s%s"
	    "%s",
	    sent, size, why, q[0] != '\0' ? ", saying \"" : "", q,
	    q[0] != '\0' ? "\"" : "", SCAN_RESET_HINT);
out:
	free(buf);
	if (s != -1)
		(void)close(s);
}

/* ------------------------------------------------------------ command */

/* In the forked child, before execv: what the worker child changed for
 * itself is put back (ignored signals stay ignored across exec, and a
 * blocked mask is inherited), the standard descriptors set, and every
 * other descriptor closed. Only async-signal-safe calls. */
static void
scan_child_exec(const char *command, char *const argv[], int devnull, int out,
    int errfd, int maxfd)
{
	static const int sigs[] = {SIGPIPE, SIGHUP, SIGTTIN, SIGTTOU, SIGTERM,
	    SIGINT, SIGUSR1, SIGCHLD, SIGQUIT};
	struct sigaction sa;
	sigset_t none;
	size_t i;
	int fd, e;

	(void)setpgid(0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		(void)sigaction(sigs[i], &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(devnull, 0) == -1 || dup2(out, 1) == -1 || dup2(out, 2) == -1)
		goto fail;
	/* errfd stays open until the exec closes it (O_CLOEXEC). */
	if (close_range(3, (unsigned)errfd - 1, 0) != 0 ||
	    close_range((unsigned)errfd + 1, ~0U, 0) != 0)
		for (fd = 3; fd < maxfd; fd++)
			if (fd != errfd)
				(void)close(fd);
	execv(command, argv);
fail:
	e = errno;
	(void)!write(errfd, &e, sizeof(e));
	_exit(127);
}

/* The output kept (at most SCAN_OUTPUT_MAX bytes) as one line for a
 * message: "" or ": <text>". */
static void
scan_output_text(char *q, size_t qlen, const char *out, size_t n)
{
	char line[SCAN_OUTPUT_MAX + 8];
	size_t a = 0, b = n;

	while (a < b && (unsigned char)out[a] <= ' ')
		a++;
	while (b > a && (unsigned char)out[b - 1] <= ' ')
		b--;
	if (a == b) {
		q[0] = '\0';
		return;
	}
	scan_quote(line, sizeof(line), out + a, b - a);
	str_printf(q, qlen, ": %s", line);
}

/* Starts command with path in a process group of its own (see
 * scan_child_exec): its pid, with *out the read end of its stdout and
 * stderr; -1 with the reason in res. */
static pid_t
scan_spawn(const char *command, const char *path, int *out,
    struct job_scan_result *res)
{
	int pipefd[2] = {-1, -1}, errpipe[2] = {-1, -1}, devnull = -1, e = 0;
	char *argv[3] = {NULL, NULL, NULL};
	pid_t pid = -1;
	struct rlimit rl;
	ssize_t r;
	int maxfd;

	maxfd = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 65536
	    ? (int)rl.rlim_cur
	    : 65536;
	if (pipe2(pipefd, O_CLOEXEC) != 0 || pipe2(errpipe, O_CLOEXEC) != 0 ||
	    (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		str_printf(res->err, sizeof(res->err),
		    "cannot set up the scanner's pipes: %s", strerror(errno));
		goto out;
	}
	argv[0] = xstrdup(command);
	argv[1] = xstrdup(path);
	if ((pid = fork()) == -1) {
		str_printf(
		    res->err, sizeof(res->err), "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		scan_child_exec(
		    command, argv, devnull, pipefd[1], errpipe[1], maxfd);
	/* Either side may win the race to make the group. */
	(void)setpgid(pid, pid);
	(void)close(errpipe[1]);
	errpipe[1] = -1;
	/* Closed by a successful exec; the errno of a failed one. */
	while ((r = read(errpipe[0], &e, sizeof(e))) == -1 && errno == EINTR)
		;
	if (r == (ssize_t)sizeof(e)) {
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		str_printf(res->err, sizeof(res->err),
		    "cannot run scan.command %s: %s", command, strerror(e));
		pid = -1;
		goto out;
	}
	(void)fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	*out = pipefd[0];
	pipefd[0] = -1;
out:
	free(argv[0]);
	free(argv[1]);
	if (devnull != -1)
		(void)close(devnull);
	for (e = 0; e < 2; e++) {
		if (pipefd[e] != -1)
			(void)close(pipefd[e]);
		if (errpipe[e] != -1)
			(void)close(errpipe[e]);
	}
	return pid;
}

/* Reads the scanner's output from fd (keeping the first sizeof out bytes
 * in out, *nout) until it has exited and the pipe is drained, or the
 * deadline passes: 0 with its wait status in *status, -1 when time was up
 * (its group is killed and reaped), -2 when waitpid failed. A scanner that
 * exits while something it started keeps the pipe open is not waited for
 * beyond its own exit: that group is killed too. */
static int
scan_collect(pid_t pid, int fd, int64_t deadline, char *out, size_t outlen,
    size_t *nout, int *status)
{
	const struct timespec nap = {0, 10 * 1000000L};
	int exited = 0, eof = 0;
	struct pollfd pfd;
	char tmp[4096];
	size_t k;
	ssize_t r;
	pid_t w;

	*nout = 0;
	for (;;) {
		if (!eof) {
			r = read(fd, tmp, sizeof(tmp));
			if (r > 0) {
				k = (size_t)r < outlen - *nout ? (size_t)r
							       : outlen - *nout;
				memcpy(out + *nout, tmp, k);
				*nout += k;
				continue;
			}
			if (r == 0 || (errno != EAGAIN && errno != EINTR))
				eof = 1;
		}
		if (exited) {
			/* Read once more after the exit, then done; what it
			 * left running and holding the pipe goes. */
			if (!eof)
				(void)kill(-pid, SIGKILL);
			return 0;
		}
		w = waitpid(pid, status, WNOHANG);
		if (w == pid) {
			exited = 1;
			continue;
		}
		if (w == -1 && errno != EINTR) {
			(void)kill(-pid, SIGKILL);
			return -2;
		}
		if (now_ms() >= deadline) {
			(void)kill(-pid, SIGKILL);
			while (waitpid(pid, status, 0) == -1 && errno == EINTR)
				;
			return -1;
		}
		if (eof) {
			(void)nanosleep(&nap, NULL);
			continue;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		(void)poll(&pfd, 1, 100);
	}
}

void
job_scan_command(const char *command, const char *path, int64_t timeout_ms,
    struct job_scan_result *res)
{
	int64_t deadline = now_ms() + timeout_ms;
	char out[SCAN_OUTPUT_MAX], q[SCAN_OUTPUT_MAX + 16], t[32];
	int fd = -1, status = 0, rc, e;
	size_t nout = 0;
	pid_t pid;

	scan_result_init(res);
	scan_ms_text(t, sizeof(t), timeout_ms);
	if ((pid = scan_spawn(command, path, &fd, res)) == -1)
		return;
	rc = scan_collect(pid, fd, deadline, out, sizeof(out), &nout, &status);
	e = errno;
	(void)close(fd);
	scan_output_text(q, sizeof(q), out, nout);
	if (rc == -2) {
		str_printf(
		    res->err, sizeof(res->err), "waitpid: %s", strerror(e));
	} else if (rc == -1) {
		str_printf(res->err, sizeof(res->err),
		    "scan.command did not finish within %s (scan.timeout) "
		    "and was killed%s",
		    t, q);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		res->verdict = JOB_SCAN_CLEAN;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 1) {
		res->verdict = JOB_SCAN_INFECTED;
		(void)str_copy(
		    res->signature, sizeof(res->signature), "command");
	} else if (WIFEXITED(status)) {
		str_printf(res->err, sizeof(res->err),
		    "scan.command exited with status %d (0 is clean, 1 "
		    "infected)%s",
		    WEXITSTATUS(status), q);
	} else {
		str_printf(res->err, sizeof(res->err),
		    "scan.command was killed by signal %d (%s)%s",
		    WTERMSIG(status), strsignal(WTERMSIG(status)), q);
	}
}

/* --------------------------------------------------------- quarantine */

/* A copy of an object: in root 0 (primary) or 1 (replica), under objects/
 * or quarantine/. */
struct scan_copy {
	int root;
	int quarantined;
	char path[PATH_MAX];
};

static const char *const scan_root_names[2] = {"primary", "replica"};

/* Root i's directory: the object's path (store.h: <root>/objects/ab/cd/
 * <sha256>) without its last four parts. 0/-1. */
static int
scan_root_dir(
    const struct store *s, int root, const char *sha, char *out, size_t outlen)
{
	static const size_t tail = sizeof("/objects/ab/cd/") - 1 + 64;
	char obj[PATH_MAX];
	size_t n;

	if (store_object_path(s, root, sha, obj, sizeof(obj)) != 0 ||
	    (n = strlen(obj)) <= tail || n - tail >= outlen)
		return -1;
	memcpy(out, obj, n - tail);
	out[n - tail] = '\0';
	return 0;
}

/* The path of copy c of sha. 0/-1. */
static int
scan_copy_path(const struct store *s, const char *sha, struct scan_copy *c)
{
	char dir[PATH_MAX];
	int n;

	if (!c->quarantined)
		return store_object_path(
		    s, c->root, sha, c->path, sizeof(c->path));
	if (scan_root_dir(s, c->root, sha, dir, sizeof(dir)) != 0)
		return -1;
	n = snprintf(c->path, sizeof(c->path), "%s/quarantine/%s", dir, sha);
	return n < 0 || (size_t)n >= sizeof(c->path) ? -1 : 0;
}

/* Opens the copy to scan: the primary's, else the replica's, else one that
 * an earlier attempt moved to quarantine/ before its transaction was lost.
 * The fd, or -1 with the reason in err. */
static int
scan_open_copy(const struct store *s, const char *sha, struct scan_copy *c,
    char *err, size_t errlen)
{
	char why[200] = "";
	struct stat st;
	int q, fd;

	for (q = 0; q < 2; q++) {
		for (c->root = 0; c->root < 2; c->root++) {
			c->quarantined = q;
			if (scan_copy_path(s, sha, c) != 0)
				continue;
			fd = open(c->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			if (fd != -1 && fstat(fd, &st) == 0 &&
			    S_ISREG(st.st_mode))
				return fd;
			if (fd != -1) {
				(void)close(fd);
				errno = EINVAL;
			}
			if (errno != ENOENT && errno != ENOTDIR &&
			    why[0] == '\0')
				str_printf(why, sizeof(why), "; %s: %s",
				    c->path, strerror(errno));
		}
	}
	str_printf(err, errlen,
	    "object %s has no readable copy in either root (objects/ or "
	    "quarantine/)%s; the hash job records a loss",
	    sha, why);
	return -1;
}

/* Moves root's copy objects/ab/cd/<sha> to quarantine/<sha> — or
 * <sha>.N when that name is taken (the same bytes quarantined before):
 * nothing is replaced or deleted — and fsyncs both directories. 1 moved,
 * 0 nothing under objects/, -1 with the reason in err. */
static int
scan_quarantine_root(
    const struct store *s, int root, const char *sha, char *err, size_t errlen)
{
	char obj[PATH_MAX], dir[PATH_MAX], qdir[PATH_MAX], name[80];
	struct stat st;
	int qfd = -1, dfd = -1, rc = -1, n, r = -1;
	char *slash;

	if (store_object_path(s, root, sha, obj, sizeof(obj)) != 0 ||
	    scan_root_dir(s, root, sha, dir, sizeof(dir)) != 0 ||
	    snprintf(qdir, sizeof(qdir), "%s/quarantine", dir) >=
		(int)sizeof(qdir)) {
		str_printf(err, errlen, "the %s root's path is too long",
		    scan_root_names[root]);
		return -1;
	}
	if (lstat(obj, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		str_printf(err, errlen, "stat %s: %s", obj, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		str_printf(err, errlen, "%s is not a regular file", obj);
		return -1;
	}
	if (mkdir(qdir, 0750) == 0) {
		if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
			-1 ||
		    fsync(dfd) != 0) {
			str_printf(
			    err, errlen, "fsync %s: %s", dir, strerror(errno));
			goto out;
		}
		(void)close(dfd);
		dfd = -1;
	} else if (errno != EEXIST) {
		str_printf(err, errlen, "mkdir %s: %s", qdir, strerror(errno));
		goto out;
	}
	qfd = open(qdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (qfd == -1) {
		str_printf(err, errlen, "open %s: %s", qdir, strerror(errno));
		goto out;
	}
	for (n = 0; n < SCAN_QUARANTINE_NAMES; n++) {
		if (n == 0)
			str_printf(name, sizeof(name), "%s", sha);
		else
			str_printf(name, sizeof(name), "%s.%d", sha, n);
		r = renameat2(AT_FDCWD, obj, qfd, name, RENAME_NOREPLACE);
		if (r == -1 && (errno == EINVAL || errno == ENOSYS)) {
			/* No RENAME_NOREPLACE here: link(2) never replaces
			 * either. */
			if ((r = linkat(AT_FDCWD, obj, qfd, name, 0)) == 0 &&
			    unlink(obj) != 0) {
				str_printf(err, errlen, "unlink %s: %s", obj,
				    strerror(errno));
				goto out;
			}
		}
		if (r == 0 || errno != EEXIST)
			break;
	}
	if (r != 0) {
		str_printf(err, errlen, "cannot move %s to %s/: %s", obj, qdir,
		    n == SCAN_QUARANTINE_NAMES ? "every name is taken"
					       : strerror(errno));
		goto out;
	}
	/* The new name first, then the old one's removal. */
	if (fsync(qfd) != 0) {
		str_printf(err, errlen, "fsync %s: %s", qdir, strerror(errno));
		goto out;
	}
	if ((slash = strrchr(obj, '/')) != NULL)
		*slash = '\0';
	if ((dfd = open(obj, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) != 0) {
		str_printf(err, errlen, "fsync %s: %s", obj, strerror(errno));
		goto out;
	}
	log_warn("object %s: the %s copy moved to %s/%s", sha,
	    scan_root_names[root], qdir, name);
	rc = 1;
out:
	if (qfd != -1)
		(void)close(qfd);
	if (dfd != -1)
		(void)close(dfd);
	return rc;
}

/* Moves both copies of sha to quarantine/, after checking both roots'
 * markers (a root that is not the recorded one is never written to): the
 * number moved, or -1 with the reason in err. */
static int
scan_quarantine(
    const struct store *s, const char *sha, char *err, size_t errlen)
{
	enum store_root_state st[2];
	int i, r, moved = 0;

	if (store_check(s, st) != STORE_OK) {
		str_printf(err, errlen,
		    "cannot quarantine %s: the primary root is %s, the replica "
		    "%s",
		    sha, store_root_state_name(st[0]),
		    store_root_state_name(st[1]));
		return -1;
	}
	for (i = 0; i < 2; i++) {
		if ((r = scan_quarantine_root(s, i, sha, err, errlen)) < 0)
			return -1;
		moved += r;
	}
	return moved;
}

/* ------------------------------------------------------------- record */

static int
scan_record_clean(struct db *db, const char *sha)
{
	struct db_param p[1] = {DB_STR(sha)};

	return db_exec(db,
	    "UPDATE objects SET scanned_at = UTC_TIMESTAMP(6), scan_result = "
	    "'clean', scan_signature = NULL WHERE sha256 = ?",
	    p, 1, NULL, NULL);
}

/* The alert scan.infected and the audit row object.quarantined of one
 * school (school_id 0 and code NULL: an object no item uses), with its
 * items' public ids (res rows [from, to), column 2). 0/-1. */
static int
scan_alert_school(struct db *db, const char *sha, const char *sig,
    uint64_t school_id, const char *code, const struct db_res *res, size_t from,
    size_t to)
{
	char target[80];
	struct audit_event ev = {.actor = "system",
	    .role = "system",
	    .school = code,
	    .ip = "",
	    .event = "object.quarantined",
	    .target = target,
	    .outcome = "success"};
	struct buf d;
	size_t i;
	int rc;

	buf_init(&d);
	buf_putc(&d, '{');
	buf_json_kv(&d, "sha256", sha);
	buf_json_kv(&d, "signature", sig);
	buf_puts(&d, ",\"items\":[");
	for (i = from; i < to && i - from < SCAN_ALERT_ITEMS; i++) {
		if (i > from)
			buf_putc(&d, ',');
		buf_putc(&d, '"');
		buf_json_str(&d, db_res_get(res, i, 2), db_res_len(res, i, 2));
		buf_putc(&d, '"');
	}
	buf_putc(&d, ']');
	if (to - from > SCAN_ALERT_ITEMS)
		buf_json_ki(
		    &d, "more", (long long)(to - from - SCAN_ALERT_ITEMS));
	buf_putc(&d, '}');
	str_printf(target, sizeof(target), "object:%s", sha);
	ev.detail = d.data;
	rc = alert_raise_tx(db, school_id, code, "scan.infected", "", d.data) ==
		    0 &&
		audit_append_tx(db, &ev) == 0
	    ? 0
	    : -1;
	buf_free(&d);
	return rc;
}

/* Records sha as infected with sig and quarantined, and raises the alert
 * with its audit row for each school whose items use it. 0/-1 (err). */
static int
scan_record_infected(
    struct db *db, const char *sha, const char *sig, char *err, size_t errlen)
{
	struct db_param p[2] = {DB_STR(sig), DB_STR(sha)};
	struct db_res *res;
	size_t i, from, n;
	int rc = 0;

	if (db_exec(db,
		"UPDATE objects SET scanned_at = UTC_TIMESTAMP(6), scan_result "
		"= 'infected', scan_signature = ?, quarantined_at = "
		"COALESCE(quarantined_at, UTC_TIMESTAMP(6)) WHERE sha256 = ?",
		p, 2, NULL, NULL) != 0) {
		str_printf(
		    err, errlen, "recording the infection: %s", db_errstr(db));
		return -1;
	}
	res = db_query(db,
	    "SELECT DISTINCT i.school_id, s.code, i.public_id, i.id FROM "
	    "item_files f JOIN items i ON i.id = f.item_id AND i.school_id = "
	    "f.school_id JOIN schools s ON s.id = i.school_id WHERE f.sha256 "
	    "= ? ORDER BY i.school_id, i.id",
	    p + 1, 1);
	if (res == NULL) {
		str_printf(err, errlen, "finding the object's items: %s",
		    db_errstr(db));
		return -1;
	}
	n = db_res_rows(res);
	if (n == 0)
		rc = scan_alert_school(db, sha, sig, 0, NULL, res, 0, 0);
	for (from = 0; from < n && rc == 0; from = i) {
		for (i = from;
		     i < n && db_res_int(res, i, 0) == db_res_int(res, from, 0);
		     i++)
			;
		rc = scan_alert_school(db, sha, sig,
		    (uint64_t)db_res_int(res, from, 0),
		    db_res_get(res, from, 1), res, from, i);
	}
	if (rc != 0)
		str_printf(err, errlen, "raising the alert: %s", db_errstr(db));
	db_res_free(res);
	return rc;
}

/* -------------------------------------------------------------- the job */

/* The per-process note that scanning is off, logged once per child. */
static int scan_off_logged;

/* Runs the configured scanner over the copy c (open as fd). */
static void
scan_copy(const struct conf *conf, int fd, const struct scan_copy *c,
    struct job_scan_result *res)
{
	int64_t timeout = (int64_t)conf->scan_timeout * 1000;

	if (strcmp(conf->scan_mode, "clamd") == 0) {
		job_scan_clamd(conf->scan_clamd_socket, fd,
		    (long long)conf->scan_stream_max, timeout, res);
	} else if (strcmp(conf->scan_mode, "command") == 0) {
		job_scan_command(conf->scan_command, c->path, timeout, res);
	} else {
		/* "none": conf_load accepts it only with demo: true. */
		scan_result_init(res);
		res->verdict = JOB_SCAN_CLEAN;
		if (!scan_off_logged)
			log_warn("scan.mode is none (the demo stack): objects "
				 "are recorded clean without a virus scan");
		scan_off_logged = 1;
	}
}

int
job_scan_run(struct job_ctx *jc)
{
	struct scan_copy c;
	struct job_scan_result res;
	struct db_param p[1];
	struct db_res *row;
	const char *result;
	char sha[65];
	int fd, quarantined, moved;

	/* The same payload as the hash job's: {"sha256":"<64 hex>"}. */
	if (job_hash_payload(jc->payload, sha, jc->err, sizeof(jc->err)) != 0)
		return -1;
	if (jc->store == NULL) {
		str_printf(jc->err, sizeof(jc->err),
		    "the store roots' ids could not be read");
		return -1;
	}
	/* The row is locked first, as the hash job does: one of them at a
	 * time changes an object. */
	p[0] = DB_STR(sha);
	row = db_query(jc->db,
	    "SELECT scan_result, quarantined_at IS NOT NULL FROM objects "
	    "WHERE sha256 = ? FOR UPDATE",
	    p, 1);
	if (row == NULL) {
		str_printf(jc->err, sizeof(jc->err), "locking the object: %s",
		    db_errstr(jc->db));
		return -1;
	}
	if (db_res_rows(row) != 1) {
		db_res_free(row);
		str_printf(
		    jc->err, sizeof(jc->err), "object %s has no row", sha);
		return -1;
	}
	result = db_res_get(row, 0, 0);
	quarantined = db_res_int(row, 0, 1) != 0 ||
	    (result != NULL && strcmp(result, "infected") == 0);
	if (result != NULL && !quarantined) {
		db_res_free(row);
		return 0; /* scanned clean already */
	}
	db_res_free(row);
	if (quarantined) {
		/* Scanned already; a copy that came back under objects/ (the
		 * same bytes uploaded again) goes to quarantine too. */
		if ((moved = scan_quarantine(
			 jc->store, sha, jc->err, sizeof(jc->err))) < 0)
			return -1;
		if (moved > 0)
			log_warn("object %s was quarantined before; its "
				 "copies uploaded again were moved to "
				 "quarantine/ (roots: %d)",
			    sha, moved);
		return 0;
	}
	if ((fd = scan_open_copy(
		 jc->store, sha, &c, jc->err, sizeof(jc->err))) == -1)
		return -1;
	scan_copy(jc->conf, fd, &c, &res);
	(void)close(fd);
	switch (res.verdict) {
	case JOB_SCAN_CLEAN:
		if (c.quarantined) {
			str_printf(jc->err, sizeof(jc->err),
			    "object %s is only in quarantine/ (an earlier "
			    "attempt found it infected) but scans clean now; "
			    "left for an operator to decide",
			    sha);
			return -1;
		}
		if (scan_record_clean(jc->db, sha) != 0) {
			str_printf(jc->err, sizeof(jc->err),
			    "recording the clean scan: %s", db_errstr(jc->db));
			return -1;
		}
		return 0;
	case JOB_SCAN_INFECTED:
		log_warn("object %s is infected (%s); quarantining it", sha,
		    res.signature);
		if (scan_quarantine(jc->store, sha, jc->err, sizeof(jc->err)) <
		    0)
			return -1;
		return scan_record_infected(
		    jc->db, sha, res.signature, jc->err, sizeof(jc->err));
	default:
		str_printf(jc->err, sizeof(jc->err),
		    "scan of object %.12s (the %s copy%s) failed: %s", sha,
		    scan_root_names[c.root],
		    c.quarantined ? " in quarantine/" : "", res.err);
		return -1;
	}
}
