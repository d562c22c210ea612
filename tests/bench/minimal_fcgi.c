/*
 * minimal_fcgi: the benchmarks' yardstick, the least a pre-forked FastCGI
 * responder can do. The parent binds a unix socket and forks N children,
 * each an FCGX_Accept_r loop answering one fixed JSON body, so that what
 * licheng-fcgi's /healthz costs beyond it is the application's own work. It
 * must never touch a database, Redis or the configuration.
 *
 * usage: minimal_fcgi SOCKET CHILDREN [BODY_BYTES]
 */
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#define MINIMAL_MAX_CHILDREN 256
#define MINIMAL_MAX_BODY 65536
#define MINIMAL_DEFAULT_BODY 64

static volatile sig_atomic_t minimal_stop;

static void
minimal_on_stop(int sig)
{
	(void)sig;
	minimal_stop = 1;
}

/* A JSON object of exactly n bytes: {"status":"ok","pad":"xxx..."} when it
 * fits, else {"status":"ok"} padded with spaces (still valid JSON). */
static void
minimal_body(struct buf *b, size_t n)
{
	static const char head[] = "{\"status\":\"ok\",\"pad\":\"";
	static const char tail[] = "\"}";
	static const char plain[] = "{\"status\":\"ok\"}";
	size_t fixed = sizeof(head) - 1 + sizeof(tail) - 1;

	buf_reset(b);
	if (n >= fixed) {
		buf_puts(b, head);
		while (b->len < n - (sizeof(tail) - 1))
			buf_putc(b, 'x');
		buf_puts(b, tail);
		return;
	}
	buf_puts(b, plain);
	while (b->len < n)
		buf_putc(b, ' ');
}

static int
minimal_serve(int sock, const struct buf *body)
{
	FCGX_Request req;
	char head[160];
	int n;

	n = snprintf(head, sizeof(head),
	    "Status: 200 OK\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n\r\n",
	    body->len);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		fprintf(stderr, "minimal_fcgi: header too long\n");
		return 1;
	}
	if (FCGX_InitRequest(&req, sock, 0) != 0) {
		fprintf(stderr, "minimal_fcgi: FCGX_InitRequest failed\n");
		return 1;
	}
	while (!minimal_stop && FCGX_Accept_r(&req) >= 0) {
		if (FCGX_PutStr(head, n, req.out) != n ||
		    FCGX_PutStr(body->data, (int)body->len, req.out) !=
			(int)body->len)
			fprintf(stderr, "minimal_fcgi: client went away\n");
		FCGX_Finish_r(&req);
	}
	FCGX_Free(&req, 1);
	return 0;
}

static pid_t
minimal_spawn(int sock, const struct buf *body)
{
	pid_t pid = fork();

	if (pid < 0) {
		fprintf(stderr, "minimal_fcgi: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* Die at once on SIGTERM: the parent only stops children
		 * when the benchmark is over. */
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		_exit(minimal_serve(sock, body));
	}
	return pid;
}

static int
minimal_arg(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int
main(int argc, char *argv[])
{
	pid_t pids[MINIMAL_MAX_CHILDREN];
	struct sigaction sa;
	struct buf body;
	long nchildren, nbody = MINIMAL_DEFAULT_BODY;
	int sock, i, status, rc = 0;
	pid_t pid;

	if (argc < 3 || argc > 4 ||
	    minimal_arg(argv[2], 1, MINIMAL_MAX_CHILDREN, &nchildren) != 0 ||
	    (argc == 4 &&
		minimal_arg(argv[3], 2, MINIMAL_MAX_BODY, &nbody) != 0)) {
		fprintf(stderr,
		    "usage: minimal_fcgi SOCKET CHILDREN(1-%d) "
		    "[BODY_BYTES(2-%d)]\n",
		    MINIMAL_MAX_CHILDREN, MINIMAL_MAX_BODY);
		return 1;
	}
	for (i = 0; i < MINIMAL_MAX_CHILDREN; i++)
		pids[i] = -1;
	buf_init(&body);
	minimal_body(&body, (size_t)nbody);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = minimal_on_stop;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGINT, &sa, NULL) != 0) {
		fprintf(
		    stderr, "minimal_fcgi: sigaction: %s\n", strerror(errno));
		buf_free(&body);
		return 1;
	}
	if (FCGX_Init() != 0) {
		fprintf(stderr, "minimal_fcgi: FCGX_Init failed\n");
		buf_free(&body);
		return 1;
	}
	if (unlink(argv[1]) != 0 && errno != ENOENT) {
		fprintf(stderr, "minimal_fcgi: unlink %s: %s\n", argv[1],
		    strerror(errno));
		buf_free(&body);
		return 1;
	}
	if ((sock = FCGX_OpenSocket(argv[1], 1024)) < 0) {
		fprintf(stderr, "minimal_fcgi: cannot listen on %s\n", argv[1]);
		buf_free(&body);
		return 1;
	}
	/* nginx's workers may run as another user than this benchmark. */
	if (chmod(argv[1], 0666) != 0) {
		fprintf(stderr, "minimal_fcgi: chmod %s: %s\n", argv[1],
		    strerror(errno));
		rc = 1;
		goto out;
	}
	for (i = 0; i < nchildren; i++)
		if ((pids[i] = minimal_spawn(sock, &body)) < 0) {
			rc = 1;
			goto out;
		}

	/* Respawn a child that dies until told to stop. */
	while (!minimal_stop) {
		pid = waitpid(-1, &status, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "minimal_fcgi: waitpid: %s\n",
			    strerror(errno));
			rc = 1;
			break;
		}
		for (i = 0; i < nchildren; i++) {
			if (pids[i] != pid)
				continue;
			fprintf(stderr,
			    "minimal_fcgi: child %ld exited "
			    "(status %d); restarting it\n",
			    (long)pid, status);
			pids[i] = minimal_spawn(sock, &body);
			break;
		}
	}
out:
	for (i = 0; i < nchildren; i++)
		if (pids[i] > 0 && kill(pids[i], SIGTERM) != 0 &&
		    errno != ESRCH)
			fprintf(stderr, "minimal_fcgi: kill %ld: %s\n",
			    (long)pids[i], strerror(errno));
	for (i = 0; i < nchildren; i++)
		if (pids[i] > 0)
			waitpid(pids[i], &status, 0);
	close(sock);
	if (unlink(argv[1]) != 0 && errno != ENOENT)
		fprintf(stderr, "minimal_fcgi: unlink %s: %s\n", argv[1],
		    strerror(errno));
	buf_free(&body);
	return rc;
}
