/*
 * test_scan: the scan job's parts below its handler (workers/job_scan.c):
 * clamd's reply, the INSTREAM framing against a fake clamd on a unix
 * socket in a temporary folder (a forked child that checks every
 * byte and chunk, then answers OK, FOUND or ERROR, resets the connection,
 * says its size limit was exceeded, or never answers), and the command
 * scanner with small scripts (exit 0, 1, 2, a signal, a hang, a missing
 * program, a scanner that leaves a child holding its output). Needs no
 * servers.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness.h"
#include "../../workers/job_scan.h"
#include "log.h"
#include "util.h"

static char base[] = "/tmp/test_scan.XXXXXX";
static char sock_path[256];

#define DATA_LEN 1200000
static unsigned char data[DATA_LEN];

static void
pathf(char *out, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
pathf(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(out, n, fmt, ap) >= (int)n)
		abort();
	va_end(ap);
}

/* -------------------------------------------------------------- reply */

static void
reply(const char *s, struct job_scan_result *res)
{
	job_scan_clamd_reply(s, strlen(s), res);
}

static void
test_reply(void)
{
	struct job_scan_result res;
	char sig[300], r[320];

	reply("stream: OK", &res);
	CHECK(res.verdict == JOB_SCAN_CLEAN);
	reply("stream: Licheng.Test.EICAR.UNOFFICIAL FOUND", &res);
	CHECK(res.verdict == JOB_SCAN_INFECTED);
	CHECK(strcmp(res.signature, "Licheng.Test.EICAR.UNOFFICIAL") == 0);
	reply("stream: Win.Test.EICAR_HDB-1 FOUND", &res);
	CHECK(res.verdict == JOB_SCAN_INFECTED);
	CHECK(strcmp(res.signature, "Win.Test.EICAR_HDB-1") == 0);

	memset(sig, 'S', 255);
	sig[255] = '\0';
	pathf(r, sizeof(r), "stream: %s FOUND", sig);
	reply(r, &res);
	CHECK(res.verdict == JOB_SCAN_INFECTED);
	CHECK(strlen(res.signature) == 255);
	memset(sig, 'S', 256);
	sig[256] = '\0';
	pathf(r, sizeof(r), "stream: %s FOUND", sig);
	reply(r, &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	CHECK(res.signature[0] == '\0');

	reply("stream: bad\001name FOUND", &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	CHECK_MSG(strstr(res.err, "bad?name") != NULL, "%s", res.err);
	reply("stream: bad\xe4name FOUND", &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	reply("stream:  FOUND", &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	reply("stream: FOUND", &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);

	reply("INSTREAM size limit exceeded. ERROR", &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	CHECK_MSG(strstr(res.err, "could not scan") != NULL &&
		strstr(res.err, "size limit exceeded") != NULL,
	    "%s", res.err);
	reply("stream: Can't allocate memory ERROR", &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	reply("", &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	CHECK_MSG(strstr(res.err, "empty") != NULL, "%s", res.err);
	reply("stream: OK ", &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	reply("stream: ok", &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	reply("PONG", &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	CHECK_MSG(strstr(res.err, "unexpected reply: \"PONG\"") != NULL, "%s",
	    res.err);
	job_scan_clamd_reply("stream: OK\0x", 12, &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
}

/* --------------------------------------------------------- fake clamd */

enum fake {
	FAKE_OK,
	FAKE_FOUND,
	FAKE_ERROR,
	FAKE_RESET, /* closes after the command, the stream unread */
	FAKE_LIMIT, /* like clamd past StreamMaxLength */
	FAKE_SILENT, /* takes the stream, never answers */
	FAKE_HALF, /* half a reply, then closes */
	FAKE_NOREPLY /* takes the stream, closes without a word */
};

static int
read_full(int fd, void *buf, size_t n)
{
	unsigned char *p = buf;
	ssize_t r;

	while (n > 0) {
		r = read(fd, p, n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static void
say(int fd, const char *s)
{
	(void)!write(fd, s, strlen(s) + 1); /* with its NUL */
}

/* The fake clamd's one connection: checks the command and every chunk
 * against data[0..expect), then answers as mode says. A framing mistake is
 * answered "framing: ... ERROR", which no test takes for its answer. */
static void
fake_serve(int c, enum fake mode, size_t expect)
{
	unsigned char cmd[10], len[4];
	static unsigned char got[DATA_LEN + 1];
	size_t total = 0, n, chunks = 0;

	if (read_full(c, cmd, sizeof(cmd)) != 0 ||
	    memcmp(cmd, "zINSTREAM\0", 10) != 0) {
		say(c, "framing: bad command ERROR");
		return;
	}
	if (mode == FAKE_RESET)
		return; /* closed with the stream unread: a reset */
	for (;;) {
		if (read_full(c, len, 4) != 0) {
			say(c, "framing: no length ERROR");
			return;
		}
		n = (size_t)len[0] << 24 | (size_t)len[1] << 16 |
		    (size_t)len[2] << 8 | len[3];
		if (n == 0)
			break;
		if (n > JOB_SCAN_CHUNK || total + n > expect) {
			say(c, "framing: chunk too long ERROR");
			return;
		}
		if (read_full(c, got + total, n) != 0) {
			say(c, "framing: short chunk ERROR");
			return;
		}
		total += n;
		chunks++;
		if (mode == FAKE_LIMIT && total > 100000) {
			say(c, "INSTREAM size limit exceeded. ERROR");
			return;
		}
	}
	if (total != expect || memcmp(got, data, expect) != 0 ||
	    (expect > JOB_SCAN_CHUNK && chunks < 2)) {
		say(c, "framing: the bytes differ ERROR");
		return;
	}
	switch (mode) {
	case FAKE_OK: say(c, "stream: OK"); break;
	case FAKE_FOUND: say(c, "stream: Licheng.Test.EICAR.UNOFFICIAL FOUND"); break;
	case FAKE_ERROR: say(c, "stream: Can't allocate memory ERROR"); break;
	case FAKE_SILENT: sleep(5); break;
	case FAKE_HALF: (void)!write(c, "stream: O", 9); break;
	default: break;
	}
}

/* A fake clamd listening on sock_path for one connection; its pid. */
static pid_t
fake_clamd(enum fake mode, size_t expect)
{
	struct sockaddr_un sa;
	int l, c;
	pid_t pid;

	(void)unlink(sock_path);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	if ((l = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(l, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(l, 4) != 0) {
		perror("fake clamd");
		exit(2);
	}
	if ((pid = fork()) == -1) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		if ((c = accept(l, NULL, NULL)) != -1) {
			fake_serve(c, mode, expect);
			(void)close(c);
		}
		_exit(0);
	}
	(void)close(l);
	return pid;
}

static void
fake_done(pid_t pid)
{
	int st;

	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, &st, 0);
}

/* Scans the first n bytes of data (a file in the folder) with a fake
 * clamd in mode, within timeout_ms; max is scan.stream_max. */
static void
clamd_scan(enum fake mode, size_t n, long long max, int64_t timeout_ms,
    struct job_scan_result *res)
{
	char path[300];
	pid_t pid;
	int fd;

	pathf(path, sizeof(path), "%s/object", base);
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    write(fd, data, n) != (ssize_t)n || lseek(fd, 0, SEEK_SET) != 0) {
		perror(path);
		exit(2);
	}
	pid = fake_clamd(mode, n);
	job_scan_clamd(sock_path, fd, max, timeout_ms, res);
	(void)close(fd);
	fake_done(pid);
}

static void
test_clamd(void)
{
	struct job_scan_result res;
	int64_t t0;
	size_t i;

	for (i = 0; i < DATA_LEN; i++)
		data[i] = (unsigned char)(i * 2654435761u >> 13);

	clamd_scan(FAKE_OK, DATA_LEN, DATA_LEN, 5000, &res);
	CHECK_MSG(res.verdict == JOB_SCAN_CLEAN, "%s", res.err);
	clamd_scan(FAKE_OK, 0, DATA_LEN, 5000, &res);
	CHECK_MSG(res.verdict == JOB_SCAN_CLEAN, "empty: %s", res.err);
	clamd_scan(FAKE_OK, JOB_SCAN_CHUNK, DATA_LEN, 5000, &res);
	CHECK_MSG(res.verdict == JOB_SCAN_CLEAN, "one chunk: %s", res.err);

	clamd_scan(FAKE_FOUND, DATA_LEN, DATA_LEN, 5000, &res);
	CHECK_MSG(res.verdict == JOB_SCAN_INFECTED, "%s", res.err);
	CHECK(strcmp(res.signature, "Licheng.Test.EICAR.UNOFFICIAL") == 0);

	clamd_scan(FAKE_ERROR, DATA_LEN, DATA_LEN, 5000, &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	CHECK_MSG(strstr(res.err, "Can't allocate memory ERROR") != NULL, "%s",
	    res.err);

	clamd_scan(FAKE_RESET, DATA_LEN, DATA_LEN, 5000, &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	CHECK_MSG(strstr(res.err, "clamd closed the connection after") != NULL &&
		strstr(res.err, "Broken pipe") != NULL &&
		strstr(res.err, "StreamMaxLength") != NULL,
	    "reset: %s", res.err);
	/* A small object fits in the socket's buffer before the reset. */
	clamd_scan(FAKE_RESET, 100, DATA_LEN, 5000, &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	CHECK_MSG(strstr(res.err, "Connection reset by peer") != NULL &&
		strstr(res.err, "StreamMaxLength") != NULL,
	    "small reset: %s", res.err);

	clamd_scan(FAKE_LIMIT, DATA_LEN, DATA_LEN, 5000, &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	CHECK_MSG(strstr(res.err, "size limit exceeded") != NULL, "limit: %s",
	    res.err);

	t0 = now_ms();
	clamd_scan(FAKE_SILENT, DATA_LEN, DATA_LEN, 300, &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	CHECK_MSG(strstr(res.err, "did not answer within 300 ms") != NULL,
	    "timeout: %s", res.err);
	CHECK(now_ms() - t0 < 3000);

	clamd_scan(FAKE_HALF, DATA_LEN, DATA_LEN, 5000, &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	CHECK_MSG(strstr(res.err, "middle of its reply \"stream: O\"") != NULL,
	    "half: %s", res.err);
	clamd_scan(FAKE_NOREPLY, DATA_LEN, DATA_LEN, 5000, &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	CHECK_MSG(strstr(res.err, "without a reply") != NULL, "%s", res.err);

	/* Larger than scan.stream_max: never sent, never clean. */
	clamd_scan(FAKE_OK, DATA_LEN, DATA_LEN - 1, 5000, &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	CHECK_MSG(strstr(res.err, "more than scan.stream_max") != NULL, "%s",
	    res.err);

	/* Nobody listening. */
	(void)unlink(sock_path);
	job_scan_clamd(sock_path, 0, DATA_LEN, 1000, &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	CHECK_MSG(strstr(res.err, "cannot connect to clamd") != NULL, "%s",
	    res.err);
}

/* ------------------------------------------------------------ command */

/* A script in the folder with body; its path in out. */
static void
script(char *out, size_t n, const char *name, const char *body)
{
	FILE *f;

	pathf(out, n, "%s/%s", base, name);
	if ((f = fopen(out, "w")) == NULL ||
	    fprintf(f, "#!/bin/sh\n%s\n", body) < 0 || fclose(f) != 0 ||
	    chmod(out, 0700) != 0) {
		perror(out);
		exit(2);
	}
}

static void
test_command(void)
{
	struct job_scan_result res;
	char cmd[300], obj[300], seen[300], body[600], buf[400];
	int64_t t0;
	FILE *f;
	size_t n;

	pathf(obj, sizeof(obj), "%s/object with space", base);
	if ((f = fopen(obj, "w")) == NULL || fclose(f) != 0)
		exit(2);
	pathf(seen, sizeof(seen), "%s/seen", base);
	pathf(body, sizeof(body),
	    "printf '%%s|%%s' \"$#\" \"$1\" >'%s'; cat >/dev/null; exit 0",
	    seen);
	script(cmd, sizeof(cmd), "clean", body);
	job_scan_command(cmd, obj, 5000, &res);
	CHECK_MSG(res.verdict == JOB_SCAN_CLEAN, "%s", res.err);
	if ((f = fopen(seen, "r")) != NULL) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		(void)fclose(f);
	} else {
		buf[0] = '\0';
	}
	pathf(body, sizeof(body), "1|%s", obj);
	CHECK_MSG(strcmp(buf, body) == 0,
	    "the path as the one argument, stdin at its end: %s", buf);

	script(cmd, sizeof(cmd), "infected", "echo found it; exit 1");
	job_scan_command(cmd, obj, 5000, &res);
	CHECK(res.verdict == JOB_SCAN_INFECTED);
	CHECK(strcmp(res.signature, "command") == 0);

	script(cmd, sizeof(cmd), "broken", "echo 'database missing' >&2; exit 2");
	job_scan_command(cmd, obj, 5000, &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	CHECK_MSG(strstr(res.err, "exited with status 2") != NULL &&
		strstr(res.err, "database missing") != NULL,
	    "%s", res.err);

	script(cmd, sizeof(cmd), "segv", "kill -SEGV $$");
	job_scan_command(cmd, obj, 5000, &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	CHECK_MSG(strstr(res.err, "killed by signal 11") != NULL, "%s",
	    res.err);

	script(cmd, sizeof(cmd), "chatty",
	    "head -c 100000 /dev/zero | tr '\\0' x; exit 3");
	job_scan_command(cmd, obj, 5000, &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	CHECK(strlen(res.err) < sizeof(res.err));

	script(cmd, sizeof(cmd), "hang", "echo starting; sleep 30; exit 0");
	t0 = now_ms();
	job_scan_command(cmd, obj, 300, &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	CHECK_MSG(strstr(res.err, "did not finish within 300 ms") != NULL &&
		strstr(res.err, "starting") != NULL,
	    "%s", res.err);
	CHECK(now_ms() - t0 < 3000);

	/* Exits at once but leaves a child holding its output. */
	script(cmd, sizeof(cmd), "leaves", "sleep 30 & exit 0");
	t0 = now_ms();
	job_scan_command(cmd, obj, 10000, &res);
	CHECK_MSG(res.verdict == JOB_SCAN_CLEAN, "%s", res.err);
	CHECK(now_ms() - t0 < 3000);

	pathf(cmd, sizeof(cmd), "%s/no-such-scanner", base);
	job_scan_command(cmd, obj, 5000, &res);
	CHECK(res.verdict == JOB_SCAN_ERROR);
	CHECK_MSG(strstr(res.err, "cannot run scan.command") != NULL &&
		strstr(res.err, "No such file") != NULL,
	    "%s", res.err);
}

int
main(void)
{
	char cmd[300];

	(void)log_open("-", LL_ERROR);
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	pathf(sock_path, sizeof(sock_path), "%s/clamd.sock", base);
	test_reply();
	test_clamd();
	test_command();
	pathf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", base);
	return harness_done();
}
