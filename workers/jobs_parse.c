/*
 * jobs_parse: the job id of a stream entry and the probe's payload (see
 * jobs_parse.h). Both are small hand-written scanners over a closed
 * grammar: whatever is not in it is refused, and a refusal says which rule
 * was broken, for the job's row and the log.
 */
#include "jobs_parse.h"

#include <stdio.h>
#include <string.h>

int
jobs_parse_id(const char *s, size_t len, uint64_t *id)
{
	uint64_t v = 0;
	size_t i;
	unsigned d;

	*id = 0;
	if (s == NULL || len == 0 || len > 20 || s[0] == '0')
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*id = v;
	return 0;
}

static const char *
probe_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static int
probe_fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "probe payload: %s", why);
	return -1;
}

int
job_probe_parse(const char *payload, long *sleep_ms, char *err, size_t errlen)
{
	static const char key[] = "\"sleep_ms\"";
	const char *p;
	long v = 0;
	int digits = 0;

	*sleep_ms = 0;
	if (payload == NULL)
		return probe_fail(err, errlen, "missing");
	p = probe_ws(payload);
	if (*p != '{')
		return probe_fail(err, errlen, "not a JSON object");
	p = probe_ws(p + 1);
	if (*p == '}')
		goto end;
	if (strncmp(p, key, sizeof(key) - 1) != 0)
		return probe_fail(err, errlen,
		    "unknown field (a probe takes only \"sleep_ms\")");
	p = probe_ws(p + sizeof(key) - 1);
	if (*p != ':')
		return probe_fail(
		    err, errlen, "expected ':' after \"sleep_ms\"");
	p = probe_ws(p + 1);
	if (*p == '0' && p[1] >= '0' && p[1] <= '9')
		return probe_fail(err, errlen,
		    "sleep_ms must be a plain integer (no leading zero)");
	for (; *p >= '0' && *p <= '9'; p++, digits++)
		if (v <= JOBS_PROBE_MAX_MS)
			v = v * 10 + (*p - '0');
	if (digits == 0 || *p == '.' || *p == 'e' || *p == 'E' ||
	    v > JOBS_PROBE_MAX_MS) {
		snprintf(err, errlen,
		    "probe payload: sleep_ms must be an integer from 0 to %d",
		    JOBS_PROBE_MAX_MS);
		return -1;
	}
	p = probe_ws(p);
	if (*p == ',')
		return probe_fail(err, errlen,
		    "more than one field (a probe takes only \"sleep_ms\")");
	if (*p != '}')
		return probe_fail(err, errlen, "expected '}' after sleep_ms");
end:
	p = probe_ws(p + 1);
	if (*p != '\0')
		return probe_fail(
		    err, errlen, "trailing data after the object");
	*sleep_ms = v;
	return 0;
}
