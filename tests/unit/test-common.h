#ifndef TEST_COMMON_H
#define TEST_COMMON_H

#include <stdbool.h>

/* A small TAP-speaking harness in the manner of Dovecot's lib-test:
   test_begin() and test_end() bracket one named case, test_assert()
   records failures inside it, and test_exit() gives the exit status. */
void test_begin(const char *name);
void test_assert_at(bool cond, const char *expr, const char *file, int line);
#define test_assert(cond) test_assert_at((cond), #cond, __FILE__, __LINE__)
#define test_assert_idx(cond, idx) \
	test_assert_at((cond), #cond, __FILE__, __LINE__ + 0 * (int)(idx))
void test_end(void);
int test_exit(void);

/* Writes data to a new file under a private temporary directory and
   returns its path (valid until test_exit()). */
const char *test_write_file(const char *name, const char *data);

#endif
