// fuzz-sources: workers/jobs_parse.c
/*
 * fuzz_jobs: libFuzzer target for workers/jobs_parse.c. Each input is both a
 * stream entry's job id and a probe payload. An accepted id must be exactly
 * the canonical decimal text of the value; an accepted payload must give a
 * sleep within the bounds, a refused one a reason, and neither may read past
 * the input.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../workers/jobs_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char canon[24], err[256];
	uint64_t id;
	char *text;
	long ms;

	/* The id parser gets exactly size bytes, no terminator. */
	text = malloc(size > 0 ? size : 1);
	if (text == NULL)
		return 0;
	if (size > 0)
		memcpy(text, data, size);
	if (jobs_parse_id(text, size, &id) == 0) {
		snprintf(canon, sizeof(canon), "%" PRIu64, id);
		if (id == 0 || strlen(canon) != size ||
		    memcmp(canon, text, size) != 0)
			abort();
	} else if (id != 0)
		abort();
	free(text);

	/* The payload parser gets a NUL-terminated copy, as from the row. */
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	if (size > 0)
		memcpy(text, data, size);
	text[size] = '\0';
	err[0] = '\0';
	if (job_probe_parse(text, &ms, err, sizeof(err)) == 0) {
		if (ms < 0 || ms > JOBS_PROBE_MAX_MS || err[0] != '\0')
			abort();
	} else if (ms != 0 || strncmp(err, "probe payload: ", 15) != 0)
		abort();
	free(text);
	return 0;
}
