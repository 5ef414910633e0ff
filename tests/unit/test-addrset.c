/* Address parsing and the address set, checked against a brute-force
   reference on random prefixes, so the binary search and the range
   merging are tested on shapes nobody thought of. */

#include "test-common.h"
#include "mw-addrset.h"
#include "mw-arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct mw_prefix test_prefix(const char *str)
{
	char error[MW_ERROR_SIZE];
	struct mw_prefix prefix;
	bool host_bits;

	if (mw_prefix_parse(str, &prefix, &host_bits, error, sizeof(error)) < 0) {
		printf("# bad test prefix %s: %s\n", str, error);
		abort();
	}
	return prefix;
}

static void test_prefix_parse(void)
{
	static const struct {
		const char *input, *canonical;
		bool host_bits;
	} good[] = {
		{ "192.0.2.0/24", "192.0.2.0/24", false },
		{ "192.0.2.7", "192.0.2.7", false },
		{ "192.0.2.7/24", "192.0.2.0/24", true },
		{ "131.107.2.0/255.255.255.252", "131.107.2.0/30", false },
		{ "10.0.0.0/255.0.0.0", "10.0.0.0/8", false },
		{ "0.0.0.0/0", "0.0.0.0/0", false },
		{ "2001:db8::/32", "2001:db8::/32", false },
		{ "2001:db8::1/32", "2001:db8::/32", true },
		{ "::1", "::1", false },
		{ "::ffff:192.0.2.0/120", "192.0.2.0/24", false },
		{ "::ffff:192.0.2.1", "192.0.2.1", false },
	};
	static const struct {
		const char *input, *error;
	} bad[] = {
		{ "192.0.2.0/33", "prefix length /33 is out of range for IPv4 (0-32)" },
		{ "2001:db8::/129", "prefix length /129 is out of range for IPv6 (0-128)" },
		{ "192.0.2.0/255.0.255.0", "netmask 255.0.255.0 is not contiguous" },
		{ "192.0.2.0/", "'' is not a prefix length or a netmask" },
		{ "192.0.2.256", "'192.0.2.256' is not an IP address" },
		{ "example.com", "'example.com' is not an IP address" },
		{ "2001:db8::/ffff::", "'ffff::' is not a prefix length" },
	};
	char error[MW_ERROR_SIZE], buf[MW_PREFIX_STRLEN];
	struct mw_prefix prefix;
	bool host_bits;
	unsigned int i;

	test_begin("prefix parsing: CIDR, netmask, IPv6, IPv4-mapped");
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		test_assert_idx(mw_prefix_parse(good[i].input, &prefix, &host_bits,
						error, sizeof(error)) == 0, i);
		test_assert_idx(strcmp(mw_prefix_to_str(&prefix, buf, sizeof(buf)),
				       good[i].canonical) == 0, i);
		test_assert_idx(host_bits == good[i].host_bits, i);
	}
	test_end();

	test_begin("prefix parsing: errors say what is wrong");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		test_assert_idx(mw_prefix_parse(bad[i].input, &prefix, &host_bits,
						error, sizeof(error)) < 0, i);
		if (strcmp(error, bad[i].error) != 0)
			printf("# got '%s', expected '%s'\n", error, bad[i].error);
		test_assert_idx(strcmp(error, bad[i].error) == 0, i);
	}
	test_end();
}

static void test_addr_mapped(void)
{
	struct mw_addr a, b;

	test_begin("IPv4-mapped IPv6 client addresses are IPv4");
	test_assert(mw_addr_parse("::ffff:198.51.100.4", &a) == 0);
	test_assert(mw_addr_parse("198.51.100.4", &b) == 0);
	test_assert(a.family == MW_AF_INET4);
	test_assert(memcmp(&a, &b, sizeof(a)) == 0);
	test_assert(mw_addr_parse("not-an-address", &a) < 0);
	test_end();
}

static void test_addrset_edges(void)
{
	static const char *const prefixes[] = {
		"10.0.0.0/25", "10.0.0.128/25",	/* adjacent: merge */
		"255.255.255.255", "0.0.0.0",
		"192.0.2.0/24", "192.0.2.64/26",	/* nested */
		"2001:db8::/32", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		"2001:db8:0:0:ffff:ffff:ffff:ffff/128", "2001:db9::/64",
	};
	static const struct { const char *addr; bool in; } probes[] = {
		{ "10.0.0.0", true }, { "10.0.0.255", true }, { "10.0.1.0", false },
		{ "255.255.255.255", true }, { "255.255.255.254", false },
		{ "0.0.0.0", true }, { "0.0.0.1", false },
		{ "192.0.2.200", true }, { "192.0.3.0", false },
		{ "2001:db8:ffff::1", true }, { "2001:db9::ffff", true },
		{ "2001:db9:0:1::", false }, { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true },
		{ "::", false }, { "::ffff:10.0.0.9", true },
	};
	struct mw_arena *arena = mw_arena_new();
	struct mw_addrset_builder *builder = mw_addrset_builder_new();
	struct mw_addrset *set;
	struct mw_prefix prefix;
	struct mw_addr addr;
	unsigned int i;

	test_begin("address set: adjacent, nested and extreme ranges");
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		prefix = test_prefix(prefixes[i]);
		mw_addrset_builder_add(builder, &prefix);
	}
	set = mw_addrset_build(&builder, arena);
	test_assert(builder == NULL);
	test_assert(mw_addrset_entry_count(set) == sizeof(prefixes) / sizeof(prefixes[0]));
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		test_assert_idx(mw_addr_parse(probes[i].addr, &addr) == 0, i);
		if (mw_addrset_contains(set, &addr) != probes[i].in)
			printf("# %s: expected %s\n", probes[i].addr, probes[i].in ? "in" : "out");
		test_assert_idx(mw_addrset_contains(set, &addr) == probes[i].in, i);
	}
	test_end();
	mw_arena_free(&arena);
}

/* The obvious way, to check the fast one against. */
static bool test_linear_contains(const struct mw_prefix *prefixes, unsigned int count,
				 const struct mw_addr *addr)
{
	unsigned int i, bits, nbytes;

	for (i = 0; i < count; i++) {
		const struct mw_prefix *p = &prefixes[i];

		if (p->addr.family != addr->family)
			continue;
		for (bits = 0, nbytes = p->len / 8; bits < nbytes; bits++) {
			if (p->addr.bytes[bits] != addr->bytes[bits])
				break;
		}
		if (bits < nbytes)
			continue;
		if (p->len % 8 == 0)
			return true;
		uint8_t mask = (uint8_t)(0xff << (8 - p->len % 8));
		if ((addr->bytes[nbytes] & mask) == p->addr.bytes[nbytes])
			return true;
	}
	return false;
}

static void test_random_addr(struct mw_addr *addr, bool v6, unsigned int *seed)
{
	unsigned int i;

	memset(addr, 0, sizeof(*addr));
	addr->family = v6 ? MW_AF_INET6 : MW_AF_INET4;
	/* A small space, so that random probes hit random prefixes. */
	addr->bytes[0] = v6 ? 0x20 : 10;
	for (i = 1; i < (v6 ? 16U : 4U); i++)
		addr->bytes[i] = (uint8_t)(i < 3 ? rand_r(seed) % 4 :
					   i < 4 ? rand_r(seed) : 0);
}

static void test_addrset_random(void)
{
	enum { PREFIXES = 300, PROBES = 20000 };
	struct mw_prefix *prefixes = calloc(PREFIXES, sizeof(*prefixes));
	struct mw_arena *arena = mw_arena_new();
	struct mw_addrset_builder *builder = mw_addrset_builder_new();
	char str[MW_PREFIX_STRLEN], error[MW_ERROR_SIZE];
	unsigned int seed = 4242, i, mismatches = 0, hits = 0;
	struct mw_addrset *set;
	struct mw_addr addr;
	bool host_bits;

	test_begin("address set agrees with a linear scan on random prefixes");
	for (i = 0; i < PREFIXES; i++) {
		bool v6 = i % 3 == 0;
		unsigned int len = v6 ? 26 + (unsigned int)rand_r(&seed) % 103 :
			26 + (unsigned int)rand_r(&seed) % 7;

		test_random_addr(&addr, v6, &seed);
		snprintf(str, sizeof(str), "%s/%u",
			 mw_addr_to_str(&addr, error, sizeof(error)), len);
		test_assert(mw_prefix_parse(str, &prefixes[i], &host_bits,
					    error, sizeof(error)) == 0);
		mw_addrset_builder_add(builder, &prefixes[i]);
	}
	set = mw_addrset_build(&builder, arena);
	for (i = 0; i < PROBES; i++) {
		bool expected;

		test_random_addr(&addr, i % 2 == 0, &seed);
		expected = test_linear_contains(prefixes, PREFIXES, &addr);
		hits += expected ? 1 : 0;
		if (mw_addrset_contains(set, &addr) != expected)
			mismatches++;
	}
	printf("# %u of %u probes inside, %u mismatches\n", hits, PROBES, mismatches);
	test_assert(mismatches == 0);
	/* Both outcomes must be exercised for the comparison to mean much. */
	test_assert(hits > PROBES / 20 && hits < PROBES - PROBES / 20);
	test_end();
	mw_arena_free(&arena);
	free(prefixes);
}

int main(void)
{
	test_prefix_parse();
	test_addr_mapped();
	test_addrset_edges();
	test_addrset_random();
	return test_exit();
}
