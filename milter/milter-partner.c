/*
 * Partner domain security ("domain security" between organisations):
 * mail whose envelope sender is in a partner domain must come over TLS
 * with a client certificate that Postfix trusted and whose CN and issuer
 * CN match the partner's patterns.
 *
 * Postfix sends {cert_subject} and {cert_issuer} only for a trusted
 * certificate, so "no CN" covers both a missing and an untrusted one; the
 * MX service must ask for certificates (smtpd_tls_ask_ccert = yes) and
 * name the partners' CAs in smtpd_tls_CAfile.
 */

#include "milter.h"

void mwm_check_partner(const struct mwm_conn *conn, const struct mwm_msg *msg,
		       struct mwm_result *res_r)
{
	struct mw_partner_query query = {
		.service = conn->service,
		.sender_domain = msg->sender_domain,
		.tls = msg->tls.state,
		.cert_cn = msg->tls.cert_cn,
		.issuer_cn = msg->tls.issuer_cn,
	};
	struct mw_conn facts;
	struct mw_decision dec;

	mwm_facts_init(conn, msg, &facts);
	if (msg->sender_domain == NULL) {
		/* The null sender (bounces) belongs to no partner. */
		dec = (struct mw_decision){ .verdict = MW_VERDICT_ALLOW };
	} else {
		(void)mw_decide_partner(conn->policy, &query, &dec);
	}
	mwm_result_set(res_r, &dec, &facts);
}
