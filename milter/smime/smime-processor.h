#ifndef MW_SMIME_PROCESSOR_H
#define MW_SMIME_PROCESSOR_H

#include "milter-processor.h"

/* S/MIME signing as a message processor of mailward-milter. */
extern const struct mwm_processor mwm_smime_processor;

/* (Re)loads the key table and sender map the policy names; the milter
   calls it through the processor's policy_loaded hook whenever it loads
   a policy (start, SIGHUP).  Thread-safe: messages in flight keep the
   tables they started with.  On failure the previous tables stay in use
   and -1 is returned (after logging why, when log is set). */
int mwm_smime_policy_loaded(const struct mw_policy *policy, bool log);
/* Drops the tables at exit. */
void mwm_smime_deinit(void);

#endif
