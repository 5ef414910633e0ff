/* What the passdb and the login plugin share: Dovecot addresses in the
   policy's form, and loading the policy with its diagnostics logged. */

#include "lib.h"
#include "net.h"
#include "mailward-conn.h"

void mailward_addr_from_ip(const struct ip_addr *ip, struct mw_addr *addr_r)
{
	if (IPADDR_IS_V4(ip))
		mw_addr_from_ipv4(&ip->u.ip4, addr_r);
	else if (IPADDR_IS_V6(ip))
		mw_addr_from_ipv6(&ip->u.ip6, addr_r);
	else
		i_zero(addr_r);
}

int mailward_policy_load(const char *path, struct mw_policy **policy_r,
			 const char **error_r)
{
	struct mw_diags *diags;
	const struct mw_diag *diag;
	unsigned int i, count;
	int ret;

	ret = mw_policy_load(path, policy_r, &diags);
	count = mw_diags_count(diags);
	for (i = 0; i < count; i++) {
		diag = mw_diags_get(diags, i);
		if (diag->severity != MW_SEVERITY_WARNING)
			continue;
		i_warning(MAILWARD_LOG_PREFIX"%s:%u:%u: %s",
			  diag->file != NULL ? diag->file : path,
			  diag->line, diag->column, diag->message);
	}
	if (ret < 0) {
		const char *first = mw_diags_first_error(diags);

		/* t_strdup(): the text points into diags, freed below */
		*error_r = first != NULL ? t_strdup(first) :
			t_strdup_printf("%s: cannot load the policy", path);
	}
	mw_diags_free(&diags);
	return ret;
}
