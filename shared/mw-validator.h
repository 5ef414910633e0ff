#ifndef MW_VALIDATOR_H
#define MW_VALIDATOR_H

#include "mw-policy-private.h"
#include "mw-ast.h"
#include "mw-diag.h"

struct mw_validator {
	struct mw_policy *policy;
	struct mw_arena *arena;
	struct mw_diags *diags;
	bool failed;
};

void mw_validator_error(struct mw_validator *v, const char *file,
			unsigned int line, unsigned int column,
			const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define mw_validator_node_error(v, node, ...) \
	mw_validator_error(v, (node)->file, (node)->line, (node)->column, __VA_ARGS__)
#define mw_validator_word_error(v, node, word, ...) \
	mw_validator_error(v, (node)->file, (word)->line, (word)->column, __VA_ARGS__)

/* The candidate closest to word, if one is close enough to suggest. */
const char *mw_closest(const char *word, const char *const *candidates);
/* Reports an unknown name, with the closest of candidates (NULL-
   terminated) as a suggestion when one is close. */
void mw_validator_unknown(struct mw_validator *v, const struct mw_ast_node *node,
			  const struct mw_ast_word *word, const char *what,
			  const char *const *candidates);

/* Value parsers for "key = value": each checks the value count, reports
   with file:line:column and returns 0 or -1. */
int mw_value_keyword(struct mw_validator *v, const struct mw_ast_node *node,
		     const struct mw_keyword *table, int *value_r);
int mw_value_uint(struct mw_validator *v, const struct mw_ast_node *node,
		  unsigned int max, unsigned int *value_r);
int mw_value_duration_msecs(struct mw_validator *v,
			    const struct mw_ast_node *node,
			    unsigned int max_msecs, unsigned int *value_r);
int mw_value_size(struct mw_validator *v, const struct mw_ast_node *node,
		  size_t *value_r);
int mw_value_string(struct mw_validator *v, const struct mw_ast_node *node,
		    const char **value_r);
/* A path, resolved against the directory of the file it is written in. */
int mw_value_path(struct mw_validator *v, const struct mw_ast_node *node,
		  const char **value_r);
/* One or more words, as a NULL-terminated array in the arena. */
int mw_value_list(struct mw_validator *v, const struct mw_ast_node *node,
		  const char *const **values_r);

/* Keys seen in one block, to refuse a key set twice. */
struct mw_seen_keys {
	const struct mw_ast_node *nodes[32];
	unsigned int count;
};
bool mw_seen_keys_add(struct mw_validator *v, struct mw_seen_keys *seen,
		      const struct mw_ast_node *node);

/* Service bodies: rules, "from" blocks and settings (mw-validate-service.c). */
struct mw_service_body;
struct mw_service_body *mw_service_body_parse(struct mw_validator *v,
					      const struct mw_ast_node *block,
					      bool is_defaults);
void mw_service_body_free(struct mw_service_body **body);
/* Makes the effective services from the parsed bodies: built-in values,
   then the defaults, then each service's own. */
struct mw_service_decl {
	const struct mw_service_body *body;
	const struct mw_ast_node *node;
	const struct mw_ast_word *name;
};
void mw_services_resolve(struct mw_validator *v,
			 const struct mw_service_body *defaults,
			 const struct mw_service_decl *decls, unsigned int count);

/* mw-validate-partner.c: outbound_match, after the partner's other
   settings (it depends on outbound_tls). */
void mw_validate_outbound_match(struct mw_validator *v,
				const struct mw_ast_node *block,
				struct mw_partner *partner);
/* Certificate fingerprints, one a word, in upper case. */
int mw_value_fingerprints(struct mw_validator *v, const struct mw_ast_node *node,
			  const char *const **values_r);

/* mw-validate-smime-enc.c: the encryption settings of the smime section
   and its ldap { } block. */
void mw_smime_enc_set_builtin(struct mw_smime_enc_settings *enc);
bool mw_smime_enc_is_key(const char *key);
int mw_smime_enc_setting(struct mw_validator *v, const struct mw_ast_node *node,
			 struct mw_smime_enc_settings *enc);
void mw_validate_smime_blocks(struct mw_validator *v,
			      const struct mw_ast_node *smime,
			      struct mw_smime_enc_settings *enc);
void mw_validate_smime_services(struct mw_validator *v,
				const struct mw_ast_node *smime, const char *key);
void mw_validate_smime_enc_cross(struct mw_validator *v,
				 const struct mw_ast_node *smime,
				 const struct mw_smime_enc_settings *enc);

#endif
