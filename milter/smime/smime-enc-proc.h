#ifndef SMIME_ENC_PROC_H
#define SMIME_ENC_PROC_H

/* Encryption as part of the S/MIME message processor (smime-processor.c
   signs and calls these): the certificate sources and trust anchors of
   one policy load, the envelope recipients of one message, and the
   decision at its end. */

#include "milter.h"
#include "mw-smime-enc.h"

/* What one policy load keeps for encryption; shared by the messages that
   started under it, read-only. */
struct mwm_smime_enc;

int mwm_smime_enc_load(const struct mw_smime_settings *set, bool log,
		       struct mwm_smime_enc **enc_r);
void mwm_smime_enc_free(struct mwm_smime_enc **enc);

struct mwm_smime_enc_msg;

struct mwm_smime_enc_msg *mwm_smime_enc_msg_new(void);
void mwm_smime_enc_msg_free(struct mwm_smime_enc_msg **em);
/* An envelope recipient (RCPT TO), Bcc ones included. */
int mwm_smime_enc_rcpt(struct mwm_smime_enc_msg *em, const char *rcpt);

enum mwm_smime_enc_verdict {
	MWM_SMIME_ENC_ENCRYPT,		/* *certs_r: every recipient's */
	MWM_SMIME_ENC_PASS,		/* send as without encryption */
	MWM_SMIME_ENC_REJECT,		/* the reply is set (5.7.1) */
	MWM_SMIME_ENC_TEMPFAIL,		/* the reply is set (4.7.x) */
};
/* Finds a usable certificate for every recipient and for the sender
   (from, with sender_cert the key table's certificate if any, tried
   first) and applies the policy's encrypt mode; logs what it decides.
   *certs_r, for ENCRYPT, is the caller's to free. */
enum mwm_smime_enc_verdict
mwm_smime_enc_decide(const struct mwm_smime_enc *enc,
		     const struct mw_smime_settings *set,
		     struct mwm_smime_enc_msg *em, const char *qid,
		     const char *from, X509 *sender_cert, SMFICTX *smfi,
		     STACK_OF(X509) **certs_r);

/* Encrypts the entity (signed or plain) and replaces header and body. */
int mwm_smime_enc_apply(const struct mw_smime_settings *set,
			const struct mw_smime_header *headers,
			unsigned int header_count, STACK_OF(X509) *certs,
			mw_smime_entity_fn *entity, void *entity_ctx,
			mw_smime_edit_fn *edit, SMFICTX *smfi, const char *qid,
			uint64_t *size_r);

#endif
