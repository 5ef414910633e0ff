/*
 * Encryption in the milter.  A milter changes a message once for all its
 * recipients, so the message is encrypted only when every envelope
 * recipient (Bcc ones too: they are RCPT TOs like the others) and the
 * sender, for the copy in their Sent folder, have a usable certificate.
 * Otherwise "opportunistic" sends the message as it would have gone
 * (signed if signing applies) and logs who had none, and "required"
 * refuses it, naming them.  No recipient appears in the header: the
 * RecipientInfos name certificates (issuer and serial), not addresses.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "milter-log.h"
#include "smime-enc-proc.h"

#define MWM_SMIME_ENC_RCPT_MAX 1000
#define MWM_SMIME_ENC_CHUNK (64 * 1024)
#define MWM_SMIME_ENC_REPLY_NAMES 380	/* of the 512 of a reply line */

struct mwm_smime_enc {
	X509_STORE *trust;
	struct mw_smime_certsrc **sources;
	unsigned int source_count;
};

struct mwm_smime_enc_msg {
	char **rcpts;
	unsigned int count, alloc;
	bool too_many;
};

static void mwm_smime_enc_warn(void *ctx, const char *msg)
{
	mwm_log(LOG_WARNING, "smime: %s", msg);
}

void mwm_smime_enc_free(struct mwm_smime_enc **_enc)
{
	struct mwm_smime_enc *enc = *_enc;
	unsigned int i;

	if (enc == NULL)
		return;
	*_enc = NULL;
	for (i = 0; i < enc->source_count; i++)
		mw_smime_certsrc_free(&enc->sources[i]);
	free(enc->sources);
	X509_STORE_free(enc->trust);
	free(enc);
}

int mwm_smime_enc_load(const struct mw_smime_settings *set, bool log,
		       struct mwm_smime_enc **enc_r)
{
	const struct mw_smime_enc_settings *es = &set->enc;
	struct mwm_smime_enc *enc;
	char error[512];
	unsigned int i, n = 0;

	*enc_r = NULL;
	if (es->encrypt == MW_SMIME_ENCRYPT_OFF)
		return 0;
	for (i = 0; es->certificates != NULL && es->certificates[i] != NULL; i++)
		n++;
	enc = calloc(1, sizeof(*enc));
	if (enc == NULL || (enc->sources = calloc(n + 1, sizeof(*enc->sources))) == NULL) {
		free(enc);
		if (log)
			mwm_log(LOG_ERR, "smime: out of memory");
		return -1;
	}
	if (mw_smime_trust_load(es->trust, &enc->trust, error,
				sizeof(error)) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		const char *name = es->certificates[i];
		int ret;

		if (strcmp(name, "ldap") == 0)
			ret = mw_smime_certsrc_ldap_open(&es->ldap,
							 &enc->sources[i],
							 error, sizeof(error));
		else
			ret = mw_smime_certsrc_file_open(name,
				log ? mwm_smime_enc_warn : NULL, NULL,
				&enc->sources[i], error, sizeof(error));
		if (ret < 0)
			goto fail;
		enc->source_count++;
		if (log && strcmp(name, "ldap") != 0)
			mwm_log(LOG_INFO, "smime: recipient certificates from %s: %u",
				enc->sources[i]->name,
				mw_smime_certsrc_file_count(enc->sources[i]));
	}
	*enc_r = enc;
	return 0;
fail:
	if (log)
		mwm_log(LOG_ERR, "smime: %s", error);
	mwm_smime_enc_free(&enc);
	return -1;
}

struct mwm_smime_enc_msg *mwm_smime_enc_msg_new(void)
{
	return calloc(1, sizeof(struct mwm_smime_enc_msg));
}

void mwm_smime_enc_msg_free(struct mwm_smime_enc_msg **_em)
{
	struct mwm_smime_enc_msg *em = *_em;
	unsigned int i;

	if (em == NULL)
		return;
	*_em = NULL;
	for (i = 0; i < em->count; i++)
		free(em->rcpts[i]);
	free(em->rcpts);
	free(em);
}

int mwm_smime_enc_rcpt(struct mwm_smime_enc_msg *em, const char *rcpt)
{
	size_t len = strlen(rcpt);
	unsigned int i;
	char *addr;

	/* {rcpt_addr} is bare; the RCPT argument has the brackets. */
	if (len >= 2 && rcpt[0] == '<' && rcpt[len - 1] == '>') {
		rcpt++;
		len -= 2;
	}
	for (i = 0; i < em->count; i++) {
		if (strlen(em->rcpts[i]) == len &&
		    strncasecmp(em->rcpts[i], rcpt, len) == 0)
			return 0;
	}
	if (em->count == MWM_SMIME_ENC_RCPT_MAX) {
		em->too_many = true;
		return 0;
	}
	if (em->count == em->alloc) {
		unsigned int alloc = em->alloc == 0 ? 8 : em->alloc * 2;
		char **r = realloc(em->rcpts, alloc * sizeof(*r));

		if (r == NULL)
			return -1;
		em->rcpts = r;
		em->alloc = alloc;
	}
	if ((addr = strndup(rcpt, len)) == NULL)
		return -1;
	em->rcpts[em->count++] = addr;
	return 0;
}

/* Appends ", name" to the list in buf while it fits; counts the rest. */
static void mwm_smime_enc_list_add(char *buf, size_t size, size_t limit,
				   unsigned int *more, const char *name)
{
	size_t len = strlen(buf);

	if (limit > size)
		limit = size;
	if (*more == 0 && len + strlen(name) + 2 < limit) {
		snprintf(buf + len, size - len, "%s%s", len > 0 ? ", " : "", name);
		return;
	}
	(*more)++;
}

static int mwm_smime_enc_push(STACK_OF(X509) *certs, X509 *cert)
{
	int i;

	/* One RecipientInfo per certificate: the sender may be among the
	   recipients. */
	for (i = 0; i < sk_X509_num(certs); i++) {
		if (X509_cmp(sk_X509_value(certs, i), cert) == 0) {
			X509_free(cert);
			return 0;
		}
	}
	if (sk_X509_push(certs, cert) == 0) {
		X509_free(cert);
		return -1;
	}
	return 0;
}

enum mwm_smime_enc_verdict
mwm_smime_enc_decide(const struct mwm_smime_enc *enc,
		     const struct mw_smime_settings *set,
		     struct mwm_smime_enc_msg *em, const char *qid,
		     const char *from, X509 *sender_cert, SMFICTX *smfi,
		     STACK_OF(X509) **certs_r)
{
	const struct mw_smime_enc_settings *es = &set->enc;
	bool required = es->encrypt == MW_SMIME_ENCRYPT_REQUIRED;
	char missing[1024] = "", failed[1024] = "", lookup_error[512] = "";
	char reason[256], error[512], reply[512];
	unsigned int i, n_missing = 0, n_failed = 0, more_m = 0, more_f = 0;
	STACK_OF(X509) *certs = sk_X509_new_null();
	const char *source;
	X509 *cert;

	*certs_r = NULL;
	if (certs == NULL)
		return MWM_SMIME_ENC_TEMPFAIL;
	/* The sender first: the key table's certificate if it can take
	   encryption, else the sources. */
	for (i = 0; i <= em->count; i++) {
		const char *addr = i < em->count ? em->rcpts[i] : from;
		enum mw_smime_select_result res;

		if (i == em->count && sender_cert != NULL &&
		    mw_smime_recip_check(enc->trust, NULL, sender_cert, from,
					 reason, sizeof(reason)) == NULL) {
			X509_up_ref(sender_cert);
			if (mwm_smime_enc_push(certs, sender_cert) < 0)
				goto oom;
			continue;
		}
		res = mw_smime_recip_select(enc->trust, enc->sources,
					    enc->source_count, addr, NULL, NULL,
					    &cert, &source, error, sizeof(error));
		if (res == MW_SMIME_SELECT_FOUND) {
			if (mwm_smime_enc_push(certs, cert) < 0)
				goto oom;
			continue;
		}
		if (res == MW_SMIME_SELECT_FAILED &&
		    es->on_lookup_error == MW_SMIME_LOOKUP_TEMPFAIL) {
			n_failed++;
			mwm_smime_enc_list_add(failed, sizeof(failed),
					       MWM_SMIME_ENC_REPLY_NAMES, &more_f,
					       addr);
			snprintf(lookup_error, sizeof(lookup_error), "%s", error);
			continue;
		}
		/* on_lookup_error = no-certificate: counted as without one,
		   but the log says that the directory did not answer */
		if (res == MW_SMIME_SELECT_FAILED)
			snprintf(lookup_error, sizeof(lookup_error), "%s", error);
		n_missing++;
		mwm_smime_enc_list_add(missing, sizeof(missing),
				       MWM_SMIME_ENC_REPLY_NAMES, &more_m, addr);
	}
	if (em->too_many) {
		n_missing++;
		mwm_smime_enc_list_add(missing, sizeof(missing),
				       MWM_SMIME_ENC_REPLY_NAMES, &more_m,
				       "(recipients beyond the first 1000)");
	}
	if (n_missing == 0 && n_failed == 0) {
		*certs_r = certs;
		return MWM_SMIME_ENC_ENCRYPT;
	}
	sk_X509_pop_free(certs, X509_free);

	if (n_failed > 0 && (required || n_missing == 0)) {
		/* The directory did not answer: the message may well be
		   encryptable later (on_lookup_error = tempfail). */
		mwm_log(LOG_WARNING, "%s: smime: not encrypted: certificate "
			"lookup failed for %s%s (%s); mail is tempfailed", qid,
			failed, more_f > 0 ? " and others" : "", lookup_error);
		snprintf(reply, sizeof(reply),
			 "S/MIME certificate lookup failed for %.380s%s; try again later",
			 failed, more_f > 0 ? " and others" : "");
		(void)smfi_setreply(smfi, "451", "4.7.0", reply);
		return MWM_SMIME_ENC_TEMPFAIL;
	}
	if (!required) {
		mwm_log(LOG_INFO, "%s: smime: not encrypted: no usable "
			"certificate for %s%s (encrypt = opportunistic%s%s)",
			qid, missing, more_m > 0 ? " and more" : "",
			lookup_error[0] != '\0' ? "; a lookup failed: " : "",
			lookup_error);
		return MWM_SMIME_ENC_PASS;
	}
	mwm_log(LOG_NOTICE, "%s: smime: refused: no usable certificate for "
		"%s%s (encrypt = required%s%s)", qid, missing,
		more_m > 0 ? " and more" : "",
		lookup_error[0] != '\0' ? "; a lookup failed: " : "",
		lookup_error);
	if (more_m > 0)
		snprintf(reply, sizeof(reply),
			 "No usable S/MIME certificate for %.380s and %u more; encryption is required",
			 missing, more_m);
	else
		snprintf(reply, sizeof(reply),
			 "No usable S/MIME certificate for %.380s; encryption is required",
			 missing);
	(void)smfi_setreply(smfi, "550", "5.7.1", reply);
	return MWM_SMIME_ENC_REJECT;
oom:
	sk_X509_pop_free(certs, X509_free);
	return MWM_SMIME_ENC_TEMPFAIL;
}

int mwm_smime_enc_apply(const struct mw_smime_settings *set,
			const struct mw_smime_header *headers,
			unsigned int header_count, STACK_OF(X509) *certs,
			mw_smime_entity_fn *entity, void *entity_ctx,
			mw_smime_edit_fn *edit, SMFICTX *smfi, const char *qid,
			uint64_t *size_r)
{
	struct mw_smime_enc_params params = {
		.recipients = certs,
		.cipher = set->enc.cipher,
		.rsa_oaep = set->enc.rsa_padding == MW_SMIME_RSA_OAEP,
		.spool_threshold = set->spool_threshold,
		.tmpdir = set->tmpdir,
	};
	struct mw_smime_encrypted *enc;
	unsigned char *chunk;
	char error[512];
	size_t len;
	int ret = 0;

	if (mw_smime_encrypt(&params, entity, entity_ctx, &enc, error,
			     sizeof(error)) < 0) {
		mwm_log(LOG_ERR, "%s: smime: not encrypted: %s", qid, error);
		return -1;
	}
	*size_r = mw_smime_encrypted_body_size(enc);
	chunk = malloc(MWM_SMIME_ENC_CHUNK);
	if (chunk == NULL ||
	    mw_smime_enc_header_edits(headers, header_count, enc, edit,
				      smfi) < 0) {
		mwm_log(LOG_ERR, "%s: smime: changing the header failed", qid);
		ret = -1;
	}
	while (ret == 0) {
		if (mw_smime_encrypted_read(enc, chunk, MWM_SMIME_ENC_CHUNK,
					    &len, error, sizeof(error)) < 0) {
			mwm_log(LOG_ERR, "%s: smime: %s", qid, error);
			ret = -1;
		} else if (len == 0) {
			break;
		} else if (smfi_replacebody(smfi, chunk, (int)len) != MI_SUCCESS) {
			mwm_log(LOG_ERR, "%s: smime: replacing the body failed",
				qid);
			ret = -1;
		}
	}
	free(chunk);
	mw_smime_encrypted_free(&enc);
	return ret;
}
