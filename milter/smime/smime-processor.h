#ifndef MW_SMIME_PROCESSOR_H
#define MW_SMIME_PROCESSOR_H

#include "milter-processor.h"

/* S/MIME signing as a message processor of mailward-milter.  Its
   policy_loaded hook (re)loads the key table and sender map the policy
   names, at start and on SIGHUP; messages in flight keep the tables they
   started with, and on failure the previous tables stay. */
extern const struct mwm_processor mwm_smime_processor;

#endif
