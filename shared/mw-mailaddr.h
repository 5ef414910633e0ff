#ifndef MW_MAILADDR_H
#define MW_MAILADDR_H

/*
 * Mail addresses from SMTP envelopes (RFC 5321) and message headers
 * (RFC 5322), parsed by the grammar rather than by searching for '@', with
 * the domain in one canonical form so that policy lookups compare like
 * with like: lower case, no trailing root dot, IDNA A-labels
 * ("xn--...") for internationalised labels.
 *
 * Used by the milter for the envelope sender and by S/MIME for the From
 * header; no libmilter or OpenSSL types here.
 */

#include <stdbool.h>
#include <stddef.h>

struct mw_mailaddr {
	/* "local@domain" with the local part as written (a quoted local
	   part keeps its quotes) and the canonical domain; "" for the null
	   path <>.  malloc()ed; mw_mailaddr_free() releases it. */
	char *addr;
	/* Points into addr after the '@'; NULL for the null path and for
	   a local part with no domain. */
	const char *domain;
};

enum mw_mailaddr_flags {
	/* Judge an address without '@' as Postfix's defaults rewrite it
	   (trivial-rewrite, before the queue): "host!user" becomes
	   user@host (swap_bangpath = yes), else "user%host" becomes
	   user@host at the last '%' (allow_percent_hack = yes).  A site
	   that turned those off gets a stricter judgement, never a laxer
	   one. */
	MW_MAILADDR_POSTFIX_REWRITE = 1 << 0,
};

/* An SMTP path as in MAIL FROM or RCPT TO: "<local@domain>", or the same
   without the angle brackets (Postfix's {mail_addr} macro), or "<>".  A
   source route ("<@a,@b:local@domain>") is accepted and dropped, as RFC
   5321 section 4.1.1.3 lets a server do.  No comments, no spaces outside a
   quoted local part.  Returns 0, or -1 with a static reason in *error_r
   and addr_r cleared. */
int mw_mailaddr_parse_path(const char *text, unsigned int flags,
			   struct mw_mailaddr *addr_r, const char **error_r);

/* A header field body that holds exactly one mailbox (From, Sender,
   Reply-To with one address): display names, quoted strings, comments
   and folding whitespace as RFC 5322 section 3.4 allows, with
   "name <addr>" or a bare addr-spec; obsolete source routes are dropped.
   A group or a list of more than one mailbox is an error: a caller that
   acts on one sender must not pick one of several.  Returns 0 or -1, as
   above. */
int mw_mailaddr_parse_header(const char *value, struct mw_mailaddr *addr_r,
			     const char **error_r);

/* The canonical form of a domain (len bytes of domain, UTF-8 or ASCII)
   into buf: lower case, one trailing dot removed, each non-ASCII label as
   its IDNA2008 A-label.  Returns 0, or -1 (not a domain, or does not fit)
   with a static reason in *error_r. */
#define MW_MAILADDR_DOMAIN_MAX 256
int mw_mailaddr_domain_canon(const char *domain, size_t len, char *buf,
			     size_t size, const char **error_r);

void mw_mailaddr_free(struct mw_mailaddr *addr);

#endif
