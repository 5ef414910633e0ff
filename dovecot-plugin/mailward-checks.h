#ifndef MAILWARD_CHECKS_H
#define MAILWARD_CHECKS_H

/* Configurations that would silently enforce less than the policy says.
   Each check either refuses to run (where enforcement is plainly off) or
   logs one warning naming the Dovecot setting to change; mailward audit
   reports the same from doveconf -n (mailward-dovecot(7), "CONFIGURATION
   CHECKS").

   mailward-checks.c, in the auth process: */
struct passdb_module;
struct auth_request;

/* At passdb init: stops the auth process (i_fatal) if a passdb that can
   authenticate by itself comes before the mailward passdb, whose host,
   address and mechanism rules would then never run for the logins that
   passdb accepts. */
void mailward_checks_passdb_init(struct passdb_module *module);

/* For each request: warns once if a login over TLS came from a login
   process without the cipher strength that the mailward_login plugin
   forwards, that is, without the plugin. */
void mailward_checks_passdb_request(struct auth_request *request);

/* For a login that the policy allows: marks the reply, so that the login
   plugin can tell a login that the passdb decided from one that no
   mailward passdb saw (MAILWARD_CHECKS_FIELD). */
void mailward_checks_passdb_allowed(struct auth_request *request);

/* The passdb field of that mark, in the auth reply to the login process
   (and so also %{passdb:mailward_decision} in login_log_format). */
#define MAILWARD_CHECKS_FIELD "mailward_decision"

/* mailward-checks-login.c, in the login processes: */
struct client;
struct mw_policy;

/* For each new client, as the plugin tightens its settings: warns
   once if the policy allows cleartext passwords without TLS somewhere in
   this service while Dovecot's own setting refuses them. */
void mailward_checks_login_client(struct client *client,
				  const struct mw_policy *policy);

/* For each successful login: warns if the reply has no mark of the
   mailward passdb, that is, no passdb mailward decided about it (the
   login plugin is loaded without the passdb).  The login has happened
   by then; the warning names the setting to add. */
void mailward_checks_login_success(struct client *client);

#endif
