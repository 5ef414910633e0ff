/* The policy in canonical form ("mailward check -n"): includes flattened,
   multi-name services split, every effective value spelled out, so that
   two files that mean the same print the same. */

#include "mw-policy-private.h"
#include "mw-util.h"

#include <string.h>

static void mw_print_word(FILE *out, const char *str)
{
	const char *p;

	if (!mw_word_needs_quotes(str)) {
		fputs(str, out);
		return;
	}
	fputc('"', out);
	for (p = str; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', out);
		fputc(*p, out);
	}
	fputc('"', out);
}

static void mw_print_list(FILE *out, const char *indent, const char *key,
			  const char *const *values)
{
	fprintf(out, "%s%s =", indent, key);
	for (; *values != NULL; values++) {
		fputc(' ', out);
		mw_print_word(out, *values);
	}
	fputc('\n', out);
}

static void mw_print_duration(FILE *out, const char *key, unsigned long long msecs)
{
	static const struct { const char *suffix; unsigned long long msecs; } units[] = {
		{ "d", 86400000ULL }, { "h", 3600000ULL }, { "m", 60000ULL },
		{ "s", 1000ULL },
	};
	unsigned int i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (msecs != 0 && msecs % units[i].msecs == 0) {
			fprintf(out, "  %s = %llu%s\n", key, msecs / units[i].msecs,
				units[i].suffix);
			return;
		}
	}
	fprintf(out, "  %s = %llu%s\n", key, msecs, msecs == 0 ? "s" : "ms");
}

static void mw_print_size(FILE *out, const char *key, size_t size)
{
	if (size != 0 && size % (1024 * 1024) == 0)
		fprintf(out, "  %s = %zuM\n", key, size / (1024 * 1024));
	else if (size != 0 && size % 1024 == 0)
		fprintf(out, "  %s = %zuk\n", key, size / 1024);
	else
		fprintf(out, "  %s = %zu\n", key, size);
}

static void mw_print_settings(FILE *out, const char *indent,
			      const struct mw_settings *set, bool only_own,
			      bool in_from)
{
	unsigned int i;

	for (i = 0; i < MW_SET_COUNT; i++) {
		if (only_own && (set->set_mask & (1U << i)) == 0)
			continue;
		if (in_from && !mw_setting_defs[i].in_from)
			continue;
		fprintf(out, "%s%s\n", indent, set->text[i]);
	}
}

static void mw_print_service(FILE *out, const char *label,
			     const struct mw_service *svc)
{
	unsigned int i;

	fprintf(out, "%s {\n", label);
	if (svc->daemon_names != NULL && svc->daemon_names[0] != NULL)
		mw_print_list(out, "  ", "postfix_daemon_name", svc->daemon_names);
	for (i = 0; i < svc->rule_count; i++)
		fprintf(out, "  %s\n", svc->rules[i].text);
	mw_print_settings(out, "  ", &svc->settings, false, false);
	for (i = 0; i < svc->from_count; i++) {
		fprintf(out, "  %s {\n", svc->froms[i].text);
		mw_print_settings(out, "    ", &svc->froms[i].settings, true, true);
		fputs("  }\n", out);
	}
	fputs("}\n", out);
}

static void mw_print_partner(FILE *out, const struct mw_partner *partner)
{
	fputs("partner ", out);
	mw_print_word(out, partner->domain);
	fputs(" {\n", out);
	if (partner->cert_cn != NULL)
		mw_print_list(out, "  ", "cert_cn", partner->cert_cn);
	if (partner->issuer_cn != NULL)
		mw_print_list(out, "  ", "issuer_cn", partner->issuer_cn);
	if (partner->cert_fingerprint != NULL)
		mw_print_list(out, "  ", "cert_fingerprint",
			      partner->cert_fingerprint);
	fprintf(out, "  on_fail = %s\n",
		mw_keyword_name(mw_partner_on_fail_keywords, (int)partner->on_fail));
	fprintf(out, "  outbound_tls = %s\n", partner->outbound_tls);
	if (partner->tls_required_no != MW_TLS_REQUIRED_NO_REJECT)
		fprintf(out, "  tls_required_no = %s\n",
			mw_keyword_name(mw_tls_required_no_keywords,
					(int)partner->tls_required_no));
	if (partner->outbound_match != NULL) {
		fputs("  outbound_match = ", out);
		mw_print_word(out, partner->outbound_match);
		fputc('\n', out);
	}
	fputs("}\n", out);
}

static void mw_print_path(FILE *out, const char *key, const char *path)
{
	if (path == NULL)
		return;
	fprintf(out, "  %s = ", key);
	mw_print_word(out, path);
	fputc('\n', out);
}

static void mw_print_smime_enc(FILE *out, const struct mw_smime_enc_settings *enc)
{
	const struct mw_smime_ldap_policy *ldap = &enc->ldap;
	unsigned int i;

	/* Nothing of encryption configured prints nothing, so that the
	   canonical form of a signing-only policy stays what it was. */
	if (enc->encrypt == MW_SMIME_ENCRYPT_OFF && enc->certificates == NULL &&
	    enc->trust == NULL && enc->services == NULL && !enc->have_ldap)
		return;
	fprintf(out, "  encrypt = %s\n",
		mw_keyword_name(mw_smime_encrypt_keywords, (int)enc->encrypt));
	if (enc->services != NULL)
		mw_print_list(out, "  ", "encrypt_services", enc->services);
	if (enc->certificates != NULL) {
		fputs("  certificates =", out);
		for (i = 0; enc->certificates[i] != NULL; i++) {
			fputc(' ', out);
			/* Paths are absolute by now, so only the source
			   ldap prints as the bare word. */
			mw_print_word(out, enc->certificates[i]);
		}
		fputc('\n', out);
	}
	mw_print_path(out, "trust", enc->trust);
	fprintf(out, "  cipher = %s\n", enc->cipher);
	fprintf(out, "  rsa_padding = %s\n",
		mw_keyword_name(mw_smime_rsa_padding_keywords, (int)enc->rsa_padding));
	fprintf(out, "  on_lookup_error = %s\n",
		mw_keyword_name(mw_smime_on_lookup_error_keywords,
				(int)enc->on_lookup_error));
	if (!enc->have_ldap)
		return;
	fputs("  ldap {\n", out);
	mw_print_path(out, "  uri", ldap->uri);
	mw_print_path(out, "  base", ldap->base);
	mw_print_path(out, "  filter", ldap->filter);
	mw_print_path(out, "  bind_dn", ldap->bind_dn);
	mw_print_path(out, "  password_file", ldap->password_file);
	fprintf(out, "    starttls = %s\n", ldap->starttls ? "yes" : "no");
	mw_print_path(out, "  ca", ldap->ca_file);
	fputs("  ", out);
	mw_print_duration(out, "timeout", ldap->timeout_msecs);
	fputs("  ", out);
	mw_print_duration(out, "cache_ttl", ldap->cache_ttl_secs * 1000ULL);
	fputs("  ", out);
	mw_print_duration(out, "negative_ttl", ldap->negative_ttl_secs * 1000ULL);
	fprintf(out, "    max_connections = %u\n", ldap->max_connections);
	fputs("  }\n", out);
}

void mw_policy_print(const struct mw_policy *policy, FILE *out)
{
	const struct mw_smime_settings *smime = &policy->smime;
	char label[256];
	unsigned int i;

	fputs("dns {\n", out);
	mw_print_duration(out, "timeout", policy->dns.timeout_msecs);
	mw_print_duration(out, "cache_ttl", policy->dns.cache_ttl_secs * 1000ULL);
	mw_print_duration(out, "negative_ttl", policy->dns.negative_ttl_secs * 1000ULL);
	fprintf(out, "  cache_size = %u\n", policy->dns.cache_size);
	fprintf(out, "  on_error = %s\n",
		mw_keyword_name(mw_on_error_keywords, (int)policy->dns.on_error));
	fputs("}\n", out);

	mw_print_service(out, "defaults", &policy->defaults);
	for (i = 0; i < policy->service_count; i++) {
		snprintf(label, sizeof(label), "service %s", policy->services[i].name);
		mw_print_service(out, label, &policy->services[i]);
	}
	for (i = 0; i < policy->partner_count; i++)
		mw_print_partner(out, &policy->partners[i]);

	fputs("smime {\n", out);
	fprintf(out, "  sign = %s\n",
		mw_keyword_name(mw_smime_sign_keywords, (int)smime->sign));
	mw_print_path(out, "keytable", smime->keytable);
	mw_print_path(out, "sender_map", smime->sender_map);
	fprintf(out, "  digest = %s\n", smime->digest);
	fprintf(out, "  on_error = %s\n",
		mw_keyword_name(mw_smime_on_error_keywords, (int)smime->on_error));
	mw_print_size(out, "spool_threshold", smime->spool_threshold);
	mw_print_path(out, "tmpdir", smime->tmpdir);
	if (smime->services != NULL)
		mw_print_list(out, "  ", "services", smime->services);
	mw_print_smime_enc(out, &smime->enc);
	fputs("}\n", out);
}
