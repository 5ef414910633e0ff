/* mailward audit: Dovecot's settings, 2.3 and 2.4 names both. */

#include "cmd.h"
#include "cmd-audit.h"
#include "mw-policy-private.h"

#include <stdlib.h>
#include <string.h>

static bool audit_dovecot_24(const struct audit_conf *conf)
{
	return audit_conf_get(conf, "", "dovecot_config_version") != NULL;
}

/* key in "protocol NAME", else at the top level. */
static const struct audit_setting *
audit_dovecot_get(const struct audit_conf *conf, const char *protocol,
		  const char *key)
{
	const struct audit_setting *set = NULL;
	char section[64];

	if (protocol != NULL) {
		snprintf(section, sizeof(section), "protocol %s", protocol);
		set = audit_conf_get(conf, section, key);
	}
	return set != NULL ? set : audit_conf_get(conf, "", key);
}

static bool audit_word_in(const char *list, const char *word)
{
	size_t len = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word)) != NULL) {
		if ((p == list || strchr(" \t,", p[-1]) != NULL) &&
		    (p[len] == '\0' || strchr(" \t,", p[len]) != NULL))
			return true;
		p += len;
	}
	return false;
}

/* The passdb blocks in order: their "{" entries. */
static unsigned int audit_dovecot_passdbs(const struct audit_conf *conf,
					  const struct audit_setting **out,
					  unsigned int max)
{
	unsigned int i, n = 0;

	for (i = 0; i < conf->count && n < max; i++) {
		if (strcmp(conf->items[i].key, "{") == 0 &&
		    strncmp(conf->items[i].section, "passdb#", 7) == 0)
			out[n++] = &conf->items[i];
	}
	return n;
}

/* A passdb's driver: its driver setting, or on 2.4 its name. */
static const char *audit_passdb_driver(const struct audit_conf *conf,
				       const struct audit_setting *block)
{
	const struct audit_setting *set = audit_conf_get(conf, block->section, "driver");
	const char *name = strchr(block->section, ' ');

	if (set != NULL)
		return set->value;
	return name == NULL ? "" : name + 1;
}

#define AUDIT_PASSDBS_MAX 32

/* A passdb whose success ends the lookup, as the mailward passdb's
   start-up check sees it: not deny = yes, not result_success =
   continue*, not the deprecated pass = yes. */
static bool audit_passdb_ends(const struct audit_conf *conf,
			      const struct audit_setting *block)
{
	const struct audit_setting *set;

	set = audit_conf_get(conf, block->section, "deny");
	if (set != NULL && strcmp(set->value, "yes") == 0)
		return false;
	set = audit_conf_get(conf, block->section, "pass");
	if (set != NULL && strcmp(set->value, "yes") == 0)
		return false;
	set = audit_conf_get(conf, block->section, "result_success");
	return set == NULL || strncmp(set->value, "continue", 8) != 0;
}

static const struct audit_setting *
audit_mailward_passdb(const struct audit_conf *conf, unsigned int *idx_r)
{
	const struct audit_setting *passdbs[AUDIT_PASSDBS_MAX];
	unsigned int i, n = audit_dovecot_passdbs(conf, passdbs, AUDIT_PASSDBS_MAX);

	for (i = 0; i < n; i++) {
		if (strcmp(audit_passdb_driver(conf, passdbs[i]), "mailward") == 0) {
			if (idx_r != NULL)
				*idx_r = i;
			return passdbs[i];
		}
	}
	return NULL;
}

const char *audit_dovecot_policy_path(const struct audit_conf *dovecot)
{
	const struct audit_setting *block, *set;
	const char *last;

	if (dovecot == NULL || !dovecot->loaded ||
	    (block = audit_mailward_passdb(dovecot, NULL)) == NULL)
		return NULL;
	set = audit_conf_get(dovecot, block->section, "mailward_policy");
	if (set != NULL)
		return set->value;
	set = audit_conf_get(dovecot, block->section, "args");
	if (set == NULL || *set->value == '\0')
		return NULL;
	last = strrchr(set->value, ' ');
	return last == NULL ? set->value : last + 1;
}

static bool audit_login_plugin(const struct audit_conf *conf)
{
	const struct audit_setting *set = audit_conf_get(conf, "", "login_plugins");

	if (set != NULL && audit_word_in(set->value, "mailward_login"))
		return true;
	set = audit_conf_get(conf, "", "login_plugins_mailward_login");
	return set != NULL && strcmp(set->value, "yes") == 0;
}

/* What the mailward policy requires of a Dovecot service, when the
   passdb enforces it. */
static const struct mw_service *
audit_policy_service(const struct audit_context *ctx, const char *name)
{
	if (ctx->policy == NULL || audit_mailward_passdb(ctx->dovecot, NULL) == NULL)
		return NULL;
	return mw_policy_service(ctx->policy, name);
}

static const char *const audit_dovecot_protocols[] = { "imap", "pop3", "submission", NULL };

static bool audit_protocol_enabled(const struct audit_conf *conf, const char *protocol)
{
	const struct audit_setting *set = audit_conf_get(conf, "", "protocols");

	/* Not shown by doveconf -n: the built-in "imap pop3 lmtp". */
	if (set == NULL)
		return strcmp(protocol, "submission") != 0;
	return audit_word_in(set->value, protocol);
}

/* Settings that let cleartext mechanisms through without TLS:
   "cleartext = always" (never the built-in value) without tls = required. */
static bool audit_cleartext_open(const struct mw_settings *set)
{
	return set->value[MW_SET_CLEARTEXT] == MW_CLEARTEXT_ALWAYS &&
		set->value[MW_SET_TLS] != MW_REQUIRED;
}

/* Where the policy lets cleartext through without TLS, or NULL. */
static const char *audit_cleartext_relaxed(const struct mw_service *svc,
					   const struct mw_loc **loc_r)
{
	unsigned int i;

	if (audit_cleartext_open(&svc->settings)) {
		*loc_r = &svc->settings.loc[MW_SET_CLEARTEXT];
		return svc->name;
	}
	for (i = 0; i < svc->from_count; i++) {
		if (audit_cleartext_open(&svc->froms[i].settings)) {
			*loc_r = &svc->froms[i].settings.loc[MW_SET_CLEARTEXT];
			return svc->froms[i].text;
		}
	}
	return NULL;
}

static void audit_dovecot_cleartext(const struct audit_context *ctx)
{
	const struct audit_conf *conf = ctx->dovecot;
	bool is24 = audit_dovecot_24(conf);
	const char *key = is24 ? "auth_allow_cleartext" : "disable_plaintext_auth";
	const char *bad = is24 ? "yes" : "no";
	unsigned int i, j;

	for (i = 0; i < conf->count; i++) {
		const struct audit_setting *set = &conf->items[i];
		const char *protocol = NULL;
		bool policy_refuses = true, relaxed = false;

		if (strcmp(set->key, key) != 0 || strcmp(set->value, bad) != 0)
			continue;
		if (strncmp(set->section, "protocol ", 9) == 0)
			protocol = set->section + 9;
		else if (set->section[0] != '\0')
			continue;
		/* The passdb enforces the policy's cleartext rule instead,
		   as mailward-dovecot(7) suggests. */
		for (j = 0; audit_dovecot_protocols[j] != NULL; j++) {
			const struct mw_service *svc;
			const struct mw_loc *loc;

			if (protocol != NULL && strcmp(protocol, audit_dovecot_protocols[j]) != 0)
				continue;
			svc = audit_policy_service(ctx, audit_dovecot_protocols[j]);
			if (svc == NULL ||
			    svc->settings.value[MW_SET_CLEARTEXT] == MW_CLEARTEXT_ALWAYS)
				policy_refuses = false;
			else if (audit_cleartext_relaxed(svc, &loc) != NULL)
				relaxed = true;
		}
		/* Dovecot must let cleartext through for the policy's
		   relaxation to work (mailward-cleartext-overruled). */
		if (policy_refuses && relaxed)
			continue;
		if (policy_refuses) {
			audit_addf(ctx->findings, AUDIT_LOW, "dovecot-cleartext",
				   conf->source, set->line,
				   "Dovecot allows cleartext passwords without TLS; the mailward passdb refuses them (cleartext = tls-only or never)",
				   is24 ? "set auth_allow_cleartext = no as well, so that a passdb misconfiguration cannot expose passwords"
					: "set disable_plaintext_auth = yes as well, so that a passdb misconfiguration cannot expose passwords",
				   "%s = %s%s%s", key, set->value,
				   protocol == NULL ? "" : " in protocol ",
				   protocol == NULL ? "" : protocol);
			continue;
		}
		audit_addf(ctx->findings, AUDIT_HIGH, "dovecot-cleartext",
			   conf->source, set->line,
			   "passwords may be sent in cleartext over a connection without TLS, where anyone on the path can read them (seed 000: turn basic authentication off)",
			   is24 ? "set auth_allow_cleartext = no" : "set disable_plaintext_auth = yes",
			   "%s = %s%s%s", key, set->value,
			   protocol == NULL ? "" : " in protocol ",
			   protocol == NULL ? "" : protocol);
	}
}

/* Dovecot refuses cleartext mechanisms outside TLS itself, before the
   passdb is asked (and by default: disable_plaintext_auth = yes on 2.3,
   auth_allow_cleartext = no on 2.4), so a policy that allows them for
   some clients is silently overruled. */
static void audit_dovecot_cleartext_overruled(const struct audit_context *ctx)
{
	const struct audit_conf *conf = ctx->dovecot;
	bool is24 = audit_dovecot_24(conf);
	const char *key = is24 ? "auth_allow_cleartext" : "disable_plaintext_auth";
	const char *refusing = is24 ? "no" : "yes";
	unsigned int i;

	for (i = 0; audit_dovecot_protocols[i] != NULL; i++) {
		const char *protocol = audit_dovecot_protocols[i];
		const struct mw_service *svc = audit_policy_service(ctx, protocol);
		const struct audit_setting *set, *ssl;
		const struct mw_loc *loc;
		const char *where;

		if (svc == NULL || !audit_protocol_enabled(conf, protocol) ||
		    (where = audit_cleartext_relaxed(svc, &loc)) == NULL)
			continue;
		/* ssl = required refuses every login before TLS anyway:
		   dovecot-tls-optional is about that choice, not this one */
		ssl = audit_dovecot_get(conf, protocol, "ssl");
		if (ssl != NULL && strcmp(ssl->value, "required") == 0)
			continue;
		set = audit_dovecot_get(conf, protocol, key);
		if (set != NULL && strcmp(set->value, refusing) != 0)
			continue;
		audit_addf(ctx->findings, AUDIT_MEDIUM, "mailward-cleartext-overruled",
			   conf->source, set == NULL ? 0 : set->line,
			   "the policy allows cleartext passwords without TLS for some clients, but Dovecot refuses them before the mailward passdb is asked, so that part of the policy does nothing",
			   is24 ? "set auth_allow_cleartext = yes (globally or in protocol NAME { }): the mailward passdb refuses cleartext wherever the policy says tls-only or never"
				: "set disable_plaintext_auth = no (globally or in protocol NAME { }): the mailward passdb refuses cleartext wherever the policy says tls-only or never",
			   "%s = %s%s (%s), policy %s:%u: %s: cleartext = always",
			   key, refusing, set == NULL ? ", the default" : "", protocol,
			   loc->file == NULL ? "" : loc->file, loc->line, where);
	}
}

static void audit_dovecot_tls(const struct audit_context *ctx)
{
	const struct audit_conf *conf = ctx->dovecot;
	unsigned int i;

	for (i = 0; audit_dovecot_protocols[i] != NULL; i++) {
		const char *protocol = audit_dovecot_protocols[i];
		const struct audit_setting *ssl = audit_dovecot_get(conf, protocol, "ssl");
		const struct audit_setting *port;
		const struct mw_service *svc;
		char listener[128];

		if (!audit_protocol_enabled(conf, protocol))
			continue;
		if (ssl != NULL && strcmp(ssl->value, "no") == 0) {
			audit_addf(ctx->findings, AUDIT_HIGH, "dovecot-tls-off",
				   conf->source, ssl->line,
				   "no TLS at all: passwords and mail cross the network readable (seed 000: require a secure channel)",
				   "set ssl = required with a certificate (ssl_cert / ssl_server_cert_file)",
				   "ssl = no (%s)", protocol);
			continue;
		}
		if (ssl != NULL && strcmp(ssl->value, "required") == 0)
			continue;
		snprintf(listener, sizeof(listener), "service %s-login/inet_listener %s",
			 protocol, protocol);
		port = audit_conf_get(conf, listener, "port");
		if (port != NULL && strcmp(port->value, "0") == 0)
			continue;	/* only the implicit-TLS port listens */
		svc = audit_policy_service(ctx, protocol);
		if (svc != NULL && svc->settings.value[MW_SET_TLS] == MW_REQUIRED)
			continue;
		audit_addf(ctx->findings, AUDIT_MEDIUM, "dovecot-tls-optional",
			   conf->source, ssl == NULL ? 0 : ssl->line,
			   "clients may use the service without TLS; mail and non-cleartext logins then cross the network readable",
			   "set ssl = required, or tls = required for the service in the mailward policy",
			   "ssl = %s (%s)", ssl == NULL ? "yes" : ssl->value, protocol);
	}
}

static void audit_dovecot_protocol_versions(const struct audit_context *ctx)
{
	const struct audit_conf *conf = ctx->dovecot;
	unsigned int i;

	for (i = 0; i < conf->count; i++) {
		const struct audit_setting *set = &conf->items[i];
		bool sslv3;

		if (strcmp(set->key, "ssl_min_protocol") != 0)
			continue;
		sslv3 = strcmp(set->value, "SSLv3") == 0 || strcmp(set->value, "ANY") == 0;
		if (!sslv3 && strcmp(set->value, "TLSv1") != 0 &&
		    strcmp(set->value, "TLSv1.1") != 0)
			continue;
		audit_addf(ctx->findings, sslv3 ? AUDIT_HIGH : AUDIT_MEDIUM,
			   "dovecot-ssl-min-protocol", conf->source, set->line,
			   "protocol versions below TLS 1.2 have known weaknesses (RFC 8996 deprecates TLS 1.0 and 1.1)",
			   "set ssl_min_protocol = TLSv1.2 (the default), or remove the setting",
			   "ssl_min_protocol = %s", set->value);
	}
	for (i = 0; i < conf->count; i++) {
		const struct audit_setting *set = &conf->items[i];

		if (strcmp(set->key, "ssl_cipher_list") == 0)
			audit_check_cipher_list(ctx, set->value, conf->source,
						set->line, "ssl_cipher_list");
	}
}

static void audit_dovecot_certs(const struct audit_context *ctx)
{
	const struct audit_conf *conf = ctx->dovecot;
	const struct audit_setting *set;

	set = audit_conf_get(conf, "", "ssl_server_cert_file");
	if (set != NULL) {
		audit_check_certificate(ctx, set->value, conf->source, set->line,
					"ssl_server_cert_file", false);
	}
	set = audit_conf_get(conf, "", "ssl_cert");
	if (set != NULL && set->value[0] == '<') {
		const char *path = set->value + 1;

		while (*path == ' ')
			path++;
		audit_check_certificate(ctx, path, conf->source, set->line,
					"ssl_cert", false);
	}
}

static void audit_dovecot_mailward(const struct audit_context *ctx)
{
	const struct audit_conf *conf = ctx->dovecot;
	const struct audit_setting *passdbs[AUDIT_PASSDBS_MAX], *block;
	unsigned int idx = 0;
	bool plugin = audit_login_plugin(conf);

	block = audit_mailward_passdb(conf, &idx);
	if (block != NULL && idx > 0) {
		unsigned int i;

		(void)audit_dovecot_passdbs(conf, passdbs, AUDIT_PASSDBS_MAX);
		for (i = 0; i < idx && !audit_passdb_ends(conf, passdbs[i]); i++) ;
		if (i < idx) {
			audit_addf(ctx->findings, AUDIT_HIGH, "mailward-passdb-order",
				   conf->source, block->line,
				   "a passdb before mailward's can authenticate a login the policy refuses, so its rules do not apply (the auth process refuses to start)",
				   "move the mailward passdb before every other passdb, or give the earlier one result_success = continue (mailward-dovecot(7))",
				   "passdb %s is %s, mailward's is number %u",
				   audit_passdb_driver(conf, passdbs[i]),
				   i == 0 ? "first" : "before it", idx + 1);
		}
	}
	if (plugin && block == NULL) {
		audit_add(ctx->findings, AUDIT_HIGH, "mailward-plugin-without-passdb",
			  conf->source, 0, "login_plugins has mailward_login, no mailward passdb",
			  "the login plugin only refuses before the banner and checks cipher bits; the address, mechanism, TLS and certificate rules are enforced by the passdb, which is missing",
			  "add the mailward passdb as the first passdb (mailward-dovecot(7))");
	}
	if (!plugin && block != NULL) {
		audit_add(ctx->findings, AUDIT_MEDIUM, "mailward-passdb-without-plugin",
			  conf->source, block->line, "mailward passdb without the mailward_login login plugin",
			  "without the login plugin, tls_min_bits is not enforced (the auth process never sees cipher bits), refused clients see the banner, and forbidden mechanisms are still advertised",
			  "add mailward_login to login_plugins (mailward-dovecot(7))");
	}
}

void audit_check_dovecot(const struct audit_context *ctx)
{
	audit_dovecot_cleartext(ctx);
	audit_dovecot_cleartext_overruled(ctx);
	audit_dovecot_tls(ctx);
	audit_dovecot_protocol_versions(ctx);
	audit_dovecot_certs(ctx);
	audit_dovecot_mailward(ctx);
}

void audit_check_dovecot_mailward(const struct audit_context *ctx)
{
	audit_dovecot_cleartext_overruled(ctx);
	audit_dovecot_mailward(ctx);
}
