/* Start-up and first-request checks of the auth process; see
   mailward-checks.h. */

#include "auth-common.h"
#include "array.h"
#include "auth.h"
#include "auth-request.h"
#include "passdb.h"
#include "mailward-conn.h"
#include "mailward-compat.h"
#include "mailward-checks.h"

/* True if a successful lookup in passdb ends the chain: the passdbs
   after it, mailward's among them, are then not asked.  A deny passdb
   only refuses, and result_success = continue* goes on. */
static bool mailward_checks_passdb_ends(const struct auth_passdb *passdb)
{
	if (passdb->set->deny)
		return FALSE;
	switch (passdb->result_success) {
	case AUTH_DB_RULE_RETURN:
	case AUTH_DB_RULE_RETURN_OK:
		return TRUE;
	case AUTH_DB_RULE_RETURN_FAIL:
	case AUTH_DB_RULE_CONTINUE:
	case AUTH_DB_RULE_CONTINUE_OK:
	case AUTH_DB_RULE_CONTINUE_FAIL:
		break;
	}
	return FALSE;
}

/* Refused rather than warned about: the logins that the earlier passdb
   accepts are not checked at all, and nothing would be logged for them,
   so a warning at start-up would be the only trace of a policy that is
   not in force. */
static void mailward_checks_order(const struct auth *auth,
				  const struct passdb_module *module)
{
	const struct auth_passdb *passdb, *first = NULL;

	for (passdb = auth->passdbs; passdb != NULL; passdb = passdb->next) {
		if (passdb->passdb == module)
			break;
		if (first == NULL && mailward_checks_passdb_ends(passdb))
			first = passdb;
	}
	if (passdb == NULL || first == NULL)
		return;
	i_fatal(MAILWARD_LOG_PREFIX"passdb mailward is listed after passdb %s, "
		"which authenticates by itself: the logins it accepts would "
		"skip the mailward policy (host, address, mechanism and TLS "
		"rules) without a log line; list passdb mailward first, or give "
		"passdb %s result_success = continue (mailward-dovecot(7))",
		mailward_passdb_name(first), mailward_passdb_name(first));
}

void mailward_checks_passdb_init(struct passdb_module *module)
{
	struct auth *const *authp;

	array_foreach(&auths, authp)
		mailward_checks_order(*authp, module);
}

static bool mailward_checks_login_protocol(const char *protocol)
{
	return protocol != NULL &&
		(strcmp(protocol, "imap") == 0 ||
		 strcmp(protocol, "pop3") == 0 ||
		 strcmp(protocol, "submission") == 0);
}

void mailward_checks_passdb_request(struct auth_request *request)
{
	static bool warned = FALSE;
	const char *protocol = mailward_request_protocol(request);

	/* Only a login process sends a session ID (doveadm auth test and
	   Postfix do not), and the plugin forwards the cipher strength
	   whenever TLS is up, so its absence means no plugin. */
	if (warned || request->fields.session_id == NULL ||
	    !mailward_checks_login_protocol(protocol) ||
	    mailward_request_tls(request) != MW_TLS_ACTIVE ||
	    auth_fields_find(request->fields.extra_fields,
			     "forward_mailward_cipher_bits") != NULL)
		return;
	warned = TRUE;
	e_warning(authdb_event(request), MAILWARD_LOG_PREFIX
		  "a %s login over TLS came without the cipher strength that "
		  "the mailward_login login plugin forwards: without the "
		  "plugin tls_min_bits is not enforced, refused clients see "
		  "the banner and refused mechanisms are still offered "
		  "(LOGINDISABLED missing); add mailward_login to "
		  "login_plugins (mailward-dovecot(7))", protocol);
}

void mailward_checks_passdb_allowed(struct auth_request *request)
{
	auth_request_set_field(request, MAILWARD_CHECKS_FIELD, "allow", NULL);
}
