/* mailward audit [options]: the baseline security analyzer (see
   cmd-audit.h).  Exit status 0 when nothing of high severity was found,
   1 when something was, 2 when what it needs could not be read. */

#include "cmd.h"
#include "cmd-audit.h"
#include "mw-util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define AUDIT_EXIT_CLEAN 0
#define AUDIT_EXIT_HIGH 1
#define AUDIT_EXIT_UNREADABLE 2
#define AUDIT_HOSTNAMES_MAX 16

static const char audit_usage[] =
	"usage: mailward audit [-c FILE] [--json] [--hostname NAME]...\n"
	"                      [--doveconf FILE | --dovecot-config FILE | --no-dovecot]\n"
	"                      [--postconf FILE] [--master FILE] [--postfix-config DIR]\n"
	"                      [--postfix-version X.Y] [--no-postfix] [--no-policy]\n"
	"                      [--milter TEXT]\n";

struct audit_options {
	const char *policy, *doveconf, *dovecot_config;
	const char *postconf, *master, *postfix_config, *milter;
	const char *hostnames[AUDIT_HOSTNAMES_MAX + 1];
	unsigned int hostname_count, postfix_version;
	bool json, no_dovecot, no_postfix, no_policy;
};

/* "3.10.2" -> 310 */
static unsigned int audit_parse_version(const char *str)
{
	unsigned int major = 0, minor = 0;

	if (str == NULL || sscanf(str, "%u.%u", &major, &minor) < 1)
		return 0;
	return major * 100 + minor;
}

static int audit_parse_options(int argc, char *argv[], struct audit_options *opts)
{
	enum {
		OPT_JSON = 256, OPT_DOVECONF, OPT_DOVECOT_CONFIG, OPT_NO_DOVECOT,
		OPT_POSTCONF, OPT_MASTER, OPT_POSTFIX_CONFIG, OPT_NO_POSTFIX,
		OPT_POSTFIX_VERSION, OPT_NO_POLICY, OPT_HOSTNAME, OPT_MILTER,
	};
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "doveconf", required_argument, NULL, OPT_DOVECONF },
		{ "dovecot-config", required_argument, NULL, OPT_DOVECOT_CONFIG },
		{ "no-dovecot", no_argument, NULL, OPT_NO_DOVECOT },
		{ "postconf", required_argument, NULL, OPT_POSTCONF },
		{ "master", required_argument, NULL, OPT_MASTER },
		{ "postfix-config", required_argument, NULL, OPT_POSTFIX_CONFIG },
		{ "postfix-version", required_argument, NULL, OPT_POSTFIX_VERSION },
		{ "no-postfix", no_argument, NULL, OPT_NO_POSTFIX },
		{ "no-policy", no_argument, NULL, OPT_NO_POLICY },
		{ "hostname", required_argument, NULL, OPT_HOSTNAME },
		{ "milter", required_argument, NULL, OPT_MILTER },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': opts->policy = optarg; break;
		case OPT_JSON: opts->json = true; break;
		case OPT_DOVECONF: opts->doveconf = optarg; break;
		case OPT_DOVECOT_CONFIG: opts->dovecot_config = optarg; break;
		case OPT_NO_DOVECOT: opts->no_dovecot = true; break;
		case OPT_POSTCONF: opts->postconf = optarg; break;
		case OPT_MASTER: opts->master = optarg; break;
		case OPT_POSTFIX_CONFIG: opts->postfix_config = optarg; break;
		case OPT_NO_POSTFIX: opts->no_postfix = true; break;
		case OPT_NO_POLICY: opts->no_policy = true; break;
		case OPT_MILTER: opts->milter = optarg; break;
		case OPT_POSTFIX_VERSION:
			opts->postfix_version = audit_parse_version(optarg);
			if (opts->postfix_version == 0) {
				fprintf(stderr, "mailward audit: '%s' is not a Postfix version\n",
					optarg);
				return -1;
			}
			break;
		case OPT_HOSTNAME:
			if (opts->hostname_count == AUDIT_HOSTNAMES_MAX) {
				fprintf(stderr, "mailward audit: at most %d host names\n",
					AUDIT_HOSTNAMES_MAX);
				return -1;
			}
			opts->hostnames[opts->hostname_count++] = optarg;
			break;
		default:
			return -1;
		}
	}
	return optind == argc ? 0 : -1;
}

static void audit_not_installed(struct audit_findings *findings, const char *what,
				const char *command)
{
	audit_addf(findings, AUDIT_INFO, "not-audited", command, 0,
		   "the command is not installed, so this side was not audited",
		   "install it, or name saved output with the options",
		   "%s is not audited", what);
}

/* The policy: a file that cannot be read is a read failure; one that
   reads but does not load is a finding. */
static struct mw_policy *audit_load_policy(const char *path,
					   struct audit_findings *findings)
{
	struct mw_policy *policy;
	struct mw_diags *diags;
	const char *error;

	if (access(path, R_OK) < 0) {
		char what[512];

		snprintf(what, sizeof(what), "cannot read the mailward policy %s", path);
		audit_read_error(findings, path, what);
		return NULL;
	}
	if (mw_policy_load(path, &policy, &diags) < 0) {
		error = mw_diags_first_error(diags);
		audit_add(findings, AUDIT_HIGH, "policy-invalid", path, 0,
			  error == NULL ? "the policy does not load" : error,
			  "an invalid policy makes every daemon that loads it refuse or tempfail all clients",
			  "correct it (mailward check -c FILE lists every error)");
	}
	mw_diags_free(&diags);
	return policy;
}

/* Names clients use: --hostname, else Postfix's myhostname and Dovecot's
   hostname, else this machine's name. */
static void audit_default_hostnames(struct audit_options *opts,
				    const struct audit_conf *dovecot,
				    const struct audit_conf *postfix,
				    char *own, size_t own_size)
{
	const struct audit_setting *set;

	if (opts->hostname_count > 0)
		return;
	set = audit_conf_get(postfix, "", "myhostname");
	if (set != NULL && strchr(set->value, '$') == NULL)
		opts->hostnames[opts->hostname_count++] = set->value;
	set = audit_conf_get(dovecot, "", "hostname");
	if (set != NULL && (opts->hostname_count == 0 ||
			    strcmp(set->value, opts->hostnames[0]) != 0))
		opts->hostnames[opts->hostname_count++] = set->value;
	if (opts->hostname_count == 0 && gethostname(own, own_size) == 0) {
		own[own_size - 1] = '\0';
		opts->hostnames[opts->hostname_count++] = own;
	}
}

int cmd_audit(int argc, char *argv[])
{
	struct audit_options opts;
	struct audit_findings findings;
	struct audit_conf dovecot, postfix;
	struct audit_master master;
	struct audit_context ctx;
	struct mw_policy *policy = NULL;
	char own_hostname[256] = "", *version;
	const char *policy_path;
	unsigned int i;
	int ret, status;

	memset(&opts, 0, sizeof(opts));
	memset(&findings, 0, sizeof(findings));
	memset(&dovecot, 0, sizeof(dovecot));
	memset(&postfix, 0, sizeof(postfix));
	memset(&master, 0, sizeof(master));
	if (audit_parse_options(argc, argv, &opts) < 0) {
		fputs(audit_usage, stderr);
		return CMD_EXIT_USAGE;
	}

	if (!opts.no_dovecot) {
		ret = audit_read_doveconf(opts.doveconf, opts.dovecot_config,
					  &dovecot, &findings);
		if (ret == 1)
			audit_not_installed(&findings, "Dovecot", "doveconf");
	}
	if (!opts.no_postfix) {
		ret = audit_read_postconf(opts.postconf, opts.postfix_config,
					  &postfix, &findings);
		if (ret == 1)
			audit_not_installed(&findings, "Postfix", "postconf");
		/* Saved main.cf without master.cf: audit what there is. */
		if (ret == 0 && (opts.master != NULL || opts.postconf == NULL))
			(void)audit_read_master(opts.master, opts.postfix_config,
						&master, &findings);
		else if (ret == 0)
			audit_add(&findings, AUDIT_INFO, "not-audited", opts.postconf, 0,
				  "master.cf is not audited",
				  "the submission, SASL and milter checks are made per master.cf service",
				  "name postconf -M output (or master.cf) with --master");
		if (opts.postfix_version == 0 && ret == 0) {
			const struct audit_setting *set =
				audit_conf_get(&postfix, "", "mail_version");

			if (set != NULL) {
				opts.postfix_version = audit_parse_version(set->value);
			} else if (opts.postconf == NULL) {
				version = audit_postconf_param(opts.postfix_config,
							       "mail_version");
				opts.postfix_version = audit_parse_version(version);
				free(version);
			}
		}
	}

	policy_path = opts.policy;
	if (policy_path == NULL)
		policy_path = audit_dovecot_policy_path(&dovecot);
	if (policy_path == NULL)
		policy_path = CMD_DEFAULT_POLICY;
	if (!opts.no_policy)
		policy = audit_load_policy(policy_path, &findings);

	audit_default_hostnames(&opts, &dovecot, &postfix, own_hostname,
				sizeof(own_hostname));
	memset(&ctx, 0, sizeof(ctx));
	ctx.findings = &findings;
	ctx.dovecot = dovecot.loaded ? &dovecot : NULL;
	ctx.postfix = postfix.loaded ? &postfix : NULL;
	ctx.master = master.loaded ? &master : NULL;
	ctx.policy = policy;
	ctx.policy_path = opts.no_policy ? NULL : policy_path;
	ctx.hostnames = opts.hostnames;
	ctx.milter_match = opts.milter != NULL ? opts.milter : "mailward";
	ctx.postfix_version = opts.postfix_version;

	if (ctx.dovecot != NULL)
		audit_check_dovecot(&ctx);
	if (ctx.postfix != NULL)
		audit_check_postfix(&ctx);
	if (ctx.policy_path != NULL)
		audit_check_policy(&ctx);

	if (opts.json)
		audit_print_json(&findings, stdout);
	else
		audit_print_text(&findings, stdout);

	status = AUDIT_EXIT_CLEAN;
	for (i = 0; i < findings.count; i++) {
		if (findings.items[i].severity == AUDIT_HIGH)
			status = AUDIT_EXIT_HIGH;
	}
	if (findings.read_failed)
		status = AUDIT_EXIT_UNREADABLE;
	mw_policy_unref(&policy);
	audit_conf_free(&dovecot);
	audit_conf_free(&postfix);
	audit_master_free(&master);
	audit_findings_free(&findings);
	return status;
}
