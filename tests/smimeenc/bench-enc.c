/*
 * bench-enc PKIDIR SIZE RECIPIENTS SECONDS [sign]: encrypted messages per
 * second for a message of SIZE bytes to RECIPIENTS certificates through
 * the engine (spool, canonicalisation, streamed CMS, base64 into a
 * spool), next to a bare CMS_encrypt() of the same entity bytes to the
 * same certificates (DER into memory) in the same run.  With "sign": the
 * engine signs first and encrypts the signed message; the bare side is
 * CMS_sign() then CMS_encrypt() of its output.
 *
 * With SECONDS 0: one message of SIZE bytes through the engine, fed in
 * 64 KB pieces as the milter receives it (1 MB spool threshold), and
 * the process's peak RSS.
 */

#include <sys/resource.h>
#include <time.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "msgfile.h"
#include "mw-smime-enc.h"
#include "pemfile.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* 7-bit text lines: the entity is then the body as it is, so both sides
   encrypt the same bytes. */
static char *make_body(size_t size)
{
	static const char line[] =
		"This is a line of benchmark text for the encryption engine.\r\n";
	char *body = malloc(size + sizeof(line));
	size_t len = 0;

	while (len < size) {
		memcpy(body + len, line, sizeof(line) - 1);
		len += sizeof(line) - 1;
	}
	body[len] = '\0';
	return body;
}

struct membuf {
	char *data;
	size_t len, alloc;
};

static int mem_write(void *ctx, const void *data, size_t size)
{
	struct membuf *m = ctx;

	if (m->len + size > m->alloc) {
		m->alloc = (m->len + size) * 2;
		if ((m->data = realloc(m->data, m->alloc)) == NULL)
			return -1;
	}
	memcpy(m->data + m->len, data, size);
	m->len += size;
	return 0;
}

struct run {
	struct mw_smime_enc_params params;
	struct mw_smime_sign_params sign;
	struct mw_smime_header headers[1];
	struct mw_smime_spool *body;
	bool do_sign;
};

static int engine_once(struct run *r, char *error, size_t error_size)
{
	struct mw_smime_entity_plain plain = {
		.headers = r->headers, .header_count = 1, .body = r->body,
	};
	struct mw_smime_encrypted *enc;
	struct mw_smime_signed *sig = NULL;
	char buf[65536];
	size_t len;
	int ret;

	if (r->do_sign) {
		if (mw_smime_sign(&r->sign, r->headers, 1, r->body, &sig,
				  error, error_size) < 0)
			return -1;
		ret = mw_smime_encrypt(&r->params, mw_smime_entity_signed_write,
				       sig, &enc, error, error_size);
	} else {
		ret = mw_smime_encrypt(&r->params, mw_smime_entity_plain_write,
				       &plain, &enc, error, error_size);
	}
	if (ret == 0) {
		/* The milter reads the new body back to send it. */
		while (mw_smime_encrypted_read(enc, buf, sizeof(buf), &len,
					       error, error_size) == 0 && len > 0)
			;
		mw_smime_encrypted_free(&enc);
	}
	mw_smime_signed_free(&sig);
	return ret;
}

static int bare_once(struct run *r, const char *entity, size_t len)
{
	BIO *in = BIO_new_mem_buf(entity, (int)len), *out = BIO_new(BIO_s_mem());
	const EVP_CIPHER *cipher = EVP_get_cipherbyname(r->params.cipher);
	CMS_ContentInfo *cms, *scms = NULL;
	int ret = -1;

	if (r->do_sign) {
		BIO *sout = BIO_new(BIO_s_mem());

		scms = CMS_sign(r->sign.key->cert, r->sign.key->pkey,
				r->sign.key->chain, in, CMS_DETACHED | CMS_BINARY);
		if (scms != NULL && i2d_CMS_bio(sout, scms) == 1) {
			/* The signed message: content and signature. */
			BIO_write(sout, entity, (int)len);
			BIO_free(in);
			in = sout;
		} else {
			BIO_free(sout);
		}
	}
	cms = CMS_encrypt(r->params.recipients, in, cipher, CMS_BINARY);
	if (cms != NULL && i2d_CMS_bio(out, cms) == 1)
		ret = 0;
	CMS_ContentInfo_free(cms);
	CMS_ContentInfo_free(scms);
	BIO_free(in);
	BIO_free(out);
	return ret;
}

int main(int argc, char **argv)
{
	static const char *names[] = {
		"rachel2", "erin", "brad", "outsider", "alice-enc",
	};
	struct run r = {
		.params = { .cipher = "aes-256-gcm", .rsa_oaep = false,
			    .spool_threshold = 1024 * 1024, .tmpdir = "/tmp" },
		.sign = { .digest = "sha256", .spool_threshold = 1024 * 1024,
			  .tmpdir = "/tmp" },
	};
	struct mw_smime_key *key = NULL;
	char error[512], *body, *entity;
	size_t size, entity_len, done = 0;
	unsigned int i, n, count_e = 0, count_b = 0;
	double seconds, t0, te, tb;
	struct rusage ru;
	char p1[1024], p2[1024];

	if (argc < 5) {
		fprintf(stderr, "usage: bench-enc PKIDIR SIZE RECIPIENTS SECONDS [sign]\n");
		return 2;
	}
	size = strtoul(argv[2], NULL, 10);
	n = (unsigned int)strtoul(argv[3], NULL, 10);
	seconds = strtod(argv[4], NULL);
	r.do_sign = argc > 5 && strcmp(argv[5], "sign") == 0;
	r.params.recipients = sk_X509_new_null();
	for (i = 0; i < n; i++)
		sk_X509_push(r.params.recipients, pem_cert(argv[1], names[i % 5]));
	snprintf(p1, sizeof(p1), "%s/alice.pem", argv[1]);
	snprintf(p2, sizeof(p2), "%s/alice.key", argv[1]);
	if (r.do_sign) {
		if (mw_smime_key_load("alice@example.org", p1, p2, NULL, true,
				      &key, error, sizeof(error)) < 0) {
			fprintf(stderr, "key: %s\n", error);
			return 1;
		}
		r.sign.key = key;
	}
	r.headers[0].name = "Content-Type";
	r.headers[0].value = "text/plain; charset=us-ascii";
	r.body = mw_smime_spool_new(r.params.spool_threshold, r.params.tmpdir);
	if (seconds == 0) {
		/* One big message, as the milter gets it. */
		char *piece = make_body(64 * 1024);
		size_t plen = strlen(piece);

		while (done < size) {
			if (mw_smime_spool_write(r.body, piece, plen, error,
						 sizeof(error)) < 0)
				return 1;
			done += plen;
		}
		free(piece);
		if (engine_once(&r, error, sizeof(error)) < 0) {
			fprintf(stderr, "encrypt: %s\n", error);
			return 1;
		}
		getrusage(RUSAGE_SELF, &ru);
		printf("  %zu MB message, %u recipient(s)%s: peak RSS %ld MB\n",
		       done >> 20, n, r.do_sign ? ", signed first" : "",
		       ru.ru_maxrss / 1024);
		return 0;
	}
	body = make_body(size);
	if (mw_smime_spool_write(r.body, body, strlen(body), error,
				 sizeof(error)) < 0)
		return 1;
	/* The bare side encrypts the very entity the engine builds. */
	{
		struct mw_smime_entity_plain plain = {
			.headers = r.headers, .header_count = 1, .body = r.body,
		};
		struct membuf m = { NULL, 0, 0 };

		if (mw_smime_entity_plain_write(&plain, mem_write, &m, error,
						sizeof(error)) < 0) {
			fprintf(stderr, "entity: %s\n", error);
			return 1;
		}
		entity = m.data;
		entity_len = m.len;
	}
	/* Alternate the two in rounds so that both see the same machine
	   state (frequency, other load). */
	te = tb = 0;
	while (te + tb < seconds) {
		t0 = now();
		if (engine_once(&r, error, sizeof(error)) < 0) {
			fprintf(stderr, "encrypt: %s\n", error);
			return 1;
		}
		te += now() - t0;
		count_e++;
		t0 = now();
		if (bare_once(&r, entity, entity_len) < 0) {
			fprintf(stderr, "CMS_encrypt failed\n");
			return 1;
		}
		tb += now() - t0;
		count_b++;
	}
	printf("  %7zu bytes, %2u recipient(s)%-14s engine %8.1f/s   bare CMS %8.1f/s   ratio %.2f\n",
	       size, n, r.do_sign ? ", sign+encrypt" : ", encrypt", count_e / te,
	       count_b / tb, (count_e / te) / (count_b / tb));
	free(entity);
	free(body);
	mw_smime_spool_free(&r.body);
	mw_smime_key_free(&key);
	sk_X509_pop_free(r.params.recipients, X509_free);
	return 0;
}
