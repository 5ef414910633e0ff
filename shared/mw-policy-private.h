#ifndef MW_POLICY_PRIVATE_H
#define MW_POLICY_PRIVATE_H

#include "mw-policy.h"
#include "mw-addrset.h"

#include <stdatomic.h>

struct mw_arena;

/* Where something was written; file NULL means built in. */
struct mw_loc {
	const char *file;
	unsigned int line;
};

enum mw_match_kind {
	MW_MATCH_ANY,
	MW_MATCH_NET,		/* net and net-list */
	MW_MATCH_HOST,
};

struct mw_matcher {
	enum mw_match_kind kind;
	const struct mw_addrset *nets;	/* MW_MATCH_NET */
	const char *const *hosts;	/* MW_MATCH_HOST: NULL-terminated */
};

enum mw_action {
	MW_ACTION_ALLOW,
	MW_ACTION_DENY,
};

struct mw_rule {
	enum mw_action action;
	struct mw_matcher match;
	const char *text;	/* normalised, e.g. "deny net 10.0.0.0/8" */
	struct mw_loc loc;
};

/* The settings a service, the defaults and a "from" block can carry.
   Values are stored by id, so inheritance and printing are loops over a
   table rather than one line of code per setting. */
enum mw_setting_id {
	MW_SET_DEFAULT,
	MW_SET_TLS,
	MW_SET_TLS_MIN_BITS,
	MW_SET_CLIENT_CERT,
	MW_SET_MECHANISMS,
	MW_SET_CLEARTEXT,
	MW_SET_AUTH,
	MW_SET_PARTNERS,
	MW_SET_SECURED_IS_TLS,	/* 1: Dovecot's "secured" counts as TLS */

	MW_SET_COUNT
};

enum mw_requirement {
	MW_OPTIONAL = 0,
	MW_REQUIRED,
};

enum mw_cleartext {
	MW_CLEARTEXT_NEVER,
	MW_CLEARTEXT_TLS_ONLY,
	MW_CLEARTEXT_ALWAYS,
};

enum mw_partners_mode {
	MW_PARTNERS_IGNORE = 0,
	MW_PARTNERS_ENFORCE,
};

struct mw_settings {
	int value[MW_SET_COUNT];
	/* "key = value" as the normalised output writes it, for the log's
	   deciding rule, and where it was set. */
	const char *text[MW_SET_COUNT];
	struct mw_loc loc[MW_SET_COUNT];
	/* MW_SET_MECHANISMS: NULL-terminated, upper case; NULL for any. */
	const char *const *mechanisms;
	unsigned int set_mask;	/* bit per id written in this block */
};

struct mw_from {
	struct mw_matcher match;
	const char *text;	/* "from net 10.0.0.0/8" */
	struct mw_loc loc;
	struct mw_settings settings;	/* effective: owner's + overrides */
};

struct mw_service {
	const char *name;
	struct mw_loc loc;
	const char *const *daemon_names;	/* NULL-terminated, may be empty */
	const struct mw_rule *rules;
	unsigned int rule_count;
	const struct mw_from *froms;
	unsigned int from_count;
	struct mw_settings settings;	/* effective */
	bool uses_hosts;
};

struct mw_policy {
	atomic_int refcount;
	struct mw_arena *arena;
	const char *path;

	struct mw_dns_settings dns;
	struct mw_service defaults;	/* for services the policy omits */
	const struct mw_service *services;
	unsigned int service_count;

	const struct mw_partner *partners;
	unsigned int partner_count;

	struct mw_smime_settings smime;

	/* Every postfix_daemon_name, sorted by name, for a binary search. */
	const struct mw_daemon_entry *daemons;
	unsigned int daemon_count;
};

struct mw_daemon_entry {
	const char *name;
	const struct mw_service *service;
};

/* The validator: builds the policy from the parsed file.  Returns 0, or
   -1 if it reported an error. */
struct mw_ast_node;
int mw_validate(struct mw_policy *policy, struct mw_diags *diags,
		const struct mw_ast_node *nodes);

/* The built-in values, and the keyword tables the validator parses and
   the printer writes. */
struct mw_keyword {
	const char *name;
	int value;
};
extern const struct mw_keyword mw_action_keywords[];
extern const struct mw_keyword mw_requirement_keywords[];
extern const struct mw_keyword mw_cleartext_keywords[];
extern const struct mw_keyword mw_partners_keywords[];
extern const struct mw_keyword mw_yes_no_keywords[];
extern const struct mw_keyword mw_on_error_keywords[];
extern const struct mw_keyword mw_partner_on_fail_keywords[];
extern const struct mw_keyword mw_tls_required_no_keywords[];
extern const struct mw_keyword mw_smime_sign_keywords[];
extern const struct mw_keyword mw_smime_on_error_keywords[];
extern const struct mw_keyword mw_smime_encrypt_keywords[];
extern const struct mw_keyword mw_smime_rsa_padding_keywords[];
extern const struct mw_keyword mw_smime_on_lookup_error_keywords[];
const char *mw_keyword_name(const struct mw_keyword *table, int value);

struct mw_setting_def {
	const char *key;
	enum mw_setting_id id;
	const struct mw_keyword *keywords;	/* NULL: special parser */
	int builtin;
	bool in_from;	/* may be refined per network */
};
extern const struct mw_setting_def mw_setting_defs[MW_SET_COUNT];

/* The service called name, or the defaults if the policy has none. */
const struct mw_service *mw_policy_service(const struct mw_policy *policy,
					   const char *name);

/* Loading address list files (net-list). */
int mw_netlist_load(const char *path, struct mw_addrset_builder *builder,
		    struct mw_diags *diags, const char *ref_file,
		    unsigned int ref_line, unsigned int ref_column);
/* The same for a list already in memory (size bytes, NUL-terminated),
   as read from path; for the fuzz target. */
int mw_netlist_parse(const char *path, const char *data, size_t size,
		     struct mw_addrset_builder *builder, struct mw_diags *diags,
		     const char *ref_file, unsigned int ref_line,
		     unsigned int ref_column);

#endif
