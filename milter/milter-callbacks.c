/*
 * The libmilter callbacks: session and message bookkeeping, and the
 * checks at MAIL FROM.  Any internal fault answers with a tempfail, so
 * Postfix keeps the mail and the client retries.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>

#include "milter.h"
#include "milter-config.h"
#include "milter-log.h"
#include "milter-processor.h"

/* Macros we ask Postfix for.  The TLS facts come again with MAIL, not
   only with HELO: a client may send MAIL right after STARTTLS without a
   new EHLO, and then the HELO macros would describe the plaintext
   session. */
static char mwm_connect_macros[] = "{daemon_name} {daemon_addr}";
static char mwm_mail_macros[] =
	"i {auth_type} {auth_authen} {tls_version} {cipher} {cipher_bits} "
	"{cert_subject} {cert_issuer}";
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

static sfsistat mwm_tempfail(SMFICTX *ctx, const char *what)
{
	mwm_log(LOG_ERR, "%s: %s; mail is tempfailed", what, strerror(errno));
	(void)smfi_setreply(ctx, "451", "4.3.0",
			    "Local error in processing; try again later");
	return SMFIS_TEMPFAIL;
}

/* --- messages -------------------------------------------------------------- */

static void mwm_msg_free(struct mwm_msg **_msg)
{
	struct mwm_msg *msg = *_msg;
	unsigned int i;

	if (msg == NULL)
		return;
	*_msg = NULL;

	for (i = 0; msg->proc_ctx != NULL && mwm_processors[i] != NULL; i++) {
		if (msg->proc_ctx[i] != NULL)
			mwm_processors[i]->msg_end(msg->proc_ctx[i]);
	}
	free(msg->proc_ctx);
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
	const char *bits, *version, *at;
	size_t len;

	/* Postfix sends the address as the client wrote it, in <>. */
	if (*arg == '<')
		arg++;
	len = strlen(arg);
	if (len > 0 && arg[len - 1] == '>')
		len--;
	msg->sender = strndup(arg, len);
	if (msg->sender == NULL)
		return -1;
	at = strrchr(msg->sender, '@');
	if (at != NULL && at[1] != '\0')
		msg->sender_domain = at + 1;

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

/* Lets each processor join the message.  Returns 0 or -1. */
static int mwm_msg_begin_processors(struct mwm_msg *msg)
{
	unsigned int i, count = mwm_processor_count();

	if (count == 0)
		return 0;
	msg->proc_ctx = calloc(count, sizeof(*msg->proc_ctx));
	if (msg->proc_ctx == NULL)
		return -1;
	for (i = 0; i < count; i++) {
		if (mwm_processors[i]->msg_begin(msg, &msg->proc_ctx[i]) < 0) {
			mwm_log(LOG_ERR, "%s: %s could not start",
				msg->queue_id != NULL ? msg->queue_id : "NOQUEUE",
				mwm_processors[i]->name);
			return -1;
		}
	}
	return 0;
}

/* --- callbacks -------------------------------------------------------------- */

static sfsistat mwm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			      unsigned long f2, unsigned long f3,
			      unsigned long *pf0, unsigned long *pf1,
			      unsigned long *pf2, unsigned long *pf3)
{
	unsigned long actions = mwm_processor_actions();
	unsigned long skip = SMFIP_NOHELO | SMFIP_NORCPT | SMFIP_NODATA |
		SMFIP_NOUNKNOWN;

	if ((f0 & actions) != actions) {
		mwm_log(LOG_ERR, "the MTA lacks milter actions 0x%lx",
			actions & ~f0);
		return SMFIS_REJECT;
	}
	/* Without message processors nothing reads the content: keep
	   headers and body off the socket. */
	if (mwm_processor_count() == 0)
		skip |= SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY;

	*pf0 = actions;
	if ((f0 & SMFIF_SETSYMLIST) != 0)
		*pf0 |= SMFIF_SETSYMLIST;
	*pf1 = f1 & skip;
	*pf2 = 0;
	*pf3 = 0;

	if ((f0 & SMFIF_SETSYMLIST) != 0 &&
	    (smfi_setsymlist(ctx, SMFIM_CONNECT, mwm_connect_macros) != MI_SUCCESS ||
	     smfi_setsymlist(ctx, SMFIM_ENVFROM, mwm_mail_macros) != MI_SUCCESS ||
	     smfi_setsymlist(ctx, SMFIM_EOM, mwm_eom_macros) != MI_SUCCESS))
		mwm_log(LOG_WARNING, "could not ask the MTA for macros; "
			"relying on its milter_*_macros settings");
	return SMFIS_CONTINUE;
}

static sfsistat mwm_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct mwm_conn *conn;
	const char *daemon_name, *daemon_addr;

	conn = calloc(1, sizeof(*conn));
	if (conn == NULL)
		return mwm_tempfail(ctx, "connect");
	conn->policy = mwm_config_acquire();

	daemon_name = smfi_getsymval(ctx, "{daemon_name}");
	if (daemon_name != NULL)
		conn->service = mw_policy_service_for_daemon(conn->policy,
							     daemon_name);
	if (conn->service == NULL) {
		/* A Postfix service the policy does not name. */
		mwm_log(LOG_DEBUG, "connect from %s: daemon name %s is not in the policy",
			hostname, daemon_name != NULL ? daemon_name : "(none)");
		mw_policy_unref(&conn->policy);
		free(conn);
		return SMFIS_ACCEPT;
	}

	/* Postfix passes "[addr]" (or "unknown") when the client's name
	   did not forward-confirm. */
	if (hostname != NULL && hostname[0] != '[' &&
	    strcasecmp(hostname, "unknown") != 0) {
		conn->client_name = strdup(hostname);
		if (conn->client_name == NULL)
			goto fail;
	}
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

	if (smfi_setpriv(ctx, conn) != MI_SUCCESS)
		goto fail;
	return SMFIS_CONTINUE;

fail:
	free(conn->client_name);
	mw_policy_unref(&conn->policy);
	free(conn);
	return mwm_tempfail(ctx, "connect");
}

static sfsistat mwm_envfrom(SMFICTX *ctx, char **argv)
{
	struct mwm_conn *conn = mwm_conn_get(ctx);
	struct mwm_result res;

	if (conn == NULL)
		return SMFIS_ACCEPT;
	mwm_msg_free(&conn->msg);
	conn->msg = calloc(1, sizeof(*conn->msg));
	if (conn->msg == NULL)
		return mwm_tempfail(ctx, "MAIL FROM");
	conn->msg->conn = conn;
	if (mwm_msg_init(ctx, conn->msg, argv[0] != NULL ? argv[0] : "") < 0)
		return mwm_tempfail(ctx, "MAIL FROM");

	mwm_check_access(conn, conn->msg, &res);
	if (res.status != SMFIS_CONTINUE)
		return mwm_reply(ctx, conn, conn->msg, &res);
	mwm_check_partner(conn, conn->msg, &res);
	if (res.status != SMFIS_CONTINUE)
		return mwm_reply(ctx, conn, conn->msg, &res);

	if (mwm_msg_begin_processors(conn->msg) < 0)
		return mwm_tempfail(ctx, "MAIL FROM");
	return SMFIS_CONTINUE;
}

/* Runs one step of every processor that joined the message; the first
   failure tempfails it. */
#define MWM_FOREACH_PROCESSOR(msg, i, call)				\
	for ((i) = 0; (msg)->proc_ctx != NULL && mwm_processors[i] != NULL; (i)++) { \
		if ((msg)->proc_ctx[i] != NULL && (call) < 0)		\
			return mwm_processor_failed(ctx, (msg), (i));	\
	}

static sfsistat mwm_processor_failed(SMFICTX *ctx, struct mwm_msg *msg,
				     unsigned int idx)
{
	mwm_log(LOG_ERR, "%s: %s failed; mail is tempfailed",
		msg->queue_id != NULL ? msg->queue_id : "NOQUEUE",
		mwm_processors[idx]->name);
	(void)smfi_setreply(ctx, "451", "4.3.0",
			    "Local error in processing; try again later");
	return SMFIS_TEMPFAIL;
}

static sfsistat mwm_header(SMFICTX *ctx, char *name, char *value)
{
	struct mwm_conn *conn = mwm_conn_get(ctx);
	unsigned int i;

	if (conn == NULL || conn->msg == NULL)
		return SMFIS_CONTINUE;
	MWM_FOREACH_PROCESSOR(conn->msg, i,
		mwm_processors[i]->header(conn->msg->proc_ctx[i], name, value));
	return SMFIS_CONTINUE;
}

static sfsistat mwm_eoh(SMFICTX *ctx)
{
	struct mwm_conn *conn = mwm_conn_get(ctx);
	unsigned int i;

	if (conn == NULL || conn->msg == NULL)
		return SMFIS_CONTINUE;
	MWM_FOREACH_PROCESSOR(conn->msg, i,
		mwm_processors[i]->eoh(conn->msg->proc_ctx[i]));
	return SMFIS_CONTINUE;
}

static sfsistat mwm_body(SMFICTX *ctx, unsigned char *data, size_t size)
{
	struct mwm_conn *conn = mwm_conn_get(ctx);
	unsigned int i;

	if (conn == NULL || conn->msg == NULL)
		return SMFIS_CONTINUE;
	MWM_FOREACH_PROCESSOR(conn->msg, i,
		mwm_processors[i]->body(conn->msg->proc_ctx[i], data, size));
	return SMFIS_CONTINUE;
}

static sfsistat mwm_eom(SMFICTX *ctx)
{
	struct mwm_conn *conn = mwm_conn_get(ctx);
	struct mwm_msg *msg;
	unsigned int i;

	if (conn == NULL || conn->msg == NULL)
		return SMFIS_CONTINUE;
	msg = conn->msg;
	/* The queue file exists by now; processors log with its id. */
	if (msg->queue_id == NULL &&
	    mwm_macro_dup(ctx, "i", &msg->queue_id) < 0)
		return mwm_tempfail(ctx, "end of message");

	/* Message processors (S/MIME signing) change the message here. */
	MWM_FOREACH_PROCESSOR(msg, i,
		mwm_processors[i]->eom(msg->proc_ctx[i], msg, ctx));
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
	.xxfi_header = mwm_header,
	.xxfi_eoh = mwm_eoh,
	.xxfi_body = mwm_body,
	.xxfi_eom = mwm_eom,
	.xxfi_abort = mwm_abort,
	.xxfi_close = mwm_close,
	.xxfi_negotiate = mwm_negotiate,
};
