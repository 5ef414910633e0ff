/* Service sections and the defaults: connection rules, "from" blocks,
   settings, and the inheritance that turns them into effective services
   once, at load, so that a decision never merges anything. */

#include "mw-validator.h"
#include "mw-arena.h"
#include "mw-match.h"
#include "mw-util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MW_TLS_MIN_BITS_MAX 512
#define MW_MECH_NAME_MAX 20	/* RFC 4422 3.1 */

const struct mw_setting_def mw_setting_defs[MW_SET_COUNT] = {
	{ "default", MW_SET_DEFAULT, mw_action_keywords, MW_ACTION_ALLOW, false },
	{ "tls", MW_SET_TLS, mw_requirement_keywords, MW_OPTIONAL, true },
	{ "tls_min_bits", MW_SET_TLS_MIN_BITS, NULL, 0, true },
	{ "client_cert", MW_SET_CLIENT_CERT, mw_requirement_keywords, MW_OPTIONAL, true },
	{ "mechanisms", MW_SET_MECHANISMS, NULL, 0, true },
	{ "cleartext", MW_SET_CLEARTEXT, mw_cleartext_keywords, MW_CLEARTEXT_TLS_ONLY, true },
	{ "auth", MW_SET_AUTH, mw_requirement_keywords, MW_OPTIONAL, true },
	{ "partners", MW_SET_PARTNERS, mw_partners_keywords, MW_PARTNERS_IGNORE, false },
	{ "secured_is_tls", MW_SET_SECURED_IS_TLS, mw_yes_no_keywords, 1, false },
};

/* Services that Dovecot or Postfix SASL report; any other name is a
   Postfix service and needs a postfix_daemon_name to be reached. */
static const char *const mw_known_services[] = {
	"imap", "pop3", "submission", "smtp", "lmtp", "sieve", "doveadm", NULL
};

struct mw_rule_list {
	struct mw_rule *items;
	unsigned int count, alloc;
};

struct mw_from_decl {
	struct mw_from from;	/* settings: only this block's own values */
	const struct mw_ast_node *node;
};

struct mw_service_body {
	const struct mw_ast_node *block;
	struct mw_rule_list rules;
	struct mw_from_decl *froms;
	unsigned int from_count;
	struct mw_settings settings;	/* own values only (set_mask) */
	const char *const *daemon_names;
	struct mw_loc daemon_names_loc;
};

/* --- matchers -------------------------------------------------------- */

/* Appends to a growing text without a fixed limit: an inline net list
   can be long. */
static char *mw_text_append(char *text, const char *add)
{
	size_t len = text == NULL ? 0 : strlen(text);
	size_t add_len = strlen(add);

	text = mw_xreallocarray(text, len + add_len + 2, 1);
	if (len > 0)
		text[len++] = ' ';
	memcpy(text + len, add, add_len + 1);
	return text;
}

static const char *mw_quote_if_needed(struct mw_validator *v, const char *str)
{
	const char *p;
	char *quoted, *q;

	if (!mw_word_needs_quotes(str))
		return str;
	quoted = mw_arena_alloc(v->arena, strlen(str) * 2 + 3);
	q = quoted;
	*q++ = '"';
	for (p = str; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			*q++ = '\\';
		*q++ = *p;
	}
	*q++ = '"';
	*q = '\0';
	return quoted;
}

static int mw_validate_host_pattern(struct mw_validator *v,
				    const struct mw_ast_node *node,
				    const struct mw_ast_word *word,
				    const char **pattern_r)
{
	size_t len = strlen(word->text);
	const char *name = word->text;
	char *pattern;
	size_t i;

	if (len > 0 && name[len - 1] == '.')
		len--;		/* a trailing root dot means the same name */
	pattern = mw_arena_strndup(v->arena, name, len);
	for (i = 0; i < len; i++)
		pattern[i] = (char)tolower((unsigned char)pattern[i]);
	if (!mw_hostname_is_valid(pattern[0] == '.' ? pattern + 1 : pattern)) {
		mw_validator_word_error(v, node, word,
			"'%s' is not a host name or .domain", word->text);
		return -1;
	}
	*pattern_r = pattern;
	return 0;
}

/* Parses "any", "net ADDR...", "net-list FILE..." or "host NAME..." from
   words[0..count).  *text_r gets the normalised form (malloc()ed). */
static int mw_validate_matcher(struct mw_validator *v,
			       const struct mw_ast_node *node,
			       const struct mw_ast_word *words,
			       unsigned int count, struct mw_matcher *match_r,
			       char **text_r)
{
	static const char *const kinds[] = { "any", "net", "net-list", "host", NULL };
	struct mw_addrset_builder *builder;
	char error[MW_ERROR_SIZE], canon[MW_PREFIX_STRLEN];
	const char **hosts;
	struct mw_prefix prefix;
	bool host_bits, failed = false;
	unsigned int i;

	memset(match_r, 0, sizeof(*match_r));
	if (count == 0) {
		mw_validator_node_error(v, node,
			"expected any, net, net-list or host after '%s'",
			node->words[0].text);
		return -1;
	}
	const char *kind = words[0].text;
	*text_r = mw_text_append(*text_r, kind);

	if (strcmp(kind, "any") == 0) {
		if (count > 1) {
			mw_validator_word_error(v, node, &words[1],
				"'any' takes no value, found '%s'", words[1].text);
			return -1;
		}
		match_r->kind = MW_MATCH_ANY;
		return 0;
	}
	if (strcmp(kind, "host") == 0) {
		if (count == 1) {
			mw_validator_word_error(v, node, &words[0],
				"host needs at least one name or .domain");
			return -1;
		}
		hosts = MW_ARENA_NEW(v->arena, const char *, count);
		for (i = 1; i < count; i++) {
			if (mw_validate_host_pattern(v, node, &words[i], &hosts[i - 1]) < 0)
				failed = true;
			else
				*text_r = mw_text_append(*text_r, hosts[i - 1]);
		}
		match_r->kind = MW_MATCH_HOST;
		match_r->hosts = hosts;
		return failed ? -1 : 0;
	}
	if (strcmp(kind, "net") != 0 && strcmp(kind, "net-list") != 0) {
		mw_validator_unknown(v, node, &words[0], "match", kinds);
		return -1;
	}
	if (count == 1) {
		mw_validator_word_error(v, node, &words[0],
			"%s needs at least one %s", kind,
			kind[3] == '\0' ? "address or network" : "file");
		return -1;
	}

	builder = mw_addrset_builder_new();
	for (i = 1; i < count; i++) {
		if (kind[3] == '-') {
			char *path = mw_path_relative_to(node->file, words[i].text);

			if (mw_netlist_load(path, builder, v->diags, node->file,
					    words[i].line, words[i].column) < 0)
				failed = true;
			*text_r = mw_text_append(*text_r,
				mw_quote_if_needed(v, words[i].text));
			free(path);
			continue;
		}
		if (mw_prefix_parse(words[i].text, &prefix, &host_bits,
				    error, sizeof(error)) < 0) {
			mw_validator_word_error(v, node, &words[i], "%s", error);
			failed = true;
			continue;
		}
		mw_prefix_to_str(&prefix, canon, sizeof(canon));
		if (host_bits) {
			mw_diag_warning(v->diags, node->file, words[i].line,
					words[i].column,
					"%s has host bits set; it is read as %s",
					words[i].text, canon);
		}
		mw_addrset_builder_add(builder, &prefix);
		*text_r = mw_text_append(*text_r, canon);
	}
	match_r->kind = MW_MATCH_NET;
	match_r->nets = mw_addrset_build(&builder, v->arena);
	return failed ? -1 : 0;
}

/* --- settings -------------------------------------------------------- */

static const struct mw_setting_def *mw_setting_def_find(const char *key)
{
	unsigned int i;

	for (i = 0; i < MW_SET_COUNT; i++) {
		if (strcmp(mw_setting_defs[i].key, key) == 0)
			return &mw_setting_defs[i];
	}
	return NULL;
}

static int mw_value_mechanisms(struct mw_validator *v,
			       const struct mw_ast_node *node,
			       const char *const **mechs_r)
{
	const char **mechs;
	unsigned int i;
	bool failed = false;

	if (node->word_count == 2 && strcasecmp(node->words[1].text, "any") == 0) {
		*mechs_r = NULL;
		return 0;
	}
	if (node->word_count < 2) {
		mw_validator_node_error(v, node, "mechanisms needs at least one value");
		return -1;
	}
	/* Dovecot reports mechanisms in upper case; so are they stored. */
	mechs = MW_ARENA_NEW(v->arena, const char *, node->word_count);
	for (i = 1; i < node->word_count; i++) {
		char *upper = mw_arena_strdup(v->arena, node->words[i].text);
		size_t j, len = strlen(upper);

		for (j = 0; j < len; j++) {
			upper[j] = (char)toupper((unsigned char)upper[j]);
			if (!isalnum((unsigned char)upper[j]) &&
			    upper[j] != '-' && upper[j] != '_')
				break;
		}
		if (j < len || len > MW_MECH_NAME_MAX) {
			mw_validator_word_error(v, node, &node->words[i],
				"'%s' is not a SASL mechanism name", node->words[i].text);
			failed = true;
		}
		mechs[i - 1] = upper;
	}
	*mechs_r = mechs;
	return failed ? -1 : 0;
}

static const char *mw_setting_text(struct mw_validator *v,
				   const struct mw_setting_def *def,
				   const struct mw_settings *set)
{
	char *text = NULL;
	const char *result;
	unsigned int i;

	switch (def->id) {
	case MW_SET_TLS_MIN_BITS:
		return mw_arena_printf(v->arena, "%s = %d", def->key,
				       set->value[def->id]);
	case MW_SET_MECHANISMS:
		if (set->mechanisms == NULL)
			return mw_arena_printf(v->arena, "%s = any", def->key);
		text = mw_text_append(text, "mechanisms =");
		for (i = 0; set->mechanisms[i] != NULL; i++)
			text = mw_text_append(text, set->mechanisms[i]);
		result = mw_arena_strdup(v->arena, text);
		free(text);
		return result;
	default:
		return mw_arena_printf(v->arena, "%s = %s", def->key,
			mw_keyword_name(def->keywords, set->value[def->id]));
	}
}

static int mw_validate_setting(struct mw_validator *v,
			       const struct mw_ast_node *node,
			       const struct mw_setting_def *def,
			       struct mw_settings *set)
{
	unsigned int bits;
	int ret;

	switch (def->id) {
	case MW_SET_TLS_MIN_BITS:
		ret = mw_value_uint(v, node, MW_TLS_MIN_BITS_MAX, &bits);
		set->value[def->id] = (int)bits;
		break;
	case MW_SET_MECHANISMS:
		ret = mw_value_mechanisms(v, node, &set->mechanisms);
		break;
	default:
		ret = mw_value_keyword(v, node, def->keywords, &set->value[def->id]);
		break;
	}
	if (ret < 0)
		return -1;
	set->set_mask |= 1U << def->id;
	set->loc[def->id].file = node->file;
	set->loc[def->id].line = node->line;
	set->text[def->id] = mw_setting_text(v, def, set);
	return 0;
}

/* The keys a block may hold, for "did you mean". */
static void mw_setting_keys(bool service, bool in_from, const char **keys)
{
	unsigned int i, n = 0;

	for (i = 0; i < MW_SET_COUNT; i++) {
		if (!in_from || mw_setting_defs[i].in_from)
			keys[n++] = mw_setting_defs[i].key;
	}
	if (service)
		keys[n++] = "postfix_daemon_name";
	keys[n] = NULL;
}

static void mw_validate_from(struct mw_validator *v, struct mw_service_body *body,
			     const struct mw_ast_node *block)
{
	const char *keys[MW_SET_COUNT + 2];
	struct mw_seen_keys seen = { .count = 0 };
	const struct mw_ast_node *child;
	const struct mw_setting_def *def;
	struct mw_from_decl *decl;
	char *text = NULL;

	body->froms = mw_xreallocarray(body->froms, body->from_count + 1,
				       sizeof(*body->froms));
	decl = &body->froms[body->from_count];
	memset(decl, 0, sizeof(*decl));
	decl->node = block;
	text = mw_text_append(text, "from");
	if (mw_validate_matcher(v, block, block->words + 1, block->word_count - 1,
				&decl->from.match, &text) < 0) {
		free(text);
		return;
	}
	decl->from.text = mw_arena_strdup(v->arena, text);
	decl->from.loc.file = block->file;
	decl->from.loc.line = block->line;
	free(text);
	body->from_count++;

	mw_setting_keys(false, true, keys);
	for (child = block->children; child != NULL; child = child->next) {
		def = child->kind == MW_AST_ASSIGN ?
			mw_setting_def_find(child->words[0].text) : NULL;
		if (def != NULL && !def->in_from) {
			mw_validator_node_error(v, child,
				"%s cannot be refined in a from block; set it in the service",
				def->key);
			continue;
		}
		if (def == NULL) {
			mw_validator_unknown(v, child, &child->words[0],
				child->kind == MW_AST_ASSIGN ? "setting" : "statement",
				keys);
			continue;
		}
		if (mw_seen_keys_add(v, &seen, child))
			(void)mw_validate_setting(v, child, def, &decl->from.settings);
	}
}

static void mw_validate_rule(struct mw_validator *v, struct mw_service_body *body,
			     const struct mw_ast_node *node)
{
	struct mw_rule_list *list = &body->rules;
	struct mw_rule rule;
	char *text = NULL;

	memset(&rule, 0, sizeof(rule));
	rule.action = strcmp(node->words[0].text, "allow") == 0 ?
		MW_ACTION_ALLOW : MW_ACTION_DENY;
	text = mw_text_append(text, node->words[0].text);
	if (mw_validate_matcher(v, node, node->words + 1, node->word_count - 1,
				&rule.match, &text) < 0) {
		free(text);
		return;
	}
	rule.text = mw_arena_strdup(v->arena, text);
	rule.loc.file = node->file;
	rule.loc.line = node->line;
	free(text);

	if (list->count > 0 && list->items[list->count - 1].match.kind == MW_MATCH_ANY) {
		const struct mw_rule *any = &list->items[list->count - 1];

		mw_diag_warning(v->diags, node->file, node->line, node->column,
				"rule can never match: '%s' at line %u matches every client first",
				any->text, any->loc.line);
	}
	if (list->count == list->alloc) {
		list->alloc = list->alloc == 0 ? 8 : list->alloc * 2;
		list->items = mw_xreallocarray(list->items, list->alloc,
					       sizeof(*list->items));
	}
	list->items[list->count++] = rule;
}

struct mw_service_body *mw_service_body_parse(struct mw_validator *v,
					      const struct mw_ast_node *block,
					      bool is_defaults)
{
	static const char *const statements[] = { "allow", "deny", NULL };
	static const char *const blocks[] = { "from", NULL };
	const char *keys[MW_SET_COUNT + 2];
	struct mw_seen_keys seen = { .count = 0 };
	struct mw_service_body *body = mw_xcalloc(1, sizeof(*body));
	const struct mw_ast_node *child;
	const struct mw_setting_def *def;
	const char *key;

	body->block = block;
	mw_setting_keys(!is_defaults, false, keys);
	for (child = block->children; child != NULL; child = child->next) {
		key = child->words[0].text;
		switch (child->kind) {
		case MW_AST_STATEMENT:
			if (strcmp(key, "allow") == 0 || strcmp(key, "deny") == 0)
				mw_validate_rule(v, body, child);
			else
				mw_validator_unknown(v, child, &child->words[0],
						     "rule", statements);
			break;
		case MW_AST_BLOCK:
			if (strcmp(key, "from") == 0)
				mw_validate_from(v, body, child);
			else
				mw_validator_unknown(v, child, &child->words[0],
						     "block", blocks);
			break;
		case MW_AST_ASSIGN:
			if (!mw_seen_keys_add(v, &seen, child))
				break;
			if (!is_defaults && strcmp(key, "postfix_daemon_name") == 0) {
				if (mw_value_list(v, child, &body->daemon_names) == 0) {
					body->daemon_names_loc.file = child->file;
					body->daemon_names_loc.line = child->line;
				}
				break;
			}
			def = mw_setting_def_find(key);
			if (def == NULL) {
				mw_validator_unknown(v, child, &child->words[0],
						     "setting", keys);
				break;
			}
			(void)mw_validate_setting(v, child, def, &body->settings);
			break;
		}
	}
	return body;
}

/* --- inheritance ------------------------------------------------------- */

static void mw_settings_builtin(struct mw_validator *v, struct mw_settings *set)
{
	unsigned int i;

	memset(set, 0, sizeof(*set));
	for (i = 0; i < MW_SET_COUNT; i++) {
		set->value[i] = mw_setting_defs[i].builtin;
		set->text[i] = mw_setting_text(v, &mw_setting_defs[i], set);
	}
}

/* Values written in over replace those of base. */
static void mw_settings_overlay(struct mw_settings *dest,
				const struct mw_settings *base,
				const struct mw_settings *over)
{
	unsigned int i;

	*dest = *base;
	dest->set_mask = over->set_mask;
	for (i = 0; i < MW_SET_COUNT; i++) {
		if ((over->set_mask & (1U << i)) == 0)
			continue;
		dest->value[i] = over->value[i];
		dest->text[i] = over->text[i];
		dest->loc[i] = over->loc[i];
		if (i == MW_SET_MECHANISMS)
			dest->mechanisms = over->mechanisms;
	}
}

static bool mw_matcher_uses_hosts(const struct mw_matcher *match)
{
	return match->kind == MW_MATCH_HOST;
}

static void mw_settings_check(struct mw_validator *v, const struct mw_settings *set,
			      const char *where)
{
	unsigned int i;

	if (set->mechanisms == NULL || set->value[MW_SET_CLEARTEXT] != MW_CLEARTEXT_NEVER)
		return;
	for (i = 0; set->mechanisms[i] != NULL; i++) {
		if (strcmp(set->mechanisms[i], "PLAIN") == 0 ||
		    strcmp(set->mechanisms[i], "LOGIN") == 0) {
			mw_diag_warning(v->diags, set->loc[MW_SET_MECHANISMS].file,
					set->loc[MW_SET_MECHANISMS].line, 0,
					"%s: %s is listed in mechanisms, but cleartext = never refuses it",
					where, set->mechanisms[i]);
		}
	}
}

static void mw_service_resolve(struct mw_validator *v, struct mw_service *svc,
			       const struct mw_service *defaults,
			       const struct mw_service_body *body)
{
	struct mw_from *froms;
	unsigned int i;

	mw_settings_overlay(&svc->settings, &defaults->settings, &body->settings);
	svc->daemon_names = body->daemon_names;

	/* A service that writes rules replaces the defaults' rules as a
	   whole, as a protocol block replaces a global setting in
	   dovecot.conf: merging two ordered first-match lists would make
	   the order impossible to read from either. */
	if (body->rules.count > 0) {
		struct mw_rule *rules = MW_ARENA_NEW(v->arena, struct mw_rule,
						     body->rules.count);
		memcpy(rules, body->rules.items, sizeof(*rules) * body->rules.count);
		svc->rules = rules;
		svc->rule_count = body->rules.count;
	} else {
		svc->rules = defaults->rules;
		svc->rule_count = defaults->rule_count;
	}

	/* "from" blocks refine the service's effective values, so they are
	   resolved per service even when inherited. */
	if (body->from_count > 0) {
		froms = MW_ARENA_NEW(v->arena, struct mw_from, body->from_count);
		for (i = 0; i < body->from_count; i++) {
			froms[i] = body->froms[i].from;
			mw_settings_overlay(&froms[i].settings, &svc->settings,
					    &body->froms[i].from.settings);
		}
		svc->froms = froms;
		svc->from_count = body->from_count;
	} else if (defaults->from_count > 0) {
		/* An inherited block's set_mask still names only the
		   values it wrote itself, so only those are re-applied. */
		froms = MW_ARENA_NEW(v->arena, struct mw_from, defaults->from_count);
		for (i = 0; i < defaults->from_count; i++) {
			froms[i] = defaults->froms[i];
			mw_settings_overlay(&froms[i].settings, &svc->settings,
					    &defaults->froms[i].settings);
		}
		svc->froms = froms;
		svc->from_count = defaults->from_count;
	}

	for (i = 0; i < svc->rule_count; i++)
		svc->uses_hosts = svc->uses_hosts || mw_matcher_uses_hosts(&svc->rules[i].match);
	for (i = 0; i < svc->from_count; i++)
		svc->uses_hosts = svc->uses_hosts || mw_matcher_uses_hosts(&svc->froms[i].match);

	mw_settings_check(v, &svc->settings, svc->name);
	for (i = 0; i < svc->from_count; i++)
		mw_settings_check(v, &svc->froms[i].settings, svc->froms[i].text);
}

static bool mw_str_in(const char *str, const char *const *list)
{
	for (; list != NULL && *list != NULL; list++) {
		if (strcmp(*list, str) == 0)
			return true;
	}
	return false;
}

void mw_services_resolve(struct mw_validator *v,
			 const struct mw_service_body *defaults_body,
			 const struct mw_service_decl *decls, unsigned int count)
{
	static const struct mw_service_body empty_body;
	struct mw_policy *policy = v->policy;
	struct mw_service *services, builtin;
	unsigned int i;

	memset(&builtin, 0, sizeof(builtin));
	mw_settings_builtin(v, &builtin.settings);
	policy->defaults.name = "defaults";
	if (defaults_body != NULL) {
		policy->defaults.loc.file = defaults_body->block->file;
		policy->defaults.loc.line = defaults_body->block->line;
	}
	mw_service_resolve(v, &policy->defaults, &builtin,
			   defaults_body != NULL ? defaults_body : &empty_body);

	services = MW_ARENA_NEW(v->arena, struct mw_service, count);
	for (i = 0; i < count; i++) {
		services[i].name = decls[i].name->text;
		services[i].loc.file = decls[i].node->file;
		services[i].loc.line = decls[i].node->line;
		mw_service_resolve(v, &services[i], &policy->defaults, decls[i].body);
		/* A misspelt service name would leave the real service
		   on the defaults without a word, so it is an error. */
		if (services[i].daemon_names == NULL &&
		    !mw_str_in(services[i].name, mw_known_services)) {
			const char *best = mw_closest(services[i].name, mw_known_services);

			mw_validator_word_error(v, decls[i].node, decls[i].name,
				"service '%s' is not a Dovecot service and has no postfix_daemon_name%s%s%s",
				services[i].name, best == NULL ? "" : "; did you mean '",
				best == NULL ? "" : best, best == NULL ? "" : "'?");
		}
	}
	policy->services = services;
	policy->service_count = count;
}

void mw_service_body_free(struct mw_service_body **_body)
{
	struct mw_service_body *body = *_body;

	if (body == NULL)
		return;
	*_body = NULL;
	free(body->rules.items);
	free(body->froms);
	free(body);
}
