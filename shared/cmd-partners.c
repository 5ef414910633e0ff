/* mailward partners: the smtp_tls_policy_maps entries that make outbound
   mail to each partner domain use authenticated TLS, so that inbound and
   outbound domain security come from the same file.  The output is a
   table Postfix reads as it is (comments and "domain level match=..."
   lines); the validator has already put outbound_match in Postfix's
   syntax. */

#include "cmd.h"

#include <stdio.h>
#include <unistd.h>

int cmd_partners(int argc, char *argv[])
{
	const char *path = CMD_DEFAULT_POLICY;
	const struct mw_partner *partner;
	struct mw_policy *policy;
	unsigned int i;
	int c;

	optind = 1;
	while ((c = getopt(argc, argv, "c:")) != -1) {
		if (c == 'c') {
			path = optarg;
			continue;
		}
		fputs("usage: mailward partners [-c FILE]\n", stderr);
		return CMD_EXIT_USAGE;
	}
	if (optind != argc) {
		fputs("usage: mailward partners [-c FILE]\n", stderr);
		return CMD_EXIT_USAGE;
	}
	if (cmd_load_policy(path, &policy) < 0)
		return CMD_EXIT_CONFIG;

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
