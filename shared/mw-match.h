#ifndef MW_MATCH_H
#define MW_MATCH_H

#include <stdbool.h>
#include <stddef.h>

/* Host name patterns: "mail.example.org" matches that name only;
   ".example.org" matches example.org and every name under it.  Both are
   stored lower-case without a trailing dot; the name compared may have
   either. */
bool mw_hostname_match(const char *pattern, const char *name);
/* Checks a host name or domain for the policy: letters, digits, '-', '_'
   and dots between non-empty labels of at most 63 bytes. */
bool mw_hostname_is_valid(const char *name);

/* Certificate name patterns: '*' matches any run of characters except a
   dot (as in a TLS wildcard, so "*.contoso.com" does not match
   "a.b.contoso.com"), '?' matches one character; case-insensitive. */
bool mw_glob_match(const char *pattern, const char *text);

#endif
