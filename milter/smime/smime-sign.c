/*
 * The detached CMS signature and the multipart/signed body (RFC 8551
 * 3.5.3, RFC 1847).  The canonical entity is written once: to a spool,
 * which becomes part of the new body, and through the CMS digest BIO at
 * the same time, so no second pass over the content is needed.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "mw-smime.h"

#define MW_SMIME_PREAMBLE \
	"This is a cryptographically signed message in MIME format.\r\n\r\n"

struct mw_smime_signed {
	char boundary[48];
	char content_type[256];
	char *head, *tail;	/* before and after the entity */
	size_t head_len, tail_len;
	struct mw_smime_spool *entity;
	uint64_t pos;		/* read position in the whole body */
};

/* Where the canonicaliser's output goes. */
struct mw_smime_sink {
	struct mw_smime_spool *spool;
	BIO *digest;
	char error[256];
};

/* A growing string, for the signature part. */
struct mw_smime_buf {
	char *data;
	size_t len, alloc;
};

const char *mw_smime_micalg(const char *digest)
{
	if (strcmp(digest, "sha256") == 0)
		return "sha-256";
	if (strcmp(digest, "sha384") == 0)
		return "sha-384";
	if (strcmp(digest, "sha512") == 0)
		return "sha-512";
	return NULL;
}

static void mw_smime_openssl_error(char *error, size_t error_size,
				   const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(error, error_size, "%s: %s", what, e != 0 ? buf : "failed");
	ERR_clear_error();
}

static int mw_smime_sink_write(void *ctx, const void *data, size_t size)
{
	struct mw_smime_sink *sink = ctx;

	if (mw_smime_spool_write(sink->spool, data, size, sink->error,
				 sizeof(sink->error)) < 0)
		return -1;
	if (size > 0 && BIO_write(sink->digest, data, (int)size) != (int)size) {
		snprintf(sink->error, sizeof(sink->error),
			 "digesting the signed entity failed");
		return -1;
	}
	return 0;
}

static int mw_smime_buf_write(void *ctx, const void *data, size_t size)
{
	struct mw_smime_buf *buf = ctx;

	if (buf->len + size + 1 > buf->alloc) {
		size_t alloc = buf->alloc == 0 ? 4096 : buf->alloc;
		char *p;

		while (alloc < buf->len + size + 1)
			alloc *= 2;
		p = realloc(buf->data, alloc);
		if (p == NULL)
			return -1;
		buf->data = p;
		buf->alloc = alloc;
	}
	memcpy(buf->data + buf->len, data, size);
	buf->len += size;
	buf->data[buf->len] = '\0';
	return 0;
}

static int mw_smime_buf_str(struct mw_smime_buf *buf, const char *str)
{
	return mw_smime_buf_write(buf, str, strlen(str));
}

/* A boundary made of characters RFC 2046 5.1.1 allows; "=_" cannot occur
   in quoted-printable or base64 text, and 128 random bits make a clash
   with copied text a matter of intent, which the caller checks for. */
static int mw_smime_new_boundary(char *buf, size_t size)
{
	unsigned char rnd[16];
	size_t i;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	snprintf(buf, size, "=_mw_");
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(buf + 5 + 2 * i, size - 5 - 2 * i, "%02x", rnd[i]);
	return 0;
}

/* True if some line of the entity starts with "--" boundary. */
static int mw_smime_entity_has_boundary(const struct mw_smime_spool *entity,
					const char *boundary, bool *found_r,
					char *error, size_t error_size)
{
	struct mw_smime_reader *reader = malloc(sizeof(*reader));
	struct mw_smime_line line;
	size_t blen = strlen(boundary);
	int ret;

	*found_r = false;
	if (reader == NULL) {
		snprintf(error, error_size, "out of memory");
		return -1;
	}
	mw_smime_reader_init(reader, entity, 0, mw_smime_spool_size(entity));
	while ((ret = mw_smime_reader_next(reader, &line, error,
					   error_size)) > 0) {
		if (!line.continued && line.len >= blen + 2 &&
		    memcmp(line.data, "--", 2) == 0 &&
		    memcmp(line.data + 2, boundary, blen) == 0) {
			*found_r = true;
			break;
		}
	}
	free(reader);
	return ret < 0 ? -1 : 0;
}

/* The content encryption algorithms we would accept, most preferred
   first, as RFC 8551 2.7 recommends them; AES-GCM takes no parameters
   here. */
static int mw_smime_add_capabilities(CMS_SignerInfo *si)
{
	static const int nids[] = {
		NID_aes_256_gcm, NID_aes_128_gcm, NID_aes_256_cbc,
		NID_aes_128_cbc,
	};
	STACK_OF(X509_ALGOR) *caps = NULL;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < sizeof(nids) / sizeof(nids[0]) && ret == 0; i++) {
		if (CMS_add_simple_smimecap(&caps, nids[i], -1) != 1)
			ret = -1;
	}
	if (ret == 0 && CMS_add_smimecap(si, caps) != 1)
		ret = -1;
	sk_X509_ALGOR_pop_free(caps, X509_ALGOR_free);
	return ret;
}

/* Writes the canonical entity to the spool and through the digest of a
   partial CMS structure, then completes the signature. */
static CMS_ContentInfo *
mw_smime_cms_sign(const struct mw_smime_sign_params *params,
		  const struct mw_smime_header *headers,
		  unsigned int header_count, const struct mw_smime_spool *body,
		  struct mw_smime_signed *sig, char *error, size_t error_size)
{
	/* CMS_BINARY: the entity is canonical already, OpenSSL must not
	   translate line ends; CMS_PARTIAL: the signer is added below with
	   the digest the policy names. */
	const unsigned int flags = CMS_DETACHED | CMS_BINARY | CMS_PARTIAL;
	struct mw_smime_sink sink = { .spool = sig->entity };
	const struct mw_smime_key *key = params->key;
	const EVP_MD *md = EVP_get_digestbyname(params->digest);
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;
	bool seen = false;

	if (md == NULL || mw_smime_micalg(params->digest) == NULL) {
		snprintf(error, error_size, "unsupported digest %s",
			 params->digest);
		return NULL;
	}
	cms = CMS_sign(NULL, NULL, key->chain, NULL, flags);
	if (cms == NULL) {
		mw_smime_openssl_error(error, error_size, "CMS_sign");
		return NULL;
	}
	/* The signer's certificate goes in with it; signing time is a
	   signed attribute by default (RFC 8551 2.5.1), SMIMECapabilities
	   are ours (2.5.2): OpenSSL's default list offers DES, RC2 and
	   3DES. */
	si = CMS_add1_signer(cms, key->cert, key->pkey, md,
			     CMS_BINARY | CMS_NOSMIMECAP);
	if (si == NULL || mw_smime_add_capabilities(si) < 0) {
		mw_smime_openssl_error(error, error_size, "CMS_add1_signer");
		CMS_ContentInfo_free(cms);
		return NULL;
	}
	sink.digest = CMS_dataInit(cms, NULL);
	if (sink.digest == NULL) {
		mw_smime_openssl_error(error, error_size, "CMS_dataInit");
		CMS_ContentInfo_free(cms);
		return NULL;
	}
	if (mw_smime_canon(headers, header_count, body, mw_smime_sink_write,
			   &sink, sig->boundary, &seen, NULL,
			   error, error_size) < 0) {
		if (sink.error[0] != '\0')
			snprintf(error, error_size, "%s", sink.error);
		BIO_free_all(sink.digest);
		CMS_ContentInfo_free(cms);
		return NULL;
	}
	if (CMS_dataFinal(cms, sink.digest) != 1) {
		mw_smime_openssl_error(error, error_size, "CMS_dataFinal");
		BIO_free_all(sink.digest);
		CMS_ContentInfo_free(cms);
		return NULL;
	}
	BIO_free_all(sink.digest);

	/* The boundary must not start a line of the entity (RFC 2046
	   5.1.1); draw again until it does not. */
	while (seen) {
		if (mw_smime_new_boundary(sig->boundary,
					  sizeof(sig->boundary)) < 0 ||
		    mw_smime_entity_has_boundary(sig->entity, sig->boundary,
						 &seen, error, error_size) < 0) {
			if (error[0] == '\0')
				snprintf(error, error_size, "RAND_bytes failed");
			CMS_ContentInfo_free(cms);
			return NULL;
		}
	}
	return cms;
}

/* The signature part and the close delimiter. */
static int mw_smime_build_tail(struct mw_smime_signed *sig,
			       CMS_ContentInfo *cms, char *error,
			       size_t error_size)
{
	struct mw_smime_buf buf = { 0 };
	struct mw_smime_b64 b64;
	unsigned char *der = NULL;
	int der_len;

	der_len = i2d_CMS_ContentInfo(cms, &der);
	if (der_len <= 0) {
		mw_smime_openssl_error(error, error_size, "i2d_CMS_ContentInfo");
		return -1;
	}
	mw_smime_b64_init(&b64, mw_smime_buf_write, &buf);
	if (mw_smime_buf_str(&buf, "\r\n--") < 0 ||
	    mw_smime_buf_str(&buf, sig->boundary) < 0 ||
	    mw_smime_buf_str(&buf, "\r\n"
		"Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n"
		"Content-Transfer-Encoding: base64\r\n"
		"Content-Disposition: attachment; filename=\"smime.p7s\"\r\n"
		"Content-Description: S/MIME Cryptographic Signature\r\n"
		"\r\n") < 0 ||
	    mw_smime_b64_update(&b64, der, (size_t)der_len) < 0 ||
	    mw_smime_b64_final(&b64) < 0 ||
	    mw_smime_buf_str(&buf, "--") < 0 ||
	    mw_smime_buf_str(&buf, sig->boundary) < 0 ||
	    mw_smime_buf_str(&buf, "--\r\n") < 0) {
		OPENSSL_free(der);
		free(buf.data);
		snprintf(error, error_size, "out of memory");
		return -1;
	}
	OPENSSL_free(der);
	sig->tail = buf.data;
	sig->tail_len = buf.len;
	return 0;
}

int mw_smime_sign(const struct mw_smime_sign_params *params,
		  const struct mw_smime_header *headers,
		  unsigned int header_count,
		  const struct mw_smime_spool *body,
		  struct mw_smime_signed **signed_r,
		  char *error, size_t error_size)
{
	struct mw_smime_signed *sig;
	CMS_ContentInfo *cms;
	int len;

	error[0] = '\0';
	sig = calloc(1, sizeof(*sig));
	if (sig == NULL) {
		snprintf(error, error_size, "out of memory");
		return -1;
	}
	sig->entity = mw_smime_spool_new(params->spool_threshold,
					 params->tmpdir);
	if (sig->entity == NULL ||
	    mw_smime_new_boundary(sig->boundary, sizeof(sig->boundary)) < 0) {
		snprintf(error, error_size, "out of memory");
		mw_smime_signed_free(&sig);
		return -1;
	}
	cms = mw_smime_cms_sign(params, headers, header_count, body, sig,
				error, error_size);
	if (cms == NULL) {
		mw_smime_signed_free(&sig);
		return -1;
	}
	if (mw_smime_build_tail(sig, cms, error, error_size) < 0) {
		CMS_ContentInfo_free(cms);
		mw_smime_signed_free(&sig);
		return -1;
	}
	CMS_ContentInfo_free(cms);

	len = asprintf(&sig->head, MW_SMIME_PREAMBLE "--%s\r\n", sig->boundary);
	if (len < 0) {
		sig->head = NULL;
		snprintf(error, error_size, "out of memory");
		mw_smime_signed_free(&sig);
		return -1;
	}
	sig->head_len = (size_t)len;
	snprintf(sig->content_type, sizeof(sig->content_type),
		 "multipart/signed; protocol=\"application/pkcs7-signature\";"
		 "\n\tmicalg=%s; boundary=\"%s\"",
		 mw_smime_micalg(params->digest), sig->boundary);
	*signed_r = sig;
	return 0;
}

void mw_smime_signed_free(struct mw_smime_signed **_sig)
{
	struct mw_smime_signed *sig = *_sig;

	if (sig == NULL)
		return;
	*_sig = NULL;
	mw_smime_spool_free(&sig->entity);
	free(sig->head);
	free(sig->tail);
	free(sig);
}

const char *mw_smime_signed_content_type(const struct mw_smime_signed *sig)
{
	return sig->content_type;
}

uint64_t mw_smime_signed_body_size(const struct mw_smime_signed *sig)
{
	return sig->head_len + mw_smime_spool_size(sig->entity) + sig->tail_len;
}

int mw_smime_signed_read(struct mw_smime_signed *sig, void *buf, size_t size,
			 size_t *len_r, char *error, size_t error_size)
{
	uint64_t entity_size = mw_smime_spool_size(sig->entity);
	uint64_t pos = sig->pos;
	size_t n = 0;

	if (pos < sig->head_len) {
		n = sig->head_len - (size_t)pos;
		if (n > size)
			n = size;
		memcpy(buf, sig->head + pos, n);
	} else if (pos < sig->head_len + entity_size) {
		if (mw_smime_spool_pread(sig->entity, pos - sig->head_len,
					 buf, size, &n, error, error_size) < 0)
			return -1;
	} else if (pos < sig->head_len + entity_size + sig->tail_len) {
		size_t off = (size_t)(pos - sig->head_len - entity_size);

		n = sig->tail_len - off;
		if (n > size)
			n = size;
		memcpy(buf, sig->tail + off, n);
	}
	sig->pos += n;
	*len_r = n;
	return 0;
}
