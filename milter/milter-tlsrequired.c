/* "TLS-Required: no" on mail to partners: see milter-tlsrequired.h. */

#include <strings.h>

#include "milter-log.h"
#include "milter-tlsrequired.h"
#include "mw-mailaddr.h"

#define MWM_TLSREQ_HEADER "TLS-Required"

bool mwm_tlsreq_wanted(const struct mw_policy *policy)
{
	return policy != NULL && mw_policy_partner_count(policy) > 0;
}

void mwm_tlsreq_rcpt(struct mwm_msg *msg, const char *rcpt)
{
	struct mw_mailaddr addr;
	const char *error;

	if (msg->to_partner != NULL)
		return;
	/* A recipient that does not parse is Postfix's to refuse; it is
	   no partner's. */
	if (mw_mailaddr_parse_path(rcpt, MW_MAILADDR_POSTFIX_REWRITE,
				   &addr, &error) < 0)
		return;
	if (addr.domain != NULL)
		msg->to_partner = mw_policy_partner_find(msg->conn->policy,
							 addr.domain);
	mw_mailaddr_free(&addr);
}

void mwm_tlsreq_header(struct mwm_msg *msg, const char *name)
{
	/* RFC 8689 defines the value "No" only; any TLS-Required header
	   asks for less TLS, so every one goes, whatever its value. */
	if (strcasecmp(name, MWM_TLSREQ_HEADER) == 0)
		msg->tls_required_count++;
}

static void mwm_tlsreq_log(const struct mwm_msg *msg, const char *what)
{
	const struct mw_partner *partner = msg->to_partner;
	char sender[MWM_LOG_FIELD_SIZE];

	mwm_log(LOG_INFO, "%s: %s: sender=<%s>, rule=%s:%u \"partner %s\": "
		"mail to partner domain %s must keep its TLS policy "
		"(tls_required_no = %s)",
		msg->queue_id != NULL ? msg->queue_id : "NOQUEUE", what,
		mwm_log_field(msg->sender != NULL ? msg->sender : "", sender,
			      sizeof(sender)),
		partner->file, partner->line, partner->domain, partner->domain,
		partner->tls_required_no == MW_TLS_REQUIRED_NO_REJECT ?
		"reject" : "remove");
}

sfsistat mwm_tlsreq_eoh(SMFICTX *ctx, const struct mwm_msg *msg)
{
	if (msg->to_partner == NULL || msg->tls_required_count == 0 ||
	    msg->to_partner->tls_required_no != MW_TLS_REQUIRED_NO_REJECT)
		return SMFIS_CONTINUE;
	mwm_tlsreq_log(msg, "reject: TLS-Required header");
	(void)smfi_setreply(ctx, "550", "5.7.1",
			    "A TLS-Required header is not accepted on mail to this partner domain");
	return SMFIS_REJECT;
}

bool mwm_tlsreq_pending(const struct mwm_msg *msg)
{
	return msg->to_partner != NULL && msg->tls_required_count > 0;
}

int mwm_tlsreq_eom(SMFICTX *ctx, const struct mwm_msg *msg,
		   const char **error_r)
{
	unsigned int i;

	if (!mwm_tlsreq_pending(msg))
		return 0;
	/* From the last: removing one must not move the index of the
	   next. */
	for (i = msg->tls_required_count; i > 0; i--) {
		if (smfi_chgheader(ctx, (char *)MWM_TLSREQ_HEADER, (int)i,
				   NULL) != MI_SUCCESS) {
			*error_r = "removing the TLS-Required header failed";
			return -1;
		}
	}
	mwm_tlsreq_log(msg, "removed TLS-Required header");
	return 0;
}
