/*
 * pidfile: the pid files of the two masters. A pid file is written whole
 * (temporary file, rename) so a reader such as deploy/dev never sees half a
 * number, and it is never taken over from another process that still runs.
 */
#ifndef LICHENG_PIDFILE_H
#define LICHENG_PIDFILE_H

#include <stddef.h>

/* Writes this process's pid to path. -1 with the reason in err when path
 * names another running process or cannot be written. */
int pidfile_write(const char *path, char *err, size_t errlen);
/* Removes path if it still holds this process's pid. */
void pidfile_remove(const char *path);

#endif
