/*
 * One signing key and the checks made when it is loaded, so that a key
 * which would produce signatures that clients reject is reported at
 * start-up rather than found by recipients.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "mw-smime.h"

static BIO *mw_smime_open_pem(const char *path, char *error, size_t error_size)
{
	BIO *bio = BIO_new_file(path, "r");

	if (bio == NULL) {
		snprintf(error, error_size, "%s: %s", path, strerror(errno));
		ERR_clear_error();
	}
	return bio;
}

/* A private key others can read is as good as published. */
static int mw_smime_check_key_mode(const char *path, char *error,
				   size_t error_size)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(error, error_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
		snprintf(error, error_size,
			 "%s: private key readable by group or others (mode %04o)",
			 path, (unsigned int)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* RFC 8550 4.4.2 and 4.4.4: a keyUsage extension must allow
   digitalSignature or nonRepudiation; an extendedKeyUsage extension must
   list emailProtection (or anyExtendedKeyUsage). */
static int mw_smime_check_usage(X509 *cert, char *error, size_t error_size)
{
	uint32_t flags = X509_get_extension_flags(cert);

	if ((flags & EXFLAG_INVALID) != 0) {
		snprintf(error, error_size, "certificate has invalid extensions");
		return -1;
	}
	if ((flags & EXFLAG_KUSAGE) != 0 &&
	    (X509_get_key_usage(cert) &
	     (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)) == 0) {
		snprintf(error, error_size,
			 "certificate key usage allows no digital signature");
		return -1;
	}
	if ((flags & EXFLAG_XKUSAGE) != 0 &&
	    (X509_get_extended_key_usage(cert) & (XKU_SMIME | XKU_ANYEKU)) == 0) {
		snprintf(error, error_size,
			 "certificate extended key usage lacks emailProtection");
		return -1;
	}
	return 0;
}

static int mw_smime_check_time(X509 *cert, char *error, size_t error_size)
{
	if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0) {
		snprintf(error, error_size, "certificate not valid yet");
		return -1;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
		snprintf(error, error_size, "certificate expired");
		return -1;
	}
	return 0;
}

/* True if the certificate names an address in domain, in a
   subjectAltName rfc822Name (RFC 8550 3). */
static bool mw_smime_cert_has_domain(X509 *cert, const char *domain)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name,
						NULL, NULL);
	size_t dlen = strlen(domain);
	bool found = false;
	int i;

	for (i = 0; i < sk_GENERAL_NAME_num(names) && !found; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
		const char *s;
		int len;

		if (gn->type != GEN_EMAIL)
			continue;
		s = (const char *)ASN1_STRING_get0_data(gn->d.rfc822Name);
		len = ASN1_STRING_length(gn->d.rfc822Name);
		found = (size_t)len > dlen && s[len - (int)dlen - 1] == '@' &&
			strncasecmp(s + len - (int)dlen, domain, dlen) == 0;
	}
	GENERAL_NAMES_free(names);
	return found;
}

static int mw_smime_check_name(X509 *cert, const char *address,
			       char *error, size_t error_size)
{
	if (address[0] == '@') {
		if (mw_smime_cert_has_domain(cert, address + 1))
			return 0;
		snprintf(error, error_size,
			 "certificate names no address in %s", address + 1);
		return -1;
	}
	if (X509_check_email(cert, address, 0, 0) != 1) {
		snprintf(error, error_size, "certificate does not name %s",
			 address);
		return -1;
	}
	return 0;
}

static int mw_smime_read_chain(const char *path, STACK_OF(X509) *chain,
			       char *error, size_t error_size)
{
	BIO *bio = mw_smime_open_pem(path, error, error_size);
	X509 *x;

	if (bio == NULL)
		return -1;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(chain, x)) {
			X509_free(x);
			BIO_free(bio);
			snprintf(error, error_size, "out of memory");
			return -1;
		}
	}
	/* The loop ends on "no start line" at the end of the file. */
	ERR_clear_error();
	BIO_free(bio);
	if (sk_X509_num(chain) == 0) {
		snprintf(error, error_size, "%s: no certificate", path);
		return -1;
	}
	return 0;
}

int mw_smime_key_load(const char *address, const char *cert_path,
		      const char *key_path, const char *chain_path,
		      struct mw_smime_key **key_r,
		      char *error, size_t error_size)
{
	struct mw_smime_key *key;
	BIO *bio;

	key = calloc(1, sizeof(*key));
	if (key == NULL || (key->address = strdup(address)) == NULL ||
	    (key->chain = sk_X509_new_null()) == NULL) {
		snprintf(error, error_size, "out of memory");
		mw_smime_key_free(&key);
		return -1;
	}
	if (mw_smime_check_key_mode(key_path, error, error_size) < 0)
		goto fail;
	if ((bio = mw_smime_open_pem(cert_path, error, error_size)) == NULL)
		goto fail;
	key->cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (key->cert == NULL) {
		snprintf(error, error_size, "%s: no certificate", cert_path);
		goto fail;
	}
	if ((bio = mw_smime_open_pem(key_path, error, error_size)) == NULL)
		goto fail;
	key->pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (key->pkey == NULL) {
		snprintf(error, error_size, "%s: no private key", key_path);
		goto fail;
	}
	if (X509_check_private_key(key->cert, key->pkey) != 1) {
		snprintf(error, error_size, "%s does not match %s", key_path,
			 cert_path);
		goto fail;
	}
	if (chain_path != NULL &&
	    mw_smime_read_chain(chain_path, key->chain, error, error_size) < 0)
		goto fail;
	if (mw_smime_check_time(key->cert, error, error_size) < 0 ||
	    mw_smime_check_usage(key->cert, error, error_size) < 0 ||
	    mw_smime_check_name(key->cert, address, error, error_size) < 0)
		goto fail;
	*key_r = key;
	return 0;
fail:
	ERR_clear_error();
	mw_smime_key_free(&key);
	return -1;
}

void mw_smime_key_free(struct mw_smime_key **_key)
{
	struct mw_smime_key *key = *_key;

	if (key == NULL)
		return;
	*_key = NULL;
	free(key->address);
	X509_free(key->cert);
	EVP_PKEY_free(key->pkey);
	sk_X509_pop_free(key->chain, X509_free);
	free(key);
}

bool mw_smime_key_names(const struct mw_smime_key *key, const char *address)
{
	return X509_check_email(key->cert, address, 0, 0) == 1;
}
