/* The decision engine: a pure function of the policy and what the caller
   knows about a connection.  It reads only the immutable policy and the
   caller's structs, so it is thread-safe and allocation-free. */

#include "mw-decide-private.h"
#include "mw-match.h"

#include <string.h>
#include <strings.h>

enum mw_match_result {
	MW_MATCHED,
	MW_NOT_MATCHED,
	MW_MATCH_NEEDS_HOST,
	MW_MATCH_HOST_FAILED,
};

void mw_conn_init(struct mw_conn *conn)
{
	memset(conn, 0, sizeof(*conn));
	conn->cipher_bits = MW_BITS_UNKNOWN;
}

const struct mw_service *mw_policy_service(const struct mw_policy *policy,
					   const char *name)
{
	unsigned int i;

	if (name != NULL) {
		for (i = 0; i < policy->service_count; i++) {
			if (strcmp(policy->services[i].name, name) == 0)
				return &policy->services[i];
		}
	}
	return &policy->defaults;
}

bool mw_policy_service_uses_hosts(const struct mw_policy *policy,
				  const char *service)
{
	return mw_policy_service(policy, service)->uses_hosts;
}

/* Two host rules with the same patterns match the same names, so an
   assumed outcome must answer both alike. */
bool mw_host_lists_equal(const char *const *a, const char *const *b)
{
	if (a == b)
		return true;
	if (a == NULL || b == NULL)
		return false;
	for (; *a != NULL && *b != NULL; a++, b++) {
		if (strcasecmp(*a, *b) != 0)
			return false;
	}
	return *a == NULL && *b == NULL;
}

static enum mw_match_result mw_matcher_eval(const struct mw_matcher *match,
					    const struct mw_eval *ev)
{
	const struct mw_conn *conn = ev->conn;
	unsigned int i;

	switch (match->kind) {
	case MW_MATCH_ANY:
		return MW_MATCHED;
	case MW_MATCH_NET:
		return mw_addrset_contains(match->nets, &conn->remote_ip) ?
			MW_MATCHED : MW_NOT_MATCHED;
	case MW_MATCH_HOST:
		if (ev->assume) {
			return mw_host_lists_equal(match->hosts, ev->matched[0]) ||
				mw_host_lists_equal(match->hosts, ev->matched[1]) ?
				MW_MATCHED : MW_NOT_MATCHED;
		}
		switch (conn->host_state) {
		case MW_HOST_NOT_LOOKED_UP:
			return MW_MATCH_NEEDS_HOST;
		case MW_HOST_FAILED:
			return MW_MATCH_HOST_FAILED;
		case MW_HOST_NONE:
			return MW_NOT_MATCHED;
		case MW_HOST_FOUND:
			break;
		}
		if (conn->host == NULL)
			return MW_NOT_MATCHED;
		for (i = 0; match->hosts[i] != NULL; i++) {
			if (mw_hostname_match(match->hosts[i], conn->host))
				return MW_MATCHED;
		}
		return MW_NOT_MATCHED;
	}
	return MW_NOT_MATCHED;
}

static enum mw_verdict mw_decide_set(struct mw_decision *dec,
				     enum mw_verdict verdict, enum mw_check check,
				     const char *rule, const struct mw_loc *loc)
{
	dec->verdict = verdict;
	dec->check = check;
	dec->rule = rule;
	dec->file = loc->file;
	dec->line = loc->line;
	return verdict;
}

/* Connection control: the rules in order, first match wins.  Returns
   MW_VERDICT_ALLOW to go on to the other checks. */
static enum mw_verdict mw_decide_rules(const struct mw_policy *policy,
				       const struct mw_service *svc,
				       const struct mw_eval *ev,
				       struct mw_decision *dec)
{
	const struct mw_settings *set = &svc->settings;
	enum mw_verdict verdict;
	unsigned int i;

	for (i = 0; i < svc->rule_count; i++) {
		const struct mw_rule *rule = &svc->rules[i];

		switch (mw_matcher_eval(&rule->match, ev)) {
		case MW_NOT_MATCHED:
			continue;
		case MW_MATCHED:
			verdict = rule->action == MW_ACTION_ALLOW ?
				MW_VERDICT_ALLOW : MW_VERDICT_DENY;
			return mw_decide_set(dec, verdict, MW_CHECK_RULE,
					     rule->text, &rule->loc);
		case MW_MATCH_NEEDS_HOST:
			return mw_decide_set(dec, MW_VERDICT_NEED_HOST,
					     MW_CHECK_RULE, rule->text, &rule->loc);
		case MW_MATCH_HOST_FAILED:
			switch (policy->dns.on_error) {
			case MW_ON_ERROR_TEMPFAIL:
				return mw_decide_set(dec, MW_VERDICT_TEMPFAIL,
						     MW_CHECK_HOST_LOOKUP,
						     rule->text, &rule->loc);
			case MW_ON_ERROR_DENY:
				return mw_decide_set(dec, MW_VERDICT_DENY,
						     MW_CHECK_HOST_LOOKUP,
						     rule->text, &rule->loc);
			case MW_ON_ERROR_ALLOW:
				return mw_decide_set(dec, MW_VERDICT_ALLOW,
						     MW_CHECK_HOST_LOOKUP,
						     rule->text, &rule->loc);
			case MW_ON_ERROR_NO_MATCH:
				continue;
			}
			continue;
		}
	}
	verdict = set->value[MW_SET_DEFAULT] == MW_ACTION_ALLOW ?
		MW_VERDICT_ALLOW : MW_VERDICT_DENY;
	return mw_decide_set(dec, verdict, MW_CHECK_DEFAULT,
			     set->text[MW_SET_DEFAULT], &set->loc[MW_SET_DEFAULT]);
}

bool mw_mech_is_cleartext(const char *mech)
{
	return strcasecmp(mech, "PLAIN") == 0 || strcasecmp(mech, "LOGIN") == 0;
}

static bool mw_mech_listed(const char *const *mechs, const char *mech)
{
	for (; *mechs != NULL; mechs++) {
		if (strcasecmp(*mechs, mech) == 0)
			return true;
	}
	return false;
}

static enum mw_verdict mw_deny_setting(struct mw_decision *dec,
				       enum mw_check check,
				       const struct mw_settings *set,
				       enum mw_setting_id id)
{
	return mw_decide_set(dec, MW_VERDICT_DENY, check, set->text[id],
			     &set->loc[id]);
}

/* Dovecot's "secured" (rip = lip, login_trusted_networks) counts as TLS
   unless the policy says secured_is_tls = no. */
static enum mw_tls_state mw_tls_effective(const struct mw_settings *set,
					  enum mw_tls_state tls)
{
	if (tls == MW_TLS_SECURED && set->value[MW_SET_SECURED_IS_TLS] == 0)
		return MW_TLS_NONE;
	return tls;
}

/* Access control and secure communication, with the settings that apply
   to this client. */
static enum mw_verdict mw_decide_settings(const struct mw_settings *set,
					  const struct mw_conn *conn,
					  struct mw_decision *dec)
{
	enum mw_tls_state tls = mw_tls_effective(set, conn->tls);
	bool secure = tls == MW_TLS_ACTIVE || tls == MW_TLS_SECURED;

	if (set->value[MW_SET_TLS] == MW_REQUIRED && tls == MW_TLS_NONE)
		return mw_deny_setting(dec, MW_CHECK_TLS, set, MW_SET_TLS);
	/* Bits are a property of a TLS session: a connection that may be
	   plaintext is not measured by them. */
	if (set->value[MW_SET_TLS_MIN_BITS] > 0 && tls == MW_TLS_ACTIVE &&
	    conn->cipher_bits != MW_BITS_UNKNOWN &&
	    conn->cipher_bits < set->value[MW_SET_TLS_MIN_BITS]) {
		dec->required_bits = set->value[MW_SET_TLS_MIN_BITS];
		return mw_deny_setting(dec, MW_CHECK_CIPHER_BITS, set,
				       MW_SET_TLS_MIN_BITS);
	}
	if (set->value[MW_SET_CLIENT_CERT] == MW_REQUIRED &&
	    conn->cert == MW_CERT_NONE)
		return mw_deny_setting(dec, MW_CHECK_CLIENT_CERT, set,
				       MW_SET_CLIENT_CERT);
	if (conn->mech != NULL) {
		if (set->mechanisms != NULL &&
		    !mw_mech_listed(set->mechanisms, conn->mech))
			return mw_deny_setting(dec, MW_CHECK_MECHANISM, set,
					       MW_SET_MECHANISMS);
		if (mw_mech_is_cleartext(conn->mech) &&
		    (set->value[MW_SET_CLEARTEXT] == MW_CLEARTEXT_NEVER ||
		     (set->value[MW_SET_CLEARTEXT] == MW_CLEARTEXT_TLS_ONLY &&
		      tls != MW_TLS_UNKNOWN && !secure)))
			return mw_deny_setting(dec, MW_CHECK_CLEARTEXT, set,
					       MW_SET_CLEARTEXT);
	}
	if (set->value[MW_SET_AUTH] == MW_REQUIRED && conn->auth == MW_AUTH_NONE)
		return mw_deny_setting(dec, MW_CHECK_AUTH, set, MW_SET_AUTH);
	return MW_VERDICT_ALLOW;
}

enum mw_verdict mw_decide_eval(const struct mw_policy *policy,
			       const struct mw_service *svc,
			       const struct mw_eval *ev,
			       struct mw_decision *dec_r)
{
	const struct mw_settings *set = &svc->settings;
	struct mw_decision rules_dec;
	unsigned int i;

	memset(dec_r, 0, sizeof(*dec_r));
	if (mw_decide_rules(policy, svc, ev, dec_r) != MW_VERDICT_ALLOW)
		return dec_r->verdict;
	rules_dec = *dec_r;

	/* The first "from" block that matches the client refines the
	   values.  A failed lookup matches no block: the stricter
	   service-wide values apply, never a relaxation by accident. */
	for (i = 0; i < svc->from_count; i++) {
		enum mw_match_result result =
			mw_matcher_eval(&svc->froms[i].match, ev);

		if (result == MW_MATCH_NEEDS_HOST)
			return mw_decide_set(dec_r, MW_VERDICT_NEED_HOST,
					     MW_CHECK_RULE, svc->froms[i].text,
					     &svc->froms[i].loc);
		if (result == MW_MATCHED) {
			set = &svc->froms[i].settings;
			break;
		}
	}
	if (mw_decide_settings(set, ev->conn, dec_r) != MW_VERDICT_ALLOW)
		return dec_r->verdict;
	/* Allowed: the log names the rule that let the client in. */
	*dec_r = rules_dec;
	return MW_VERDICT_ALLOW;
}

enum mw_verdict mw_decide(const struct mw_policy *policy,
			  const struct mw_conn *conn,
			  struct mw_decision *dec_r)
{
	struct mw_eval ev = { .conn = conn };

	return mw_decide_eval(policy, mw_policy_service(policy, conn->service),
			      &ev, dec_r);
}

static bool mw_cn_matches(const char *const *patterns, const char *cn)
{
	if (patterns == NULL)
		return true;
	if (cn == NULL)
		return false;
	for (; *patterns != NULL; patterns++) {
		if (mw_glob_match(*patterns, cn))
			return true;
	}
	return false;
}

enum mw_verdict mw_decide_partner(const struct mw_policy *policy,
				  const struct mw_partner_query *query,
				  struct mw_decision *dec_r)
{
	const struct mw_service *svc = mw_policy_service(policy, query->service);
	const struct mw_partner *partner;
	enum mw_verdict fail;
	struct mw_loc loc;

	memset(dec_r, 0, sizeof(*dec_r));
	if (svc->settings.value[MW_SET_PARTNERS] != MW_PARTNERS_ENFORCE ||
	    query->sender_domain == NULL ||
	    (partner = mw_policy_partner_find(policy, query->sender_domain)) == NULL)
		return MW_VERDICT_ALLOW;

	dec_r->partner = partner->domain;
	loc.file = partner->file;
	loc.line = partner->line;
	fail = partner->on_fail == MW_PARTNER_TEMPFAIL ?
		MW_VERDICT_TEMPFAIL : MW_VERDICT_DENY;
	if (query->tls != MW_TLS_ACTIVE)
		return mw_decide_set(dec_r, fail, MW_CHECK_PARTNER_TLS,
				     partner->domain, &loc);
	/* Postfix sends the CNs only for a certificate it trusted, so a
	   missing CN is a missing or untrusted certificate. */
	if (query->cert_cn == NULL ||
	    !mw_cn_matches(partner->cert_cn, query->cert_cn) ||
	    !mw_cn_matches(partner->issuer_cn, query->issuer_cn))
		return mw_decide_set(dec_r, fail, MW_CHECK_PARTNER_CERT,
				     partner->domain, &loc);
	return mw_decide_set(dec_r, MW_VERDICT_ALLOW, MW_CHECK_PARTNER_CERT,
			     partner->domain, &loc);
}
