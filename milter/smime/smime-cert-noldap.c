/* The ldap certificate source in a build without the LDAP module: a
   policy that names it fails to load, loudly, rather than encrypting to
   fewer recipients than it says. */

#include <stdio.h>

#include "mw-smime-enc.h"

int mw_smime_certsrc_ldap_open(const struct mw_smime_ldap_policy *set,
			       struct mw_smime_certsrc **src_r,
			       char *error, size_t error_size)
{
	*src_r = NULL;
	snprintf(error, error_size,
		 "certificates names ldap, but this mailward-milter was built without LDAP support");
	return -1;
}
