/* Deciding before the host name is known: every outcome of the pending
   lookup is decided, and the most restrictive answer wins.

   The decision depends on the name only through which host rule and
   which "from" block match first.  For any real name, assuming that
   exactly the pattern lists of those two match (and no other) gives the
   same decision, because every host matcher before them must not match
   in either case.  So the candidates are: no list matches, one list
   matches, two lists match, and the lookup fails; that is 1 + n + n(n-1)/2
   + 1 evaluations for n distinct lists, however the lists overlap. */

#include "mw-decide-private.h"

#include <string.h>

struct mw_pending {
	bool admitted;		/* some outcome passes the connection rules */
	bool all_allow;
	bool have_deny, have_refusal;
	struct mw_decision deny;	/* first setting that refuses */
	struct mw_decision refusal;	/* first connection refusal */
};

static unsigned int mw_matcher_count(const struct mw_service *svc)
{
	return svc->rule_count + svc->from_count;
}

static const struct mw_matcher *
mw_matcher_at(const struct mw_service *svc, unsigned int idx)
{
	return idx < svc->rule_count ? &svc->rules[idx].match :
		&svc->froms[idx - svc->rule_count].match;
}

/* The host list of the idx-th matcher, if no earlier matcher has the
   same one; NULL otherwise. */
static const char *const *
mw_distinct_host_list(const struct mw_service *svc, unsigned int idx)
{
	const struct mw_matcher *match = mw_matcher_at(svc, idx);
	unsigned int i;

	if (match->kind != MW_MATCH_HOST)
		return NULL;
	for (i = 0; i < idx; i++) {
		const struct mw_matcher *prev = mw_matcher_at(svc, i);

		if (prev->kind == MW_MATCH_HOST &&
		    mw_host_lists_equal(prev->hosts, match->hosts))
			return NULL;
	}
	return match->hosts;
}

static bool mw_check_is_connection(enum mw_check check)
{
	return check == MW_CHECK_RULE || check == MW_CHECK_DEFAULT ||
		check == MW_CHECK_HOST_LOOKUP;
}

static void mw_pending_add(struct mw_pending *acc,
			   const struct mw_policy *policy,
			   const struct mw_service *svc,
			   const struct mw_eval *ev)
{
	struct mw_decision dec;

	switch (mw_decide_eval(policy, svc, ev, &dec)) {
	case MW_VERDICT_ALLOW:
		acc->admitted = true;
		return;
	case MW_VERDICT_NEED_HOST:
		/* cannot happen: every host matcher has an answer */
		acc->all_allow = false;
		return;
	case MW_VERDICT_DENY:
	case MW_VERDICT_TEMPFAIL:
		break;
	}
	acc->all_allow = false;
	if (mw_check_is_connection(dec.check)) {
		/* a DENY outranks a TEMPFAIL for the client's answer */
		if (!acc->have_refusal ||
		    (acc->refusal.verdict == MW_VERDICT_TEMPFAIL &&
		     dec.verdict == MW_VERDICT_DENY))
			acc->refusal = dec;
		acc->have_refusal = true;
		return;
	}
	acc->admitted = true;
	if (!acc->have_deny)
		acc->deny = dec;
	acc->have_deny = true;
}

static bool mw_pending_protected(const struct mw_service *svc,
				 enum mw_tls_state tls)
{
	return tls == MW_TLS_ACTIVE ||
		(tls == MW_TLS_SECURED &&
		 svc->settings.value[MW_SET_SECURED_IS_TLS] != 0);
}

enum mw_verdict mw_decide_pending_host(const struct mw_policy *policy,
				       const struct mw_conn *conn,
				       struct mw_decision *dec_r)
{
	const struct mw_service *svc = mw_policy_service(policy, conn->service);
	struct mw_pending acc = { .all_allow = true };
	struct mw_decision need;
	struct mw_conn failed;
	struct mw_eval ev = { .conn = conn, .assume = true };
	unsigned int i, j, count = mw_matcher_count(svc);

	if (conn->host_state != MW_HOST_NOT_LOOKED_UP ||
	    mw_decide(policy, conn, dec_r) != MW_VERDICT_NEED_HOST)
		return mw_decide(policy, conn, dec_r);
	need = *dec_r;

	/* no name, or one that no pattern covers */
	mw_pending_add(&acc, policy, svc, &ev);
	for (i = 0; i < count; i++) {
		ev.matched[0] = mw_distinct_host_list(svc, i);
		if (ev.matched[0] == NULL)
			continue;
		ev.matched[1] = NULL;
		mw_pending_add(&acc, policy, svc, &ev);
		for (j = i + 1; j < count; j++) {
			ev.matched[1] = mw_distinct_host_list(svc, j);
			if (ev.matched[1] != NULL)
				mw_pending_add(&acc, policy, svc, &ev);
		}
	}
	/* the lookup fails: dns on_error decides */
	failed = *conn;
	failed.host_state = MW_HOST_FAILED;
	ev.conn = &failed;
	ev.assume = false;
	mw_pending_add(&acc, policy, svc, &ev);

	if (!acc.admitted) {
		*dec_r = acc.refusal;
		return dec_r->verdict;
	}
	if (acc.have_deny) {
		*dec_r = acc.deny;
		return MW_VERDICT_DENY;
	}
	if (acc.have_refusal && conn->mech != NULL &&
	    mw_mech_is_cleartext(conn->mech) && conn->tls != MW_TLS_UNKNOWN &&
	    !mw_pending_protected(svc, conn->tls)) {
		*dec_r = acc.refusal;
		dec_r->verdict = MW_VERDICT_DENY;
		dec_r->check = MW_CHECK_HOST_PENDING;
		return MW_VERDICT_DENY;
	}
	if (acc.all_allow) {
		/* the log names what the name lookup would have been for */
		*dec_r = need;
		dec_r->verdict = MW_VERDICT_ALLOW;
		return MW_VERDICT_ALLOW;
	}
	*dec_r = need;
	return MW_VERDICT_NEED_HOST;
}

bool mw_policy_service_secured_is_tls(const struct mw_policy *policy,
				      const char *service)
{
	return mw_policy_service(policy, service)->
		settings.value[MW_SET_SECURED_IS_TLS] != 0;
}
