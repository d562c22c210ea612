/*
 * test_passhash: RFC 7914 scrypt vectors, the stored format and its strict
 * parser, rehash decisions, the dummy hash, and the flock slots across
 * forked processes (including one killed while it holds a slot).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../harness.h"
#include "log.h"
#include "passhash.h"
#include "util.h"

static const struct passhash_params fast = {10, 8, 1};

/* Raw scrypt of pw/salt as hex compared with want. */
static int
raw_hex_is(const char *pw, const char *salt, uint64_t n, uint64_t r,
    uint64_t p, const char *want)
{
	unsigned char out[64];
	char hex[129];

	if (passhash_scrypt_raw(pw, strlen(pw), (const unsigned char *)salt,
		strlen(salt), n, r, p, out, sizeof(out)) != 0)
		return 0;
	hex_encode(out, sizeof(out), hex);
	return strcmp(hex, want) == 0;
}

static void
test_rfc7914(void)
{
	CHECK(raw_hex_is("", "", 16, 1, 1,
	    "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
	    "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"));
	CHECK(raw_hex_is("password", "NaCl", 1024, 8, 16,
	    "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
	    "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"));
	CHECK(raw_hex_is("pleaseletmein", "SodiumChloride", 16384, 8, 1,
	    "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
	    "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887"));
}

static void
test_raw_refusals(void)
{
	unsigned char out[32];

	CHECK(passhash_scrypt_raw("a", 1, (const unsigned char *)"s", 1, 1000,
	    8, 1, out, sizeof(out)) == -1); /* not a power of two */
	CHECK(passhash_scrypt_raw("a", 1, (const unsigned char *)"s", 1, 1, 8,
	    1, out, sizeof(out)) == -1);
	CHECK(passhash_scrypt_raw("a", 1, (const unsigned char *)"s", 1,
	    (uint64_t)1 << 40, 8, 1, out, sizeof(out)) == -1);
	CHECK(passhash_scrypt_raw("a", 1, (const unsigned char *)"s", 1, 1024,
	    UINT64_MAX, UINT64_MAX, out, sizeof(out)) == -1);
	CHECK(passhash_scrypt_raw("a", 1, (const unsigned char *)"s", 1, 1024,
	    8, 0, out, sizeof(out)) == -1);
}

static void
test_params(void)
{
	struct passhash_params pp = {15, 8, 1};

	CHECK(passhash_memory(&pp) == (size_t)32 << 20);
	CHECK(passhash_params_valid(&pp));
	CHECK(passhash_params_valid(&fast));
	pp.log2_n = 9;
	CHECK(!passhash_params_valid(&pp));
	pp.log2_n = 20;
	CHECK(passhash_params_valid(&pp)); /* exactly 1 GiB */
	pp.log2_n = 22;
	CHECK(!passhash_params_valid(&pp)); /* 4 GiB */
	pp.r = 1;
	CHECK(passhash_params_valid(&pp));
	pp.log2_n = 23;
	CHECK(!passhash_params_valid(&pp));
	pp = (struct passhash_params){15, 33, 1};
	CHECK(!passhash_params_valid(&pp));
	pp = (struct passhash_params){15, 8, 17};
	CHECK(!passhash_params_valid(&pp));
	pp = (struct passhash_params){15, 0, 1};
	CHECK(!passhash_params_valid(&pp));
	CHECK(passhash_memory(&pp) == SIZE_MAX);
	pp = (struct passhash_params){99, 8, 1};
	CHECK(passhash_memory(&pp) == SIZE_MAX);
}

static void
test_round_trip(void)
{
	char h1[PASSHASH_MAX], h2[PASSHASH_MAX], small[40];
	struct passhash_params bad = {9, 8, 1};
	const char *pfx = "$scrypt$ln=10,r=8,p=1$";

	CHECK(passhash_make(&fast, "correct horse", 13, h1, sizeof(h1)) == 0);
	CHECK_MSG(strncmp(h1, pfx, strlen(pfx)) == 0, "%s", h1);
	CHECK_MSG(strlen(h1) == strlen(pfx) + 22 + 1 + 43, "%s", h1);
	CHECK(passhash_verify(h1, "correct horse", 13) == 1);
	CHECK(passhash_verify(h1, "correct horsf", 13) == 0);
	CHECK(passhash_verify(h1, "correct hors", 12) == 0);
	CHECK(passhash_verify(h1, "", 0) == 0);

	/* The same password twice gets two salts, so two strings. */
	CHECK(passhash_make(&fast, "correct horse", 13, h2, sizeof(h2)) == 0);
	CHECK(strcmp(h1, h2) != 0);
	CHECK(passhash_verify(h2, "correct horse", 13) == 1);

	/* Lengths count, not NULs: "ab\0c" is not "ab". */
	CHECK(passhash_make(&fast, "ab\0c", 4, h2, sizeof(h2)) == 0);
	CHECK(passhash_verify(h2, "ab\0c", 4) == 1);
	CHECK(passhash_verify(h2, "ab", 2) == 0);

	/* UTF-8 passwords are bytes like any other. */
	CHECK(passhash_make(&fast, "歷程密碼", strlen("歷程密碼"), h2,
	    sizeof(h2)) == 0);
	CHECK(passhash_verify(h2, "歷程密碼", strlen("歷程密碼")) == 1);

	CHECK(log_open("/dev/null", LL_ERROR) == 0);
	CHECK(passhash_make(&fast, "pw", 2, small, sizeof(small)) == -1);
	CHECK(small[0] == '\0');
	CHECK(passhash_make(&bad, "pw", 2, h2, sizeof(h2)) == -1);
	CHECK(log_open("-", LL_INFO) == 0);
}

/* verify must say -1 and needs_rehash 1 for each of these. */
static void
check_malformed(const char *s, const char *why)
{
	CHECK_MSG(passhash_verify(s, "correct horse", 13) == -1, "%s: %s", why,
	    s == NULL ? "(null)" : s);
	CHECK_MSG(passhash_needs_rehash(s, &fast) == 1, "%s", why);
}

/* good with the first occurrence of from replaced by to. */
static void
check_replaced(const char *good, const char *from, const char *to,
    const char *why)
{
	char s[512];
	const char *at = strstr(good, from);
	size_t pre;

	if (at == NULL) {
		CHECK_MSG(0, "%s: %s not in %s", why, from, good);
		return;
	}
	pre = (size_t)(at - good);
	snprintf(s, sizeof(s), "%.*s%s%s", (int)pre, good, to,
	    at + strlen(from));
	check_malformed(s, why);
}

static void
test_malformed(void)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char good[PASSHASH_MAX], s[512];
	size_t len;

	CHECK(passhash_make(&fast, "correct horse", 13, good, sizeof(good)) ==
	    0);
	len = strlen(good);
	/* The failures below are logged; keep the test's output readable. */
	CHECK(log_open("/dev/null", LL_ERROR) == 0);

	check_malformed(NULL, "null");
	check_malformed("", "empty");
	check_malformed("$scrypt$", "prefix only");
	snprintf(s, sizeof(s), "%.*s", (int)(len - 1), good);
	check_malformed(s, "last character cut");
	snprintf(s, sizeof(s), "%.*s", (int)(len - 30), good);
	check_malformed(s, "cut inside the salt");
	snprintf(s, sizeof(s), "%s$", good);
	check_malformed(s, "extra $ at the end");
	snprintf(s, sizeof(s), "%s=", good);
	check_malformed(s, "base64 padding");
	snprintf(s, sizeof(s), "%sA", good);
	check_malformed(s, "one character too many");
	check_replaced(good, "$scrypt$", "$scrypt$$", "extra $ after prefix");
	check_replaced(good, "$scrypt$", "$7$", "other scheme");
	check_replaced(good, "$scrypt$", "scrypt$", "no leading $");
	check_replaced(good, "ln=10", "ln=99", "ln=99");
	check_replaced(good, "ln=10", "ln=40", "ln=40");
	check_replaced(good, "ln=10", "ln=9", "ln=9");
	check_replaced(good, "ln=10", "ln=010", "leading zero");
	check_replaced(good, "ln=10", "ln=", "empty ln");
	check_replaced(good, "ln=10", "ln=1x", "letter in ln");
	check_replaced(good, "ln=10", "ln=-1", "negative ln");
	check_replaced(good, "r=8", "r=0", "r=0");
	check_replaced(good, "r=8", "r=33", "r=33");
	check_replaced(good, "p=1", "p=17", "p=17");
	check_replaced(good, "p=1", "p=123", "three digits");
	check_replaced(good, ",r=8", "", "missing r");
	check_replaced(good, ",p=1", "", "missing p");
	check_replaced(good, "ln=10,r=8,p=1", "r=8,ln=10,p=1", "order");
	check_replaced(good, "ln=10,r=8,p=1", "ln=10,r=8,p=1,x=1", "extra");
	check_replaced(good, "ln=10,r=8,p=1$", "ln=10,r=8,p=1$$", "empty salt");
	check_replaced(good, "p=1$", "", "missing parameters' end");

	/* Bad base64: a foreign character in the salt, then in the hash. */
	memcpy(s, good, len + 1);
	s[len - 50] = '!';
	check_malformed(s, "! in salt");
	memcpy(s, good, len + 1);
	s[len - 5] = '-';
	check_malformed(s, "base64url character in hash");
	/* The separator between salt and hash replaced. */
	memcpy(s, good, len + 1);
	s[len - 44] = '.';
	check_malformed(s, "no $ between salt and hash");
	/* Non-zero unused bits in the last character: another spelling. */
	memcpy(s, good, len + 1);
	s[len - 1] = b64[(strchr(b64, s[len - 1]) - b64) ^ 1];
	check_malformed(s, "unused bits set");
	/* Oversize input is refused before anything else is read. */
	memset(s, 'A', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	memcpy(s, good, len);
	check_malformed(s, "oversize");

	CHECK(log_open("-", LL_INFO) == 0);
	/* The unchanged string still verifies. */
	CHECK(passhash_verify(good, "correct horse", 13) == 1);
}

static void
test_rehash(void)
{
	char h[PASSHASH_MAX];
	struct passhash_params pp = fast;

	CHECK(passhash_make(&fast, "pw", 2, h, sizeof(h)) == 0);
	CHECK(passhash_needs_rehash(h, &pp) == 0);
	pp.log2_n = 11;
	CHECK(passhash_needs_rehash(h, &pp) == 1);
	pp = fast;
	pp.r = 4;
	CHECK(passhash_needs_rehash(h, &pp) == 1);
	pp = fast;
	pp.p = 2;
	CHECK(passhash_needs_rehash(h, &pp) == 1);
}

static int64_t
min3_us(int dummy, const char *stored)
{
	int64_t best = INT64_MAX, t;
	int i;

	for (i = 0; i < 3; i++) {
		t = now_us();
		if (dummy)
			CHECK(passhash_dummy(&fast, "guess", 5) == 0);
		else
			CHECK(passhash_verify(stored, "guess", 5) == 0);
		t = now_us() - t;
		if (t < best)
			best = t;
	}
	return best;
}

static void
test_dummy(void)
{
	char h[PASSHASH_MAX];
	int64_t tv, td;
	struct passhash_params bad = {40, 8, 1};

	CHECK(passhash_make(&fast, "pw", 2, h, sizeof(h)) == 0);
	tv = min3_us(0, h);
	td = min3_us(1, NULL);
	printf("verify %lld us, dummy %lld us\n", (long long)tv, (long long)td);
	/* Loose on purpose: only a dummy that skipped the work fails. */
	CHECK_MSG(td * 4 > tv && tv * 4 > td, "verify %lld us, dummy %lld us",
	    (long long)tv, (long long)td);
	CHECK(log_open("/dev/null", LL_ERROR) == 0);
	CHECK(passhash_dummy(&bad, "pw", 2) == 0);
	CHECK(log_open("-", LL_INFO) == 0);
}

/* Reads one byte from fd: the child's "I hold the slot". */
static int
wait_byte(int fd)
{
	char c;
	ssize_t n;

	do
		n = read(fd, &c, 1);
	while (n == -1 && errno == EINTR);
	return n == 1 ? 0 : -1;
}

/* Forks a child that opens its own slots, takes one, says so on a pipe and
 * then holds it for hold_ms (or forever when hold_ms < 0). */
static pid_t
spawn_holder(const char *dir, int n, int hold_ms)
{
	int fds[2];
	pid_t pid;

	if (pipe(fds) == -1)
		return -1;
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		char err[256];
		struct passhash_slots *s;
		struct timespec ts = {hold_ms / 1000,
		    (long)(hold_ms % 1000) * 1000000L};

		close(fds[0]);
		if ((s = passhash_slots_open(dir, n, err, sizeof(err))) == NULL ||
		    passhash_slots_acquire(s, 1000) != 0)
			_exit(1);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		if (hold_ms < 0)
			for (;;)
				pause();
		nanosleep(&ts, NULL);
		passhash_slots_close(s);
		_exit(0);
	}
	close(fds[1]);
	if (wait_byte(fds[0]) != 0) {
		close(fds[0]);
		return -1;
	}
	close(fds[0]);
	return pid;
}

static void
test_slots(const char *dir)
{
	char err[256];
	struct passhash_slots *s, *s2;
	pid_t pid;
	int status = -1;
	int64_t t;

	s = passhash_slots_open(dir, 1, err, sizeof(err));
	CHECK_MSG(s != NULL, "%s", err);
	if (s == NULL)
		return;

	/* A child holds the only slot for 300 ms. */
	pid = spawn_holder(dir, 1, 300);
	CHECK(pid > 0);
	t = now_ms();
	CHECK(passhash_slots_acquire(s, 50) == -1);
	t = now_ms() - t;
	CHECK_MSG(t >= 50 && t < 250, "timed out after %lld ms", (long long)t);
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(passhash_slots_acquire(s, 50) == 0);
	passhash_slots_release(s);
	passhash_slots_release(s); /* a second release is harmless */

	/* A child killed while holding leaves the slot free. */
	pid = spawn_holder(dir, 1, -1);
	CHECK(pid > 0);
	CHECK(passhash_slots_acquire(s, 0) == -1);
	CHECK(pid > 0 && kill(pid, SIGKILL) == 0);
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CHECK(passhash_slots_acquire(s, 50) == 0);

	/* Two handles in one process are two open file descriptions, so
	 * they exclude each other as two processes would. */
	s2 = passhash_slots_open(dir, 1, err, sizeof(err));
	CHECK(s2 != NULL);
	if (s2 != NULL)
		CHECK(passhash_slots_acquire(s2, 20) == -1);
	passhash_slots_release(s);
	if (s2 != NULL)
		CHECK(passhash_slots_acquire(s2, 20) == 0);
	passhash_slots_close(s2); /* closes while holding */
	passhash_slots_close(s);

	/* With two slots a holder leaves the other one free. */
	s = passhash_slots_open(dir, 2, err, sizeof(err));
	CHECK_MSG(s != NULL, "%s", err);
	pid = spawn_holder(dir, 2, -1);
	CHECK(pid > 0);
	CHECK(s != NULL && passhash_slots_acquire(s, 50) == 0);
	CHECK(pid > 0 && kill(pid, SIGKILL) == 0);
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	passhash_slots_close(s);
	passhash_slots_close(NULL);
}

static void
test_slots_refusals(const char *tmp)
{
	char err[256], path[512];
	FILE *f;

	err[0] = '\0';
	CHECK(passhash_slots_open(tmp, 0, err, sizeof(err)) == NULL);
	CHECK(err[0] != '\0');
	CHECK(passhash_slots_open(tmp, 1025, err, sizeof(err)) == NULL);
	snprintf(path, sizeof(path), "%s/file", tmp);
	CHECK((f = fopen(path, "w")) != NULL);
	if (f != NULL)
		fclose(f);
	err[0] = '\0';
	CHECK(passhash_slots_open(path, 1, err, sizeof(err)) == NULL);
	CHECK_MSG(strstr(err, "not a directory") != NULL, "%s", err);
	CHECK(unlink(path) == 0);
	snprintf(path, sizeof(path), "%s/no/such", tmp);
	CHECK(passhash_slots_open(path, 1, err, sizeof(err)) == NULL);
}

static void
remove_slots(const char *dir)
{
	char path[512];
	int i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/scrypt-slot.%d", dir, i);
		CHECK(unlink(path) == 0);
	}
	CHECK(rmdir(dir) == 0);
}

int
main(void)
{
	char tmp[] = "/tmp/test_passhash.XXXXXX", dir[64];

	test_rfc7914();
	CHECK(log_open("/dev/null", LL_ERROR) == 0);
	test_raw_refusals();
	CHECK(log_open("-", LL_INFO) == 0);
	test_params();
	test_round_trip();
	test_malformed();
	test_rehash();
	test_dummy();

	CHECK(mkdtemp(tmp) != NULL);
	snprintf(dir, sizeof(dir), "%s/slots", tmp);
	test_slots(dir);
	test_slots_refusals(tmp);
	remove_slots(dir);
	CHECK(rmdir(tmp) == 0);
	return harness_done();
}
