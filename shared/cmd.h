#ifndef CMD_H
#define CMD_H

#include "mw-policy.h"

/* Exit statuses of the mailward command (sysexits.h values for the
   errors, so scripts can tell a refused client from a broken setup). */
#define CMD_EXIT_ALLOW 0
#define CMD_EXIT_DENY 1
#define CMD_EXIT_TEMPFAIL 2
#define CMD_EXIT_USAGE 64	/* EX_USAGE */
#define CMD_EXIT_CONFIG 78	/* EX_CONFIG */

#define CMD_DEFAULT_POLICY SYSCONFDIR "/mailward/mailward.conf"

int cmd_check(int argc, char *argv[]);
int cmd_test(int argc, char *argv[]);
int cmd_partners(int argc, char *argv[]);
int cmd_audit(int argc, char *argv[]);
int cmd_smime(int argc, char *argv[]);

/* Loads the policy for a subcommand, printing every diagnostic to
   stderr.  Returns 0, or -1 if the policy is invalid. */
int cmd_load_policy(const char *path, struct mw_policy **policy_r);

#endif
