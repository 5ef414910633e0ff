/* mailward partners: the smtp_tls_policy_maps entries that make outbound
   mail to each partner domain use authenticated TLS, so that inbound and
   outbound domain security come from the same file.  The output is a
   table Postfix reads as it is (comments and "domain level match=..."
   lines); the validator has already put outbound_match in Postfix's
   syntax. */

#include "cmd.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#define CMD_PARTNERS_USAGE "usage: mailward partners [-s] [-c FILE]\n"

/* A main.cf parameter name for the partner's restriction class. */
static void cmd_print_class(const struct mw_partner *partner)
{
	const char *p;

	fputs("mailward_pin_", stdout);
	for (p = partner->domain; *p != '\0'; p++)
		putchar(isalnum((unsigned char)*p) ? *p : '_');
}

/* -s: the smtpd side.  Postfix reports only the common names of the
   client certificate and its issuer to a milter, so the pin on the
   partner's own certificates is Postfix's to enforce: mail whose sender
   is in the partner's domain must come with one of them
   (check_ccert_access), whichever CA in smtpd_tls_CAfile issued it. */
static void cmd_partners_smtpd(const char *path, const struct mw_policy *policy)
{
	const struct mw_partner *partner;
	unsigned int i, j;
	bool any = false;

	printf("# smtpd settings from %s for the MX service (main.cf, or\n"
	       "# master.cf -o): mail whose sender is in a partner domain with\n"
	       "# cert_fingerprint must come with one of those certificates.\n"
	       "# Fingerprints are in smtpd_tls_fingerprint_digest (sha256 at\n"
	       "# compatibility_level 3.6 and later); the MX needs\n"
	       "# smtpd_tls_ask_ccert = yes.\n", path);
	for (i = 0; (partner = mw_policy_partner(policy, i)) != NULL; i++)
		any = any || partner->cert_fingerprint != NULL;
	if (!any) {
		puts("# (no partner has cert_fingerprint)");
		return;
	}
	fputs("smtpd_restriction_classes =", stdout);
	for (i = 0; (partner = mw_policy_partner(policy, i)) != NULL; i++) {
		if (partner->cert_fingerprint == NULL)
			continue;
		putchar(' ');
		cmd_print_class(partner);
	}
	putchar('\n');
	for (i = 0; (partner = mw_policy_partner(policy, i)) != NULL; i++) {
		if (partner->cert_fingerprint == NULL)
			continue;
		cmd_print_class(partner);
		fputs(" = check_ccert_access inline:{", stdout);
		for (j = 0; partner->cert_fingerprint[j] != NULL; j++)
			printf("%s %s=OK", j > 0 ? "," : "",
			       partner->cert_fingerprint[j]);
		puts(" }, reject");
	}
	fputs("smtpd_sender_restrictions = check_sender_access inline:{", stdout);
	any = false;	/* a comma before every entry but the first */
	for (i = 0; (partner = mw_policy_partner(policy, i)) != NULL; i++) {
		if (partner->cert_fingerprint == NULL)
			continue;
		printf("%s %s=", any ? "," : "", partner->domain);
		cmd_print_class(partner);
		any = true;
	}
	puts(" }");
}

int cmd_partners(int argc, char *argv[])
{
	const char *path = CMD_DEFAULT_POLICY;
	const struct mw_partner *partner;
	struct mw_policy *policy;
	bool smtpd = false;
	unsigned int i;
	int c;

	optind = 1;
	while ((c = getopt(argc, argv, "c:s")) != -1) {
		if (c == 'c') {
			path = optarg;
			continue;
		}
		if (c == 's') {
			smtpd = true;
			continue;
		}
		fputs(CMD_PARTNERS_USAGE, stderr);
		return CMD_EXIT_USAGE;
	}
	if (optind != argc) {
		fputs(CMD_PARTNERS_USAGE, stderr);
		return CMD_EXIT_USAGE;
	}
	if (cmd_load_policy(path, &policy) < 0)
		return CMD_EXIT_CONFIG;
	if (smtpd) {
		cmd_partners_smtpd(path, policy);
		mw_policy_unref(&policy);
		return 0;
	}

	printf("# smtp_tls_policy_maps entries from %s\n"
	       "# main.cf: smtp_tls_policy_maps = texthash:/etc/postfix/tls_policy\n"
	       "#\n"
	       "# Postfix 3.10 and later honour an RFC 8689 \"TLS-Required: no\"\n"
	       "# header (tls_required_enable = yes by default), which sends a\n"
	       "# message with opportunistic TLS whatever this table says.\n"
	       "# mailward-milter refuses mail to a partner with that header\n"
	       "# (tls_required_no = reject), or removes the header (= remove),\n"
	       "# which helps only once Postfix no longer acts on it:\n"
	       "# main.cf: tls_required_enable = no\n",
	       path);
	for (i = 0; (partner = mw_policy_partner(policy, i)) != NULL; i++) {
		printf("%s\t%s", partner->domain, partner->outbound_tls);
		if (partner->outbound_match != NULL)
			printf(" match=%s", partner->outbound_match);
		printf("\n");
	}
	mw_policy_unref(&policy);
	return 0;
}
