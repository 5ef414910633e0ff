#ifndef MILTER_TLSREQUIRED_H
#define MILTER_TLSREQUIRED_H

#include <stdbool.h>

#include "milter.h"

/*
 * RFC 8689 "TLS-Required: no" on mail to a partner domain.  Postfix 3.10
 * honours that header by default (tls_required_enable = yes) and then
 * sends the message with opportunistic TLS, whatever smtp_tls_policy_maps
 * says for the domain; the partner agreement that "mailward partners"
 * puts in that table must not be a sender's to switch off.  So when a
 * recipient is in a partner domain, the milter removes every TLS-Required
 * header at the end of the message, or refuses the message after its
 * header (tls_required_no = reject), and logs it.
 *
 * This needs the recipients and the header, which the milter otherwise
 * does without: it asks for them only while the policy has partners.
 */

/* True if the policy has partners, so that recipients and headers are
   needed. */
bool mwm_tlsreq_wanted(const struct mw_policy *policy);
/* A recipient (Postfix's {rcpt_addr}, or the RCPT TO argument). */
void mwm_tlsreq_rcpt(struct mwm_msg *msg, const char *rcpt);
void mwm_tlsreq_header(struct mwm_msg *msg, const char *name);
/* At the end of the header: SMFIS_CONTINUE, or SMFIS_REJECT after
   setting the reply and logging (tls_required_no = reject). */
sfsistat mwm_tlsreq_eoh(SMFICTX *ctx, const struct mwm_msg *msg);
/* True if the message still needs its end (a header to remove). */
bool mwm_tlsreq_pending(const struct mwm_msg *msg);
/* At the end of the message: removes the headers and logs it.  Returns
   0, or -1 with the reason in *error_r. */
int mwm_tlsreq_eom(SMFICTX *ctx, const struct mwm_msg *msg,
		   const char **error_r);

#endif
