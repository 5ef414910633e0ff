/* mailward check [-c FILE] [-n]: validate, and with -n print the policy
   normalised, as doveconf -n and postconf -n do. */

#include "cmd.h"

#include <stdio.h>
#include <unistd.h>

int cmd_check(int argc, char *argv[])
{
	const char *path = CMD_DEFAULT_POLICY;
	struct mw_policy *policy;
	bool print = false;
	int c;

	optind = 1;
	while ((c = getopt(argc, argv, "c:n")) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			print = true;
			break;
		default:
			fputs("usage: mailward check [-c FILE] [-n]\n", stderr);
			return CMD_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs("usage: mailward check [-c FILE] [-n]\n", stderr);
		return CMD_EXIT_USAGE;
	}
	if (cmd_load_policy(path, &policy) < 0)
		return CMD_EXIT_CONFIG;
	if (print)
		mw_policy_print(policy, stdout);
	mw_policy_unref(&policy);
	return 0;
}
