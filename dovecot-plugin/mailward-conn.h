#ifndef MAILWARD_CONN_H
#define MAILWARD_CONN_H

#include "mw-policy.h"

struct ip_addr;

/* Prefix of every log line that the modules write. */
#define MAILWARD_LOG_PREFIX "mailward: "

/* The policy file when the configuration names none. */
#define MAILWARD_DEFAULT_POLICY SYSCONFDIR"/mailward/mailward.conf"

/* Converts a Dovecot address into the policy's form.  An unset address
   (family 0) becomes MW_AF_NONE, which mw_decide() treats as unknown. */
void mailward_addr_from_ip(const struct ip_addr *ip, struct mw_addr *addr_r);

/* Loads the policy file for a Dovecot process.  Returns 0, or -1 with
   error_r set to "file:line:column: message" of the first error.
   Warnings are logged here, since nobody else sees them. */
int mailward_policy_load(const char *path, struct mw_policy **policy_r,
			 const char **error_r);

#endif
