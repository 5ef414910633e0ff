#include "mw-addrset.h"
#include "mw-arena.h"
#include "mw-util.h"

#include <stdlib.h>
#include <string.h>

/* IPv6 addresses as two 64-bit halves, compared hi first. */
struct mw_u128 {
	uint64_t hi, lo;
};

struct mw_range4 {
	uint32_t first, last;
};

struct mw_range6 {
	struct mw_u128 first, last;
};

/* The snapshot maps these as they are (mw_addrset_wrap()). */
_Static_assert(sizeof(struct mw_range4) == MW_ADDRSET_RANGE4_SIZE,
	       "range4 layout");
_Static_assert(sizeof(struct mw_range6) == MW_ADDRSET_RANGE6_SIZE,
	       "range6 layout");

struct mw_addrset {
	const struct mw_range4 *v4;
	const struct mw_range6 *v6;
	unsigned int v4_count, v6_count;
	unsigned int entry_count;
};

struct mw_addrset_builder {
	struct mw_range4 *v4;
	struct mw_range6 *v6;
	unsigned int v4_count, v4_alloc, v6_count, v6_alloc;
	unsigned int entry_count;
};

static uint32_t mw_u32_from_bytes(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		(uint32_t)b[2] << 8 | b[3];
}

static uint64_t mw_u64_from_bytes(const uint8_t *b)
{
	return (uint64_t)mw_u32_from_bytes(b) << 32 | mw_u32_from_bytes(b + 4);
}

static struct mw_u128 mw_u128_from_addr(const struct mw_addr *addr)
{
	struct mw_u128 v = {
		mw_u64_from_bytes(addr->bytes),
		mw_u64_from_bytes(addr->bytes + 8),
	};
	return v;
}

static int mw_u128_cmp(struct mw_u128 a, struct mw_u128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

/* The last address of a prefix: the first with all host bits set. */
static struct mw_u128 mw_u128_last(struct mw_u128 first, unsigned int len)
{
	struct mw_u128 last = first;

	if (len == 0) {
		last.hi = last.lo = UINT64_MAX;
	} else if (len < 64) {
		last.hi |= UINT64_MAX >> len;
		last.lo = UINT64_MAX;
	} else if (len == 64) {
		last.lo = UINT64_MAX;
	} else if (len < 128) {
		last.lo |= UINT64_MAX >> (len - 64);
	}
	return last;
}

/* a + 1 == b, so adjacent ranges merge too (two /25s make a /24). */
static bool mw_u128_is_next(struct mw_u128 a, struct mw_u128 b)
{
	if (a.lo == UINT64_MAX)
		return a.hi != UINT64_MAX && b.hi == a.hi + 1 && b.lo == 0;
	return b.hi == a.hi && b.lo == a.lo + 1;
}

struct mw_addrset_builder *mw_addrset_builder_new(void)
{
	return mw_xcalloc(1, sizeof(struct mw_addrset_builder));
}

void mw_addrset_builder_add(struct mw_addrset_builder *b,
			    const struct mw_prefix *prefix)
{
	b->entry_count++;
	if (prefix->addr.family == MW_AF_INET4) {
		uint32_t first = mw_u32_from_bytes(prefix->addr.bytes);
		uint32_t host = prefix->len == 0 ? UINT32_MAX :
			(prefix->len == 32 ? 0 : UINT32_MAX >> prefix->len);

		if (b->v4_count == b->v4_alloc) {
			b->v4_alloc = b->v4_alloc == 0 ? 16 : b->v4_alloc * 2;
			b->v4 = mw_xreallocarray(b->v4, b->v4_alloc, sizeof(*b->v4));
		}
		b->v4[b->v4_count].first = first;
		b->v4[b->v4_count].last = first | host;
		b->v4_count++;
	} else {
		struct mw_u128 first = mw_u128_from_addr(&prefix->addr);

		if (b->v6_count == b->v6_alloc) {
			b->v6_alloc = b->v6_alloc == 0 ? 16 : b->v6_alloc * 2;
			b->v6 = mw_xreallocarray(b->v6, b->v6_alloc, sizeof(*b->v6));
		}
		b->v6[b->v6_count].first = first;
		b->v6[b->v6_count].last = mw_u128_last(first, prefix->len);
		b->v6_count++;
	}
}

static int mw_range4_cmp(const void *a, const void *b)
{
	const struct mw_range4 *ra = a, *rb = b;

	if (ra->first != rb->first)
		return ra->first < rb->first ? -1 : 1;
	return 0;
}

static int mw_range6_cmp(const void *a, const void *b)
{
	const struct mw_range6 *ra = a, *rb = b;

	return mw_u128_cmp(ra->first, rb->first);
}

static unsigned int mw_range4_merge(struct mw_range4 *r, unsigned int count)
{
	unsigned int i, out = 0;

	if (count == 0)
		return 0;
	qsort(r, count, sizeof(*r), mw_range4_cmp);
	for (i = 1; i < count; i++) {
		if (r[i].first <= r[out].last ||
		    (r[out].last != UINT32_MAX && r[i].first == r[out].last + 1)) {
			if (r[i].last > r[out].last)
				r[out].last = r[i].last;
		} else {
			r[++out] = r[i];
		}
	}
	return out + 1;
}

static unsigned int mw_range6_merge(struct mw_range6 *r, unsigned int count)
{
	unsigned int i, out = 0;

	if (count == 0)
		return 0;
	qsort(r, count, sizeof(*r), mw_range6_cmp);
	for (i = 1; i < count; i++) {
		if (mw_u128_cmp(r[i].first, r[out].last) <= 0 ||
		    mw_u128_is_next(r[out].last, r[i].first)) {
			if (mw_u128_cmp(r[i].last, r[out].last) > 0)
				r[out].last = r[i].last;
		} else {
			r[++out] = r[i];
		}
	}
	return out + 1;
}

struct mw_addrset *mw_addrset_build(struct mw_addrset_builder **_builder,
				    struct mw_arena *arena)
{
	struct mw_addrset_builder *b = *_builder;
	struct mw_addrset *set = MW_ARENA_NEW(arena, struct mw_addrset, 1);
	struct mw_range4 *v4;
	struct mw_range6 *v6;

	*_builder = NULL;
	set->entry_count = b->entry_count;
	set->v4_count = mw_range4_merge(b->v4, b->v4_count);
	set->v6_count = mw_range6_merge(b->v6, b->v6_count);
	v4 = MW_ARENA_NEW(arena, struct mw_range4, set->v4_count);
	v6 = MW_ARENA_NEW(arena, struct mw_range6, set->v6_count);
	if (set->v4_count > 0)
		memcpy(v4, b->v4, sizeof(*v4) * set->v4_count);
	if (set->v6_count > 0)
		memcpy(v6, b->v6, sizeof(*v6) * set->v6_count);
	set->v4 = v4;
	set->v6 = v6;
	free(b->v4);
	free(b->v6);
	free(b);
	return set;
}

bool mw_addrset_contains(const struct mw_addrset *set,
			 const struct mw_addr *addr)
{
	unsigned int lo, hi, mid;

	/* Find the last range that starts at or before the address; the
	   ranges are disjoint, so only that one can hold it. */
	if (addr->family == MW_AF_INET4) {
		uint32_t a = mw_u32_from_bytes(addr->bytes);

		lo = 0;
		hi = set->v4_count;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (set->v4[mid].first <= a)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo > 0 && a <= set->v4[lo - 1].last;
	}
	if (addr->family == MW_AF_INET6) {
		struct mw_u128 a = mw_u128_from_addr(addr);

		lo = 0;
		hi = set->v6_count;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (mw_u128_cmp(set->v6[mid].first, a) <= 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo > 0 && mw_u128_cmp(a, set->v6[lo - 1].last) <= 0;
	}
	return false;
}

void mw_addrset_ranges(const struct mw_addrset *set,
		       const void **v4_r, unsigned int *v4_count_r,
		       const void **v6_r, unsigned int *v6_count_r)
{
	*v4_r = set->v4;
	*v4_count_r = set->v4_count;
	*v6_r = set->v6;
	*v6_count_r = set->v6_count;
}

struct mw_addrset *mw_addrset_wrap(struct mw_arena *arena,
				   const void *v4, unsigned int v4_count,
				   const void *v6, unsigned int v6_count,
				   unsigned int entry_count)
{
	struct mw_addrset *set = MW_ARENA_NEW(arena, struct mw_addrset, 1);

	set->v4 = v4;
	set->v4_count = v4_count;
	set->v6 = v6;
	set->v6_count = v6_count;
	set->entry_count = entry_count;
	return set;
}

unsigned int mw_addrset_entry_count(const struct mw_addrset *set)
{
	return set->entry_count;
}
