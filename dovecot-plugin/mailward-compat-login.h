#ifndef MAILWARD_COMPAT_LOGIN_H
#define MAILWARD_COMPAT_LOGIN_H

/* What the login plugin needs that differs between Dovecot 2.3 and 2.4
   (see mailward-compat.h for how the version is chosen).

   The setting changes below act on this client's own copy of the
   settings: login processes look the settings up per connection, so other
   clients keep theirs.  The copy shares the original's pool, which
   Dovecot releases with the client as before. */

#include "client-common.h"

#ifdef MAILWARD_DOVECOT_2_4

#include "ssl-settings.h"
#include "login-settings.h"
#include "master-service.h"
#include "master-service-settings.h"
#include "settings.h"

/* base_dir, where the login directory with the policy image is.
   Returns NULL with error_r if the settings cannot be read. */
static inline const char *
mailward_login_base_dir(const char **error_r)
{
	const struct master_service_settings *set;
	const char *base_dir;

	if (settings_get(master_service_get_event(master_service),
			 &master_service_setting_parser_info, 0,
			 &set, error_r) < 0)
		return NULL;
	base_dir = t_strdup(set->base_dir);
	settings_free(set);
	return base_dir;
}

/* Dovecot's own switch for cleartext mechanisms outside TLS, as the
   log names it: refusing, and allowing. */
#define MAILWARD_LOGIN_CLEARTEXT_OFF "auth_allow_cleartext = no"
#define MAILWARD_LOGIN_CLEARTEXT_ON "auth_allow_cleartext = yes"

/* TLS, a local connection or one from login_trusted_networks */
static inline bool mailward_login_secured(const struct client *client)
{
	return client->connection_secured;
}

/* TLS on this connection (Dovecot's or a trusted HAProxy's) */
static inline bool mailward_login_tls_secured(const struct client *client)
{
	return client->connection_tls_secured;
}

/* Treats the connection as not secured (neither for Dovecot's plaintext
   checks nor for the passdb, which gets "secured" from this flag). */
static inline void mailward_login_set_unsecured(struct client *client)
{
	client->connection_secured = FALSE;
}

static inline bool mailward_login_ssl_disabled(const struct client *client)
{
	return strcmp(client->ssl_server_set->ssl, "no") == 0;
}

static inline bool
mailward_login_cleartext_allowed(const struct client *client)
{
	return client->set->auth_allow_cleartext;
}

/* As auth_allow_cleartext = no for this client. */
static inline void mailward_login_forbid_cleartext(struct client *client)
{
	struct login_settings *set;

	set = p_memdup(client->pool, client->set, sizeof(*client->set));
	set->auth_allow_cleartext = FALSE;
	client->set = set;
}

/* As ssl = required for this client.  2.4 asserts that ssl = required
   never comes with auth_allow_cleartext = yes, which would mean nothing
   anyway, so cleartext goes too. */
static inline void mailward_login_require_tls(struct client *client)
{
	struct ssl_server_settings *ssl_set;

	ssl_set = p_memdup(client->pool, client->ssl_server_set,
			   sizeof(*client->ssl_server_set));
	ssl_set->ssl = "required";
	client->ssl_server_set = ssl_set;
	if (mailward_login_cleartext_allowed(client))
		mailward_login_forbid_cleartext(client);
}

#else

#include "master-service.h"
#include "master-service-ssl-settings.h"
#include "master-service-settings.h"
#include "login-settings.h"

static inline const char *
mailward_login_base_dir(const char **error_r ATTR_UNUSED)
{
	return master_service_settings_get(master_service)->base_dir;
}
#define MAILWARD_LOGIN_CLEARTEXT_OFF "disable_plaintext_auth = yes"
#define MAILWARD_LOGIN_CLEARTEXT_ON "disable_plaintext_auth = no"

static inline bool mailward_login_secured(const struct client *client)
{
	return client->secured;
}

static inline bool mailward_login_tls_secured(const struct client *client)
{
	return client->ssl_secured;
}

static inline void mailward_login_set_unsecured(struct client *client)
{
	client->secured = FALSE;
}

static inline bool mailward_login_ssl_disabled(const struct client *client)
{
	return strcmp(client->ssl_set->ssl, "no") == 0;
}

static inline bool
mailward_login_cleartext_allowed(const struct client *client)
{
	return !client->set->disable_plaintext_auth;
}

/* As disable_plaintext_auth = yes for this client. */
static inline void mailward_login_forbid_cleartext(struct client *client)
{
	struct login_settings *set;

	set = p_memdup(client->pool, client->set, sizeof(*client->set));
	set->disable_plaintext_auth = TRUE;
	client->set = set;
}

/* As ssl = required for this client. */
static inline void mailward_login_require_tls(struct client *client)
{
	struct master_service_ssl_settings *ssl_set;

	ssl_set = p_memdup(client->pool, client->ssl_set,
			   sizeof(*client->ssl_set));
	ssl_set->ssl = "required";
	client->ssl_set = ssl_set;
}

#endif

#endif
