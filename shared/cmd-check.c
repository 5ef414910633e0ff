/* mailward check [-c FILE] [-n] [-d | -D DOVECOT_CONF]: validate, with -n
   print the policy normalised, as doveconf -n and postconf -n do, and
   with -d or -D also check that Dovecot runs the mailward modules so
   that the policy is enforced as written (the same mailward-* findings
   as mailward audit, see mailward-dovecot(7), CONFIGURATION CHECKS). */

#include "cmd.h"
#include "cmd-audit.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CHECK_USAGE "usage: mailward check [-c FILE] [-n] [-d | -D DOVECOT_CONF]\n"

/* 0 if Dovecot and the policy agree, 1 if not (the findings printed),
   2 if doveconf could not be read. */
static int check_dovecot(const struct mw_policy *policy, const char *path,
			 const char *dovecot_config)
{
	struct audit_findings findings;
	struct audit_context ctx;
	struct audit_conf dovecot;
	int ret, status;

	memset(&findings, 0, sizeof(findings));
	memset(&dovecot, 0, sizeof(dovecot));
	memset(&ctx, 0, sizeof(ctx));
	ret = audit_read_doveconf(NULL, dovecot_config, &dovecot, &findings);
	if (ret == 0) {
		ctx.findings = &findings;
		ctx.dovecot = &dovecot;
		ctx.policy = policy;
		ctx.policy_path = path;
		audit_check_dovecot_mailward(&ctx);
	} else if (ret == 1) {
		audit_read_error(&findings, "doveconf", "not installed");
	}
	audit_print_text(&findings, stdout);
	status = findings.read_failed ? 2 : findings.count > 0 ? 1 : 0;
	audit_conf_free(&dovecot);
	audit_findings_free(&findings);
	return status;
}

int cmd_check(int argc, char *argv[])
{
	const char *path = CMD_DEFAULT_POLICY, *dovecot_config = NULL;
	struct mw_policy *policy;
	bool print = false, dovecot = false;
	int c, status = 0;

	optind = 1;
	while ((c = getopt(argc, argv, "c:ndD:")) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			print = true;
			break;
		case 'd':
			dovecot = true;
			break;
		case 'D':
			dovecot = true;
			dovecot_config = optarg;
			break;
		default:
			fputs(CHECK_USAGE, stderr);
			return CMD_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(CHECK_USAGE, stderr);
		return CMD_EXIT_USAGE;
	}
	if (cmd_load_policy(path, &policy) < 0)
		return CMD_EXIT_CONFIG;
	if (print)
		mw_policy_print(policy, stdout);
	if (dovecot)
		status = check_dovecot(policy, path, dovecot_config);
	mw_policy_unref(&policy);
	return status;
}
