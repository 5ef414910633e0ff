/* One log line and one event per policy decision.

   The line keeps a fixed key=value order with the client's address early,
   so that a fail2ban filter needs nothing more than
     failregex = mailward: decision=deny service=\S+ rip=<HOST>
   Values that come from the policy file (the rule) or from DNS (the host
   name) are quoted, so that a hostile PTR record cannot forge fields. */

#include "lib.h"
#include "str.h"
#include "mailward-conn.h"
#include "mailward-log.h"

static const char *mailward_verdict_log_name(enum mw_verdict verdict)
{
	switch (verdict) {
	case MW_VERDICT_ALLOW:
		return "allow";
	case MW_VERDICT_DENY:
		return "deny";
	case MW_VERDICT_TEMPFAIL:
	case MW_VERDICT_NEED_HOST:
		/* NEED_HOST never reaches the log: it is resolved first */
		break;
	}
	return "tempfail";
}

/* Double quotes around the value; a quote or backslash inside gets a
   backslash, a control character becomes '?', so that one decision stays
   one line with unambiguous fields. */
static void str_append_quoted(string_t *str, const char *value)
{
	str_append_c(str, '"');
	for (; *value != '\0'; value++) {
		if (*value == '"' || *value == '\\')
			str_append_c(str, '\\');
		str_append_c(str, (unsigned char)*value < 0x20 ? '?' : *value);
	}
	str_append_c(str, '"');
}

const char *mailward_log_decision(struct event *parent,
				  const struct mw_conn *conn,
				  const struct mw_decision *dec,
				  bool quiet_allow)
{
	const char *decision = mailward_verdict_log_name(dec->verdict);
	char ip[MW_ADDR_STRLEN], reason[512];
	const char *host, *mech, *location;
	struct event *event;
	string_t *line;

	if (dec->verdict == MW_VERDICT_ALLOW && quiet_allow &&
	    !event_want_debug(parent)) {
		/* the common case of a busy server: format nothing */
		return decision;
	}

	(void)mw_addr_to_str(&conn->remote_ip, ip, sizeof(ip));
	(void)mw_decision_reason(dec, conn, reason, sizeof(reason));
	host = conn->host_state == MW_HOST_FOUND && conn->host != NULL ?
		conn->host : "";
	mech = conn->mech != NULL ? conn->mech : "";
	location = dec->file == NULL ? "built-in" :
		t_strdup_printf("%s:%u", dec->file, dec->line);

	event = event_create(parent);
	event_set_name(event, MAILWARD_EVENT_DECISION);
	event_add_str(event, "service", conn->service);
	event_add_str(event, "remote_ip", ip);
	event_add_str(event, "host", host);
	event_add_str(event, "mech", mech);
	event_add_str(event, "decision", decision);
	event_add_str(event, "check", mw_check_name(dec->check));
	event_add_str(event, "rule", dec->rule != NULL ? dec->rule : "");
	event_add_str(event, "rule_file", dec->file != NULL ? dec->file : "");
	event_add_int(event, "rule_line", dec->line);
	event_add_str(event, "reason", reason);

	line = t_str_new(256);
	str_printfa(line, MAILWARD_LOG_PREFIX"decision=%s service=%s rip=%s",
		    decision, conn->service, ip);
	str_append(line, " host=");
	str_append_quoted(line, host);
	str_printfa(line, " mech=%s check=%s rule=",
		    mech[0] != '\0' ? mech : "-", mw_check_name(dec->check));
	str_append_quoted(line, dec->rule != NULL ? dec->rule : "");
	str_printfa(line, " at=%s reason=", location);
	str_append_quoted(line, reason);

	if (dec->verdict == MW_VERDICT_ALLOW && quiet_allow)
		e_debug(event, "%s", str_c(line));
	else
		e_info(event, "%s", str_c(line));
	event_unref(&event);
	return decision;
}
