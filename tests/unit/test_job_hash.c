/*
 * test_job_hash: the hash and repair jobs' payload parser
 * (workers/job_hash_payload.c, compiled in here: unit tests link lib/ and
 * the fcgi objects, not the worker's). Accepted: the object with "sha256"
 * once, other scalar members ignored, whitespace anywhere between tokens.
 * Refused with a reason: everything else. Needs no servers.
 */
#include <stdio.h>
#include <string.h>

#include "../../workers/job_hash_payload.c"
#include "../harness.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* 1 when payload is accepted with SHA. */
static int
accepts(const char *payload)
{
	char sha[65] = "x", err[256] = "";

	return job_hash_payload(payload, sha, err, sizeof(err)) == 0 &&
	    strcmp(sha, SHA) == 0 && err[0] == '\0';
}

/* 1 when payload is refused with sha "" and a reason containing why. */
static int
refuses(const char *payload, const char *why)
{
	char sha[65] = "x", err[256] = "";

	if (job_hash_payload(payload, sha, err, sizeof(err)) != -1 ||
	    sha[0] != '\0' ||
	    strncmp(err, "malformed payload: ", 19) != 0 ||
	    strstr(err, why) == NULL) {
		fprintf(stderr, "payload %s: sha \"%s\", err \"%s\"\n",
		    payload != NULL ? payload : "(null)", sha, err);
		return 0;
	}
	return 1;
}

static void
test_accepted(void)
{
	CHECK(accepts("{\"sha256\":\"" SHA "\"}"));
	CHECK(accepts(" \n{ \"sha256\" :\t\"" SHA "\" }\r\n"));
	/* A download's repair job names the roots too. */
	CHECK(accepts("{\"sha256\":\"" SHA "\",\"from\":\"replica\","
		      "\"to\":\"primary\"}"));
	CHECK(accepts("{\"from\":\"replica\",\"sha256\":\"" SHA "\"}"));
	CHECK(accepts("{\"n\":-1.5e3,\"t\":true,\"f\":false,\"z\":null,"
		      "\"s\":\"a\\\"b\\\\c\\u00e9\",\"sha256\":\"" SHA "\"}"));
}

static void
test_refused(void)
{
	CHECK(refuses(NULL, "not a JSON object"));
	CHECK(refuses("", "not a JSON object"));
	CHECK(refuses("[]", "not a JSON object"));
	CHECK(refuses("\"" SHA "\"", "not a JSON object"));
	CHECK(refuses("{}", "no sha256"));
	CHECK(refuses("{\"from\":\"replica\"}", "no sha256"));
	CHECK(refuses("{\"sha256\":\"ABC\"}", "64 lower-case hex"));
	CHECK(refuses("{\"sha256\":\"" SHA "0\"}", "64 lower-case hex"));
	CHECK(refuses("{\"sha256\":\"0123456789ABCDEF0123456789abcdef"
		      "0123456789abcdef0123456789abcdef\"}",
	    "64 lower-case hex"));
	CHECK(refuses("{\"sha256\":\"\\u0030123456789abcdef0123456789abcdef"
		      "0123456789abcdef0123456789abcdef\"}",
	    "64 lower-case hex"));
	CHECK(refuses("{\"sha256\":12}", "64 lower-case hex"));
	CHECK(refuses("{\"sha256\":null}", "64 lower-case hex"));
	CHECK(refuses("{\"sha256\":\"" SHA "\",\"sha256\":\"" SHA "\"}",
	    "given twice"));
	CHECK(refuses("{\"sha256\":\"" SHA "\",}", "not a JSON object of"));
	CHECK(refuses("{\"sha256\":\"" SHA "\"} x", "not a JSON object of"));
	CHECK(refuses("{\"sha256\":\"" SHA "\"", "not a JSON object of"));
	CHECK(refuses("{\"sha256\" \"" SHA "\"}", "not a JSON object of"));
	CHECK(refuses("{\"sha256\":\"" SHA, "not a JSON object of"));
	CHECK(refuses("{\"a\":{},\"sha256\":\"" SHA "\"}",
	    "not a JSON object of"));
	CHECK(refuses("{\"a\":[1],\"sha256\":\"" SHA "\"}",
	    "not a JSON object of"));
	CHECK(refuses("{\"a\":\"x\ty\",\"sha256\":\"" SHA "\"}",
	    "not a JSON object of"));
	CHECK(refuses("{\"a\":\"\\x\",\"sha256\":\"" SHA "\"}",
	    "not a JSON object of"));
	CHECK(refuses("{\"a\":\"\\u12\",\"sha256\":\"" SHA "\"}",
	    "not a JSON object of"));
	CHECK(refuses("{\"a\":nul,\"sha256\":\"" SHA "\"}",
	    "not a JSON object of"));
	CHECK(refuses("{\"a\":-,\"sha256\":\"" SHA "\"}",
	    "not a JSON object of"));
}

int
main(void)
{
	test_accepted();
	test_refused();
	return harness_done();
}
