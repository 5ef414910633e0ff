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
     quiet    log allowed logins at debug level only

   The policy changes on reload only.  preinit (as root, at start and at
   every "doveadm reload", which restarts the auth process) loads the
   file and publishes it as an image that the login processes map
   (mailward-snapshot.h), so that both decide with one version.  A file
   that does not load keeps the last good version of this run of
   Dovecot in force, in both; with none, every login is refused. */

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
#include "mailward-snapshot.h"

struct mailward_passdb_module {
	struct passdb_module module;

	const char *policy_path;
	/* The policy in force: own_policy, or the last good image's.  NULL
	   if neither loaded: every login is then refused. */
	const struct mw_policy *policy;
	struct mw_policy *own_policy;
	struct mw_snapshot *snapshot;
	const char *load_error;
	/* the failure to report from init, and the version kept ("" if
	   none); NULL if the file loaded */
	const char *failure, *kept_version;
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

/* Sent from init, not preinit: by then the auth process has its log
   filters (log_debug) and its stats connection, so that the event
   reaches metrics and event filters too. */
static void
mailward_passdb_report_failure(struct mailward_passdb_module *module)
{
	const char *error = module->failure;
	const char *kept_version = module->kept_version[0] != '\0' ?
		module->kept_version : NULL;
	struct event *event = event_create(auth_event);

	event_set_name(event, MAILWARD_EVENT_LOAD_FAILED);
	event_add_str(event, "policy", module->policy_path);
	event_add_str(event, "error", error);
	event_add_str(event, "kept_version",
		      kept_version != NULL ? kept_version : "");
	if (kept_version != NULL) {
		e_error(event, MAILWARD_LOG_PREFIX"%s (keeping the last good "
			"policy version %s)", error, kept_version);
	} else {
		e_error(event, MAILWARD_LOG_PREFIX"%s (no good policy version "
			"since Dovecot started: refusing every login)", error);
	}
	event_unref(&event);
}

static void
mailward_passdb_load_failed(struct mailward_passdb_module *module,
			    pool_t pool, const char *error,
			    const char *kept_version)
{
	module->failure = p_strdup(pool, error);
	module->kept_version = p_strdup(pool, kept_version != NULL ?
					kept_version : "");
}

/* The file did not load: the image that this run of Dovecot published
   last is the last good version.  An image of an earlier run is
   removed, or the login processes would admit by it. */
static void
mailward_passdb_keep_last_good(struct mailward_passdb_module *module,
			       pool_t pool, int dir_fd, uint64_t generation,
			       const char *error)
{
	struct mw_snapshot_owner owner;
	const char *map_error;
	int ret = 0;

	mailward_snapshot_owner(&owner);
	if (dir_fd >= 0) {
		ret = mailward_snapshot_map(dir_fd, &owner,
					    MW_SNAPSHOT_VERIFY_DATA,
					    &module->snapshot, &map_error);
	}
	if (ret > 0) {
		const char *version, *publish_error;

		module->policy = mw_snapshot_policy(module->snapshot);
		/* again as this generation's, with the same version, so
		   that a restart without a reload keeps it rather than
		   reading the file again */
		if (mailward_snapshot_publish(dir_fd, module->policy,
				generation,
				mw_snapshot_load_time(module->snapshot),
				&version, &publish_error) < 0) {
			i_error(MAILWARD_LOG_PREFIX"cannot publish the policy "
				"again: %s", publish_error);
		}
		mailward_passdb_load_failed(module, pool, error,
			mw_snapshot_version(module->snapshot));
		return;
	}
	if (ret < 0) {
		i_warning(MAILWARD_LOG_PREFIX"not using %s", map_error);
		mailward_snapshot_remove(dir_fd);
	}
	mailward_passdb_load_failed(module, pool, error, NULL);
}

/* preinit runs as root, so the policy file may be readable by root
   only.  A broken file is logged here and then refuses every login
   (unless a good version is kept) instead of stopping the auth process,
   which would also stop services that the policy does not cover. */
/* An auth process that the master restarted without a reload (after
   idle_kill, or a crash) keeps the version of the image it published
   before: a file saved since must wait for "doveadm reload".  Returns
   TRUE if the image is of this generation and now in force. */
static bool
mailward_passdb_same_generation(struct mailward_passdb_module *module,
				int dir_fd, uint64_t generation)
{
	struct mw_snapshot_owner owner;
	const char *error;

	if (dir_fd < 0 || generation == 0)
		return FALSE;
	mailward_snapshot_owner(&owner);
	if (mailward_snapshot_map(dir_fd, &owner, MW_SNAPSHOT_VERIFY_DATA,
				  &module->snapshot, &error) <= 0)
		return FALSE;
	if (mw_snapshot_get_owner(module->snapshot)->id[2] != generation) {
		mw_snapshot_free(&module->snapshot);
		return FALSE;
	}
	module->policy = mw_snapshot_policy(module->snapshot);
	i_info(MAILWARD_LOG_PREFIX"policy %s version %s in force (kept: the "
	       "auth process restarted without a reload)",
	       module->policy_path, mw_snapshot_version(module->snapshot));
	return TRUE;
}

static void
mailward_passdb_load(struct mailward_passdb_module *module, pool_t pool)
{
	const char *error, *version = "unpublished";
	uint64_t generation = mailward_snapshot_generation();
	int dir_fd;

	if (mailward_snapshot_dir_open(global_auth_settings->base_dir,
				       &dir_fd, &error) < 0) {
		i_error(MAILWARD_LOG_PREFIX"%s (the login processes refuse "
			"every client)", error);
		dir_fd = -1;
	}
	if (worker) {
		/* an auth worker decides with the auth process's version,
		   never with a file saved since */
		struct mw_snapshot_owner owner;

		mailward_snapshot_owner(&owner);
		if (dir_fd >= 0 &&
		    mailward_snapshot_map(dir_fd, &owner,
					  MW_SNAPSHOT_VERIFY_DATA,
					  &module->snapshot, &error) > 0)
			module->policy = mw_snapshot_policy(module->snapshot);
		else
			module->load_error = "no policy snapshot";
	} else if (mailward_passdb_same_generation(module, dir_fd,
						   generation)) {
		/* nothing to read */
	} else if (mailward_policy_load(module->policy_path,
					&module->own_policy, &error) < 0) {
		module->load_error = p_strdup(pool, error);
		mailward_passdb_keep_last_good(module, pool, dir_fd,
					       generation, error);
	} else {
		module->policy = module->own_policy;
		if (dir_fd >= 0 &&
		    mailward_snapshot_publish(dir_fd, module->policy,
					      generation, 0, &version,
					      &error) < 0) {
			i_error(MAILWARD_LOG_PREFIX"cannot publish the policy "
				"to the login processes: %s (they refuse every "
				"client)", error);
			mailward_snapshot_remove(dir_fd);
		}
		i_info(MAILWARD_LOG_PREFIX"policy %s version %s in force",
		       module->policy_path, version);
	}
	if (dir_fd >= 0)
		i_close_fd(&dir_fd);
}

static struct passdb_module *
mailward_passdb_create(pool_t pool,
		       const struct mailward_passdb_options *options)
{
	struct mailward_passdb_module *module;

	module = p_new(pool, struct mailward_passdb_module, 1);
	/* The decision depends on the connection, not on the user: it
	   must never come from (or go into) the auth cache. */
	module->module.default_cache_key = NULL;
	module->policy_path = options->policy_path;
	module->nodelay = options->nodelay;
	module->quiet = options->quiet;

	mailward_passdb_load(module, pool);
	return &module->module;
}

MAILWARD_PASSDB_PREINIT(mailward_passdb_preinit, mailward_passdb_create)

static void mailward_passdb_init(struct passdb_module *_module)
{
	struct mailward_passdb_module *module =
		(struct mailward_passdb_module *)_module;

	if (module->failure != NULL)
		mailward_passdb_report_failure(module);
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
	mw_policy_unref(&module->own_policy);
	mw_snapshot_free(&module->snapshot);
	module->policy = NULL;
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
