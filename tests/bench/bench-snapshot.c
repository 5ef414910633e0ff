/* bench-dovecot-login: what one policy costs a login process, without the
   noise of a shared machine's process start-up.  For the policy named on
   the command line: parsing it (what a login process paid per connection
   before the image), mapping its image as the login processes do
   (header and metadata checked), and mapping it with every hash checked
   (as the auth process does when it keeps the last good version).
   Prints "parse MS map MS map-verify MS", the best of several rounds. */

#include "mw-policy.h"
#include "mw-snapshot.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double bench_map(int dir_fd, enum mw_snapshot_flags flags,
			unsigned int n)
{
	struct mw_snapshot *snap;
	double start = bench_now();
	char *error;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (mw_snapshot_open(dir_fd, "bench.snap", flags, &snap,
				     &error) != 1) {
			fprintf(stderr, "bench-snapshot: %s\n", error);
			exit(1);
		}
		mw_snapshot_free(&snap);
	}
	return (bench_now() - start) / n;
}

int main(int argc, char **argv)
{
	static const struct mw_snapshot_owner owner = { { 1, 1, 1 } };
	char dir[] = "/tmp/mw-bench-snap.XXXXXX", *error;
	double parse = 1e9, map = 1e9, verify = 1e9, start, t;
	struct mw_policy *policy;
	struct mw_diags *diags;
	unsigned int round;
	int dir_fd;

	if (argc != 2) {
		fprintf(stderr, "usage: bench-snapshot POLICY\n");
		return 2;
	}
	for (round = 0; round < 5; round++) {
		start = bench_now();
		if (mw_policy_load(argv[1], &policy, &diags) < 0) {
			mw_diags_print(diags, stderr);
			return 1;
		}
		t = bench_now() - start;
		if (t < parse)
			parse = t;
		mw_diags_free(&diags);
		if (round < 4)
			mw_policy_unref(&policy);
	}
	if (mkdtemp(dir) == NULL ||
	    (dir_fd = open(dir, O_RDONLY | O_DIRECTORY)) < 0) {
		perror("bench-snapshot: temporary directory");
		return 1;
	}
	if (mw_snapshot_write(policy, &owner, 1, dir_fd, "bench.snap", NULL,
			      &error) < 0) {
		fprintf(stderr, "bench-snapshot: %s\n", error);
		return 1;
	}
	for (round = 0; round < 5; round++) {
		t = bench_map(dir_fd, 0, 200);
		if (t < map)
			map = t;
		t = bench_map(dir_fd, MW_SNAPSHOT_VERIFY_DATA, 20);
		if (t < verify)
			verify = t;
	}
	printf("parse %.3f map %.3f map-verify %.3f\n", parse * 1e3,
	       map * 1e3, verify * 1e3);
	(void)unlinkat(dir_fd, "bench.snap", 0);
	(void)close(dir_fd);
	(void)rmdir(dir);
	mw_policy_unref(&policy);
	return 0;
}
