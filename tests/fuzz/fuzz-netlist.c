/* libFuzzer target: any bytes as a net-list file.  Parsing must never
   crash, leak or read out of bounds; every entry it keeps must be in the
   built set, and the set must answer lookups. */

#include "mw-policy-private.h"
#include "mw-arena.h"
#include "mw-diag.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct mw_addrset_builder *builder = mw_addrset_builder_new();
	struct mw_diags *diags = mw_diags_new();
	struct mw_arena *arena = mw_arena_new();
	struct mw_addrset *set;
	struct mw_addr addr;
	char *copy;

	/* The loader hands the parser a NUL-terminated copy, as read. */
	copy = malloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	(void)mw_netlist_parse("fuzz.list", copy, size, builder, diags,
			       "fuzz.conf", 1, 1);
	set = mw_addrset_build(&builder, arena);
	if (mw_addr_parse("192.0.2.1", &addr) == 0)
		(void)mw_addrset_contains(set, &addr);
	if (mw_addr_parse("2001:db8::1", &addr) == 0)
		(void)mw_addrset_contains(set, &addr);
	mw_diags_sort(diags);
	(void)mw_diags_first_error(diags);
	mw_diags_free(&diags);
	mw_arena_free(&arena);
	free(copy);
	return 0;
}
