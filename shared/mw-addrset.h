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
/* The merged ranges as the snapshot stores them: v4 as (first, last)
   pairs of uint32_t, v6 as (first.hi, first.lo, last.hi, last.lo)
   quadruples of uint64_t, sorted and disjoint, in host order. */
#define MW_ADDRSET_RANGE4_SIZE 8
#define MW_ADDRSET_RANGE6_SIZE 32
void mw_addrset_ranges(const struct mw_addrset *set,
		       const void **v4_r, unsigned int *v4_count_r,
		       const void **v6_r, unsigned int *v6_count_r);
/* A set over ranges stored elsewhere (a mapped snapshot), in the form
   above; they must outlive the set.  v4 must be 4-byte, v6 8-byte
   aligned.  Unsorted ranges give wrong answers, never a bad access. */
struct mw_addrset *mw_addrset_wrap(struct mw_arena *arena,
				   const void *v4, unsigned int v4_count,
				   const void *v6, unsigned int v6_count,
				   unsigned int entry_count);
/* Number of prefixes added (before merging), for the normalised output. */
unsigned int mw_addrset_entry_count(const struct mw_addrset *set);

#endif
