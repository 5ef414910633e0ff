/* The login processes' configuration check; see mailward-checks.h. */

#include "login-common.h"
#include "client-common.h"
#include "mailward-compat-login.h"
#include "mailward-conn.h"
#include "mailward-checks.h"
#include "mw-policy-private.h"

/* "cleartext = always" without tls = required.  The built-in default
   is tls-only, so any such value was written in the policy. */
static bool mailward_checks_cleartext_open(const struct mw_settings *set)
{
	return set->value[MW_SET_CLEARTEXT] == MW_CLEARTEXT_ALWAYS &&
		set->value[MW_SET_TLS] != MW_REQUIRED;
}

/* The first place in the service's settings that lets cleartext
   mechanisms through without TLS, or NULL. */
static const struct mw_settings *
mailward_checks_relaxed(const struct mw_service *svc, const char **where_r)
{
	unsigned int i;

	if (mailward_checks_cleartext_open(&svc->settings)) {
		*where_r = t_strdup_printf("service %s", svc->name);
		return &svc->settings;
	}
	for (i = 0; i < svc->from_count; i++) {
		const struct mw_settings *set = &svc->froms[i].settings;

		if (mailward_checks_cleartext_open(set)) {
			*where_r = svc->froms[i].text;
			return set;
		}
	}
	return NULL;
}

void mailward_checks_login_client(struct client *client,
				  const struct mw_policy *policy)
{
	const struct mw_settings *set;
	const struct mw_loc *loc;
	struct mw_decision dec;
	struct mw_conn conn;
	const char *where;

	/* Dovecot refuses cleartext mechanisms before TLS (LOGINDISABLED,
	   "Plaintext authentication disallowed") without asking the auth
	   process, so a policy that allows them never gets the chance. */
	if (policy == NULL || mailward_login_secured(client) ||
	    mailward_login_cleartext_allowed(client))
		return;
	set = mailward_checks_relaxed(mw_policy_service(policy,
		login_binary->protocol), &where);
	if (set == NULL)
		return;
	/* Logged for each client that the relaxation is for, not once per
	   process: with service_count = 1 every connection has a process
	   of its own, and the clients it does not concern need no line. */
	mw_conn_init(&conn);
	conn.service = login_binary->protocol;
	mailward_addr_from_ip(&client->ip, &conn.remote_ip);
	mailward_addr_from_ip(&client->local_ip, &conn.local_ip);
	conn.remote_port = client->remote_port;
	conn.local_port = client->local_port;
	conn.tls = MW_TLS_NONE;
	conn.mech = "PLAIN";
	if (mw_decide_pending_host(policy, &conn, &dec) != MW_VERDICT_ALLOW)
		return;
	loc = &set->loc[MW_SET_CLEARTEXT];
	e_warning(client->event, MAILWARD_LOG_PREFIX"the policy allows client "
		  "%s cleartext passwords without TLS (cleartext = always, "
		  "%s:%u: %s), but Dovecot's %s refuses them before the policy "
		  "is asked, so the relaxation does nothing; set %s for %s "
		  "(the mailward passdb still refuses cleartext where the "
		  "policy says tls-only or never)",
		  net_ip2addr(&client->ip), loc->file == NULL ? "(built in)" : loc->file, loc->line,
		  where, MAILWARD_LOGIN_CLEARTEXT_OFF,
		  MAILWARD_LOGIN_CLEARTEXT_ON, login_binary->protocol);
}

void mailward_checks_login_success(struct client *client)
{
	const char *const *arg;
	size_t len = strlen(MAILWARD_CHECKS_FIELD);

	for (arg = client->auth_passdb_args; arg != NULL && *arg != NULL;
	     arg++) {
		if (strncmp(*arg, MAILWARD_CHECKS_FIELD, len) == 0 &&
		    (*arg)[len] == '=')
			return;
	}
	/* Only the passdb resolves host names and judges what the login
	   process does not know; every login without it is one the policy
	   never saw, which is worth a line each. */
	e_warning(client->event, MAILWARD_LOG_PREFIX"a login from %s succeeded "
		  "without a decision of passdb mailward: the login plugin is "
		  "loaded but the passdb is not configured (or does not come "
		  "first), so host rules and the passdb's checks are enforced "
		  "by nobody; add passdb mailward as the first passdb "
		  "(mailward-dovecot(7))", net_ip2addr(&client->ip));
}
