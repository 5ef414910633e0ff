/*
 * ldap-lookup: the LDAP certificate source (milter/smime/smime-ldap.h)
 * without the milter, for the tests and the benchmark.
 *
 *   ldap-lookup --uri URI --base DN --filter F [--bind-dn DN
 *       --password-file FILE] [--no-starttls] [--ca FILE] [--timeout MS]
 *       [--cache-ttl S] [--negative-ttl S] [--max-connections N]
 *       [--rounds N] [--between CMD] [--threads N] [--bench N]
 *       [--print-filter] ADDRESS...
 *
 * Each round looks up every ADDRESS (with --threads, all of them at once
 * in threads of their own) and prints, per address,
 *   ADDRESS: found N (T ms)       then a line per certificate:
 *     subject=... serial=... sha256=...
 *   ADDRESS: none (T ms)
 *   ADDRESS: error (T ms): MESSAGE
 * --between runs CMD (sh -c) between rounds, e.g. to stop the server.
 * --bench N: N lookups over the addresses in --threads threads, then
 * "bench: N lookups in T ms: R/s".  A last line gives the counters.
 */

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "smime-ldap.h"

static struct mw_smime_ldap *ldap;
static char **addresses;
static int address_count;
static unsigned long bench_total;

struct result {
	int ret;
	STACK_OF(X509) *certs;
	char *error;
	double msecs;
};

static double now_msecs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void lookup(const char *address, struct result *res)
{
	double start = now_msecs();

	res->ret = mw_smime_ldap_lookup(ldap, address, &res->certs, &res->error);
	res->msecs = now_msecs() - start;
}

static void print_cert(X509 *cert)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0, i;
	char subject[512];
	BIGNUM *bn;
	char *serial;

	X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
	bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(cert), NULL);
	serial = bn != NULL ? BN_bn2hex(bn) : NULL;
	X509_digest(cert, EVP_sha256(), md, &md_len);
	printf("  subject=%s serial=%s sha256=", subject,
	       serial != NULL ? serial : "?");
	for (i = 0; i < md_len; i++)
		printf("%02x", md[i]);
	printf("\n");
	OPENSSL_free(serial);
	BN_free(bn);
}

static void print_result(const char *address, struct result *res)
{
	int i;

	if (res->ret > 0) {
		printf("%s: found %d (%.0f ms)\n", address,
		       sk_X509_num(res->certs), res->msecs);
		for (i = 0; i < sk_X509_num(res->certs); i++)
			print_cert(sk_X509_value(res->certs, i));
	} else if (res->ret == 0) {
		printf("%s: none (%.0f ms)\n", address, res->msecs);
	} else {
		printf("%s: error (%.0f ms): %s\n", address, res->msecs,
		       res->error != NULL ? res->error : "(no message)");
	}
	sk_X509_pop_free(res->certs, X509_free);
	free(res->error);
	memset(res, 0, sizeof(*res));
}

struct job {
	pthread_t thread;
	int index;
	unsigned long count;	/* bench: lookups of this thread */
	struct result res;
	unsigned long failures;
};

static void *lookup_thread(void *context)
{
	struct job *job = context;

	lookup(addresses[job->index], &job->res);
	return NULL;
}

static void *bench_thread(void *context)
{
	struct job *job = context;
	struct result res;
	unsigned long i;

	for (i = 0; i < job->count; i++) {
		memset(&res, 0, sizeof(res));
		lookup(addresses[(job->index + i) % address_count], &res);
		if (res.ret < 0)
			job->failures++;
		sk_X509_pop_free(res.certs, X509_free);
		free(res.error);
	}
	return NULL;
}

static void run_round(int threads)
{
	struct job *jobs;
	int i;

	if (threads <= 1) {
		struct result res;

		for (i = 0; i < address_count; i++) {
			memset(&res, 0, sizeof(res));
			lookup(addresses[i], &res);
			print_result(addresses[i], &res);
		}
		return;
	}
	jobs = calloc(address_count, sizeof(*jobs));
	for (i = 0; i < address_count; i++) {
		jobs[i].index = i;
		pthread_create(&jobs[i].thread, NULL, lookup_thread, &jobs[i]);
	}
	for (i = 0; i < address_count; i++) {
		pthread_join(jobs[i].thread, NULL);
		print_result(addresses[i], &jobs[i].res);
	}
	free(jobs);
}

static int run_bench(int threads)
{
	struct job *jobs = calloc(threads, sizeof(*jobs));
	unsigned long failures = 0;
	double start, msecs;
	int i;

	start = now_msecs();
	for (i = 0; i < threads; i++) {
		jobs[i].index = i;
		jobs[i].count = bench_total / threads +
			(i < (int)(bench_total % threads) ? 1 : 0);
		pthread_create(&jobs[i].thread, NULL, bench_thread, &jobs[i]);
	}
	for (i = 0; i < threads; i++) {
		pthread_join(jobs[i].thread, NULL);
		failures += jobs[i].failures;
	}
	msecs = now_msecs() - start;
	printf("bench: %lu lookups in %.0f ms with %d threads: %.0f/s, "
	       "%lu failed\n", bench_total, msecs, threads,
	       bench_total * 1000.0 / (msecs > 0 ? msecs : 1), failures);
	free(jobs);
	return failures == 0 ? 0 : 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: ldap-lookup --uri URI --base DN --filter F "
		"[options] ADDRESS...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "uri", required_argument, NULL, 'u' },
		{ "base", required_argument, NULL, 'b' },
		{ "filter", required_argument, NULL, 'f' },
		{ "bind-dn", required_argument, NULL, 'D' },
		{ "password-file", required_argument, NULL, 'y' },
		{ "no-starttls", no_argument, NULL, 'N' },
		{ "ca", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "cache-ttl", required_argument, NULL, 'T' },
		{ "negative-ttl", required_argument, NULL, 'n' },
		{ "max-connections", required_argument, NULL, 'm' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "between", required_argument, NULL, 'w' },
		{ "threads", required_argument, NULL, 'j' },
		{ "bench", required_argument, NULL, 'B' },
		{ "print-filter", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	struct mw_smime_ldap_settings set;
	struct mw_smime_ldap_stats stats;
	const char *between = NULL;
	int c, i, rounds = 1, threads = 1, print_filter = 0, ret = 0;
	char *error;

	memset(&set, 0, sizeof(set));
	set.starttls = true;
	set.timeout_msecs = 5000;
	set.cache_ttl_secs = 3600;
	set.negative_ttl_secs = 300;
	set.max_connections = 4;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 'u': set.uri = optarg; break;
		case 'b': set.base = optarg; break;
		case 'f': set.filter = optarg; break;
		case 'D': set.bind_dn = optarg; break;
		case 'y': set.password_file = optarg; break;
		case 'N': set.starttls = false; break;
		case 'c': set.ca_file = optarg; break;
		case 't': set.timeout_msecs = (unsigned int)atoi(optarg); break;
		case 'T': set.cache_ttl_secs = (unsigned int)atoi(optarg); break;
		case 'n': set.negative_ttl_secs = (unsigned int)atoi(optarg); break;
		case 'm': set.max_connections = (unsigned int)atoi(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		case 'w': between = optarg; break;
		case 'j': threads = atoi(optarg); break;
		case 'B': bench_total = strtoul(optarg, NULL, 10); break;
		case 'P': print_filter = 1; break;
		default: usage();
		}
	}
	addresses = argv + optind;
	address_count = argc - optind;
	if (address_count == 0)
		usage();
	if (print_filter) {
		for (i = 0; i < address_count; i++) {
			char *filter = mw_smime_ldap_filter(set.filter != NULL ?
				set.filter : "(mail=%s)", addresses[i],
				strlen(addresses[i]));

			printf("%s\n", filter);
			free(filter);
		}
		return 0;
	}
	if (mw_smime_ldap_new(&set, &ldap, &error) < 0) {
		printf("settings: %s\n", error);
		free(error);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < rounds; i++) {
		if (i > 0 && between != NULL && system(between) != 0)
			printf("between: %s failed\n", between);
		if (bench_total > 0)
			ret |= run_bench(threads);
		else
			run_round(threads);
	}
	mw_smime_ldap_get_stats(ldap, &stats);
	printf("stats: lookups=%lu hits=%lu negative_hits=%lu failures=%lu "
	       "connects=%lu peak_connections=%u\n", stats.lookups,
	       stats.cache_hits, stats.negative_hits, stats.failures,
	       stats.connects, stats.peak_connections);
	mw_smime_ldap_free(&ldap);
	return ret;
}
