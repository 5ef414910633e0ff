/* The encryption settings of the smime section: encrypt, the certificate
   sources, the trust anchors, the algorithms, and the ldap { } block the
   "ldap" source reads (milter/smime/smime-ldap.h). */

#include "mw-validator.h"
#include "mw-arena.h"
#include "mw-util.h"

#include <stdlib.h>
#include <string.h>

#define MW_SMIME_LDAP_TIMEOUT_MAX_MSECS (5 * 60 * 1000)
#define MW_SMIME_LDAP_TTL_MAX_MSECS (7 * 24 * 3600 * 1000U)
#define MW_SMIME_LDAP_CONNECTIONS_MAX 64

const struct mw_keyword mw_smime_encrypt_keywords[] = {
	{ "off", MW_SMIME_ENCRYPT_OFF },
	{ "opportunistic", MW_SMIME_ENCRYPT_OPPORTUNISTIC },
	{ "required", MW_SMIME_ENCRYPT_REQUIRED }, { NULL, 0 }
};
const struct mw_keyword mw_smime_rsa_padding_keywords[] = {
	{ "oaep", MW_SMIME_RSA_OAEP }, { "pkcs1", MW_SMIME_RSA_PKCS1 },
	{ NULL, 0 }
};
const struct mw_keyword mw_smime_on_lookup_error_keywords[] = {
	{ "tempfail", MW_SMIME_LOOKUP_TEMPFAIL },
	{ "no-certificate", MW_SMIME_LOOKUP_NO_CERTIFICATE }, { NULL, 0 }
};

/* GCM makes AuthEnvelopedData (RFC 5083), CBC EnvelopedData for clients
   that know only that. */
static const char *const mw_smime_ciphers[] = {
	"aes-256-gcm", "aes-128-gcm", "aes-256-cbc", "aes-128-cbc", NULL
};

static const char *const mw_smime_enc_keys[] = {
	"encrypt", "encrypt_services", "certificates", "trust", "cipher",
	"rsa_padding", "on_lookup_error", NULL
};

static const char *const mw_smime_ldap_keys[] = {
	"uri", "base", "filter", "bind_dn", "password_file", "starttls", "ca",
	"timeout", "cache_ttl", "negative_ttl", "max_connections", NULL
};

void mw_smime_enc_set_builtin(struct mw_smime_enc_settings *enc)
{
	memset(enc, 0, sizeof(*enc));
	enc->encrypt = MW_SMIME_ENCRYPT_OFF;
	enc->cipher = "aes-256-gcm";
	enc->rsa_padding = MW_SMIME_RSA_OAEP;
	enc->on_lookup_error = MW_SMIME_LOOKUP_TEMPFAIL;
	enc->ldap.filter = "(mail=%s)";
	enc->ldap.starttls = true;
	enc->ldap.timeout_msecs = 5000;
	enc->ldap.cache_ttl_secs = 3600;
	enc->ldap.negative_ttl_secs = 300;
	enc->ldap.max_connections = 4;
}

bool mw_smime_enc_is_key(const char *key)
{
	unsigned int i;

	for (i = 0; mw_smime_enc_keys[i] != NULL; i++) {
		if (strcmp(mw_smime_enc_keys[i], key) == 0)
			return true;
	}
	return false;
}

static int mw_smime_enc_keyword(struct mw_validator *v,
				const struct mw_ast_node *node,
				const struct mw_keyword *table, int *value_r)
{
	return mw_value_keyword(v, node, table, value_r);
}

/* certificates = PATH... | ldap: "ldap" unquoted is the directory, any
   other word a path (resolved like every other path of the file). */
static int mw_smime_enc_sources(struct mw_validator *v,
				const struct mw_ast_node *node,
				const char *const **sources_r)
{
	const char **list;
	unsigned int i, ldap = 0;

	if (node->word_count < 2) {
		mw_validator_node_error(v, node,
			"certificates needs one or more sources: a directory, a table file or ldap");
		return -1;
	}
	list = MW_ARENA_NEW(v->arena, const char *, node->word_count);
	for (i = 1; i < node->word_count; i++) {
		const struct mw_ast_word *w = &node->words[i];

		if (!w->quoted && strcmp(w->text, "ldap") == 0) {
			if (ldap++ > 0) {
				mw_validator_word_error(v, node, w,
					"ldap is given twice in certificates");
				return -1;
			}
			list[i - 1] = "ldap";
		} else {
			/* Relative to the policy file, as mw_value_path()
			   resolves one value. */
			char *path = mw_path_relative_to(node->file, w->text);

			list[i - 1] = mw_arena_strdup(v->arena, path);
			free(path);
		}
	}
	list[node->word_count - 1] = NULL;
	*sources_r = list;
	return 0;
}

int mw_smime_enc_setting(struct mw_validator *v, const struct mw_ast_node *node,
			 struct mw_smime_enc_settings *enc)
{
	const char *key = node->words[0].text;
	unsigned int i;
	int value;

	if (strcmp(key, "encrypt_services") == 0)
		return mw_value_list(v, node, &enc->services);
	if (strcmp(key, "certificates") == 0)
		return mw_smime_enc_sources(v, node, &enc->certificates);
	if (strcmp(key, "trust") == 0)
		return mw_value_path(v, node, &enc->trust);
	if (strcmp(key, "cipher") == 0) {
		if (node->word_count != 2) {
			mw_validator_node_error(v, node, "cipher takes one value");
			return -1;
		}
		for (i = 0; mw_smime_ciphers[i] != NULL; i++) {
			if (strcmp(mw_smime_ciphers[i], node->words[1].text) == 0) {
				enc->cipher = mw_smime_ciphers[i];
				return 0;
			}
		}
		mw_validator_unknown(v, node, &node->words[1], "cipher",
				     mw_smime_ciphers);
		return -1;
	}
	if (strcmp(key, "encrypt") == 0) {
		if (mw_smime_enc_keyword(v, node, mw_smime_encrypt_keywords,
					 &value) < 0)
			return -1;
		enc->encrypt = (enum mw_smime_encrypt)value;
		return 0;
	}
	if (strcmp(key, "rsa_padding") == 0) {
		if (mw_smime_enc_keyword(v, node, mw_smime_rsa_padding_keywords,
					 &value) < 0)
			return -1;
		enc->rsa_padding = (enum mw_smime_rsa_padding)value;
		return 0;
	}
	if (mw_smime_enc_keyword(v, node, mw_smime_on_lookup_error_keywords,
				 &value) < 0)
		return -1;
	enc->on_lookup_error = (enum mw_smime_on_lookup_error)value;
	return 0;
}

static int mw_smime_ldap_setting(struct mw_validator *v,
				 const struct mw_ast_node *node,
				 struct mw_smime_ldap_policy *ldap)
{
	const char *key = node->words[0].text;
	unsigned int msecs;
	int value;

	if (strcmp(key, "uri") == 0) {
		if (mw_value_string(v, node, &ldap->uri) < 0)
			return -1;
		if (strncmp(ldap->uri, "ldap://", 7) != 0 &&
		    strncmp(ldap->uri, "ldaps://", 8) != 0) {
			mw_validator_word_error(v, node, &node->words[1],
				"uri must start with ldap:// or ldaps://");
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "base") == 0)
		return mw_value_string(v, node, &ldap->base);
	if (strcmp(key, "filter") == 0) {
		if (mw_value_string(v, node, &ldap->filter) < 0)
			return -1;
		if (strstr(ldap->filter, "%s") == NULL) {
			mw_validator_word_error(v, node, &node->words[1],
				"filter must contain %%s, where the address goes");
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "bind_dn") == 0)
		return mw_value_string(v, node, &ldap->bind_dn);
	if (strcmp(key, "password_file") == 0)
		return mw_value_path(v, node, &ldap->password_file);
	if (strcmp(key, "ca") == 0)
		return mw_value_path(v, node, &ldap->ca_file);
	if (strcmp(key, "starttls") == 0) {
		if (mw_value_keyword(v, node, mw_yes_no_keywords, &value) < 0)
			return -1;
		ldap->starttls = value != 0;
		return 0;
	}
	if (strcmp(key, "max_connections") == 0) {
		if (mw_value_uint(v, node, MW_SMIME_LDAP_CONNECTIONS_MAX,
				  &ldap->max_connections) < 0)
			return -1;
		if (ldap->max_connections == 0) {
			mw_validator_word_error(v, node, &node->words[1],
				"max_connections must be more than 0");
			return -1;
		}
		return 0;
	}
	if (strcmp(key, "timeout") == 0) {
		if (mw_value_duration_msecs(v, node, MW_SMIME_LDAP_TIMEOUT_MAX_MSECS,
					    &msecs) < 0)
			return -1;
		if (msecs == 0) {
			mw_validator_word_error(v, node, &node->words[1],
						"timeout must be more than 0");
			return -1;
		}
		ldap->timeout_msecs = msecs;
		return 0;
	}
	if (mw_value_duration_msecs(v, node, MW_SMIME_LDAP_TTL_MAX_MSECS,
				    &msecs) < 0)
		return -1;
	if (key[0] == 'c')
		ldap->cache_ttl_secs = msecs / 1000;
	else
		ldap->negative_ttl_secs = msecs / 1000;
	return 0;
}

/* smime { ldap { ... } }: assignments only, each once. */
static void mw_validate_smime_ldap(struct mw_validator *v,
				   const struct mw_ast_node *block,
				   struct mw_smime_enc_settings *enc)
{
	struct mw_seen_keys seen = { .count = 0 };
	const struct mw_ast_node *child;
	unsigned int i;

	if (block->word_count != 1) {
		mw_validator_node_error(v, block, "ldap takes no name: 'ldap {'");
		return;
	}
	if (enc->have_ldap) {
		mw_validator_node_error(v, block,
			"duplicate ldap block (first at %s:%u)",
			enc->ldap.file, enc->ldap.line);
		return;
	}
	enc->have_ldap = true;
	enc->ldap.file = block->file;
	enc->ldap.line = block->line;
	for (child = block->children; child != NULL; child = child->next) {
		if (child->kind != MW_AST_ASSIGN) {
			mw_validator_node_error(v, child,
				"expected 'key = value' in the ldap block, found '%s'",
				child->words[0].text);
			continue;
		}
		for (i = 0; mw_smime_ldap_keys[i] != NULL; i++) {
			if (strcmp(mw_smime_ldap_keys[i], child->words[0].text) == 0)
				break;
		}
		if (mw_smime_ldap_keys[i] == NULL) {
			mw_validator_unknown(v, child, &child->words[0],
					     "ldap setting", mw_smime_ldap_keys);
			continue;
		}
		if (mw_seen_keys_add(v, &seen, child))
			(void)mw_smime_ldap_setting(v, child, &enc->ldap);
	}
	if (enc->ldap.uri == NULL || enc->ldap.base == NULL)
		mw_validator_node_error(v, block, "the ldap block needs uri and base");
	if ((enc->ldap.bind_dn == NULL) != (enc->ldap.password_file == NULL))
		mw_validator_node_error(v, block,
			"bind_dn and password_file go together");
	if (enc->ldap.uri != NULL && strncmp(enc->ldap.uri, "ldap://", 7) == 0 &&
	    !enc->ldap.starttls)
		mw_diag_warning(v->diags, block->file, block->line, block->column,
			"ldap:// with starttls = no: certificates and the bind password travel in clear");
}

/* The sub-blocks of the smime section (ldap), which the assignment
   walker of the section skips. */
void mw_validate_smime_blocks(struct mw_validator *v,
			      const struct mw_ast_node *smime,
			      struct mw_smime_enc_settings *enc)
{
	const struct mw_ast_node *child;

	for (child = smime->children; child != NULL; child = child->next) {
		if (child->kind == MW_AST_BLOCK &&
		    strcmp(child->words[0].text, "ldap") == 0)
			mw_validate_smime_ldap(v, child, enc);
	}
}

/* Settings that depend on one another, after the whole section. */
void mw_validate_smime_enc_cross(struct mw_validator *v,
				 const struct mw_ast_node *smime,
				 const struct mw_smime_enc_settings *enc)
{
	bool ldap = false;
	unsigned int i;

	for (i = 0; enc->certificates != NULL && enc->certificates[i] != NULL; i++) {
		if (strcmp(enc->certificates[i], "ldap") == 0)
			ldap = true;
	}
	if (ldap && !enc->have_ldap)
		mw_validator_node_error(v, smime,
			"certificates names ldap, but there is no ldap block");
	if (enc->have_ldap && !ldap)
		mw_diag_warning(v->diags, enc->ldap.file, enc->ldap.line, 0,
			"an ldap block, but certificates does not name ldap: it is not used");
	if (enc->encrypt != MW_SMIME_ENCRYPT_OFF) {
		if (enc->certificates == NULL)
			mw_validator_node_error(v, smime,
				"encrypt = %s needs certificates (their sources)",
				mw_keyword_name(mw_smime_encrypt_keywords,
						(int)enc->encrypt));
		if (enc->trust == NULL)
			mw_validator_node_error(v, smime,
				"encrypt = %s needs trust (the CA bundle that recipients' certificates must chain to)",
				mw_keyword_name(mw_smime_encrypt_keywords,
						(int)enc->encrypt));
	}
	mw_validate_smime_services(v, smime, "encrypt_services");
}

bool mw_smime_encrypts_service(const struct mw_smime_settings *smime,
			       const char *service)
{
	const char *const *list = smime->enc.services;
	unsigned int i;

	if (smime->enc.encrypt == MW_SMIME_ENCRYPT_OFF)
		return false;
	if (list == NULL)
		return mw_smime_signs_service(smime, service);
	for (i = 0; service != NULL && list[i] != NULL; i++) {
		if (strcmp(list[i], service) == 0)
			return true;
	}
	return false;
}
