#ifndef MW_POLICY_H
#define MW_POLICY_H

/*
 * mailward policy module: the one public header that the Dovecot modules,
 * the milter and the mailward command include.
 *
 * A policy is loaded once, validated as a whole, and is immutable from then
 * on: any number of threads may call mw_decide() on it at the same time.
 * mw_decide() does not allocate and does no I/O.  A policy with any error
 * is never returned, so a caller cannot half-apply one.
 *
 * Ownership: the caller owns what a function's name says it creates
 * (mw_policy_load*, mw_diags) and releases it with the matching
 * unref/free.  Strings that a decision or a getter returns point into the
 * policy and live as long as the caller's reference to it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct sockaddr;

struct mw_policy;
struct mw_diags;

/* --- addresses --------------------------------------------------------- */

enum mw_addr_family {
	MW_AF_NONE = 0,
	MW_AF_INET4 = 4,
	MW_AF_INET6 = 6,
};

/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is always stored as IPv4,
   so that rules written for IPv4 match clients of a dual-stack socket. */
struct mw_addr {
	uint8_t family;		/* enum mw_addr_family */
	uint8_t bytes[16];	/* network order; IPv4 uses the first 4 */
};

/* Parse a numeric address (no prefix).  Returns 0, or -1 if str is not an
   IPv4 or IPv6 address. */
int mw_addr_parse(const char *str, struct mw_addr *addr_r);
void mw_addr_from_ipv4(const void *in_addr4, struct mw_addr *addr_r);
void mw_addr_from_ipv6(const void *in6_addr16, struct mw_addr *addr_r);
/* Returns -1 for families other than AF_INET and AF_INET6. */
int mw_addr_from_sockaddr(const struct sockaddr *sa, struct mw_addr *addr_r);
/* Writes the canonical text form (at most MW_ADDR_STRLEN bytes with NUL). */
#define MW_ADDR_STRLEN 46
const char *mw_addr_to_str(const struct mw_addr *addr, char *buf,
			   size_t size);

/* --- what the caller knows about a connection -------------------------- */

/* Each fact has an UNKNOWN value.  A check whose fact is unknown is
   skipped, never guessed: the caller that knows the fact (for example the
   login process for cipher bits) is the one that enforces it.  Host names
   are the exception: a rule that needs the name while it is not looked up
   yet makes mw_decide() return MW_VERDICT_NEED_HOST. */
enum mw_tls_state {
	MW_TLS_UNKNOWN = 0,
	MW_TLS_NONE,		/* plaintext */
	MW_TLS_SECURED,		/* not TLS, but trusted (Dovecot's "secured") */
	MW_TLS_ACTIVE,		/* TLS */
};

enum mw_cert_state {
	MW_CERT_UNKNOWN = 0,
	MW_CERT_NONE,		/* no certificate, or one that did not verify */
	MW_CERT_VALID,		/* presented and verified */
};

enum mw_host_state {
	MW_HOST_NOT_LOOKED_UP = 0,
	MW_HOST_FOUND,		/* host holds a forward-confirmed name */
	MW_HOST_NONE,		/* no PTR, or the name did not confirm */
	MW_HOST_FAILED,		/* time-out or server failure */
};

enum mw_auth_state {
	MW_AUTH_UNKNOWN = 0,
	MW_AUTH_NONE,
	MW_AUTH_DONE,
};

#define MW_BITS_UNKNOWN (-1)

struct mw_conn {
	/* "imap", "pop3", "submission", "smtp" (Postfix SASL through
	   Dovecot), or a Postfix service: see mw_policy_service_for_daemon() */
	const char *service;
	struct mw_addr remote_ip, local_ip;	/* MW_AF_NONE if unknown */
	unsigned int remote_port, local_port;	/* 0 if unknown */
	enum mw_host_state host_state;
	const char *host;	/* the confirmed name when MW_HOST_FOUND */
	const char *mech;	/* SASL mechanism, NULL if not known yet */
	enum mw_tls_state tls;
	int cipher_bits;	/* MW_BITS_UNKNOWN if not known */
	enum mw_cert_state cert;
	enum mw_auth_state auth;
};

/* Sets every fact to unknown. */
void mw_conn_init(struct mw_conn *conn);

/* --- decisions ----------------------------------------------------------- */

enum mw_verdict {
	MW_VERDICT_ALLOW = 0,
	MW_VERDICT_DENY,
	MW_VERDICT_TEMPFAIL,
	MW_VERDICT_NEED_HOST,	/* look the name up, then ask again */
};

/* Which check gave the verdict. */
enum mw_check {
	MW_CHECK_DEFAULT = 0,	/* no rule matched: the service's default */
	MW_CHECK_RULE,		/* an allow/deny rule matched */
	MW_CHECK_HOST_LOOKUP,	/* a host rule met a failed lookup */
	MW_CHECK_TLS,
	MW_CHECK_CIPHER_BITS,
	MW_CHECK_CLIENT_CERT,
	MW_CHECK_MECHANISM,
	MW_CHECK_CLEARTEXT,
	MW_CHECK_AUTH,
	MW_CHECK_PARTNER_TLS,
	MW_CHECK_PARTNER_CERT,
	/* a cleartext mechanism before TLS while some outcome of the
	   pending host name lookup refuses the client */
	MW_CHECK_HOST_PENDING,
};

struct mw_decision {
	enum mw_verdict verdict;
	enum mw_check check;
	/* The rule or setting that decided, as written in the policy, and
	   where.  file is NULL (line 0) for a built-in default. */
	const char *rule;
	const char *file;
	unsigned int line;
	/* The limit the connection missed, for MW_CHECK_CIPHER_BITS. */
	int required_bits;
	/* The partner domain, for MW_CHECK_PARTNER_*. */
	const char *partner;
};

/* Decide about a connection: the service's connection rules (first match
   wins), then TLS, cipher bits, client certificate, mechanism, cleartext
   and authentication, each with the values of the first matching "from"
   block, if any.  Never allocates; always fills *dec_r. */
enum mw_verdict mw_decide(const struct mw_policy *policy,
			  const struct mw_conn *conn,
			  struct mw_decision *dec_r);

/* The same for a connection whose host name is not looked up yet (the
   login process, which does not wait for DNS), as every possible outcome
   of the lookup would decide: no name, a name that matches any of the
   host patterns the service uses, a failed lookup.  The verdict is the
   most restrictive of the candidates:
   - DENY (or TEMPFAIL) when every outcome refuses the client by the
     connection rules;
   - DENY when some outcome refuses this TLS state, mechanism, cipher
     strength or certificate (dec_r names that outcome's setting);
   - DENY with MW_CHECK_HOST_PENDING for a cleartext mechanism without
     TLS when some outcome refuses the client altogether: a refused
     client's password may reach the server only encrypted;
   - ALLOW when every outcome allows;
   - otherwise NEED_HOST: nothing forbids it yet, the passdb decides
     after the lookup.
   With a host name known (or none needed) this is mw_decide().  Patterns
   are taken as independent: two different lists may both match, so a
   policy whose lists overlap gets a stricter answer, never a looser
   one.  Never allocates. */
enum mw_verdict mw_decide_pending_host(const struct mw_policy *policy,
				       const struct mw_conn *conn,
				       struct mw_decision *dec_r);

/* False if the service says secured_is_tls = no: Dovecot's "secured"
   without TLS then counts as plaintext. */
bool mw_policy_service_secured_is_tls(const struct mw_policy *policy,
				      const char *service);

/* Partner domain security: mail whose envelope sender is in a partner
   domain must arrive over TLS with a trusted client certificate whose CN
   and issuer CN match the partner's patterns.  Services that do not
   enforce partners, and senders outside every partner domain, are
   allowed.  cert_cn and issuer_cn are NULL when Postfix sent none (it
   sends them only for a trusted certificate). */
struct mw_partner_query {
	const char *service;
	const char *sender_domain;
	enum mw_tls_state tls;
	const char *cert_cn;
	const char *issuer_cn;
};
enum mw_verdict mw_decide_partner(const struct mw_policy *policy,
				  const struct mw_partner_query *query,
				  struct mw_decision *dec_r);

const char *mw_verdict_name(enum mw_verdict verdict);
const char *mw_check_name(enum mw_check check);
/* The full reason for the log, e.g. "cipher strength 56 bits is below the
   minimum of 128".  Writes at most size bytes, always NUL-terminated;
   returns buf. */
const char *mw_decision_reason(const struct mw_decision *dec,
			       const struct mw_conn *conn,
			       char *buf, size_t size);
/* A short text fit to show the client, which tells an attacker no more
   than it needs to, e.g. "TLS required". */
const char *mw_decision_client_text(const struct mw_decision *dec);

/* --- loading ------------------------------------------------------------- */

/* Load and validate a policy file (and its includes and address lists).
   Returns 0 and *policy_r, or -1 and no policy.  *diags_r is set in both
   cases (warnings may come with success) and is the caller's to free. */
int mw_policy_load(const char *path, struct mw_policy **policy_r,
		   struct mw_diags **diags_r);
/* The same from memory; name is used in diagnostics and as the base for
   relative paths.  Includes and lists are read from the file system. */
int mw_policy_load_buffer(const char *name, const char *data, size_t size,
			  struct mw_policy **policy_r,
			  struct mw_diags **diags_r);

void mw_policy_ref(struct mw_policy *policy);
/* Drops a reference and sets *policy to NULL; frees on the last one. */
void mw_policy_unref(struct mw_policy **policy);

/* The policy in canonical form, every effective value spelled out. */
void mw_policy_print(const struct mw_policy *policy, FILE *out);

/* --- diagnostics ----------------------------------------------------------- */

enum mw_severity {
	MW_SEVERITY_WARNING,
	MW_SEVERITY_ERROR,
};

struct mw_diag {
	enum mw_severity severity;
	const char *file;	/* NULL if no file is concerned */
	unsigned int line, column;	/* 0 if not known */
	const char *message;
};

unsigned int mw_diags_count(const struct mw_diags *diags);
unsigned int mw_diags_error_count(const struct mw_diags *diags);
const struct mw_diag *mw_diags_get(const struct mw_diags *diags,
				   unsigned int idx);
/* "file:line:column: error: message", one a line. */
void mw_diags_print(const struct mw_diags *diags, FILE *out);
/* The first error as "file:line:column: message" (for one log line), or
   NULL if there is none.  Points into diags. */
const char *mw_diags_first_error(struct mw_diags *diags);
void mw_diags_free(struct mw_diags **diags);

/* --- settings that the daemons read ---------------------------------------- */

enum mw_on_error {
	MW_ON_ERROR_TEMPFAIL = 0,
	MW_ON_ERROR_DENY,
	MW_ON_ERROR_ALLOW,
	MW_ON_ERROR_NO_MATCH,	/* the host rule does not match; go on */
};

struct mw_dns_settings {
	unsigned int timeout_msecs;
	unsigned int cache_ttl_secs;	/* confirmed names */
	unsigned int negative_ttl_secs;	/* no name, or not confirmed */
	unsigned int cache_size;	/* entries */
	enum mw_on_error on_error;
};
const struct mw_dns_settings *mw_policy_dns(const struct mw_policy *policy);

/* True if some rule or "from" block of the service matches host names,
   so the caller may skip starting a lookup early when none does. */
bool mw_policy_service_uses_hosts(const struct mw_policy *policy,
				  const char *service);

/* The service whose postfix_daemon_name lists daemon_name (Postfix's
   {daemon_name} macro), or NULL if none does. */
const char *mw_policy_service_for_daemon(const struct mw_policy *policy,
					 const char *daemon_name);

enum mw_partner_on_fail {
	MW_PARTNER_REJECT = 0,
	MW_PARTNER_TEMPFAIL,
};

/* What the milter does with an RFC 8689 "TLS-Required: no" header on
   mail to a partner domain (Postfix 3.10 would otherwise send it without
   the TLS that smtp_tls_policy_maps demands).  Refusing is the default:
   Postfix 3.10 acts on the header as the message arrives, before a milter
   can remove it, so removing restores the TLS policy only where Postfix
   does not honour the header (before 3.10, or tls_required_enable = no). */
enum mw_tls_required_no {
	MW_TLS_REQUIRED_NO_REJECT = 0,
	MW_TLS_REQUIRED_NO_REMOVE,
};

struct mw_partner {
	const char *domain;
	const char *const *cert_cn;	/* NULL-terminated glob patterns */
	const char *const *issuer_cn;	/* NULL-terminated glob patterns */
	enum mw_partner_on_fail on_fail;
	const char *outbound_tls;	/* smtp_tls_policy_maps level */
	/* NULL: Postfix's default.  Else in the TLS policy table's form:
	   names joined by ':', fingerprints by '|'. */
	const char *outbound_match;
	const char *file;
	unsigned int line;
	enum mw_tls_required_no tls_required_no;
	/* NULL-terminated fingerprints (hex bytes joined by ':') of the
	   partner's client certificates or public keys, which "mailward
	   partners -s" makes Postfix require with check_ccert_access; NULL:
	   none pinned. */
	const char *const *cert_fingerprint;
};
unsigned int mw_policy_partner_count(const struct mw_policy *policy);
const struct mw_partner *
mw_policy_partner(const struct mw_policy *policy, unsigned int idx);
/* The partner whose domain is domain (case-insensitive), or NULL. */
const struct mw_partner *
mw_policy_partner_find(const struct mw_policy *policy, const char *domain);

enum mw_smime_sign {
	MW_SMIME_SIGN_OFF = 0,
	MW_SMIME_SIGN_AUTHENTICATED,
};
enum mw_smime_on_error {
	MW_SMIME_ON_ERROR_PASS = 0,	/* deliver unsigned, and log */
	MW_SMIME_ON_ERROR_TEMPFAIL,
};
enum mw_smime_encrypt {
	MW_SMIME_ENCRYPT_OFF = 0,
	MW_SMIME_ENCRYPT_OPPORTUNISTIC,	/* only if every recipient has one */
	MW_SMIME_ENCRYPT_REQUIRED,	/* refuse the message otherwise */
};
enum mw_smime_rsa_padding {
	MW_SMIME_RSA_OAEP = 0,
	MW_SMIME_RSA_PKCS1,
};
enum mw_smime_on_lookup_error {
	MW_SMIME_LOOKUP_TEMPFAIL = 0,
	MW_SMIME_LOOKUP_NO_CERTIFICATE,
};
/* The smime { ldap { } } block, as the policy gives it; the milter copies
   it into the LDAP source's own settings (struct mw_smime_ldap_settings),
   field by field, so that this module needs no milter header. */
struct mw_smime_ldap_policy {
	const char *uri;
	const char *base;
	const char *filter;		/* "(mail=%s)" by default */
	const char *bind_dn;		/* NULL: anonymous */
	const char *password_file;	/* NULL unless bind_dn */
	bool starttls;			/* default yes */
	const char *ca_file;
	unsigned int timeout_msecs;
	unsigned int cache_ttl_secs, negative_ttl_secs;
	unsigned int max_connections;
	const char *file;		/* where the block is, for messages */
	unsigned int line;
};
struct mw_smime_enc_settings {
	enum mw_smime_encrypt encrypt;
	/* NULL-terminated; NULL when not set: the signing services. */
	const char *const *services;
	/* Certificate sources in order: paths (a directory of PEM files or
	   a table file, told apart when loaded) or the word "ldap". */
	const char *const *certificates;
	const char *trust;		/* CA bundle file or directory */
	const char *cipher;		/* "aes-256-gcm" */
	enum mw_smime_rsa_padding rsa_padding;
	enum mw_smime_on_lookup_error on_lookup_error;
	bool have_ldap;			/* an ldap { } block was given */
	struct mw_smime_ldap_policy ldap;
};
struct mw_smime_settings {
	enum mw_smime_sign sign;
	const char *keytable;	/* NULL if not set */
	const char *sender_map;	/* NULL: a login may sign as itself */
	const char *digest;	/* "sha256" */
	enum mw_smime_on_error on_error;
	size_t spool_threshold;	/* bytes kept in memory per message */
	const char *tmpdir;
	/* The policy services whose mail is signed, NULL-terminated;
	   NULL when not set: submission and submissions. */
	const char *const *services;
	/* Encryption (mw-validate-smime-enc.c). */
	struct mw_smime_enc_settings enc;
};
/* True if the smime settings sign mail of the policy service named
   service. */
bool mw_smime_signs_service(const struct mw_smime_settings *smime,
			    const char *service);
const struct mw_smime_settings *
mw_policy_smime(const struct mw_policy *policy);
/* True if the smime settings encrypt mail of the policy service named
   service. */
bool mw_smime_encrypts_service(const struct mw_smime_settings *smime,
			       const char *service);

#endif
