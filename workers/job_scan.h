/*
 * job_scan: the parts of the "scan" job (workers/job_scan.c) below its
 * handler job_scan_run (declared in jobs.h), for the handler and the unit
 * tests: the two scanners (clamd's INSTREAM over its unix socket, and a
 * command given the file's path) and clamd's reply. Its payload is the
 * hash job's, read by job_hash_payload.
 * A scanner never calls a scan clean unless the scanner said so in full: a
 * reply other than OK or FOUND, a socket error, a timeout or an odd exit
 * is JOB_SCAN_ERROR, with the reason.
 */
#ifndef LICHENG_WORKERS_JOB_SCAN_H
#define LICHENG_WORKERS_JOB_SCAN_H

#include <stddef.h>
#include <stdint.h>

/* objects.scan_signature is VARCHAR(255). */
#define JOB_SCAN_SIG_MAX 255
/* The bytes of one INSTREAM chunk. */
#define JOB_SCAN_CHUNK 65536

enum job_scan_verdict {
	JOB_SCAN_CLEAN,
	JOB_SCAN_INFECTED, /* signature says what */
	JOB_SCAN_ERROR, /* err says why; the scan is retried */
	JOB_SCAN__MAX
};

struct job_scan_result {
	enum job_scan_verdict verdict;
	char signature[JOB_SCAN_SIG_MAX + 1]; /* printable ASCII */
	char err[400];
};

/* Reads one clamd reply to INSTREAM (without its terminating NUL): "stream:
 * OK" is clean, "stream: <signature> FOUND" infected (a signature of 1 to
 * JOB_SCAN_SIG_MAX printable characters), anything else an error that
 * quotes it. */
void job_scan_clamd_reply(
    const char *reply, size_t len, struct job_scan_result *res);

/* Scans the open file fd (read from its current offset to its end) with
 * clamd on the unix socket sock: "zINSTREAM\0", the bytes in chunks of at
 * most JOB_SCAN_CHUNK (each a 4-byte big-endian length and the bytes),
 * never more than max bytes in all (a larger file is an error, and nothing
 * beyond max is sent), a zero-length chunk, then the NUL-terminated reply,
 * all within timeout_ms. */
void job_scan_clamd(const char *sock, int fd, long long max, int64_t timeout_ms,
    struct job_scan_result *res);

/* Runs command (an executable path) with path as its one argument, no
 * shell, stdin /dev/null, stdout and stderr captured (the first bytes, for
 * the error), in a process group of its own that is killed (SIGKILL) after
 * timeout_ms: exit 0 clean, 1 infected (signature "command"), anything
 * else an error. */
void job_scan_command(const char *command, const char *path, int64_t timeout_ms,
    struct job_scan_result *res);

#endif
