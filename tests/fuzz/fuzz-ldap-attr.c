/*
 * libFuzzer target: any bytes as a value of userSMIMECertificate
 * (PKCS#7 certs-only) and of userCertificate;binary (DER X.509), parsed
 * the way the LDAP source parses what the directory returns.  Nothing may
 * crash, leak or read out of bounds, and the parser must keep its
 * promises: a refused value leaves the stack as it was, with a message;
 * an accepted one adds at least one certificate and never more than
 * MW_SMIME_LDAP_CERTS_MAX in all, each of which re-encodes; any other
 * attribute is refused.
 */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "smime-ldap.h"

/* Returns whether the value was accepted. */
static bool check(const char *attribute, const unsigned char *data,
		  size_t size, STACK_OF(X509) *certs)
{
	int before = sk_X509_num(certs), ret;
	char *error = NULL;

	ret = mw_smime_ldap_parse_value(attribute, data, size, certs, &error);
	if (ret < 0) {
		if (error == NULL || sk_X509_num(certs) != before)
			abort();
		free(error);
		return false;
	}
	if (ret != 0 || error != NULL || sk_X509_num(certs) <= before ||
	    sk_X509_num(certs) > MW_SMIME_LDAP_CERTS_MAX)
		abort();
	if (strcmp(attribute, "userCertificate;binary") == 0) {
		unsigned char *der = NULL;
		int len = i2d_X509(sk_X509_value(certs, before), &der);

		if (len <= 0)
			abort();
		OPENSSL_free(der);
	}
	return true;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	char *error = NULL;

	if (certs == NULL)
		abort();
	check("userSMIMECertificate", data, size, certs);
	check("userCertificate;binary", data, size, certs);
	check("usersmimecertificate;binary", data, size, certs);
	/* the same value again, so that the certificate limit is reached */
	while (check("userCertificate", data, size, certs))
		;
	if (mw_smime_ldap_parse_value("mail", data, size, certs, &error) == 0)
		abort();
	free(error);
	sk_X509_pop_free(certs, X509_free);
	return 0;
}
