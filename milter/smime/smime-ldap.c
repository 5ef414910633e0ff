/*
 * The LDAP certificate source: settings, the connection pool and the
 * lookup.
 *
 * libmilter runs each SMTP session in a thread of its own, and a lookup
 * runs in the session's thread.  Up to max_connections connections are
 * open at once; a lookup takes an idle one, or opens one while under the
 * limit, or waits for one to come back, all within its time-out.  The
 * mutex guards only the pool and the cache: it is never held across
 * network I/O, so a hanging server delays the lookups waiting for it
 * and no others (a cache hit never waits).
 */

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldap.h>
#include <openssl/crypto.h>

#include "mw-smime.h"
#include "smime-ldap-private.h"

struct mw_smime_ldap {
	char *uri, *base, *filter, *bind_dn, *ca_file;
	unsigned char *password;
	size_t password_len, password_alloc;
	bool starttls;
	unsigned int timeout_msecs, cache_ttl, negative_ttl, max_connections;

	pthread_mutex_t mutex;
	pthread_cond_t cond;	/* a connection came back or was closed */
	struct mw_smime_ldap_conn **idle;
	unsigned int idle_count, open_count;
	struct mw_smime_ldap_cache *cache;
	struct mw_smime_ldap_stats stats;
};

static int mw_smime_ldap_strdup(char **dst, const char *src)
{
	if (src == NULL) {
		*dst = NULL;
		return 0;
	}
	*dst = strdup(src);
	return *dst == NULL ? -1 : 0;
}

/* The password file: one line, the password; checked like a private key
   (mw_smime_file_read()), since it is as secret. */
static int mw_smime_ldap_read_password(struct mw_smime_ldap *ldap,
				       const char *path, char **error_r)
{
	char error[512];
	unsigned char *data;
	size_t size;

	if (mw_smime_file_read(path, MW_SMIME_FILE_KEY, false, &data, &size,
			       error, sizeof(error)) < 0) {
		mw_smime_ldap_error(error_r, "LDAP password file %s", error);
		return -1;
	}
	ldap->password_alloc = size;
	if (size > 0 && data[size - 1] == '\n')
		size--;
	if (size > 0 && data[size - 1] == '\r')
		size--;
	ldap->password = data;
	ldap->password_len = size;
	/* RFC 4513 5.1.2: a simple bind with a DN and no password is an
	   unauthenticated bind, which servers accept as anonymous. */
	if (size == 0) {
		mw_smime_ldap_error(error_r, "LDAP password file %s: empty",
					path);
		return -1;
	}
	if (memchr(data, '\n', size) != NULL || memchr(data, '\0', size) != NULL) {
		mw_smime_ldap_error(error_r, "LDAP password file %s: more "
					"than one line", path);
		return -1;
	}
	return 0;
}

static int mw_smime_ldap_check(const struct mw_smime_ldap_settings *set,
			       char **error_r)
{
	LDAP *ld;
	int rc;

	if (set->uri == NULL || (strncasecmp(set->uri, "ldap://", 7) != 0 &&
				 strncasecmp(set->uri, "ldaps://", 8) != 0)) {
		mw_smime_ldap_error(error_r, "LDAP uri must be ldap:// or "
					"ldaps://");
		return -1;
	}
	/* parses the URI without connecting */
	rc = ldap_initialize(&ld, set->uri);
	if (rc != LDAP_SUCCESS) {
		mw_smime_ldap_error(error_r, "LDAP uri %s: %s", set->uri,
					ldap_err2string(rc));
		return -1;
	}
	(void)ldap_unbind_ext(ld, NULL, NULL);
	if (set->base == NULL || set->filter == NULL ||
	    strstr(set->filter, "%s") == NULL) {
		mw_smime_ldap_error(error_r, "LDAP needs a base and a filter "
					"with %%s for the address");
		return -1;
	}
	if ((set->bind_dn == NULL) != (set->password_file == NULL)) {
		mw_smime_ldap_error(error_r, "LDAP bind_dn and password_file "
					"go together");
		return -1;
	}
	if (set->timeout_msecs == 0 || set->max_connections == 0) {
		mw_smime_ldap_error(error_r, "LDAP timeout and "
					"max_connections must be positive");
		return -1;
	}
	return 0;
}

int mw_smime_ldap_new(const struct mw_smime_ldap_settings *set,
		      struct mw_smime_ldap **ldap_r, char **error_r)
{
	struct mw_smime_ldap *ldap;
	pthread_condattr_t attr;

	*ldap_r = NULL;
	*error_r = NULL;
	if (mw_smime_ldap_check(set, error_r) < 0)
		return -1;
	ldap = calloc(1, sizeof(*ldap));
	if (ldap == NULL)
		goto nomem;
	pthread_mutex_init(&ldap->mutex, NULL);
	/* waits end at a CLOCK_MONOTONIC deadline, unmoved by clock steps */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&ldap->cond, &attr);
	pthread_condattr_destroy(&attr);
	ldap->starttls = set->starttls;
	ldap->timeout_msecs = set->timeout_msecs;
	ldap->cache_ttl = set->cache_ttl_secs;
	ldap->negative_ttl = set->negative_ttl_secs;
	ldap->max_connections = set->max_connections;
	if (mw_smime_ldap_strdup(&ldap->uri, set->uri) < 0 ||
	    mw_smime_ldap_strdup(&ldap->base, set->base) < 0 ||
	    mw_smime_ldap_strdup(&ldap->filter, set->filter) < 0 ||
	    mw_smime_ldap_strdup(&ldap->bind_dn, set->bind_dn) < 0 ||
	    mw_smime_ldap_strdup(&ldap->ca_file, set->ca_file) < 0 ||
	    (ldap->idle = calloc(set->max_connections, sizeof(*ldap->idle))) == NULL ||
	    (ldap->cache = mw_smime_ldap_cache_new(set->cache_max_entries)) == NULL) {
		mw_smime_ldap_free(&ldap);
		goto nomem;
	}
	if (set->password_file != NULL &&
	    mw_smime_ldap_read_password(ldap, set->password_file, error_r) < 0) {
		mw_smime_ldap_free(&ldap);
		return -1;
	}
	*ldap_r = ldap;
	return 0;
nomem:
	mw_smime_ldap_error(error_r, "out of memory");
	return -1;
}

/* libldap writes to its sockets without MSG_NOSIGNAL, and a write to a
   connection the server has reset (or an asynchronous connect refused)
   raises SIGPIPE, which kills mailward-milter's worker (it keeps the
   default action so that it dies with its supervisor).  So the thread
   doing LDAP I/O blocks SIGPIPE meanwhile and drops what it raised. */
struct mw_smime_ldap_sigpipe {
	sigset_t old;
	bool was_pending;
};

static void mw_smime_ldap_sigpipe_block(struct mw_smime_ldap_sigpipe *sp)
{
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sp->was_pending = sigpending(&pending) == 0 &&
		sigismember(&pending, SIGPIPE) == 1;
	(void)pthread_sigmask(SIG_BLOCK, &set, &sp->old);
}

static void mw_smime_ldap_sigpipe_restore(struct mw_smime_ldap_sigpipe *sp)
{
	static const struct timespec zero = { 0, 0 };
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (!sp->was_pending && sigpending(&pending) == 0 &&
	    sigismember(&pending, SIGPIPE) == 1)
		(void)sigtimedwait(&set, NULL, &zero);
	(void)pthread_sigmask(SIG_SETMASK, &sp->old, NULL);
}

/* Every lookup has returned by now: the caller frees the source only
   when no session uses it. */
void mw_smime_ldap_free(struct mw_smime_ldap **_ldap)
{
	struct mw_smime_ldap *ldap = *_ldap;

	struct mw_smime_ldap_sigpipe sp;

	if (ldap == NULL)
		return;
	*_ldap = NULL;
	mw_smime_ldap_sigpipe_block(&sp);
	while (ldap->idle_count > 0)
		mw_smime_ldap_conn_close(&ldap->idle[--ldap->idle_count]);
	mw_smime_ldap_sigpipe_restore(&sp);
	mw_smime_ldap_cache_free(&ldap->cache);
	if (ldap->password != NULL)
		mw_smime_file_data_free(&ldap->password, ldap->password_alloc);
	pthread_cond_destroy(&ldap->cond);
	pthread_mutex_destroy(&ldap->mutex);
	free(ldap->idle);
	free(ldap->uri);
	free(ldap->base);
	free(ldap->filter);
	free(ldap->bind_dn);
	free(ldap->ca_file);
	free(ldap);
}

static void mw_smime_ldap_timespec(uint64_t msecs, struct timespec *ts_r)
{
	ts_r->tv_sec = (time_t)(msecs / 1000);
	ts_r->tv_nsec = (long)(msecs % 1000) * 1000000;
}

/* An idle connection, or a new one while under max_connections, or the
   first to come back before deadline.  *reused_r: it was idle. */
static int mw_smime_ldap_acquire(struct mw_smime_ldap *ldap, uint64_t deadline,
				 struct mw_smime_ldap_conn **conn_r,
				 bool *reused_r, char **error_r)
{
	struct mw_smime_ldap_conn_settings set;
	struct timespec ts;
	int rc;

	mw_smime_ldap_timespec(deadline, &ts);
	pthread_mutex_lock(&ldap->mutex);
	while (ldap->idle_count == 0 &&
	       ldap->open_count >= ldap->max_connections) {
		rc = pthread_cond_timedwait(&ldap->cond, &ldap->mutex, &ts);
		if (rc == ETIMEDOUT && ldap->idle_count == 0 &&
		    ldap->open_count >= ldap->max_connections) {
			pthread_mutex_unlock(&ldap->mutex);
			mw_smime_ldap_error(error_r, "%s: all %u connections "
				"busy for the whole time-out (%u ms)", ldap->uri,
				ldap->max_connections, ldap->timeout_msecs);
			return -1;
		}
	}
	if (ldap->idle_count > 0) {
		*conn_r = ldap->idle[--ldap->idle_count];
		pthread_mutex_unlock(&ldap->mutex);
		*reused_r = true;
		return 0;
	}
	ldap->open_count++;
	ldap->stats.connects++;
	if (ldap->open_count > ldap->stats.peak_connections)
		ldap->stats.peak_connections = ldap->open_count;
	pthread_mutex_unlock(&ldap->mutex);

	*reused_r = false;
	memset(&set, 0, sizeof(set));
	set.uri = ldap->uri;
	set.base = ldap->base;
	set.bind_dn = ldap->bind_dn;
	set.ca_file = ldap->ca_file;
	set.password = (const char *)ldap->password;
	set.password_len = ldap->password_len;
	set.starttls = ldap->starttls;
	if (mw_smime_ldap_conn_open(&set, deadline, conn_r, error_r) < 0) {
		pthread_mutex_lock(&ldap->mutex);
		ldap->open_count--;
		pthread_cond_signal(&ldap->cond);
		pthread_mutex_unlock(&ldap->mutex);
		return -1;
	}
	return 0;
}

static void mw_smime_ldap_release(struct mw_smime_ldap *ldap,
				  struct mw_smime_ldap_conn *conn, bool broken)
{
	if (broken)
		mw_smime_ldap_conn_close(&conn);
	pthread_mutex_lock(&ldap->mutex);
	if (broken)
		ldap->open_count--;
	else
		ldap->idle[ldap->idle_count++] = conn;
	pthread_cond_signal(&ldap->cond);
	pthread_mutex_unlock(&ldap->mutex);
}

/* The cache key and the address searched for: the domain in lower case
   (RFC 5321 2.4: it is case-insensitive; the local part need not be). */
static char *mw_smime_ldap_key(const char *address)
{
	char *key = strdup(address), *p;

	if (key == NULL)
		return NULL;
	p = strrchr(key, '@');
	for (; p != NULL && *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return key;
}

static int mw_smime_ldap_search(struct mw_smime_ldap *ldap, const char *filter,
				uint64_t deadline, STACK_OF(X509) **certs_r,
				char **error_r)
{
	struct mw_smime_ldap_conn *conn;
	bool reused, broken, retry;
	int ret;

	for (;;) {
		if (mw_smime_ldap_acquire(ldap, deadline, &conn, &reused,
					  error_r) < 0)
			return -1;
		ret = mw_smime_ldap_conn_search(conn, ldap->base, filter,
						deadline, certs_r, &broken,
						&retry, error_r);
		mw_smime_ldap_release(ldap, conn, ret < 0 && broken);
		/* a connection that sat idle may have been closed by the
		   server (idletimeout, restart): one more try on a new one */
		if (ret < 0 && retry && reused &&
		    mw_smime_ldap_now_msecs() < deadline) {
			free(*error_r);
			*error_r = NULL;
			continue;
		}
		return ret;
	}
}

int mw_smime_ldap_lookup(struct mw_smime_ldap *ldap, const char *address,
			 STACK_OF(X509) **certs_r, char **error_r)
{
	uint64_t start = mw_smime_ldap_now_msecs();
	struct mw_smime_ldap_sigpipe sp;
	STACK_OF(X509) *certs = NULL;
	char *key, *filter;
	int ret;

	*certs_r = NULL;
	*error_r = NULL;
	key = mw_smime_ldap_key(address);
	if (key == NULL) {
		mw_smime_ldap_error(error_r, "out of memory");
		return -1;
	}
	pthread_mutex_lock(&ldap->mutex);
	ldap->stats.lookups++;
	ret = mw_smime_ldap_cache_get(ldap->cache, key, start, &certs);
	if (ret > 0) {
		if (certs != NULL)
			ldap->stats.cache_hits++;
		else
			ldap->stats.negative_hits++;
	}
	pthread_mutex_unlock(&ldap->mutex);
	if (ret > 0) {
		free(key);
		*certs_r = certs;
		return certs != NULL ? 1 : 0;
	}

	filter = mw_smime_ldap_filter(ldap->filter, key, strlen(key));
	if (filter == NULL) {
		free(key);
		mw_smime_ldap_error(error_r, "out of memory");
		return -1;
	}
	mw_smime_ldap_sigpipe_block(&sp);
	ret = mw_smime_ldap_search(ldap, filter, start + ldap->timeout_msecs,
				   &certs, error_r);
	mw_smime_ldap_sigpipe_restore(&sp);
	free(filter);
	pthread_mutex_lock(&ldap->mutex);
	if (ret < 0)
		ldap->stats.failures++;
	else
		(void)mw_smime_ldap_cache_put(ldap->cache, key, certs,
					      mw_smime_ldap_now_msecs(),
					      ret > 0 ? ldap->cache_ttl :
					      ldap->negative_ttl);
	pthread_mutex_unlock(&ldap->mutex);
	free(key);
	*certs_r = certs;
	return ret;
}

void mw_smime_ldap_get_stats(struct mw_smime_ldap *ldap,
			     struct mw_smime_ldap_stats *stats_r)
{
	pthread_mutex_lock(&ldap->mutex);
	*stats_r = ldap->stats;
	stats_r->open_connections = ldap->open_count;
	pthread_mutex_unlock(&ldap->mutex);
}
