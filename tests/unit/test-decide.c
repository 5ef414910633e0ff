/* Decisions, table-driven: one policy, many described clients, each with
   the verdict, the check and the policy line expected to decide. */

#include "test-common.h"
#include "mw-policy.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char test_policy[] =
/*  1 */ "dns { timeout = 2s  on_error = tempfail }\n"
/*  2 */ "defaults { cleartext = tls-only }\n"
/*  3 */ "service imap pop3 {\n"
/*  4 */ "  deny  net 192.0.2.66\n"
/*  5 */ "  allow net 192.0.2.0/24 2001:db8::/32\n"
/*  6 */ "  allow net 131.107.2.0/255.255.255.252\n"
/*  7 */ "  deny  net-list block.list\n"
/*  8 */ "  allow net 10.0.0.0/8\n"
/*  9 */ "  allow host .contoso.com mail.example.org\n"
/* 10 */ "  deny  any\n"
/* 11 */ "  mechanisms = SCRAM-SHA-256 CRAM-MD5 PLAIN LOGIN\n"
/* 12 */ "  tls = required\n"
/* 13 */ "  tls_min_bits = 128\n"
/* 14 */ "  from net 10.0.0.0/8 {\n"
/* 15 */ "    tls = optional\n"
/* 16 */ "    cleartext = always\n"
/* 17 */ "  }\n"
/* 18 */ "}\n"
/* 19 */ "service submission {\n"
/* 20 */ "  postfix_daemon_name = ORIGINATING\n"
/* 21 */ "  tls = required\n"
/* 22 */ "  auth = required\n"
/* 23 */ "  client_cert = required\n"
/* 24 */ "}\n"
/* 25 */ "service smtp { cleartext = never }\n"
/* 26 */ "service mx {\n"
/* 27 */ "  postfix_daemon_name = MX\n"
/* 28 */ "  deny host .spam.example\n"
/* 29 */ "  partners = enforce\n"
/* 30 */ "}\n"
/* 31 */ "partner contoso.com { cert_cn = \"mx*.contoso.com\"  issuer_cn = \"Contoso CA\" }\n"
/* 32 */ "partner fabrikam.com { on_fail = tempfail }\n";

struct test_case {
	const char *service, *rip;
	/* NULL: not looked up; "-": no name; "!": lookup failed */
	const char *host;
	const char *mech;
	char tls;	/* '?' unknown, 'n' none, 's' secured, 't' TLS */
	int bits;
	char cert;	/* '?', 'n', 'v' */
	char auth;	/* '?', 'n', 'y' */
	enum mw_verdict verdict;
	enum mw_check check;
	unsigned int line;	/* 0: built-in default */
};

#define U MW_BITS_UNKNOWN
static const struct test_case test_cases[] = {
	/* connection control */
	{ "imap", "192.0.2.7", NULL, NULL, '?', U, '?', '?', MW_VERDICT_ALLOW, MW_CHECK_RULE, 5 },
	{ "imap", "192.0.2.66", NULL, NULL, '?', U, '?', '?', MW_VERDICT_DENY, MW_CHECK_RULE, 4 },
	{ "pop3", "2001:db8::5", NULL, NULL, '?', U, '?', '?', MW_VERDICT_ALLOW, MW_CHECK_RULE, 5 },
	{ "imap", "::ffff:192.0.2.8", NULL, NULL, '?', U, '?', '?', MW_VERDICT_ALLOW, MW_CHECK_RULE, 5 },
	{ "imap", "131.107.2.3", NULL, NULL, '?', U, '?', '?', MW_VERDICT_ALLOW, MW_CHECK_RULE, 6 },
	{ "imap", "131.107.2.4", NULL, NULL, '?', U, '?', '?', MW_VERDICT_NEED_HOST, MW_CHECK_RULE, 9 },
	{ "imap", "131.107.2.4", "-", NULL, '?', U, '?', '?', MW_VERDICT_DENY, MW_CHECK_RULE, 10 },
	{ "imap", "198.51.100.20", NULL, NULL, '?', U, '?', '?', MW_VERDICT_DENY, MW_CHECK_RULE, 7 },
	{ "imap", "198.51.100.9", "mx1.contoso.com", NULL, '?', U, '?', '?', MW_VERDICT_ALLOW, MW_CHECK_RULE, 9 },
	{ "imap", "198.51.100.9", "mail.example.org", NULL, '?', U, '?', '?', MW_VERDICT_ALLOW, MW_CHECK_RULE, 9 },
	{ "imap", "198.51.100.9", "evil.example.org", NULL, '?', U, '?', '?', MW_VERDICT_DENY, MW_CHECK_RULE, 10 },
	{ "imap", "198.51.100.9", "!", NULL, '?', U, '?', '?', MW_VERDICT_TEMPFAIL, MW_CHECK_HOST_LOOKUP, 9 },
	/* secure communication */
	{ "imap", "192.0.2.7", NULL, "PLAIN", 'n', U, '?', '?', MW_VERDICT_DENY, MW_CHECK_TLS, 12 },
	{ "imap", "192.0.2.7", NULL, "PLAIN", 's', U, '?', '?', MW_VERDICT_ALLOW, MW_CHECK_RULE, 5 },
	{ "imap", "192.0.2.7", NULL, "PLAIN", 't', 256, '?', '?', MW_VERDICT_ALLOW, MW_CHECK_RULE, 5 },
	{ "imap", "192.0.2.7", NULL, NULL, 't', 56, '?', '?', MW_VERDICT_DENY, MW_CHECK_CIPHER_BITS, 13 },
	{ "imap", "192.0.2.7", NULL, NULL, 't', 128, '?', '?', MW_VERDICT_ALLOW, MW_CHECK_RULE, 5 },
	/* access control */
	{ "imap", "192.0.2.7", NULL, "DIGEST-MD5", 't', U, '?', '?', MW_VERDICT_DENY, MW_CHECK_MECHANISM, 11 },
	{ "imap", "192.0.2.7", NULL, "scram-sha-256", 't', U, '?', '?', MW_VERDICT_ALLOW, MW_CHECK_RULE, 5 },
	{ "imap", "10.1.2.3", NULL, "PLAIN", 'n', U, '?', '?', MW_VERDICT_ALLOW, MW_CHECK_RULE, 8 },
	{ "imap", "10.1.2.3", NULL, "GSSAPI", 'n', U, '?', '?', MW_VERDICT_DENY, MW_CHECK_MECHANISM, 11 },
	{ "lmtp", "203.0.113.1", NULL, "PLAIN", 'n', U, '?', '?', MW_VERDICT_DENY, MW_CHECK_CLEARTEXT, 2 },
	{ "lmtp", "203.0.113.1", NULL, "LOGIN", 't', U, '?', '?', MW_VERDICT_ALLOW, MW_CHECK_DEFAULT, 0 },
	{ "smtp", "203.0.113.1", NULL, "PLAIN", 't', U, '?', '?', MW_VERDICT_DENY, MW_CHECK_CLEARTEXT, 25 },
	{ "smtp", "203.0.113.1", NULL, "CRAM-MD5", 'n', U, '?', '?', MW_VERDICT_ALLOW, MW_CHECK_DEFAULT, 0 },
	/* submission: TLS, certificate and authentication */
	{ "submission", "203.0.113.1", NULL, NULL, 'n', U, '?', '?', MW_VERDICT_DENY, MW_CHECK_TLS, 21 },
	{ "submission", "203.0.113.1", NULL, NULL, 't', 256, 'n', '?', MW_VERDICT_DENY, MW_CHECK_CLIENT_CERT, 23 },
	{ "submission", "203.0.113.1", NULL, NULL, 't', 256, 'v', 'n', MW_VERDICT_DENY, MW_CHECK_AUTH, 22 },
	{ "submission", "203.0.113.1", NULL, NULL, 't', 256, 'v', 'y', MW_VERDICT_ALLOW, MW_CHECK_DEFAULT, 0 },
	/* host rules ask for a name only when evaluation reaches them */
	{ "mx", "203.0.113.1", NULL, NULL, '?', U, '?', '?', MW_VERDICT_NEED_HOST, MW_CHECK_RULE, 28 },
	{ "mx", "203.0.113.1", "relay.spam.example", NULL, '?', U, '?', '?', MW_VERDICT_DENY, MW_CHECK_RULE, 28 },
	{ "mx", "203.0.113.1", "-", NULL, '?', U, '?', '?', MW_VERDICT_ALLOW, MW_CHECK_DEFAULT, 0 },
};

static void test_conn_from_case(const struct test_case *tc, struct mw_conn *conn)
{
	mw_conn_init(conn);
	conn->service = tc->service;
	if (mw_addr_parse(tc->rip, &conn->remote_ip) < 0)
		abort();
	if (tc->host == NULL)
		conn->host_state = MW_HOST_NOT_LOOKED_UP;
	else if (strcmp(tc->host, "-") == 0)
		conn->host_state = MW_HOST_NONE;
	else if (strcmp(tc->host, "!") == 0)
		conn->host_state = MW_HOST_FAILED;
	else {
		conn->host_state = MW_HOST_FOUND;
		conn->host = tc->host;
	}
	conn->mech = tc->mech;
	conn->tls = tc->tls == 'n' ? MW_TLS_NONE : tc->tls == 's' ? MW_TLS_SECURED :
		tc->tls == 't' ? MW_TLS_ACTIVE : MW_TLS_UNKNOWN;
	conn->cipher_bits = tc->bits;
	conn->cert = tc->cert == 'n' ? MW_CERT_NONE : tc->cert == 'v' ?
		MW_CERT_VALID : MW_CERT_UNKNOWN;
	conn->auth = tc->auth == 'n' ? MW_AUTH_NONE : tc->auth == 'y' ?
		MW_AUTH_DONE : MW_AUTH_UNKNOWN;
}

static struct mw_policy *test_load(const char *text)
{
	struct mw_policy *policy;
	struct mw_diags *diags;
	const char *path;

	test_write_file("block.list", "# test block list\n198.51.100.16/28\n203.0.113.128/25\n");
	path = test_write_file("mailward.conf", text);
	if (mw_policy_load(path, &policy, &diags) < 0) {
		mw_diags_print(diags, stdout);
		policy = NULL;
	}
	mw_diags_free(&diags);
	return policy;
}

static void test_decide_table(struct mw_policy *policy)
{
	char reason[512];
	struct mw_decision dec;
	struct mw_conn conn;
	unsigned int i;

	test_begin("decisions: verdict, deciding check and line");
	for (i = 0; i < sizeof(test_cases) / sizeof(test_cases[0]); i++) {
		const struct test_case *tc = &test_cases[i];
		enum mw_verdict verdict;

		test_conn_from_case(tc, &conn);
		verdict = mw_decide(policy, &conn, &dec);
		if (verdict != tc->verdict || dec.check != tc->check ||
		    dec.line != tc->line || (tc->line == 0) != (dec.file == NULL)) {
			printf("# case %u (%s %s): got %s/%s line %u (%s), expected %s/%s line %u\n",
			       i, tc->service, tc->rip, mw_verdict_name(verdict),
			       mw_check_name(dec.check), dec.line,
			       mw_decision_reason(&dec, &conn, reason, sizeof(reason)),
			       mw_verdict_name(tc->verdict), mw_check_name(tc->check),
			       tc->line);
			test_assert_idx(false, i);
		}
		test_assert_idx(dec.verdict == verdict, i);
	}
	test_end();
}

static void test_decide_reasons(struct mw_policy *policy)
{
	char reason[512];
	struct mw_decision dec;
	struct mw_conn conn;

	test_begin("decisions: reasons for the log and texts for the client");
	mw_conn_init(&conn);
	conn.service = "imap";
	test_assert(mw_addr_parse("192.0.2.7", &conn.remote_ip) == 0);
	conn.tls = MW_TLS_ACTIVE;
	conn.cipher_bits = 56;
	test_assert(mw_decide(policy, &conn, &dec) == MW_VERDICT_DENY);
	test_assert(strcmp(mw_decision_reason(&dec, &conn, reason, sizeof(reason)),
			   "cipher strength 56 bits is below the minimum of 128 (tls_min_bits = 128)") == 0);
	test_assert(strcmp(mw_decision_client_text(&dec), "Cipher too weak") == 0);

	conn.cipher_bits = 256;
	test_assert(mw_addr_parse("192.0.2.66", &conn.remote_ip) == 0);
	test_assert(mw_decide(policy, &conn, &dec) == MW_VERDICT_DENY);
	test_assert(strcmp(mw_decision_reason(&dec, &conn, reason, sizeof(reason)),
			   "192.0.2.66 matched 'deny net 192.0.2.66'") == 0);
	test_assert(strcmp(mw_decision_client_text(&dec), "Access denied") == 0);
	/* A small buffer truncates, never overflows. */
	test_assert(strlen(mw_decision_reason(&dec, &conn, reason, 8)) == 7);
	test_end();
}

static void test_partners(struct mw_policy *policy)
{
	static const struct {
		const char *service, *domain;
		char tls;
		const char *cn, *issuer;
		enum mw_verdict verdict;
		enum mw_check check;
	} cases[] = {
		{ "mx", "example.net", 'n', NULL, NULL, MW_VERDICT_ALLOW, MW_CHECK_DEFAULT },
		{ "mx", "contoso.com", 'n', NULL, NULL, MW_VERDICT_DENY, MW_CHECK_PARTNER_TLS },
		{ "mx", "CONTOSO.COM.", 't', NULL, NULL, MW_VERDICT_DENY, MW_CHECK_PARTNER_CERT },
		{ "mx", "contoso.com", 't', "mx1.contoso.com", "Other CA", MW_VERDICT_DENY, MW_CHECK_PARTNER_CERT },
		{ "mx", "contoso.com", 't', "mx1.fabrikam.com", "Contoso CA", MW_VERDICT_DENY, MW_CHECK_PARTNER_CERT },
		{ "mx", "contoso.com", 't', "mx1.contoso.com", "Contoso CA", MW_VERDICT_ALLOW, MW_CHECK_PARTNER_CERT },
		{ "mx", "fabrikam.com", 'n', NULL, NULL, MW_VERDICT_TEMPFAIL, MW_CHECK_PARTNER_TLS },
		{ "mx", "fabrikam.com", 't', "anything", "Any CA", MW_VERDICT_ALLOW, MW_CHECK_PARTNER_CERT },
		/* partners = ignore on the submission service */
		{ "submission", "contoso.com", 'n', NULL, NULL, MW_VERDICT_ALLOW, MW_CHECK_DEFAULT },
	};
	struct mw_partner_query query;
	struct mw_decision dec;
	unsigned int i;

	test_begin("partner domains: TLS and certificate names");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&query, 0, sizeof(query));
		query.service = cases[i].service;
		query.sender_domain = cases[i].domain;
		query.tls = cases[i].tls == 't' ? MW_TLS_ACTIVE : MW_TLS_NONE;
		query.cert_cn = cases[i].cn;
		query.issuer_cn = cases[i].issuer;
		test_assert_idx(mw_decide_partner(policy, &query, &dec) == cases[i].verdict, i);
		test_assert_idx(dec.check == cases[i].check, i);
	}
	test_assert(strcmp(mw_policy_service_for_daemon(policy, "MX"), "mx") == 0);
	test_assert(mw_policy_service_for_daemon(policy, "SMTP") == NULL);
	test_assert(mw_policy_partner_count(policy) == 2);
	test_assert(mw_policy_partner_find(policy, "Contoso.Com") != NULL);
	test_end();
}

static void test_on_error(void)
{
	static const struct { const char *value; enum mw_verdict verdict; } cases[] = {
		{ "tempfail", MW_VERDICT_TEMPFAIL },
		{ "deny", MW_VERDICT_DENY },
		{ "allow", MW_VERDICT_ALLOW },
		{ "no-match", MW_VERDICT_DENY },	/* falls through to deny any */
	};
	char text[256];
	struct mw_policy *policy;
	struct mw_decision dec;
	struct mw_conn conn;
	unsigned int i;

	test_begin("a failed host lookup follows dns on_error");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
			 "dns { on_error = %s }\nservice imap {\n  allow host .example.com\n  deny any\n}\n",
			 cases[i].value);
		policy = test_load(text);
		test_assert_idx(policy != NULL, i);
		if (policy == NULL)
			continue;
		mw_conn_init(&conn);
		conn.service = "imap";
		test_assert(mw_addr_parse("192.0.2.1", &conn.remote_ip) == 0);
		conn.host_state = MW_HOST_FAILED;
		test_assert_idx(mw_decide(policy, &conn, &dec) == cases[i].verdict, i);
		test_assert_idx(mw_policy_service_uses_hosts(policy, "imap"), i);
		test_assert_idx(!mw_policy_service_uses_hosts(policy, "pop3"), i);
		mw_policy_unref(&policy);
	}
	test_end();
}

struct test_thread {
	const struct mw_policy *policy;
	unsigned int mismatches;
};

static void *test_thread_run(void *context)
{
	struct test_thread *t = context;
	struct mw_decision dec;
	struct mw_conn conn;
	unsigned int round, i;

	for (round = 0; round < 2000; round++) {
		for (i = 0; i < sizeof(test_cases) / sizeof(test_cases[0]); i++) {
			test_conn_from_case(&test_cases[i], &conn);
			if (mw_decide(t->policy, &conn, &dec) != test_cases[i].verdict ||
			    dec.line != test_cases[i].line)
				t->mismatches++;
		}
	}
	return NULL;
}

static void test_threads(struct mw_policy *policy)
{
	struct test_thread threads[4];
	pthread_t ids[4];
	unsigned int i;

	/* The milter decides in one thread per connection on a shared
	   policy; the answers must not depend on who else is deciding. */
	test_begin("decisions from four threads on one policy agree with the table");
	for (i = 0; i < 4; i++) {
		threads[i].policy = policy;
		threads[i].mismatches = 0;
		test_assert(pthread_create(&ids[i], NULL, test_thread_run, &threads[i]) == 0);
	}
	for (i = 0; i < 4; i++) {
		test_assert(pthread_join(ids[i], NULL) == 0);
		test_assert_idx(threads[i].mismatches == 0, i);
	}
	test_end();
}

static void test_refcount(struct mw_policy *policy)
{
	struct mw_policy *ref = policy;

	test_begin("references: unref clears the caller's pointer");
	mw_policy_ref(ref);
	mw_policy_unref(&ref);
	test_assert(ref == NULL);
	test_assert(mw_policy_dns(policy)->timeout_msecs == 2000);
	test_end();
}

int main(void)
{
	struct mw_policy *policy = test_load(test_policy);

	test_begin("the test policy loads");
	test_assert(policy != NULL);
	test_end();
	if (policy == NULL)
		return test_exit();
	test_decide_table(policy);
	test_decide_reasons(policy);
	test_partners(policy);
	test_on_error();
	test_threads(policy);
	test_refcount(policy);
	mw_policy_unref(&policy);
	return test_exit();
}
