/* Loading a policy as a whole, and its lifetime. */

#include "mw-policy-private.h"
#include "mw-arena.h"
#include "mw-ast.h"
#include "mw-diag.h"
#include "mw-util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct mw_policy *mw_policy_new(const char *path)
{
	struct mw_policy *policy = mw_xcalloc(1, sizeof(*policy));

	atomic_init(&policy->refcount, 1);
	policy->arena = mw_arena_new();
	policy->path = mw_arena_strdup(policy->arena, path);
	return policy;
}

/* The parse tree lives in the policy's arena too; it is small next to
   the address tables, and one arena keeps unloading a single free. */
static int mw_policy_finish(struct mw_policy *policy, struct mw_diags *diags,
			    int parse_ret, const struct mw_ast_node *nodes,
			    struct mw_policy **policy_r)
{
	int ret;

	/* Validate even after parse errors: one pass reports both kinds. */
	ret = mw_validate(policy, diags, nodes) < 0 || parse_ret < 0 ? -1 : 0;
	mw_diags_sort(diags);
	if (ret < 0) {
		mw_policy_unref(&policy);
		*policy_r = NULL;
		return -1;
	}
	*policy_r = policy;
	return 0;
}

int mw_policy_load(const char *path, struct mw_policy **policy_r,
		   struct mw_diags **diags_r)
{
	struct mw_policy *policy = mw_policy_new(path);
	struct mw_ast_node *nodes;
	int ret;

	*diags_r = mw_diags_new();
	ret = mw_parse_file(policy->arena, *diags_r, path, &nodes);
	if (ret < 0 && nodes == NULL) {
		mw_diags_sort(*diags_r);
		mw_policy_unref(&policy);
		*policy_r = NULL;
		return -1;
	}
	return mw_policy_finish(policy, *diags_r, ret, nodes, policy_r);
}

int mw_policy_load_buffer(const char *name, const char *data, size_t size,
			  struct mw_policy **policy_r,
			  struct mw_diags **diags_r)
{
	struct mw_policy *policy = mw_policy_new(name);
	struct mw_ast_node *nodes;
	int ret;

	*diags_r = mw_diags_new();
	ret = mw_parse_buffer(policy->arena, *diags_r, name, data, size, &nodes);
	if (ret < 0 && nodes == NULL) {
		mw_diags_sort(*diags_r);
		mw_policy_unref(&policy);
		*policy_r = NULL;
		return -1;
	}
	return mw_policy_finish(policy, *diags_r, ret, nodes, policy_r);
}

void mw_policy_ref(struct mw_policy *policy)
{
	atomic_fetch_add_explicit(&policy->refcount, 1, memory_order_relaxed);
}

void mw_policy_unref(struct mw_policy **_policy)
{
	struct mw_policy *policy = *_policy;

	if (policy == NULL)
		return;
	*_policy = NULL;
	/* Release so that the last holder sees every write made before
	   the other references were dropped. */
	if (atomic_fetch_sub_explicit(&policy->refcount, 1,
				      memory_order_acq_rel) != 1)
		return;
	mw_arena_free(&policy->arena);
	free(policy);
}

const struct mw_dns_settings *mw_policy_dns(const struct mw_policy *policy)
{
	return &policy->dns;
}

const struct mw_smime_settings *mw_policy_smime(const struct mw_policy *policy)
{
	return &policy->smime;
}

bool mw_smime_signs_service(const struct mw_smime_settings *smime,
			    const char *service)
{
	static const char *const defaults[] = {
		"submission", "submissions", NULL
	};
	const char *const *list = smime->services != NULL ? smime->services :
		defaults;
	unsigned int i;

	for (i = 0; service != NULL && list[i] != NULL; i++) {
		if (strcmp(list[i], service) == 0)
			return true;
	}
	return false;
}

const char *mw_policy_service_for_daemon(const struct mw_policy *policy,
					 const char *daemon_name)
{
	unsigned int lo = 0, hi = policy->daemon_count, mid;
	int cmp;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		cmp = strcmp(daemon_name, policy->daemons[mid].name);
		if (cmp == 0)
			return policy->daemons[mid].service->name;
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

unsigned int mw_policy_partner_count(const struct mw_policy *policy)
{
	return policy->partner_count;
}

const struct mw_partner *
mw_policy_partner(const struct mw_policy *policy, unsigned int idx)
{
	return idx < policy->partner_count ? &policy->partners[idx] : NULL;
}

const struct mw_partner *
mw_policy_partner_find(const struct mw_policy *policy, const char *domain)
{
	size_t len = strlen(domain);
	unsigned int i;

	/* A trailing root dot is the same domain. */
	if (len > 0 && domain[len - 1] == '.')
		len--;
	for (i = 0; i < policy->partner_count; i++) {
		if (strlen(policy->partners[i].domain) == len &&
		    strncasecmp(policy->partners[i].domain, domain, len) == 0)
			return &policy->partners[i];
	}
	return NULL;
}
