/* mailward audit: Postfix's main.cf and master.cf, and what they mean
   for the mailward milter and the partners of the policy. */

#include "cmd-audit.h"
#include "mw-policy-private.h"
#include "mw-util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *audit_pf(const struct audit_context *ctx,
			    const struct audit_service *svc, const char *key,
			    const char *builtin)
{
	const char *value = audit_service_param(svc, ctx->postfix, key);

	return value == NULL ? builtin : value;
}

static bool audit_is_smtpd(const struct audit_service *svc)
{
	return strcmp(svc->command, "smtpd") == 0 &&
		(strcmp(svc->type, "inet") == 0 || strcmp(svc->type, "pass") == 0);
}

/* master.cf names the submission port by service name or port. */
static bool audit_is_submission(const struct audit_service *svc)
{
	const char *port = strrchr(svc->name, ':');

	port = port == NULL ? svc->name : port + 1;
	return strcmp(port, "submission") == 0 || strcmp(port, "587") == 0 ||
		strcmp(port, "submissions") == 0 || strcmp(port, "smtps") == 0 ||
		strcmp(port, "465") == 0;
}

static const char *audit_where(const struct audit_context *ctx,
			       const struct audit_service *svc, const char *key)
{
	unsigned int i;

	for (i = 0; svc != NULL && i < svc->override_count; i++) {
		if (strcmp(svc->override_keys[i], key) == 0)
			return ctx->master->source;
	}
	return ctx->postfix->source;
}

static unsigned int audit_where_line(const struct audit_context *ctx,
				     const struct audit_service *svc, const char *key)
{
	const struct audit_setting *set;
	unsigned int i;

	for (i = 0; svc != NULL && i < svc->override_count; i++) {
		if (strcmp(svc->override_keys[i], key) == 0)
			return svc->line;
	}
	set = audit_conf_get(ctx->postfix, "", key);
	return set == NULL ? 0 : set->line;
}

static bool audit_yes(const char *value)
{
	return strcasecmp(value, "yes") == 0 || strcasecmp(value, "true") == 0;
}

/* The mailward milter among smtpd_milters, and the default_action that
   applies to it: its own "{ name, default_action = ... }" or the global
   milter_default_action. */
static bool audit_mailward_milter(const struct audit_context *ctx,
				  const struct audit_service *svc,
				  char *action, size_t action_size)
{
	const char *milters = audit_pf(ctx, svc, "smtpd_milters", "");
	const char *hit = strstr(milters, ctx->milter_match), *open, *close, *p;

	if (hit == NULL)
		return false;
	snprintf(action, action_size, "%s",
		 audit_pf(ctx, svc, "milter_default_action", "tempfail"));
	for (open = hit; open > milters && *open != '{' && *open != '}'; open--)
		;
	close = strchr(hit, '}');
	if (*open == '{' && close != NULL) {
		p = strstr(open, "default_action");
		if (p != NULL && p < close && (p = strchr(p, '=')) != NULL && p < close) {
			size_t len;

			p++;
			while (*p == ' ' || *p == '\t')
				p++;
			len = strcspn(p, " \t,}");
			snprintf(action, action_size, "%.*s", (int)len, p);
		}
	}
	return true;
}

/* The policy service the milter applies on svc: its daemon name. */
static const struct mw_service *audit_milter_service(const struct audit_context *ctx,
						     const struct audit_service *svc)
{
	const char *name = audit_pf(ctx, svc, "milter_macro_daemon_name", "$myhostname");
	const char *service;

	if (ctx->policy == NULL)
		return NULL;
	if (strcmp(name, "$myhostname") == 0 || strcmp(name, "${myhostname}") == 0)
		name = audit_pf(ctx, NULL, "myhostname", "");
	service = mw_policy_service_for_daemon(ctx->policy, name);
	return service == NULL ? NULL : mw_policy_service(ctx->policy, service);
}

static void audit_postfix_submission(const struct audit_context *ctx,
				     const struct audit_service *svc)
{
	const char *level = audit_pf(ctx, svc, "smtpd_tls_security_level", "");
	const char *wrapper = audit_pf(ctx, svc, "smtpd_tls_wrappermode", "no");
	const char *sasl = audit_pf(ctx, svc, "smtpd_sasl_auth_enable", "no");
	const struct mw_service *policy_svc = audit_milter_service(ctx, svc);
	char action[64];
	bool milter = audit_mailward_milter(ctx, svc, action, sizeof(action));

	if (strcmp(level, "encrypt") != 0 && !audit_yes(wrapper) &&
	    !(milter && policy_svc != NULL &&
	      policy_svc->settings.value[MW_SET_TLS] == MW_REQUIRED)) {
		audit_addf(ctx->findings, AUDIT_HIGH, "postfix-submission-tls",
			   audit_where(ctx, svc, "smtpd_tls_security_level"),
			   audit_where_line(ctx, svc, "smtpd_tls_security_level"),
			   "mail submission (and the login before it) may run without TLS (seed 001: TLS enforced on submission)",
			   "add -o smtpd_tls_security_level=encrypt to the service in master.cf, or the mailward milter with tls = required for its daemon name",
			   "%s: smtpd_tls_security_level = %s", svc->name,
			   *level == '\0' ? "(none)" : level);
	}
	if (!audit_yes(sasl)) {
		audit_addf(ctx->findings, AUDIT_MEDIUM, "postfix-submission-sasl",
			   audit_where(ctx, svc, "smtpd_sasl_auth_enable"),
			   audit_where_line(ctx, svc, "smtpd_sasl_auth_enable"),
			   "a submission service without SASL cannot tell its users from anyone else, so it either relays for nobody or for everybody it trusts by address",
			   "add -o smtpd_sasl_auth_enable=yes (and smtpd_sasl_type = dovecot) to the service",
			   "%s: smtpd_sasl_auth_enable = %s", svc->name, sasl);
	}
}

static void audit_postfix_smtpd(const struct audit_context *ctx,
				const struct audit_service *svc)
{
	const char *level = audit_pf(ctx, svc, "smtpd_tls_security_level", "");
	const char *wrapper = audit_pf(ctx, svc, "smtpd_tls_wrappermode", "no");
	const char *sasl = audit_pf(ctx, svc, "smtpd_sasl_auth_enable", "no");
	const char *auth_only = audit_pf(ctx, svc, "smtpd_tls_auth_only", "no");
	char action[64];

	if (audit_is_submission(svc))
		audit_postfix_submission(ctx, svc);
	if (audit_yes(sasl) && !audit_yes(auth_only) &&
	    strcmp(level, "encrypt") != 0 && !audit_yes(wrapper)) {
		audit_addf(ctx->findings, AUDIT_HIGH, "postfix-tls-auth-only",
			   audit_where(ctx, svc, "smtpd_tls_auth_only"),
			   audit_where_line(ctx, svc, "smtpd_tls_auth_only"),
			   "SASL is offered before STARTTLS, so a client may send its password in cleartext",
			   "set smtpd_tls_auth_only = yes (main.cf or -o on the service)",
			   "%s: smtpd_tls_auth_only = %s", svc->name, auth_only);
	}
	if (audit_mailward_milter(ctx, svc, action, sizeof(action)) &&
	    strcmp(action, "tempfail") != 0) {
		audit_addf(ctx->findings, AUDIT_HIGH, "postfix-milter-default-action",
			   audit_where(ctx, svc, "milter_default_action"),
			   audit_where_line(ctx, svc, "milter_default_action"),
			   "when the mailward milter is down or times out, Postfix applies this action: anything but tempfail accepts or loses mail without the policy (partners, TLS, signing)",
			   "set milter_default_action = tempfail",
			   "%s: milter_default_action = %s", svc->name, action);
	}
}

static bool audit_partners_enforced(const struct mw_policy *policy)
{
	unsigned int i;

	for (i = 0; i < policy->service_count; i++) {
		if (policy->services[i].settings.value[MW_SET_PARTNERS] == MW_PARTNERS_ENFORCE)
			return true;
	}
	return false;
}

/* The entry for domain in a text map source (postmap input), or NULL;
   level_r gets its first attribute (the security level). */
static bool audit_map_lookup(const char *data, const char *domain,
			     char *level, size_t level_size, unsigned int *line_r)
{
	const char *line = data, *next, *p;
	size_t dlen = strlen(domain), klen;
	unsigned int lineno = 0;

	for (; line != NULL && *line != '\0'; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next != NULL)
			next++;
		p = line;
		if (*p == '#' || isspace((unsigned char)*p))
			continue;
		klen = strcspn(p, " \t\n");
		/* domain, or the next hop [domain] / [domain]:port */
		if (!((klen == dlen && strncasecmp(p, domain, dlen) == 0) ||
		      (p[0] == '[' && klen > dlen + 1 &&
		       strncasecmp(p + 1, domain, dlen) == 0 && p[dlen + 1] == ']')))
			continue;
		p += klen;
		p += strspn(p, " \t");
		klen = strcspn(p, " \t\n");
		snprintf(level, level_size, "%.*s", (int)klen, p);
		*line_r = lineno;
		return true;
	}
	return false;
}

static const char *const audit_text_map_types[] = {
	"hash", "btree", "lmdb", "cdb", "dbm", "sdbm", "texthash", NULL
};

static void audit_postfix_partner_maps(const struct audit_context *ctx)
{
	const char *maps = audit_pf(ctx, NULL, "smtp_tls_policy_maps", "");
	const struct audit_setting *set = audit_conf_get(ctx->postfix, "", "smtp_tls_policy_maps");
	unsigned int i, n = mw_policy_partner_count(ctx->policy);

	for (i = 0; i < n; i++) {
		const struct mw_partner *partner = mw_policy_partner(ctx->policy, i);
		char *list = mw_xstrdup(maps), *save = NULL, *map, *colon, *data;
		char level[64], error[MW_ERROR_SIZE], where[1024];
		bool found = false, unknown = false;
		unsigned int line = 0, t;
		size_t size;

		for (map = strtok_r(list, " \t,", &save); map != NULL && !found;
		     map = strtok_r(NULL, " \t,", &save)) {
			colon = strchr(map, ':');
			if (colon == NULL)
				continue;
			*colon = '\0';
			for (t = 0; audit_text_map_types[t] != NULL; t++) {
				if (strcmp(audit_text_map_types[t], map) == 0)
					break;
			}
			if (audit_text_map_types[t] == NULL) {
				unknown = true;
				continue;
			}
			if (mw_read_file(colon + 1, true, MW_FILE_SIZE_MAX, &data, &size,
					 NULL, error, sizeof(error)) < 0) {
				audit_read_error(ctx->findings, colon + 1, error);
				continue;
			}
			found = audit_map_lookup(data, partner->domain, level,
						 sizeof(level), &line);
			if (found)
				snprintf(where, sizeof(where), "%s", colon + 1);
			free(data);
		}
		free(list);
		if (found && (strcmp(level, "none") == 0 || strcmp(level, "may") == 0)) {
			audit_addf(ctx->findings, AUDIT_MEDIUM, "partner-weak-tls-policy",
				   where, line,
				   "mail to the partner may leave without TLS, or without checking its certificate",
				   "use the line mailward partners prints for it",
				   "%s %s", partner->domain, level);
		} else if (!found && unknown) {
			audit_addf(ctx->findings, AUDIT_INFO, "partner-tls-policy-unchecked",
				   ctx->postfix->source, set == NULL ? 0 : set->line,
				   "smtp_tls_policy_maps uses a map type this audit does not read",
				   "check that the map has the line mailward partners prints",
				   "partner %s", partner->domain);
		} else if (!found) {
			audit_addf(ctx->findings, AUDIT_MEDIUM, "partner-no-tls-policy",
				   ctx->postfix->source, set == NULL ? 0 : set->line,
				   "mail to the partner is sent with the default TLS level (opportunistic at best), so the partner agreement holds only one way (seed 003: a send connector with mutual TLS)",
				   "add the line mailward partners prints to smtp_tls_policy_maps, then postmap it",
				   "partner %s has no smtp_tls_policy_maps entry", partner->domain);
		}
	}
}

static void audit_postfix_partners(const struct audit_context *ctx)
{
	const struct audit_setting *set;
	const char *value;

	if (ctx->policy == NULL || mw_policy_partner_count(ctx->policy) == 0)
		return;
	audit_postfix_partner_maps(ctx);

	set = audit_conf_get(ctx->postfix, "", "tls_required_enable");
	value = set != NULL ? set->value : ctx->postfix_version >= 310 ? "yes" : NULL;
	if (value != NULL && audit_yes(value)) {
		audit_addf(ctx->findings, AUDIT_MEDIUM, "postfix-tls-required-header",
			   ctx->postfix->source, set == NULL ? 0 : set->line,
			   "a sender may add \"TLS-Required: no\" (RFC 8689) and Postfix then sends that message to a partner without the TLS its policy entry demands",
			   "set tls_required_enable = no, or have the milter remove the header for partner mail",
			   "tls_required_enable = %s%s", value, set == NULL ? " (default)" : "");
	}
	if (!audit_partners_enforced(ctx->policy))
		return;
	value = audit_pf(ctx, NULL, "allow_percent_hack", "yes");
	if (audit_yes(value)) {
		set = audit_conf_get(ctx->postfix, "", "allow_percent_hack");
		audit_addf(ctx->findings, AUDIT_MEDIUM, "postfix-percent-hack",
			   ctx->postfix->source, set == NULL ? 0 : set->line,
			   "Postfix rewrites user%partner.example to user@partner.example after the milter judged the sender, so a partner address can arrive without the partner's certificate",
			   "set allow_percent_hack = no",
			   "allow_percent_hack = %s%s", value, set == NULL ? " (default)" : "");
	}
	value = audit_pf(ctx, NULL, "swap_bangpath", "yes");
	if (audit_yes(value)) {
		set = audit_conf_get(ctx->postfix, "", "swap_bangpath");
		audit_addf(ctx->findings, AUDIT_MEDIUM, "postfix-swap-bangpath",
			   ctx->postfix->source, set == NULL ? 0 : set->line,
			   "Postfix rewrites partner.example!user to user@partner.example after the milter judged the sender, so a partner address can arrive without the partner's certificate",
			   "set swap_bangpath = no",
			   "swap_bangpath = %s%s", value, set == NULL ? " (default)" : "");
	}
}

static void audit_postfix_certs(const struct audit_context *ctx)
{
	static const char *const single[] = {
		"smtpd_tls_cert_file", "smtpd_tls_eccert_file", "smtpd_tls_dcert_file", NULL
	};
	const struct audit_setting *set;
	char *list, *save = NULL, *file;
	unsigned int i;

	set = audit_conf_get(ctx->postfix, "", "smtpd_tls_chain_files");
	if (set != NULL) {
		list = mw_xstrdup(set->value);
		for (file = strtok_r(list, " \t,", &save); file != NULL;
		     file = strtok_r(NULL, " \t,", &save)) {
			audit_check_certificate(ctx, file, ctx->postfix->source,
						set->line, "smtpd_tls_chain_files", true);
		}
		free(list);
	}
	for (i = 0; single[i] != NULL; i++) {
		set = audit_conf_get(ctx->postfix, "", single[i]);
		if (set != NULL && set->value[0] != '\0' && set->value[0] != '$')
			audit_check_certificate(ctx, set->value, ctx->postfix->source,
						set->line, single[i], false);
	}
}

void audit_check_postfix(const struct audit_context *ctx)
{
	unsigned int i;

	for (i = 0; ctx->master != NULL && i < ctx->master->count; i++) {
		if (audit_is_smtpd(&ctx->master->services[i]))
			audit_postfix_smtpd(ctx, &ctx->master->services[i]);
	}
	audit_postfix_partners(ctx);
	audit_postfix_certs(ctx);
}
