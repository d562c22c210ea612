/*
 * log: one JSON object per line, appended with a single write(2) so lines
 * from many processes sharing the file never interleave. Each process opens
 * the file itself and reopens it on request (log rotation sends SIGUSR1).
 * It never blocks on anything but the write and never allocates on failure
 * paths it reports.
 */
#ifndef LICHENG_LOG_H
#define LICHENG_LOG_H

#include "util.h"

enum log_level { LL_DEBUG, LL_INFO, LL_WARN, LL_ERROR, LL__MAX };

/* path "-" or NULL logs to standard error. Returns 0 or -1 (errno set). */
int log_open(const char *path, enum log_level min_level);
/* Reopens the same path (after rotation). 0 or -1; on failure the old
 * descriptor stays in use. */
int log_reopen(void);
void log_close(void);
/* Names the process in every line: "fcgi-master", "fcgi-child", ... */
void log_set_proc(const char *proc);
/* Call in a child after fork(2): the pid in each line is cached. */
void log_after_fork(void);
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level l);

void log_msg(enum log_level level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes one line: {"ts":..,"level":..,"proc":..,"pid":..,<fields>} where
 * fields is a JSON object built with buf_json_* (its braces are dropped). */
void log_fields(enum log_level level, const struct buf *fields);

#define log_debug(...) log_msg(LL_DEBUG, __func__, __VA_ARGS__)
#define log_info(...) log_msg(LL_INFO, __func__, __VA_ARGS__)
#define log_warn(...) log_msg(LL_WARN, __func__, __VA_ARGS__)
#define log_error(...) log_msg(LL_ERROR, __func__, __VA_ARGS__)

#endif
