/* The login processes' configuration check; see mailward-checks.h. */

#include "login-common.h"
#include "client-common.h"
#include "mailward-compat-login.h"
#include "mailward-conn.h"
#include "mailward-checks.h"
#include "mw-policy-private.h"

/* The first place in the service's settings that lets cleartext
   mechanisms through without TLS ("cleartext = always"), or NULL.
   The built-in default is tls-only, so any such value was written in
   the policy. */
static const struct mw_settings *
mailward_checks_relaxed(const struct mw_service *svc, const char **where_r)
{
	unsigned int i;

	if (svc->settings.value[MW_SET_CLEARTEXT] == MW_CLEARTEXT_ALWAYS) {
		*where_r = t_strdup_printf("service %s", svc->name);
		return &svc->settings;
	}
	for (i = 0; i < svc->from_count; i++) {
		const struct mw_settings *set = &svc->froms[i].settings;

		if (set->value[MW_SET_CLEARTEXT] == MW_CLEARTEXT_ALWAYS) {
			*where_r = svc->froms[i].text;
			return set;
		}
	}
	return NULL;
}

void mailward_checks_login_client(struct client *client,
				  const struct mw_policy *policy)
{
	static bool warned = FALSE;
	const struct mw_settings *set;
	const struct mw_loc *loc;
	const char *where;

	/* Dovecot refuses cleartext mechanisms before TLS (LOGINDISABLED,
	   "Plaintext authentication disallowed") without asking the auth
	   process, so a policy that allows them never gets the chance. */
	if (warned || policy == NULL || mailward_login_secured(client) ||
	    mailward_login_cleartext_allowed(client))
		return;
	set = mailward_checks_relaxed(mw_policy_service(policy,
		login_binary->protocol), &where);
	if (set == NULL)
		return;
	warned = TRUE;
	loc = &set->loc[MW_SET_CLEARTEXT];
	i_warning(MAILWARD_LOG_PREFIX"%s:%u: %s allows cleartext passwords "
		  "without TLS (cleartext = always), but Dovecot's %s refuses "
		  "them before the policy is asked, so the relaxation does "
		  "nothing; set %s for %s (the mailward passdb then refuses "
		  "cleartext where the policy says tls-only or never)",
		  loc->file == NULL ? "(built in)" : loc->file, loc->line,
		  where, MAILWARD_LOGIN_CLEARTEXT_OFF,
		  MAILWARD_LOGIN_CLEARTEXT_ON, login_binary->protocol);
}
