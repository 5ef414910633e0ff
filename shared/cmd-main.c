/* mailward: check a policy, try a client against it, and print what
   Postfix needs for partner domains. */

#include "cmd.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int (*run)(int argc, char *argv[]);
	const char *usage;
} cmd_table[] = {
	{ "check", cmd_check, "check [-c FILE] [-n] [-d | -D DOVECOT_CONF]" },
	{ "test", cmd_test,
	  "test [-c FILE] service=NAME rip=ADDR [lip=ADDR] [rport=N] [lport=N]\n"
	  "                [host=NAME|none|fail] [mech=MECH] [secured=tls|yes|no]\n"
	  "                [bits=N] [cert=valid|none] [auth=yes|no]" },
	{ "partners", cmd_partners, "partners [-c FILE]" },
#ifdef MW_WITH_SMIME
	{ "smime", cmd_smime, "smime [-c FILE] ADDRESS..." },
#endif
	{ "audit", cmd_audit,
	  "audit [-c FILE] [--json] [--hostname NAME]... [--no-dovecot] [--no-postfix]\n"
	  "                 [--doveconf FILE] [--dovecot-config FILE] [--postconf FILE]\n"
	  "                 [--master FILE] [--postfix-config DIR] [--postfix-version X.Y]\n"
	  "                 [--no-policy] [--milter TEXT]" },
};

static void cmd_usage(FILE *out)
{
	unsigned int i;

	fputs("usage:\n", out);
	for (i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++)
		fprintf(out, "  mailward %s\n", cmd_table[i].usage);
	fprintf(out, "The policy file defaults to %s.\n", CMD_DEFAULT_POLICY);
}

int cmd_load_policy(const char *path, struct mw_policy **policy_r)
{
	struct mw_diags *diags;
	int ret;

	ret = mw_policy_load(path, policy_r, &diags);
	mw_diags_print(diags, stderr);
	if (ret < 0) {
		fprintf(stderr, "mailward: %s: %u error%s; the policy is not valid\n",
			path, mw_diags_error_count(diags),
			mw_diags_error_count(diags) == 1 ? "" : "s");
	}
	mw_diags_free(&diags);
	return ret;
}

int main(int argc, char *argv[])
{
	unsigned int i;

	if (argc < 2) {
		cmd_usage(stderr);
		return CMD_EXIT_USAGE;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		cmd_usage(stdout);
		return 0;
	}
	for (i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++) {
		if (strcmp(argv[1], cmd_table[i].name) == 0)
			return cmd_table[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "mailward: unknown command '%s'\n", argv[1]);
	cmd_usage(stderr);
	return CMD_EXIT_USAGE;
}
