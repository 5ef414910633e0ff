/* Loader limits that golden files cannot show well: nesting far past the
   limit from memory, the Postfix daemon-name table at scale, the warning
   cap and a NUL inside a net-list entry read through the public API. */

#include "test-common.h"
#include "mw-policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *test_nested(unsigned int depth)
{
	size_t size = 32 + (size_t)depth * 14;
	char *buf = malloc(size), *p = buf;
	unsigned int i;

	p += sprintf(p, "service imap {\n");
	for (i = 0; i < depth; i++)
		p += sprintf(p, "from any {\n");
	for (i = 0; i < depth; i++)
		p += sprintf(p, "}\n");
	sprintf(p, "}\n");
	return buf;
}

static bool test_has_message(const struct mw_diags *diags, const char *part)
{
	unsigned int i;

	for (i = 0; i < mw_diags_count(diags); i++) {
		if (strstr(mw_diags_get(diags, i)->message, part) != NULL)
			return true;
	}
	return false;
}

static void test_deep_nesting(void)
{
	struct mw_policy *policy;
	struct mw_diags *diags;
	char *data = test_nested(1000000);

	test_begin("a million nested blocks: one clear error, no crash");
	test_assert(mw_policy_load_buffer("deep.conf", data, strlen(data),
					  &policy, &diags) < 0);
	test_assert(policy == NULL);
	test_assert(test_has_message(diags, "blocks nested deeper than 8 levels"));
	test_assert(strncmp(mw_diags_first_error(diags), "deep.conf:", 10) == 0);
	mw_diags_free(&diags);
	free(data);
	test_end();
}

#define TEST_SERVICES 4000

static void test_daemon_names(void)
{
	struct mw_policy *policy;
	struct mw_diags *diags;
	char *data = malloc(TEST_SERVICES * 64), *p = data;
	char name[32], expect[32];
	unsigned int i;
	bool all_found = true;

	for (i = 0; i < TEST_SERVICES; i++) {
		p += sprintf(p, "service s%u { postfix_daemon_name = D%u E%u }\n",
			     i, i, i);
	}
	test_begin("4,000 services: each daemon name maps to its own service");
	test_assert(mw_policy_load_buffer("many.conf", data, (size_t)(p - data),
					  &policy, &diags) == 0);
	for (i = 0; policy != NULL && i < TEST_SERVICES; i++) {
		const char *svc;

		snprintf(name, sizeof(name), i % 2 == 0 ? "D%u" : "E%u", i);
		snprintf(expect, sizeof(expect), "s%u", i);
		svc = mw_policy_service_for_daemon(policy, name);
		if (svc == NULL || strcmp(svc, expect) != 0)
			all_found = false;
	}
	test_assert(all_found);
	test_assert(policy != NULL &&
		    mw_policy_service_for_daemon(policy, "D4000") == NULL);
	mw_policy_unref(&policy);
	mw_diags_free(&diags);
	test_end();

	/* The last service takes the first one's name: still found. */
	sprintf(p, "service last { postfix_daemon_name = D0 }\n");
	test_begin("a daemon name given twice among 4,000 services is refused");
	test_assert(mw_policy_load_buffer("many.conf", data, strlen(data),
					  &policy, &diags) < 0);
	test_assert(test_has_message(diags,
		"postfix_daemon_name D0 is also given to service s0"));
	test_assert(mw_diags_error_count(diags) == 1);
	mw_diags_free(&diags);
	test_end();
	free(data);
}

static void test_warning_cap(void)
{
	char *list = malloc(20000 * 16), *p = list;
	char policy_text[256];
	struct mw_policy *policy;
	struct mw_diags *diags;
	const struct mw_diag *last;
	unsigned int i, warnings = 0;

	for (i = 0; i < 20000; i++)
		p += sprintf(p, "10.%u.%u.1/16\n", i / 256 % 256, i % 256);
	snprintf(policy_text, sizeof(policy_text),
		 "service imap {\n  deny net-list \"%s\"\n}\n",
		 test_write_file("hostbits.list", list));
	test_begin("20,000 warnings: 100 kept and the rest counted");
	test_assert(mw_policy_load_buffer("cap.conf", policy_text,
					  strlen(policy_text), &policy, &diags) == 0);
	for (i = 0; i < mw_diags_count(diags); i++) {
		if (mw_diags_get(diags, i)->severity == MW_SEVERITY_WARNING)
			warnings++;
	}
	test_assert(warnings == 101);
	last = mw_diags_get(diags, mw_diags_count(diags) - 1);
	test_assert(last != NULL && strcmp(last->message,
					   "19900 more warnings not shown") == 0);
	mw_policy_unref(&policy);
	mw_diags_free(&diags);
	free(list);
	test_end();
}

static void test_netlist_nul(void)
{
	static const char list[] = "192.0.2.0/24\n10.0.0.0/8\0junk\n";
	char policy_text[256], path[200];
	struct mw_policy *policy;
	struct mw_diags *diags;
	FILE *f;

	snprintf(path, sizeof(path), "%s", test_write_file("nul.list", ""));
	f = fopen(path, "w");
	fwrite(list, 1, sizeof(list) - 1, f);
	fclose(f);
	snprintf(policy_text, sizeof(policy_text),
		 "service imap {\n  deny net-list \"%s\"\n}\n", path);
	test_begin("a NUL inside a net-list entry is refused with file:line");
	test_assert(mw_policy_load_buffer("nul.conf", policy_text,
					  strlen(policy_text), &policy, &diags) < 0);
	test_assert(test_has_message(diags, "NUL byte in address list"));
	test_assert(mw_diags_get(diags, 0)->line == 2);
	test_assert(strcmp(mw_diags_get(diags, 0)->file, path) == 0);
	mw_diags_free(&diags);
	test_end();
}

static enum mw_verdict test_verdict(const struct mw_policy *policy,
				     const char *service, const char *rip)
{
	struct mw_decision dec;
	struct mw_conn conn;

	mw_conn_init(&conn);
	conn.service = service;
	if (mw_addr_parse(rip, &conn.remote_ip) < 0)
		return MW_VERDICT_TEMPFAIL;
	conn.tls = MW_TLS_NONE;
	return mw_decide(policy, &conn, &dec);
}

/* What mailward.conf(5) says of ::/0: it is an IPv6 prefix only. */
static void test_ipv6_any(void)
{
	static const char text[] =
		"service imap {\n  deny net ::/0\n}\n"
		"service pop3 {\n  deny net 0.0.0.0/0 ::/0\n}\n";
	struct mw_policy *policy;
	struct mw_diags *diags;

	test_begin("deny net ::/0 does not match IPv4 clients, as documented");
	test_assert(mw_policy_load_buffer("v6.conf", text, strlen(text),
					  &policy, &diags) == 0);
	test_assert(test_verdict(policy, "imap", "2001:db8::1") == MW_VERDICT_DENY);
	test_assert(test_verdict(policy, "imap", "192.0.2.1") == MW_VERDICT_ALLOW);
	test_assert(test_verdict(policy, "imap", "::ffff:192.0.2.1") == MW_VERDICT_ALLOW);
	test_assert(test_verdict(policy, "pop3", "192.0.2.1") == MW_VERDICT_DENY);
	test_assert(test_verdict(policy, "pop3", "::ffff:192.0.2.1") == MW_VERDICT_DENY);
	mw_policy_unref(&policy);
	mw_diags_free(&diags);
	test_end();
}

/* mw_policy_load is what the passdb, the login plugin and the milter
   call: a file others can write is refused there, not only by mailward
   check; a group-writable one loads with a warning. */
static void test_writable_refused(void)
{
	static const char text[] = "service imap {\n  deny any\n}\n";
	struct mw_policy *policy;
	struct mw_diags *diags;
	const char *path = test_write_file("writable.conf", text);

	test_begin("the daemons' loader refuses a policy others can write");
	test_assert(chmod(path, 0666) == 0);
	test_assert(mw_policy_load(path, &policy, &diags) < 0);
	test_assert(policy == NULL);
	test_assert(test_has_message(diags, "is writable by others (mode 0666); refusing it"));
	mw_diags_free(&diags);
	test_end();

	test_begin("the daemons' loader warns about a group-writable policy");
	test_assert(chmod(path, 0664) == 0);
	test_assert(mw_policy_load(path, &policy, &diags) == 0);
	test_assert(test_has_message(diags, "is writable by its group (mode 0664)"));
	test_assert(mw_diags_error_count(diags) == 0);
	mw_policy_unref(&policy);
	mw_diags_free(&diags);
	test_end();
}

int main(void)
{
	test_writable_refused();
	test_ipv6_any();
	test_deep_nesting();
	test_daemon_names();
	test_warning_cap();
	test_netlist_nul();
	return test_exit();
}
