/*
 * harness: the whole unit-test framework. CHECK records a pass or a failure
 * with file:line; harness_done prints "N passed, N failed" and returns the
 * exit status.
 */
#ifndef LICHENG_HARNESS_H
#define LICHENG_HARNESS_H

#include <stdio.h>

static int harness_passed, harness_failed;

#define CHECK(cond) do { \
	if (cond) { harness_passed++; } else { harness_failed++; \
		fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_MSG(cond, ...) do { \
	if (cond) { harness_passed++; } else { harness_failed++; \
		fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } \
} while (0)

static inline int
harness_done(void)
{
	printf("%d passed, %d failed\n", harness_passed, harness_failed);
	return harness_failed == 0 ? 0 : 1;
}

#endif
