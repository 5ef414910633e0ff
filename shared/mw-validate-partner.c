/* Partner settings that need more than one value parser: outbound_match,
   checked against outbound_tls and written as Postfix's TLS policy table
   takes it. */

#include "mw-validator.h"
#include "mw-arena.h"
#include "mw-match.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

const struct mw_keyword mw_tls_required_no_keywords[] = {
	{ "reject", MW_TLS_REQUIRED_NO_REJECT },
	{ "remove", MW_TLS_REQUIRED_NO_REMOVE },
	{ NULL, 0 }
};

/* A certificate fingerprint as Postfix writes it: hex byte pairs joined
   by ':' (SHA-1 to SHA-512). */
static bool mw_is_fingerprint(const char *s, size_t len)
{
	size_t i, bytes = 0;

	for (i = 0; i < len; i += 3) {
		if (i + 2 > len || !isxdigit((unsigned char)s[i]) ||
		    !isxdigit((unsigned char)s[i + 1]) ||
		    (i + 2 < len && s[i + 2] != ':'))
			return false;
		bytes++;
	}
	return bytes >= 20 && bytes <= 64;
}

/* One match entry for the "secure" and "verify" levels: a strategy
   keyword, a host name, or ".domain" for its subdomains. */
static bool mw_is_name_match(const char *s, size_t len)
{
	char name[256];

	if (len == 0 || len >= sizeof(name))
		return false;
	memcpy(name, s, len);
	name[len] = '\0';
	if (strcmp(name, "hostname") == 0 || strcmp(name, "nexthop") == 0 ||
	    strcmp(name, "dot-nexthop") == 0)
		return true;
	return mw_hostname_is_valid(name[0] == '.' ? name + 1 : name);
}

static const struct mw_ast_node *
mw_find_assignment(const struct mw_ast_node *block, const char *key)
{
	const struct mw_ast_node *child;

	for (child = block->children; child != NULL; child = child->next) {
		if (child->kind == MW_AST_ASSIGN &&
		    strcmp(child->words[0].text, key) == 0)
			return child;
	}
	return NULL;
}

void mw_validate_outbound_match(struct mw_validator *v,
				const struct mw_ast_node *block,
				struct mw_partner *partner)
{
	const struct mw_ast_node *node = mw_find_assignment(block, "outbound_match");
	bool fingerprints;
	char *joined, sep;
	size_t size = 1, len = 0;
	unsigned int i;

	partner->outbound_match = NULL;
	if (node == NULL)
		return;
	if (node->word_count < 2) {
		mw_validator_node_error(v, node, "outbound_match needs a value");
		return;
	}
	if (strcmp(partner->outbound_tls, "fingerprint") == 0) {
		fingerprints = true;
		sep = '|';
	} else if (strcmp(partner->outbound_tls, "secure") == 0 ||
		   strcmp(partner->outbound_tls, "verify") == 0) {
		fingerprints = false;
		sep = ':';
	} else {
		mw_validator_node_error(v, node,
			"outbound_match does not apply to outbound_tls = %s "
			"(only to secure, verify and fingerprint)",
			partner->outbound_tls);
		return;
	}
	for (i = 1; i < node->word_count; i++)
		size += strlen(node->words[i].text) + 1;
	joined = mw_arena_alloc(v->arena, size);

	/* Words, each split at white space, ',' and (names only) ':' or
	   (fingerprints only) '|': one entry per piece. */
	for (i = 1; i < node->word_count; i++) {
		const struct mw_ast_word *word = &node->words[i];
		const char *p = word->text;

		while (*p != '\0') {
			const char *seps = fingerprints ? " \t,|" : " \t,:";
			size_t n;

			p += strspn(p, seps);
			n = strcspn(p, seps);
			if (n == 0)
				break;
			if (fingerprints ? !mw_is_fingerprint(p, n) :
			    !mw_is_name_match(p, n)) {
				mw_validator_word_error(v, node, word,
					fingerprints ?
					"'%.*s' is not a certificate fingerprint (hex bytes joined by ':')" :
					"'%.*s' is not a host name, .domain, hostname, nexthop or dot-nexthop",
					(int)n, p);
				return;
			}
			if (len > 0)
				joined[len++] = sep;
			memcpy(joined + len, p, n);
			len += n;
			p += n;
		}
	}
	joined[len] = '\0';
	if (len == 0) {
		mw_validator_node_error(v, node, "outbound_match needs a value");
		return;
	}
	partner->outbound_match = joined;
}

int mw_value_fingerprints(struct mw_validator *v, const struct mw_ast_node *node,
			  const char *const **values_r)
{
	const char *const *words;
	const char **values;
	unsigned int i, j;

	if (mw_value_list(v, node, &words) < 0)
		return -1;
	values = MW_ARENA_NEW(v->arena, const char *, node->word_count);
	for (i = 0; words[i] != NULL; i++) {
		char *fp;

		if (!mw_is_fingerprint(words[i], strlen(words[i]))) {
			mw_validator_word_error(v, node, &node->words[i + 1],
				"'%s' is not a certificate fingerprint (hex bytes joined by ':', as openssl x509 -fingerprint prints)",
				words[i]);
			return -1;
		}
		fp = mw_arena_strdup(v->arena, words[i]);
		for (j = 0; fp[j] != '\0'; j++)
			fp[j] = (char)toupper((unsigned char)fp[j]);
		values[i] = fp;
	}
	*values_r = values;
	return 0;
}
