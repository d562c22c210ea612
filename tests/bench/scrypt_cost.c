/*
 * scrypt_cost: the CPU time of one password hash with the given scrypt
 * parameters (default the configuration's defaults, ln=15 r=8 p=1), the
 * median of N runs, for `make bench`. Prints "scrypt ln=15 r=8 p=1: 63.2 ms
 * median of 20, 32 MiB".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passhash.h"
#include "util.h"

static int
scrypt_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct passhash_params pp = {15, 8, 1};
	char out[PASSHASH_MAX];
	double ms[200];
	int i, n = 20;
	int64_t t0;

	if (argc > 1)
		n = atoi(argv[1]);
	if (argc > 4) {
		pp.log2_n = atoi(argv[2]);
		pp.r = atoi(argv[3]);
		pp.p = atoi(argv[4]);
	}
	if (n < 1 || n > 200 || !passhash_params_valid(&pp)) {
		fprintf(stderr, "usage: scrypt_cost [N [LOG2_N R P]]\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		t0 = now_us();
		if (passhash_make(&pp, "correct horse battery", 21, out,
			sizeof(out)) != 0) {
			fprintf(stderr, "scrypt_cost: passhash_make failed\n");
			return 1;
		}
		ms[i] = (double)(now_us() - t0) / 1000.0;
	}
	qsort(ms, (size_t)n, sizeof(ms[0]), scrypt_cmp);
	printf("scrypt ln=%d r=%d p=%d: %.1f ms median of %d, %zu MiB\n",
	    pp.log2_n, pp.r, pp.p, ms[n / 2], n,
	    passhash_memory(&pp) / (1024 * 1024));
	return 0;
}
