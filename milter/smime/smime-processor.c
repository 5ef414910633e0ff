/*
 * S/MIME signing in the milter.  A message takes part when the policy
 * signs, it comes through a service the smime section names (submission
 * and submissions unless it says otherwise) from an authenticated
 * session; at the end of the headers the From address, the login and
 * the key table decide whether it is signed.  Every message of a signing
 * policy that is not signed gets a log line at info (or above) saying
 * why, so that no setup error passes in silence.  The body is spooled (memory,
 * then a temporary file), signed at the end of the message, and written
 * back with smfi_replacebody() in chunks.
 *
 * Errors while reading or signing follow the policy's on_error: pass the
 * message unsigned (and log why) or tempfail.  Once the message has been
 * changed in part, only a tempfail is safe.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "milter-log.h"
#include "mw-smime.h"
#include "smime-enc-proc.h"
#include "smime-processor.h"

#define MWM_SMIME_CHUNK (64 * 1024)	/* smfi_replacebody() piece */
#define MWM_SMIME_MAX_HEADERS 1000

/* The tables of one policy load, shared by the messages that use them. */
struct mwm_smime_tables {
	int refcount;
	struct mw_smime_keytable *keys;
	struct mw_smime_sendermap *senders;	/* NULL: logins = addresses */
	struct mwm_smime_enc *enc;		/* NULL: encryption off */
};

static pthread_mutex_t mwm_smime_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mwm_smime_tables *mwm_smime_current;

struct mwm_smime_msg {
	const struct mw_smime_settings *set;	/* in the conn's policy */
	struct mwm_smime_tables *tables;
	char *login;
	struct mw_smime_header *headers;	/* owned name/value copies */
	unsigned int header_count, header_alloc;
	unsigned int from_count;
	struct mw_smime_spool *body;
	/* Set once the message will not be signed; the reason is logged
	   at the end, with the queue id. */
	const char *skip;
	char skip_detail[256];
	char from[256];
	const struct mw_smime_key *key;
	bool failed;		/* an error under on_error = pass */
	/* Encryption (smime-enc-proc.c): the envelope recipients; NULL
	   when the message is not to be encrypted.  Then a reason not to
	   sign stops signing only, logged at the end. */
	bool sign;
	struct mwm_smime_enc_msg *enc;
	char nosign[300];
};

static void mwm_smime_tables_unref(struct mwm_smime_tables **_t)
{
	struct mwm_smime_tables *t = *_t;

	if (t == NULL)
		return;
	*_t = NULL;
	if (__atomic_sub_fetch(&t->refcount, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	mw_smime_keytable_unref(&t->keys);
	mw_smime_sendermap_free(&t->senders);
	mwm_smime_enc_free(&t->enc);
	free(t);
}

static void mwm_smime_warn(void *ctx, const char *msg)
{
	mwm_log(LOG_WARNING, "smime: %s", msg);
}

static int mwm_smime_policy_loaded(const struct mw_policy *policy, bool log)
{
	const struct mw_smime_settings *set = mw_policy_smime(policy);
	struct mwm_smime_tables *t = NULL, *old;
	char error[512];

	bool sign = set->sign != MW_SMIME_SIGN_OFF && set->keytable != NULL;
	bool encrypt = set->enc.encrypt != MW_SMIME_ENCRYPT_OFF;

	if (sign || encrypt) {
		t = calloc(1, sizeof(*t));
		if (t == NULL) {
			if (log)
				mwm_log(LOG_ERR, "smime: out of memory");
			return -1;
		}
		t->refcount = 1;
		if ((set->keytable != NULL &&
		     mw_smime_keytable_load(set->keytable, mwm_smime_warn, NULL,
					    &t->keys, error, sizeof(error)) < 0) ||
		    (set->sender_map != NULL &&
		     mw_smime_sendermap_load(set->sender_map, &t->senders,
					     error, sizeof(error)) < 0)) {
			if (log)
				mwm_log(LOG_ERR, "smime: %s", error);
			mwm_smime_tables_unref(&t);
			return -1;
		}
		/* Signing on and no key to sign with is a setup error that
		   would pass every message unsigned: refuse it, as -n does. */
		if (sign && mw_smime_keytable_count(t->keys) == 0) {
			if (log)
				mwm_log(LOG_ERR, "smime: %s: no usable signing "
					"key, and sign = %s", set->keytable,
					"authenticated");
			mwm_smime_tables_unref(&t);
			return -1;
		}
		if (log && t->keys != NULL) {
			mwm_log(LOG_INFO, "smime: signing keys loaded from %s: %u",
				set->keytable, mw_smime_keytable_count(t->keys));
		}
		if (mwm_smime_enc_load(set, log, &t->enc) < 0) {
			mwm_smime_tables_unref(&t);
			return -1;
		}
	}
	pthread_mutex_lock(&mwm_smime_lock);
	old = mwm_smime_current;
	mwm_smime_current = t;
	pthread_mutex_unlock(&mwm_smime_lock);
	mwm_smime_tables_unref(&old);
	return 0;
}

static void mwm_smime_deinit(void)
{
	pthread_mutex_lock(&mwm_smime_lock);
	mwm_smime_tables_unref(&mwm_smime_current);
	pthread_mutex_unlock(&mwm_smime_lock);
}

/* A reference to the tables of the latest policy load, or NULL when
   that policy does not sign. */
static struct mwm_smime_tables *mwm_smime_tables_get(void)
{
	struct mwm_smime_tables *t;

	pthread_mutex_lock(&mwm_smime_lock);
	t = mwm_smime_current;
	if (t != NULL)
		__atomic_add_fetch(&t->refcount, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&mwm_smime_lock);
	return t;
}

static const char *mwm_smime_qid(const struct mwm_msg *msg)
{
	return msg->queue_id != NULL ? msg->queue_id : "NOQUEUE";
}

static void mwm_smime_skip(struct mwm_smime_msg *sm, const char *reason,
			   const char *detail)
{
	if (sm->skip != NULL)
		return;
	sm->skip = reason;
	snprintf(sm->skip_detail, sizeof(sm->skip_detail), "%s",
		 detail != NULL ? detail : "");
	/* No need to keep what will not be signed. */
	mw_smime_spool_free(&sm->body);
}

/* A reason not to sign: while the message is to be encrypted, it stops
   signing only. */
static void mwm_smime_nosign(struct mwm_smime_msg *sm, const char *reason,
			     const char *detail)
{
	if (sm->enc == NULL) {
		mwm_smime_skip(sm, reason, detail);
		return;
	}
	sm->key = NULL;
	if (sm->sign && sm->nosign[0] == '\0')
		snprintf(sm->nosign, sizeof(sm->nosign), "%s%s%s", reason,
			 detail != NULL ? " " : "", detail != NULL ? detail : "");
	sm->sign = false;
}

static void mwm_smime_msg_free(struct mwm_smime_msg *sm)
{
	unsigned int i;

	for (i = 0; i < sm->header_count; i++) {
		free((char *)sm->headers[i].name);
		free((char *)sm->headers[i].value);
	}
	free(sm->headers);
	free(sm->login);
	mw_smime_spool_free(&sm->body);
	mwm_smime_enc_msg_free(&sm->enc);
	mwm_smime_tables_unref(&sm->tables);
	free(sm);
}

static int mwm_smime_begin(struct mwm_msg *msg, void **ctx_r)
{
	const struct mw_smime_settings *set = mw_policy_smime(msg->conn->policy);
	const char *service = msg->conn->service;
	bool sign = set->sign != MW_SMIME_SIGN_OFF &&
		mw_smime_signs_service(set, service);
	bool encrypt = mw_smime_encrypts_service(set, service);
	struct mwm_smime_msg *sm;

	*ctx_r = NULL;
	if (!sign && !encrypt) {
		if (set->sign != MW_SMIME_SIGN_OFF)
			mwm_log(LOG_INFO, "%s: smime: not signed: service %s "
				"is not one that signs (smime services)",
				mwm_smime_qid(msg),
				service != NULL ? service : "(none)");
		return 0;
	}
	if (msg->auth_authen == NULL) {
		mwm_log(LOG_INFO, "%s: smime: not %s: sender <%s> did not "
			"authenticate", mwm_smime_qid(msg),
			encrypt ? (sign ? "signed or encrypted" : "encrypted") :
			"signed", msg->sender);
		return 0;
	}
	sm = calloc(1, sizeof(*sm));
	if (sm == NULL || (sm->login = strdup(msg->auth_authen)) == NULL) {
		free(sm);
		return set->on_error == MW_SMIME_ON_ERROR_PASS ? 0 : -1;
	}
	sm->set = set;
	sm->sign = sign;
	if (encrypt && (sm->enc = mwm_smime_enc_msg_new()) == NULL) {
		mwm_smime_msg_free(sm);
		return -1;
	}
	sm->tables = mwm_smime_tables_get();
	if (sm->tables == NULL)
		mwm_smime_skip(sm, "no key table loaded", NULL);
	else if ((sm->body = mw_smime_spool_new(set->spool_threshold,
						set->tmpdir)) == NULL) {
		mwm_smime_msg_free(sm);
		return set->on_error == MW_SMIME_ON_ERROR_PASS ? 0 : -1;
	}
	*ctx_r = sm;
	return 0;
}

/* An error: tempfail, or pass unsigned, as the policy says. */
static int mwm_smime_error(struct mwm_smime_msg *sm, const char *what,
			   const char *error)
{
	mwm_smime_skip(sm, what, error);
	sm->failed = true;
	return sm->set->on_error == MW_SMIME_ON_ERROR_PASS ? 0 : -1;
}

static int mwm_smime_header(void *ctx, const char *name, const char *value)
{
	struct mwm_smime_msg *sm = ctx;
	struct mw_smime_header *h;

	if (sm->skip != NULL)
		return 0;
	if (strcasecmp(name, "From") == 0)
		sm->from_count++;
	if (strcasecmp(name, "Content-Type") == 0) {
		struct mw_smime_ctype ct;

		mw_smime_ctype_init(&ct);
		if (mw_smime_ctype_parse(&ct, value, strlen(value)) == 0 &&
		    mw_smime_ctype_is_protected(&ct)) {
			mwm_smime_skip(sm, "already signed or encrypted", NULL);
			return 0;
		}
	}
	if (sm->header_count == MWM_SMIME_MAX_HEADERS)
		return mwm_smime_error(sm, "too many header fields", NULL);
	if (sm->header_count == sm->header_alloc) {
		unsigned int alloc = sm->header_alloc == 0 ? 32 :
			sm->header_alloc * 2;

		h = realloc(sm->headers, alloc * sizeof(*h));
		if (h == NULL)
			return mwm_smime_error(sm, "out of memory", NULL);
		sm->headers = h;
		sm->header_alloc = alloc;
	}
	h = &sm->headers[sm->header_count];
	h->name = strdup(name);
	h->value = strdup(value);
	if (h->name == NULL || h->value == NULL) {
		free((char *)h->name);
		free((char *)h->value);
		return mwm_smime_error(sm, "out of memory", NULL);
	}
	sm->header_count++;
	return 0;
}

/* The header is complete: decide whether to sign before spooling the
   body. */
static int mwm_smime_eoh(void *ctx)
{
	struct mwm_smime_msg *sm = ctx;
	const char *error = NULL;
	unsigned int i;

	if (sm->skip != NULL)
		return 0;
	if (sm->from_count != 1) {
		mwm_smime_skip(sm, sm->from_count == 0 ? "no From field" :
			       "several From fields", NULL);
		return 0;
	}
	for (i = 0; i < sm->header_count; i++) {
		if (strcasecmp(sm->headers[i].name, "From") == 0)
			break;
	}
	if (mw_smime_from_address(sm->headers[i].value, sm->from,
				  sizeof(sm->from), &error) < 0) {
		mwm_smime_skip(sm, error, NULL);
		return 0;
	}
	if (!mw_smime_sender_allowed(sm->tables->senders, sm->login,
				     sm->from)) {
		mwm_smime_nosign(sm, "login may not send as the From address",
				 sm->from);
		return 0;
	}
	if (!sm->sign)
		return 0;
	sm->key = sm->tables->keys == NULL ? NULL :
		mw_smime_keytable_lookup(sm->tables->keys, sm->from);
	if (sm->key == NULL) {
		mwm_smime_nosign(sm, "no key for the From address", sm->from);
		return 0;
	}
	/* A domain key signs only for the addresses its certificate names,
	   or clients would flag a sender mismatch (RFC 8550 3). */
	if (!mw_smime_key_names(sm->key, sm->from)) {
		mwm_smime_nosign(sm, "the domain certificate does not name",
				 sm->from);
		return 0;
	}
	return 0;
}

static int mwm_smime_body(void *ctx, const unsigned char *data, size_t size)
{
	struct mwm_smime_msg *sm = ctx;
	char error[256];

	if (sm->skip != NULL)
		return 0;
	if (mw_smime_spool_write(sm->body, data, size, error,
				 sizeof(error)) < 0)
		return mwm_smime_error(sm, "spooling failed", error);
	return 0;
}

static int mwm_smime_edit(void *ctx, enum mw_smime_edit_op op,
			  const char *name, unsigned int index,
			  const char *value)
{
	SMFICTX *smfi = ctx;
	int ret;

	switch (op) {
	case MW_SMIME_EDIT_CHANGE:
		ret = smfi_chgheader(smfi, (char *)name, (int)index,
				     (char *)value);
		break;
	case MW_SMIME_EDIT_DELETE:
		ret = smfi_chgheader(smfi, (char *)name, (int)index, NULL);
		break;
	default:
		ret = smfi_addheader(smfi, (char *)name, (char *)value);
		break;
	}
	return ret == MI_SUCCESS ? 0 : -1;
}

/* Replaces header and body.  Any failure here leaves the message half
   changed, so it tempfails whatever on_error says. */
static int mwm_smime_apply(struct mwm_smime_msg *sm, struct mwm_msg *msg,
			   SMFICTX *smfi, struct mw_smime_signed *sig)
{
	unsigned char *chunk = malloc(MWM_SMIME_CHUNK);
	char error[256];
	size_t len;
	int ret = 0;

	if (chunk == NULL)
		return -1;
	if (mw_smime_header_edits(sm->headers, sm->header_count,
				  mw_smime_signed_content_type(sig),
				  mwm_smime_edit, smfi) < 0) {
		mwm_log(LOG_ERR, "%s: smime: changing the header failed",
			mwm_smime_qid(msg));
		ret = -1;
	}
	while (ret == 0) {
		if (mw_smime_signed_read(sig, chunk, MWM_SMIME_CHUNK, &len,
					 error, sizeof(error)) < 0) {
			mwm_log(LOG_ERR, "%s: smime: %s", mwm_smime_qid(msg),
				error);
			ret = -1;
		} else if (len == 0) {
			break;
		} else if (smfi_replacebody(smfi, chunk, (int)len) != MI_SUCCESS) {
			mwm_log(LOG_ERR, "%s: smime: replacing the body failed",
				mwm_smime_qid(msg));
			ret = -1;
		}
	}
	free(chunk);
	return ret;
}

/* The key table's certificate for the sender, for their own copy:
   smime-enc-proc.c checks it can take encryption. */
static X509 *mwm_smime_sender_cert(const struct mwm_smime_msg *sm)
{
	const struct mw_smime_key *key;

	if (sm->key != NULL)
		return sm->key->cert;
	if (sm->tables->keys == NULL)
		return NULL;
	key = mw_smime_keytable_lookup(sm->tables->keys, sm->from);
	return key != NULL ? key->cert : NULL;
}

/* Encrypts what signing made (sig), or the message itself. */
static int mwm_smime_encrypt_apply(struct mwm_smime_msg *sm,
				   struct mwm_msg *msg, SMFICTX *smfi,
				   struct mw_smime_signed *sig,
				   STACK_OF(X509) *certs)
{
	struct mw_smime_entity_plain plain = {
		.headers = sm->headers,
		.header_count = sm->header_count,
		.body = sm->body,
	};
	uint64_t size = 0;
	int ret;

	ret = mwm_smime_enc_apply(sm->set, sm->headers, sm->header_count,
				  certs, sig != NULL ?
				  mw_smime_entity_signed_write :
				  mw_smime_entity_plain_write,
				  sig != NULL ? (void *)sig : (void *)&plain,
				  mwm_smime_edit, smfi, mwm_smime_qid(msg), &size);
	if (ret == 0)
		mwm_log(LOG_INFO, "%s: smime: encrypted from %s for %d "
			"certificates (the sender's included, %s, %s), %s, "
			"%llu bytes, service %s", mwm_smime_qid(msg), sm->from,
			sk_X509_num(certs), sm->set->enc.cipher,
			sm->set->enc.rsa_padding == MW_SMIME_RSA_OAEP ?
			"RSA-OAEP" : "RSA PKCS#1 v1.5",
			sig != NULL ? "signed first" : "not signed",
			(unsigned long long)size, msg->conn->service);
	return ret;
}

static int mwm_smime_eom(void *ctx, struct mwm_msg *msg, SMFICTX *smfi)
{
	struct mwm_smime_msg *sm = ctx;
	struct mw_smime_sign_params params = {
		.key = sm->key,
		.digest = sm->set->digest,
		.spool_threshold = sm->set->spool_threshold,
		.tmpdir = sm->set->tmpdir,
	};
	enum mwm_smime_enc_verdict verdict = MWM_SMIME_ENC_PASS;
	struct mw_smime_signed *sig = NULL;
	STACK_OF(X509) *certs = NULL;
	char error[512];
	int ret;

	if (sm->skip != NULL) {
		mwm_log(sm->failed ? LOG_ERR : LOG_INFO,
			"%s: smime: not %s: %s%s%s", mwm_smime_qid(msg),
			sm->enc == NULL ? "signed" : !sm->sign ? "encrypted" :
			"signed or encrypted",
			sm->skip, sm->skip_detail[0] != '\0' ? " " : "",
			sm->skip_detail);
		return sm->failed && sm->set->on_error ==
			MW_SMIME_ON_ERROR_TEMPFAIL ? -1 : 0;
	}
	/* Encryption first decides: a refused message need not be
	   signed. */
	if (sm->enc != NULL) {
		verdict = mwm_smime_enc_decide(sm->tables->enc, sm->set, sm->enc,
					       mwm_smime_qid(msg), sm->from,
					       mwm_smime_sender_cert(sm), smfi,
					       &certs);
		if (verdict == MWM_SMIME_ENC_REJECT)
			return MWM_PROCESSOR_REJECT;
		if (verdict == MWM_SMIME_ENC_TEMPFAIL)
			return MWM_PROCESSOR_TEMPFAIL;
	}
	if (sm->nosign[0] != '\0')
		mwm_log(LOG_INFO, "%s: smime: not signed: %s",
			mwm_smime_qid(msg), sm->nosign);
	if (sm->key != NULL &&
	    mw_smime_sign(&params, sm->headers, sm->header_count, sm->body,
			  &sig, error, sizeof(error)) < 0) {
		bool pass = sm->set->on_error == MW_SMIME_ON_ERROR_PASS;

		mwm_log(LOG_ERR, "%s: smime: not signed: %s%s",
			mwm_smime_qid(msg), error,
			pass ? "; passed unsigned" : "");
		if (!pass) {
			sk_X509_pop_free(certs, X509_free);
			return -1;
		}
		sig = NULL;
	}
	if (verdict == MWM_SMIME_ENC_ENCRYPT) {
		/* A failure here may have changed the message in part:
		   tempfail, whatever on_error says. */
		ret = mwm_smime_encrypt_apply(sm, msg, smfi, sig, certs);
		sk_X509_pop_free(certs, X509_free);
		mw_smime_signed_free(&sig);
		return ret;
	}
	if (sig == NULL)
		return 0;
	ret = mwm_smime_apply(sm, msg, smfi, sig);
	if (ret == 0)
		mwm_log(LOG_INFO, "%s: smime: signed as %s (login %s, %s, "
			"%llu bytes, service %s)", mwm_smime_qid(msg), sm->from,
			sm->login, mw_smime_micalg(sm->set->digest),
			(unsigned long long)mw_smime_signed_body_size(sig),
			msg->conn->service);
	mw_smime_signed_free(&sig);
	return ret;
}

static int mwm_smime_rcpt(void *ctx, const char *rcpt)
{
	struct mwm_smime_msg *sm = ctx;

	if (sm->enc == NULL || sm->skip != NULL)
		return 0;
	if (mwm_smime_enc_rcpt(sm->enc, rcpt) < 0)
		return mwm_smime_error(sm, "out of memory", NULL);
	return 0;
}

static void mwm_smime_end(void *ctx)
{
	mwm_smime_msg_free(ctx);
}

const struct mwm_processor mwm_smime_processor = {
	.name = "smime",
	.actions = SMFIF_CHGHDRS | SMFIF_ADDHDRS | SMFIF_CHGBODY,
	.msg_begin = mwm_smime_begin,
	.rcpt = mwm_smime_rcpt,
	.header = mwm_smime_header,
	.eoh = mwm_smime_eoh,
	.body = mwm_smime_body,
	.eom = mwm_smime_eom,
	.msg_end = mwm_smime_end,
	.policy_loaded = mwm_smime_policy_loaded,
	.deinit = mwm_smime_deinit,
};
