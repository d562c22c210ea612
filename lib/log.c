/*
 * log: JSON lines with one write(2) each. The descriptor is opened with
 * O_APPEND so concurrent writers from forked children append whole lines.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int log_fd = STDERR_FILENO;
static char log_path[4096];
static enum log_level log_min = LL_INFO;
static char log_proc[32] = "licheng";
/* getpid() once per process: a log line is written on every request. */
static pid_t log_pid;

static const char *const level_names[LL__MAX] = {
    "debug",
    "info",
    "warn",
    "error",
};

const char *
log_level_name(enum log_level l)
{
	return l < LL__MAX ? level_names[l] : "?";
}

int
log_level_parse(const char *s, enum log_level *out)
{
	int i;

	for (i = 0; i < LL__MAX; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

static int
log_open_fd(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

int
log_open(const char *path, enum log_level min_level)
{
	int fd;

	log_min = min_level;
	if (path == NULL || strcmp(path, "-") == 0 || path[0] == '\0') {
		log_path[0] = '\0';
		log_close();
		log_fd = STDERR_FILENO;
		return 0;
	}
	if (str_copy(log_path, sizeof(log_path), path) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = log_open_fd(path)) < 0)
		return -1;
	log_close();
	log_fd = fd;
	return 0;
}

int
log_reopen(void)
{
	int fd;

	if (log_path[0] == '\0')
		return 0;
	if ((fd = log_open_fd(log_path)) < 0) {
		log_error("cannot reopen %s: %s; still writing to the old file",
		    log_path, strerror(errno));
		return -1;
	}
	log_close();
	log_fd = fd;
	return 0;
}

void
log_close(void)
{
	if (log_fd != STDERR_FILENO && log_fd >= 0)
		close(log_fd);
	log_fd = STDERR_FILENO;
}

void
log_set_proc(const char *proc)
{
	str_copy(log_proc, sizeof(log_proc), proc);
	log_pid = getpid();
}

void
log_after_fork(void)
{
	log_pid = getpid();
}

static void
log_write_line(enum log_level level, const char *body, size_t bodylen)
{
	struct buf line;
	char ts[40];
	ssize_t w;
	size_t off = 0;

	time_rfc3339(ts, sizeof(ts));
	buf_init(&line);
	buf_putc(&line, '{');
	buf_json_kv(&line, "ts", ts);
	buf_json_kv(&line, "level", log_level_name(level));
	buf_json_kv(&line, "proc", log_proc);
	if (log_pid == 0)
		log_pid = getpid();
	buf_json_ki(&line, "pid", (long long)log_pid);
	if (bodylen > 0) {
		buf_putc(&line, ',');
		buf_append(&line, body, bodylen);
	}
	buf_puts(&line, "}\n");
	while (off < line.len) {
		w = write(log_fd, line.data + off, line.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	buf_free(&line);
}

void
log_msg(enum log_level level, const char *func, const char *fmt, ...)
{
	struct buf body, msg;
	va_list ap;

	if (level < log_min)
		return;
	buf_init(&msg);
	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	buf_init(&body);
	buf_json_kv(&body, "func", func);
	buf_json_kv(&body, "msg", msg.data ? msg.data : "");
	log_write_line(level, body.data, body.len);
	buf_free(&body);
	buf_free(&msg);
}

void
log_fields(enum log_level level, const struct buf *fields)
{
	const char *p;
	size_t n;

	if (level < log_min)
		return;
	p = fields->data ? fields->data : "";
	n = fields->len;
	/* Drop the caller's outer braces: the line supplies its own. */
	if (n > 0 && p[0] == '{') {
		p++;
		n--;
	}
	if (n > 0 && p[n - 1] == '}')
		n--;
	log_write_line(level, p, n);
}
