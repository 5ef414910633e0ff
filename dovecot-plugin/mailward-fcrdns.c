/* Forward-confirmed reverse DNS with a per-address cache.

   One entry per client address.  While its lookup runs the entry collects
   waiters, so that a burst of logins from one address costs one PTR and
   one forward query.  The entries form a list in order of creation; when
   the cache is full the oldest finished entry goes first.  The policy's
   timeout bounds the PTR and the forward lookup together. */

#include "lib.h"
#include "array.h"
#include "hash.h"
#include "ioloop.h"
#include "llist.h"
#include "net.h"
#include "time-util.h"
#include "dns-lookup.h"
#include "mailward-fcrdns.h"

#include <netdb.h>

struct mailward_fcrdns_waiter {
	mailward_fcrdns_callback_t *callback;
	void *context;
};
ARRAY_DEFINE_TYPE(mailward_fcrdns_waiter, struct mailward_fcrdns_waiter);

struct mailward_fcrdns_entry {
	/* in order of creation, oldest first */
	struct mailward_fcrdns_entry *prev, *next;
	struct mailward_fcrdns *fcrdns;

	struct ip_addr ip;
	enum mw_host_state state;
	char *host;
	time_t expires;

	/* set while a lookup runs */
	struct dns_lookup *lookup;
	struct event *event;
	struct timeval started;
	ARRAY_TYPE(mailward_fcrdns_waiter) waiters;
};

struct mailward_fcrdns {
	struct mw_dns_settings set;
	char *socket_path;

	HASH_TABLE(struct ip_addr *, struct mailward_fcrdns_entry *) entries;
	struct mailward_fcrdns_entry *oldest, *newest;
};

static void mailward_fcrdns_entry_free(struct mailward_fcrdns_entry *entry)
{
	struct mailward_fcrdns *fcrdns = entry->fcrdns;

	hash_table_remove(fcrdns->entries, &entry->ip);
	DLLIST2_REMOVE(&fcrdns->oldest, &fcrdns->newest, entry);
	if (entry->lookup != NULL)
		dns_lookup_abort(&entry->lookup);
	event_unref(&entry->event);
	array_free(&entry->waiters);
	i_free(entry->host);
	i_free(entry);
}

static bool mailward_fcrdns_is_no_name(int ret)
{
	/* "no such name" is an answer, to be cached; anything else (a
	   time-out, a server failure) is a failed lookup */
	if (ret == EAI_NONAME)
		return TRUE;
#ifdef EAI_NODATA
	if (ret == EAI_NODATA)
		return TRUE;
#endif
	return FALSE;
}

/* Ends a lookup: entry->host holds the PTR name, which only
   MW_HOST_FOUND keeps. */
static void
mailward_fcrdns_finish(struct mailward_fcrdns_entry *entry,
		       enum mw_host_state state)
{
	struct mailward_fcrdns *fcrdns = entry->fcrdns;
	const struct mailward_fcrdns_waiter *waiter;
	ARRAY_TYPE(mailward_fcrdns_waiter) waiters;
	const char *host;

	entry->state = state;
	if (state != MW_HOST_FOUND)
		i_free(entry->host);
	host = entry->host;
	switch (state) {
	case MW_HOST_FOUND:
		entry->expires = ioloop_time + fcrdns->set.cache_ttl_secs;
		break;
	case MW_HOST_NONE:
		entry->expires = ioloop_time + fcrdns->set.negative_ttl_secs;
		break;
	case MW_HOST_NOT_LOOKED_UP:
	case MW_HOST_FAILED:
		/* a failure is retried by the next login */
		entry->expires = 0;
		break;
	}

	/* The callbacks may start new lookups, even for this address, so
	   take the waiters out and leave the entry consistent first. */
	waiters = entry->waiters;
	i_zero(&entry->waiters);
	i_array_init(&entry->waiters, 2);
	event_unref(&entry->event);
	if (entry->expires <= ioloop_time) {
		host = t_strdup(host);
		mailward_fcrdns_entry_free(entry);
	}
	array_foreach(&waiters, waiter)
		waiter->callback(state, host, waiter->context);
	array_free(&waiters);
}

/* What is left of the policy's time-out for the next query (at least 1
   ms, so that an exhausted budget still ends in a time-out answer). */
static unsigned int
mailward_fcrdns_msecs_left(const struct mailward_fcrdns_entry *entry)
{
	long long spent = timeval_diff_msecs(&ioloop_timeval, &entry->started);
	long long budget = entry->fcrdns->set.timeout_msecs;

	return spent >= budget ? 1 : (unsigned int)(budget - spent);
}

static void
mailward_fcrdns_settings(struct mailward_fcrdns_entry *entry,
			 struct dns_lookup_settings *set_r)
{
	i_zero(set_r);
	set_r->dns_client_socket_path = entry->fcrdns->socket_path;
	set_r->timeout_msecs = mailward_fcrdns_msecs_left(entry);
	set_r->event_parent = entry->event;
}

static void
mailward_fcrdns_forward_callback(const struct dns_lookup_result *result,
				 struct mailward_fcrdns_entry *entry)
{
	unsigned int i;

	entry->lookup = NULL;
	if (result->ret != 0) {
		e_debug(entry->event, "forward lookup failed: %s",
			result->error);
		mailward_fcrdns_finish(entry,
			mailward_fcrdns_is_no_name(result->ret) ?
			MW_HOST_NONE : MW_HOST_FAILED);
		return;
	}
	for (i = 0; i < result->ips_count; i++) {
		if (net_ip_compare(&result->ips[i], &entry->ip)) {
			mailward_fcrdns_finish(entry, MW_HOST_FOUND);
			return;
		}
	}
	e_debug(entry->event, "%s does not resolve back to the address",
		entry->host);
	mailward_fcrdns_finish(entry, MW_HOST_NONE);
}

static void
mailward_fcrdns_ptr_callback(const struct dns_lookup_result *result,
			     struct mailward_fcrdns_entry *entry)
{
	struct dns_lookup_settings set;

	entry->lookup = NULL;
	if (result->ret != 0) {
		e_debug(entry->event, "PTR lookup failed: %s", result->error);
		mailward_fcrdns_finish(entry,
			mailward_fcrdns_is_no_name(result->ret) ?
			MW_HOST_NONE : MW_HOST_FAILED);
		return;
	}
	/* kept in entry->host until the forward lookup confirms it */
	entry->host = i_strdup(result->name);
	mailward_fcrdns_settings(entry, &set);
	(void)dns_lookup(entry->host, &set, mailward_fcrdns_forward_callback,
			 entry, &entry->lookup);
	/* on failure the callback has already run and may have freed entry */
}

static void mailward_fcrdns_evict(struct mailward_fcrdns *fcrdns)
{
	struct mailward_fcrdns_entry *entry, *next;

	for (entry = fcrdns->oldest; entry != NULL; entry = next) {
		if (hash_table_count(fcrdns->entries) < fcrdns->set.cache_size)
			break;
		next = entry->next;
		/* a running lookup has waiters: it stays until it ends */
		if (entry->lookup == NULL)
			mailward_fcrdns_entry_free(entry);
	}
}

static void
mailward_fcrdns_start(struct mailward_fcrdns *fcrdns,
		      const struct ip_addr *ip, struct event *event,
		      mailward_fcrdns_callback_t *callback, void *context)
{
	struct mailward_fcrdns_entry *entry;
	struct mailward_fcrdns_waiter *waiter;
	struct dns_lookup_settings set;

	mailward_fcrdns_evict(fcrdns);

	entry = i_new(struct mailward_fcrdns_entry, 1);
	entry->fcrdns = fcrdns;
	entry->ip = *ip;
	entry->started = ioloop_timeval;
	i_array_init(&entry->waiters, 2);
	entry->event = event_create(event);
	event_set_append_log_prefix(entry->event, t_strdup_printf(
		"fcrdns(%s): ", net_ip2addr(ip)));
	hash_table_insert(fcrdns->entries, &entry->ip, entry);
	DLLIST2_APPEND(&fcrdns->oldest, &fcrdns->newest, entry);

	waiter = array_append_space(&entry->waiters);
	waiter->callback = callback;
	waiter->context = context;

	mailward_fcrdns_settings(entry, &set);
	(void)dns_lookup_ptr(&entry->ip, &set, mailward_fcrdns_ptr_callback,
			     entry, &entry->lookup);
	/* on failure the callback has already run and may have freed entry */
}

void mailward_fcrdns_lookup(struct mailward_fcrdns *fcrdns,
			    const struct ip_addr *ip, struct event *event,
			    mailward_fcrdns_callback_t *callback,
			    void *context)
{
	struct mailward_fcrdns_entry *entry;
	struct mailward_fcrdns_waiter *waiter;

	entry = hash_table_lookup(fcrdns->entries, ip);
	if (entry != NULL && entry->lookup != NULL) {
		/* a lookup of this address is under way: share it */
		waiter = array_append_space(&entry->waiters);
		waiter->callback = callback;
		waiter->context = context;
		return;
	}
	if (entry != NULL && entry->expires > ioloop_time) {
		e_debug(event, "fcrdns(%s): cached", net_ip2addr(ip));
		callback(entry->state, entry->host, context);
		return;
	}
	if (entry != NULL)
		mailward_fcrdns_entry_free(entry);
	mailward_fcrdns_start(fcrdns, ip, event, callback, context);
}

struct mailward_fcrdns *
mailward_fcrdns_init(const struct mw_dns_settings *set,
		     const char *dns_client_socket_path)
{
	struct mailward_fcrdns *fcrdns;

	fcrdns = i_new(struct mailward_fcrdns, 1);
	fcrdns->set = *set;
	if (fcrdns->set.cache_size == 0)
		fcrdns->set.cache_size = 1;
	fcrdns->socket_path = i_strdup(dns_client_socket_path);
	hash_table_create(&fcrdns->entries, default_pool, 0,
			  net_ip_hash, net_ip_cmp);
	return fcrdns;
}

void mailward_fcrdns_deinit(struct mailward_fcrdns **_fcrdns)
{
	struct mailward_fcrdns *fcrdns = *_fcrdns;

	*_fcrdns = NULL;
	while (fcrdns->oldest != NULL)
		mailward_fcrdns_entry_free(fcrdns->oldest);
	hash_table_destroy(&fcrdns->entries);
	i_free(fcrdns->socket_path);
	i_free(fcrdns);
}
