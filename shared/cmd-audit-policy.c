/* mailward audit: the policy itself (rules that let everyone in, rules
   and from blocks that can never apply, weak settings) and the files it
   depends on (who may read or change them, S/MIME keys the milter would
   refuse). */

#include "cmd-audit.h"
#include "mw-addr.h"
#include "mw-policy-private.h"
#include "mw-util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* A finding already made at the same place (settings inherited by many
   services are reported once). */
static bool audit_has(const struct audit_findings *findings, const char *id,
		      const char *file, unsigned int line)
{
	unsigned int i;

	for (i = 0; i < findings->count; i++) {
		const struct audit_finding *f = &findings->items[i];

		if (strcmp(f->id, id) == 0 && f->line == line &&
		    strcmp(f->file, file == NULL ? "" : file) == 0)
			return true;
	}
	return false;
}

void audit_check_file_access(const struct audit_context *ctx, const char *path,
			     bool secret, const char *id, const char *what)
{
	char why[MW_ERROR_SIZE + 64];
	struct stat st;
	unsigned int mode;

	if (stat(path, &st) < 0) {
		audit_addf(ctx->findings, AUDIT_HIGH, id, path, 0,
			   "a file the policy names is missing, so the daemon that needs it refuses to load the policy",
			   "create it, or correct the name in the policy",
			   "%s %s cannot be read", what, path);
		return;
	}
	mode = (unsigned int)(st.st_mode & 07777);
	switch (mw_file_writers(path, &st, why, sizeof(why))) {
	case MW_WRITERS_OTHERS:
		audit_addf(ctx->findings, AUDIT_HIGH, id, path, 0,
			   "anyone on the machine can change it, and with it what mailward enforces",
			   "chmod o-w the file (and its directory), owned by root",
			   "%s: %s", what, why);
		break;
	case MW_WRITERS_GROUP:
		audit_addf(ctx->findings, secret ? AUDIT_HIGH : AUDIT_MEDIUM, id, path, 0,
			   "members of its group can change it, and with it what mailward enforces",
			   "chmod g-w the file (and its directory), unless the group is meant to administer mailward",
			   "%s: %s", what, why);
		break;
	case MW_WRITERS_OWNER:
		break;
	}
	if (secret && (st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
		audit_addf(ctx->findings, AUDIT_HIGH, id, path, 0,
			   "a private key that others can read lets them sign as its owner; the milter refuses such a key, so signing fails",
			   "chmod 0600 the key, owned by the milter's user",
			   "%s %s is readable by %s (mode %04o)", what, path,
			   (st.st_mode & S_IROTH) != 0 ? "others" : "its group", mode);
	} else if (!secret && (st.st_mode & S_IROTH) != 0 && strcmp(id, "policy-file-access") == 0) {
		audit_addf(ctx->findings, AUDIT_INFO, id, path, 0,
			   "the policy shows the network layout and partner agreements to every local user; Dovecot and the milter read it as root before dropping privileges",
			   "chmod o-r it if that layout is confidential",
			   "%s %s is readable by others (mode %04o)", what, path, mode);
	}
}

/* --- S/MIME key table ------------------------------------------------ */

static void audit_keytable(const struct audit_context *ctx, const char *table)
{
	char error[MW_ERROR_SIZE], *data, *line, *next, *save, *fields[4];
	unsigned int lineno = 0, n;
	size_t size;

	audit_check_file_access(ctx, table, false, "smime-keytable-access", "key table");
	if (mw_read_file(table, true, MW_FILE_SIZE_MAX, &data, &size, NULL,
			 error, sizeof(error)) < 0)
		return;		/* reported just above */
	for (line = data; line != NULL && *line != '\0'; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		line[strcspn(line, "#")] = '\0';
		save = NULL;
		for (n = 0; n < 4; n++) {
			fields[n] = strtok_r(n == 0 ? line : NULL, " \t\r", &save);
			if (fields[n] == NULL)
				break;
		}
		if (n < 3)
			continue;
		/* Relative names are taken from the table's directory. */
		{
			char *cert = mw_path_relative_to(table, fields[1]);
			char *key = mw_path_relative_to(table, fields[2]);
			char what[256];

			snprintf(what, sizeof(what), "S/MIME key of %s (%s:%u)",
				 fields[0], table, lineno);
			audit_check_file_access(ctx, key, true, "smime-key-refused", what);
			snprintf(what, sizeof(what), "S/MIME certificate of %s (%s:%u)",
				 fields[0], table, lineno);
			audit_check_file_access(ctx, cert, false, "smime-cert-access", what);
			free(cert);
			free(key);
		}
	}
	free(data);
}

/* --- rules ------------------------------------------------------------- */

#define AUDIT_PREFIXES_MAX 256

/* The prefixes of a "... net A B C" text as the validator normalised
   it; 0 when the matcher is not an inline net list. */
static unsigned int audit_text_prefixes(const char *text, struct mw_prefix *out,
					unsigned int max)
{
	char *copy = mw_xstrdup(text), *save = NULL, *word, error[MW_ERROR_SIZE];
	unsigned int n = 0;
	bool host_bits, in_net = false;

	for (word = strtok_r(copy, " ", &save); word != NULL;
	     word = strtok_r(NULL, " ", &save)) {
		if (!in_net) {
			in_net = strcmp(word, "net") == 0;
			continue;
		}
		if (n == max || mw_prefix_parse(word, &out[n], &host_bits,
						error, sizeof(error)) < 0) {
			n = 0;
			break;
		}
		n++;
	}
	free(copy);
	return n;
}

static bool audit_prefix_bits_equal(const struct mw_prefix *a,
				    const struct mw_prefix *b, unsigned int len)
{
	unsigned int bytes = len / 8, rest = len % 8;

	if (memcmp(a->addr.bytes, b->addr.bytes, bytes) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a->addr.bytes[bytes] ^ b->addr.bytes[bytes]) & (0xff << (8 - rest))) == 0;
}

/* outer holds every address of inner. */
static bool audit_prefix_contains(const struct mw_prefix *outer,
				  const struct mw_prefix *inner)
{
	return outer->addr.family == inner->addr.family && outer->len <= inner->len &&
		audit_prefix_bits_equal(outer, inner, outer->len);
}

static bool audit_prefix_overlaps(const struct mw_prefix *a, const struct mw_prefix *b)
{
	return a->addr.family == b->addr.family &&
		audit_prefix_bits_equal(a, b, a->len < b->len ? a->len : b->len);
}

/* pattern (a name, or .domain) matches every name that covered does. */
static bool audit_host_covers(const char *pattern, const char *covered)
{
	size_t plen = strlen(pattern), clen = strlen(covered);

	if (strcasecmp(pattern, covered) == 0)
		return true;
	if (pattern[0] != '.')
		return false;
	/* .example.org covers mail.example.org and .sub.example.org */
	return clen > plen && strcasecmp(covered + clen - plen, pattern) == 0;
}

static bool audit_rule_is_host(const struct mw_matcher *match)
{
	return match->kind == MW_MATCH_HOST;
}

/* Every name of rule j is covered by an earlier host rule. */
static bool audit_hosts_shadowed(const struct mw_rule *rules, unsigned int j)
{
	const char *const *names = rules[j].match.hosts;
	unsigned int i, k, m;
	bool covered;

	for (k = 0; names != NULL && names[k] != NULL; k++) {
		covered = false;
		for (i = 0; i < j && !covered; i++) {
			if (!audit_rule_is_host(&rules[i].match))
				continue;
			for (m = 0; rules[i].match.hosts[m] != NULL && !covered; m++)
				covered = audit_host_covers(rules[i].match.hosts[m], names[k]);
		}
		if (!covered)
			return false;
	}
	return true;
}

/* The earlier rule that decides for all of p, or -1 when none provably
   does (a host or net-list rule, or a partial overlap, comes first). */
static int audit_rule_for_prefix(const struct mw_rule *rules, unsigned int count,
				 const struct mw_prefix *p, bool *decided_r)
{
	struct mw_prefix prefixes[AUDIT_PREFIXES_MAX];
	unsigned int i, k, n;
	bool overlap;

	*decided_r = true;
	for (i = 0; i < count; i++) {
		if (rules[i].match.kind == MW_MATCH_ANY)
			return (int)i;
		if (rules[i].match.kind != MW_MATCH_NET) {
			*decided_r = false;
			return -1;
		}
		n = audit_text_prefixes(rules[i].text, prefixes, AUDIT_PREFIXES_MAX);
		if (n == 0) {		/* a net-list */
			*decided_r = false;
			return -1;
		}
		overlap = false;
		for (k = 0; k < n; k++) {
			if (audit_prefix_contains(&prefixes[k], p))
				return (int)i;
			if (audit_prefix_overlaps(&prefixes[k], p))
				overlap = true;
		}
		if (overlap) {
			*decided_r = false;
			return -1;
		}
	}
	return -1;		/* no rule: the default decides */
}

static void audit_rules(const struct audit_context *ctx, const struct mw_service *svc)
{
	struct mw_prefix prefixes[AUDIT_PREFIXES_MAX];
	const struct mw_rule *rules = svc->rules;
	unsigned int i, j, k, n;
	int first;
	bool decided, shadowed, later_deny;

	for (j = 0; j < svc->rule_count; j++) {
		const struct mw_rule *rule = &rules[j];

		n = rule->match.kind == MW_MATCH_NET ?
			audit_text_prefixes(rule->text, prefixes, AUDIT_PREFIXES_MAX) : 0;
		/* allow-all before a deny */
		later_deny = false;
		for (i = j + 1; i < svc->rule_count; i++)
			later_deny = later_deny || rules[i].action == MW_ACTION_DENY;
		for (k = 0; k < n && rule->action == MW_ACTION_ALLOW && later_deny; k++) {
			if (prefixes[k].len != 0 ||
			    audit_has(ctx->findings, "policy-allow-all", rule->loc.file, rule->loc.line))
				continue;
			audit_addf(ctx->findings, AUDIT_HIGH, "policy-allow-all",
				   rule->loc.file, rule->loc.line,
				   prefixes[k].addr.family == MW_AF_INET4 ?
				   "every IPv4 client matches it first, so the deny rules after it never apply to IPv4" :
				   "every IPv6 client matches it first, so the deny rules after it never apply to IPv6",
				   "put the deny rules first, or narrow the allow rule to the networks meant",
				   "%s (service %s)", rule->text, svc->name);
		}
		/* shadowed by earlier rules */
		shadowed = false;
		for (i = 0; i < j; i++) {
			if (rules[i].match.kind == MW_MATCH_ANY)
				shadowed = true;
		}
		if (!shadowed && rule->match.kind == MW_MATCH_NET && n > 0) {
			shadowed = true;
			for (k = 0; k < n && shadowed; k++) {
				first = audit_rule_for_prefix(rules, j, &prefixes[k], &decided);
				shadowed = decided && first >= 0;
			}
		}
		if (!shadowed && audit_rule_is_host(&rule->match))
			shadowed = audit_hosts_shadowed(rules, j);
		if (shadowed && !audit_has(ctx->findings, "policy-rule-shadowed",
					   rule->loc.file, rule->loc.line)) {
			audit_addf(ctx->findings, AUDIT_MEDIUM, "policy-rule-shadowed",
				   rule->loc.file, rule->loc.line,
				   "every client it matches is matched by an earlier rule first (first match wins), so it never decides: the policy does not do what it reads as",
				   "move it before the rule that covers it, or remove it",
				   "%s (service %s)", rule->text, svc->name);
		}
	}
}

/* A from block no client can reach: covered by earlier from blocks, or
   every address of it refused by the connection rules first. */
static void audit_froms(const struct audit_context *ctx, const struct mw_service *svc)
{
	struct mw_prefix prefixes[AUDIT_PREFIXES_MAX], earlier[AUDIT_PREFIXES_MAX];
	unsigned int i, j, k, m, n, en;
	bool covered, denied, decided;
	int rule;

	for (j = 0; j < svc->from_count; j++) {
		const struct mw_from *from = &svc->froms[j];
		const char *why = NULL;

		if (from->match.kind != MW_MATCH_NET)
			continue;
		n = audit_text_prefixes(from->text, prefixes, AUDIT_PREFIXES_MAX);
		if (n == 0)
			continue;
		covered = true;
		for (k = 0; k < n && covered; k++) {
			bool in_one = false;

			for (i = 0; i < j && !in_one; i++) {
				if (svc->froms[i].match.kind == MW_MATCH_ANY) {
					in_one = true;
					break;
				}
				en = audit_text_prefixes(svc->froms[i].text, earlier,
							 AUDIT_PREFIXES_MAX);
				for (m = 0; m < en && !in_one; m++)
					in_one = audit_prefix_contains(&earlier[m], &prefixes[k]);
			}
			covered = in_one;
		}
		if (covered)
			why = "an earlier from block matches all of its clients first (the first matching block applies)";
		denied = true;
		for (k = 0; k < n && denied && why == NULL; k++) {
			rule = audit_rule_for_prefix(svc->rules, svc->rule_count,
						     &prefixes[k], &decided);
			if (!decided)
				denied = false;
			else if (rule >= 0)
				denied = svc->rules[rule].action == MW_ACTION_DENY;
			else
				denied = svc->settings.value[MW_SET_DEFAULT] == MW_ACTION_DENY;
		}
		if (why == NULL && denied)
			why = "the connection rules refuse every client it names before from blocks are consulted";
		if (why == NULL || audit_has(ctx->findings, "policy-from-never",
					     from->loc.file, from->loc.line))
			continue;
		audit_addf(ctx->findings, AUDIT_MEDIUM, "policy-from-never",
			   from->loc.file, from->loc.line, why,
			   "correct its networks or the rules, or remove it",
			   "%s { } (service %s) can never match", from->text, svc->name);
	}
}

static void audit_settings(const struct audit_context *ctx, const struct mw_service *svc,
			   const struct mw_settings *set, const char *where)
{
	const struct mw_loc *loc;
	int bits = set->value[MW_SET_TLS_MIN_BITS];

	loc = &set->loc[MW_SET_CLEARTEXT];
	if (where == NULL && set->value[MW_SET_CLEARTEXT] == MW_CLEARTEXT_ALWAYS &&
	    !audit_has(ctx->findings, "policy-cleartext-always", loc->file, loc->line)) {
		audit_addf(ctx->findings, AUDIT_HIGH, "policy-cleartext-always",
			   loc->file, loc->line,
			   "cleartext passwords are accepted without TLS from every client of the service, not only from a trusted network",
			   "use cleartext = tls-only, and cleartext = always only inside a from block for a network that needs it",
			   "cleartext = always (service %s)", svc->name);
	}
	loc = &set->loc[MW_SET_TLS_MIN_BITS];
	if (bits > 0 && bits < 128 &&
	    !audit_has(ctx->findings, "policy-tls-min-bits", loc->file, loc->line)) {
		audit_addf(ctx->findings, AUDIT_MEDIUM, "policy-tls-min-bits",
			   loc->file, loc->line,
			   "ciphers under 128 bits are allowed (seed 000: require 128-bit encryption)",
			   "set tls_min_bits = 128",
			   "tls_min_bits = %d (%s%s)", bits, where == NULL ? "service " : "",
			   where == NULL ? svc->name : where);
	}
}

static void audit_service(const struct audit_context *ctx, const struct mw_service *svc)
{
	unsigned int i;

	audit_settings(ctx, svc, &svc->settings, NULL);
	for (i = 0; i < svc->from_count; i++)
		audit_settings(ctx, svc, &svc->froms[i].settings, svc->froms[i].text);
	audit_rules(ctx, svc);
	audit_froms(ctx, svc);
}

void audit_check_policy(const struct audit_context *ctx)
{
	const struct mw_policy *policy = ctx->policy;
	unsigned int i;

	audit_check_file_access(ctx, ctx->policy_path, false, "policy-file-access",
				"policy");
	if (policy == NULL)
		return;
	audit_service(ctx, &policy->defaults);
	for (i = 0; i < policy->service_count; i++)
		audit_service(ctx, &policy->services[i]);
	if (policy->smime.keytable != NULL)
		audit_keytable(ctx, policy->smime.keytable);
	if (policy->smime.sender_map != NULL)
		audit_check_file_access(ctx, policy->smime.sender_map, false,
					"smime-sender-map-access", "sender map");
}
