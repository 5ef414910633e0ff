#include "test-common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *test_name;
static bool test_failed;
static unsigned int test_count, test_failures;
static char test_dir[] = "/tmp/mw-unit.XXXXXX";
static bool test_dir_made;
static char test_path[4096];

void test_begin(const char *name)
{
	test_name = name;
	test_failed = false;
}

void test_assert_at(bool cond, const char *expr, const char *file, int line)
{
	if (cond)
		return;
	printf("# %s: assertion failed at %s:%d: %s\n", test_name, file, line, expr);
	test_failed = true;
}

void test_end(void)
{
	test_count++;
	if (test_failed)
		test_failures++;
	printf("%s %u - %s\n", test_failed ? "not ok" : "ok", test_count, test_name);
	test_name = NULL;
}

const char *test_write_file(const char *name, const char *data)
{
	FILE *f;

	if (!test_dir_made) {
		if (mkdtemp(test_dir) == NULL) {
			perror("mkdtemp");
			exit(2);
		}
		test_dir_made = true;
	}
	snprintf(test_path, sizeof(test_path), "%s/%s", test_dir, name);
	f = fopen(test_path, "w");
	if (f == NULL || fputs(data, f) < 0 || fclose(f) != 0) {
		perror(test_path);
		exit(2);
	}
	return test_path;
}

int test_exit(void)
{
	char cmd[sizeof(test_dir) + 16];

	if (test_dir_made) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", test_dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", test_dir);
	}
	printf("1..%u\n", test_count);
	return test_failures == 0 ? 0 : 1;
}
