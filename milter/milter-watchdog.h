#ifndef MILTER_WATCHDOG_H
#define MILTER_WATCHDOG_H

#include <stddef.h>

/*
 * The supervisor's heartbeat: a worker is alive when it answers the
 * milter protocol's option negotiation on the socket, as Postfix's first
 * packet would be answered.  A worker that is stopped (SIGSTOP), dead
 * locked or too busy to accept connections fails it, where a thread that
 * only says "still here" would not.
 */

/* Connects to spec, negotiates and says QUIT.  Returns 0 if a milter
   answered within timeout_ms, or -1 with the reason in error. */
int mwm_watchdog_probe(const char *spec, int timeout_ms, char *error,
		       size_t size);

#endif
