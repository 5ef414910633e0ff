/*
 * Attribute values into certificates.  What a directory returns is as
 * untrusted as the mail itself (anyone who can edit their own entry
 * writes it), so every value is bounded and must be exactly one DER
 * object with nothing after it.
 *
 *   userSMIMECertificate    RFC 2798: a PKCS#7 SignedData, in practice
 *                           "certs-only" (no content, no signers), the
 *                           user's certificates in its certificates field
 *   userCertificate;binary  RFC 4523: one DER X.509 certificate
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/pkcs7.h>

#include "smime-ldap.h"

static char *mw_smime_ldap_strdup_error(const char *attribute, const char *msg)
{
	char *error = NULL;

	if (asprintf(&error, "%s: %s", attribute, msg) < 0)
		return NULL;
	return error;
}

/* The attribute's name without its ";binary" transfer option. */
static bool mw_smime_ldap_attr_is(const char *attribute, const char *name)
{
	size_t len = strlen(name);

	if (strncasecmp(attribute, name, len) != 0)
		return false;
	return attribute[len] == '\0' ||
		strcasecmp(attribute + len, ";binary") == 0;
}

static int mw_smime_ldap_parse_x509(const unsigned char *data, size_t size,
				    STACK_OF(X509) *certs, const char **msg_r)
{
	const unsigned char *p = data;
	X509 *cert;

	cert = d2i_X509(NULL, &p, (long)size);
	if (cert == NULL) {
		*msg_r = "not a DER X.509 certificate";
		return -1;
	}
	if (p != data + size) {
		X509_free(cert);
		*msg_r = "bytes after the certificate's DER";
		return -1;
	}
	if (sk_X509_num(certs) >= MW_SMIME_LDAP_CERTS_MAX) {
		X509_free(cert);
		*msg_r = "too many certificates";
		return -1;
	}
	if (sk_X509_push(certs, cert) <= 0) {
		X509_free(cert);
		*msg_r = "out of memory";
		return -1;
	}
	return 0;
}

static int mw_smime_ldap_parse_pkcs7(const unsigned char *data, size_t size,
				     STACK_OF(X509) *certs, const char **msg_r)
{
	const unsigned char *p = data;
	STACK_OF(X509) *in;
	PKCS7 *p7;
	int i, n, start = sk_X509_num(certs), ret = -1;

	p7 = d2i_PKCS7(NULL, &p, (long)size);
	if (p7 == NULL) {
		*msg_r = "not a DER PKCS#7 object";
		return -1;
	}
	if (p != data + size) {
		*msg_r = "bytes after the PKCS#7 DER";
		goto out;
	}
	if (!PKCS7_type_is_signed(p7) || p7->d.sign == NULL) {
		*msg_r = "PKCS#7 object is not SignedData";
		goto out;
	}
	in = p7->d.sign->cert;
	n = sk_X509_num(in);
	if (n <= 0) {
		*msg_r = "PKCS#7 SignedData without certificates";
		goto out;
	}
	if (start + n > MW_SMIME_LDAP_CERTS_MAX) {
		*msg_r = "too many certificates";
		goto out;
	}
	for (i = 0; i < n; i++) {
		X509 *cert = sk_X509_value(in, i);

		if (cert == NULL || X509_up_ref(cert) != 1) {
			*msg_r = "bad certificate in the PKCS#7 object";
			goto undo;
		}
		if (sk_X509_push(certs, cert) <= 0) {
			X509_free(cert);
			*msg_r = "out of memory";
			goto undo;
		}
	}
	ret = 0;
	goto out;
undo:
	while (sk_X509_num(certs) > start)
		X509_free(sk_X509_pop(certs));
out:
	PKCS7_free(p7);
	return ret;
}

int mw_smime_ldap_parse_value(const char *attribute, const unsigned char *data,
			      size_t size, STACK_OF(X509) *certs, char **error_r)
{
	const char *msg = NULL;
	int ret;

	if (size == 0)
		msg = "empty value";
	else if (size > MW_SMIME_LDAP_VALUE_MAX)
		msg = "value larger than 64 KiB";
	if (msg != NULL) {
		*error_r = mw_smime_ldap_strdup_error(attribute, msg);
		return -1;
	}
	if (mw_smime_ldap_attr_is(attribute, "userSMIMECertificate"))
		ret = mw_smime_ldap_parse_pkcs7(data, size, certs, &msg);
	else if (mw_smime_ldap_attr_is(attribute, "userCertificate"))
		ret = mw_smime_ldap_parse_x509(data, size, certs, &msg);
	else {
		ret = -1;
		msg = "not a certificate attribute";
	}
	if (ret < 0)
		*error_r = mw_smime_ldap_strdup_error(attribute, msg);
	return ret;
}
