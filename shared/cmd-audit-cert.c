/* mailward audit: server certificates and cipher lists, judged with
   OpenSSL.  Only the mailward command links OpenSSL for this; the policy
   library stays free of it. */

#include "cmd-audit.h"
#include "mw-util.h"

#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define AUDIT_EXPIRY_WARN_DAYS 30
#define AUDIT_RSA_BITS_MIN 2048

static X509 *audit_read_cert(const char *path, bool *opened_r)
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *cert;

	*opened_r = bio != NULL;
	if (bio == NULL)
		return NULL;
	cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	return cert;
}

static void audit_cert_names(const struct audit_context *ctx, X509 *cert,
			     const char *path, const char *file, unsigned int line,
			     const char *setting)
{
	const char *const *name;

	for (name = ctx->hostnames; name != NULL && *name != NULL; name++) {
		if (X509_check_host(cert, *name, 0, 0, NULL) == 1)
			continue;
		audit_addf(ctx->findings, AUDIT_MEDIUM, "cert-name-mismatch", file, line,
			   "clients connecting to this name either refuse the certificate or, if they do not check it, cannot tell the server from an impostor (seed 000: the certificate name must match the host name)",
			   "get a certificate whose subjectAltName has every name clients use, or name them with --hostname",
			   "%s = %s: certificate is not valid for %s", setting, path, *name);
	}
}

static void audit_cert_expiry(const struct audit_context *ctx, X509 *cert,
			      const char *path, const char *file, unsigned int line,
			      const char *setting)
{
	int days, secs;

	if (!ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(cert)))
		return;
	if (days < 0 || secs < 0) {
		audit_addf(ctx->findings, AUDIT_HIGH, "cert-expired", file, line,
			   "clients refuse an expired certificate, or users learn to click through warnings",
			   "renew the certificate",
			   "%s = %s: certificate expired %d days ago", setting, path, -days);
	} else if (days < AUDIT_EXPIRY_WARN_DAYS) {
		audit_addf(ctx->findings, AUDIT_MEDIUM, "cert-expiring", file, line,
			   "the certificate expires within 30 days",
			   "renew the certificate before it expires",
			   "%s = %s: certificate expires in %d days", setting, path, days);
	}
}

static void audit_cert_key(const struct audit_context *ctx, X509 *cert,
			   const char *path, const char *file, unsigned int line,
			   const char *setting)
{
	EVP_PKEY *key = X509_get0_pubkey(cert);
	int md_nid = NID_undef, pk_nid = NID_undef;

	if (key != NULL && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA &&
	    EVP_PKEY_get_bits(key) < AUDIT_RSA_BITS_MIN) {
		audit_addf(ctx->findings, AUDIT_HIGH, "cert-weak-key", file, line,
			   "RSA keys under 2048 bits can be factored with affordable means; NIST disallows them",
			   "make a new key of 2048 bits or more (or P-256) and a certificate for it",
			   "%s = %s: RSA key of %d bits", setting, path, EVP_PKEY_get_bits(key));
	}
	if (OBJ_find_sigid_algs(X509_get_signature_nid(cert), &md_nid, &pk_nid) &&
	    (md_nid == NID_sha1 || md_nid == NID_md5)) {
		audit_addf(ctx->findings, md_nid == NID_md5 ? AUDIT_HIGH : AUDIT_MEDIUM,
			   "cert-weak-signature", file, line,
			   "SHA-1 and MD5 signatures can be forged by collision; clients refuse them",
			   "have the certificate reissued with a SHA-256 signature",
			   "%s = %s: signed with %s", setting, path, OBJ_nid2sn(md_nid));
	}
}

void audit_check_certificate(const struct audit_context *ctx,
			     const char *path, const char *file,
			     unsigned int line, const char *setting,
			     bool key_or_cert)
{
	bool opened;
	X509 *cert = audit_read_cert(path, &opened);
	char what[1024];

	if (!opened) {
		snprintf(what, sizeof(what), "%s = %s: cannot open the certificate",
			 setting, path);
		audit_read_error(ctx->findings, path, what);
		return;
	}
	if (cert == NULL) {
		if (!key_or_cert) {
			audit_addf(ctx->findings, AUDIT_MEDIUM, "cert-unreadable", file, line,
				   "the file holds no PEM certificate, so the server cannot offer TLS",
				   "point the setting at the PEM certificate",
				   "%s = %s", setting, path);
		}
		return;
	}
	audit_cert_names(ctx, cert, path, file, line, setting);
	audit_cert_expiry(ctx, cert, path, file, line, setting);
	audit_cert_key(ctx, cert, path, file, line, setting);
	X509_free(cert);
}

static bool audit_cipher_is_weak(const SSL_CIPHER *cipher)
{
	return SSL_CIPHER_get_bits(cipher, NULL) < 128 ||
		SSL_CIPHER_get_cipher_nid(cipher) == NID_undef ||
		SSL_CIPHER_get_auth_nid(cipher) == NID_auth_null ||
		SSL_CIPHER_get_digest_nid(cipher) == NID_md5 ||
		strstr(SSL_CIPHER_get_name(cipher), "RC4") != NULL;
}

void audit_check_cipher_list(const struct audit_context *ctx,
			     const char *list, const char *file,
			     unsigned int line, const char *setting)
{
	SSL_CTX *sslctx = SSL_CTX_new(TLS_server_method());
	STACK_OF(SSL_CIPHER) *ciphers;
	char names[512] = "";
	size_t len = 0;
	int i, weak = 0;

	if (sslctx == NULL)
		return;
	/* Level 0: see what the list asks for, not what OpenSSL's own
	   policy of the day happens to filter. */
	SSL_CTX_set_security_level(sslctx, 0);
	if (SSL_CTX_set_cipher_list(sslctx, list) != 1) {
		ERR_clear_error();
		audit_addf(ctx->findings, AUDIT_MEDIUM, "weak-cipher-list", file, line,
			   "OpenSSL selects no cipher from this list, so TLS 1.2 and older cannot be negotiated",
			   "use a list such as HIGH:!aNULL:!MD5, or remove the setting",
			   "%s = %s: no usable cipher", setting, list);
		SSL_CTX_free(sslctx);
		return;
	}
	ciphers = SSL_CTX_get_ciphers(sslctx);
	for (i = 0; ciphers != NULL && i < sk_SSL_CIPHER_num(ciphers); i++) {
		const SSL_CIPHER *cipher = sk_SSL_CIPHER_value(ciphers, i);

		if (!audit_cipher_is_weak(cipher))
			continue;
		if (weak++ < 4 && len < sizeof(names) - 1) {
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
						len == 0 ? "" : " ", SSL_CIPHER_get_name(cipher));
		}
	}
	if (weak > 0) {
		audit_addf(ctx->findings, AUDIT_MEDIUM, "weak-cipher-list", file, line,
			   "the list allows ciphers without encryption or authentication, or under 128 bits (seed 000: require 128-bit encryption)",
			   "exclude them: HIGH:!aNULL:!MD5 (or remove the setting for the default)",
			   "%s = %s: %d weak cipher%s (%s%s)", setting, list, weak,
			   weak == 1 ? "" : "s", names, weak > 4 ? " ..." : "");
	}
	SSL_CTX_free(sslctx);
}
