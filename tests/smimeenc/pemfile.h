#ifndef PEMFILE_H
#define PEMFILE_H

/* Certificates and keys of the test PKI (make-enc-pki.sh names them
   DIR/NAME.pem and DIR/NAME.key), for the encryption test programs. */

#include <stdio.h>

#include <openssl/pem.h>

static __attribute__((unused)) X509 *pem_cert_file(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (f == NULL)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

static __attribute__((unused)) X509 *pem_cert(const char *dir, const char *name)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s.pem", dir, name);
	return pem_cert_file(path);
}

static __attribute__((unused)) EVP_PKEY *pem_key(const char *dir, const char *name)
{
	char path[1024];
	EVP_PKEY *k;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.key", dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	return k;
}

#endif
