/*
 * The libmilter callbacks: session and message bookkeeping, and the
 * checks at MAIL FROM.  Any internal fault answers with a tempfail, so
 * Postfix keeps the mail and the client retries.
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>

#include "milter.h"
#include "milter-config.h"
#include "milter-log.h"
#include "milter-processor.h"
#include "milter-sender.h"
#include "milter-tlsrequired.h"

/* Macros we ask Postfix for.  The TLS facts come again with MAIL, not
   only with HELO: a client may send MAIL right after STARTTLS without a
   new EHLO, and then the HELO macros would describe the plaintext
   session. */
static char mwm_connect_macros[] = "{daemon_name} {daemon_addr} {client_resolve}";
static char mwm_mail_macros[] =
	"i {auth_type} {auth_authen} {mail_addr} {tls_version} {cipher} "
	"{cipher_bits} {cert_subject} {cert_issuer}";
static char mwm_rcpt_macros[] = "{rcpt_addr}";
static char mwm_eom_macros[] = "i";

static struct mwm_conn *mwm_conn_get(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

/* A macro we copied, or NULL; returns -1 when out of memory. */
static int mwm_macro_dup(SMFICTX *ctx, const char *name, char **value_r)
{
	const char *value = smfi_getsymval(ctx, (char *)name);

	*value_r = NULL;
	if (value == NULL || *value == '\0')
		return 0;
	*value_r = strdup(value);
	return *value_r == NULL ? -1 : 0;
}

static sfsistat mwm_tempfail(SMFICTX *ctx, const char *stage, const char *error)
{
	mwm_log(LOG_ERR, "%s: %s; mail is tempfailed", stage, error);
	(void)smfi_setreply(ctx, "451", "4.3.0",
			    "Local error in processing; try again later");
	return SMFIS_TEMPFAIL;
}

/* --- messages -------------------------------------------------------------- */

static void mwm_msg_free(struct mwm_msg **_msg)
{
	struct mwm_msg *msg = *_msg;

	if (msg == NULL)
		return;
	*_msg = NULL;

	mwm_processors_end(msg);
	free(msg->sender);
	free(msg->queue_id);
	free(msg->auth_type);
	free(msg->auth_authen);
	free(msg->tls.cert_cn);
	free(msg->tls.issuer_cn);
	free(msg);
}

/* Reads the envelope sender and the MAIL macros.  Returns 0 or -1 (out
   of memory). */
static int mwm_msg_init(SMFICTX *ctx, struct mwm_msg *msg, const char *arg)
{
	const char *bits, *version;

	if (mwm_sender_init(ctx, msg, arg) < 0)
		return -1;

	version = smfi_getsymval(ctx, "{tls_version}");
	msg->tls.state = version != NULL && *version != '\0' ?
		MW_TLS_ACTIVE : MW_TLS_NONE;
	msg->tls.cipher_bits = MW_BITS_UNKNOWN;
	bits = smfi_getsymval(ctx, "{cipher_bits}");
	if (msg->tls.state == MW_TLS_ACTIVE && bits != NULL) {
		char *end;
		long n = strtol(bits, &end, 10);

		if (end != bits && *end == '\0' && n >= 0 && n < 65536)
			msg->tls.cipher_bits = (int)n;
	}

	if (mwm_macro_dup(ctx, "i", &msg->queue_id) < 0 ||
	    mwm_macro_dup(ctx, "{auth_type}", &msg->auth_type) < 0 ||
	    mwm_macro_dup(ctx, "{auth_authen}", &msg->auth_authen) < 0)
		return -1;
	if (msg->tls.state == MW_TLS_ACTIVE &&
	    (mwm_macro_dup(ctx, "{cert_subject}", &msg->tls.cert_cn) < 0 ||
	     mwm_macro_dup(ctx, "{cert_issuer}", &msg->tls.issuer_cn) < 0))
		return -1;
	return 0;
}

/* A message processor failed: the message tempfails, never passes
   half-processed. */
static sfsistat mwm_processor_failed(SMFICTX *ctx, const struct mwm_msg *msg,
				     const char *processor)
{
	const char *why = mwm_processors_error(msg, processor);

	/* Every tempfail says why: the processor's own reason (a full
	   spool disk, say) when it has one. */
	mwm_log(LOG_ERR, "%s: %s failed%s%s; mail is tempfailed",
		msg->queue_id != NULL ? msg->queue_id : "NOQUEUE", processor,
		why != NULL ? ": " : "", why != NULL ? why : "");
	(void)smfi_setreply(ctx, "451", "4.3.0",
			    "Local error in processing; try again later");
	return SMFIS_TEMPFAIL;
}

/* The message in progress, or NULL (a service the policy does not
   name, or a refused sender). */
static struct mwm_msg *mwm_msg_get(SMFICTX *ctx)
{
	struct mwm_conn *conn = mwm_conn_get(ctx);

	return conn != NULL ? conn->msg : NULL;
}

/* --- callbacks -------------------------------------------------------------- */

/* Asks the MTA for exactly the macros we read.  Returns 0, or -1 if the
   MTA cannot take macro lists. */
static int mwm_request_macros(SMFICTX *ctx, unsigned long f0)
{
	if ((f0 & SMFIF_SETSYMLIST) == 0 ||
	    smfi_setsymlist(ctx, SMFIM_CONNECT, mwm_connect_macros) != MI_SUCCESS ||
	    smfi_setsymlist(ctx, SMFIM_ENVFROM, mwm_mail_macros) != MI_SUCCESS ||
	    smfi_setsymlist(ctx, SMFIM_ENVRCPT, mwm_rcpt_macros) != MI_SUCCESS ||
	    smfi_setsymlist(ctx, SMFIM_EOM, mwm_eom_macros) != MI_SUCCESS)
		return -1;
	return 0;
}

static sfsistat mwm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			      unsigned long f2, unsigned long f3,
			      unsigned long *pf0, unsigned long *pf1,
			      unsigned long *pf2, unsigned long *pf3)
{
	/* SMFIF_CHGHDRS: removing TLS-Required (milter-tlsrequired.c). */
	unsigned long actions = mwm_processor_actions() | SMFIF_CHGHDRS;
	unsigned long skip = SMFIP_NODATA | SMFIP_NOUNKNOWN;
	struct mw_policy *policy = mwm_config_acquire();
	bool tlsreq = mwm_tlsreq_wanted(policy);
	/* S/MIME encryption needs every envelope recipient. */
	bool rcpts = tlsreq || (policy != NULL &&
		mw_policy_smime(policy)->enc.encrypt != MW_SMIME_ENCRYPT_OFF);
	struct mwm_conn *conn;

	mw_policy_unref(&policy);

	if ((f0 & actions) != actions) {
		mwm_log(LOG_ERR, "the MTA lacks milter actions 0x%lx",
			actions & ~f0);
		return SMFIS_REJECT;
	}
	*pf0 = actions;

	if (mwm_request_macros(ctx, f0) == 0) {
		/* MAIL brings the TLS macros, so HELO brings nothing we
		   need. */
		*pf0 |= SMFIF_SETSYMLIST;
		skip |= SMFIP_NOHELO;
	} else {
		/* The MTA's milter_*_macros settings apply; Postfix's
		   defaults send the TLS macros with HELO. */
		mwm_log(LOG_DEBUG, "the MTA takes no macro lists");
	}
	/* Without message processors nothing reads the content: keep
	   headers and body off the socket; recipients and headers are
	   needed only for mail to partners. */
	if (!rcpts)
		skip |= SMFIP_NORCPT;
	if (mwm_processor_count() == 0)
		skip |= SMFIP_NOBODY;
	if (mwm_processor_count() == 0 && !tlsreq)
		skip |= SMFIP_NOHDRS | SMFIP_NOEOH;

	/* The session starts here rather than at connect, so that the
	   connect step can do without a reply: one round trip less per
	   SMTP session. */
	conn = calloc(1, sizeof(*conn));
	if (conn == NULL || smfi_setpriv(ctx, conn) != MI_SUCCESS) {
		free(conn);
		mwm_log(LOG_ERR, "negotiate: out of memory");
		return SMFIS_REJECT;
	}
	conn->connect_noreply = (f1 & SMFIP_NR_CONN) != 0;
	if (conn->connect_noreply)
		skip |= SMFIP_NR_CONN;

	*pf1 = f1 & skip;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

/* The answer to connect: none at all when the MTA asked for none. */
static sfsistat mwm_connect_reply(const struct mwm_conn *conn, sfsistat status)
{
	return conn->connect_noreply ? SMFIS_NOREPLY : status;
}

static sfsistat mwm_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct mwm_conn *conn = mwm_conn_get(ctx);
	const char *daemon_name, *daemon_addr, *resolve;

	if (conn == NULL)
		return mwm_tempfail(ctx, "connect", "no session context");
	conn->policy = mwm_config_acquire();

	daemon_name = smfi_getsymval(ctx, "{daemon_name}");
	if (daemon_name != NULL)
		conn->service = mw_policy_service_for_daemon(conn->policy,
							     daemon_name);
	if (conn->service == NULL) {
		/* A Postfix service the policy does not name: accepted at
		   connect, or at MAIL FROM when connect has no reply. */
		char host[MWM_LOG_FIELD_SIZE];

		mwm_log(LOG_DEBUG, "connect from %s: daemon name %s is not in the policy",
			mwm_log_field(hostname != NULL ? hostname : "", host,
				      sizeof(host)),
			daemon_name != NULL ? daemon_name : "(none)");
		return mwm_connect_reply(conn, SMFIS_ACCEPT);
	}

	/* Postfix passes "[addr]" (or "unknown") when the client's name
	   did not forward-confirm. */
	if (hostname != NULL && hostname[0] != '[' &&
	    strcasecmp(hostname, "unknown") != 0) {
		conn->client_name = strdup(hostname);
		if (conn->client_name == NULL) {
			conn->connect_failed = true;
			if (conn->connect_noreply)
				return SMFIS_NOREPLY;
			return mwm_tempfail(ctx, "connect", "out of memory");
		}
	}
	/* OK, FAIL, FORGED or TEMP; only TEMP says that Postfix does not
	   know yet whether the client has a name. */
	resolve = smfi_getsymval(ctx, "{client_resolve}");
	conn->client_name_tempfail = conn->client_name == NULL &&
		resolve != NULL && strcmp(resolve, "TEMP") == 0;
	if (hostaddr != NULL &&
	    mw_addr_from_sockaddr(hostaddr, &conn->client_addr) == 0) {
		if (hostaddr->sa_family == AF_INET)
			conn->client_port = ntohs(((struct sockaddr_in *)hostaddr)->sin_port);
		else if (hostaddr->sa_family == AF_INET6)
			conn->client_port = ntohs(((struct sockaddr_in6 *)hostaddr)->sin6_port);
		mw_addr_to_str(&conn->client_addr, conn->client_addr_str,
			       sizeof(conn->client_addr_str));
	} else {
		strcpy(conn->client_addr_str, "unknown");
	}
	daemon_addr = smfi_getsymval(ctx, "{daemon_addr}");
	if (daemon_addr != NULL)
		(void)mw_addr_parse(daemon_addr, &conn->local_addr);
	return mwm_connect_reply(conn, SMFIS_CONTINUE);
}

static sfsistat mwm_envfrom(SMFICTX *ctx, char **argv)
{
	struct mwm_conn *conn = mwm_conn_get(ctx);
	struct mwm_result res;
	const char *failed;

	if (conn == NULL || conn->connect_failed)
		return mwm_tempfail(ctx, "MAIL FROM", "the session could not start");
	if (conn->service == NULL)
		return SMFIS_ACCEPT;
	mwm_msg_free(&conn->msg);
	conn->msg = calloc(1, sizeof(*conn->msg));
	if (conn->msg == NULL)
		return mwm_tempfail(ctx, "MAIL FROM", "out of memory");
	conn->msg->conn = conn;
	if (mwm_msg_init(ctx, conn->msg, argv[0] != NULL ? argv[0] : "") < 0)
		return mwm_tempfail(ctx, "MAIL FROM", "out of memory");

	mwm_check_sender(conn->msg, &res);
	if (res.status != SMFIS_CONTINUE)
		return mwm_reply(ctx, conn, conn->msg, &res);
	mwm_check_access(conn, conn->msg, &res);
	if (res.status != SMFIS_CONTINUE)
		return mwm_reply(ctx, conn, conn->msg, &res);
	mwm_check_partner(conn, conn->msg, &res);
	if (res.status != SMFIS_CONTINUE)
		return mwm_reply(ctx, conn, conn->msg, &res);

	if (mwm_processors_begin(conn->msg, &failed) < 0)
		return mwm_processor_failed(ctx, conn->msg, failed);
	if (!mwm_processors_joined(conn->msg) &&
	    !mwm_tlsreq_wanted(conn->policy)) {
		/* Nothing more to do for this message: saying so spares
		   Postfix the end-of-message round trip.  The next MAIL FROM
		   of the session comes to us again. */
		mwm_msg_free(&conn->msg);
		return SMFIS_ACCEPT;
	}
	return SMFIS_CONTINUE;
}

static sfsistat mwm_envrcpt(SMFICTX *ctx, char **argv)
{
	struct mwm_msg *msg = mwm_msg_get(ctx);
	const char *rcpt = smfi_getsymval(ctx, "{rcpt_addr}");
	const char *failed;

	if (msg == NULL)
		return SMFIS_CONTINUE;
	if (rcpt == NULL)
		rcpt = argv[0] != NULL ? argv[0] : "";
	mwm_tlsreq_rcpt(msg, rcpt);
	if (mwm_processors_rcpt(msg, rcpt, &failed) < 0)
		return mwm_processor_failed(ctx, msg, failed);
	return SMFIS_CONTINUE;
}

static sfsistat mwm_header(SMFICTX *ctx, char *name, char *value)
{
	struct mwm_msg *msg = mwm_msg_get(ctx);
	const char *failed;

	if (msg == NULL)
		return SMFIS_CONTINUE;
	mwm_tlsreq_header(msg, name);
	if (mwm_processors_header(msg, name, value, &failed) < 0)
		return mwm_processor_failed(ctx, msg, failed);
	return SMFIS_CONTINUE;
}

static sfsistat mwm_eoh(SMFICTX *ctx)
{
	struct mwm_conn *conn = mwm_conn_get(ctx);
	struct mwm_msg *msg = mwm_msg_get(ctx);
	const char *failed;

	if (msg == NULL)
		return SMFIS_CONTINUE;
	if (mwm_tlsreq_eoh(ctx, msg) == SMFIS_REJECT) {
		mwm_msg_free(&conn->msg);
		return SMFIS_REJECT;
	}
	if (mwm_processors_eoh(msg, &failed) < 0)
		return mwm_processor_failed(ctx, msg, failed);
	if (!mwm_processors_joined(msg) && !mwm_tlsreq_pending(msg)) {
		/* Kept only to look at the header: the body and the end
		   of the message are not needed. */
		mwm_msg_free(&conn->msg);
		return SMFIS_ACCEPT;
	}
	return SMFIS_CONTINUE;
}

static sfsistat mwm_body(SMFICTX *ctx, unsigned char *data, size_t size)
{
	struct mwm_msg *msg = mwm_msg_get(ctx);
	const char *failed;

	if (msg != NULL && mwm_processors_body(msg, data, size, &failed) < 0)
		return mwm_processor_failed(ctx, msg, failed);
	return SMFIS_CONTINUE;
}

static sfsistat mwm_eom(SMFICTX *ctx)
{
	struct mwm_conn *conn = mwm_conn_get(ctx);
	struct mwm_msg *msg = mwm_msg_get(ctx);
	const char *failed;
	int ret;

	if (msg == NULL)
		return SMFIS_CONTINUE;
	/* The queue file exists by now; processors log with its id. */
	if (msg->queue_id == NULL &&
	    mwm_macro_dup(ctx, "i", &msg->queue_id) < 0)
		return mwm_tempfail(ctx, "end of message", "out of memory");

	if (mwm_tlsreq_eom(ctx, msg, &failed) < 0)
		return mwm_tempfail(ctx, "end of message", failed);
	/* Message processors (S/MIME signing) change the message here,
	   after every check has passed. */
	ret = mwm_processors_eom(msg, ctx, &failed);
	if (ret == MWM_PROCESSOR_REJECT || ret == MWM_PROCESSOR_TEMPFAIL) {
		/* Refused by policy with the processor's own reply. */
		mwm_msg_free(&conn->msg);
		return ret == MWM_PROCESSOR_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
	}
	if (ret < 0)
		return mwm_processor_failed(ctx, msg, failed);
	mwm_msg_free(&conn->msg);
	return SMFIS_CONTINUE;
}

static sfsistat mwm_abort(SMFICTX *ctx)
{
	struct mwm_conn *conn = mwm_conn_get(ctx);

	if (conn != NULL)
		mwm_msg_free(&conn->msg);
	return SMFIS_CONTINUE;
}

static sfsistat mwm_close(SMFICTX *ctx)
{
	struct mwm_conn *conn = mwm_conn_get(ctx);

	if (conn == NULL)
		return SMFIS_CONTINUE;
	(void)smfi_setpriv(ctx, NULL);
	mwm_msg_free(&conn->msg);
	free(conn->client_name);
	mw_policy_unref(&conn->policy);
	free(conn);
	return SMFIS_CONTINUE;
}

struct smfiDesc mwm_milter_desc = {
	.xxfi_name = MWM_NAME,
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = 0,	/* negotiated in mwm_negotiate() */
	.xxfi_connect = mwm_connect,
	.xxfi_envfrom = mwm_envfrom,
	.xxfi_envrcpt = mwm_envrcpt,
	.xxfi_header = mwm_header,
	.xxfi_eoh = mwm_eoh,
	.xxfi_body = mwm_body,
	.xxfi_eom = mwm_eom,
	.xxfi_abort = mwm_abort,
	.xxfi_close = mwm_close,
	.xxfi_negotiate = mwm_negotiate,
};
