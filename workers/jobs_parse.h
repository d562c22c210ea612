/*
 * jobs_parse: the strict parsers of what the job runner reads from outside
 * the process — a job id in a stream entry and the probe job's payload.
 * They are pure (no I/O, no allocation) so that unit tests and a fuzz
 * target can drive them; anything they do not accept is refused with a
 * reason, never guessed at.
 */
#ifndef LICHENG_WORKERS_JOBS_PARSE_H
#define LICHENG_WORKERS_JOBS_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* The longest sleep a probe job may ask for, in ms. */
#define JOBS_PROBE_MAX_MS 600000

/* A job id as a stream entry carries it: 1 to 20 decimal digits, no sign,
 * no leading zero, no space, at most 2^64 - 1, and s holds exactly len
 * bytes of it. 0 with *id set, or -1. */
int jobs_parse_id(const char *s, size_t len, uint64_t *id);

/* The probe job's payload: the JSON object {} or {"sleep_ms": N} with N an
 * integer from 0 to JOBS_PROBE_MAX_MS (JSON whitespace allowed between
 * tokens, nothing else: no other key, no fraction, no exponent, no sign,
 * no leading zero, no trailing data). 0 with *sleep_ms set (0 for {}), or
 * -1 with the reason in err. */
int
job_probe_parse(const char *payload, long *sleep_ms, char *err, size_t errlen);

#endif
