#ifndef MILTER_PROCESSOR_H
#define MILTER_PROCESSOR_H

#include <stdbool.h>
#include <stddef.h>

#include "milter.h"

/*
 * Message processors: steps that read a message after the access checks
 * accepted its sender and may change it at the end of the message (S/MIME
 * signing is the intended first one).  The callbacks call every registered
 * processor in order; a processor that returns -1 makes the message
 * tempfail, so a fault never loses or silently alters mail.  A processor
 * that wants to pass mail on its own errors (a policy choice) returns 0.
 *
 * While no processor is registered, the milter asks Postfix not to send
 * headers and body at all.
 */
struct mwm_processor {
	const char *name;
	/* SMFIF_* actions the processor may use at end of message. */
	unsigned long actions;

	/* At MAIL FROM, after the checks passed.  Sets *ctx_r to the
	   processor's state, or to NULL to take no part in this message. */
	int (*msg_begin)(struct mwm_msg *msg, void **ctx_r);
	/* Optional: each envelope recipient, as Postfix sends {rcpt_addr}. */
	int (*rcpt)(void *ctx, const char *rcpt);
	int (*header)(void *ctx, const char *name, const char *value);
	int (*eoh)(void *ctx);
	int (*body)(void *ctx, const unsigned char *data, size_t size);
	/* At the end of the message: the place to modify it through
	   smfi_* calls on smfi.  Besides 0 and -1 it may return
	   MWM_PROCESSOR_REJECT or MWM_PROCESSOR_TEMPFAIL after setting its
	   own reply with smfi_setreply() (a 5xx or a 4xx). */
	int (*eom)(void *ctx, struct mwm_msg *msg, SMFICTX *smfi);
	/* Always called for a non-NULL ctx: after eom, on abort, or when
	   the connection closes. */
	void (*msg_end)(void *ctx);
	/* Optional: why the last step that returned -1 failed (for example
	   "spooling failed: ...: No space left on device"), for the
	   tempfail's log line; NULL if the processor has said so itself. */
	const char *(*error)(void *ctx);

	/* Optional.  Reads what the processor needs from a policy that has
	   just loaded (key tables, maps), before the milter switches to it:
	   -1 makes the milter keep the previous policy, so that a reload is
	   all or nothing.  Errors are logged only when log is set (the
	   supervisor loads quietly; its worker logs the same outcome). */
	int (*policy_loaded)(const struct mw_policy *policy, bool log);
	/* Optional: frees what policy_loaded kept, at exit. */
	void (*deinit)(void);
};

#define MWM_PROCESSOR_REJECT (-2)
#define MWM_PROCESSOR_TEMPFAIL (-3)

/* NULL-terminated, in the order the processors run. */
extern const struct mwm_processor *const mwm_processors[];

unsigned int mwm_processor_count(void);
/* Runs every processor's policy_loaded hook: 0, or -1 as soon as one
   fails.  With more than one processor a failure can leave the ones
   before it on their new state; there is one (S/MIME) today. */
int mwm_processors_policy_loaded(const struct mw_policy *policy, bool log);
void mwm_processors_deinit(void);
unsigned long mwm_processor_actions(void);

/* Each runs one step of every processor that takes part in msg, in
   order.  They return 0, or -1 with the failing processor's name in
   *failed_r; the message then tempfails.  mwm_processors_eom() passes
   MWM_PROCESSOR_REJECT and MWM_PROCESSOR_TEMPFAIL on. */
int mwm_processors_begin(struct mwm_msg *msg, const char **failed_r);
int mwm_processors_rcpt(struct mwm_msg *msg, const char *rcpt,
			const char **failed_r);
int mwm_processors_header(struct mwm_msg *msg, const char *name,
			  const char *value, const char **failed_r);
int mwm_processors_eoh(struct mwm_msg *msg, const char **failed_r);
int mwm_processors_body(struct mwm_msg *msg, const unsigned char *data,
			size_t size, const char **failed_r);
int mwm_processors_eom(struct mwm_msg *msg, SMFICTX *smfi,
		       const char **failed_r);
/* The reason the processor named failed (as set in *failed_r) gave for
   its failure in msg, or NULL. */
const char *mwm_processors_error(const struct mwm_msg *msg,
				 const char *failed);
/* True if some processor takes part in msg. */
bool mwm_processors_joined(const struct mwm_msg *msg);
/* Ends every processor's part in msg and frees its slots. */
void mwm_processors_end(struct mwm_msg *msg);

#endif
