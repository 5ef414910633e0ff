/* Mail addresses by the RFC 5321 and RFC 5322 grammars, and canonical
   domains.  See mw-mailaddr.h. */

#include "mw-mailaddr.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

/* RFC 5322 atext, plus UTF-8 bytes (RFC 6532). */
static bool mw_is_atext(unsigned char c)
{
	/* (strchr() would find the terminating NUL) */
	return isalnum(c) || c >= 0x80 ||
		(c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* --- domains ------------------------------------------------------------- */

static bool mw_domain_ascii_valid(const char *domain, size_t len)
{
	size_t i, label = 0;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)domain[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

int mw_mailaddr_domain_canon(const char *domain, size_t len, char *buf,
			     size_t size, const char **error_r)
{
	bool ascii = true;
	size_t i;

	if (len > 0 && domain[len - 1] == '.')
		len--;
	for (i = 0; i < len; i++) {
		if ((unsigned char)domain[i] >= 0x80)
			ascii = false;
		else if (domain[i] == '\0')
			len = i;
	}
	if (!ascii) {
		/* UTS #46 non-transitional mapping (case folding, NFC) then
		   IDNA2008: the form DNS and the policy file use. */
		char *input, *output;
		int ret;

		input = strndup(domain, len);
		if (input == NULL) {
			*error_r = "out of memory";
			return -1;
		}
		ret = idn2_to_ascii_8z(input, &output,
				       IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
		free(input);
		if (ret != IDN2_OK) {
			*error_r = "invalid internationalised domain name";
			return -1;
		}
		len = strlen(output);
		if (len >= size) {
			idn2_free(output);
			*error_r = "domain name too long";
			return -1;
		}
		memcpy(buf, output, len + 1);
		idn2_free(output);
		domain = buf;
	} else if (len >= size) {
		*error_r = "domain name too long";
		return -1;
	}
	if (!mw_domain_ascii_valid(domain, len)) {
		*error_r = "invalid domain name";
		return -1;
	}
	for (i = 0; i < len; i++)
		buf[i] = (char)tolower((unsigned char)domain[i]);
	buf[len] = '\0';
	return 0;
}

/* Builds *addr_r from a local part and a domain (either may be empty
   when absent). */
static int mw_mailaddr_build(const char *local, size_t local_len,
			     const char *domain, size_t domain_len,
			     struct mw_mailaddr *addr_r, const char **error_r)
{
	char canon[MW_MAILADDR_DOMAIN_MAX];
	size_t canon_len = 0;
	char *addr;

	if (domain != NULL) {
		if (*domain == '[') {
			/* An address literal: kept as written. */
			if (domain_len >= sizeof(canon)) {
				*error_r = "address literal too long";
				return -1;
			}
			memcpy(canon, domain, domain_len);
			canon[domain_len] = '\0';
		} else if (mw_mailaddr_domain_canon(domain, domain_len, canon,
						    sizeof(canon), error_r) < 0) {
			return -1;
		}
		canon_len = strlen(canon);
	}
	addr = malloc(local_len + 1 + canon_len + 1);
	if (addr == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	memcpy(addr, local, local_len);
	if (domain != NULL) {
		addr[local_len] = '@';
		memcpy(addr + local_len + 1, canon, canon_len + 1);
		addr_r->domain = addr + local_len + 1;
	} else {
		addr[local_len] = '\0';
	}
	addr_r->addr = addr;
	return 0;
}

/* --- RFC 5321 paths -------------------------------------------------------- */

/* A Dot-string or Quoted-string local part at *p; advances *p. */
static int mw_path_local(const char **p, const char *end, bool *quoted_r)
{
	const char *s = *p;

	*quoted_r = false;
	if (s < end && *s == '"') {
		*quoted_r = true;
		for (s++; s < end && *s != '"'; s++) {
			if (*s == '\\') {
				s++;
				if (s >= end || (unsigned char)*s < 0x20 || *s == 0x7f)
					return -1;
			} else if ((unsigned char)*s < 0x20 || *s == 0x7f) {
				return -1;
			}
		}
		if (s >= end)
			return -1;
		*p = s + 1;
		return 0;
	}
	/* Atom *("." Atom) */
	for (;;) {
		const char *atom = s;

		while (s < end && mw_is_atext((unsigned char)*s))
			s++;
		if (s == atom)
			return -1;
		if (s < end && *s == '.') {
			s++;
			continue;
		}
		break;
	}
	*p = s;
	return 0;
}

/* A domain or an address literal at p, up to end. */
static bool mw_path_domain_ok(const char *p, const char *end)
{
	if (p >= end)
		return false;
	if (*p == '[') {
		for (p++; p < end - 1; p++) {
			if ((unsigned char)*p <= 0x20 || *p == '[' ||
			    *p == ']' || *p == '\\' || *p == 0x7f)
				return false;
		}
		return p < end && *p == ']';
	}
	for (; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (!(isalnum(c) || c == '-' || c == '.' || c == '_' || c >= 0x80))
			return false;
	}
	return true;
}

/* The last '%' of an unquoted local part, or NULL. */
static const char *mw_path_last_percent(const char *local, size_t len)
{
	while (len > 0) {
		if (local[--len] == '%')
			return local + len;
	}
	return NULL;
}

int mw_mailaddr_parse_path(const char *text, unsigned int flags,
			   struct mw_mailaddr *addr_r, const char **error_r)
{
	const char *p = text, *end = text + strlen(text);
	const char *local, *domain = NULL;
	size_t local_len, domain_len = 0;
	bool quoted;

	addr_r->addr = NULL;
	addr_r->domain = NULL;
	if (*p == '<') {
		if (end == p + 1 || end[-1] != '>') {
			*error_r = "unbalanced angle brackets";
			return -1;
		}
		p++;
		end--;
	}
	if (p == end)
		return mw_mailaddr_build("", 0, NULL, 0, addr_r, error_r);

	/* A-d-l ":" : at-domains, dropped */
	if (*p == '@') {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		const char *d;

		if (colon == NULL) {
			*error_r = "source route without ':'";
			return -1;
		}
		for (d = p; d < colon;) {
			const char *next = memchr(d, ',', (size_t)(colon - d));

			if (next == NULL)
				next = colon;
			if (*d != '@' || !mw_path_domain_ok(d + 1, next)) {
				*error_r = "invalid source route";
				return -1;
			}
			d = next < colon ? next + 1 : colon;
		}
		p = colon + 1;
	}

	local = p;
	if (mw_path_local(&p, end, &quoted) < 0) {
		*error_r = "invalid local part";
		return -1;
	}
	local_len = (size_t)(p - local);
	if (p < end) {
		if (*p != '@') {
			*error_r = "unexpected character after the local part";
			return -1;
		}
		domain = p + 1;
		domain_len = (size_t)(end - domain);
		if (!mw_path_domain_ok(domain, end)) {
			*error_r = "invalid domain";
			return -1;
		}
	} else if ((flags & MW_MAILADDR_POSTFIX_REWRITE) != 0 && !quoted) {
		/* Postfix's order: the first '!' ("host!user"), else the
		   last '%' ("user%host"). */
		const char *bang = memchr(local, '!', local_len);
		const char *percent = mw_path_last_percent(local, local_len);

		if (bang != NULL) {
			const char *user = bang + 1;
			size_t user_len = local_len - (size_t)(user - local);

			if (user_len == 0 || bang == local) {
				*error_r = "invalid bang path";
				return -1;
			}
			return mw_mailaddr_build(user, user_len, local,
						 (size_t)(bang - local),
						 addr_r, error_r);
		}
		if (percent != NULL) {
			domain = percent + 1;
			domain_len = local_len - (size_t)(domain - local);
			local_len = (size_t)(percent - local);
			if (local_len == 0 || domain_len == 0) {
				*error_r = "invalid percent-hack address";
				return -1;
			}
		}
	}
	return mw_mailaddr_build(local, local_len, domain, domain_len,
				 addr_r, error_r);
}

/* --- RFC 5322 header mailboxes --------------------------------------------- */

/* Skips CFWS: white space, folding and (nested) comments.  Returns -1 for
   an unterminated comment. */
static int mw_hdr_skip_cfws(const char **p)
{
	const char *s = *p;

	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (*s != '(')
			break;
		{
			unsigned int depth = 0;

			do {
				if (*s == '\0')
					return -1;
				if (*s == '\\' && s[1] != '\0')
					s++;
				else if (*s == '(')
					depth++;
				else if (*s == ')')
					depth--;
				s++;
			} while (depth > 0);
		}
	}
	*p = s;
	return 0;
}

/* A quoted-string at *p (on the opening quote): copies it, quotes
   included, to out when out is not NULL.  Returns its length or -1. */
static int mw_hdr_quoted(const char **p, char *out, size_t *out_len)
{
	const char *s = *p + 1;

	if (out != NULL)
		out[(*out_len)++] = '"';
	for (; *s != '"'; s++) {
		if (*s == '\0')
			return -1;
		if (*s == '\\') {
			if (s[1] == '\0')
				return -1;
			if (out != NULL)
				out[(*out_len)++] = *s;
			s++;
		} else if (*s == '\r' || *s == '\n') {
			continue;	/* folding inside the quotes */
		}
		if (out != NULL)
			out[(*out_len)++] = *s;
	}
	if (out != NULL)
		out[(*out_len)++] = '"';
	*p = s + 1;
	return 0;
}

/* addr-spec = local-part "@" domain, with CFWS around the words, which
   the result drops.  Writes the local part to local (size >= strlen of
   the input + 1) and points *domain_r, *domain_len_r at the domain. */
static int mw_hdr_addr_spec(const char **p, char *local, size_t *local_len,
			    const char **domain_r, size_t *domain_len_r,
			    const char **error_r)
{
	const char *s = *p, *d;

	*local_len = 0;
	for (;;) {
		if (mw_hdr_skip_cfws(&s) < 0)
			goto bad_comment;
		if (*s == '"') {
			if (mw_hdr_quoted(&s, local, local_len) < 0) {
				*error_r = "unterminated quoted string";
				return -1;
			}
		} else {
			const char *atom = s;

			while (mw_is_atext((unsigned char)*s))
				s++;
			if (s == atom) {
				*error_r = "invalid local part";
				return -1;
			}
			memcpy(local + *local_len, atom, (size_t)(s - atom));
			*local_len += (size_t)(s - atom);
		}
		if (mw_hdr_skip_cfws(&s) < 0)
			goto bad_comment;
		if (*s != '.')
			break;
		local[(*local_len)++] = '.';
		s++;
	}
	if (*s != '@') {
		*error_r = "no '@' in the address";
		return -1;
	}
	s++;
	if (mw_hdr_skip_cfws(&s) < 0)
		goto bad_comment;
	d = s;
	if (*s == '[') {
		while (*s != '\0' && *s != ']')
			s++;
		if (*s != ']') {
			*error_r = "unterminated address literal";
			return -1;
		}
		s++;
		*domain_r = d;
		*domain_len_r = (size_t)(s - d);
	} else {
		/* dot-atom; CFWS between labels is obsolete syntax and
		   refused rather than guessed at. */
		while (isalnum((unsigned char)*s) || *s == '-' || *s == '.' ||
		       *s == '_' || (unsigned char)*s >= 0x80)
			s++;
		if (s == d) {
			*error_r = "invalid domain";
			return -1;
		}
		*domain_r = d;
		*domain_len_r = (size_t)(s - d);
	}
	if (mw_hdr_skip_cfws(&s) < 0)
		goto bad_comment;
	*p = s;
	return 0;
bad_comment:
	*error_r = "unterminated comment";
	return -1;
}

/* Skips a display name: words (atoms, quoted strings) and CFWS up to
   '<'.  Returns 0 with *p on '<', or 1 if there is no '<' (a bare
   addr-spec), or -1. */
static int mw_hdr_display_name(const char **p)
{
	const char *s = *p;

	for (;;) {
		if (mw_hdr_skip_cfws(&s) < 0)
			return -1;
		if (*s == '<') {
			*p = s;
			return 0;
		}
		if (*s == '"') {
			if (mw_hdr_quoted(&s, NULL, NULL) < 0)
				return -1;
		} else if (mw_is_atext((unsigned char)*s) || *s == '.') {
			/* obs-phrase allows '.' */
			s++;
		} else {
			return 1;
		}
	}
}

int mw_mailaddr_parse_header(const char *value, struct mw_mailaddr *addr_r,
			     const char **error_r)
{
	const char *p = value, *domain;
	size_t local_len, domain_len;
	char *local;
	int ret;

	addr_r->addr = NULL;
	addr_r->domain = NULL;
	local = malloc(strlen(value) + 1);
	if (local == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	ret = mw_hdr_display_name(&p);
	if (ret < 0) {
		*error_r = "malformed display name";
		goto fail;
	}
	if (ret == 0) {
		/* angle-addr: "<" [obs-route] addr-spec ">" */
		p++;
		if (mw_hdr_skip_cfws(&p) < 0) {
			*error_r = "unterminated comment";
			goto fail;
		}
		if (*p == '@') {
			const char *colon = strchr(p, ':');
			const char *close = strchr(p, '>');

			if (colon == NULL || (close != NULL && close < colon)) {
				*error_r = "invalid source route";
				goto fail;
			}
			p = colon + 1;
		}
		if (mw_hdr_addr_spec(&p, local, &local_len, &domain,
				     &domain_len, error_r) < 0)
			goto fail;
		if (*p != '>') {
			*error_r = "expected '>'";
			goto fail;
		}
		p++;
		if (mw_hdr_skip_cfws(&p) < 0) {
			*error_r = "unterminated comment";
			goto fail;
		}
	} else {
		p = value;
		if (mw_hdr_addr_spec(&p, local, &local_len, &domain,
				     &domain_len, error_r) < 0)
			goto fail;
	}
	if (*p == ',' || *p == ';' || *p == ':') {
		*error_r = "more than one mailbox, or a group";
		goto fail;
	}
	if (*p != '\0') {
		*error_r = "unexpected text after the address";
		goto fail;
	}
	ret = mw_mailaddr_build(local, local_len, domain, domain_len,
				addr_r, error_r);
	free(local);
	return ret;
fail:
	free(local);
	return -1;
}

void mw_mailaddr_free(struct mw_mailaddr *addr)
{
	free(addr->addr);
	addr->addr = NULL;
	addr->domain = NULL;
}
