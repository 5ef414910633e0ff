/* make bench: loading 1,000 / 2,000 / 4,000 services that each name a
   Postfix daemon.  The cross-check of daemon names was cubic (2.7 s /
   31 s / 330 s); the figures and the ratio to the smallest run show how
   the load now grows: about 2 and 4 for n log n, 8 and 64 for cubic. */

#include "mw-policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double bench_load(unsigned int services)
{
	char *data = malloc((size_t)services * 96), *p = data;
	struct mw_policy *policy;
	struct mw_diags *diags;
	double start, best = 1e9, t;
	unsigned int i, round;

	for (i = 0; i < services; i++) {
		p += sprintf(p, "service s%u {\n  postfix_daemon_name = D%u E%u\n  tls = required\n}\n",
			     i, i, i);
	}
	for (round = 0; round < 20; round++) {
		start = bench_now();
		if (mw_policy_load_buffer("bench.conf", data, (size_t)(p - data),
					  &policy, &diags) < 0) {
			fprintf(stderr, "bench-validate: %s\n",
				mw_diags_first_error(diags));
			exit(1);
		}
		t = bench_now() - start;
		if (t < best)
			best = t;
		mw_policy_unref(&policy);
		mw_diags_free(&diags);
	}
	free(data);
	return best;
}

int main(void)
{
	static const unsigned int sizes[] = { 1000, 2000, 4000 };
	double base = 0, t;
	unsigned int i;

	printf("bench-validate: services with postfix_daemon_name, best of 20 loads\n");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		t = bench_load(sizes[i]);
		if (i == 0)
			base = t;
		printf("  %5u services: %8.2f ms  (x%.1f the 1,000-service load)\n",
		       sizes[i], t * 1000, t / base);
	}
	return 0;
}
