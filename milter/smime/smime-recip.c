/*
 * Which certificate encrypts to a recipient.  A certificate from any
 * source is only a candidate: it must chain to the policy's trust
 * anchors, be valid now, have a key fit for encryption and name the
 * recipient, or a wrong entry in a directory would send mail to a key
 * its owner never had.
 */

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "mw-smime-enc.h"

/* keyUsage (RFC 8550 4.4.2): RSA keys transport the content key
   (keyEncipherment), EC keys agree on one (keyAgreement). */
static const char *mw_smime_recip_usage(X509 *cert, char *reason,
					size_t reason_size)
{
	uint32_t flags = X509_get_extension_flags(cert);
	EVP_PKEY *pkey = X509_get0_pubkey(cert);
	uint32_t need;
	const char *what;

	if ((flags & EXFLAG_INVALID) != 0) {
		snprintf(reason, reason_size, "certificate has invalid extensions");
		return reason;
	}
	if (pkey == NULL) {
		snprintf(reason, reason_size, "unreadable public key");
		return reason;
	}
	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_RSA:
		need = KU_KEY_ENCIPHERMENT;
		what = "keyEncipherment (RSA key)";
		break;
	case EVP_PKEY_EC:
		need = KU_KEY_AGREEMENT;
		what = "keyAgreement (EC key)";
		break;
	case EVP_PKEY_X25519:
	case EVP_PKEY_X448:
		/* RFC 8418 key agreement, which OpenSSL's CMS (3.0 to 3.5
		   at least) does not implement: refused here, or the
		   message would fail at encryption and tempfail for ever. */
		snprintf(reason, reason_size,
			 "%s key agreement is not supported by OpenSSL CMS",
			 OBJ_nid2sn(EVP_PKEY_get_base_id(pkey)));
		return reason;
	default:
		snprintf(reason, reason_size,
			 "key type %s cannot be encrypted to",
			 OBJ_nid2sn(EVP_PKEY_get_base_id(pkey)));
		return reason;
	}
	if ((flags & EXFLAG_KUSAGE) != 0 &&
	    (X509_get_key_usage(cert) & need) == 0) {
		snprintf(reason, reason_size, "key usage does not allow %s", what);
		return reason;
	}
	if ((flags & EXFLAG_XKUSAGE) != 0 &&
	    (X509_get_extended_key_usage(cert) & (XKU_SMIME | XKU_ANYEKU)) == 0) {
		snprintf(reason, reason_size,
			 "extended key usage lacks emailProtection");
		return reason;
	}
	return NULL;
}

static const char *mw_smime_recip_chain(X509_STORE *trust,
					STACK_OF(X509) *untrusted, X509 *cert,
					char *reason, size_t reason_size)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok, err;

	if (ctx == NULL || X509_STORE_CTX_init(ctx, trust, cert, untrusted) != 1) {
		X509_STORE_CTX_free(ctx);
		snprintf(reason, reason_size, "out of memory");
		return reason;
	}
	/* The purpose is checked above for the leaf only: OpenSSL's
	   smimeencrypt purpose would refuse an EC key, which has
	   keyAgreement and not keyEncipherment.  The time is "now" and
	   applies to the whole chain. */
	ok = X509_verify_cert(ctx);
	err = X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	if (ok == 1)
		return NULL;
	snprintf(reason, reason_size, "%s", X509_verify_cert_error_string(err));
	return reason;
}

const char *mw_smime_recip_check(X509_STORE *trust, STACK_OF(X509) *untrusted,
				 X509 *cert, const char *address,
				 char *reason, size_t reason_size)
{
	struct mw_smime_key key = { .cert = cert };

	if (!mw_smime_key_names(&key, address)) {
		snprintf(reason, reason_size, "does not name %s", address);
		return reason;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0) {
		snprintf(reason, reason_size, "not valid yet");
		return reason;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
		snprintf(reason, reason_size, "expired");
		return reason;
	}
	if (mw_smime_recip_usage(cert, reason, reason_size) != NULL)
		return reason;
	return mw_smime_recip_chain(trust, untrusted, cert, reason, reason_size);
}

/* The intermediates for one lookup: the source's own and whatever came
   with the candidates (a directory entry may publish its chain). */
static STACK_OF(X509) *mw_smime_recip_untrusted(const struct mw_smime_certsrc *src,
						STACK_OF(X509) *certs)
{
	STACK_OF(X509) *all = src->untrusted != NULL ?
		sk_X509_dup(src->untrusted) : sk_X509_new_null();
	int i;

	for (i = 0; all != NULL && i < sk_X509_num(certs); i++) {
		if (sk_X509_push(all, sk_X509_value(certs, i)) == 0) {
			sk_X509_free(all);
			return NULL;
		}
	}
	return all;
}

enum mw_smime_select_result
mw_smime_recip_select(X509_STORE *trust, struct mw_smime_certsrc *const *sources,
		      unsigned int source_count, const char *address,
		      mw_smime_candidate_fn *report, void *report_ctx,
		      X509 **cert_r, const char **source_r,
		      char *error, size_t error_size)
{
	bool failed = false;
	unsigned int s;
	int i;

	*cert_r = NULL;
	*source_r = NULL;
	error[0] = '\0';
	for (s = 0; s < source_count && *cert_r == NULL; s++) {
		struct mw_smime_certsrc *src = sources[s];
		STACK_OF(X509) *certs = NULL, *untrusted;
		char lookup_error[256], reason[256];
		X509 *best = NULL;
		int ret;

		ret = src->lookup(src, address, &certs, lookup_error,
				  sizeof(lookup_error));
		if (ret < 0) {
			failed = true;
			snprintf(error, error_size, "%s: %s", src->name,
				 lookup_error);
			if (report != NULL)
				report(report_ctx, src->name, NULL, lookup_error);
			continue;
		}
		if (ret == 0)
			continue;
		untrusted = mw_smime_recip_untrusted(src, certs);
		for (i = 0; i < sk_X509_num(certs); i++) {
			X509 *x = sk_X509_value(certs, i);
			const char *why;

			why = untrusted == NULL ? "out of memory" :
				mw_smime_recip_check(trust, untrusted, x, address,
						     reason, sizeof(reason));
			if (why != NULL) {
				if (report != NULL)
					report(report_ctx, src->name, x, why);
				continue;
			}
			/* Of several usable ones, the one valid longest,
			   which is the newest in practice. */
			if (best == NULL ||
			    ASN1_TIME_compare(X509_get0_notAfter(x),
					      X509_get0_notAfter(best)) > 0)
				best = x;
		}
		if (best != NULL) {
			X509_up_ref(best);
			*cert_r = best;
			*source_r = src->name;
		}
		for (i = 0; report != NULL && i < sk_X509_num(certs); i++) {
			X509 *x = sk_X509_value(certs, i);

			if (x == best)
				report(report_ctx, src->name, x, NULL);
			else if (best != NULL && mw_smime_recip_check(
					 trust, untrusted, x, address, reason,
					 sizeof(reason)) == NULL)
				report(report_ctx, src->name, x,
				       "usable, but another expires later");
		}
		sk_X509_free(untrusted);
		sk_X509_pop_free(certs, X509_free);
	}
	if (*cert_r != NULL) {
		error[0] = '\0';
		return MW_SMIME_SELECT_FOUND;
	}
	return failed ? MW_SMIME_SELECT_FAILED : MW_SMIME_SELECT_NONE;
}
