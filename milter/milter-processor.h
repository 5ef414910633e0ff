#ifndef MILTER_PROCESSOR_H
#define MILTER_PROCESSOR_H

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
	int (*header)(void *ctx, const char *name, const char *value);
	int (*eoh)(void *ctx);
	int (*body)(void *ctx, const unsigned char *data, size_t size);
	/* At the end of the message: the place to modify it through
	   smfi_* calls on smfi. */
	int (*eom)(void *ctx, struct mwm_msg *msg, SMFICTX *smfi);
	/* Always called for a non-NULL ctx: after eom, on abort, or when
	   the connection closes. */
	void (*msg_end)(void *ctx);
};

/* NULL-terminated, in the order the processors run. */
extern const struct mwm_processor *const mwm_processors[];

unsigned int mwm_processor_count(void);
unsigned long mwm_processor_actions(void);

#endif
