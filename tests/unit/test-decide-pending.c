/* Deciding before the host name is known: the most restrictive of the
   outcomes of the pending lookup, table-driven like test-decide.c. */

#include "test-common.h"
#include "mw-policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char test_policy[] =
/*  1 */ "dns { on_error = tempfail }\n"
/*  2 */ "defaults { cleartext = tls-only }\n"
/*  3 */ "service imap {\n"
/*  4 */ "  allow net 192.0.2.0/24\n"
/*  5 */ "  allow host .contoso.com\n"
/*  6 */ "  deny  any\n"
/*  7 */ "  mechanisms = SCRAM-SHA-256 PLAIN LOGIN\n"
/*  8 */ "  from net 192.0.2.4 {\n"
/*  9 */ "    cleartext = always\n"
/* 10 */ "  }\n"
/* 11 */ "  from host .contoso.com {\n"
/* 12 */ "    mechanisms = PLAIN\n"
/* 13 */ "  }\n"
/* 14 */ "}\n"
/* 15 */ "service pop3 {\n"
/* 16 */ "  allow any\n"
/* 17 */ "  cleartext = always\n"
/* 18 */ "  from host .partner.example {\n"
/* 19 */ "    tls = required\n"
/* 20 */ "  }\n"
/* 21 */ "}\n"
/* 22 */ "service submission {\n"
/* 23 */ "  deny host .spam.example\n"
/* 24 */ "  allow any\n"
/* 25 */ "  cleartext = always\n"
/* 26 */ "}\n"
/* 27 */ "service sieve {\n"
/* 28 */ "  allow host .a.example\n"
/* 29 */ "  allow host .b.example\n"
/* 30 */ "  deny any\n"
/* 31 */ "  cleartext = always\n"
/* 32 */ "  from host .b.example { cleartext = never }\n"
/* 33 */ "}\n"
/* 34 */ "service lmtp {\n"
/* 35 */ "  deny host .a.example\n"
/* 36 */ "  deny any\n"
/* 37 */ "}\n"
/* 38 */ "service doveadm {\n"
/* 39 */ "  allow net 192.0.2.0/24\n"
/* 40 */ "  deny any\n"
/* 41 */ "  secured_is_tls = no\n"
/* 42 */ "}\n";

struct test_case {
	const char *service, *rip, *mech;
	char tls;	/* '?' unknown, 'n' none, 's' secured, 't' TLS */
	enum mw_verdict verdict;
	enum mw_check check;
	unsigned int line;	/* 0: built-in */
};

static const struct test_case test_cases[] = {
	/* a definite address decision needs no name: as mw_decide() */
	{ "imap", "192.0.2.7", "PLAIN", 'n', MW_VERDICT_DENY, MW_CHECK_CLEARTEXT, 2 },
	{ "imap", "192.0.2.4", "PLAIN", 'n', MW_VERDICT_ALLOW, MW_CHECK_RULE, 4 },
	/* host-rule client before TLS: some outcome refuses it, so no
	   cleartext; a mechanism that does not expose the password passes
	   here, and the passdb decides after the lookup */
	{ "imap", "198.51.100.7", "PLAIN", 'n', MW_VERDICT_DENY, MW_CHECK_CLEARTEXT, 2 },
	{ "imap", "198.51.100.7", "LOGIN", 'n', MW_VERDICT_DENY, MW_CHECK_MECHANISM, 12 },
	{ "imap", "198.51.100.7", NULL, 'n', MW_VERDICT_NEED_HOST, MW_CHECK_RULE, 5 },
	/* after TLS: PLAIN is allowed by every admitting outcome, SCRAM and
	   LOGIN are refused by the "from host" block of one outcome */
	{ "imap", "198.51.100.7", "PLAIN", 't', MW_VERDICT_NEED_HOST, MW_CHECK_RULE, 5 },
	{ "imap", "198.51.100.7", "SCRAM-SHA-256", 't', MW_VERDICT_DENY, MW_CHECK_MECHANISM, 12 },
	{ "imap", "198.51.100.7", "CRAM-MD5", 't', MW_VERDICT_DENY, MW_CHECK_MECHANISM, 12 },
	/* a "from host" block on an allow-any service: cleartext always,
	   but one outcome requires TLS */
	{ "pop3", "203.0.113.1", "PLAIN", 'n', MW_VERDICT_DENY, MW_CHECK_TLS, 19 },
	{ "pop3", "203.0.113.1", NULL, 'n', MW_VERDICT_DENY, MW_CHECK_TLS, 19 },
	/* every outcome allows */
	{ "pop3", "203.0.113.1", "PLAIN", 't', MW_VERDICT_ALLOW, MW_CHECK_RULE, 18 },
	/* a deny host rule: the refused outcome forbids cleartext before
	   TLS, even though the service allows it always */
	{ "submission", "203.0.113.1", "PLAIN", 'n', MW_VERDICT_DENY, MW_CHECK_HOST_PENDING, 23 },
	{ "submission", "203.0.113.1", "SCRAM-SHA-256", 'n', MW_VERDICT_NEED_HOST, MW_CHECK_RULE, 23 },
	{ "submission", "203.0.113.1", "PLAIN", 't', MW_VERDICT_NEED_HOST, MW_CHECK_RULE, 23 },
	/* two host rules and a "from host" block with the second list:
	   the outcome "b matches" refuses cleartext even under TLS */
	{ "sieve", "203.0.113.1", "PLAIN", 't', MW_VERDICT_DENY, MW_CHECK_CLEARTEXT, 32 },
	{ "sieve", "203.0.113.1", "SCRAM-SHA-256", 'n', MW_VERDICT_NEED_HOST, MW_CHECK_RULE, 28 },
	/* every outcome refuses: refused before the banner */
	{ "lmtp", "203.0.113.1", NULL, '?', MW_VERDICT_DENY, MW_CHECK_RULE, 36 },
	/* secured counts as TLS unless secured_is_tls = no */
	{ "imap", "192.0.2.7", "PLAIN", 's', MW_VERDICT_ALLOW, MW_CHECK_RULE, 11 },
	{ "doveadm", "192.0.2.7", "PLAIN", 's', MW_VERDICT_DENY, MW_CHECK_CLEARTEXT, 2 },
	{ "doveadm", "192.0.2.7", "PLAIN", 't', MW_VERDICT_ALLOW, MW_CHECK_RULE, 39 },
};

static struct mw_policy *test_load(const char *text)
{
	struct mw_policy *policy;
	struct mw_diags *diags;
	const char *path;

	path = test_write_file("pending.conf", text);
	if (mw_policy_load(path, &policy, &diags) < 0) {
		mw_diags_print(diags, stdout);
		policy = NULL;
	}
	mw_diags_free(&diags);
	return policy;
}

static void test_conn(const struct test_case *tc, struct mw_conn *conn)
{
	mw_conn_init(conn);
	conn->service = tc->service;
	if (mw_addr_parse(tc->rip, &conn->remote_ip) < 0)
		abort();
	conn->mech = tc->mech;
	conn->tls = tc->tls == 'n' ? MW_TLS_NONE : tc->tls == 's' ? MW_TLS_SECURED :
		tc->tls == 't' ? MW_TLS_ACTIVE : MW_TLS_UNKNOWN;
}

static void test_pending_table(struct mw_policy *policy)
{
	struct mw_decision dec;
	struct mw_conn conn;
	unsigned int i;

	test_begin("pending host name: the most restrictive outcome decides");
	for (i = 0; i < sizeof(test_cases) / sizeof(test_cases[0]); i++) {
		enum mw_verdict verdict;

		test_conn(&test_cases[i], &conn);
		verdict = mw_decide_pending_host(policy, &conn, &dec);
		if (verdict != test_cases[i].verdict ||
		    dec.check != test_cases[i].check ||
		    dec.line != test_cases[i].line) {
			printf("# case %u: %s %s %s: got %s/%s line %u\n", i,
			       test_cases[i].service, test_cases[i].rip,
			       test_cases[i].mech != NULL ? test_cases[i].mech : "-",
			       mw_verdict_name(verdict), mw_check_name(dec.check),
			       dec.line);
		}
		test_assert_idx(verdict == test_cases[i].verdict, i);
		test_assert_idx(dec.check == test_cases[i].check, i);
		test_assert_idx(dec.line == test_cases[i].line, i);
	}
	test_end();
}

/* Whatever the name turns out to be, the pending answer is never less
   strict than the answer after the lookup. */
static void test_pending_never_looser(struct mw_policy *policy)
{
	static const char *const hosts[] = {
		NULL, "-", "!", "mx.contoso.com", "a.partner.example",
		"relay.spam.example", "x.a.example", "x.b.example", "other.example",
	};
	static const char *const services[] = {
		"imap", "pop3", "submission", "sieve", "lmtp", "doveadm",
	};
	static const char *const mechs[] = {
		NULL, "PLAIN", "LOGIN", "SCRAM-SHA-256", "CRAM-MD5",
	};
	static const char tls[] = { 'n', 's', 't' };
	struct test_case tc = { .rip = "203.0.113.9" };
	struct mw_decision dec;
	struct mw_conn conn;
	unsigned int s, m, t, h, looser = 0;

	test_begin("pending host name: never looser than any real outcome");
	for (s = 0; s < sizeof(services) / sizeof(services[0]); s++)
	for (m = 0; m < sizeof(mechs) / sizeof(mechs[0]); m++)
	for (t = 0; t < sizeof(tls); t++) {
		tc.service = services[s];
		tc.mech = mechs[m];
		tc.tls = tls[t];
		test_conn(&tc, &conn);
		if (mw_decide_pending_host(policy, &conn, &dec) == MW_VERDICT_DENY)
			continue;
		for (h = 1; h < sizeof(hosts) / sizeof(hosts[0]); h++) {
			enum mw_verdict v;
			bool refused_by_rule;

			if (hosts[h][0] == '-')
				conn.host_state = MW_HOST_NONE;
			else if (hosts[h][0] == '!')
				conn.host_state = MW_HOST_FAILED;
			else {
				conn.host_state = MW_HOST_FOUND;
				conn.host = hosts[h];
			}
			v = mw_decide(policy, &conn, &dec);
			refused_by_rule = dec.check == MW_CHECK_RULE ||
				dec.check == MW_CHECK_DEFAULT ||
				dec.check == MW_CHECK_HOST_LOOKUP;
			/* a refusal by the rules is the passdb's, after the
			   lookup; a setting that refuses must show already,
			   and so must cleartext before TLS for a refusal */
			if ((v != MW_VERDICT_ALLOW && !refused_by_rule) ||
			    (v != MW_VERDICT_ALLOW && tls[t] == 'n' &&
			     mechs[m] != NULL && strcmp(mechs[m], "PLAIN") == 0)) {
				printf("# %s %s tls=%c host=%s: pending allows, real %s/%s\n",
				       services[s], mechs[m] != NULL ? mechs[m] : "-",
				       tls[t], hosts[h], mw_verdict_name(v),
				       mw_check_name(dec.check));
				looser++;
			}
			conn.host_state = MW_HOST_NOT_LOOKED_UP;
			conn.host = NULL;
		}
	}
	test_assert(looser == 0);
	test_end();
}

static void test_pending_texts(struct mw_policy *policy)
{
	struct mw_decision dec;
	struct mw_conn conn;
	char buf[512];

	test_begin("pending host name: reason and client text");
	test_conn(&test_cases[11], &conn);
	test_assert(mw_decide_pending_host(policy, &conn, &dec) == MW_VERDICT_DENY);
	test_assert(strcmp(mw_check_name(dec.check), "host-pending") == 0);
	test_assert(strstr(mw_decision_reason(&dec, &conn, buf, sizeof(buf)),
			   "deny host .spam.example") != NULL);
	test_assert(strcmp(mw_decision_client_text(&dec),
			   "Plaintext authentication disallowed without TLS") == 0);
	test_assert(!mw_policy_service_secured_is_tls(policy, "doveadm"));
	test_assert(mw_policy_service_secured_is_tls(policy, "imap"));
	test_end();
}

int main(void)
{
	struct mw_policy *policy = test_load(test_policy);

	test_begin("the pending-host test policy loads");
	test_assert(policy != NULL);
	test_end();
	if (policy == NULL)
		return test_exit();
	test_pending_table(policy);
	test_pending_never_looser(policy);
	test_pending_texts(policy);
	mw_policy_unref(&policy);
	return test_exit();
}
