/* Host name patterns and certificate name globs. */

#include "test-common.h"
#include "mw-match.h"

#include <stdio.h>

static void test_hostnames(void)
{
	static const struct { const char *pattern, *name; bool match; } cases[] = {
		{ ".contoso.com", "contoso.com", true },
		{ ".contoso.com", "mail.contoso.com", true },
		{ ".contoso.com", "a.b.contoso.com", true },
		{ ".contoso.com", "MAIL.Contoso.COM.", true },
		{ ".contoso.com", "evilcontoso.com", false },
		{ ".contoso.com", "contoso.com.evil.net", false },
		{ "mail.example.org", "mail.example.org", true },
		{ "mail.example.org", "mail.example.org.", true },
		{ "mail.example.org", "x.mail.example.org", false },
		{ "mail.example.org", "example.org", false },
	};
	unsigned int i;

	test_begin("host name patterns: exact and .domain");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (mw_hostname_match(cases[i].pattern, cases[i].name) != cases[i].match)
			printf("# %s ~ %s\n", cases[i].pattern, cases[i].name);
		test_assert_idx(mw_hostname_match(cases[i].pattern, cases[i].name) ==
				cases[i].match, i);
	}
	test_assert(mw_hostname_is_valid("mail.example.org"));
	test_assert(!mw_hostname_is_valid("mail..example.org"));
	test_assert(!mw_hostname_is_valid("mail.exa mple.org"));
	test_assert(!mw_hostname_is_valid(""));
	test_end();
}

static void test_globs(void)
{
	static const struct { const char *pattern, *text; bool match; } cases[] = {
		{ "mx*.contoso.com", "mx1.contoso.com", true },
		{ "mx*.contoso.com", "mx.contoso.com", true },
		{ "mx*.contoso.com", "mx1.evil.contoso.com", false },
		{ "*.contoso.com", "a.b.contoso.com", false },
		{ "*.contoso.com", "MAIL.CONTOSO.COM", true },
		{ "Contoso CA", "contoso ca", true },
		{ "Contoso CA", "Contoso CA 2", false },
		{ "Contoso *", "Contoso Issuing CA 2", true },
		{ "mx?.contoso.com", "mx12.contoso.com", false },
		{ "*", "anything", true },
		{ "a*b*c", "aXXbYYc", true },
		{ "a*b*c", "aXXbYY", false },
	};
	unsigned int i;

	test_begin("certificate name globs: '*' stops at dots");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (mw_glob_match(cases[i].pattern, cases[i].text) != cases[i].match)
			printf("# %s ~ %s\n", cases[i].pattern, cases[i].text);
		test_assert_idx(mw_glob_match(cases[i].pattern, cases[i].text) ==
				cases[i].match, i);
	}
	test_end();
}

int main(void)
{
	test_hostnames();
	test_globs();
	return test_exit();
}
