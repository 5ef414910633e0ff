#ifndef MW_SMIME_H
#define MW_SMIME_H

/*
 * S/MIME signing for mailward-milter: the engine, free of libmilter.
 *
 *   smime-spool.c      byte store that moves to an unlinked temp file
 *   smime-reader.c     line reader over a spool
 *   smime-mimehdr.c    header fields: Content-Type, Content-Transfer-Encoding
 *   smime-encode.c     quoted-printable and base64 encoders
 *   smime-canon.c      the signed entity: 7-bit, CRLF, short lines
 *   smime-headers.c    the top-level header changes
 *   smime-sign.c       the detached CMS signature and multipart/signed body
 *   smime-keyfile.c    opening key and certificate files safely
 *   smime-key.c        one signing key and its load checks
 *   smime-lines.c      the line-oriented files below, read one way
 *   smime-keytable.c   address (or @domain) -> key
 *   smime-sendermap.c  which logins may send as which address
 *   smime-from.c       the From address, by RFC 5322's grammar
 *
 * smime-processor.c puts it into mailward-milter (smime-processor.h).
 *
 * Functions return 0 on success and -1 with a message in error[] (or
 * *error_r) on failure, unless documented otherwise.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* --- spool ---------------------------------------------------------------- */

/* An append-only byte store: memory up to a threshold, then a temporary
   file created in tmpdir and unlinked at once, so nothing is left behind
   when the process dies. */
struct mw_smime_spool;

struct mw_smime_spool *mw_smime_spool_new(size_t threshold, const char *tmpdir);
void mw_smime_spool_free(struct mw_smime_spool **spool);
int mw_smime_spool_write(struct mw_smime_spool *spool, const void *data,
			 size_t size, char *error, size_t error_size);
uint64_t mw_smime_spool_size(const struct mw_smime_spool *spool);
bool mw_smime_spool_in_file(const struct mw_smime_spool *spool);
/* Reads up to size bytes at offset; *got_r is 0 only at the end. */
int mw_smime_spool_pread(const struct mw_smime_spool *spool, uint64_t offset,
			 void *buf, size_t size, size_t *got_r,
			 char *error, size_t error_size);

/* --- line reader ---------------------------------------------------------- */

#define MW_SMIME_READER_BUF (64 * 1024)

/* A line, or a piece of one longer than the reader's buffer. */
struct mw_smime_line {
	const unsigned char *data;	/* without the line end */
	size_t len;
	unsigned int eol_len;	/* 2 CRLF, 1 LF, 0 none (piece or end) */
	bool continued;		/* data continues a line begun earlier */
	uint64_t offset;	/* of data in the spool */
};

struct mw_smime_reader {
	const struct mw_smime_spool *spool;
	uint64_t pos, end;	/* next line; end of the region */
	uint64_t buf_offset;	/* spool offset of buf[0] */
	size_t buf_len;
	bool in_line;		/* the last piece ended without a line end */
	unsigned char buf[MW_SMIME_READER_BUF];
};

void mw_smime_reader_init(struct mw_smime_reader *reader,
			  const struct mw_smime_spool *spool,
			  uint64_t start, uint64_t end);
/* Returns 1 with the next line, 0 at the end of the region, -1 on error. */
int mw_smime_reader_next(struct mw_smime_reader *reader,
			 struct mw_smime_line *line_r,
			 char *error, size_t error_size);
/* Goes back to a line start returned earlier. */
void mw_smime_reader_seek(struct mw_smime_reader *reader, uint64_t offset);

/* --- MIME header fields ----------------------------------------------------- */

enum mw_smime_cte {
	MW_SMIME_CTE_7BIT = 0,	/* also when absent (RFC 2045 6.1) */
	MW_SMIME_CTE_8BIT,
	MW_SMIME_CTE_BINARY,
	MW_SMIME_CTE_QP,
	MW_SMIME_CTE_BASE64,
	MW_SMIME_CTE_OTHER,	/* x-token: left alone */
};

/* RFC 2046 5.1.1 allows 70 characters, but real clients write longer
   ones; what matters is that the delimiter line ("--" boundary "--")
   fits in a line of 998 (RFC 5322 2.1.1). */
#define MW_SMIME_BOUNDARY_MAX (998 - 4)

struct mw_smime_ctype {
	char type[64];		/* lower case; "text" if absent (RFC 2045 5.2) */
	char subtype[64];
	char boundary[MW_SMIME_BOUNDARY_MAX + 1];	/* "" if none */
	bool boundary_too_long;	/* given, but longer than the maximum */
	enum mw_smime_cte cte;
};

void mw_smime_ctype_init(struct mw_smime_ctype *ct);
/* Parses a Content-Type value into ct.  Returns -1 for a value without
   type/subtype; ct then keeps the default. */
int mw_smime_ctype_parse(struct mw_smime_ctype *ct, const char *value,
			 size_t len);
enum mw_smime_cte mw_smime_cte_parse(const char *value, size_t len);
/* True for the types RFC 8551 section 3 uses for signed or enveloped
   data, which a second signature must not wrap. */
bool mw_smime_ctype_is_protected(const struct mw_smime_ctype *ct);

/* --- encoders ------------------------------------------------------------- */

typedef int mw_smime_write_fn(void *ctx, const void *data, size_t size);

/* Base64 in lines of 76 characters, each ended by CRLF (RFC 2045 6.8). */
struct mw_smime_b64 {
	mw_smime_write_fn *write;
	void *ctx;
	unsigned char pending[57];
	size_t pending_len;
};
void mw_smime_b64_init(struct mw_smime_b64 *b64, mw_smime_write_fn *write,
		       void *ctx);
int mw_smime_b64_update(struct mw_smime_b64 *b64, const void *data,
			size_t size);
int mw_smime_b64_final(struct mw_smime_b64 *b64);

/* Quoted-printable of one line of text, written with soft line breaks at
   76 characters and a CRLF at the end (RFC 2045 6.7).  A line given in
   pieces is passed with more = true for all but the last piece. */
struct mw_smime_qp {
	mw_smime_write_fn *write;
	void *ctx;
	size_t col;		/* characters on the current output line */
	char out[128];
	size_t out_len;
};
void mw_smime_qp_init(struct mw_smime_qp *qp, mw_smime_write_fn *write,
		      void *ctx);
int mw_smime_qp_line(struct mw_smime_qp *qp, const unsigned char *data,
		     size_t len, bool more);

/* --- canonical signed entity ------------------------------------------- */

struct mw_smime_header {
	const char *name;
	const char *value;	/* as the MTA passed it, folds included */
};

/* Builds the entity that gets signed (RFC 8551 3.1): the Content-*
   fields of headers, then the body with every part in a 7-bit transfer
   encoding, CRLF line ends and lines of at most 998 characters.  The
   bytes go to write().  A line that starts with "--" + avoid sets
   *avoid_seen_r, so that the caller can pick another boundary. */
struct mw_smime_canon_stats {
	unsigned int parts;
	unsigned int reencoded;
	unsigned int protected_parts;	/* signed or encrypted, copied */
};
int mw_smime_canon(const struct mw_smime_header *headers,
		   unsigned int header_count,
		   const struct mw_smime_spool *body,
		   mw_smime_write_fn *write, void *ctx, const char *avoid,
		   bool *avoid_seen_r, struct mw_smime_canon_stats *stats_r,
		   char *error, size_t error_size);

/* True if name is a Content-* field, which moves into the signed entity. */
bool mw_smime_header_is_content(const char *name);

/* --- keys --------------------------------------------------------------- */

struct mw_smime_key {
	char *address;		/* "user@example.org" or "@example.org" */
	X509 *cert;
	EVP_PKEY *pkey;
	STACK_OF(X509) *chain;	/* may be empty, never NULL */
};

/* Reads a certificate or key file after checking, on the open file, its
   owner and mode and every directory above it (smime-keyfile.c).  A
   symbolic link is refused unless follow_links.  *data_r holds size
   bytes and a NUL; free it with mw_smime_file_data_free(), which clears
   it. */
enum mw_smime_file_kind {
	MW_SMIME_FILE_CERT,	/* also chain files */
	MW_SMIME_FILE_KEY,
};
int mw_smime_file_read(const char *path, enum mw_smime_file_kind kind,
		       bool follow_links, unsigned char **data_r,
		       size_t *size_r, char *error, size_t error_size);
void mw_smime_file_data_free(unsigned char **data, size_t size);

/* Loads one key and checks it: the files pass mw_smime_file_read(), the
   key has no passphrase (there is nobody to ask) and matches the
   certificate, the certificate is valid now, may sign mail (keyUsage,
   extendedKeyUsage) and names address (or, for a domain entry, some
   address in the domain). */
int mw_smime_key_load(const char *address, const char *cert_path,
		      const char *key_path, const char *chain_path,
		      bool follow_links, struct mw_smime_key **key_r,
		      char *error, size_t error_size);
void mw_smime_key_free(struct mw_smime_key **key);
/* True if the key's certificate names address: the domain compared
   case-insensitively, the local part as spelled or else
   case-insensitively. */
bool mw_smime_key_names(const struct mw_smime_key *key, const char *address);

/* Calls fn(ctx, line number, line, error, error_size) for each line of
   the file at path, with any comment ('#' to the end of the line) cut
   off; stops at the first -1 from fn, which has set error. */
typedef int mw_smime_line_fn(void *ctx, unsigned int lineno, char *line,
			     char *error, size_t error_size);
int mw_smime_file_lines(const char *path, mw_smime_line_fn *fn, void *ctx,
			char *error, size_t error_size);

struct mw_smime_keytable;

/* Reads a key table file: "address cert.pem key.pem [chain.pem]
   [links=follow]" per line, '#' comments; relative paths are taken from
   the table's own directory.  Keys that fail their checks are reported
   through warn() with the table's file:line and skipped; only an
   unreadable file fails the load. */
typedef void mw_smime_warn_fn(void *ctx, const char *msg);
int mw_smime_keytable_load(const char *path, mw_smime_warn_fn *warn,
			   void *warn_ctx, struct mw_smime_keytable **table_r,
			   char *error, size_t error_size);
void mw_smime_keytable_ref(struct mw_smime_keytable *table);
void mw_smime_keytable_unref(struct mw_smime_keytable **table);
unsigned int mw_smime_keytable_count(const struct mw_smime_keytable *table);
/* The key for address (its local part as spelled, else in any case),
   else its domain's default, else NULL.  The key lives as long as the
   table. */
const struct mw_smime_key *
mw_smime_keytable_lookup(const struct mw_smime_keytable *table,
			 const char *address);

/* --- sender map --------------------------------------------------------- */

/* "address login[,login...]" per line, like Postfix's
   smtpd_sender_login_maps; "@domain" covers a domain. */
struct mw_smime_sendermap;

int mw_smime_sendermap_load(const char *path,
			    struct mw_smime_sendermap **map_r,
			    char *error, size_t error_size);
void mw_smime_sendermap_free(struct mw_smime_sendermap **map);
/* True if login may send as address: a login equal to the address
   always may; the map's entry for the address (else its domain) adds
   the logins it lists. */
bool mw_smime_sender_allowed(const struct mw_smime_sendermap *map,
			     const char *login, const char *address);

/* The single addr-spec of a From field value into buf, its domain in
   lower case and its local part as spelled (RFC 5321 2.4).  Fails for a
   group, a list of several mailboxes, or no address. */
int mw_smime_from_address(const char *value, char *buf, size_t size,
			  const char **error_r);

/* --- signing ------------------------------------------------------------ */

struct mw_smime_signed;

struct mw_smime_sign_params {
	const struct mw_smime_key *key;
	const char *digest;	/* "sha256", "sha384", "sha512" */
	size_t spool_threshold;
	const char *tmpdir;
};

/* Signs the message (its header fields and body) and keeps the new body
   and the new top-level Content-Type value. */
int mw_smime_sign(const struct mw_smime_sign_params *params,
		  const struct mw_smime_header *headers,
		  unsigned int header_count,
		  const struct mw_smime_spool *body,
		  struct mw_smime_signed **signed_r,
		  char *error, size_t error_size);
void mw_smime_signed_free(struct mw_smime_signed **sig);
/* multipart/signed; protocol=...; micalg=...; boundary=..., folded with
   "\n\t" as milters pass header values. */
const char *mw_smime_signed_content_type(const struct mw_smime_signed *sig);
uint64_t mw_smime_signed_body_size(const struct mw_smime_signed *sig);
/* Copies the next piece of the new body into buf; *len_r is 0 at the
   end. */
int mw_smime_signed_read(struct mw_smime_signed *sig, void *buf, size_t size,
			 size_t *len_r, char *error, size_t error_size);

/* The changes that turn the message header into that of the signed
   message (RFC 8551 3.5.3): the Content-* fields move into the signed
   entity, the first Content-Type becomes multipart/signed in place, and
   MIME-Version is added if missing.  index counts the fields of that name
   (case-insensitively) from 1, as smfi_chgheader() does; deletions run
   from the last occurrence back, so every index stays valid. */
enum mw_smime_edit_op {
	MW_SMIME_EDIT_CHANGE,
	MW_SMIME_EDIT_DELETE,
	MW_SMIME_EDIT_ADD,
};
typedef int mw_smime_edit_fn(void *ctx, enum mw_smime_edit_op op,
			     const char *name, unsigned int index,
			     const char *value);
int mw_smime_header_edits(const struct mw_smime_header *headers,
			  unsigned int header_count, const char *content_type,
			  mw_smime_edit_fn *fn, void *ctx);

/* "sha-256" for "sha256" (RFC 8551 3.5.3), or NULL. */
const char *mw_smime_micalg(const char *digest);

#endif
