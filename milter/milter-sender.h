#ifndef MILTER_SENDER_H
#define MILTER_SENDER_H

#include "milter.h"

/* Sets msg->sender and msg->sender_domain from Postfix's {mail_addr}
   macro, or from the MAIL FROM argument arg when the MTA sent none.  An
   address that does not parse leaves sender_domain NULL and the reason in
   msg->sender_error.  Returns 0, or -1 when out of memory. */
int mwm_sender_init(SMFICTX *ctx, struct mwm_msg *msg, const char *arg);

/* Refuses (553 5.1.7) a sender whose address did not parse. */
void mwm_check_sender(const struct mwm_msg *msg, struct mwm_result *res_r);

#endif
