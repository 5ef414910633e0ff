/*
 * The refcounted policy swap.
 *
 * The same scheme as OpenDKIM's configuration reload: a lock guards only
 * the pointer to the current policy, never a load.  A session's reference
 * keeps its policy alive after a reload replaced it; mw_policy_unref()
 * frees it when the last one goes (the count is atomic in the policy
 * module, so no lock is needed to drop a reference).
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "milter-config.h"
#include "milter-log.h"
#include "milter-processor.h"

static pthread_mutex_t mwm_config_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mw_policy *mwm_config_current;
static char *mwm_config_path;

static void mwm_config_log_diags(struct mw_diags *diags)
{
	unsigned int i, count = mw_diags_count(diags);

	for (i = 0; i < count; i++) {
		const struct mw_diag *d = mw_diags_get(diags, i);

		mwm_log(d->severity == MW_SEVERITY_ERROR ? LOG_ERR : LOG_WARNING,
			"%s:%u:%u: %s", d->file != NULL ? d->file : "-",
			d->line, d->column, d->message);
	}
}

int mwm_config_init(const char *path)
{
	struct mw_policy *policy;
	struct mw_diags *diags;
	int ret;

	ret = mw_policy_load(path, &policy, &diags);
	mwm_config_log_diags(diags);
	mw_diags_free(&diags);
	if (ret < 0)
		return -1;
	if (mwm_processors_policy_loaded(policy, true) < 0) {
		mw_policy_unref(&policy);
		return -1;
	}

	mwm_config_path = strdup(path);
	if (mwm_config_path == NULL) {
		mw_policy_unref(&policy);
		mwm_log(LOG_ERR, "out of memory");
		return -1;
	}
	mwm_config_current = policy;
	return 0;
}

int mwm_config_reload(bool log)
{
	struct mw_policy *policy, *old;
	struct mw_diags *diags;

	if (mw_policy_load(mwm_config_path, &policy, &diags) < 0) {
		const char *error = mw_diags_first_error(diags);

		if (log) {
			mwm_log(LOG_ERR, "reload failed, keeping the current policy: %s",
				error != NULL ? error : "unknown error");
		}
		mw_diags_free(&diags);
		return -1;
	}
	/* Warnings only; errors would have failed the load. */
	if (log)
		mwm_config_log_diags(diags);
	mw_diags_free(&diags);
	/* What the processors read from the policy (the S/MIME key table)
	   is part of it: if that fails, the whole reload does. */
	if (mwm_processors_policy_loaded(policy, log) < 0) {
		if (log)
			mwm_log(LOG_ERR, "reload failed, keeping the current policy");
		mw_policy_unref(&policy);
		return -1;
	}

	pthread_mutex_lock(&mwm_config_lock);
	old = mwm_config_current;
	mwm_config_current = policy;
	pthread_mutex_unlock(&mwm_config_lock);

	/* Sessions still holding the old policy keep it alive. */
	mw_policy_unref(&old);
	if (log)
		mwm_log(LOG_INFO, "policy reloaded from %s", mwm_config_path);
	return 0;
}

struct mw_policy *mwm_config_acquire(void)
{
	struct mw_policy *policy;

	pthread_mutex_lock(&mwm_config_lock);
	policy = mwm_config_current;
	mw_policy_ref(policy);
	pthread_mutex_unlock(&mwm_config_lock);
	return policy;
}

void mwm_config_deinit(void)
{
	pthread_mutex_lock(&mwm_config_lock);
	mw_policy_unref(&mwm_config_current);
	pthread_mutex_unlock(&mwm_config_lock);
	mwm_processors_deinit();
	free(mwm_config_path);
	mwm_config_path = NULL;
}
