/* Envelope and header addresses, and canonical domains (mw-mailaddr.c). */

#include "test-common.h"
#include "mw-mailaddr.h"

#include <stdio.h>
#include <string.h>

#define P MW_MAILADDR_POSTFIX_REWRITE

struct addr_case {
	const char *text;
	unsigned int flags;
	const char *addr;	/* NULL: must be refused */
	const char *domain;	/* NULL: no domain */
};

static bool addr_case_ok(const struct addr_case *c, int ret,
			 const struct mw_mailaddr *a, const char *error)
{
	if (c->addr == NULL) {
		if (ret == 0)
			printf("# \"%s\": accepted as \"%s\", expected a refusal\n",
			       c->text, a->addr);
		return ret < 0;
	}
	if (ret < 0) {
		printf("# \"%s\": refused (%s)\n", c->text, error);
		return false;
	}
	if (strcmp(a->addr, c->addr) != 0 ||
	    (c->domain == NULL) != (a->domain == NULL) ||
	    (c->domain != NULL && strcmp(a->domain, c->domain) != 0)) {
		printf("# \"%s\": got \"%s\" domain \"%s\"\n", c->text, a->addr,
		       a->domain != NULL ? a->domain : "(none)");
		return false;
	}
	return true;
}

static void test_paths(void)
{
	static const struct addr_case cases[] = {
		{ "<x@contoso.com>", 0, "x@contoso.com", "contoso.com" },
		{ "x@contoso.com", 0, "x@contoso.com", "contoso.com" },
		{ "<x@CONTOSO.Com>", 0, "x@contoso.com", "contoso.com" },
		{ "<X@contoso.com.>", 0, "X@contoso.com", "contoso.com" },
		{ "<>", 0, "", NULL },
		{ "", 0, "", NULL },
		{ "<@a.example,@b.example:x@contoso.com>", 0, "x@contoso.com", "contoso.com" },
		{ "<\"x y\"@contoso.com>", 0, "\"x y\"@contoso.com", "contoso.com" },
		{ "<\"x@evil.example\"@contoso.com>", 0,
		  "\"x@evil.example\"@contoso.com", "contoso.com" },
		{ "<\"a\\\"b\"@contoso.com>", 0, "\"a\\\"b\"@contoso.com", "contoso.com" },
		{ "<x@[192.0.2.1]>", 0, "x@[192.0.2.1]", "[192.0.2.1]" },
		{ "<x@b\xc3\xbc" "cher.example>", 0, "x@xn--bcher-kva.example",
		  "xn--bcher-kva.example" },
		{ "<x@B\xc3\x9c" "CHER.example>", 0, "x@xn--bcher-kva.example",
		  "xn--bcher-kva.example" },
		{ "<x@XN--BCHER-KVA.example>", 0, "x@xn--bcher-kva.example",
		  "xn--bcher-kva.example" },
		/* The forms that once passed as another domain. */
		{ "<x@(c)contoso.com>", 0, NULL, NULL },
		{ "<x@contoso.com >", 0, NULL, NULL },
		{ "<x@contoso.com(c)>", 0, NULL, NULL },
		{ "<x@contoso.com", 0, NULL, NULL },
		{ "<x@evil.example@contoso.com>", 0, NULL, NULL },
		{ "<x@contoso..com>", 0, NULL, NULL },
		{ "<x y@contoso.com>", 0, NULL, NULL },
		{ "<@a.example:>", 0, NULL, NULL },
		{ "<\"x@contoso.com>", 0, NULL, NULL },
		/* Postfix's rewriting of forms without '@'. */
		{ "<ceo%contoso.com>", P, "ceo@contoso.com", "contoso.com" },
		{ "<ceo%evil.example%contoso.com>", P,
		  "ceo%evil.example@contoso.com", "contoso.com" },
		{ "<contoso.com!ceo>", P, "ceo@contoso.com", "contoso.com" },
		{ "<Contoso.COM!a!b>", P, "a!b@contoso.com", "contoso.com" },
		{ "<ceo%contoso.com>", 0, "ceo%contoso.com", NULL },
		{ "<ceo>", P, "ceo", NULL },
		{ "<\"ceo%contoso.com\">", P, "\"ceo%contoso.com\"", NULL },
		{ "<ceo%contoso.com@example.org>", P,
		  "ceo%contoso.com@example.org", "example.org" },
		{ "<!ceo>", P, NULL, NULL },
		{ "<ceo%>", P, NULL, NULL },
	};
	unsigned int i;

	test_begin("envelope paths by RFC 5321, canonical domains");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mw_mailaddr a;
		const char *error = NULL;
		int ret = mw_mailaddr_parse_path(cases[i].text, cases[i].flags,
						 &a, &error);

		test_assert_idx(addr_case_ok(&cases[i], ret, &a, error), i);
		mw_mailaddr_free(&a);
	}
	test_end();
}

static void test_headers(void)
{
	static const struct addr_case cases[] = {
		{ "alice@example.org", 0, "alice@example.org", "example.org" },
		{ "Alice <alice@Example.ORG>", 0, "alice@example.org", "example.org" },
		{ "\"Smith, Alice\" <alice@example.org>", 0, "alice@example.org",
		  "example.org" },
		{ "\"bob@evil.example\" <alice@example.org>", 0,
		  "alice@example.org", "example.org" },
		{ "(comment) alice@example.org (another)", 0, "alice@example.org",
		  "example.org" },
		{ "Alice (x) <alice(y)@example.org(z)>", 0, "alice@example.org",
		  "example.org" },
		{ "Alice\r\n <alice@example.org>", 0, "alice@example.org",
		  "example.org" },
		{ "<\"a b\"@example.org>", 0, "\"a b\"@example.org", "example.org" },
		{ "<@route.example:alice@example.org>", 0, "alice@example.org",
		  "example.org" },
		{ "Alice <alice@example.org.>", 0, "alice@example.org", "example.org" },
		{ "alice@example.org, bob@example.net", 0, NULL, NULL },
		{ "friends: alice@example.org;", 0, NULL, NULL },
		{ "Alice <alice@example.org", 0, NULL, NULL },
		{ "Alice <alice@example.org> bob@evil.example", 0, NULL, NULL },
		{ "(unterminated alice@example.org", 0, NULL, NULL },
		{ "alice", 0, NULL, NULL },
		{ "", 0, NULL, NULL },
	};
	unsigned int i;

	test_begin("header mailboxes by RFC 5322");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mw_mailaddr a;
		const char *error = NULL;
		int ret = mw_mailaddr_parse_header(cases[i].text, &a, &error);

		test_assert_idx(addr_case_ok(&cases[i], ret, &a, error), i);
		mw_mailaddr_free(&a);
	}
	test_end();
}

static void test_domains(void)
{
	char buf[MW_MAILADDR_DOMAIN_MAX];
	const char *error;

	test_begin("canonical domains");
	test_assert(mw_mailaddr_domain_canon("Contoso.COM.", 12, buf, sizeof(buf), &error) == 0 &&
		    strcmp(buf, "contoso.com") == 0);
	test_assert(mw_mailaddr_domain_canon("contoso.com.evil", 11, buf, sizeof(buf), &error) == 0 &&
		    strcmp(buf, "contoso.com") == 0);
	test_assert(mw_mailaddr_domain_canon("a..b", 4, buf, sizeof(buf), &error) < 0);
	test_assert(mw_mailaddr_domain_canon("", 0, buf, sizeof(buf), &error) < 0);
	test_assert(mw_mailaddr_domain_canon("contoso.com", 11, buf, 5, &error) < 0);
	test_end();
}

int main(void)
{
	test_paths();
	test_headers();
	test_domains();
	return test_exit();
}
