#ifndef MW_SMIME_ENC_H
#define MW_SMIME_ENC_H

/*
 * S/MIME encryption for mailward-milter: the engine, free of libmilter.
 *
 *   smime-cert.c         certificate sources: a directory of PEM files or
 *                        a table file (address  /path/cert.pem)
 *   smime-cert-ldap.c    the ldap source, over smime-ldap.h
 *   smime-recip.c        whether a certificate may be used for a
 *                        recipient, and which one is
 *   smime-enc.c          the CMS (Auth)EnvelopedData and application/
 *                        pkcs7-mime body, streamed into a spool
 *
 * Functions return 0 on success and -1 with a message in error[] on
 * failure, unless documented otherwise.
 */

#include <openssl/cms.h>
#include <openssl/x509.h>

#include "mw-smime.h"

struct mw_smime_ldap_policy;

/* --- certificate sources ---------------------------------------------- */

/* Where recipients' certificates come from.  lookup() returns 1 with
   *certs_r (the caller frees it with sk_X509_pop_free(), X509_free), 0
   if the source has none for address, -1 if the lookup itself failed
   (a directory server down); it may be called from several threads at
   once.  The certificates are candidates only: smime-recip.c decides. */
struct mw_smime_certsrc {
	const char *name;	/* "directory /etc/...", "ldap", for logs */
	int (*lookup)(struct mw_smime_certsrc *src, const char *address,
		      STACK_OF(X509) **certs_r, char *error,
		      size_t error_size);
	void (*free)(struct mw_smime_certsrc *src);
	/* Certificates that name no address (intermediate CAs found with
	   the others), offered for chain building; may be NULL. */
	STACK_OF(X509) *untrusted;
};

/* A directory (every regular file in it, PEM, indexed by the addresses
   its certificates name) or a table file ("address path" per line,
   relative paths from the table's directory, the first certificate of
   the file the address's, any others its chain), told apart by what
   path is.  Unreadable certificates are reported through warn() and
   skipped; only an unreadable directory or table fails. */
int mw_smime_certsrc_file_open(const char *path, mw_smime_warn_fn *warn,
			       void *warn_ctx, struct mw_smime_certsrc **src_r,
			       char *error, size_t error_size);
/* The directory source of smime { ldap { } }. */
int mw_smime_certsrc_ldap_open(const struct mw_smime_ldap_policy *set,
			       struct mw_smime_certsrc **src_r,
			       char *error, size_t error_size);
void mw_smime_certsrc_free(struct mw_smime_certsrc **src);
/* How many certificates a file source holds (for the log). */
unsigned int mw_smime_certsrc_file_count(const struct mw_smime_certsrc *src);

/* The trust anchors: a CA bundle file, or a directory of them under
   hashed names (as "openssl rehash" makes them). */
int mw_smime_trust_load(const char *path, X509_STORE **store_r,
			char *error, size_t error_size);

/* --- recipient certificates ------------------------------------------ */

/* Why cert cannot encrypt to address, or NULL if it can: it chains to
   trust (with untrusted as intermediates), is valid now, its key is RSA
   (keyUsage allows keyEncipherment) or EC (keyAgreement; X25519 and X448
   are refused, OpenSSL's CMS cannot agree on them), its
   extendedKeyUsage, if any, allows emailProtection, and it names address
   (subjectAltName rfc822Name, else the subject's emailAddress, compared
   as for signing).  The text is in reason[]. */
const char *mw_smime_recip_check(X509_STORE *trust, STACK_OF(X509) *untrusted,
				 X509 *cert, const char *address,
				 char *reason, size_t reason_size);

/* Called for each candidate certificate, used or not (reason NULL for
   the one chosen), and for each failed lookup (cert NULL). */
typedef void mw_smime_candidate_fn(void *ctx, const char *source, X509 *cert,
				   const char *reason);

enum mw_smime_select_result {
	MW_SMIME_SELECT_FOUND = 1,
	MW_SMIME_SELECT_NONE = 0,
	MW_SMIME_SELECT_FAILED = -1,	/* none, and some lookup failed */
};
/* Tries the sources in order; the first that has a usable certificate
   gives it (of several, the one valid longest).  *cert_r holds a
   reference for the caller. */
enum mw_smime_select_result
mw_smime_recip_select(X509_STORE *trust, struct mw_smime_certsrc *const *sources,
		      unsigned int source_count, const char *address,
		      mw_smime_candidate_fn *report, void *report_ctx,
		      X509 **cert_r, const char **source_r,
		      char *error, size_t error_size);

/* --- encryption ------------------------------------------------------ */

struct mw_smime_encrypted;

struct mw_smime_enc_params {
	STACK_OF(X509) *recipients;	/* every one gets a RecipientInfo */
	const char *cipher;		/* "aes-256-gcm", ... */
	bool rsa_oaep;			/* else PKCS#1 v1.5 */
	size_t spool_threshold;
	const char *tmpdir;
};

/* Writes the MIME entity to be encrypted through write(write_ctx, ...). */
typedef int mw_smime_entity_fn(void *ctx, mw_smime_write_fn *write,
			       void *write_ctx, char *error, size_t error_size);

/* Encrypts the entity that entity() writes, streaming: the DER goes
   through base64 into a spool as it is made. */
int mw_smime_encrypt(const struct mw_smime_enc_params *params,
		     mw_smime_entity_fn *entity, void *entity_ctx,
		     struct mw_smime_encrypted **enc_r,
		     char *error, size_t error_size);
void mw_smime_encrypted_free(struct mw_smime_encrypted **enc);
/* application/pkcs7-mime; smime-type=...; name="smime.p7m", folded with
   "\n\t" as milters pass header values. */
const char *mw_smime_encrypted_content_type(const struct mw_smime_encrypted *enc);
uint64_t mw_smime_encrypted_body_size(const struct mw_smime_encrypted *enc);
int mw_smime_encrypted_read(struct mw_smime_encrypted *enc, void *buf,
			    size_t size, size_t *len_r,
			    char *error, size_t error_size);

/* Entities: the message's own (its Content-* fields and canonical body,
   as signing makes it), or the multipart/signed message signing made
   (RFC 8551 3.7: sign, then encrypt). */
struct mw_smime_entity_plain {
	const struct mw_smime_header *headers;
	unsigned int header_count;
	const struct mw_smime_spool *body;
};
int mw_smime_entity_plain_write(void *ctx, mw_smime_write_fn *write,
				void *write_ctx, char *error, size_t error_size);
/* ctx is a struct mw_smime_signed, read from its start. */
int mw_smime_entity_signed_write(void *ctx, mw_smime_write_fn *write,
				 void *write_ctx, char *error, size_t error_size);

/* The header fields the encrypted message gets after the Content-Type
   that mw_smime_header_edits() sets. */
int mw_smime_enc_header_edits(const struct mw_smime_header *headers,
			      unsigned int header_count,
			      const struct mw_smime_encrypted *enc,
			      mw_smime_edit_fn *fn, void *ctx);

#endif
