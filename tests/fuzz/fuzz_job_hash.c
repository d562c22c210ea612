// fuzz-sources: workers/job_hash_payload.c
/*
 * fuzz_job_hash: libFuzzer target for workers/job_hash_payload.c, the hash
 * and repair jobs' payload. An accepted payload must give 64 lower-case hex
 * digits that occur in the input, a refused one an empty hash and a
 * reason; neither may read past the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../workers/job_hash_payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char sha[65], err[256];
	char *text;
	size_t i;

	/* NUL-terminated, as the runner hands the row's payload over. */
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	if (size > 0)
		memcpy(text, data, size);
	text[size] = '\0';
	err[0] = '\0';
	if (job_hash_payload(text, sha, err, sizeof(err)) == 0) {
		if (strlen(sha) != 64 || err[0] != '\0' ||
		    strstr(text, sha) == NULL)
			abort();
		for (i = 0; i < 64; i++)
			if (!((sha[i] >= '0' && sha[i] <= '9') ||
				(sha[i] >= 'a' && sha[i] <= 'f')))
				abort();
	} else if (sha[0] != '\0' ||
	    strncmp(err, "malformed payload: ", 19) != 0)
		abort();
	free(text);
	return 0;
}
