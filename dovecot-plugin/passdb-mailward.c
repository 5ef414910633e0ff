/* passdb mailward: the mailward policy as the first passdb.

     passdb {                              # Dovecot 2.3
       driver = mailward
       args = /etc/mailward/mailward.conf
     }
     passdb mailward {                     # Dovecot 2.4
       mailward_policy = /etc/mailward/mailward.conf
     }

   The driver never authenticates anybody.  A login that the policy allows
   goes on to the next passdb ("noauthenticate"), one that it denies ends
   here.  Both verify_plain and lookup_credentials run the same check:
   otherwise CRAM-MD5, DIGEST-MD5 and SCRAM, which only look up
   credentials, would pass a policy that PLAIN cannot.

   Options (2.3: words in args before the policy file; 2.4: the settings
   mailward_nodelay and mailward_quiet, see mailward-compat.h):
     nodelay  answer a denial at once, without auth_failure_delay and
              without feeding the per-address auth penalty
     quiet    log allowed logins at debug level only */

#include "auth-common.h"
#include "ioloop.h"
#include "str.h"
#include "passdb.h"
#include "auth-settings.h"
#include "dns-lookup.h"
#include "mailward-conn.h"
#include "mailward-compat.h"
#include "mailward-checks.h"
#include "mailward-fcrdns.h"
#include "mailward-log.h"

struct mailward_passdb_module {
	struct passdb_module module;

	const char *policy_path;
	/* NULL if the policy did not load: every login is then refused */
	struct mw_policy *policy;
	const char *load_error;
	struct mailward_fcrdns *fcrdns;

	bool nodelay:1;
	bool quiet:1;
};

struct mailward_passdb_request {
	struct auth_request *auth_request;
	struct mailward_passdb_module *module;
	struct mw_conn conn;

	verify_plain_callback_t *verify_plain_callback;
	lookup_credentials_callback_t *lookup_credentials_callback;
};

/* The login process forwards what only it knows (see
   mailward-login-plugin.c) as forward_ fields. */
static int mailward_forwarded_bits(struct auth_request *auth_request)
{
	const char *value;
	unsigned int bits;

	value = auth_fields_find(auth_request->fields.extra_fields,
				 "forward_mailward_cipher_bits");
	if (value == NULL || str_to_uint(value, &bits) < 0 || bits > INT_MAX)
		return MW_BITS_UNKNOWN;
	return (int)bits;
}

static void
mailward_conn_from_request(struct mailward_passdb_request *request)
{
	struct auth_request *auth_request = request->auth_request;
	const struct auth_request_fields *fields = &auth_request->fields;
	struct mw_conn *conn = &request->conn;

	mw_conn_init(conn);
	conn->service = mailward_request_protocol(auth_request);
	mailward_addr_from_ip(&fields->remote_ip, &conn->remote_ip);
	mailward_addr_from_ip(&fields->local_ip, &conn->local_ip);
	conn->remote_port = fields->remote_port;
	conn->local_port = fields->local_port;
	conn->mech = fields->mech_name;
	conn->tls = mailward_request_tls(auth_request);
	conn->cipher_bits = mailward_forwarded_bits(auth_request);
	/* Dovecot says only whether a verified certificate came; without
	   one (or without TLS) there is none, which a "client_cert =
	   required" must refuse.  Postfix never reports certificates over
	   SASL, so "smtp" with client_cert = required refuses everybody. */
	conn->cert = fields->valid_client_cert ? MW_CERT_VALID : MW_CERT_NONE;
}

static enum passdb_result
mailward_passdb_result(struct mailward_passdb_request *request,
		       const struct mw_decision *dec)
{
	struct auth_request *auth_request = request->auth_request;

	(void)mailward_log_decision(authdb_event(auth_request),
				    &request->conn, dec,
				    request->module->quiet);
	switch (dec->verdict) {
	case MW_VERDICT_ALLOW:
		/* not an authentication: let the next passdb do that */
		auth_request_set_field(auth_request, "noauthenticate", "",
				       NULL);
		mailward_checks_passdb_allowed(auth_request);
		return PASSDB_RESULT_OK;
	case MW_VERDICT_DENY:
		auth_request_set_field(auth_request, "reason",
				       mw_decision_client_text(dec), NULL);
		if (request->module->nodelay)
			auth_request_set_field(auth_request, "nodelay", "",
					       NULL);
		return PASSDB_RESULT_USER_DISABLED;
	case MW_VERDICT_TEMPFAIL:
	case MW_VERDICT_NEED_HOST:
		break;
	}
	/* PASSDB_RESULT_INTERNAL_FAILURE would not do: with the default
	   result_internalfail = continue the next passdb would still log the
	   user in.  USER_DISABLED always ends the lookup, and the
	   internal_failure flag makes the client see a temporary failure.
	   The client is not at fault, so it gets no delay or penalty. */
	auth_request->internal_failure = TRUE;
	auth_request_set_field(auth_request, "nodelay", "", NULL);
	return PASSDB_RESULT_USER_DISABLED;
}

static void
mailward_passdb_finish(struct mailward_passdb_request *request,
		       const struct mw_decision *dec)
{
	struct auth_request *auth_request = request->auth_request;
	enum passdb_result result;

	result = mailward_passdb_result(request, dec);
	if (request->verify_plain_callback != NULL)
		request->verify_plain_callback(result, auth_request);
	else {
		request->lookup_credentials_callback(result, uchar_empty_ptr,
						     0, auth_request);
	}
}

static void mailward_passdb_decide(struct mailward_passdb_request *request);

static void
mailward_passdb_host_callback(enum mw_host_state state, const char *host,
			      void *context)
{
	struct mailward_passdb_request *request = context;
	struct auth_request *auth_request = request->auth_request;

	request->conn.host_state = state;
	request->conn.host = p_strdup(auth_request->pool, host);
	mailward_passdb_decide(request);
	auth_request_unref(&auth_request);
}

static void mailward_passdb_decide(struct mailward_passdb_request *request)
{
	struct mailward_passdb_module *module = request->module;
	struct auth_request *auth_request = request->auth_request;
	struct mw_decision dec;

	if (mw_decide(module->policy, &request->conn, &dec) !=
	    MW_VERDICT_NEED_HOST) {
		mailward_passdb_finish(request, &dec);
		return;
	}
	if (request->conn.host_state != MW_HOST_NOT_LOOKED_UP)
		i_panic("mailward: policy asked twice for the host name");

	/* The callback may come at once (a cached answer); the reference
	   keeps the request alive until it has run in any case. */
	auth_request_ref(auth_request);
	mailward_fcrdns_lookup(module->fcrdns, &auth_request->fields.remote_ip,
			       auth_request->event,
			       mailward_passdb_host_callback, request);
}

static void mailward_passdb_check(struct mailward_passdb_request *request)
{
	struct mailward_passdb_module *module = request->module;
	struct mw_decision dec;

	mailward_checks_passdb_request(request->auth_request);
	mailward_conn_from_request(request);
	if (module->policy != NULL) {
		mailward_passdb_decide(request);
		return;
	}
	/* fail closed: a broken policy never lets anybody in */
	e_error(authdb_event(request->auth_request),
		MAILWARD_LOG_PREFIX"policy not loaded, refusing: %s",
		module->load_error);
	i_zero(&dec);
	dec.verdict = MW_VERDICT_TEMPFAIL;
	mailward_passdb_finish(request, &dec);
}

static struct mailward_passdb_request *
mailward_passdb_request_new(struct auth_request *auth_request)
{
	struct mailward_passdb_request *request;

	request = p_new(auth_request->pool, struct mailward_passdb_request, 1);
	request->auth_request = auth_request;
	request->module = (struct mailward_passdb_module *)
		auth_request->passdb->passdb;
	return request;
}

static void
mailward_passdb_verify_plain(struct auth_request *auth_request,
			     const char *password ATTR_UNUSED,
			     verify_plain_callback_t *callback)
{
	struct mailward_passdb_request *request;

	request = mailward_passdb_request_new(auth_request);
	request->verify_plain_callback = callback;
	mailward_passdb_check(request);
}

static void
mailward_passdb_lookup_credentials(struct auth_request *auth_request,
				   lookup_credentials_callback_t *callback)
{
	struct mailward_passdb_request *request;

	request = mailward_passdb_request_new(auth_request);
	request->lookup_credentials_callback = callback;
	mailward_passdb_check(request);
}

static struct passdb_module *
mailward_passdb_create(pool_t pool,
		       const struct mailward_passdb_options *options)
{
	struct mailward_passdb_module *module;
	const char *error;

	module = p_new(pool, struct mailward_passdb_module, 1);
	/* The decision depends on the connection, not on the user: it
	   must never come from (or go into) the auth cache. */
	module->module.default_cache_key = NULL;
	module->policy_path = options->policy_path;
	module->nodelay = options->nodelay;
	module->quiet = options->quiet;

	/* preinit runs as root, so the policy file may be readable by root
	   only.  A broken file is logged here and then refuses every login
	   instead of stopping the auth process, which would also stop
	   services that the policy does not cover. */
	if (mailward_policy_load(module->policy_path, &module->policy,
				 &error) < 0) {
		module->load_error = p_strdup(pool, error);
		i_error(MAILWARD_LOG_PREFIX"%s (refusing every login)", error);
	}
	return &module->module;
}

MAILWARD_PASSDB_PREINIT(mailward_passdb_preinit, mailward_passdb_create)

static void mailward_passdb_init(struct passdb_module *_module)
{
	struct mailward_passdb_module *module =
		(struct mailward_passdb_module *)_module;

	mailward_checks_passdb_init(_module);
	if (module->policy == NULL)
		return;
	/* relative to base_dir, where dns-client listens */
	module->fcrdns = mailward_fcrdns_init(mw_policy_dns(module->policy),
		t_strconcat(global_auth_settings->base_dir, "/",
			    DNS_CLIENT_SOCKET_NAME, NULL));
}

static void mailward_passdb_deinit(struct passdb_module *_module)
{
	struct mailward_passdb_module *module =
		(struct mailward_passdb_module *)_module;

	if (module->fcrdns != NULL)
		mailward_fcrdns_deinit(&module->fcrdns);
	if (module->policy != NULL)
		mw_policy_unref(&module->policy);
}

static struct passdb_module_interface passdb_mailward = {
	.name = "mailward",

	.preinit = mailward_passdb_preinit,
	.init = mailward_passdb_init,
	.deinit = mailward_passdb_deinit,

	.verify_plain = mailward_passdb_verify_plain,
	.lookup_credentials = mailward_passdb_lookup_credentials,
};

/* module_dir_load() refuses a module whose ABI string differs from the
   auth process's own, so a Dovecot upgrade cannot run a stale build. */
const char *authdb_mailward_version = DOVECOT_ABI_VERSION;

void authdb_mailward_init(void);
void authdb_mailward_deinit(void);

void authdb_mailward_init(void)
{
	passdb_register_module(&passdb_mailward);
}

void authdb_mailward_deinit(void)
{
	passdb_unregister_module(&passdb_mailward);
}
