/* mw-smime-encrypt: the encryption engine on one message file, for the
   interoperability tests and the benchmark's comparison.
     mw-smime-encrypt [-c cipher] [-p] [-s CERT KEY] IN OUT RECIPIENT.pem...
   -p: RSA PKCS#1 v1.5 instead of OAEP; -s: sign first (RFC 8551 3.7).
   Writes the message as the milter would: the header without its
   Content-* fields, the pkcs7-mime ones, and the base64 body. */

#include <unistd.h>

#include <openssl/pem.h>

#include "msgfile.h"
#include "mw-smime-enc.h"
#include "pemfile.h"

static void write_value(FILE *f, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\n')
			fputc('\r', f);
		fputc(*v, f);
	}
}

int main(int argc, char **argv)
{
	struct mw_smime_enc_params params = {
		.cipher = "aes-256-gcm", .rsa_oaep = true,
		.spool_threshold = 1024 * 1024, .tmpdir = "/tmp",
	};
	struct mw_smime_sign_params sp = {
		.digest = "sha256", .spool_threshold = 1024 * 1024,
		.tmpdir = "/tmp",
	};
	const char *sign_cert = NULL, *sign_key = NULL;
	struct mw_smime_entity_plain plain;
	struct mw_smime_encrypted *enc = NULL;
	struct mw_smime_signed *sig = NULL;
	struct mw_smime_key *key = NULL;
	struct mw_smime_spool *body;
	bool have_version = false;
	struct msgfile m;
	char error[512], from[256] = "", buf[65536];
	const char *err;
	unsigned int i;
	size_t len;
	FILE *out;
	int c, ret;

	while ((c = getopt(argc, argv, "c:ps:")) != -1) {
		switch (c) {
		case 'c': params.cipher = optarg; break;
		case 'p': params.rsa_oaep = false; break;
		case 's':
			sign_cert = optarg;
			if (optind >= argc)
				return 1;
			sign_key = argv[optind++];
			break;
		default: return 1;
		}
	}
	if (argc - optind < 3) {
		fprintf(stderr, "usage: mw-smime-encrypt [-c cipher] [-p] "
			"[-s CERT KEY] IN OUT RECIPIENT.pem...\n");
		return 1;
	}
	argv += optind;
	argc -= optind;
	if (msgfile_read(argv[0], &m) < 0) {
		fprintf(stderr, "%s: unreadable message\n", argv[0]);
		return 1;
	}
	params.recipients = sk_X509_new_null();
	for (i = 2; i < (unsigned int)argc; i++) {
		X509 *x = pem_cert_file(argv[i]);

		if (x == NULL) {
			fprintf(stderr, "%s: no certificate\n", argv[i]);
			return 1;
		}
		sk_X509_push(params.recipients, x);
	}
	for (i = 0; i < m.header_count; i++) {
		if (strcasecmp(m.headers[i].name, "From") == 0 &&
		    mw_smime_from_address(m.headers[i].value, from,
					  sizeof(from), &err) < 0) {
			fprintf(stderr, "From: %s\n", err);
			return 1;
		}
	}
	body = mw_smime_spool_new(params.spool_threshold, params.tmpdir);
	if (mw_smime_spool_write(body, m.body, m.body_size, error,
				 sizeof(error)) < 0) {
		fprintf(stderr, "spool: %s\n", error);
		return 1;
	}
	if (sign_cert != NULL) {
		if (mw_smime_key_load(from, sign_cert, sign_key, NULL, true,
				      &key, error, sizeof(error)) < 0) {
			fprintf(stderr, "key: %s\n", error);
			return 1;
		}
		sp.key = key;
		if (mw_smime_sign(&sp, m.headers, m.header_count, body, &sig,
				  error, sizeof(error)) < 0) {
			fprintf(stderr, "sign: %s\n", error);
			return 1;
		}
		ret = mw_smime_encrypt(&params, mw_smime_entity_signed_write,
				       sig, &enc, error, sizeof(error));
	} else {
		plain.headers = m.headers;
		plain.header_count = m.header_count;
		plain.body = body;
		ret = mw_smime_encrypt(&params, mw_smime_entity_plain_write,
				       &plain, &enc, error, sizeof(error));
	}
	if (ret < 0) {
		fprintf(stderr, "encrypt: %s\n", error);
		return 1;
	}
	out = fopen(argv[1], "wb");
	if (out == NULL)
		return 1;
	for (i = 0; i < m.header_count; i++) {
		if (mw_smime_header_is_content(m.headers[i].name))
			continue;
		if (strcasecmp(m.headers[i].name, "MIME-Version") == 0)
			have_version = true;
		fprintf(out, "%s: ", m.headers[i].name);
		write_value(out, m.headers[i].value);
		fputs("\r\n", out);
	}
	if (!have_version)
		fputs("MIME-Version: 1.0\r\n", out);
	fputs("Content-Type: ", out);
	write_value(out, mw_smime_encrypted_content_type(enc));
	fputs("\r\nContent-Transfer-Encoding: base64\r\n"
	      "Content-Disposition: attachment; filename=\"smime.p7m\"\r\n\r\n",
	      out);
	while (mw_smime_encrypted_read(enc, buf, sizeof(buf), &len, error,
				       sizeof(error)) == 0 && len > 0)
		fwrite(buf, 1, len, out);
	if (fclose(out) != 0)
		return 1;
	mw_smime_encrypted_free(&enc);
	mw_smime_signed_free(&sig);
	mw_smime_key_free(&key);
	mw_smime_spool_free(&body);
	sk_X509_pop_free(params.recipients, X509_free);
	msgfile_free(&m);
	return 0;
}
