#ifndef MAILWARD_FCRDNS_H
#define MAILWARD_FCRDNS_H

#include "mw-policy.h"

struct ip_addr;
struct event;

/* Forward-confirmed reverse DNS through Dovecot's dns-client: the PTR name
   of an address counts only if one of the name's addresses is the address
   itself.  Answers are cached per address (confirmed names for
   cache_ttl_secs, "no name" for negative_ttl_secs, failures not at all),
   the cache holds at most cache_size entries, and concurrent lookups of
   one address share one query. */
struct mailward_fcrdns;

/* host is the confirmed name for MW_HOST_FOUND, NULL otherwise.  It is
   valid only during the callback. */
typedef void mailward_fcrdns_callback_t(enum mw_host_state state,
					const char *host, void *context);

struct mailward_fcrdns *
mailward_fcrdns_init(const struct mw_dns_settings *set,
		     const char *dns_client_socket_path);
/* Aborts the lookups under way without calling their callbacks. */
void mailward_fcrdns_deinit(struct mailward_fcrdns **fcrdns);

/* Calls callback with the answer: at once for a cached one, otherwise
   from the ioloop after the lookup.  The caller keeps context alive until
   then.  event is the parent of the lookup's events. */
void mailward_fcrdns_lookup(struct mailward_fcrdns *fcrdns,
			    const struct ip_addr *ip, struct event *event,
			    mailward_fcrdns_callback_t *callback,
			    void *context);

#endif
