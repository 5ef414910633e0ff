/*
 * SMTP replies for policy refusals, and the log line for each.
 *
 * The codes follow RFC 3207 (STARTTLS), RFC 4954 (AUTH) and the enhanced
 * status codes of RFC 3463 and RFC 5248.  A tempfail keeps the detail
 * code and changes the class to 4, so the client retries.
 */

#include <stdio.h>
#include <string.h>

#include "milter.h"
#include "milter-log.h"

struct mwm_reply_text {
	const char *rcode;
	const char *detail;	/* enhanced code without the class */
	const char *text;
};

static const struct mwm_reply_text mwm_reply_texts[] = {
	[MW_CHECK_DEFAULT] = { "554", "7.1", "Access denied" },
	[MW_CHECK_RULE] = { "554", "7.1", "Access denied" },
	[MW_CHECK_HOST_LOOKUP] = { "554", "7.25",
		"Client host name could not be verified" },
	[MW_CHECK_TLS] = { "530", "7.0", "Must issue a STARTTLS command first" },
	/* Text written in mwm_result_set(), with the numbers. */
	[MW_CHECK_CIPHER_BITS] = { "554", "7.6", NULL },
	[MW_CHECK_CLIENT_CERT] = { "554", "7.1",
		"A trusted client certificate is required" },
	[MW_CHECK_MECHANISM] = { "534", "7.9",
		"Authentication mechanism is too weak" },
	[MW_CHECK_CLEARTEXT] = { "538", "7.11",
		"Encryption required for requested authentication mechanism" },
	[MW_CHECK_AUTH] = { "530", "7.0", "Authentication required" },
	[MW_CHECK_PARTNER_TLS] = { "550", "7.10",
		"Mail from this sender domain requires TLS" },
	[MW_CHECK_PARTNER_CERT] = { "550", "7.1",
		"Mail from this sender domain requires the partner's TLS client certificate" },
	/* Only the login side asks before the host name is known; should a
	   decision ever come back pending here, the client's password must
	   still travel encrypted. */
	[MW_CHECK_HOST_PENDING] = { "538", "7.11",
		"Encryption required for requested authentication mechanism" },
};

void mwm_result_set(struct mwm_result *res, const struct mw_decision *dec,
		    const struct mw_conn *facts)
{
	const struct mwm_reply_text *reply = &mwm_reply_texts[MW_CHECK_RULE];
	bool tempfail;

	res->dec = *dec;
	switch (dec->verdict) {
	case MW_VERDICT_ALLOW:
		/* The common case: nothing to tell or log. */
		res->status = SMFIS_CONTINUE;
		res->reason[0] = '\0';
		return;
	case MW_VERDICT_DENY:
		tempfail = false;
		break;
	case MW_VERDICT_TEMPFAIL:
	case MW_VERDICT_NEED_HOST:
	default:
		/* NEED_HOST cannot happen: Postfix has always looked the
		   name up.  If it ever did, retrying is the safe answer. */
		tempfail = true;
		break;
	}

	if ((size_t)dec->check < sizeof(mwm_reply_texts) / sizeof(mwm_reply_texts[0]) &&
	    mwm_reply_texts[dec->check].rcode != NULL)
		reply = &mwm_reply_texts[dec->check];

	mw_decision_reason(dec, facts, res->reason, sizeof(res->reason));
	res->status = tempfail ? SMFIS_TEMPFAIL : SMFIS_REJECT;
	snprintf(res->rcode, sizeof(res->rcode), "%s",
		 tempfail ? "451" : reply->rcode);
	snprintf(res->xcode, sizeof(res->xcode), "%c.%s",
		 tempfail ? '4' : '5', reply->detail);
	if (dec->check == MW_CHECK_CIPHER_BITS) {
		snprintf(res->text, sizeof(res->text),
			 "Encryption too weak: %d-bit cipher, at least %d bits required",
			 facts->cipher_bits, dec->required_bits);
	} else {
		snprintf(res->text, sizeof(res->text), "%s", reply->text);
	}
}

sfsistat mwm_reply(SMFICTX *ctx, const struct mwm_conn *conn,
		   const struct mwm_msg *msg, const struct mwm_result *res)
{
	const struct mw_decision *dec = &res->dec;
	char client[MWM_LOG_FIELD_SIZE], sender[MWM_LOG_FIELD_SIZE];

	/* Without a custom reply Postfix would still refuse, with its
	   generic text; the refusal itself never depends on this call. */
	if (smfi_setreply(ctx, (char *)res->rcode, (char *)res->xcode,
			  (char *)res->text) != MI_SUCCESS) {
		mwm_log(LOG_WARNING, "smfi_setreply(%s %s) failed",
			res->rcode, res->xcode);
	}

	mwm_log(LOG_INFO,
		"%s: %s: client=%s[%s], sender=<%s>, service=%s, rule=%s:%u \"%s\": %s; reply=%s %s %s",
		msg != NULL && msg->queue_id != NULL ? msg->queue_id : "NOQUEUE",
		res->status == SMFIS_TEMPFAIL ? "tempfail" : "reject",
		mwm_log_field(conn->client_name != NULL ? conn->client_name :
			      "unknown", client, sizeof(client)),
		conn->client_addr_str,
		mwm_log_field(msg != NULL && msg->sender != NULL ? msg->sender : "",
			      sender, sizeof(sender)),
		conn->service != NULL ? conn->service : "-",
		dec->file != NULL ? dec->file : "(default)", dec->line,
		dec->rule != NULL ? dec->rule : "", res->reason,
		res->rcode, res->xcode, res->text);
	return res->status;
}
