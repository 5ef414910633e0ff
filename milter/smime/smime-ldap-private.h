#ifndef MW_SMIME_LDAP_PRIVATE_H
#define MW_SMIME_LDAP_PRIVATE_H

/* Inside the LDAP source (smime-ldap.h): its cache and its connections. */

#include <stdint.h>
#include <time.h>

#include "smime-ldap.h"

/* --- cache (smime-ldap-cache.c) ------------------------------------------- */

/* Addresses to certificates (positive) or to "none" (negative), each
   with its own expiry; at most max_entries, the oldest evicted first.
   Not locked: the source holds its mutex around every call, and no call
   does I/O. */
struct mw_smime_ldap_cache;

struct mw_smime_ldap_cache *mw_smime_ldap_cache_new(unsigned int max_entries);
void mw_smime_ldap_cache_free(struct mw_smime_ldap_cache **cache);
/* 1 with *certs_r (a copy, or NULL for a negative entry) for a live
   entry; 0 if there is none.  -1 when out of memory. */
int mw_smime_ldap_cache_get(struct mw_smime_ldap_cache *cache, const char *key,
			    uint64_t now, STACK_OF(X509) **certs_r);
/* Stores a copy of certs (NULL: negative) until now + ttl, replacing an
   older entry. */
int mw_smime_ldap_cache_put(struct mw_smime_ldap_cache *cache, const char *key,
			    const STACK_OF(X509) *certs, uint64_t now,
			    unsigned int ttl);
unsigned int mw_smime_ldap_cache_count(const struct mw_smime_ldap_cache *cache);

/* A new stack holding a reference to each of certs'. */
STACK_OF(X509) *mw_smime_ldap_certs_dup(const STACK_OF(X509) *certs);

/* --- one connection (smime-ldap-conn.c) ----------------------------------- */

struct mw_smime_ldap_conn;

struct mw_smime_ldap_conn_settings {
	const char *uri, *base, *bind_dn, *ca_file;
	const char *password;	/* NULL: anonymous */
	size_t password_len;
	bool starttls;		/* for ldap:// */
};

/* Connects, starts TLS and binds, all before deadline (CLOCK_MONOTONIC,
   milliseconds). */
int mw_smime_ldap_conn_open(const struct mw_smime_ldap_conn_settings *set,
			    uint64_t deadline,
			    struct mw_smime_ldap_conn **conn_r, char **error_r);
void mw_smime_ldap_conn_close(struct mw_smime_ldap_conn **conn);
/* Searches base for filter and parses the certificate attributes of what
   matches: 1 with certs, 0 for no entry or no certificate, -1 on failure.
   After -1, *broken_r tells whether the connection is no longer usable;
   *retry_r that it failed as a connection kept idle fails when the server
   has closed it, so that a fresh one may succeed. */
int mw_smime_ldap_conn_search(struct mw_smime_ldap_conn *conn,
			      const char *base, const char *filter,
			      uint64_t deadline, STACK_OF(X509) **certs_r,
			      bool *broken_r, bool *retry_r, char **error_r);

uint64_t mw_smime_ldap_now_msecs(void);
/* *error_r = the message, allocated (NULL when out of memory). */
void mw_smime_ldap_error(char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
