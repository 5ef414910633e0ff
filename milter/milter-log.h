#ifndef MILTER_LOG_H
#define MILTER_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

/* Logs go to syslog (facility mail), or to stderr when the daemon runs in
   the foreground without -s, which is what systemd's journal and the tests
   read.  Every function may be called from any thread. */
void mwm_log_init(bool to_stderr, bool debug);
void mwm_log(int priority, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool mwm_log_debug_enabled(void);
/* While on (start-up, before the daemon detaches), warnings and errors
   that go to syslog go to stderr as well. */
void mwm_log_startup(bool on);

/* Client-supplied text (envelope sender, host names, logins) made safe
   for one field of a log line: control characters and the characters
   that delimit fields (space, \, ", <, >, [, ], =) become \xNN, so that
   a sender cannot end its field early or forge a "client=name[addr]" that
   a fail2ban pattern would read.  mwm_log() itself escapes control
   characters in the whole line.  Returns buf; MWM_LOG_FIELD_SIZE holds
   any value that fits a log line. */
#define MWM_LOG_FIELD_SIZE 1024
const char *mwm_log_field(const char *value, char *buf, size_t size);

#endif
