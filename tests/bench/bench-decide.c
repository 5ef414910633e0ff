/* make bench: decisions per second with 100,000 prefixes in a block list,
   against a linear scan of the same prefixes in the same run. */

#include "mw-policy.h"
#include "mw-addr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BENCH_PREFIXES 100000
#define BENCH_PROBES 2000000
#define BENCH_LINEAR_PROBES 2000

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench_random_addr(struct mw_addr *addr, unsigned int *seed, bool v6)
{
	unsigned int i;

	memset(addr, 0, sizeof(*addr));
	addr->family = v6 ? MW_AF_INET6 : MW_AF_INET4;
	for (i = 0; i < (v6 ? 16U : 4U); i++)
		addr->bytes[i] = (uint8_t)rand_r(seed);
	if (v6) {
		/* Keep IPv6 in a /16 so that probes hit sometimes. */
		addr->bytes[0] = 0x20;
		addr->bytes[1] = 0x01;
	}
}

static bool bench_linear_contains(const struct mw_prefix *prefixes, unsigned int count,
				  const struct mw_addr *addr)
{
	unsigned int i, full, rest;

	for (i = 0; i < count; i++) {
		const struct mw_prefix *p = &prefixes[i];

		if (p->addr.family != addr->family)
			continue;
		full = p->len / 8;
		rest = p->len % 8;
		if (memcmp(p->addr.bytes, addr->bytes, full) != 0)
			continue;
		if (rest == 0 ||
		    (addr->bytes[full] & (uint8_t)(0xff << (8 - rest))) == p->addr.bytes[full])
			return true;
	}
	return false;
}

int main(void)
{
	char dir[] = "/tmp/mw-bench.XXXXXX", list[64], conf[64];
	char str[MW_PREFIX_STRLEN], error[MW_ERROR_SIZE], text[256];
	struct mw_prefix *prefixes = calloc(BENCH_PREFIXES, sizeof(*prefixes));
	struct mw_conn *probes = calloc(BENCH_PROBES, sizeof(*probes));
	struct mw_policy *policy;
	struct mw_diags *diags;
	struct mw_decision dec;
	struct mw_addr addr;
	unsigned int seed = 1, i, denied = 0, mismatches = 0;
	double start, fast_secs, linear_secs, fast_rate, linear_rate;
	bool host_bits;
	FILE *f;

	if (prefixes == NULL || probes == NULL || mkdtemp(dir) == NULL) {
		perror("bench-decide");
		return 1;
	}
	snprintf(list, sizeof(list), "%s/block.list", dir);
	snprintf(conf, sizeof(conf), "%s/mailward.conf", dir);
	f = fopen(list, "w");
	for (i = 0; i < BENCH_PREFIXES; i++) {
		bool v6 = i % 4 == 0;
		unsigned int len = v6 ? 32 + (unsigned int)rand_r(&seed) % 33 :
			16 + (unsigned int)rand_r(&seed) % 17;

		bench_random_addr(&addr, &seed, v6);
		snprintf(str, sizeof(str), "%s/%u", mw_addr_to_str(&addr, text, sizeof(text)), len);
		if (mw_prefix_parse(str, &prefixes[i], &host_bits, error, sizeof(error)) < 0)
			return 1;
		fprintf(f, "%s\n", mw_prefix_to_str(&prefixes[i], str, sizeof(str)));
	}
	fclose(f);
	f = fopen(conf, "w");
	fprintf(f, "service imap {\n  deny net-list \"%s\"\n  allow any\n}\n", list);
	fclose(f);

	start = bench_now();
	if (mw_policy_load(conf, &policy, &diags) < 0) {
		mw_diags_print(diags, stderr);
		return 1;
	}
	printf("policy with %d prefixes loaded in %.1f ms\n", BENCH_PREFIXES,
	       (bench_now() - start) * 1000);
	mw_diags_free(&diags);

	for (i = 0; i < BENCH_PROBES; i++) {
		mw_conn_init(&probes[i]);
		probes[i].service = "imap";
		bench_random_addr(&probes[i].remote_ip, &seed, i % 4 == 0);
	}

	start = bench_now();
	for (i = 0; i < BENCH_PROBES; i++)
		denied += mw_decide(policy, &probes[i], &dec) == MW_VERDICT_DENY;
	fast_secs = bench_now() - start;

	start = bench_now();
	for (i = 0; i < BENCH_LINEAR_PROBES; i++) {
		bool in = bench_linear_contains(prefixes, BENCH_PREFIXES, &probes[i].remote_ip);

		/* Both must agree, or the comparison means nothing. */
		if (in != (mw_decide(policy, &probes[i], &dec) == MW_VERDICT_DENY))
			mismatches++;
	}
	linear_secs = bench_now() - start;

	fast_rate = BENCH_PROBES / fast_secs;
	linear_rate = BENCH_LINEAR_PROBES / linear_secs;
	printf("decisions against %d prefixes (3/4 IPv4, 1/4 IPv6), %.1f%% of clients denied:\n",
	       BENCH_PREFIXES, 100.0 * denied / BENCH_PROBES);
	printf("  mailward (sorted ranges): %12.0f decisions/s  %10.1f ns each\n",
	       fast_rate, 1e9 / fast_rate);
	printf("  linear scan (baseline):   %12.0f decisions/s  %10.1f ns each\n",
	       linear_rate, 1e9 / linear_rate);
	printf("  ratio: %.0fx faster\n", fast_rate / linear_rate);
	if (mismatches > 0)
		printf("  ERROR: %u decisions disagree with the linear scan\n", mismatches);

	mw_policy_unref(&policy);
	unlink(list);
	unlink(conf);
	rmdir(dir);
	free(prefixes);
	free(probes);
	return mismatches == 0 ? 0 : 1;
}
