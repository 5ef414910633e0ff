/*
 * Unit tests of encryption: the certificate sources (directory, table),
 * the checks a recipient's certificate must pass, the choice among
 * several and among sources (a failing one included), and a round trip
 * through the streamed encryption.  unit-smimeenc PKIDIR, where PKIDIR
 * is what make-enc-pki.sh made.  Prints TAP.
 */

#include <stdarg.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "msgfile.h"
#include "mw-smime-enc.h"
#include "pemfile.h"

static unsigned int test_n, test_failed;
static const char *pki;

static void check(bool ok, const char *fmt, ...)
{
	va_list args;

	printf("%sok %u - ", ok ? "" : "not ", ++test_n);
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	putchar('\n');
	if (!ok)
		test_failed++;
}

static X509 *cert(const char *name)
{
	return pem_cert(pki, name);
}

static EVP_PKEY *key(const char *name)
{
	return pem_key(pki, name);
}

static unsigned int warnings;
static void warn(void *ctx, const char *msg)
{
	warnings++;
}

/* A source whose every lookup fails, like a directory server down. */
static int failing_lookup(struct mw_smime_certsrc *src, const char *address,
			  STACK_OF(X509) **certs_r, char *error,
			  size_t error_size)
{
	*certs_r = NULL;
	snprintf(error, error_size, "server down");
	return -1;
}
static void failing_free(struct mw_smime_certsrc *src)
{
}
static struct mw_smime_certsrc failing = {
	.name = "failing", .lookup = failing_lookup, .free = failing_free,
};

/* The reason cert NAME gives for ADDRESS, or "" if it is usable. */
static const char *reason_for(X509_STORE *trust, STACK_OF(X509) *untrusted,
			      const char *name, const char *address,
			      char *buf, size_t size)
{
	X509 *x = cert(name);
	const char *r;

	if (x == NULL)
		return "(no certificate)";
	r = mw_smime_recip_check(trust, untrusted, x, address, buf, size);
	X509_free(x);
	return r != NULL ? r : "";
}

static void test_checks(X509_STORE *trust)
{
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	char buf[256];

	sk_X509_push(untrusted, cert("inter"));
	check(strcmp(reason_for(trust, untrusted, "rachel2", "rachel@example.com",
				buf, sizeof(buf)), "") == 0,
	      "an RSA keyEncipherment certificate through the intermediate is usable");
	check(strcmp(reason_for(trust, untrusted, "erin", "Erin@EXAMPLE.com",
				buf, sizeof(buf)), "") == 0,
	      "an EC keyAgreement certificate is usable, the address in any case");
	check(strstr(reason_for(trust, NULL, "rachel2", "rachel@example.com",
				buf, sizeof(buf)), "issuer") != NULL,
	      "without the intermediate the chain does not build: %s", buf);
	check(strcmp(reason_for(trust, untrusted, "rachel2", "erin@example.com",
				buf, sizeof(buf)), "does not name erin@example.com") == 0,
	      "a certificate for another address: %s", buf);
	check(strstr(reason_for(trust, untrusted, "sigonly", "sigonly@example.com",
				buf, sizeof(buf)), "keyEncipherment") != NULL,
	      "digitalSignature only: %s", buf);
	check(strstr(reason_for(trust, untrusted, "alice", "alice@example.org",
				buf, sizeof(buf)), "keyEncipherment") != NULL,
	      "the signing certificate cannot take encryption: %s", buf);
	check(strstr(reason_for(trust, untrusted, "noemail", "noemail@example.com",
				buf, sizeof(buf)), "emailProtection") != NULL,
	      "serverAuth only: %s", buf);
	check(strcmp(reason_for(trust, untrusted, "old", "old@example.com",
				buf, sizeof(buf)), "expired") == 0,
	      "expired: %s", buf);
	check(strstr(reason_for(trust, untrusted, "stranger", "stranger@example.com",
				buf, sizeof(buf)), "self-signed") != NULL,
	      "self-signed, not under the trust anchor: %s", buf);
	sk_X509_pop_free(untrusted, X509_free);
}

static enum mw_smime_select_result
select_cn(X509_STORE *trust, struct mw_smime_certsrc *const *sources,
	  unsigned int count, const char *address, char *cn, size_t size)
{
	enum mw_smime_select_result res;
	const char *source;
	char error[256];
	X509 *x;

	cn[0] = '\0';
	res = mw_smime_recip_select(trust, sources, count, address, NULL, NULL,
				    &x, &source, error, sizeof(error));
	if (res == MW_SMIME_SELECT_FOUND) {
		X509_NAME_get_text_by_NID(X509_get_subject_name(x),
					  NID_commonName, cn, (int)size);
		X509_free(x);
	}
	return res;
}

static void test_sources(X509_STORE *trust)
{
	struct mw_smime_certsrc *dir = NULL, *table = NULL, *srcs[3];
	STACK_OF(X509) *certs = NULL;
	char path[1024], error[512], cn[64];
	int ret;

	snprintf(path, sizeof(path), "%s/certs", pki);
	check(mw_smime_certsrc_file_open(path, warn, NULL, &dir, error,
					 sizeof(error)) == 0,
	      "the directory source loads");
	check(mw_smime_certsrc_file_count(dir) == 9,
	      "it indexes the 9 certificates that name an address (the intermediate is kept for chains): %u",
	      mw_smime_certsrc_file_count(dir));
	ret = dir->lookup(dir, "RACHEL@example.COM", &certs, error, sizeof(error));
	check(ret == 1 && sk_X509_num(certs) == 2,
	      "rachel has two certificates there, found in any case");
	sk_X509_pop_free(certs, X509_free);
	check(dir->lookup(dir, "nobody@example.com", &certs, error,
			  sizeof(error)) == 0 && certs == NULL,
	      "nobody has none");
	snprintf(path, sizeof(path), "%s/certs.table", pki);
	check(mw_smime_certsrc_file_open(path, warn, NULL, &table, error,
					 sizeof(error)) == 0 &&
	      mw_smime_certsrc_file_count(table) == 2,
	      "the table source loads its two entries");
	srcs[0] = dir;
	srcs[1] = table;
	check(select_cn(trust, srcs, 2, "rachel@example.com", cn, sizeof(cn)) ==
	      MW_SMIME_SELECT_FOUND && strcmp(cn, "rachel2") == 0,
	      "of two usable certificates the one valid longer: %s", cn);
	check(select_cn(trust, srcs, 2, "brad@example.com", cn, sizeof(cn)) ==
	      MW_SMIME_SELECT_FOUND && strcmp(cn, "brad") == 0,
	      "the table's entry (spelled Brad@Example.COM), its chain from the same file");
	check(select_cn(trust, srcs, 2, "sigonly@example.com", cn, sizeof(cn)) ==
	      MW_SMIME_SELECT_NONE, "no usable certificate: none");
	srcs[0] = &failing;
	srcs[1] = dir;
	check(select_cn(trust, srcs, 2, "erin@example.com", cn, sizeof(cn)) ==
	      MW_SMIME_SELECT_FOUND && strcmp(cn, "erin") == 0,
	      "a failing source before a good one: the good one answers");
	check(select_cn(trust, srcs, 2, "nobody@example.com", cn, sizeof(cn)) ==
	      MW_SMIME_SELECT_FAILED,
	      "no certificate anywhere and a source failed: failed, not none");
	check(mw_smime_certsrc_file_open("/nonexistent/certs", warn, NULL,
					 &srcs[2], error, sizeof(error)) < 0 &&
	      strstr(error, "/nonexistent/certs") != NULL,
	      "a missing source fails the load, named: %s", error);
	mw_smime_certsrc_free(&dir);
	mw_smime_certsrc_free(&table);
}

struct membuf {
	unsigned char *data;
	size_t len;
};

static int plain_entity(void *ctx, mw_smime_write_fn *write, void *write_ctx,
			char *error, size_t error_size)
{
	const struct membuf *m = ctx;

	return write(write_ctx, m->data, m->len);
}

/* Encrypts size bytes to rachel2 and erin, decrypts with each key. */
static void test_round_trip(const char *cipher, bool oaep, size_t size)
{
	struct mw_smime_enc_params params = {
		.cipher = cipher, .rsa_oaep = oaep,
		.spool_threshold = 64 * 1024, .tmpdir = "/tmp",
	};
	const char *names[] = { "rachel2", "erin" };
	struct membuf in = { malloc(size), size };
	struct mw_smime_encrypted *enc = NULL;
	unsigned char *b64 = NULL;
	char error[512], buf[65536];
	size_t len, total = 0;
	unsigned int i;
	bool ok;

	for (i = 0; i < size; i++)
		in.data[i] = (unsigned char)("0123456789abcdef\r\n"[i % 18]);
	params.recipients = sk_X509_new_null();
	sk_X509_push(params.recipients, cert("rachel2"));
	sk_X509_push(params.recipients, cert("erin"));
	ok = mw_smime_encrypt(&params, plain_entity, &in, &enc, error,
			      sizeof(error)) == 0;
	check(ok, "%s %s, %zu bytes: encrypted%s%s", cipher,
	      oaep ? "OAEP" : "PKCS#1", size, ok ? "" : ": ", ok ? "" : error);
	if (!ok)
		goto out;
	check(strstr(mw_smime_encrypted_content_type(enc),
		     strstr(cipher, "gcm") != NULL ? "smime-type=authEnveloped-data" :
		     "smime-type=enveloped-data") != NULL,
	      "%s: the smime-type fits", cipher);
	b64 = malloc(mw_smime_encrypted_body_size(enc) + 1);
	while (mw_smime_encrypted_read(enc, buf, sizeof(buf), &len, error,
				       sizeof(error)) == 0 && len > 0) {
		memcpy(b64 + total, buf, len);
		total += len;
	}
	for (i = 0; i < 2; i++) {
		BIO *bin = BIO_new_mem_buf(b64, (int)total);
		BIO *b64f = BIO_new(BIO_f_base64());
		BIO *out = BIO_new(BIO_s_mem());
		CMS_ContentInfo *cms;
		EVP_PKEY *k = key(names[i]);
		X509 *x = cert(names[i]);
		char *data;
		long dlen;

		bin = BIO_push(b64f, bin);
		cms = d2i_CMS_bio(bin, NULL);
		ok = cms != NULL &&
			CMS_decrypt(cms, k, x, NULL, out, CMS_BINARY) == 1;
		dlen = BIO_get_mem_data(out, &data);
		check(ok && (size_t)dlen == size && memcmp(data, in.data, size) == 0,
		      "%s: %s's key gives the content back", cipher, names[i]);
		ERR_clear_error();
		CMS_ContentInfo_free(cms);
		BIO_free_all(bin);
		BIO_free(out);
		EVP_PKEY_free(k);
		X509_free(x);
	}
out:
	free(b64);
	free(in.data);
	mw_smime_encrypted_free(&enc);
	sk_X509_pop_free(params.recipients, X509_free);
}

int main(int argc, char **argv)
{
	X509_STORE *trust = NULL;
	char path[1024], error[512];

	if (argc != 2) {
		fprintf(stderr, "usage: unit-smimeenc PKIDIR\n");
		return 2;
	}
	pki = argv[1];
	snprintf(path, sizeof(path), "%s/root.pem", pki);
	check(mw_smime_trust_load(path, &trust, error, sizeof(error)) == 0,
	      "the trust anchor loads");
	check(mw_smime_trust_load("/nonexistent.pem", &trust, error,
				  sizeof(error)) < 0, "a missing one fails: %s", error);
	test_checks(trust);
	test_sources(trust);
	test_round_trip("aes-256-gcm", true, 1000);
	test_round_trip("aes-128-cbc", false, 300 * 1024);
	test_round_trip("aes-256-gcm", true, 3 * 1024 * 1024 + 7);
	X509_STORE_free(trust);
	return test_failed == 0 ? 0 : 1;
}
