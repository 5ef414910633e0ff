#ifndef MILTER_LOG_H
#define MILTER_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Logs go to syslog (facility mail), or to stderr when the daemon runs in
   the foreground without -s, which is what systemd's journal and the tests
   read.  Every function may be called from any thread. */
void mwm_log_init(bool to_stderr, bool debug);
void mwm_log(int priority, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool mwm_log_debug_enabled(void);

#endif
