#ifndef MILTER_H
#define MILTER_H

/*
 * mailward-milter: the SMTP half of the mailward policy.
 *
 * One libmilter session is one SMTP connection (struct mwm_conn); each
 * MAIL FROM starts a message (struct mwm_msg) that lives until the end of
 * the message, an abort, or the next MAIL FROM.  The connection holds a
 * reference to the policy that was current when Postfix reported the
 * connection, so a reload never changes the rules under a session in
 * flight.  Because we ask no reply to connect, Postfix reports it with the
 * session's first MAIL FROM: a session that has only said EHLO before a
 * reload gets the new policy.
 */

#include <stdbool.h>
#include <stddef.h>

#include <libmilter/mfapi.h>

#include "mw-policy.h"

#define MWM_NAME "mailward-milter"

/* Per SMTP connection, from the milter negotiation to the close. */
struct mwm_conn {
	/* Our reference, taken at connect (the first MAIL FROM). */
	struct mw_policy *policy;
	/* The MTA expects no reply to connect (SMFIP_NR_CONN), so the
	   verdict about the service waits for MAIL FROM. */
	bool connect_noreply;
	/* Connect failed (out of memory) while no reply was possible:
	   every MAIL FROM of the session tempfails. */
	bool connect_failed;
	/* The policy service that {daemon_name} maps to; points into
	   policy.  NULL: the policy does not cover this Postfix service. */
	const char *service;
	/* Postfix's forward-confirmed client name; NULL when it has none. */
	char *client_name;
	/* Postfix's lookup of the name failed temporarily ({client_resolve}
	   TEMP): host rules follow the policy's dns on_error. */
	bool client_name_tempfail;
	struct mw_addr client_addr;
	char client_addr_str[MW_ADDR_STRLEN];
	unsigned int client_port;
	struct mw_addr local_addr;
	struct mwm_msg *msg;		/* the message in progress, or NULL */
};

/* The TLS facts Postfix reports with its milter macros. */
struct mwm_tls {
	enum mw_tls_state state;
	int cipher_bits;		/* MW_BITS_UNKNOWN if not sent */
	/* Peer certificate CN and its issuer's CN: Postfix sends them only
	   for a certificate it trusted.  NULL otherwise. */
	char *cert_cn;
	char *issuer_cn;
};

/* Per message, from MAIL FROM to the end of the message.  Message
   processors (see milter-processor.h) read it and keep their own state in
   proc_ctx. */
struct mwm_msg {
	struct mwm_conn *conn;
	/* The envelope sender as Postfix queues it (milter-sender.c),
	   without <>; the domain in canonical form (lower case, no
	   trailing dot, A-labels). */
	char *sender;
	const char *sender_domain;	/* points into sender; NULL for <> */
	/* Why the sender did not parse (then sender is the raw text and
	   sender_domain NULL); NULL when it did. */
	const char *sender_error;
	char *queue_id;			/* NULL until Postfix sends {i} */
	char *auth_type;		/* SASL mechanism, NULL if none */
	char *auth_authen;		/* SASL login name, NULL if none */
	struct mwm_tls tls;
	/* milter-tlsrequired.c: the partner of the first recipient in a
	   partner domain (NULL: none), and how many TLS-Required headers
	   the message has. */
	const struct mw_partner *to_partner;
	unsigned int tls_required_count;
	void **proc_ctx;		/* one slot per registered processor */
};

/* The outcome of a check, ready for the client and for the log. */
struct mwm_result {
	sfsistat status;	/* SMFIS_CONTINUE, SMFIS_REJECT, SMFIS_TEMPFAIL */
	char rcode[4];		/* "530" */
	char xcode[12];		/* "5.7.0" */
	char text[160];		/* what the client reads */
	struct mw_decision dec;
	char reason[256];	/* what the log says */
};

/* milter-access.c: what the policy module needs to know about the
   session, from what Postfix reported. */
void mwm_facts_init(const struct mwm_conn *conn, const struct mwm_msg *msg,
		    struct mw_conn *facts_r);
/* milter-access.c: the service's rules (connection control, TLS, cipher
   strength, authentication). */
void mwm_check_access(const struct mwm_conn *conn, const struct mwm_msg *msg,
		      struct mwm_result *res_r);

/* milter-partner.c: partner domain security. */
void mwm_check_partner(const struct mwm_conn *conn, const struct mwm_msg *msg,
		       struct mwm_result *res_r);

/* milter-reply.c: turn a policy decision into an SMTP reply and a reason
   for the log. */
void mwm_result_set(struct mwm_result *res, const struct mw_decision *dec,
		    const struct mw_conn *facts);
/* Apply a refusal to the session (smfi_setreply) and log it with queue id,
   client, sender, the rule's file:line and the reason.  Returns the status
   for the callback. */
sfsistat mwm_reply(SMFICTX *ctx, const struct mwm_conn *conn,
		   const struct mwm_msg *msg, const struct mwm_result *res);

/* milter-callbacks.c */
extern struct smfiDesc mwm_milter_desc;

#endif
