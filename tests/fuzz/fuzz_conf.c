/*
 * fuzz_conf: libFuzzer target for lib/conf.c. Each input is written to a
 * file and loaded as the main configuration; a valid secrets file is put at
 * a fixed path once, so inputs (and the seeds) that name it reach the
 * secrets loader and the cross-field checks too. It must never leave
 * anything allocated behind: every loaded struct conf is freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

/* The seeds in tests/fuzz/corpus/conf/ name this path. */
#define FUZZ_CONF_DIR "/tmp/licheng-fuzz-conf"
#define FUZZ_SECRETS FUZZ_CONF_DIR "/secrets.yaml"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_secrets[] =
    "database:\n"
    "  app_password: fuzz-app-0123456789\n"
    "  worker_password: fuzz-worker-0123456789\n"
    "  audit_password: fuzz-audit-0123456789\n"
    "  central_password: fuzz-central-0123456789\n"
    "  migrate_password: fuzz-migrate-0123456789\n"
    "redis:\n"
    "  password: fuzz-redis-0123456789\n"
    "keys:\n"
    "  data: 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
    "  lookup: ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n";

static char fuzz_input[64];

static void
fuzz_die(const char *what)
{
	fprintf(stderr, "fuzz_conf: %s: %s\n", what, strerror(errno));
	abort();
}

static int
fuzz_write(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes the secrets file through a temporary name and a rename, so that
 * parallel fuzzing jobs never see it half-written. */
static void
fuzz_setup(void)
{
	char tmp[sizeof(FUZZ_SECRETS) + 16];
	int fd;

	if (mkdir(FUZZ_CONF_DIR, 0700) != 0 && errno != EEXIST)
		fuzz_die(FUZZ_CONF_DIR);
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", FUZZ_SECRETS) >=
	    (int)sizeof(tmp))
		fuzz_die("path");
	if ((fd = mkstemp(tmp)) < 0)
		fuzz_die(tmp);
	if (fchmod(fd, 0600) != 0 ||
	    fuzz_write(fd, fuzz_secrets, sizeof(fuzz_secrets) - 1) != 0 ||
	    close(fd) != 0 || rename(tmp, FUZZ_SECRETS) != 0)
		fuzz_die(tmp);
	if (snprintf(fuzz_input, sizeof(fuzz_input), "%s/input.XXXXXX",
	    FUZZ_CONF_DIR) >= (int)sizeof(fuzz_input))
		fuzz_die("path");
	if ((fd = mkstemp(fuzz_input)) < 0)
		fuzz_die(fuzz_input);
	if (close(fd) != 0)
		fuzz_die(fuzz_input);
}

static void
fuzz_cleanup(void)
{
	if (fuzz_input[0] != '\0')
		unlink(fuzz_input);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[CONF_ERR_MAX];
	struct conf *c;
	int fd;

	if (fuzz_input[0] == '\0') {
		fuzz_setup();
		if (atexit(fuzz_cleanup) != 0)
			fuzz_die("atexit");
	}
	if ((fd = open(fuzz_input, O_WRONLY | O_TRUNC | O_CLOEXEC)) < 0)
		fuzz_die(fuzz_input);
	if (fuzz_write(fd, data, size) != 0 || close(fd) != 0)
		fuzz_die(fuzz_input);
	c = conf_load(fuzz_input, err, sizeof(err));
	if (c == NULL) {
		/* Every failure is one terminated, non-empty line. */
		if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL ||
		    strchr(err, '\n') != NULL)
			abort();
		return 0;
	}
	if (c->db_socket == NULL || c->fcgi_pid_file == NULL ||
	    c->secret_redis_password == NULL)
		abort();
	conf_free(c);
	return 0;
}
