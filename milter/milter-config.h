#ifndef MILTER_CONFIG_H
#define MILTER_CONFIG_H

#include <stdbool.h>

#include "mw-policy.h"

/*
 * The current policy, replaced as a whole on reload.
 *
 * Each SMTP session takes a reference when Postfix reports the connection
 * (with its first MAIL FROM, see milter.h) and drops it when the
 * connection closes, so a session finishes on the policy it
 * started with; the old policy is freed by whichever of the reload and the
 * last session drops the last reference.
 */

/* Loads the policy at start-up.  Returns 0, or -1 after logging every
   diagnostic (file:line:column) when the file is invalid. */
int mwm_config_init(const char *path);
/* Loads the file again and, if it is valid, makes it current.  If not,
   keeps the current policy and, with log, logs the first error.  Returns
   0 or -1. */
int mwm_config_reload(bool log);
void mwm_config_deinit(void);

/* A new reference to the current policy; release it with
   mw_policy_unref(). */
struct mw_policy *mwm_config_acquire(void);

#endif
