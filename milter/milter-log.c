/* Logging for mailward-milter: syslog or stderr, one line per call. */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "milter.h"
#include "milter-log.h"

static bool mwm_log_stderr;
static bool mwm_log_debug;
static bool mwm_log_startup_stderr;

void mwm_log_init(bool to_stderr, bool debug)
{
	mwm_log_stderr = to_stderr;
	mwm_log_debug = debug;
	if (!to_stderr)
		openlog(MWM_NAME, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void mwm_log_startup(bool on)
{
	mwm_log_startup_stderr = on;
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

/* in as \xNN into out when it is a control character, or (field) one
   that delimits fields of a log line. */
static size_t mwm_log_escape(const char *in, char *out, size_t size,
			     bool field)
{
	static const char hex[] = "0123456789abcdef";
	size_t len = 0;

	for (; *in != '\0' && len + 5 < size; in++) {
		unsigned char c = (unsigned char)*in;

		if (c < 0x20 || c == 0x7f ||
		    (field && (c == ' ' || c == '\\' || c == '"' || c == '<' ||
			       c == '>' || c == '[' || c == ']' || c == '='))) {
			out[len++] = '\\';
			out[len++] = 'x';
			out[len++] = hex[c >> 4];
			out[len++] = hex[c & 15];
		} else {
			out[len++] = (char)c;
		}
	}
	out[len] = '\0';
	return len;
}

const char *mwm_log_field(const char *value, char *buf, size_t size)
{
	(void)mwm_log_escape(value, buf, size, true);
	return buf;
}

void mwm_log(int priority, const char *fmt, ...)
{
	char raw[1024], line[1024 * 4 + 1];
	va_list args;

	if (priority == LOG_DEBUG && !mwm_log_debug)
		return;

	va_start(args, fmt);
	vsnprintf(raw, sizeof(raw), fmt, args);
	va_end(args);
	/* Whatever a caller passed, one call stays one line of text. */
	(void)mwm_log_escape(raw, line, sizeof(line), false);

	if (mwm_log_stderr) {
		/* One fprintf per line: stdio locks the stream, so lines of
		   concurrent sessions do not interleave. */
		fprintf(stderr, "%s[%ld]: %s%s\n", MWM_NAME, (long)getpid(),
			mwm_log_level(priority), line);
	} else {
		syslog(priority, "%s%s", mwm_log_level(priority), line);
		if (mwm_log_startup_stderr && priority <= LOG_WARNING)
			fprintf(stderr, "%s: %s%s\n", MWM_NAME,
				mwm_log_level(priority), line);
	}
}
