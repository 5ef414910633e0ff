#ifndef MW_DECIDE_PRIVATE_H
#define MW_DECIDE_PRIVATE_H

#include "mw-policy-private.h"

/* What a decision is evaluated against: the connection, and, while
   deciding for one assumed outcome of a pending name lookup, the host
   pattern lists that the name is assumed to match (every other list
   does not match). */
struct mw_eval {
	const struct mw_conn *conn;
	bool assume;
	const char *const *matched[2];
};

/* mw_decide() for one evaluation. */
enum mw_verdict mw_decide_eval(const struct mw_policy *policy,
			       const struct mw_service *svc,
			       const struct mw_eval *ev,
			       struct mw_decision *dec_r);

bool mw_host_lists_equal(const char *const *a, const char *const *b);
bool mw_mech_is_cleartext(const char *mech);

#endif
