#ifndef MW_ADDRSET_H
#define MW_ADDRSET_H

#include "mw-addr.h"

#include <stdbool.h>

struct mw_arena;

/* A set of networks, matched in O(log n): the prefixes are turned into
   address ranges, sorted and merged, so a lookup is one binary search
   however many entries a block list has.  Built once with a builder, then
   immutable in the policy's arena. */
struct mw_addrset;
struct mw_addrset_builder;

struct mw_addrset_builder *mw_addrset_builder_new(void);
void mw_addrset_builder_add(struct mw_addrset_builder *builder,
			    const struct mw_prefix *prefix);
/* Copies the merged ranges into arena and frees the builder. */
struct mw_addrset *mw_addrset_build(struct mw_addrset_builder **builder,
				    struct mw_arena *arena);

bool mw_addrset_contains(const struct mw_addrset *set,
			 const struct mw_addr *addr);
/* Number of prefixes added (before merging), for the normalised output. */
unsigned int mw_addrset_entry_count(const struct mw_addrset *set);

#endif
