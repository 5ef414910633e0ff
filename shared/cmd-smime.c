/* mailward smime: for each address, the certificate the milter would
   encrypt to, the source it came from, and why each other candidate was
   refused, with the policy's certificate sources and trust anchors.  It
   runs the milter's own selection code (the S/MIME engine, which has no
   libmilter in it), so what it shows is what the milter does. */

#include "cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "mw-smime-enc.h"

#define CMD_SMIME_USAGE "usage: mailward smime [-c FILE] ADDRESS...\n"

static void cmd_smime_warn(void *ctx, const char *msg)
{
	fprintf(stderr, "mailward: warning: %s\n", msg);
}

static void cmd_smime_describe(X509 *cert, char *buf, size_t size)
{
	char subject[256];
	const ASN1_INTEGER *serial = X509_get0_serialNumber(cert);
	BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	const ASN1_TIME *na = X509_get0_notAfter(cert);
	struct tm tm;

	X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
	memset(&tm, 0, sizeof(tm));
	(void)ASN1_TIME_to_tm(na, &tm);
	snprintf(buf, size, "%s, serial %s, %s key, valid until %04d-%02d-%02d",
		 subject, hex != NULL ? hex : "?",
		 OBJ_nid2sn(EVP_PKEY_get_base_id(X509_get0_pubkey(cert))),
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	OPENSSL_free(hex);
	BN_free(bn);
}

static void cmd_smime_candidate(void *ctx, const char *source, X509 *cert,
				const char *reason)
{
	char desc[512];

	if (cert == NULL) {
		printf("  lookup failed: %s: %s\n", source, reason);
		return;
	}
	cmd_smime_describe(cert, desc, sizeof(desc));
	if (reason == NULL)
		printf("  used:     %s: %s\n", source, desc);
	else
		printf("  rejected: %s: %s: %s\n", source, desc, reason);
}

static void cmd_smime_free(struct mw_smime_certsrc **sources,
			   unsigned int count, X509_STORE *trust)
{
	unsigned int i;

	for (i = 0; i < count; i++)
		mw_smime_certsrc_free(&sources[i]);
	free(sources);
	X509_STORE_free(trust);
}

int cmd_smime(int argc, char *argv[])
{
	const char *path = CMD_DEFAULT_POLICY;
	const struct mw_smime_enc_settings *enc;
	struct mw_smime_certsrc **sources;
	struct mw_policy *policy;
	X509_STORE *trust = NULL;
	unsigned int i, n = 0, count = 0;
	char error[512];
	int c, status = CMD_EXIT_ALLOW;

	while ((c = getopt(argc, argv, "c:h")) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'h': fputs(CMD_SMIME_USAGE, stdout); return 0;
		default: fputs(CMD_SMIME_USAGE, stderr); return CMD_EXIT_USAGE;
		}
	}
	if (optind == argc) {
		fputs(CMD_SMIME_USAGE, stderr);
		return CMD_EXIT_USAGE;
	}
	if (cmd_load_policy(path, &policy) < 0)
		return CMD_EXIT_CONFIG;
	enc = &mw_policy_smime(policy)->enc;
	if (enc->certificates == NULL || enc->trust == NULL) {
		fprintf(stderr, "mailward: %s: the smime section names no "
			"certificates or no trust\n", path);
		mw_policy_unref(&policy);
		return CMD_EXIT_CONFIG;
	}
	for (i = 0; enc->certificates[i] != NULL; i++)
		n++;
	sources = calloc(n, sizeof(*sources));
	if (sources == NULL ||
	    mw_smime_trust_load(enc->trust, &trust, error, sizeof(error)) < 0) {
		fprintf(stderr, "mailward: %s\n", sources == NULL ?
			"out of memory" : error);
		free(sources);
		mw_policy_unref(&policy);
		return CMD_EXIT_CONFIG;
	}
	for (i = 0; i < n; i++) {
		const char *name = enc->certificates[i];
		int ret = strcmp(name, "ldap") == 0 ?
			mw_smime_certsrc_ldap_open(&enc->ldap, &sources[i],
						   error, sizeof(error)) :
			mw_smime_certsrc_file_open(name, cmd_smime_warn, NULL,
						   &sources[i], error,
						   sizeof(error));
		if (ret < 0) {
			fprintf(stderr, "mailward: %s\n", error);
			cmd_smime_free(sources, count, trust);
			mw_policy_unref(&policy);
			return CMD_EXIT_CONFIG;
		}
		count++;
	}
	printf("# encrypt = %s, cipher %s, trust %s\n",
	       enc->encrypt == MW_SMIME_ENCRYPT_OFF ? "off" :
	       enc->encrypt == MW_SMIME_ENCRYPT_REQUIRED ? "required" :
	       "opportunistic", enc->cipher, enc->trust);
	for (i = (unsigned int)optind; i < (unsigned int)argc; i++) {
		enum mw_smime_select_result res;
		const char *source;
		X509 *cert;

		printf("%s:\n", argv[i]);
		res = mw_smime_recip_select(trust, sources, count, argv[i],
					    cmd_smime_candidate, NULL, &cert,
					    &source, error, sizeof(error));
		if (res == MW_SMIME_SELECT_FOUND) {
			printf("  => encrypts to the certificate from %s\n",
			       source);
			X509_free(cert);
			continue;
		}
		if (res == MW_SMIME_SELECT_FAILED) {
			printf("  => a lookup failed (%s): on_lookup_error = %s\n",
			       error, enc->on_lookup_error ==
			       MW_SMIME_LOOKUP_TEMPFAIL ? "tempfail" :
			       "no-certificate");
			if (status == CMD_EXIT_ALLOW)
				status = CMD_EXIT_TEMPFAIL;
			continue;
		}
		printf("  => no usable certificate\n");
		status = CMD_EXIT_DENY;
	}
	cmd_smime_free(sources, count, trust);
	mw_policy_unref(&policy);
	return status;
}
