/*
 * The From address that a signature is made for (RFC 8550 3): the one
 * mailbox of a From field value, parsed by the grammar of RFC 5322 3.4
 * (display names, quoted strings, comments, an obsolete route), never by
 * looking for an '@'.  The result is the addr-spec as written, without
 * comments and folding, its domain in lower case.
 *
 * One concern, one function: a shared RFC 5322 parser can take its place.
 */

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "mw-smime.h"

struct mw_smime_from_out {
	char *buf;
	size_t size, len;
	bool overflow;
};

static void mw_smime_from_put(struct mw_smime_from_out *out, const char *p,
			      size_t n)
{
	if (out->len + n >= out->size) {
		out->overflow = true;
		return;
	}
	memcpy(out->buf + out->len, p, n);
	out->len += n;
	out->buf[out->len] = '\0';
}

/* RFC 5322 3.2.3 atext. */
static bool mw_smime_is_atext(unsigned char c)
{
	/* strchr() would find the NUL that ends the string. */
	return isalnum(c) || c >= 0x80 ||	/* RFC 6532 UTF-8 */
		(c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Skips CFWS (RFC 5322 3.2.2): white space, folds, nested comments.
   NULL for an unterminated comment. */
static const char *mw_smime_cfws(const char *p)
{
	while (*p != '\0') {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			p++;
		} else if (*p == '(') {
			int depth = 0;

			do {
				if (*p == '\\' && p[1] != '\0')
					p++;
				else if (*p == '(')
					depth++;
				else if (*p == ')')
					depth--;
				p++;
			} while (depth > 0 && *p != '\0');
			if (depth > 0)
				return NULL;
		} else {
			break;
		}
	}
	return p;
}

/* A quoted-string starting at p; returns the character after it, or
   NULL if it does not end or holds a line end that is no fold. */
static const char *mw_smime_quoted(const char *p)
{
	for (p++; *p != '"'; p++) {
		if (*p == '\0')
			return NULL;
		if (*p == '\r' && p[1] == '\n')
			p++;
		if ((*p == '\r' || *p == '\n') && p[1] != ' ' && p[1] != '\t')
			return NULL;
		if (*p == '\\' && p[1] != '\0')
			p++;
	}
	return p + 1;
}

/* A word (atom or quoted-string); returns its end, or p if none. */
static const char *mw_smime_word(const char *p)
{
	if (*p == '"') {
		const char *q = mw_smime_quoted(p);

		return q != NULL ? q : p;
	}
	while (mw_smime_is_atext((unsigned char)*p))
		p++;
	return p;
}

/* local-part or domain: words (for the domain, atoms) separated by
   dots, CFWS allowed around them (obs-local-part, obs-domain); written
   to out without the CFWS. */
static const char *mw_smime_dotted(const char *p, bool quoted_ok,
				   struct mw_smime_from_out *out)
{
	for (;;) {
		const char *end;

		if ((p = mw_smime_cfws(p)) == NULL)
			return NULL;
		if (*p == '"' && !quoted_ok)
			return NULL;
		end = mw_smime_word(p);
		/* A folded quoted local part would put a line end into
		   the address. */
		if (end == p || memchr(p, '\n', (size_t)(end - p)) != NULL ||
		    memchr(p, '\r', (size_t)(end - p)) != NULL)
			return NULL;
		mw_smime_from_put(out, p, (size_t)(end - p));
		if ((p = mw_smime_cfws(end)) == NULL)
			return NULL;
		if (*p != '.')
			return p;
		mw_smime_from_put(out, ".", 1);
		p++;
	}
}

/* addr-spec = local-part "@" domain (RFC 5322 3.4.1); at p, which is
   past any CFWS before it.  Returns the end, or NULL. */
static const char *mw_smime_addr_spec(const char *p,
				      struct mw_smime_from_out *out)
{
	size_t at;

	if ((p = mw_smime_dotted(p, true, out)) == NULL || *p != '@')
		return NULL;
	mw_smime_from_put(out, "@", 1);
	at = out->len;
	if ((p = mw_smime_cfws(p + 1)) == NULL)
		return NULL;
	if (*p == '[') {
		/* domain-literal, of the address literals of RFC 5321
		   4.1.3 (IPv4, "IPv6:..."): the general dtext and its
		   quoted pairs name no host a certificate names. */
		const char *end = p + 1 + strspn(p + 1, "0123456789abcdefABCDEFIPVv:.");

		if (*end != ']')
			return NULL;
		mw_smime_from_put(out, p, (size_t)(end - p + 1));
		p = end + 1;
	} else if ((p = mw_smime_dotted(p, false, out)) == NULL) {
		return NULL;
	}
	for (; at < out->len; at++)
		out->buf[at] = (char)tolower((unsigned char)out->buf[at]);
	return mw_smime_cfws(p);
}

/* angle-addr, with the obsolete route "@a,@b:" (RFC 5322 4.4) skipped;
   p is at '<'. */
static const char *mw_smime_angle_addr(const char *p,
				       struct mw_smime_from_out *out)
{
	if ((p = mw_smime_cfws(p + 1)) == NULL)
		return NULL;
	if (*p == '@' || *p == ',') {
		while (*p != ':' && *p != '\0' && *p != '>' && *p != '"')
			p++;
		if (*p != ':' || (p = mw_smime_cfws(p + 1)) == NULL)
			return NULL;
	}
	if ((p = mw_smime_addr_spec(p, out)) == NULL || *p != '>')
		return NULL;
	return mw_smime_cfws(p + 1);
}

int mw_smime_from_address(const char *value, char *buf, size_t size,
			  const char **error_r)
{
	struct mw_smime_from_out out = { .buf = buf, .size = size };
	const char *p = mw_smime_cfws(value), *q;

	*error_r = "From holds no address";
	if (size == 0)
		return -1;
	buf[0] = '\0';
	if (p == NULL)
		return -1;
	/* name-addr: a display name (words and dots, obs-phrase) then
	   "<"; a group has ":" where the "<" would be. */
	q = p;
	for (;;) {
		const char *end = mw_smime_word(q);

		if (end == q && *q == '.')
			end = q + 1;
		if (end == q)
			break;
		if ((q = mw_smime_cfws(end)) == NULL)
			return -1;
	}
	if (*q == ':') {
		*error_r = "From is a group";
		return -1;
	}
	if (*q == '<')
		p = mw_smime_angle_addr(q, &out);
	else
		p = mw_smime_addr_spec(p, &out);
	if (p != NULL && *p == ',') {
		*error_r = "From lists several mailboxes";
		return -1;
	}
	if (p == NULL || *p != '\0' || out.overflow || out.len == 0)
		return -1;
	return 0;
}
