#ifndef MAILWARD_LOG_H
#define MAILWARD_LOG_H

#include "mw-policy.h"

struct event;

/* Name of the event sent for every decision.  Its fields (service,
   remote_ip, host, mech, decision, check, rule, rule_file, rule_line,
   reason) let a metric { } count decisions, for example:
     metric mailward_deny {
       filter = event=mailward_decision AND decision=deny
       group_by = service check
     } */
#define MAILWARD_EVENT_DECISION "mailward_decision"

/* Logs one line for the decision, as a child event of parent, and returns
   the decision's name ("allow", "deny", "tempfail").  Denials and
   temporary failures are logged at info level, allowed logins too unless
   quiet_allow is set (then at debug level, and without an event unless
   debug logging is on). */
const char *mailward_log_decision(struct event *parent,
				  const struct mw_conn *conn,
				  const struct mw_decision *dec,
				  bool quiet_allow);

#endif
