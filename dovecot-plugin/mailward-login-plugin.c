/* The mailward login plugin: the part of the policy that only the login
   process (imap-login, pop3-login, submission-login) can enforce.

   - A client whose address the policy denies is refused before the
     banner, so it never gets as far as sending credentials.
   - The SASL mechanisms that the policy would refuse on this connection
     (by mechanism list, cleartext rule, TLS, cipher strength or client
     certificate) are filtered out.  Dovecot builds IMAP CAPABILITY and
     LOGINDISABLED, POP3 CAPA SASL and submission's EHLO AUTH from the
     filtered list, and refuses AUTHENTICATE/LOGIN/USER with a filtered
     mechanism, so a client is never offered what would then fail.
   - Before TLS, Dovecot's own plaintext settings are tightened to what
     the policy asks, so that LOGINDISABLED and STARTTLS-first work as
     with "ssl = required" or "disable_plaintext_auth = yes" (2.4:
     "auth_allow_cleartext = no").
   - The negotiated cipher strength is known only here.  It is checked
     here and also forwarded to the auth process (forward_ field), so
     that the passdb's decision and log line see the same facts.

   Host-name rules are left to the passdb, which looks names up through
   dns-client; the login process does not wait for DNS.  Until the name
   is known, it offers and accepts only what every outcome of the lookup
   would allow (mw_decide_pending_host()), so that a cleartext password
   never crosses the wire where some outcome forbids it.

     login_plugins = $login_plugins mailward_login            # 2.3

     login_plugins {                                         # 2.4
       mailward_login = yes
     }

   The login process never reads the policy file: it maps the image that
   the passdb published in the login directory (mailward-snapshot.h), so
   that it decides with the auth process's version, and a connection
   costs the same whatever the size of the policy.  The directory is
   opened when the plugin loads, before the chroot; a long-lived login
   process (service_count = 0) checks with one fstatat() at each new
   connection whether a new image was published, and maps it. */

#include "login-common.h"
#include "ioloop.h"
#include "module-context.h"
#include "iostream-ssl.h"
#include "auth-client.h"
#include "client-common.h"
#include "mailward-compat-login.h"
#include "mailward-conn.h"
#include "mailward-checks.h"
#include "mailward-log.h"
#include "mailward-snapshot.h"

#define MAILWARD_CLIENT_TEXT_DENIED "Access denied."

#define MAILWARD_LOGIN_CONTEXT(obj) \
	MODULE_CONTEXT(obj, mailward_login_module)

struct mailward_login_client {
	union login_client_module_context module_ctx;
	/* keeps a refused client allocated until its caller is done with
	   it, see mailward_login_refuse() */
	struct timeout *to_unref;
	/* the policy's text for a mechanism it refused on an attempt, shown
	   instead of Dovecot's "Unsupported authentication mechanism." */
	const char *refusal_text;

	bool bits_forwarded:1;
	/* the settings follow the policy (mailward_login_tighten_settings()) */
	bool tightened:1;
};

const char *mailward_login_plugin_version = DOVECOT_ABI_VERSION;

void mailward_login_plugin_init(struct module *module);
void mailward_login_plugin_deinit(void);

static MODULE_CONTEXT_DEFINE_INIT(mailward_login_module,
				  &login_module_register);

/* The login directory, open from before the chroot; -1 if it could
   not be opened. */
static int mailward_dir_fd = -1;
static struct mw_snapshot_owner mailward_owner;
static struct mw_snapshot *mailward_snapshot;
/* The image's policy; NULL if there is no valid image of this run of
   Dovecot: every client is then refused */
static const struct mw_policy *mailward_policy;

static void mailward_login_policy_drop(void)
{
	mailward_policy = NULL;
	mw_snapshot_free(&mailward_snapshot);
}

/* Maps the image if it is new since the last connection: the passdb
   publishes one at every reload, and removes it when no good version
   is left. */
static void mailward_login_policy_refresh(struct event *event)
{
	struct mw_snapshot *snap;
	const char *error;
	int ret;

	if (mailward_dir_fd < 0)
		return;
	if (mailward_snapshot != NULL &&
	    mw_snapshot_is_current(mailward_snapshot, mailward_dir_fd,
				   MAILWARD_SNAPSHOT_NAME))
		return;
	ret = mailward_snapshot_map(mailward_dir_fd, &mailward_owner, 0, &snap,
				    &error);
	mailward_login_policy_drop();
	if (ret < 0) {
		if (event != NULL)
			e_error(event, MAILWARD_LOG_PREFIX"%s", error);
		else
			i_error(MAILWARD_LOG_PREFIX"%s", error);
		return;
	}
	if (ret == 0)
		return;
	mailward_snapshot = snap;
	mailward_policy = mw_snapshot_policy(snap);
	mailward_snapshot_log_version(event, mw_snapshot_version(snap),
				      "snapshot");
}

static void
mailward_login_conn(struct client *client, struct mw_conn *conn_r)
{
	mw_conn_init(conn_r);
	conn_r->service = login_binary->protocol;
	mailward_addr_from_ip(&client->ip, &conn_r->remote_ip);
	mailward_addr_from_ip(&client->local_ip, &conn_r->local_ip);
	conn_r->remote_port = client->remote_port;
	conn_r->local_port = client->local_port;
}

/* Adds what is known about TLS once the handshake is over.  Before that
   (and before STARTTLS) the TLS facts stay unknown, which mw_decide()
   skips. */
static void mailward_login_conn_tls(struct client *client,
				    struct mw_conn *conn)
{
	unsigned int bits;

	if (client->ssl_iostream != NULL &&
	    ssl_iostream_is_handshaked(client->ssl_iostream)) {
		conn->tls = MW_TLS_ACTIVE;
		if (ssl_iostream_get_cipher(client->ssl_iostream,
					    &bits) != NULL)
			conn->cipher_bits = (int)bits;
		conn->cert = ssl_iostream_has_valid_client_cert(
			client->ssl_iostream) ? MW_CERT_VALID : MW_CERT_NONE;
	} else if (client->ssl_iostream == NULL) {
		conn->tls = mailward_login_secured(client) ?
			MW_TLS_SECURED : MW_TLS_NONE;
		conn->cert = MW_CERT_NONE;
	}
}

static void mailward_login_refused_unref(struct client *client)
{
	struct mailward_login_client *mclient = MAILWARD_LOGIN_CONTEXT(client);

	timeout_remove(&mclient->to_unref);
	client_unref(&client);
}

/* Refuses a client from notify_auth_ready.  Dovecot's callers
   (client_notify_auth_ready(), clients_notify_auth_connected()) still
   write to the client after the vfunc returns and hold no reference of
   their own: without one from here, client_destroy() would free the
   client under them.  The reference goes when the ioloop runs next. */
static void
mailward_login_refuse(struct client *client,
		      enum client_disconnect_reason reason,
		      const char *client_text, const char *log_reason)
{
	struct mailward_login_client *mclient = MAILWARD_LOGIN_CONTEXT(client);

	client_ref(client);
	client_notify_disconnect(client, reason, client_text);
	client_destroy(client, log_reason);
	/* clients_notify_auth_connected() would resume the input of a
	   client that sent some while the auth process was away, and the
	   destroyed client has no io left to resume */
	client->input_blocked = FALSE;
	mclient->to_unref = timeout_add_short(0, mailward_login_refused_unref,
					      client);
}

static void mailward_login_tighten_settings(struct client *client);

static void mailward_login_notify_auth_ready(struct client *client)
{
	struct mailward_login_client *mclient = MAILWARD_LOGIN_CONTEXT(client);
	struct mw_decision dec;
	struct mw_conn conn;

	mailward_login_conn(client, &conn);
	/* by now the auth process that answered has published its
	   version, also right after a reload */
	mailward_login_policy_refresh(client->event);
	if (mailward_policy == NULL) {
		e_error(client->event, MAILWARD_LOG_PREFIX
			"policy not loaded (no valid %s from the auth "
			"process: the mailward passdb writes it, so add "
			"passdb mailward as the first passdb, or fix the "
			"error the auth process logged), refusing the "
			"connection", MAILWARD_SNAPSHOT_NAME);
		mailward_login_refuse(client, CLIENT_DISCONNECT_INTERNAL_ERROR,
			"Service temporarily unavailable.",
			MAILWARD_LOG_PREFIX"policy not loaded");
		return;
	}
	/* Only the connection rules can decide this early: TLS, mechanism
	   and certificate facts are unknown yet.  A client that a host rule
	   may admit is left to the passdb, which resolves the name at
	   authentication; one that every outcome refuses goes now. */
	if (mw_decide_pending_host(mailward_policy, &conn,
				   &dec) == MW_VERDICT_DENY) {
		(void)mailward_log_decision(client->event, &conn, &dec, FALSE);
		mailward_login_refuse(client,
			CLIENT_DISCONNECT_RESOURCE_CONSTRAINT,
			MAILWARD_CLIENT_TEXT_DENIED,
			t_strdup_printf(MAILWARD_LOG_PREFIX"%s",
					mw_decision_client_text(&dec)));
		return;
	}
	/* a login process started before the auth process had published
	   the policy sees it only now, still before the banner */
	mailward_login_tighten_settings(client);
	mclient->module_ctx.super.notify_auth_ready(client);
}

static void
mailward_login_forward_bits(struct client *client,
			    struct mailward_login_client *mclient,
			    const struct mw_conn *conn)
{
	if (mclient->bits_forwarded || conn->cipher_bits == MW_BITS_UNKNOWN)
		return;
	client_add_forward_field(client, "mailward_cipher_bits",
				 dec2str(conn->cipher_bits));
	mclient->bits_forwarded = TRUE;
}

static bool
mailward_login_sasl_filter_mech(struct client *client,
				struct auth_mech_desc *mech)
{
	struct mailward_login_client *mclient = MAILWARD_LOGIN_CONTEXT(client);
	struct mw_decision dec;
	struct mw_conn conn;

	if (mclient->module_ctx.super.sasl_filter_mech != NULL &&
	    !mclient->module_ctx.super.sasl_filter_mech(client, mech))
		return FALSE;
	if (mailward_policy == NULL)
		return FALSE;

	mailward_login_conn(client, &conn);
	mailward_login_conn_tls(client, &conn);
	conn.mech = mech->name;

	switch (mw_decide_pending_host(mailward_policy, &conn, &dec)) {
	case MW_VERDICT_ALLOW:
	case MW_VERDICT_NEED_HOST:
		/* the passdb decides the rest */
		break;
	case MW_VERDICT_DENY:
	case MW_VERDICT_TEMPFAIL:
		/* sasl_server_auth_begin() sets authenticating before it
		   asks for the mechanism: only then is this a refused
		   attempt worth a log line, not a capability listing */
		if (client->authenticating) {
			(void)mailward_log_decision(client->event, &conn,
						    &dec, FALSE);
			mclient->refusal_text = mw_decision_client_text(&dec);
		}
		return FALSE;
	}
	if (client->authenticating)
		mailward_login_forward_bits(client, mclient, &conn);
	return TRUE;
}

/* Makes Dovecot's own plaintext checks follow the policy for a client
   that has no TLS yet: "ssl = required" where the policy requires TLS,
   "disable_plaintext_auth = yes" where it refuses cleartext mechanisms
   outside TLS.  Dovecot then advertises LOGINDISABLED, hides PLAIN and
   LOGIN before STARTTLS and answers with its usual texts, and a client
   that follows the capabilities never sends a password in the clear.
   The settings are this client's own copy (login_settings_read() reads
   them per connection), so other clients are not affected. */
static void mailward_login_tighten_settings(struct client *client)
{
	struct mailward_login_client *mclient = MAILWARD_LOGIN_CONTEXT(client);
	struct mw_decision dec;
	struct mw_conn conn;

	if (mailward_policy == NULL || mclient->tightened)
		return;
	mclient->tightened = TRUE;
	mailward_checks_login_client(client, mailward_policy);
	/* secured_is_tls = no: a trusted or local client without TLS is a
	   plaintext client for Dovecot's checks too, and for the passdb,
	   which gets "secured" from this flag */
	if (mailward_login_secured(client) &&
	    !mailward_login_tls_secured(client) &&
	    !mw_policy_service_secured_is_tls(mailward_policy,
					      login_binary->protocol))
		mailward_login_set_unsecured(client);
	if (mailward_login_secured(client))
		return;

	mailward_login_conn(client, &conn);
	conn.tls = MW_TLS_NONE;
	if (mw_decide_pending_host(mailward_policy, &conn,
				   &dec) == MW_VERDICT_DENY &&
	    dec.check == MW_CHECK_TLS &&
	    !mailward_login_ssl_disabled(client))
		mailward_login_require_tls(client);

	conn.mech = "PLAIN";
	if (mailward_login_cleartext_allowed(client) &&
	    mw_decide_pending_host(mailward_policy, &conn,
				   &dec) == MW_VERDICT_DENY &&
	    (dec.check == MW_CHECK_CLEARTEXT || dec.check == MW_CHECK_TLS ||
	     dec.check == MW_CHECK_HOST_PENDING ||
	     dec.check == MW_CHECK_MECHANISM))
		mailward_login_forbid_cleartext(client);
}

/* Point 5 of the policy's promise to clients: the answer to a refused
   mechanism says why, as the log does ("Cipher too weak", "TLS
   required"), instead of "Unsupported authentication mechanism.". */
static void
mailward_login_auth_result(struct client *client,
			   enum client_auth_result result,
			   const struct client_auth_reply *reply,
			   const char *text)
{
	struct mailward_login_client *mclient = MAILWARD_LOGIN_CONTEXT(client);

	if (mclient->refusal_text != NULL &&
	    result == CLIENT_AUTH_RESULT_MECH_INVALID) {
		text = t_strconcat(mclient->refusal_text, ".", NULL);
		result = CLIENT_AUTH_RESULT_AUTHFAILED_REASON;
	}
	mclient->refusal_text = NULL;
	if (result == CLIENT_AUTH_RESULT_SUCCESS)
		mailward_checks_login_success(client);
	mclient->module_ctx.super.auth_result(client, result, reply, text);
}

static void mailward_login_client_allocated(struct client *client)
{
	struct mailward_login_client *mclient;
	struct client_vfuncs *v = client->vlast;

	mclient = p_new(client->pool, struct mailward_login_client, 1);
	mclient->module_ctx.super = *v;
	client->vlast = &mclient->module_ctx.super;

	v->notify_auth_ready = mailward_login_notify_auth_ready;
	v->sasl_filter_mech = mailward_login_sasl_filter_mech;
	v->auth_result = mailward_login_auth_result;
	MODULE_CONTEXT_SET(client, mailward_login_module, mclient);

	mailward_login_policy_refresh(client->event);
	mailward_login_tighten_settings(client);
}

static const struct login_client_hooks mailward_login_client_hooks = {
	.client_allocated = mailward_login_client_allocated,
};

void mailward_login_plugin_init(struct module *module)
{
	const char *base_dir, *error;

	/* still root and not chrooted: the directory stays open for the
	   images published later */
	mailward_snapshot_owner(&mailward_owner);
	base_dir = mailward_login_base_dir(&error);
	if (base_dir == NULL ||
	    mailward_snapshot_dir_open(base_dir, &mailward_dir_fd,
				       &error) < 0) {
		i_error(MAILWARD_LOG_PREFIX"%s (refusing every client)",
			error);
	}
	mailward_login_policy_refresh(NULL);
	login_client_hooks_add(module, &mailward_login_client_hooks);
}

void mailward_login_plugin_deinit(void)
{
	login_client_hooks_remove(&mailward_login_client_hooks);
	mailward_login_policy_drop();
	if (mailward_dir_fd >= 0)
		i_close_fd(&mailward_dir_fd);
}
