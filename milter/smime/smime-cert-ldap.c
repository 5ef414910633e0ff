/* The ldap certificate source: smime-ldap.h behind the source interface
   of mw-smime-enc.h.  The policy's ldap block is copied field by field
   into the module's settings, so the policy module needs no milter
   header. */

#include <stdio.h>
#include <stdlib.h>

#include "mw-policy.h"
#include "mw-smime-enc.h"
#include "smime-ldap.h"

struct mw_smime_certsrc_ldap {
	struct mw_smime_certsrc src;
	struct mw_smime_ldap *ldap;
};

static int mw_smime_certsrc_ldap_lookup(struct mw_smime_certsrc *src,
					const char *address,
					STACK_OF(X509) **certs_r,
					char *error, size_t error_size)
{
	struct mw_smime_certsrc_ldap *ls = (struct mw_smime_certsrc_ldap *)src;
	char *lookup_error = NULL;
	int ret;

	*certs_r = NULL;
	ret = mw_smime_ldap_lookup(ls->ldap, address, certs_r, &lookup_error);
	if (ret < 0) {
		snprintf(error, error_size, "%s",
			 lookup_error != NULL ? lookup_error : "lookup failed");
		free(lookup_error);
		return -1;
	}
	return ret > 0 ? 1 : 0;
}

static void mw_smime_certsrc_ldap_free(struct mw_smime_certsrc *src)
{
	struct mw_smime_certsrc_ldap *ls = (struct mw_smime_certsrc_ldap *)src;

	mw_smime_ldap_free(&ls->ldap);
	free(ls);
}

int mw_smime_certsrc_ldap_open(const struct mw_smime_ldap_policy *set,
			       struct mw_smime_certsrc **src_r,
			       char *error, size_t error_size)
{
	struct mw_smime_ldap_settings ls_set = {
		.uri = set->uri,
		.base = set->base,
		.filter = set->filter,
		.bind_dn = set->bind_dn,
		.password_file = set->password_file,
		.starttls = set->starttls,
		.ca_file = set->ca_file,
		.timeout_msecs = set->timeout_msecs,
		.cache_ttl_secs = set->cache_ttl_secs,
		.negative_ttl_secs = set->negative_ttl_secs,
		.max_connections = set->max_connections,
	};
	struct mw_smime_certsrc_ldap *ls;
	char *new_error = NULL;

	*src_r = NULL;
	ls = calloc(1, sizeof(*ls));
	if (ls == NULL) {
		snprintf(error, error_size, "out of memory");
		return -1;
	}
	if (mw_smime_ldap_new(&ls_set, &ls->ldap, &new_error) < 0) {
		snprintf(error, error_size, "ldap: %s",
			 new_error != NULL ? new_error : "set-up failed");
		free(new_error);
		free(ls);
		return -1;
	}
	ls->src.name = "ldap";
	ls->src.lookup = mw_smime_certsrc_ldap_lookup;
	ls->src.free = mw_smime_certsrc_ldap_free;
	*src_r = &ls->src;
	return 0;
}
