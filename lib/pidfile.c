/*
 * pidfile: write-once pid files for the pool masters; removal only of our
 * own, so a second instance that failed to start never deletes the first
 * one's file.
 */
#include "pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* The pid in path, or 0 when there is none or it is unreadable. */
static long
pidfile_read(const char *path)
{
	char text[32], *end;
	ssize_t n;
	long pid;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	(void)close(fd);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	errno = 0;
	pid = strtol(text, &end, 10);
	if (errno != 0 || pid <= 0 || (*end != '\n' && *end != '\0'))
		return 0;
	return pid;
}

int
pidfile_write(const char *path, char *err, size_t errlen)
{
	char tmp[4096], text[32];
	long other = pidfile_read(path);
	int fd, n, len;

	if (other > 0 && other != (long)getpid() &&
	    (kill((pid_t)other, 0) == 0 || errno == EPERM)) {
		snprintf(err, errlen,
		    "%s names process %ld, which is running: "
		    "stop it first",
		    path, other);
		return -1;
	}
	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	len = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp) || len < 0 ||
	    (size_t)len >= sizeof(text)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) <
	    0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	if (write(fd, text, (size_t)len) != len) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		(void)close(fd);
		(void)unlink(tmp);
		return -1;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

void
pidfile_remove(const char *path)
{
	if (path == NULL || path[0] == '\0' ||
	    pidfile_read(path) != (long)getpid())
		return;
	if (unlink(path) != 0 && errno != ENOENT)
		log_warn("unlink %s: %s", path, strerror(errno));
}
