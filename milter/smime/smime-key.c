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

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "mw-smime.h"

/* The file's bytes, read once after the checks of smime-keyfile.c, as a
   memory BIO; *data_r is freed (and cleared) with
   mw_smime_file_data_free() after the BIO. */
static BIO *mw_smime_open_pem(const char *path, enum mw_smime_file_kind kind,
			      bool follow_links, unsigned char **data_r,
			      size_t *size_r, char *error, size_t error_size)
{
	BIO *bio;

	if (mw_smime_file_read(path, kind, follow_links, data_r, size_r,
			       error, error_size) < 0)
		return NULL;
	bio = BIO_new_mem_buf(*data_r, (int)*size_r);
	if (bio == NULL) {
		snprintf(error, error_size, "out of memory");
		mw_smime_file_data_free(data_r, *size_r);
	}
	return bio;
}

/* OpenSSL would prompt on the terminal for the passphrase of an
   encrypted key; the milter has no terminal and stores no passphrase,
   so the key is refused instead. */
static int mw_smime_no_passphrase(char *buf, int size, int rwflag, void *ctx)
{
	bool *asked = ctx;

	*asked = true;
	return -1;
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

/* Compares the parts of two addresses: the domain case-insensitively;
   the local part as spelled, or, failing that, case-insensitively, as
   mail systems treat local parts in practice (RFC 5321 2.4 leaves them
   to the receiving host).  A NULL local part matches any. */
static bool mw_smime_address_matches(const char *cert_addr, size_t len,
				     const char *local, size_t local_len,
				     const char *domain)
{
	const char *at = memrchr(cert_addr, '@', len);
	size_t dlen = strlen(domain), clocal;

	if (at == NULL)
		return false;
	clocal = (size_t)(at - cert_addr);
	if (len - clocal - 1 != dlen ||
	    strncasecmp(at + 1, domain, dlen) != 0)
		return false;
	if (local == NULL)
		return true;
	if (clocal != local_len)
		return false;
	return memcmp(cert_addr, local, clocal) == 0 ||
		strncasecmp(cert_addr, local, clocal) == 0;
}

/* True if the certificate names the address (or, for "@domain", some
   address in the domain): in a subjectAltName rfc822Name, or, when it has
   none, in the subject's emailAddress (RFC 8550 3). */
static bool mw_smime_cert_names(X509 *cert, const char *address)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name,
						NULL, NULL);
	const char *at = strrchr(address, '@'), *local = NULL;
	const X509_NAME *subject;
	bool found = false, any = false;
	size_t local_len = 0;
	int i;

	if (at == NULL)
		return false;
	if (at != address) {
		local = address;
		local_len = (size_t)(at - address);
	}
	for (i = 0; i < sk_GENERAL_NAME_num(names) && !found; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);

		if (gn->type != GEN_EMAIL)
			continue;
		any = true;
		found = mw_smime_address_matches(
			(const char *)ASN1_STRING_get0_data(gn->d.rfc822Name),
			(size_t)ASN1_STRING_length(gn->d.rfc822Name),
			local, local_len, at + 1);
	}
	GENERAL_NAMES_free(names);
	if (any)
		return found;
	subject = X509_get_subject_name(cert);
	for (i = X509_NAME_get_index_by_NID(subject, NID_pkcs9_emailAddress, -1);
	     i >= 0 && !found;
	     i = X509_NAME_get_index_by_NID(subject, NID_pkcs9_emailAddress, i)) {
		const ASN1_STRING *s = X509_NAME_ENTRY_get_data(
			X509_NAME_get_entry(subject, i));

		found = mw_smime_address_matches(
			(const char *)ASN1_STRING_get0_data(s),
			(size_t)ASN1_STRING_length(s), local, local_len, at + 1);
	}
	return found;
}

static int mw_smime_check_name(X509 *cert, const char *address,
			       char *error, size_t error_size)
{
	if (mw_smime_cert_names(cert, address))
		return 0;
	if (address[0] == '@')
		snprintf(error, error_size,
			 "certificate names no address in %s", address + 1);
	else
		snprintf(error, error_size, "certificate does not name %s",
			 address);
	return -1;
}

static int mw_smime_read_chain(const char *path, bool follow_links,
			       STACK_OF(X509) *chain,
			       char *error, size_t error_size)
{
	unsigned char *data = NULL;
	size_t size = 0;
	BIO *bio = mw_smime_open_pem(path, MW_SMIME_FILE_CERT, follow_links,
				     &data, &size, error, error_size);
	X509 *x;

	if (bio == NULL)
		return -1;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(chain, x)) {
			X509_free(x);
			BIO_free(bio);
			mw_smime_file_data_free(&data, size);
			snprintf(error, error_size, "out of memory");
			return -1;
		}
	}
	/* The loop ends on "no start line" at the end of the file. */
	ERR_clear_error();
	BIO_free(bio);
	mw_smime_file_data_free(&data, size);
	if (sk_X509_num(chain) == 0) {
		snprintf(error, error_size, "%s: no certificate", path);
		return -1;
	}
	return 0;
}

int mw_smime_key_load(const char *address, const char *cert_path,
		      const char *key_path, const char *chain_path,
		      bool follow_links, struct mw_smime_key **key_r,
		      char *error, size_t error_size)
{
	struct mw_smime_key *key;
	unsigned char *data = NULL;
	size_t size = 0;
	bool asked = false;
	BIO *bio;

	key = calloc(1, sizeof(*key));
	if (key == NULL || (key->address = strdup(address)) == NULL ||
	    (key->chain = sk_X509_new_null()) == NULL) {
		snprintf(error, error_size, "out of memory");
		mw_smime_key_free(&key);
		return -1;
	}
	if ((bio = mw_smime_open_pem(key_path, MW_SMIME_FILE_KEY, follow_links,
				     &data, &size, error, error_size)) == NULL)
		goto fail;
	key->pkey = PEM_read_bio_PrivateKey(bio, NULL, mw_smime_no_passphrase,
					    &asked);
	BIO_free(bio);
	mw_smime_file_data_free(&data, size);
	if (key->pkey == NULL) {
		snprintf(error, error_size, asked ?
			 "%s: private key is protected by a passphrase, which "
			 "the milter cannot ask for; store it without one, "
			 "readable only by the milter's user" :
			 "%s: no private key", key_path);
		goto fail;
	}
	if ((bio = mw_smime_open_pem(cert_path, MW_SMIME_FILE_CERT,
				     follow_links, &data, &size,
				     error, error_size)) == NULL)
		goto fail;
	key->cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	mw_smime_file_data_free(&data, size);
	if (key->cert == NULL) {
		snprintf(error, error_size, "%s: no certificate", cert_path);
		goto fail;
	}
	if (X509_check_private_key(key->cert, key->pkey) != 1) {
		snprintf(error, error_size, "%s does not match %s", key_path,
			 cert_path);
		goto fail;
	}
	if (chain_path != NULL &&
	    mw_smime_read_chain(chain_path, follow_links, key->chain,
				error, error_size) < 0)
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
	return mw_smime_cert_names(key->cert, address);
}
