/* The validator: gives meaning to the parsed file.  Sections, keys and
   values are checked here, every problem is reported with its place, and
   the policy is built only from a file with no error at all. */

#include "mw-validator.h"
#include "mw-arena.h"
#include "mw-match.h"
#include "mw-util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MW_DNS_TIMEOUT_MAX_MSECS (5 * 60 * 1000)
#define MW_DNS_TTL_MAX_MSECS (7 * 24 * 3600 * 1000U)
#define MW_DNS_CACHE_SIZE_MAX 10000000

const struct mw_keyword mw_action_keywords[] = {
	{ "allow", MW_ACTION_ALLOW }, { "deny", MW_ACTION_DENY }, { NULL, 0 }
};
const struct mw_keyword mw_requirement_keywords[] = {
	{ "optional", MW_OPTIONAL }, { "required", MW_REQUIRED }, { NULL, 0 }
};
const struct mw_keyword mw_cleartext_keywords[] = {
	{ "never", MW_CLEARTEXT_NEVER }, { "tls-only", MW_CLEARTEXT_TLS_ONLY },
	{ "always", MW_CLEARTEXT_ALWAYS }, { NULL, 0 }
};
const struct mw_keyword mw_partners_keywords[] = {
	{ "ignore", MW_PARTNERS_IGNORE }, { "enforce", MW_PARTNERS_ENFORCE },
	{ NULL, 0 }
};
const struct mw_keyword mw_yes_no_keywords[] = {
	{ "no", 0 }, { "yes", 1 }, { NULL, 0 }
};
const struct mw_keyword mw_on_error_keywords[] = {
	{ "tempfail", MW_ON_ERROR_TEMPFAIL }, { "deny", MW_ON_ERROR_DENY },
	{ "allow", MW_ON_ERROR_ALLOW }, { "no-match", MW_ON_ERROR_NO_MATCH },
	{ NULL, 0 }
};
const struct mw_keyword mw_partner_on_fail_keywords[] = {
	{ "reject", MW_PARTNER_REJECT }, { "tempfail", MW_PARTNER_TEMPFAIL },
	{ NULL, 0 }
};
const struct mw_keyword mw_smime_sign_keywords[] = {
	{ "off", MW_SMIME_SIGN_OFF }, { "authenticated", MW_SMIME_SIGN_AUTHENTICATED },
	{ NULL, 0 }
};
const struct mw_keyword mw_smime_on_error_keywords[] = {
	{ "pass", MW_SMIME_ON_ERROR_PASS }, { "tempfail", MW_SMIME_ON_ERROR_TEMPFAIL },
	{ NULL, 0 }
};

/* Postfix's smtp_tls_security_level values that authenticate or at least
   encrypt; "none" and "may" would defeat a partner agreement. */
static const char *const mw_outbound_levels[] = {
	"encrypt", "dane", "dane-only", "fingerprint", "verify", "secure", NULL
};
static const char *const mw_smime_digests[] = {
	"sha256", "sha384", "sha512", NULL
};

const char *mw_keyword_name(const struct mw_keyword *table, int value)
{
	for (; table->name != NULL; table++) {
		if (table->value == value)
			return table->name;
	}
	return "?";
}

void mw_validator_error(struct mw_validator *v, const char *file,
			unsigned int line, unsigned int column,
			const char *fmt, ...)
{
	va_list args;
	char *message;

	va_start(args, fmt);
	if (vasprintf(&message, fmt, args) < 0)
		mw_fatal("out of memory");
	va_end(args);
	mw_diag_error(v->diags, file, line, column, "%s", message);
	free(message);
	v->failed = true;
}

const char *mw_closest(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	unsigned int best_dist = 3, dist;

	for (; candidates != NULL && *candidates != NULL; candidates++) {
		dist = mw_edit_distance(word, *candidates);
		if (dist < best_dist) {
			best_dist = dist;
			best = *candidates;
		}
	}
	return best;
}

void mw_validator_unknown(struct mw_validator *v, const struct mw_ast_node *node,
			  const struct mw_ast_word *word, const char *what,
			  const char *const *candidates)
{
	const char *best = mw_closest(word->text, candidates);

	if (best != NULL) {
		mw_validator_word_error(v, node, word,
			"unknown %s '%s'; did you mean '%s'?", what, word->text, best);
	} else {
		mw_validator_word_error(v, node, word, "unknown %s '%s'",
					what, word->text);
	}
}

bool mw_seen_keys_add(struct mw_validator *v, struct mw_seen_keys *seen,
		      const struct mw_ast_node *node)
{
	unsigned int i;

	for (i = 0; i < seen->count; i++) {
		if (strcmp(seen->nodes[i]->words[0].text, node->words[0].text) == 0) {
			mw_validator_node_error(v, node,
				"%s is already set at line %u",
				node->words[0].text, seen->nodes[i]->line);
			return false;
		}
	}
	if (seen->count < MW_N_ELEMENTS(seen->nodes))
		seen->nodes[seen->count++] = node;
	return true;
}

/* --- values ------------------------------------------------------------ */

static int mw_value_one(struct mw_validator *v, const struct mw_ast_node *node,
			const struct mw_ast_word **word_r)
{
	if (node->word_count < 2) {
		mw_validator_node_error(v, node, "%s needs a value",
					node->words[0].text);
		return -1;
	}
	if (node->word_count > 2) {
		mw_validator_word_error(v, node, &node->words[2],
			"%s takes one value, found also '%s'",
			node->words[0].text, node->words[2].text);
		return -1;
	}
	*word_r = &node->words[1];
	return 0;
}

static void mw_keyword_expected(const struct mw_keyword *table, char *buf,
				size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (; table->name != NULL && len < size; table++) {
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
			len == 0 ? "" : (table[1].name == NULL ? " or " : ", "),
			table->name);
	}
}

int mw_value_keyword(struct mw_validator *v, const struct mw_ast_node *node,
		     const struct mw_keyword *table, int *value_r)
{
	const struct mw_ast_word *word;
	const struct mw_keyword *kw;
	char expected[MW_ERROR_SIZE];

	if (mw_value_one(v, node, &word) < 0)
		return -1;
	for (kw = table; kw->name != NULL; kw++) {
		if (strcmp(kw->name, word->text) == 0) {
			*value_r = kw->value;
			return 0;
		}
	}
	mw_keyword_expected(table, expected, sizeof(expected));
	mw_validator_word_error(v, node, word,
		"invalid value '%s' for %s: expected %s",
		word->text, node->words[0].text, expected);
	return -1;
}

static int mw_parse_uint64(const char *str, const char **end_r, uint64_t *value_r)
{
	uint64_t value = 0;

	if (!isdigit((unsigned char)*str))
		return -1;
	for (; isdigit((unsigned char)*str); str++) {
		if (value > (UINT64_MAX - 9) / 10)
			return -1;
		value = value * 10 + (uint64_t)(*str - '0');
	}
	*end_r = str;
	*value_r = value;
	return 0;
}

int mw_value_uint(struct mw_validator *v, const struct mw_ast_node *node,
		  unsigned int max, unsigned int *value_r)
{
	const struct mw_ast_word *word;
	const char *end;
	uint64_t value;

	if (mw_value_one(v, node, &word) < 0)
		return -1;
	if (mw_parse_uint64(word->text, &end, &value) < 0 || *end != '\0') {
		mw_validator_word_error(v, node, word,
			"%s must be a number, found '%s'",
			node->words[0].text, word->text);
		return -1;
	}
	if (value > max) {
		mw_validator_word_error(v, node, word,
			"%s must be at most %u, found %s",
			node->words[0].text, max, word->text);
		return -1;
	}
	*value_r = (unsigned int)value;
	return 0;
}

int mw_value_duration_msecs(struct mw_validator *v,
			    const struct mw_ast_node *node,
			    unsigned int max_msecs, unsigned int *value_r)
{
	static const struct { const char *suffix; uint64_t msecs; } units[] = {
		{ "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000 },
		{ "h", 3600 * 1000 }, { "d", 24 * 3600 * 1000 },
	};
	const struct mw_ast_word *word;
	const char *end;
	uint64_t value;
	unsigned int i;

	if (mw_value_one(v, node, &word) < 0)
		return -1;
	if (mw_parse_uint64(word->text, &end, &value) == 0) {
		for (i = 0; i < MW_N_ELEMENTS(units); i++) {
			if (strcmp(end, units[i].suffix) != 0)
				continue;
			if (value > max_msecs / units[i].msecs) {
				mw_validator_word_error(v, node, word,
					"%s is too long (at most %us)",
					node->words[0].text, max_msecs / 1000);
				return -1;
			}
			*value_r = (unsigned int)(value * units[i].msecs);
			return 0;
		}
	}
	mw_validator_word_error(v, node, word,
		"%s must be a time such as 500ms, 3s, 15m or 1h, found '%s'",
		node->words[0].text, word->text);
	return -1;
}

int mw_value_size(struct mw_validator *v, const struct mw_ast_node *node,
		  size_t *value_r)
{
	static const struct { const char *suffix; uint64_t mult; } units[] = {
		{ "", 1 }, { "k", 1024 }, { "K", 1024 }, { "M", 1024 * 1024 },
		{ "G", 1024 * 1024 * 1024 },
	};
	const struct mw_ast_word *word;
	const char *end;
	uint64_t value;
	unsigned int i;

	if (mw_value_one(v, node, &word) < 0)
		return -1;
	if (mw_parse_uint64(word->text, &end, &value) == 0) {
		for (i = 0; i < MW_N_ELEMENTS(units); i++) {
			if (strcmp(end, units[i].suffix) == 0 &&
			    value <= SIZE_MAX / units[i].mult) {
				*value_r = (size_t)(value * units[i].mult);
				return 0;
			}
		}
	}
	mw_validator_word_error(v, node, word,
		"%s must be a size such as 65536, 512k or 1M, found '%s'",
		node->words[0].text, word->text);
	return -1;
}

int mw_value_string(struct mw_validator *v, const struct mw_ast_node *node,
		    const char **value_r)
{
	const struct mw_ast_word *word;

	if (mw_value_one(v, node, &word) < 0)
		return -1;
	*value_r = word->text;
	return 0;
}

int mw_value_path(struct mw_validator *v, const struct mw_ast_node *node,
		  const char **value_r)
{
	const char *value;
	char *path;

	if (mw_value_string(v, node, &value) < 0)
		return -1;
	path = mw_path_relative_to(node->file, value);
	*value_r = mw_arena_strdup(v->arena, path);
	free(path);
	return 0;
}

int mw_value_list(struct mw_validator *v, const struct mw_ast_node *node,
		  const char *const **values_r)
{
	const char **values;
	unsigned int i;

	if (node->word_count < 2) {
		mw_validator_node_error(v, node, "%s needs at least one value",
					node->words[0].text);
		return -1;
	}
	values = MW_ARENA_NEW(v->arena, const char *, node->word_count);
	for (i = 1; i < node->word_count; i++)
		values[i - 1] = node->words[i].text;
	*values_r = values;
	return 0;
}

static int mw_value_one_of(struct mw_validator *v, const struct mw_ast_node *node,
			   const char *const *allowed, const char **value_r)
{
	const char *value;
	unsigned int i;

	if (mw_value_string(v, node, &value) < 0)
		return -1;
	char expected[MW_ERROR_SIZE];
	size_t len = 0;

	for (i = 0; allowed[i] != NULL; i++) {
		if (strcmp(allowed[i], value) == 0) {
			*value_r = allowed[i];
			return 0;
		}
		len += (size_t)snprintf(expected + len, sizeof(expected) - len, "%s%s",
					i == 0 ? "" : allowed[i + 1] == NULL ? " or " : ", ",
					allowed[i]);
	}
	mw_validator_word_error(v, node, &node->words[1],
		"invalid value '%s' for %s: expected %s",
		value, node->words[0].text, expected);
	return -1;
}

/* --- sections ---------------------------------------------------------- */

/* Walks the assignments of a simple section, calling handle for each
   key that is in keys[], and reports everything else. */
typedef int mw_key_handler_t(struct mw_validator *v, const struct mw_ast_node *node,
			     void *context);

static void mw_validate_assignments(struct mw_validator *v,
				    const struct mw_ast_node *block,
				    const char *section, const char *const *keys,
				    mw_key_handler_t *handle, void *context)
{
	struct mw_seen_keys seen = { .count = 0 };
	const struct mw_ast_node *child;
	char what[64];
	unsigned int i;

	snprintf(what, sizeof(what), "%s setting", section);
	for (child = block->children; child != NULL; child = child->next) {
		/* smime { ldap { } }: mw_validate_smime_blocks() */
		if (child->kind == MW_AST_BLOCK && strcmp(section, "smime") == 0 &&
		    strcmp(child->words[0].text, "ldap") == 0)
			continue;
		if (child->kind != MW_AST_ASSIGN) {
			mw_validator_node_error(v, child,
				"expected 'key = value' in the %s section, found '%s'",
				section, child->words[0].text);
			continue;
		}
		for (i = 0; keys[i] != NULL; i++) {
			if (strcmp(keys[i], child->words[0].text) == 0)
				break;
		}
		if (keys[i] == NULL) {
			mw_validator_unknown(v, child, &child->words[0], what, keys);
			continue;
		}
		if (mw_seen_keys_add(v, &seen, child))
			(void)handle(v, child, context);
	}
}

static const char *const mw_dns_keys[] = {
	"timeout", "cache_ttl", "negative_ttl", "cache_size", "on_error", NULL
};

static int mw_dns_setting(struct mw_validator *v, const struct mw_ast_node *node,
			  void *context)
{
	struct mw_dns_settings *dns = context;
	const char *key = node->words[0].text;
	unsigned int msecs;
	int value;

	if (strcmp(key, "timeout") == 0) {
		if (mw_value_duration_msecs(v, node, MW_DNS_TIMEOUT_MAX_MSECS, &msecs) < 0)
			return -1;
		if (msecs == 0) {
			mw_validator_word_error(v, node, &node->words[1],
						"timeout must be more than 0");
			return -1;
		}
		dns->timeout_msecs = msecs;
	} else if (strcmp(key, "cache_ttl") == 0 || strcmp(key, "negative_ttl") == 0) {
		if (mw_value_duration_msecs(v, node, MW_DNS_TTL_MAX_MSECS, &msecs) < 0)
			return -1;
		if (key[0] == 'c')
			dns->cache_ttl_secs = msecs / 1000;
		else
			dns->negative_ttl_secs = msecs / 1000;
	} else if (strcmp(key, "cache_size") == 0) {
		return mw_value_uint(v, node, MW_DNS_CACHE_SIZE_MAX, &dns->cache_size);
	} else {
		if (mw_value_keyword(v, node, mw_on_error_keywords, &value) < 0)
			return -1;
		dns->on_error = (enum mw_on_error)value;
	}
	return 0;
}

static const char *const mw_partner_keys[] = {
	"cert_cn", "issuer_cn", "on_fail", "outbound_tls", "outbound_match",
	"tls_required_no", "cert_fingerprint", NULL
};

static int mw_partner_setting(struct mw_validator *v, const struct mw_ast_node *node,
			      void *context)
{
	struct mw_partner *partner = context;
	const char *key = node->words[0].text;
	int value;

	if (strcmp(key, "cert_cn") == 0)
		return mw_value_list(v, node, &partner->cert_cn);
	if (strcmp(key, "issuer_cn") == 0)
		return mw_value_list(v, node, &partner->issuer_cn);
	if (strcmp(key, "outbound_tls") == 0)
		return mw_value_one_of(v, node, mw_outbound_levels, &partner->outbound_tls);
	if (strcmp(key, "outbound_match") == 0)
		return 0;	/* mw_validate_outbound_match() */
	if (strcmp(key, "cert_fingerprint") == 0)
		return mw_value_fingerprints(v, node, &partner->cert_fingerprint);
	if (strcmp(key, "tls_required_no") == 0) {
		if (mw_value_keyword(v, node, mw_tls_required_no_keywords, &value) < 0)
			return -1;
		partner->tls_required_no = (enum mw_tls_required_no)value;
		return 0;
	}
	if (mw_value_keyword(v, node, mw_partner_on_fail_keywords, &value) < 0)
		return -1;
	partner->on_fail = (enum mw_partner_on_fail)value;
	return 0;
}

static const char *const mw_smime_keys[] = {
	"sign", "keytable", "sender_map", "digest", "on_error",
	"spool_threshold", "tmpdir", "services",
	/* encryption: mw-validate-smime-enc.c */
	"encrypt", "encrypt_services", "certificates", "trust", "cipher",
	"rsa_padding", "on_lookup_error", NULL
};

static int mw_smime_setting(struct mw_validator *v, const struct mw_ast_node *node,
			    void *context)
{
	struct mw_smime_settings *smime = context;
	const char *key = node->words[0].text;
	int value;

	if (mw_smime_enc_is_key(key))
		return mw_smime_enc_setting(v, node, &smime->enc);
	if (strcmp(key, "keytable") == 0)
		return mw_value_path(v, node, &smime->keytable);
	if (strcmp(key, "sender_map") == 0)
		return mw_value_path(v, node, &smime->sender_map);
	if (strcmp(key, "tmpdir") == 0)
		return mw_value_path(v, node, &smime->tmpdir);
	if (strcmp(key, "digest") == 0)
		return mw_value_one_of(v, node, mw_smime_digests, &smime->digest);
	if (strcmp(key, "spool_threshold") == 0)
		return mw_value_size(v, node, &smime->spool_threshold);
	if (strcmp(key, "services") == 0)
		return mw_value_list(v, node, &smime->services);
	if (strcmp(key, "sign") == 0) {
		if (mw_value_keyword(v, node, mw_smime_sign_keywords, &value) < 0)
			return -1;
		smime->sign = (enum mw_smime_sign)value;
		return 0;
	}
	if (mw_value_keyword(v, node, mw_smime_on_error_keywords, &value) < 0)
		return -1;
	smime->on_error = (enum mw_smime_on_error)value;
	return 0;
}

struct mw_partner_list {
	struct mw_partner *items;
	unsigned int count;
};

static void mw_validate_partner(struct mw_validator *v, struct mw_partner_list *list,
				const struct mw_ast_node *block)
{
	struct mw_partner partner;
	char *domain;
	unsigned int i;

	if (block->word_count != 2) {
		mw_validator_node_error(v, block, "partner takes one domain name");
		return;
	}
	domain = mw_arena_strdup(v->arena, block->words[1].text);
	for (i = 0; domain[i] != '\0'; i++)
		domain[i] = (char)tolower((unsigned char)domain[i]);
	if (!mw_hostname_is_valid(domain)) {
		mw_validator_word_error(v, block, &block->words[1],
			"'%s' is not a domain name", block->words[1].text);
		return;
	}
	for (i = 0; i < list->count; i++) {
		if (strcmp(list->items[i].domain, domain) == 0) {
			mw_validator_node_error(v, block,
				"duplicate partner %s (first at %s:%u)",
				domain, list->items[i].file, list->items[i].line);
			return;
		}
	}

	memset(&partner, 0, sizeof(partner));
	partner.domain = domain;
	partner.on_fail = MW_PARTNER_REJECT;
	partner.outbound_tls = "secure";
	partner.file = block->file;
	partner.line = block->line;
	mw_validate_assignments(v, block, "partner", mw_partner_keys,
				mw_partner_setting, &partner);
	mw_validate_outbound_match(v, block, &partner);
	if (partner.cert_cn == NULL && partner.issuer_cn == NULL) {
		mw_diag_warning(v->diags, block->file, block->line, block->column,
			"partner %s names no cert_cn or issuer_cn: any certificate that Postfix trusts will do",
			domain);
	}
	list->items = mw_xreallocarray(list->items, list->count + 1,
				       sizeof(*list->items));
	list->items[list->count++] = partner;
}

/* Sections that may appear once. */
struct mw_singletons {
	const struct mw_ast_node *dns, *defaults, *smime;
};

static bool mw_validate_once(struct mw_validator *v, const struct mw_ast_node **seen,
			     const struct mw_ast_node *block)
{
	if (*seen != NULL) {
		mw_validator_node_error(v, block,
			"duplicate %s section (first at %s:%u)",
			block->words[0].text, (*seen)->file, (*seen)->line);
		return false;
	}
	*seen = block;
	if (block->word_count > 1) {
		mw_validator_word_error(v, block, &block->words[1],
			"the %s section takes no name, found '%s'",
			block->words[0].text, block->words[1].text);
		return false;
	}
	return true;
}

struct mw_service_decls {
	struct mw_service_decl *items;
	unsigned int count, alloc;
	struct mw_service_body **bodies;
	unsigned int body_count, body_alloc;
};

static void mw_validate_service(struct mw_validator *v, struct mw_service_decls *decls,
				const struct mw_ast_node *block)
{
	struct mw_service_body *body;
	unsigned int i;

	if (block->word_count < 2) {
		mw_validator_node_error(v, block,
			"service needs one or more names, e.g. 'service imap pop3 {'");
		return;
	}
	body = mw_service_body_parse(v, block, false);
	if (decls->body_count == decls->body_alloc) {
		decls->body_alloc = decls->body_alloc == 0 ? 16 : decls->body_alloc * 2;
		decls->bodies = mw_xreallocarray(decls->bodies, decls->body_alloc,
						 sizeof(*decls->bodies));
	}
	decls->bodies[decls->body_count++] = body;

	for (i = 1; i < block->word_count; i++) {
		if (decls->count == decls->alloc) {
			decls->alloc = decls->alloc == 0 ? 16 : decls->alloc * 2;
			decls->items = mw_xreallocarray(decls->items, decls->alloc,
							sizeof(*decls->items));
		}
		decls->items[decls->count].body = body;
		decls->items[decls->count].node = block;
		decls->items[decls->count].name = &block->words[i];
		decls->count++;
	}
}

static int mw_service_decl_cmp(const void *a, const void *b)
{
	const struct mw_service_decl *const *da = a, *const *db = b;
	int cmp = strcmp((*da)->name->text, (*db)->name->text);

	if (cmp != 0)
		return cmp;
	return *da < *db ? -1 : (*da > *db ? 1 : 0);
}

/* Refuses a service name given twice, keeping the first: sorted once,
   so that thousands of services are not compared pair by pair. */
static void mw_service_decls_dedup(struct mw_validator *v,
				   struct mw_service_decls *decls)
{
	struct mw_service_decl **sorted;
	bool *dropped;
	unsigned int i, kept;

	if (decls->count < 2)
		return;
	sorted = mw_xreallocarray(NULL, decls->count, sizeof(*sorted));
	dropped = mw_xcalloc(decls->count, sizeof(*dropped));
	for (i = 0; i < decls->count; i++)
		sorted[i] = &decls->items[i];
	qsort(sorted, decls->count, sizeof(*sorted), mw_service_decl_cmp);
	for (i = 1, kept = 0; i < decls->count; i++) {
		const struct mw_service_decl *first = sorted[kept];

		if (strcmp(first->name->text, sorted[i]->name->text) != 0) {
			kept = i;
			continue;
		}
		mw_validator_word_error(v, sorted[i]->node, sorted[i]->name,
			"duplicate service %s (first at %s:%u)", sorted[i]->name->text,
			first->node->file, first->node->line);
		dropped[sorted[i] - decls->items] = true;
	}
	for (i = 0, kept = 0; i < decls->count; i++) {
		if (!dropped[i])
			decls->items[kept++] = decls->items[i];
	}
	decls->count = kept;
	free(dropped);
	free(sorted);
}

static void mw_policy_set_builtin(struct mw_policy *policy)
{
	policy->dns.timeout_msecs = 3000;
	policy->dns.cache_ttl_secs = 15 * 60;
	policy->dns.negative_ttl_secs = 60;
	policy->dns.cache_size = 10000;
	policy->dns.on_error = MW_ON_ERROR_TEMPFAIL;

	policy->smime.sign = MW_SMIME_SIGN_OFF;
	policy->smime.digest = "sha256";
	policy->smime.on_error = MW_SMIME_ON_ERROR_PASS;
	policy->smime.spool_threshold = 1024 * 1024;
	policy->smime.tmpdir = "/var/tmp";
	mw_smime_enc_set_builtin(&policy->smime.enc);
}

/* Sorted by name, then by the order of the services. */
static int mw_daemon_entry_cmp(const void *a, const void *b)
{
	const struct mw_daemon_entry *ea = a, *eb = b;
	int cmp = strcmp(ea->name, eb->name);

	if (cmp != 0)
		return cmp;
	return ea->service < eb->service ? -1 : (ea->service > eb->service ? 1 : 0);
}

/* One Postfix service must map to one policy service.  The names are
   sorted once, so that thousands of services cost n log n, and the
   sorted table is what the milter searches for each connection. */
static void mw_validate_daemon_names(struct mw_validator *v)
{
	struct mw_policy *policy = v->policy;
	struct mw_daemon_entry *entries;
	unsigned int i, j, count = 0, kept = 0;

	for (i = 0; i < policy->service_count; i++) {
		const char *const *names = policy->services[i].daemon_names;

		for (j = 0; names != NULL && names[j] != NULL; j++)
			count++;
	}
	entries = MW_ARENA_NEW(v->arena, struct mw_daemon_entry, count);
	for (i = 0; i < policy->service_count; i++) {
		const char *const *names = policy->services[i].daemon_names;

		for (j = 0; names != NULL && names[j] != NULL; j++) {
			entries[kept].name = names[j];
			entries[kept].service = &policy->services[i];
			kept++;
		}
	}
	qsort(entries, count, sizeof(*entries), mw_daemon_entry_cmp);

	kept = 0;
	for (i = 0; i < count; i++) {
		const struct mw_daemon_entry *first = kept == 0 ? NULL : &entries[kept - 1];

		if (first != NULL && strcmp(first->name, entries[i].name) == 0) {
			if (first->service != entries[i].service) {
				mw_validator_error(v, entries[i].service->loc.file,
					entries[i].service->loc.line, 0,
					"postfix_daemon_name %s is also given to service %s (at line %u)",
					entries[i].name, first->service->name,
					first->service->loc.line);
			}
			continue;
		}
		entries[kept++] = entries[i];
	}
	policy->daemons = entries;
	policy->daemon_count = kept;
}

static bool mw_service_is_empty(const struct mw_service *svc)
{
	return svc->rule_count == 0 && svc->from_count == 0 &&
		svc->settings.set_mask == 0;
}

/* A file of comments only, or one whose line ends were not seen, loads
   as "allow everyone": say so rather than allow silently. */
static void mw_validate_not_empty(struct mw_validator *v)
{
	const struct mw_policy *policy = v->policy;
	unsigned int i;

	/* After an error the sections are partly missing anyway. */
	if (v->failed || mw_diags_error_count(v->diags) > 0 ||
	    !mw_service_is_empty(&policy->defaults))
		return;
	for (i = 0; i < policy->service_count; i++) {
		if (!mw_service_is_empty(&policy->services[i]))
			return;
	}
	mw_diag_warning(v->diags, policy->path, 0, 0,
		"no rule or setting in any service or defaults section: every client is allowed with the built-in settings");
}

/* smime { services = ... } (or encrypt_services, key) names services the
   policy declares. */
void mw_validate_smime_services(struct mw_validator *v,
				const struct mw_ast_node *smime, const char *key)
{
	const struct mw_policy *policy = v->policy;
	const struct mw_ast_node *child;
	unsigned int i, j;

	for (child = smime != NULL ? smime->children : NULL; child != NULL;
	     child = child->next) {
		if (child->kind != MW_AST_ASSIGN ||
		    strcmp(child->words[0].text, key) != 0)
			continue;
		for (i = 1; i < child->word_count; i++) {
			for (j = 0; j < policy->service_count; j++) {
				if (strcmp(policy->services[j].name,
					   child->words[i].text) == 0)
					break;
			}
			if (j == policy->service_count)
				mw_validator_word_error(v, child, &child->words[i],
					"smime %s names '%s', which no service section declares",
					key, child->words[i].text);
		}
	}
}

static void mw_validate_cross(struct mw_validator *v, const struct mw_singletons *once,
			      const struct mw_partner_list *partners)
{
	const struct mw_policy *policy = v->policy;
	bool enforced = false;
	unsigned int i;

	if (policy->smime.sign == MW_SMIME_SIGN_AUTHENTICATED &&
	    policy->smime.keytable == NULL) {
		mw_validator_node_error(v, once->smime,
			"sign = authenticated needs a keytable");
	}
	mw_validate_smime_services(v, once->smime, "services");
	if (once->smime != NULL)
		mw_validate_smime_enc_cross(v, once->smime, &policy->smime.enc);
	for (i = 0; i < policy->service_count; i++) {
		if (policy->services[i].settings.value[MW_SET_PARTNERS] == MW_PARTNERS_ENFORCE)
			enforced = true;
	}
	mw_validate_daemon_names(v);
	mw_validate_not_empty(v);
	if (partners->count > 0 && !enforced) {
		mw_diag_warning(v->diags, partners->items[0].file, partners->items[0].line, 0,
			"partners are defined, but no service has partners = enforce");
	}
}

int mw_validate(struct mw_policy *policy, struct mw_diags *diags,
		const struct mw_ast_node *nodes)
{
	static const char *const sections[] = {
		"dns", "defaults", "service", "partner", "smime", "include", NULL
	};
	struct mw_validator v = {
		.policy = policy, .arena = policy->arena, .diags = diags,
	};
	struct mw_singletons once = { NULL, NULL, NULL };
	struct mw_service_decls decls = { NULL, 0, 0, NULL, 0, 0 };
	struct mw_partner_list partners = { NULL, 0 };
	struct mw_service_body *defaults = NULL;
	const struct mw_ast_node *node;
	const char *name;
	unsigned int i;

	mw_policy_set_builtin(policy);
	for (node = nodes; node != NULL && !mw_diags_full(diags); node = node->next) {
		name = node->words[0].text;
		if (node->kind != MW_AST_BLOCK) {
			if (strcmp(name, "service") == 0 || strcmp(name, "partner") == 0 ||
			    strcmp(name, "dns") == 0 || strcmp(name, "smime") == 0 ||
			    strcmp(name, "defaults") == 0) {
				mw_validator_node_error(&v, node,
					"%s needs a block: '%s ... {' on the same line", name, name);
			} else {
				mw_validator_node_error(&v, node,
					"expected a section (dns, defaults, service, partner, smime), found '%s'",
					name);
			}
			continue;
		}
		if (strcmp(name, "service") == 0) {
			mw_validate_service(&v, &decls, node);
		} else if (strcmp(name, "partner") == 0) {
			mw_validate_partner(&v, &partners, node);
		} else if (strcmp(name, "dns") == 0) {
			if (mw_validate_once(&v, &once.dns, node))
				mw_validate_assignments(&v, node, "dns", mw_dns_keys,
							mw_dns_setting, &policy->dns);
		} else if (strcmp(name, "smime") == 0) {
			if (mw_validate_once(&v, &once.smime, node))
			{
				mw_validate_assignments(&v, node, "smime", mw_smime_keys,
							mw_smime_setting, &policy->smime);
				mw_validate_smime_blocks(&v, node, &policy->smime.enc);
			}
		} else if (strcmp(name, "defaults") == 0) {
			if (mw_validate_once(&v, &once.defaults, node))
				defaults = mw_service_body_parse(&v, node, true);
		} else {
			mw_validator_unknown(&v, node, &node->words[0], "section", sections);
		}
	}

	mw_service_decls_dedup(&v, &decls);
	mw_services_resolve(&v, defaults, decls.items, decls.count);
	policy->partners = MW_ARENA_NEW(policy->arena, struct mw_partner,
					partners.count);
	if (partners.count > 0)
		memcpy((struct mw_partner *)policy->partners, partners.items,
		       sizeof(*partners.items) * partners.count);
	policy->partner_count = partners.count;
	mw_validate_cross(&v, &once, &partners);

	for (i = 0; i < decls.body_count; i++)
		mw_service_body_free(&decls.bodies[i]);
	mw_service_body_free(&defaults);
	free(decls.bodies);
	free(decls.items);
	free(partners.items);
	return v.failed || mw_diags_error_count(diags) > 0 ? -1 : 0;
}
