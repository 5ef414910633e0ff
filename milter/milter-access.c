/*
 * The service's own rules at MAIL FROM: connection control (address and
 * host rules) and the submission requirements (TLS, cipher strength,
 * authentication).  One mw_decide() call covers them all, because the
 * policy's "from" blocks may relax a requirement for some clients.
 *
 * Everything is decided at MAIL FROM, as Postfix does with
 * smtpd_delay_reject: by then Postfix has sent the TLS facts (HELO
 * macros, again after STARTTLS) and the SASL login (MAIL macros), and the
 * log can name the sender.
 */

#include "milter.h"

void mwm_facts_init(const struct mwm_conn *conn, const struct mwm_msg *msg,
		    struct mw_conn *facts_r)
{
	mw_conn_init(facts_r);
	facts_r->service = conn->service;
	facts_r->remote_ip = conn->client_addr;
	facts_r->remote_port = conn->client_port;
	facts_r->local_ip = conn->local_addr;

	/* Postfix has already looked the client up and forward-confirmed
	   the name ("unknown" otherwise); the milter never asks DNS. */
	if (conn->client_name != NULL) {
		facts_r->host_state = MW_HOST_FOUND;
		facts_r->host = conn->client_name;
	} else if (conn->client_name_tempfail) {
		facts_r->host_state = MW_HOST_FAILED;
	} else {
		facts_r->host_state = MW_HOST_NONE;
	}

	facts_r->tls = msg->tls.state;
	facts_r->cipher_bits = msg->tls.cipher_bits;
	/* An untrusted certificate reaches us as no certificate at all. */
	facts_r->cert = msg->tls.cert_cn != NULL ? MW_CERT_VALID : MW_CERT_NONE;
	facts_r->auth = msg->auth_type != NULL ? MW_AUTH_DONE : MW_AUTH_NONE;
	facts_r->mech = msg->auth_type;
}

void mwm_check_access(const struct mwm_conn *conn, const struct mwm_msg *msg,
		      struct mwm_result *res_r)
{
	struct mw_conn facts;
	struct mw_decision dec;

	mwm_facts_init(conn, msg, &facts);
	(void)mw_decide(conn->policy, &facts, &dec);
	mwm_result_set(res_r, &dec, &facts);
}
