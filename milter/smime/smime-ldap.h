#ifndef MW_SMIME_LDAP_H
#define MW_SMIME_LDAP_H

/*
 * Recipients' certificates from an LDAP directory (the "ldap" source of
 * smime { certificates = ... }), for S/MIME encryption.
 *
 *   smime-ldap.c         the source: settings, connection pool, lookup
 *   smime-ldap-conn.c    one connection: TLS, bind, search, time-outs
 *   smime-ldap-cache.c   positive and negative cache with TTLs
 *   smime-ldap-filter.c  the search filter, the address escaped (RFC 4515)
 *   smime-ldap-value.c   attribute values into certificates (fuzzed)
 *
 * A lookup runs in the calling thread (libmilter gives each SMTP session
 * a thread of its own) and is bounded as a whole by timeout_msecs: the
 * wait for a free connection, connecting, TLS, binding and searching all
 * share that budget, so a dead directory delays one session, never the
 * others, and never longer than that.  The source only fetches
 * certificates: whether one is trusted, current and fit for encryption
 * is for the selection that receives them.
 */

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

/* Upper bounds on what the directory may return for one address. */
#define MW_SMIME_LDAP_VALUE_MAX (64 * 1024)	/* bytes in one value */
#define MW_SMIME_LDAP_CERTS_MAX 16		/* certificates per address */
#define MW_SMIME_LDAP_ENTRIES_MAX 8		/* entries matching the filter */
#define MW_SMIME_LDAP_CACHE_DEFAULT 10000	/* cached addresses */

struct mw_smime_ldap_settings {          /* filled by smenc's validator from the policy */
	const char *uri;                 /* ldap://host:port or ldaps://host:port */
	const char *base;
	const char *filter;              /* "%s" replaced by the RFC 4515-escaped address */
	const char *bind_dn;             /* NULL: anonymous */
	const char *password_file;       /* NULL unless bind_dn */
	bool starttls;                   /* required for ldap:// unless false */
	const char *ca_file;             /* verifies the server certificate */
	unsigned int timeout_msecs;      /* whole lookup */
	unsigned int cache_ttl_secs, negative_ttl_secs;
	unsigned int max_connections;
	/* Addresses kept in the cache, the oldest evicted first; 0 means
	   MW_SMIME_LDAP_CACHE_DEFAULT. */
	unsigned int cache_max_entries;
};

struct mw_smime_ldap;                    /* thread-safe; one per loaded policy */

/* Checks the settings and reads the password file (which, like a
   private key, must not be readable by others: smime-keyfile.c's
   rules).  Does not connect: a directory that is down at start-up is a
   lookup failure later, not a reason to refuse the policy. */
int mw_smime_ldap_new(const struct mw_smime_ldap_settings *set,
		      struct mw_smime_ldap **ldap_r, char **error_r);
void mw_smime_ldap_free(struct mw_smime_ldap **ldap);

/* 1: *certs_r has the address's certificates (caller frees with
   sk_X509_pop_free); 0: the directory has none; -1: the lookup failed
   (server down, time-out, TLS failure) with *error_r (caller frees).
   Blocks only the calling session thread, at most timeout_msecs.
   Answers 1 and 0 are cached (cache_ttl_secs, negative_ttl_secs) under
   the address with its domain in lower case; failures are not. */
int mw_smime_ldap_lookup(struct mw_smime_ldap *ldap, const char *address,
			 STACK_OF(X509) **certs_r, char **error_r);

/* The attribute parser (fuzzed): userSMIMECertificate (PKCS#7 certs-only,
   DER) or userCertificate;binary (DER X.509) values into certs.  The
   attribute name is compared without case, with or without ";binary".
   A value with bytes after its DER, or larger than
   MW_SMIME_LDAP_VALUE_MAX, or that would take certs beyond
   MW_SMIME_LDAP_CERTS_MAX, is refused and certs left as it was. */
int mw_smime_ldap_parse_value(const char *attribute, const unsigned char *data,
			      size_t size, STACK_OF(X509) *certs, char **error_r);

/* The search filter: every "%s" of template replaced by address escaped
   per RFC 4515 3 ('*', '(', ')', '\', NUL and every byte outside
   printable ASCII as \XX), so that no address can change the filter's
   structure.  Returns a string to free(), NULL when out of memory. */
char *mw_smime_ldap_filter(const char *template, const char *address,
			   size_t address_len);

/* Counters, for the tests and the benchmark. */
struct mw_smime_ldap_stats {
	unsigned long lookups, cache_hits, negative_hits, failures;
	unsigned long connects;		/* connections opened */
	unsigned int open_connections, peak_connections;
};
void mw_smime_ldap_get_stats(struct mw_smime_ldap *ldap,
			     struct mw_smime_ldap_stats *stats_r);

#endif
