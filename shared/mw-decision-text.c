/* Words for decisions: names for logs and events, the full reason for
   the log, and the short text a client may see. */

#include "mw-policy-private.h"

#include <stdio.h>

const char *mw_verdict_name(enum mw_verdict verdict)
{
	switch (verdict) {
	case MW_VERDICT_ALLOW: return "allow";
	case MW_VERDICT_DENY: return "deny";
	case MW_VERDICT_TEMPFAIL: return "tempfail";
	case MW_VERDICT_NEED_HOST: return "need-host";
	}
	return "unknown";
}

const char *mw_check_name(enum mw_check check)
{
	switch (check) {
	case MW_CHECK_DEFAULT: return "default";
	case MW_CHECK_RULE: return "rule";
	case MW_CHECK_HOST_LOOKUP: return "host-lookup";
	case MW_CHECK_TLS: return "tls";
	case MW_CHECK_CIPHER_BITS: return "cipher-bits";
	case MW_CHECK_CLIENT_CERT: return "client-cert";
	case MW_CHECK_MECHANISM: return "mechanism";
	case MW_CHECK_CLEARTEXT: return "cleartext";
	case MW_CHECK_AUTH: return "auth";
	case MW_CHECK_PARTNER_TLS: return "partner-tls";
	case MW_CHECK_PARTNER_CERT: return "partner-cert";
	case MW_CHECK_HOST_PENDING: return "host-pending";
	}
	return "unknown";
}

const char *mw_decision_reason(const struct mw_decision *dec,
			       const struct mw_conn *conn,
			       char *buf, size_t size)
{
	char addr[MW_ADDR_STRLEN];
	const char *mech = conn != NULL && conn->mech != NULL ? conn->mech : "?";
	const char *host = conn != NULL && conn->host_state == MW_HOST_FOUND &&
		conn->host != NULL ? conn->host : NULL;
	const char *rule = dec->rule != NULL ? dec->rule : "?";

	if (conn != NULL)
		mw_addr_to_str(&conn->remote_ip, addr, sizeof(addr));
	else
		snprintf(addr, sizeof(addr), "client");

	switch (dec->check) {
	case MW_CHECK_RULE:
		if (dec->verdict == MW_VERDICT_NEED_HOST) {
			snprintf(buf, size, "'%s' needs the host name of %s", rule, addr);
			break;
		}
		snprintf(buf, size, "%s%s%s%s matched '%s'", addr,
			 host != NULL ? " (" : "", host != NULL ? host : "",
			 host != NULL ? ")" : "", rule);
		break;
	case MW_CHECK_DEFAULT:
		snprintf(buf, size, "%s matched no rule; %s", addr, rule);
		break;
	case MW_CHECK_HOST_LOOKUP:
		snprintf(buf, size,
			 "host name lookup for %s failed, needed by '%s'; dns on_error = %s",
			 addr, rule, dec->verdict == MW_VERDICT_TEMPFAIL ? "tempfail" :
			 dec->verdict == MW_VERDICT_DENY ? "deny" : "allow");
		break;
	case MW_CHECK_TLS:
		snprintf(buf, size, "TLS is required, but the connection is not encrypted (%s)",
			 rule);
		break;
	case MW_CHECK_CIPHER_BITS:
		snprintf(buf, size, "cipher strength %d bits is below the minimum of %d (%s)",
			 conn != NULL ? conn->cipher_bits : 0, dec->required_bits, rule);
		break;
	case MW_CHECK_CLIENT_CERT:
		snprintf(buf, size, "a verified client certificate is required (%s)", rule);
		break;
	case MW_CHECK_MECHANISM:
		snprintf(buf, size, "mechanism %s is not allowed (%s)", mech, rule);
		break;
	case MW_CHECK_CLEARTEXT:
		snprintf(buf, size, "cleartext mechanism %s is not allowed %s(%s)", mech,
			 conn != NULL && conn->tls == MW_TLS_NONE ? "without TLS " : "",
			 rule);
		break;
	case MW_CHECK_AUTH:
		snprintf(buf, size, "authentication is required (%s)", rule);
		break;
	case MW_CHECK_HOST_PENDING:
		snprintf(buf, size,
			 "cleartext mechanism %s is not offered before TLS: the host name of %s is not known yet, and '%s' may refuse it",
			 mech, addr, rule);
		break;
	case MW_CHECK_PARTNER_TLS:
		snprintf(buf, size, "mail from partner domain %s must arrive over TLS",
			 dec->partner != NULL ? dec->partner : rule);
		break;
	case MW_CHECK_PARTNER_CERT:
		if (dec->verdict == MW_VERDICT_ALLOW) {
			snprintf(buf, size, "partner %s presented a matching certificate",
				 dec->partner != NULL ? dec->partner : rule);
			break;
		}
		snprintf(buf, size,
			 "mail from partner domain %s needs a trusted client certificate matching its cert_cn and issuer_cn",
			 dec->partner != NULL ? dec->partner : rule);
		break;
	}
	return buf;
}

const char *mw_decision_client_text(const struct mw_decision *dec)
{
	if (dec->verdict == MW_VERDICT_TEMPFAIL)
		return "Temporary failure, try again later";
	switch (dec->check) {
	case MW_CHECK_RULE:
	case MW_CHECK_DEFAULT:
	case MW_CHECK_HOST_LOOKUP:
		return "Access denied";
	case MW_CHECK_TLS:
		return "TLS required";
	case MW_CHECK_CIPHER_BITS:
		return "Cipher too weak";
	case MW_CHECK_CLIENT_CERT:
		return "Client certificate required";
	case MW_CHECK_MECHANISM:
		return "Authentication mechanism not allowed";
	case MW_CHECK_CLEARTEXT:
	case MW_CHECK_HOST_PENDING:
		return "Plaintext authentication disallowed without TLS";
	case MW_CHECK_AUTH:
		return "Authentication required";
	case MW_CHECK_PARTNER_TLS:
		return "TLS required for this sender domain";
	case MW_CHECK_PARTNER_CERT:
		return "Client certificate required for this sender domain";
	}
	return "Access denied";
}
