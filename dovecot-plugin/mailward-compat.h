#ifndef MAILWARD_COMPAT_H
#define MAILWARD_COMPAT_H

/* Everything the passdb needs that differs between Dovecot 2.3 and 2.4.
   configure probes the installed headers and defines MAILWARD_DOVECOT_2_4
   when they have the 2.4 interfaces; the rest of the code stays free of
   version tests.  The login plugin's side is in mailward-compat-login.h.

   2.3: passdb { driver = mailward  args = [nodelay] [quiet] PATH }
   2.4: passdb mailward { mailward_policy = PATH  mailward_nodelay = yes }
        with the settings registered through libmailward_settings.so,
        so that doveconf knows them (mailward-settings.c). */

#include "auth.h"
#include "passdb.h"
#include "mw-policy.h"

/* The passdb's options, whichever way they were given. */
struct mailward_passdb_options {
	const char *policy_path;
	/* answer a denial at once, without auth_failure_delay and the
	   per-address penalty */
	bool nodelay;
	/* log allowed logins at debug level only */
	bool quiet;
};

typedef struct passdb_module *
mailward_passdb_create_t(pool_t pool,
			 const struct mailward_passdb_options *options);

#ifdef MAILWARD_DOVECOT_2_4

/* Reads the options with settings_get() through the passdb's event.
   Returns 0, or -1 with error_r set. */
int mailward_passdb_options_get(pool_t pool, struct event *event,
				struct mailward_passdb_options *options_r,
				const char **error_r);

/* Defines the passdb interface's preinit, wrapper, around create. */
#define MAILWARD_PASSDB_PREINIT(wrapper, create) \
static int wrapper(pool_t pool, struct event *event, \
		   struct passdb_module **module_r, const char **error_r) \
{ \
	struct mailward_passdb_options options; \
	if (mailward_passdb_options_get(pool, event, &options, \
					error_r) < 0) \
		return -1; \
	*module_r = create(pool, &options); \
	return 0; \
}

static inline const char *
mailward_request_protocol(const struct auth_request *request)
{
	return request->fields.protocol;
}

/* A passdb as the configuration names it: "passdb NAME { }" */
static inline const char *
mailward_passdb_name(const struct auth_passdb *passdb)
{
	return passdb->name;
}

static inline enum mw_tls_state
mailward_request_tls(const struct auth_request *request)
{
	switch (request->fields.conn_secured) {
	case AUTH_REQUEST_CONN_SECURED_NONE:
		return MW_TLS_NONE;
	case AUTH_REQUEST_CONN_SECURED:
		/* local or from login_trusted_networks: not encrypted,
		   but as safe as TLS for cleartext passwords */
		return MW_TLS_SECURED;
	case AUTH_REQUEST_CONN_SECURED_TLS:
		return MW_TLS_ACTIVE;
	}
	return MW_TLS_UNKNOWN;
}

#else

/* Parses the passdb's args string: the policy file, optionally preceded
   by "nodelay" and "quiet".  Returns 0, or -1 with error_r set. */
int mailward_passdb_options_parse(pool_t pool, const char *args,
				  struct mailward_passdb_options *options_r,
				  const char **error_r);

/* 2.3's preinit has no way to return an error: a bad args string stops
   the auth process, as Dovecot's own drivers do. */
#define MAILWARD_PASSDB_PREINIT(wrapper, create) \
static struct passdb_module *wrapper(pool_t pool, const char *args) \
{ \
	struct mailward_passdb_options options; \
	const char *error; \
	if (mailward_passdb_options_parse(pool, args, &options, \
					  &error) < 0) \
		i_fatal("passdb mailward: %s", error); \
	return create(pool, &options); \
}

static inline const char *
mailward_request_protocol(const struct auth_request *request)
{
	return request->fields.service;
}

/* A passdb as the configuration names it: by its driver */
static inline const char *
mailward_passdb_name(const struct auth_passdb *passdb)
{
	return passdb->set->driver;
}

static inline enum mw_tls_state
mailward_request_tls(const struct auth_request *request)
{
	switch (request->fields.secured) {
	case AUTH_REQUEST_SECURED_NONE:
		return MW_TLS_NONE;
	case AUTH_REQUEST_SECURED:
		/* local or from login_trusted_networks: not encrypted,
		   but as safe as TLS for cleartext passwords */
		return MW_TLS_SECURED;
	case AUTH_REQUEST_SECURED_TLS:
		return MW_TLS_ACTIVE;
	}
	return MW_TLS_UNKNOWN;
}

#endif

#endif
