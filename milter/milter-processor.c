/* The registry of message processors (see milter-processor.h). */

#include <stdlib.h>

#include "milter-processor.h"

#ifdef MWM_TEST_PROCESSOR
/* tests/milter/test-processor.c takes the place of the real processors
   in the test build of the daemon. */
extern const struct mwm_processor mwm_test_processor;
#else
#include "smime/smime-processor.h"
#endif

const struct mwm_processor *const mwm_processors[] = {
#ifdef MWM_TEST_PROCESSOR
	&mwm_test_processor,
#else
	&mwm_smime_processor,
#endif
	NULL
};

unsigned int mwm_processor_count(void)
{
	unsigned int n = 0;

	while (mwm_processors[n] != NULL)
		n++;
	return n;
}

int mwm_processors_policy_loaded(const struct mw_policy *policy, bool log)
{
	unsigned int i;

	for (i = 0; mwm_processors[i] != NULL; i++) {
		if (mwm_processors[i]->policy_loaded != NULL &&
		    mwm_processors[i]->policy_loaded(policy, log) < 0)
			return -1;
	}
	return 0;
}

void mwm_processors_deinit(void)
{
	unsigned int i;

	for (i = 0; mwm_processors[i] != NULL; i++) {
		if (mwm_processors[i]->deinit != NULL)
			mwm_processors[i]->deinit();
	}
}

unsigned long mwm_processor_actions(void)
{
	unsigned long actions = 0;
	unsigned int i;

	for (i = 0; mwm_processors[i] != NULL; i++)
		actions |= mwm_processors[i]->actions;
	return actions;
}

int mwm_processors_begin(struct mwm_msg *msg, const char **failed_r)
{
	unsigned int i, count = mwm_processor_count();

	if (count == 0)
		return 0;
	msg->proc_ctx = calloc(count, sizeof(*msg->proc_ctx));
	if (msg->proc_ctx == NULL) {
		*failed_r = "message set-up";
		return -1;
	}
	for (i = 0; i < count; i++) {
		if (mwm_processors[i]->msg_begin(msg, &msg->proc_ctx[i]) < 0) {
			*failed_r = mwm_processors[i]->name;
			return -1;
		}
	}
	return 0;
}

/* The processors that take part in msg: i is theirs while this holds. */
static bool mwm_processor_joined(const struct mwm_msg *msg, unsigned int i)
{
	return msg->proc_ctx[i] != NULL;
}

int mwm_processors_rcpt(struct mwm_msg *msg, const char *rcpt,
			const char **failed_r)
{
	unsigned int i;

	for (i = 0; msg->proc_ctx != NULL && mwm_processors[i] != NULL; i++) {
		if (mwm_processor_joined(msg, i) &&
		    mwm_processors[i]->rcpt != NULL &&
		    mwm_processors[i]->rcpt(msg->proc_ctx[i], rcpt) < 0) {
			*failed_r = mwm_processors[i]->name;
			return -1;
		}
	}
	return 0;
}

int mwm_processors_header(struct mwm_msg *msg, const char *name,
			  const char *value, const char **failed_r)
{
	unsigned int i;

	for (i = 0; msg->proc_ctx != NULL && mwm_processors[i] != NULL; i++) {
		if (mwm_processor_joined(msg, i) &&
		    mwm_processors[i]->header(msg->proc_ctx[i], name, value) < 0) {
			*failed_r = mwm_processors[i]->name;
			return -1;
		}
	}
	return 0;
}

int mwm_processors_eoh(struct mwm_msg *msg, const char **failed_r)
{
	unsigned int i;

	for (i = 0; msg->proc_ctx != NULL && mwm_processors[i] != NULL; i++) {
		if (mwm_processor_joined(msg, i) &&
		    mwm_processors[i]->eoh(msg->proc_ctx[i]) < 0) {
			*failed_r = mwm_processors[i]->name;
			return -1;
		}
	}
	return 0;
}

int mwm_processors_body(struct mwm_msg *msg, const unsigned char *data,
			size_t size, const char **failed_r)
{
	unsigned int i;

	for (i = 0; msg->proc_ctx != NULL && mwm_processors[i] != NULL; i++) {
		if (mwm_processor_joined(msg, i) &&
		    mwm_processors[i]->body(msg->proc_ctx[i], data, size) < 0) {
			*failed_r = mwm_processors[i]->name;
			return -1;
		}
	}
	return 0;
}

int mwm_processors_eom(struct mwm_msg *msg, SMFICTX *smfi,
		       const char **failed_r)
{
	unsigned int i;

	for (i = 0; msg->proc_ctx != NULL && mwm_processors[i] != NULL; i++) {
		int ret;

		if (!mwm_processor_joined(msg, i))
			continue;
		ret = mwm_processors[i]->eom(msg->proc_ctx[i], msg, smfi);
		if (ret < 0) {
			*failed_r = mwm_processors[i]->name;
			return ret == MWM_PROCESSOR_REJECT ||
				ret == MWM_PROCESSOR_TEMPFAIL ? ret : -1;
		}
	}
	return 0;
}

const char *mwm_processors_error(const struct mwm_msg *msg,
				 const char *failed)
{
	unsigned int i;

	for (i = 0; msg->proc_ctx != NULL && mwm_processors[i] != NULL; i++) {
		if (mwm_processors[i]->name == failed) {
			if (!mwm_processor_joined(msg, i) ||
			    mwm_processors[i]->error == NULL)
				return NULL;
			return mwm_processors[i]->error(msg->proc_ctx[i]);
		}
	}
	return NULL;
}

bool mwm_processors_joined(const struct mwm_msg *msg)
{
	unsigned int i;

	for (i = 0; msg->proc_ctx != NULL && mwm_processors[i] != NULL; i++) {
		if (mwm_processor_joined(msg, i))
			return true;
	}
	return false;
}

void mwm_processors_end(struct mwm_msg *msg)
{
	unsigned int i;

	for (i = 0; msg->proc_ctx != NULL && mwm_processors[i] != NULL; i++) {
		if (mwm_processor_joined(msg, i))
			mwm_processors[i]->msg_end(msg->proc_ctx[i]);
	}
	free(msg->proc_ctx);
	msg->proc_ctx = NULL;
}
