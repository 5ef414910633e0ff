#ifndef CMD_AUDIT_H
#define CMD_AUDIT_H

/* mailward audit: the baseline security analyzer of the seeds.  It reads
   the live Dovecot and Postfix configuration (doveconf -n, postconf -n,
   postconf -M) or saved copies of it, and the mailward policy, and reports
   each insecure setting with its severity, where it is, why it matters and
   how to fix it.  Reading is in cmd-audit-read.c, the checks in
   cmd-audit-{dovecot,postfix,policy,cert}.c, the output in
   cmd-audit-output.c. */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct mw_policy;

enum audit_severity {
	AUDIT_INFO,
	AUDIT_LOW,
	AUDIT_MEDIUM,
	AUDIT_HIGH,
};

struct audit_finding {
	enum audit_severity severity;
	const char *id;		/* stable name for scripts: "dovecot-cleartext" */
	char *setting;		/* "disable_plaintext_auth = no" */
	char *file;		/* where the setting is: a file or "doveconf -n" */
	unsigned int line;	/* 0 if not known */
	char *why;
	char *fix;
};

struct audit_findings {
	struct audit_finding *items;
	unsigned int count, alloc;
	bool read_failed;	/* something needed could not be read */
};

/* Adds a finding; the strings are copied. */
void audit_add(struct audit_findings *findings, enum audit_severity severity,
	       const char *id, const char *file, unsigned int line,
	       const char *setting, const char *why, const char *fix);
/* The same with a printf-formatted setting. */
void audit_addf(struct audit_findings *findings, enum audit_severity severity,
		const char *id, const char *file, unsigned int line,
		const char *why, const char *fix, const char *setting_fmt, ...)
	__attribute__((format(printf, 8, 9)));
/* Reports that input could not be read (exit status 2). */
void audit_read_error(struct audit_findings *findings, const char *source,
		      const char *what);
void audit_findings_free(struct audit_findings *findings);
const char *audit_severity_name(enum audit_severity severity);

/* --- configuration as read ------------------------------------------- */

/* One "key = value" of doveconf -n or postconf -n.  section is the path
   of the blocks it is in, "" at the top level: "protocol imap",
   "service imap-login/inet_listener imap", "passdb#2 mailward" (passdb
   sections are numbered in file order).  Each block also has an entry
   of its own, key "{" and value its name, at the line it opens. */
struct audit_setting {
	char *section;
	char *key;
	char *value;
	unsigned int line;
};

struct audit_conf {
	char *source;		/* the file read, or the command run */
	struct audit_setting *items;
	unsigned int count, alloc;
	bool loaded;
};

/* One master.cf service, as postconf -M prints it. */
struct audit_service {
	char *name, *type, *command;
	char **override_keys, **override_values;	/* the -o options */
	unsigned int override_count;
	unsigned int line;
};

struct audit_master {
	char *source;
	struct audit_service *services;
	unsigned int count;
	bool loaded;
};

/* Each reader takes saved output (or the file itself: dovecot.conf,
   main.cf, master.cf) from path, or runs the command when path is NULL:
   doveconf [-c config] -n, postconf [-c dir] -n, postconf [-c dir] -M.
   Returns 0, 1 if the command is not installed (nothing to audit), or -1
   with the reason added to findings. */
int audit_read_doveconf(const char *path, const char *config,
			struct audit_conf *conf, struct audit_findings *findings);
int audit_read_postconf(const char *path, const char *config_dir,
			struct audit_conf *conf, struct audit_findings *findings);
int audit_read_master(const char *path, const char *config_dir,
		      struct audit_master *master, struct audit_findings *findings);
/* One Postfix parameter from the running postconf (-h), or NULL. */
char *audit_postconf_param(const char *config_dir, const char *name);
void audit_conf_free(struct audit_conf *conf);
void audit_master_free(struct audit_master *master);

/* The last value of key in section (exactly), or NULL. */
const struct audit_setting *
audit_conf_get(const struct audit_conf *conf, const char *section,
	       const char *key);
/* An override of service, or else main.cf's value, or else NULL. */
const char *audit_service_param(const struct audit_service *svc,
				const struct audit_conf *main_cf,
				const char *key);

/* --- the checks ------------------------------------------------------ */

struct audit_context {
	struct audit_findings *findings;
	const struct audit_conf *dovecot;	/* NULL when not audited */
	const struct audit_conf *postfix;
	const struct audit_master *master;
	const struct mw_policy *policy;		/* NULL when not loaded */
	const char *policy_path;
	const char *const *hostnames;	/* names clients use for the server */
	const char *milter_match;	/* what names the mailward milter */
	unsigned int postfix_version;	/* 310 for 3.10; 0 if not known */
};

void audit_check_dovecot(const struct audit_context *ctx);
/* Only whether Dovecot runs the mailward modules as the policy needs
   (mailward check -d): the mailward-* findings. */
void audit_check_dovecot_mailward(const struct audit_context *ctx);
void audit_check_postfix(const struct audit_context *ctx);
void audit_check_policy(const struct audit_context *ctx);
/* Server certificate checks (OpenSSL): names, expiry, key size, digest.
   setting names where the certificate was configured; key_or_cert: a file
   of Postfix's smtpd_tls_chain_files, which may hold only the key. */
void audit_check_certificate(const struct audit_context *ctx,
			     const char *path, const char *file,
			     unsigned int line, const char *setting,
			     bool key_or_cert);
/* Weak or invalid entries of an OpenSSL cipher list. */
void audit_check_cipher_list(const struct audit_context *ctx,
			     const char *list, const char *file,
			     unsigned int line, const char *setting);
/* Files that others can read or write: mode and parent directory. */
void audit_check_file_access(const struct audit_context *ctx, const char *path,
			     bool secret, const char *id, const char *what);

/* The policy path a Dovecot passdb names, or NULL. */
const char *audit_dovecot_policy_path(const struct audit_conf *dovecot);

/* --- output ---------------------------------------------------------- */

void audit_print_text(const struct audit_findings *findings, FILE *out);
void audit_print_json(const struct audit_findings *findings, FILE *out);

#endif
