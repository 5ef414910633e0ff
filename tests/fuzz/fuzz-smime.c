/*
 * libFuzzer target: any bytes as a message, split into header fields and
 * body the way Postfix hands them to the milter, then canonicalised and
 * signed by the S/MIME engine.  Nothing may crash, leak or read out of
 * bounds, and the results must keep the engine's promises:
 *
 *  - the signed entity has CRLF line ends only, no NUL and no line over
 *    998 characters; outside header fields (which are copied as they
 *    came) it is 7-bit; a line ending in white space is one copied from
 *    the input, never one the encoders made;
 *  - the boundary check reports exactly the lines that start with the
 *    boundary;
 *  - the entity is canonical already: canonicalising it again changes
 *    nothing;
 *  - signing fails exactly when canonicalising does, with the same error,
 *    and its body is the preamble, the entity (the same bytes, whether
 *    the message was spooled in memory or in a file), and a detached
 *    signature over the entity that verifies.
 *
 * The signing key is an EC P-256 key with a self-signed certificate made
 * at start-up, so no key files are needed.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "mw-smime.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* As many fields as the milter takes (MWM_SMIME_MAX_HEADERS). */
#define FUZZ_MAX_HEADERS 1000
#define FUZZ_ADDRESS "fuzz@example.org"
/* Made like the engine's own boundaries: "=_" never occurs in
   quoted-printable or base64 text. */
#define FUZZ_AVOID "=_fuzz"
#define FUZZ_MAX_LINE 998

static struct mw_smime_key *fuzz_key;
/* Where spools over their threshold go.  The engine unlinks its files at
   once, so nothing is left behind however the fuzzer ends. */
static const char *fuzz_tmpdir;

struct fuzz_buf {
	unsigned char *data;
	size_t len, alloc;
};

struct fuzz_msg {
	struct mw_smime_header headers[FUZZ_MAX_HEADERS];
	unsigned int header_count;
	const unsigned char *body;
	size_t body_size;
};

static void __attribute__((noreturn))
fuzz_fail(const char *what, const void *data, size_t len)
{
	fprintf(stderr, "fuzz-smime: %s", what);
	if (data != NULL) {
		fputs(": \"", stderr);
		fwrite(data, 1, len > 200 ? 200 : len, stderr);
		fputs(len > 200 ? "\"..." : "\"", stderr);
	}
	fputc('\n', stderr);
	abort();
}

static void __attribute__((noreturn)) fuzz_openssl_fail(const char *what)
{
	ERR_print_errors_fp(stderr);
	fuzz_fail(what, NULL, 0);
}

/* --- the key -------------------------------------------------------------- */

static void fuzz_add_ext(X509 *cert, X509V3_CTX *v3, int nid,
			 const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, v3, nid, value);

	if (ext == NULL || X509_add_ext(cert, ext, -1) != 1)
		fuzz_openssl_fail("adding a certificate extension failed");
	X509_EXTENSION_free(ext);
}

/* A certificate the engine's key checks accept: valid now, may sign
   mail, names FUZZ_ADDRESS. */
static X509 *fuzz_make_cert(EVP_PKEY *pkey)
{
	X509 *cert = X509_new();
	X509_NAME *name;
	X509V3_CTX v3;

	if (cert == NULL || X509_set_version(cert, X509_VERSION_3) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(cert), 7 * 86400) == NULL ||
	    X509_set_pubkey(cert, pkey) != 1)
		fuzz_openssl_fail("making the certificate failed");
	name = X509_get_subject_name(cert);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				       (const unsigned char *)"fuzz", -1, -1,
				       0) != 1 ||
	    X509_set_issuer_name(cert, name) != 1)
		fuzz_openssl_fail("naming the certificate failed");
	X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
	fuzz_add_ext(cert, &v3, NID_basic_constraints, "critical,CA:FALSE");
	fuzz_add_ext(cert, &v3, NID_key_usage, "critical,digitalSignature");
	fuzz_add_ext(cert, &v3, NID_ext_key_usage, "emailProtection");
	fuzz_add_ext(cert, &v3, NID_subject_alt_name, "email:" FUZZ_ADDRESS);
	if (X509_sign(cert, pkey, EVP_sha256()) <= 0)
		fuzz_openssl_fail("signing the certificate failed");
	return cert;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct mw_smime_key *key = calloc(1, sizeof(*key));

	if (key == NULL || (key->address = strdup(FUZZ_ADDRESS)) == NULL ||
	    (key->chain = sk_X509_new_null()) == NULL)
		fuzz_fail("out of memory", NULL, 0);
	key->pkey = EVP_EC_gen("P-256");
	if (key->pkey == NULL)
		fuzz_openssl_fail("EC key generation failed");
	key->cert = fuzz_make_cert(key->pkey);
	/* What mw_smime_key_load() would check of a key file. */
	if (X509_check_private_key(key->cert, key->pkey) != 1 ||
	    X509_check_purpose(key->cert, X509_PURPOSE_SMIME_SIGN, 0) != 1 ||
	    !mw_smime_key_names(key, FUZZ_ADDRESS))
		fuzz_openssl_fail("the generated key fails the key checks");
	fuzz_key = key;

	fuzz_tmpdir = getenv("TMPDIR");
	if (fuzz_tmpdir == NULL || fuzz_tmpdir[0] == '\0')
		fuzz_tmpdir = "/tmp";
	return 0;
}

/* --- splitting a message ------------------------------------------------- */

static size_t fuzz_line_end(const unsigned char *data, size_t size,
			    size_t pos)
{
	const unsigned char *lf = memchr(data + pos, '\n', size - pos);

	return lf == NULL ? size : (size_t)(lf - data) + 1;
}

static bool fuzz_is_name_char(unsigned char c)
{
	return c > 32 && c < 127 && c != ':';
}

static void fuzz_msg_free(struct fuzz_msg *m)
{
	unsigned int i;

	for (i = 0; i < m->header_count; i++) {
		free((char *)m->headers[i].name);
		free((char *)m->headers[i].value);
	}
	m->header_count = 0;
}

/* Splits data as Postfix's cleanup and milter client do: header fields
   up to an empty line or the first line that is not a field (which then
   starts the body); a value without the white space after the colon,
   with folds as "\n" + white space, CRs only where they were not part of
   a line end, ending at a NUL as a C string does.  Returns -1 when the
   milter would not sign (too many fields) or would leave the message
   alone (already signed or encrypted). */
static int fuzz_split(const unsigned char *data, size_t size,
		      struct fuzz_msg *m)
{
	size_t pos = 0;
	unsigned int n;

	m->header_count = 0;
	while (pos < size) {
		size_t start = pos, name_end, colon, vstart, i, o;
		char *name, *value;

		if (data[pos] == '\n' ||
		    (data[pos] == '\r' && pos + 1 < size && data[pos + 1] == '\n')) {
			pos += data[pos] == '\r' ? 2 : 1;
			break;
		}
		for (name_end = pos; name_end < size &&
		     fuzz_is_name_char(data[name_end]); name_end++)
			;
		for (colon = name_end; colon < size &&
		     (data[colon] == ' ' || data[colon] == '\t'); colon++)
			;
		if (name_end == pos || colon == size || data[colon] != ':')
			break;
		if (m->header_count == FUZZ_MAX_HEADERS) {
			fuzz_msg_free(m);
			return -1;
		}
		do {
			pos = fuzz_line_end(data, size, pos);
		} while (pos < size && (data[pos] == ' ' || data[pos] == '\t'));

		vstart = colon + 1;
		while (vstart < pos && (data[vstart] == ' ' || data[vstart] == '\t'))
			vstart++;
		name = strndup((const char *)data + start, name_end - start);
		value = malloc(pos - vstart + 1);
		if (name == NULL || value == NULL)
			fuzz_fail("out of memory", NULL, 0);
		for (i = vstart, o = 0; i < pos && data[i] != '\0'; i++) {
			if (data[i] != '\r' || i + 1 == pos || data[i + 1] != '\n')
				value[o++] = (char)data[i];
		}
		while (o > 0 && value[o - 1] == '\n')
			o--;
		value[o] = '\0';
		m->headers[m->header_count].name = name;
		m->headers[m->header_count].value = value;
		m->header_count++;
	}
	m->body = data + pos;
	m->body_size = size - pos;

	for (n = 0; n < m->header_count; n++) {
		const struct mw_smime_header *h = &m->headers[n];
		struct mw_smime_ctype ct;

		mw_smime_ctype_init(&ct);
		if (strcasecmp(h->name, "Content-Type") == 0 &&
		    mw_smime_ctype_parse(&ct, h->value, strlen(h->value)) == 0 &&
		    mw_smime_ctype_is_protected(&ct)) {
			fuzz_msg_free(m);
			return -1;
		}
	}
	return 0;
}

/* --- output --------------------------------------------------------------- */

static int fuzz_buf_write(void *ctx, const void *data, size_t size)
{
	struct fuzz_buf *buf = ctx;

	if (buf->len + size > buf->alloc) {
		size_t alloc = buf->alloc == 0 ? 4096 : buf->alloc;

		while (alloc < buf->len + size)
			alloc *= 2;
		buf->data = realloc(buf->data, alloc);
		if (buf->data == NULL)
			fuzz_fail("out of memory", NULL, 0);
		buf->alloc = alloc;
	}
	memcpy(buf->data + buf->len, data, size);
	buf->len += size;
	return 0;
}

static struct mw_smime_spool *
fuzz_spool(const unsigned char *data, size_t size, size_t threshold)
{
	struct mw_smime_spool *spool = mw_smime_spool_new(threshold, fuzz_tmpdir);
	char error[256];

	if (spool == NULL)
		fuzz_fail("out of memory", NULL, 0);
	/* In two writes, so that a file spool also sees memory moved out. */
	if (mw_smime_spool_write(spool, data, size / 2, error,
				 sizeof(error)) < 0 ||
	    mw_smime_spool_write(spool, data + size / 2, size - size / 2,
				 error, sizeof(error)) < 0)
		fuzz_fail(error, NULL, 0);
	return spool;
}

static int fuzz_canon(const struct fuzz_msg *m, struct fuzz_buf *out,
		      bool *seen_r, char *error, size_t error_size)
{
	struct mw_smime_spool *body = fuzz_spool(m->body, m->body_size, SIZE_MAX);
	struct mw_smime_canon_stats stats;
	int ret;

	out->len = 0;
	*seen_r = false;
	ret = mw_smime_canon(m->headers, m->header_count, body, fuzz_buf_write,
			     out, FUZZ_AVOID, seen_r, &stats, error, error_size);
	mw_smime_spool_free(&body);
	if (ret == 0 && stats.reencoded > stats.parts)
		fuzz_fail("more parts re-encoded than there are", NULL, 0);
	return ret;
}

/* --- the entity's invariants --------------------------------------------- */

/* True if line (without its line end) is a line of the input, with any
   line end, as a line copied unchanged is. */
static bool fuzz_input_has_line(const unsigned char *in, size_t in_len,
				const unsigned char *line, size_t len)
{
	size_t pos = 0;

	while (pos < in_len) {
		size_t end = fuzz_line_end(in, in_len, pos), n = end - pos;

		/* The reader takes a CR only as part of CRLF. */
		if (in[end - 1] == '\n') {
			n--;
			if (n > 0 && in[pos + n - 1] == '\r')
				n--;
		}
		if (n == len && memcmp(in + pos, line, len) == 0)
			return true;
		pos = end;
	}
	return false;
}

static bool fuzz_is_header_shaped(const unsigned char *line, size_t len)
{
	return len > 0 && (line[0] == ' ' || line[0] == '\t' ||
			   memchr(line, ':', len) != NULL);
}

static void fuzz_check_entity(const struct fuzz_buf *out, bool seen,
			      const unsigned char *in, size_t in_len)
{
	const unsigned char *p = out->data;
	bool in_top_header = true, found = false;
	size_t pos = 0, i;

	while (pos < out->len) {
		const unsigned char *lf = memchr(p + pos, '\n', out->len - pos);
		const unsigned char *line = p + pos;
		size_t len, end;
		bool eight_bit = false;

		if (lf == NULL)
			fuzz_fail("entity does not end with a line end",
				  line, out->len - pos);
		end = (size_t)(lf - p);
		if (end == pos || p[end - 1] != '\r')
			fuzz_fail("bare LF in the entity", line, end - pos);
		len = end - 1 - pos;
		for (i = 0; i < len; i++) {
			if (line[i] == '\r')
				fuzz_fail("bare CR in the entity", line, len);
			if (line[i] == '\0')
				fuzz_fail("NUL in the entity", line, len);
			if (line[i] >= 0x80)
				eight_bit = true;
		}
		/* Inside the entity even header lines are body lines to
		   SMTP, which breaks longer ones (Postfix's
		   smtp_line_length_limit). */
		if (len > FUZZ_MAX_LINE)
			fuzz_fail("over-long line in the entity", line, len);
		/* Header fields come as they are, and 8-bit text in them
		   (RFC 6532) is left to 8BITMIME: the message header's
		   Content-* fields (up to the first empty line) and those
		   of body parts. */
		if (eight_bit && !in_top_header &&
		    !(fuzz_is_header_shaped(line, len) &&
		      fuzz_input_has_line(in, in_len, line, len)))
			fuzz_fail("8-bit data in the entity", line, len);
		/* Transports may strip white space at the end of a line, so
		   only lines copied from the input may have it (text parts
		   with it are re-encoded, RFC 2045 6.7 (3)). */
		if (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t') &&
		    !in_top_header && !fuzz_input_has_line(in, in_len, line, len))
			fuzz_fail("trailing white space made in the entity",
				  line, len);
		if (len == 0)
			in_top_header = false;
		if (len >= 2 + strlen(FUZZ_AVOID) && line[0] == '-' &&
		    line[1] == '-' &&
		    memcmp(line + 2, FUZZ_AVOID, strlen(FUZZ_AVOID)) == 0)
			found = true;
		pos = end + 1;
	}
	if (found != seen)
		fuzz_fail(seen ? "boundary reported but not in the entity" :
			  "boundary in the entity not reported", NULL, 0);
}

/* Canonicalising the entity again must give it back unchanged. */
static void fuzz_check_stable(const struct fuzz_buf *out)
{
	struct fuzz_msg *m = malloc(sizeof(*m));
	struct fuzz_buf again = { 0 };
	char error[256];
	bool seen;

	if (m == NULL)
		fuzz_fail("out of memory", NULL, 0);
	if (fuzz_split(out->data, out->len, m) < 0)
		fuzz_fail("the entity is not a message", out->data, out->len);
	if (fuzz_canon(m, &again, &seen, error, sizeof(error)) < 0)
		fuzz_fail(error, NULL, 0);
	if (again.len != out->len || memcmp(again.data, out->data, out->len) != 0) {
		size_t i;

		for (i = 0; i < again.len && i < out->len &&
		     again.data[i] == out->data[i]; i++)
			;
		fprintf(stderr, "fuzz-smime: entity changes at offset %zu\n", i);
		fuzz_fail("canonicalising the entity again changes it",
			  again.data + i, again.len - i);
	}
	fuzz_msg_free(m);
	free(m);
	free(again.data);
}

/* --- signing -------------------------------------------------------------- */

static const unsigned char *fuzz_memmem(const struct fuzz_buf *b, size_t from,
					const char *s)
{
	if (from > b->len)
		return NULL;
	return memmem(b->data + from, b->len - from, s, strlen(s));
}

/* The DER of the signature part's base64 text. */
static CMS_ContentInfo *fuzz_decode_cms(const unsigned char *b64, size_t len)
{
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	unsigned char *der = malloc(len);
	const unsigned char *p;
	CMS_ContentInfo *cms;
	int n, total;

	if (ctx == NULL || der == NULL)
		fuzz_fail("out of memory", NULL, 0);
	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, der, &n, b64, (int)len) < 0)
		fuzz_fail("signature part is not base64", b64, len);
	total = n;
	if (EVP_DecodeFinal(ctx, der + total, &n) != 1)
		fuzz_fail("signature part is not base64", b64, len);
	total += n;
	p = der;
	cms = d2i_CMS_ContentInfo(NULL, &p, total);
	if (cms == NULL || p != der + total)
		fuzz_openssl_fail("the signature does not parse");
	EVP_ENCODE_CTX_free(ctx);
	free(der);
	return cms;
}

/* Checks the new body against the entity and verifies the signature. */
static void fuzz_check_signed(struct mw_smime_signed *sig,
			      const struct fuzz_buf *entity)
{
	const char *ct = mw_smime_signed_content_type(sig);
	const char *b = strstr(ct, "boundary=\"");
	struct fuzz_buf body = { 0 };
	unsigned char chunk[1000];
	char error[256], boundary[64], delim[100], close[100];
	const unsigned char *p, *b64;
	size_t len, blen, head_len, tail_start, pos;
	CMS_ContentInfo *cms;
	BIO *content;

	/* In pieces of an odd size, across the parts of the body. */
	do {
		if (mw_smime_signed_read(sig, chunk, sizeof(chunk), &len, error,
					 sizeof(error)) < 0)
			fuzz_fail(error, NULL, 0);
		fuzz_buf_write(&body, chunk, len);
	} while (len > 0);
	if (body.len != mw_smime_signed_body_size(sig))
		fuzz_fail("body size differs from what was read", NULL, 0);
	if (strncmp(ct, "multipart/signed;", 17) != 0 || b == NULL ||
	    (blen = strlen(b + 10)) < 2 || blen > sizeof(boundary) ||
	    b[10 + blen - 1] != '"')
		fuzz_fail("bad Content-Type", ct, strlen(ct));
	memcpy(boundary, b + 10, blen - 1);
	boundary[blen - 1] = '\0';
	blen--;
	snprintf(delim, sizeof(delim), "\r\n--%s\r\n", boundary);
	snprintf(close, sizeof(close), "--%s--\r\n", boundary);

	/* Preamble, delimiter, entity, delimiter, signature part, close
	   delimiter. */
	p = fuzz_memmem(&body, 0, delim);
	if (p == NULL)
		fuzz_fail("no first delimiter", body.data, body.len);
	head_len = (size_t)(p - body.data) + strlen(delim);
	tail_start = head_len + entity->len;
	if (body.len < tail_start ||
	    memcmp(body.data + head_len, entity->data, entity->len) != 0)
		fuzz_fail("the body does not hold the entity", NULL, 0);
	if (fuzz_memmem(&body, tail_start, delim) != body.data + tail_start)
		fuzz_fail("no delimiter after the entity", NULL, 0);
	if (body.len < tail_start + strlen(close) ||
	    memcmp(body.data + body.len - strlen(close), close,
		   strlen(close)) != 0)
		fuzz_fail("no close delimiter at the end", NULL, 0);
	/* RFC 2046 5.1.1: no line of the entity may start with the
	   boundary. */
	for (pos = 0; pos < entity->len; ) {
		p = memchr(entity->data + pos, '\n', entity->len - pos);
		if (entity->len - pos >= blen + 2 &&
		    memcmp(entity->data + pos, "--", 2) == 0 &&
		    memcmp(entity->data + pos + 2, boundary, blen) == 0)
			fuzz_fail("a line of the entity starts with the boundary",
				  entity->data + pos, entity->len - pos);
		pos = p == NULL ? entity->len : (size_t)(p - entity->data) + 1;
	}

	b64 = fuzz_memmem(&body, tail_start + strlen(delim), "\r\n\r\n");
	if (b64 == NULL)
		fuzz_fail("no signature part", NULL, 0);
	b64 += 4;
	cms = fuzz_decode_cms(b64, (size_t)(body.data + body.len -
					    strlen(close) - b64));
	content = BIO_new_mem_buf(entity->data, (int)entity->len);
	if (content == NULL ||
	    CMS_verify(cms, NULL, NULL, content, NULL,
		       CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1)
		fuzz_openssl_fail("the signature does not verify");
	BIO_free(content);
	CMS_ContentInfo_free(cms);
	free(body.data);
}

static void fuzz_sign(const struct fuzz_msg *m, const struct fuzz_buf *entity,
		      int canon_ret, const char *canon_error)
{
	/* A small threshold: larger bodies and entities go to files. */
	struct mw_smime_sign_params params = {
		.key = fuzz_key,
		.digest = "sha256",
		.spool_threshold = 2048,
		.tmpdir = fuzz_tmpdir,
	};
	struct mw_smime_spool *body = fuzz_spool(m->body, m->body_size, 2048);
	struct mw_smime_signed *sig = NULL;
	char error[256];
	int ret;

	ret = mw_smime_sign(&params, m->headers, m->header_count, body, &sig,
			    error, sizeof(error));
	if (ret != canon_ret) {
		fprintf(stderr, "fuzz-smime: canonicalising: %s\n",
			canon_ret < 0 ? canon_error : "ok");
		fuzz_fail("signing and canonicalising disagree", error,
			  ret < 0 ? strlen(error) : 0);
	}
	if (ret < 0) {
		if (strcmp(error, canon_error) != 0)
			fuzz_fail("signing fails with another error", error,
				  strlen(error));
	} else {
		fuzz_check_signed(sig, entity);
		mw_smime_signed_free(&sig);
	}
	mw_smime_spool_free(&body);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static struct fuzz_msg m;
	struct fuzz_buf entity = { 0 };
	char error[256];
	bool seen;
	int ret;

	if (fuzz_split(data, size, &m) < 0)
		return 0;
	ret = fuzz_canon(&m, &entity, &seen, error, sizeof(error));
	if (ret == 0) {
		fuzz_check_entity(&entity, seen, data, size);
		fuzz_check_stable(&entity);
	}
	fuzz_sign(&m, &entity, ret, error);
	fuzz_msg_free(&m);
	free(entity.data);
	return 0;
}
