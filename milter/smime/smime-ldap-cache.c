/*
 * The LDAP source's cache.  A hash table for the look-up, and a list in
 * order of insertion for eviction: when full, the entry stored longest
 * ago goes, which is also the one closest to expiring when all share one
 * TTL.  Replacing an entry moves it to the end.
 */

#include <stdlib.h>
#include <string.h>

#include "smime-ldap-private.h"

struct mw_smime_ldap_cache_entry {
	struct mw_smime_ldap_cache_entry *hash_next;
	struct mw_smime_ldap_cache_entry *prev, *next;	/* insertion order */
	STACK_OF(X509) *certs;	/* NULL: negative */
	uint64_t expires;
	char key[];
};

struct mw_smime_ldap_cache {
	struct mw_smime_ldap_cache_entry **buckets;
	unsigned int bucket_mask, count, max_entries;
	struct mw_smime_ldap_cache_entry *oldest, *newest;
};

STACK_OF(X509) *mw_smime_ldap_certs_dup(const STACK_OF(X509) *certs)
{
	STACK_OF(X509) *copy = sk_X509_new_null();
	int i;

	if (copy == NULL)
		return NULL;
	for (i = 0; i < sk_X509_num(certs); i++) {
		X509 *cert = sk_X509_value(certs, i);

		if (X509_up_ref(cert) != 1)
			goto fail;
		if (sk_X509_push(copy, cert) <= 0) {
			X509_free(cert);
			goto fail;
		}
	}
	return copy;
fail:
	sk_X509_pop_free(copy, X509_free);
	return NULL;
}

/* FNV-1a */
static unsigned int mw_smime_ldap_hash(const char *key)
{
	uint32_t h = 2166136261u;

	for (; *key != '\0'; key++) {
		h ^= (unsigned char)*key;
		h *= 16777619u;
	}
	return h;
}

struct mw_smime_ldap_cache *mw_smime_ldap_cache_new(unsigned int max_entries)
{
	struct mw_smime_ldap_cache *cache;
	unsigned int nbuckets = 16;

	if (max_entries == 0)
		max_entries = MW_SMIME_LDAP_CACHE_DEFAULT;
	while (nbuckets < max_entries && nbuckets < (1u << 24))
		nbuckets <<= 1;
	cache = calloc(1, sizeof(*cache));
	if (cache == NULL)
		return NULL;
	cache->buckets = calloc(nbuckets, sizeof(*cache->buckets));
	if (cache->buckets == NULL) {
		free(cache);
		return NULL;
	}
	cache->bucket_mask = nbuckets - 1;
	cache->max_entries = max_entries;
	return cache;
}

static void mw_smime_ldap_cache_remove(struct mw_smime_ldap_cache *cache,
				       struct mw_smime_ldap_cache_entry *entry)
{
	struct mw_smime_ldap_cache_entry **pp;

	pp = &cache->buckets[mw_smime_ldap_hash(entry->key) & cache->bucket_mask];
	while (*pp != entry)
		pp = &(*pp)->hash_next;
	*pp = entry->hash_next;
	if (entry->prev != NULL)
		entry->prev->next = entry->next;
	else
		cache->oldest = entry->next;
	if (entry->next != NULL)
		entry->next->prev = entry->prev;
	else
		cache->newest = entry->prev;
	sk_X509_pop_free(entry->certs, X509_free);
	free(entry);
	cache->count--;
}

void mw_smime_ldap_cache_free(struct mw_smime_ldap_cache **_cache)
{
	struct mw_smime_ldap_cache *cache = *_cache;

	if (cache == NULL)
		return;
	*_cache = NULL;
	while (cache->oldest != NULL)
		mw_smime_ldap_cache_remove(cache, cache->oldest);
	free(cache->buckets);
	free(cache);
}

static struct mw_smime_ldap_cache_entry *
mw_smime_ldap_cache_find(struct mw_smime_ldap_cache *cache, const char *key)
{
	struct mw_smime_ldap_cache_entry *entry;

	entry = cache->buckets[mw_smime_ldap_hash(key) & cache->bucket_mask];
	for (; entry != NULL; entry = entry->hash_next) {
		if (strcmp(entry->key, key) == 0)
			return entry;
	}
	return NULL;
}

int mw_smime_ldap_cache_get(struct mw_smime_ldap_cache *cache, const char *key,
			    uint64_t now, STACK_OF(X509) **certs_r)
{
	struct mw_smime_ldap_cache_entry *entry;

	entry = mw_smime_ldap_cache_find(cache, key);
	if (entry == NULL)
		return 0;
	if (entry->expires <= now) {
		mw_smime_ldap_cache_remove(cache, entry);
		return 0;
	}
	*certs_r = NULL;
	if (entry->certs != NULL &&
	    (*certs_r = mw_smime_ldap_certs_dup(entry->certs)) == NULL)
		return -1;
	return 1;
}

int mw_smime_ldap_cache_put(struct mw_smime_ldap_cache *cache, const char *key,
			    const STACK_OF(X509) *certs, uint64_t now,
			    unsigned int ttl)
{
	struct mw_smime_ldap_cache_entry *entry, **bucket;
	size_t len = strlen(key);

	if (ttl == 0)
		return 0;
	entry = mw_smime_ldap_cache_find(cache, key);
	if (entry != NULL)
		mw_smime_ldap_cache_remove(cache, entry);
	while (cache->count >= cache->max_entries)
		mw_smime_ldap_cache_remove(cache, cache->oldest);
	entry = calloc(1, sizeof(*entry) + len + 1);
	if (entry == NULL)
		return -1;
	memcpy(entry->key, key, len + 1);
	if (certs != NULL &&
	    (entry->certs = mw_smime_ldap_certs_dup(certs)) == NULL) {
		free(entry);
		return -1;
	}
	entry->expires = now + (uint64_t)ttl * 1000;
	bucket = &cache->buckets[mw_smime_ldap_hash(key) & cache->bucket_mask];
	entry->hash_next = *bucket;
	*bucket = entry;
	entry->prev = cache->newest;
	if (cache->newest != NULL)
		cache->newest->next = entry;
	else
		cache->oldest = entry;
	cache->newest = entry;
	cache->count++;
	return 0;
}

unsigned int mw_smime_ldap_cache_count(const struct mw_smime_ldap_cache *cache)
{
	return cache->count;
}
