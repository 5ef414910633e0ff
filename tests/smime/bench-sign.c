/*
 * bench-sign CERT KEY CHAIN ADDRESS SIZE SECONDS: signed messages per
 * second for a message of SIZE bytes through the whole engine (spool,
 * canonicalisation, CMS, new body), next to the bare CMS_sign() rate of
 * the same key over the same bytes, measured in the same run.
 *
 * With SECONDS 0: one message of SIZE bytes, fed to the spool in 64 KB
 * pieces as the milter receives it (1 MB spool threshold), signed, and
 * read back in 64 KB pieces; prints the process's peak RSS.
 */

#include <sys/resource.h>
#include <time.h>

#include <openssl/cms.h>

#include "msgfile.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A text/plain message of about size bytes: 8-bit lines, so that the
   engine has re-encoding to do. */
static char *make_body(size_t size)
{
	static const char line[] =
		"Gr\xc3\xbc\xc3\x9f" "e, this is a line of benchmark text for "
		"the signing engine.\r\n";
	char *body = malloc(size + sizeof(line));
	size_t len = 0;

	while (len < size) {
		memcpy(body + len, line, sizeof(line) - 1);
		len += sizeof(line) - 1;
	}
	body[len] = '\0';
	return body;
}

/* The milter's path for one big message, in bounded memory. */
static int memory_run(const struct mw_smime_sign_params *params,
		      const struct mw_smime_header *headers,
		      unsigned int header_count, size_t size)
{
	struct mw_smime_spool *spool =
		mw_smime_spool_new(params->spool_threshold, params->tmpdir);
	char *piece = make_body(64 * 1024), error[512], buf[65536];
	struct mw_smime_signed *sig;
	struct rusage ru;
	size_t done, len, piece_len = strlen(piece) / 1024 * 1024;
	uint64_t out = 0;

	/* Whole lines per piece: the piece is cut after a line end. */
	while (piece[piece_len - 1] != '\n')
		piece_len--;
	for (done = 0; done < size; done += piece_len) {
		if (mw_smime_spool_write(spool, piece, piece_len, error,
					 sizeof(error)) < 0)
			goto fail;
	}
	if (mw_smime_sign(params, headers, header_count, spool, &sig, error,
			  sizeof(error)) < 0)
		goto fail;
	while (mw_smime_signed_read(sig, buf, sizeof(buf), &len, error,
				    sizeof(error)) == 0 && len > 0)
		out += len;
	mw_smime_signed_free(&sig);
	getrusage(RUSAGE_SELF, &ru);
	printf("%zu MB message (signed body %llu MB): peak RSS %ld KB\n",
	       done >> 20, (unsigned long long)(out >> 20), ru.ru_maxrss);
	mw_smime_spool_free(&spool);
	free(piece);
	return 0;
fail:
	fprintf(stderr, "%s\n", error);
	return 1;
}

int main(int argc, char **argv)
{
	struct mw_smime_header headers[] = {
		{ "From", NULL },
		{ "Subject", "benchmark" },
		{ "MIME-Version", "1.0" },
		{ "Content-Type", "text/plain; charset=utf-8" },
		{ "Content-Transfer-Encoding", "8bit" },
	};
	struct mw_smime_sign_params params = {
		.digest = "sha256", .spool_threshold = 1024 * 1024,
		.tmpdir = "/tmp",
	};
	struct mw_smime_key *key;
	char error[512], buf[65536];
	double seconds, t0, bare_rate, engine_rate;
	unsigned long n;
	size_t size, len;
	char *body;

	if (argc != 7) {
		fprintf(stderr, "usage: bench-sign CERT KEY CHAIN ADDRESS "
			"SIZE SECONDS\n");
		return 1;
	}
	size = strtoul(argv[5], NULL, 10);
	seconds = strtod(argv[6], NULL);
	if (mw_smime_key_load(argv[4], argv[1], argv[2], argv[3], true, &key,
			      error, sizeof(error)) < 0) {
		fprintf(stderr, "%s\n", error);
		return 1;
	}
	headers[0].value = argv[4];
	params.key = key;
	if (seconds == 0)
		return memory_run(&params, headers, 5, size);
	body = make_body(size);

	/* Bare: one CMS_sign() of the same bytes, as the openssl tool
	   would do it. */
	t0 = now();
	for (n = 0; now() - t0 < seconds; n++) {
		BIO *in = BIO_new_mem_buf(body, (int)size);
		CMS_ContentInfo *cms = CMS_sign(key->cert, key->pkey,
						key->chain, in,
						CMS_DETACHED | CMS_BINARY);
		BIO *out = BIO_new(BIO_s_mem());

		i2d_CMS_bio(out, cms);
		BIO_free(out);
		CMS_ContentInfo_free(cms);
		BIO_free(in);
	}
	bare_rate = n / (now() - t0);

	t0 = now();
	for (n = 0; now() - t0 < seconds; n++) {
		struct mw_smime_spool *spool =
			mw_smime_spool_new(params.spool_threshold, "/tmp");
		struct mw_smime_signed *sig;

		if (mw_smime_spool_write(spool, body, size, error,
					 sizeof(error)) < 0 ||
		    mw_smime_sign(&params, headers, 5, spool, &sig, error,
				  sizeof(error)) < 0) {
			fprintf(stderr, "%s\n", error);
			return 1;
		}
		while (mw_smime_signed_read(sig, buf, sizeof(buf), &len, error,
					    sizeof(error)) == 0 && len > 0)
			;
		mw_smime_signed_free(&sig);
		mw_smime_spool_free(&spool);
	}
	engine_rate = n / (now() - t0);
	printf("%-8s %8zu bytes: bare CMS_sign %8.1f/s, engine %8.1f/s "
	       "(%3.0f%%)\n", EVP_PKEY_get_base_id(key->pkey) == EVP_PKEY_EC ?
	       "P-256" : "RSA-2048", size, bare_rate, engine_rate,
	       100 * engine_rate / bare_rate);
	free(body);
	mw_smime_key_free(&key);
	return 0;
}
