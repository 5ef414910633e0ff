/* Logging for mailward-milter: syslog or stderr, one line per call. */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "milter.h"
#include "milter-log.h"

static bool mwm_log_stderr;
static bool mwm_log_debug;

void mwm_log_init(bool to_stderr, bool debug)
{
	mwm_log_stderr = to_stderr;
	mwm_log_debug = debug;
	if (!to_stderr)
		openlog(MWM_NAME, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

bool mwm_log_debug_enabled(void)
{
	return mwm_log_debug;
}

static const char *mwm_log_level(int priority)
{
	switch (priority) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
		return "fatal: ";
	case LOG_ERR:
		return "error: ";
	case LOG_WARNING:
		return "warning: ";
	case LOG_DEBUG:
		return "debug: ";
	default:
		return "";
	}
}

void mwm_log(int priority, const char *fmt, ...)
{
	char line[1024];
	va_list args;

	if (priority == LOG_DEBUG && !mwm_log_debug)
		return;

	va_start(args, fmt);
	vsnprintf(line, sizeof(line), fmt, args);
	va_end(args);

	if (mwm_log_stderr) {
		/* One fprintf per line: stdio locks the stream, so lines of
		   concurrent sessions do not interleave. */
		fprintf(stderr, "%s[%ld]: %s%s\n", MWM_NAME, (long)getpid(),
			mwm_log_level(priority), line);
	} else {
		syslog(priority, "%s%s", mwm_log_level(priority), line);
	}
}
