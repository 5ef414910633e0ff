/*
 * The encrypted message (RFC 8551 3.3): the entity goes through the CMS
 * encryption BIO as it is produced, and the DER that comes out goes
 * through base64 into a spool, so a 50 MB message never sits in memory
 * whole.  AES-GCM makes AuthEnvelopedData (RFC 5083, smime-type
 * authEnveloped-data, RFC 8551 3.4), AES-CBC EnvelopedData.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "mw-smime-enc.h"

/* The canonicaliser and the base64 encoder write a line at a time; the
   cipher and the spool get pieces of this size instead, as a call per
   line costs more than the encryption. */
#define MW_SMIME_ENC_BUF (64 * 1024)

struct mw_smime_encrypted {
	char content_type[160];
	struct mw_smime_spool *body;
	uint64_t pos;
	struct mw_smime_b64 b64;
	char error[256];	/* of the spool, seen through the BIO */
	unsigned char out[MW_SMIME_ENC_BUF];	/* base64 text for the spool */
	size_t out_len;
};

static BIO_METHOD *mw_smime_spool_method;
static pthread_once_t mw_smime_spool_method_once = PTHREAD_ONCE_INIT;

static void mw_smime_enc_openssl_error(char *error, size_t error_size,
				       const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(error, error_size, "%s: %s", what, e != 0 ? buf : "failed");
	ERR_clear_error();
}

static int mw_smime_enc_spool_flush(struct mw_smime_encrypted *enc)
{
	size_t len = enc->out_len;

	enc->out_len = 0;
	return len == 0 ? 0 : mw_smime_spool_write(enc->body, enc->out, len,
						   enc->error,
						   sizeof(enc->error));
}

static int mw_smime_enc_spool_write(void *ctx, const void *data, size_t size)
{
	struct mw_smime_encrypted *enc = ctx;

	if (enc->out_len + size > sizeof(enc->out) &&
	    mw_smime_enc_spool_flush(enc) < 0)
		return -1;
	if (size > sizeof(enc->out))
		return mw_smime_spool_write(enc->body, data, size, enc->error,
					    sizeof(enc->error));
	memcpy(enc->out + enc->out_len, data, size);
	enc->out_len += size;
	return 0;
}

/* A sink BIO: what CMS writes is base64-encoded into the spool. */
static int mw_smime_bio_write(BIO *bio, const char *data, int len)
{
	struct mw_smime_encrypted *enc = BIO_get_data(bio);

	if (len <= 0)
		return 0;
	if (mw_smime_b64_update(&enc->b64, data, (size_t)len) < 0)
		return -1;
	return len;
}

static long mw_smime_bio_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int mw_smime_bio_create(BIO *bio)
{
	BIO_set_init(bio, 1);
	return 1;
}

static void mw_smime_spool_method_init(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
				     "mailward spool");

	if (m == NULL)
		return;
	if (BIO_meth_set_write(m, mw_smime_bio_write) != 1 ||
	    BIO_meth_set_ctrl(m, mw_smime_bio_ctrl) != 1 ||
	    BIO_meth_set_create(m, mw_smime_bio_create) != 1) {
		BIO_meth_free(m);
		return;
	}
	mw_smime_spool_method = m;
}

/* The CMS structure with one RecipientInfo per certificate. */
static CMS_ContentInfo *mw_smime_enc_cms(const struct mw_smime_enc_params *params,
					 char *error, size_t error_size)
{
	const EVP_CIPHER *cipher = EVP_get_cipherbyname(params->cipher);
	CMS_ContentInfo *cms;
	int i;

	if (cipher == NULL) {
		snprintf(error, error_size, "unsupported cipher %s",
			 params->cipher);
		return NULL;
	}
	/* CMS_BINARY: the entity is canonical already; CMS_PARTIAL: the
	   recipients come below, with their key parameters. */
	cms = CMS_encrypt(NULL, NULL, cipher,
			  CMS_BINARY | CMS_PARTIAL | CMS_STREAM);
	if (cms == NULL) {
		mw_smime_enc_openssl_error(error, error_size, "CMS_encrypt");
		return NULL;
	}
	for (i = 0; i < sk_X509_num(params->recipients); i++) {
		X509 *x = sk_X509_value(params->recipients, i);
		bool rsa = EVP_PKEY_get_base_id(X509_get0_pubkey(x)) == EVP_PKEY_RSA;
		bool oaep = rsa && params->rsa_oaep;
		CMS_RecipientInfo *ri;
		EVP_PKEY_CTX *pctx;

		ri = CMS_add1_recipient_cert(cms, x, oaep ? CMS_KEY_PARAM : 0);
		if (ri == NULL) {
			mw_smime_enc_openssl_error(error, error_size,
						   "CMS_add1_recipient_cert");
			CMS_ContentInfo_free(cms);
			return NULL;
		}
		if (!oaep)
			continue;
		/* RSAES-OAEP (RFC 8551 2.3, RFC 3560) with SHA-256 and
		   MGF1-SHA-256, not the SHA-1 default. */
		pctx = CMS_RecipientInfo_get0_pkey_ctx(ri);
		if (pctx == NULL ||
		    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_oaep_md(pctx, EVP_sha256()) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) <= 0) {
			mw_smime_enc_openssl_error(error, error_size,
						   "RSA-OAEP parameters");
			CMS_ContentInfo_free(cms);
			return NULL;
		}
	}
	return cms;
}

struct mw_smime_enc_sink {
	BIO *bio;
	char error[128];
	size_t len;
	unsigned char buf[MW_SMIME_ENC_BUF];
};

static int mw_smime_enc_sink_flush(struct mw_smime_enc_sink *sink)
{
	int len = (int)sink->len;

	sink->len = 0;
	if (len > 0 && BIO_write(sink->bio, sink->buf, len) != len) {
		snprintf(sink->error, sizeof(sink->error),
			 "encrypting the entity failed");
		return -1;
	}
	return 0;
}

static int mw_smime_enc_sink_write(void *ctx, const void *data, size_t size)
{
	struct mw_smime_enc_sink *sink = ctx;

	if (sink->len + size > sizeof(sink->buf) &&
	    mw_smime_enc_sink_flush(sink) < 0)
		return -1;
	if (size > sizeof(sink->buf)) {
		if (BIO_write(sink->bio, data, (int)size) != (int)size) {
			snprintf(sink->error, sizeof(sink->error),
				 "encrypting the entity failed");
			return -1;
		}
		return 0;
	}
	memcpy(sink->buf + sink->len, data, size);
	sink->len += size;
	return 0;
}

/* Streams the entity through the CMS BIO; the DER comes out into the
   spool BIO below it as it is made. */
static int mw_smime_enc_stream(struct mw_smime_encrypted *enc,
			       CMS_ContentInfo *cms, mw_smime_entity_fn *entity,
			       void *entity_ctx, char *error, size_t error_size)
{
	struct mw_smime_enc_sink *sink = malloc(sizeof(*sink));
	BIO *out, *cms_bio, *next;
	int ret = 0;

	out = sink == NULL ? NULL : BIO_new(mw_smime_spool_method);
	if (out == NULL) {
		free(sink);
		snprintf(error, error_size, "out of memory");
		return -1;
	}
	BIO_set_data(out, enc);
	cms_bio = BIO_new_CMS(out, cms);
	if (cms_bio == NULL) {
		mw_smime_enc_openssl_error(error, error_size, "BIO_new_CMS");
		BIO_free(out);
		free(sink);
		return -1;
	}
	sink->bio = cms_bio;
	sink->error[0] = '\0';
	sink->len = 0;
	if (entity(entity_ctx, mw_smime_enc_sink_write, sink, error,
		   error_size) < 0 || mw_smime_enc_sink_flush(sink) < 0) {
		if (error[0] == '\0')
			snprintf(error, error_size, "%s", sink->error);
		ret = -1;
	} else if (BIO_flush(cms_bio) != 1) {
		/* The flush ends the content and writes the rest of the
		   structure: the authentication tag, for GCM. */
		mw_smime_enc_openssl_error(error, error_size, "finishing CMS");
		ret = -1;
	}
	if (ret < 0 && enc->error[0] != '\0')
		snprintf(error, error_size, "%s", enc->error);
	/* BIO_new_CMS() pushed its BIOs onto out: pop them off one by
	   one, as i2d_ASN1_bio_stream() does. */
	while (cms_bio != out) {
		next = BIO_pop(cms_bio);
		BIO_free(cms_bio);
		cms_bio = next;
	}
	BIO_free(out);
	free(sink);
	return ret;
}

int mw_smime_encrypt(const struct mw_smime_enc_params *params,
		     mw_smime_entity_fn *entity, void *entity_ctx,
		     struct mw_smime_encrypted **enc_r,
		     char *error, size_t error_size)
{
	struct mw_smime_encrypted *enc;
	CMS_ContentInfo *cms;
	bool auth;

	error[0] = '\0';
	pthread_once(&mw_smime_spool_method_once, mw_smime_spool_method_init);
	/* malloc, not calloc: the output buffer needs no zeroing. */
	if (mw_smime_spool_method == NULL || (enc = malloc(sizeof(*enc))) == NULL) {
		snprintf(error, error_size, "out of memory");
		return -1;
	}
	enc->content_type[0] = '\0';
	enc->body = NULL;
	enc->pos = 0;
	enc->error[0] = '\0';
	enc->out_len = 0;
	enc->body = mw_smime_spool_new(params->spool_threshold, params->tmpdir);
	if (enc->body == NULL) {
		snprintf(error, error_size, "out of memory");
		mw_smime_encrypted_free(&enc);
		return -1;
	}
	mw_smime_b64_init(&enc->b64, mw_smime_enc_spool_write, enc);
	cms = mw_smime_enc_cms(params, error, error_size);
	if (cms == NULL) {
		mw_smime_encrypted_free(&enc);
		return -1;
	}
	auth = OBJ_obj2nid(CMS_get0_type(cms)) == NID_id_smime_ct_authEnvelopedData;
	if (mw_smime_enc_stream(enc, cms, entity, entity_ctx, error,
				error_size) < 0 ||
	    mw_smime_b64_final(&enc->b64) < 0 ||
	    mw_smime_enc_spool_flush(enc) < 0) {
		if (error[0] == '\0')
			snprintf(error, error_size, "%s", enc->error);
		CMS_ContentInfo_free(cms);
		mw_smime_encrypted_free(&enc);
		return -1;
	}
	CMS_ContentInfo_free(cms);
	snprintf(enc->content_type, sizeof(enc->content_type),
		 "application/pkcs7-mime; smime-type=%s;\n\tname=\"smime.p7m\"",
		 auth ? "authEnveloped-data" : "enveloped-data");
	*enc_r = enc;
	return 0;
}

void mw_smime_encrypted_free(struct mw_smime_encrypted **_enc)
{
	struct mw_smime_encrypted *enc = *_enc;

	if (enc == NULL)
		return;
	*_enc = NULL;
	mw_smime_spool_free(&enc->body);
	free(enc);
}

const char *mw_smime_encrypted_content_type(const struct mw_smime_encrypted *enc)
{
	return enc->content_type;
}

uint64_t mw_smime_encrypted_body_size(const struct mw_smime_encrypted *enc)
{
	return mw_smime_spool_size(enc->body);
}

int mw_smime_encrypted_read(struct mw_smime_encrypted *enc, void *buf,
			    size_t size, size_t *len_r,
			    char *error, size_t error_size)
{
	if (mw_smime_spool_pread(enc->body, enc->pos, buf, size, len_r,
				 error, error_size) < 0)
		return -1;
	enc->pos += *len_r;
	return 0;
}

int mw_smime_entity_plain_write(void *ctx, mw_smime_write_fn *write,
				void *write_ctx, char *error, size_t error_size)
{
	const struct mw_smime_entity_plain *p = ctx;
	bool seen;

	return mw_smime_canon(p->headers, p->header_count, p->body, write,
			      write_ctx, "", &seen, NULL, error, error_size);
}

int mw_smime_entity_signed_write(void *ctx, mw_smime_write_fn *write,
				 void *write_ctx, char *error, size_t error_size)
{
	struct mw_smime_signed *sig = ctx;
	const char *ct = mw_smime_signed_content_type(sig), *p;
	unsigned char buf[64 * 1024];
	size_t len;

	/* The inner header: the multipart/signed Content-Type, its folds
	   as CRLF (the entity is canonical), then the signed body. */
	if (write(write_ctx, "Content-Type: ", 14) < 0)
		return -1;
	for (p = ct; *p != '\0'; p++) {
		if (*p == '\n' ? write(write_ctx, "\r\n", 2) < 0 :
		    write(write_ctx, p, 1) < 0)
			return -1;
	}
	if (write(write_ctx, "\r\n\r\n", 4) < 0)
		return -1;
	for (;;) {
		if (mw_smime_signed_read(sig, buf, sizeof(buf), &len, error,
					 error_size) < 0)
			return -1;
		if (len == 0)
			return 0;
		if (write(write_ctx, buf, len) < 0)
			return -1;
	}
}

int mw_smime_enc_header_edits(const struct mw_smime_header *headers,
			      unsigned int header_count,
			      const struct mw_smime_encrypted *enc,
			      mw_smime_edit_fn *fn, void *ctx)
{
	if (mw_smime_header_edits(headers, header_count, enc->content_type,
				  fn, ctx) < 0)
		return -1;
	if (fn(ctx, MW_SMIME_EDIT_ADD, "Content-Transfer-Encoding", 0,
	       "base64") < 0 ||
	    fn(ctx, MW_SMIME_EDIT_ADD, "Content-Disposition", 0,
	       "attachment; filename=\"smime.p7m\"") < 0 ||
	    fn(ctx, MW_SMIME_EDIT_ADD, "Content-Description", 0,
	       "S/MIME Encrypted Message") < 0)
		return -1;
	return 0;
}
