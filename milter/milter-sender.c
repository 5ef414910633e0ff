/*
 * The envelope sender as Postfix will queue it.
 *
 * Postfix's {mail_addr} macro is the address after its own parsing and
 * rewriting (smtpd resolves it through trivial-rewrite: comments and
 * source routes gone, "user%domain" and "domain!user" rewritten,
 * trailing dot stripped), which is what leaves in from=<...>.  The text
 * of MAIL FROM is read only when the MTA does not send the macro, and
 * then by the RFC 5321 grammar and Postfix's default rewriting, never by
 * looking for the last '@': "<x@contoso.com(c)>" or "<ceo%contoso.com>"
 * must not pass as some other domain.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "milter.h"
#include "milter-sender.h"
#include "mw-mailaddr.h"

int mwm_sender_init(SMFICTX *ctx, struct mwm_msg *msg, const char *arg)
{
	const char *mail_addr = smfi_getsymval(ctx, "{mail_addr}");
	const char *text = mail_addr != NULL ? mail_addr : arg;
	struct mw_mailaddr addr;
	const char *error;

	if (mw_mailaddr_parse_path(text, MW_MAILADDR_POSTFIX_REWRITE,
				   &addr, &error) == 0) {
		msg->sender = addr.addr;
		msg->sender_domain = addr.domain;
		return 0;
	}
	if (strcmp(error, "out of memory") == 0)
		return -1;
	/* Kept as written for the log line of the refusal. */
	msg->sender = strdup(text);
	if (msg->sender == NULL)
		return -1;
	msg->sender_error = error;
	return 0;
}

void mwm_check_sender(const struct mwm_msg *msg, struct mwm_result *res_r)
{
	memset(res_r, 0, sizeof(*res_r));
	if (msg->sender_error == NULL) {
		res_r->status = SMFIS_CONTINUE;
		return;
	}
	/* A domain that cannot be told is no partner's and no one else's:
	   refused rather than guessed. */
	res_r->status = SMFIS_REJECT;
	strcpy(res_r->rcode, "553");
	strcpy(res_r->xcode, "5.1.7");
	strcpy(res_r->text, "Sender address syntax not accepted");
	res_r->dec.verdict = MW_VERDICT_DENY;
	res_r->dec.rule = "sender address syntax";
	snprintf(res_r->reason, sizeof(res_r->reason),
		 "the sender address cannot be parsed: %s", msg->sender_error);
}
