/*
 * One LDAP connection: connect, TLS (ldaps:// or StartTLS, the server's
 * certificate always verified against ca_file and its name checked),
 * simple bind, search.  Every operation is sent asynchronously and its
 * answer awaited with ldap_result() for what is left of the lookup's
 * budget, recomputed before each wait; the blocking parts inside libldap
 * (connect, the TLS handshake) are bounded by LDAP_OPT_NETWORK_TIMEOUT,
 * set to the same remainder.  So a server that accepts the connection
 * and never answers costs one time-out, not one per step.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <ldap.h>

#include "smime-ldap-private.h"

struct mw_smime_ldap_conn {
	LDAP *ld;
	const char *uri;
	uint64_t deadline;	/* of the operation under way */
	struct ldap_conncb conncb;
};

static char *mw_smime_ldap_attrs[] = {
	"userSMIMECertificate", "userCertificate;binary", NULL
};

uint64_t mw_smime_ldap_now_msecs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void mw_smime_ldap_error(char **error_r, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	if (vasprintf(error_r, fmt, args) < 0)
		*error_r = NULL;
	va_end(args);
}

/* The library's words for rc, with the diagnostic it keeps (a TLS
   failure's reason is only there). */
static void mw_smime_ldap_op_error(struct mw_smime_ldap_conn *conn, int rc,
				   const char *what, char **error_r)
{
	char *diag = NULL;

	/* libldap reports a handshake that timed out as a lost server */
	if (rc == LDAP_TIMEOUT ||
	    (rc == LDAP_SERVER_DOWN &&
	     mw_smime_ldap_now_msecs() >= conn->deadline)) {
		mw_smime_ldap_error(error_r, "%s: %s: no answer within the "
				    "time-out", conn->uri, what);
		return;
	}
	(void)ldap_get_option(conn->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	mw_smime_ldap_error(error_r, "%s: %s: %s%s%s%s", conn->uri, what,
			    ldap_err2string(rc),
			    diag != NULL && *diag != '\0' ? " (" : "",
			    diag != NULL ? diag : "",
			    diag != NULL && *diag != '\0' ? ")" : "");
	if (diag != NULL)
		ldap_memfree(diag);
}

/* The socket's own time-outs, for the reads and writes libldap does
   without polling first: the TLS handshake, which libldap 2.6 runs on
   a blocking socket (2.5 on a non-blocking one, polling only with
   LDAP_OPT_CONNECT_ASYNC).  A read that times out fails the handshake
   with a time-out, whichever version. */
static void mw_smime_ldap_sock_timeouts(int fd, uint64_t deadline)
{
	uint64_t now = mw_smime_ldap_now_msecs();
	uint64_t left = deadline > now ? deadline - now : 1;
	struct timeval tv;

	tv.tv_sec = (time_t)(left / 1000);
	tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* LDAP_OPT_CONNECT_CB: the socket exists, TLS has not begun. */
static int mw_smime_ldap_conn_added(LDAP *ld, Sockbuf *sb, LDAPURLDesc *srv,
				    struct sockaddr *addr,
				    struct ldap_conncb *ctx)
{
	struct mw_smime_ldap_conn *conn = ctx->lc_arg;
	ber_socket_t fd = -1;

	if (ber_sockbuf_ctrl(sb, LBER_SB_OPT_GET_FD, &fd) == 1 && fd >= 0)
		mw_smime_ldap_sock_timeouts(fd, conn->deadline);
	return 0;
}

static void mw_smime_ldap_conn_deleted(LDAP *ld, Sockbuf *sb,
				       struct ldap_conncb *ctx)
{
}

/* Sets the time-outs to what is left; false if nothing is. */
static bool mw_smime_ldap_remaining(struct mw_smime_ldap_conn *conn,
				    uint64_t deadline, struct timeval *tv_r)
{
	uint64_t now = mw_smime_ldap_now_msecs(), left;
	int fd = -1;

	conn->deadline = deadline;
	if (now >= deadline)
		return false;
	left = deadline - now;
	tv_r->tv_sec = (time_t)(left / 1000);
	tv_r->tv_usec = (suseconds_t)(left % 1000) * 1000;
	(void)ldap_set_option(conn->ld, LDAP_OPT_NETWORK_TIMEOUT, tv_r);
	(void)ldap_set_option(conn->ld, LDAP_OPT_TIMEOUT, tv_r);
	if (ldap_get_option(conn->ld, LDAP_OPT_DESC, &fd) == LDAP_OPT_SUCCESS &&
	    fd >= 0)
		mw_smime_ldap_sock_timeouts(fd, deadline);
	return true;
}

/* Waits for the result of msgid until deadline.  Returns the result's
   code (res_r keeps the message for the caller to free) or a negative
   libldap code (LDAP_TIMEOUT, LDAP_SERVER_DOWN...). */
static int mw_smime_ldap_wait(struct mw_smime_ldap_conn *conn, int msgid,
			      uint64_t deadline, LDAPMessage **res_r)
{
	struct timeval tv;
	int rc;

	*res_r = NULL;
	if (!mw_smime_ldap_remaining(conn, deadline, &tv))
		return LDAP_TIMEOUT;
	rc = ldap_result(conn->ld, msgid, LDAP_MSG_ALL, &tv, res_r);
	if (rc == 0)
		return LDAP_TIMEOUT;
	if (rc < 0) {
		(void)ldap_get_option(conn->ld, LDAP_OPT_RESULT_CODE, &rc);
		return rc == LDAP_SUCCESS ? LDAP_SERVER_DOWN : rc;
	}
	return LDAP_SUCCESS;
}

/* The result of the operation msgid, awaited until deadline: its code,
   or libldap's when there is none (sent is what sending it returned). */
static int mw_smime_ldap_result(struct mw_smime_ldap_conn *conn, int sent,
				int msgid, uint64_t deadline)
{
	LDAPMessage *res;
	int rc, err = LDAP_SUCCESS;

	if (sent != LDAP_SUCCESS)
		return sent;
	rc = mw_smime_ldap_wait(conn, msgid, deadline, &res);
	if (rc != LDAP_SUCCESS)
		return rc;
	rc = ldap_parse_result(conn->ld, res, &err, NULL, NULL, NULL, NULL, 1);
	return rc == LDAP_SUCCESS ? err : rc;
}

static int mw_smime_ldap_starttls(struct mw_smime_ldap_conn *conn,
				  uint64_t deadline, char **error_r)
{
	struct timeval tv;
	int msgid = -1, rc = LDAP_TIMEOUT;

	if (mw_smime_ldap_remaining(conn, deadline, &tv)) {
		rc = ldap_start_tls(conn->ld, NULL, NULL, &msgid);
		rc = mw_smime_ldap_result(conn, rc, msgid, deadline);
	}
	/* the handshake, bounded by the time-outs set again */
	if (rc == LDAP_SUCCESS)
		rc = mw_smime_ldap_remaining(conn, deadline, &tv) ?
			ldap_install_tls(conn->ld) : LDAP_TIMEOUT;
	if (rc == LDAP_SUCCESS)
		return 0;
	mw_smime_ldap_op_error(conn, rc, "StartTLS", error_r);
	return -1;
}

static int mw_smime_ldap_bind(struct mw_smime_ldap_conn *conn,
			      const struct mw_smime_ldap_conn_settings *set,
			      uint64_t deadline, char **error_r)
{
	struct berval cred;
	struct timeval tv;
	char what[512];
	int msgid = -1, rc = LDAP_TIMEOUT;

	cred.bv_val = (char *)set->password;
	cred.bv_len = (ber_len_t)set->password_len;
	if (mw_smime_ldap_remaining(conn, deadline, &tv)) {
		rc = ldap_sasl_bind(conn->ld, set->bind_dn, LDAP_SASL_SIMPLE,
				    &cred, NULL, NULL, &msgid);
		rc = mw_smime_ldap_result(conn, rc, msgid, deadline);
	}
	if (rc == LDAP_SUCCESS)
		return 0;
	snprintf(what, sizeof(what), "bind as %s", set->bind_dn);
	mw_smime_ldap_op_error(conn, rc, what, error_r);
	return -1;
}

int mw_smime_ldap_conn_open(const struct mw_smime_ldap_conn_settings *set,
			    uint64_t deadline,
			    struct mw_smime_ldap_conn **conn_r, char **error_r)
{
	struct mw_smime_ldap_conn *conn;
	int version = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND;
	int tls_min = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2, client = 0, rc;

	conn = calloc(1, sizeof(*conn));
	if (conn == NULL) {
		mw_smime_ldap_error(error_r, "out of memory");
		return -1;
	}
	conn->uri = set->uri;
	conn->deadline = deadline;
	conn->conncb.lc_add = mw_smime_ldap_conn_added;
	conn->conncb.lc_del = mw_smime_ldap_conn_deleted;
	conn->conncb.lc_arg = conn;
	rc = ldap_initialize(&conn->ld, set->uri);
	if (rc != LDAP_SUCCESS) {
		mw_smime_ldap_error(error_r, "%s: %s", set->uri,
				    ldap_err2string(rc));
		free(conn);
		return -1;
	}
	/* LDAP_OPT_CONNECT_ASYNC: without it, libldap (2.5, 2.6) runs the
	   TLS handshake of ldaps:// on a non-blocking socket in a loop that
	   neither polls nor looks at the time-out, so a server that never
	   answers the handshake holds the thread, spinning, for ever; with
	   it, the handshake polls and gives up at LDAP_OPT_NETWORK_TIMEOUT.
	   The TLS settings go into a context of this handle's own
	   (LDAP_OPT_X_TLS_NEWCTX), never the library's global one, which
	   ldap.conf or another user of libldap in the process could set. */
	if (ldap_set_option(conn->ld, LDAP_OPT_PROTOCOL_VERSION, &version) != 0 ||
	    ldap_set_option(conn->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != 0 ||
	    ldap_set_option(conn->ld, LDAP_OPT_CONNECT_ASYNC, LDAP_OPT_ON) != 0 ||
	    ldap_set_option(conn->ld, LDAP_OPT_CONNECT_CB, &conn->conncb) != 0 ||
	    ldap_set_option(conn->ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) != 0 ||
	    ldap_set_option(conn->ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &tls_min) != 0 ||
	    (set->ca_file != NULL &&
	     ldap_set_option(conn->ld, LDAP_OPT_X_TLS_CACERTFILE,
			     set->ca_file) != 0)) {
		mw_smime_ldap_error(error_r, "%s: cannot set the LDAP options",
				    set->uri);
		goto fail;
	}
	rc = ldap_set_option(conn->ld, LDAP_OPT_X_TLS_NEWCTX, &client);
	if (rc != LDAP_OPT_SUCCESS) {
		mw_smime_ldap_error(error_r, "%s: cannot set up TLS (CA file %s)",
				    set->uri, set->ca_file != NULL ?
				    set->ca_file : "(system default)");
		goto fail;
	}
	if (set->starttls && strncasecmp(set->uri, "ldaps:", 6) != 0 &&
	    mw_smime_ldap_starttls(conn, deadline, error_r) < 0)
		goto fail;
	if (set->bind_dn != NULL &&
	    mw_smime_ldap_bind(conn, set, deadline, error_r) < 0)
		goto fail;
	*conn_r = conn;
	return 0;
fail:
	mw_smime_ldap_conn_close(&conn);
	return -1;
}

void mw_smime_ldap_conn_close(struct mw_smime_ldap_conn **_conn)
{
	struct mw_smime_ldap_conn *conn = *_conn;

	if (conn == NULL)
		return;
	*_conn = NULL;
	(void)ldap_unbind_ext(conn->ld, NULL, NULL);
	free(conn);
}

static bool mw_smime_ldap_have_cert(STACK_OF(X509) *certs, int upto, X509 *cert)
{
	int i;

	for (i = 0; i < upto; i++) {
		if (X509_cmp(sk_X509_value(certs, i), cert) == 0)
			return true;
	}
	return false;
}

/* The certificates of one entry's attributes into certs.  A value that
   does not parse is skipped, its reason kept in *bad_r (the first one),
   so that one stale value does not hide the good ones. */
static void mw_smime_ldap_entry_certs(struct mw_smime_ldap_conn *conn,
				      LDAPMessage *entry, STACK_OF(X509) *certs,
				      char **bad_r)
{
	struct berval **vals;
	BerElement *ber = NULL;
	char *attr, *error;
	int i, j, start;

	for (attr = ldap_first_attribute(conn->ld, entry, &ber); attr != NULL;
	     attr = ldap_next_attribute(conn->ld, entry, ber)) {
		vals = ldap_get_values_len(conn->ld, entry, attr);
		for (i = 0; vals != NULL && vals[i] != NULL; i++) {
			start = sk_X509_num(certs);
			error = NULL;
			if (mw_smime_ldap_parse_value(attr,
					(const unsigned char *)vals[i]->bv_val,
					vals[i]->bv_len, certs, &error) < 0) {
				if (*bad_r == NULL)
					*bad_r = error != NULL ? error :
						strdup("unparsable value");
				else
					free(error);
				continue;
			}
			/* the same certificate in both attributes once */
			for (j = sk_X509_num(certs) - 1; j >= start; j--) {
				if (mw_smime_ldap_have_cert(certs, j,
						sk_X509_value(certs, j)))
					X509_free(sk_X509_delete(certs, j));
			}
		}
		ldap_value_free_len(vals);
		ldap_memfree(attr);
	}
	if (ber != NULL)
		ber_free(ber, 0);
}

int mw_smime_ldap_conn_search(struct mw_smime_ldap_conn *conn,
			      const char *base, const char *filter,
			      uint64_t deadline, STACK_OF(X509) **certs_r,
			      bool *broken_r, bool *retry_r, char **error_r)
{
	STACK_OF(X509) *certs = NULL;
	LDAPMessage *res = NULL, *entry;
	struct timeval tv;
	char *bad = NULL;
	int msgid, rc, err = LDAP_SUCCESS, ret = -1;

	*certs_r = NULL;
	*broken_r = false;
	*retry_r = false;
	if (!mw_smime_ldap_remaining(conn, deadline, &tv)) {
		rc = LDAP_TIMEOUT;
		goto fail;
	}
	/* the time-out also goes to the server as its time limit */
	rc = ldap_search_ext(conn->ld, base, LDAP_SCOPE_SUBTREE, filter,
			     mw_smime_ldap_attrs, 0, NULL, NULL, &tv,
			     MW_SMIME_LDAP_ENTRIES_MAX, &msgid);
	if (rc == LDAP_SUCCESS)
		rc = mw_smime_ldap_wait(conn, msgid, deadline, &res);
	if (rc != LDAP_SUCCESS)
		goto fail;
	rc = ldap_parse_result(conn->ld, res, &err, NULL, NULL, NULL, NULL, 0);
	if (rc == LDAP_SUCCESS)
		rc = err;
	if (rc == LDAP_SIZELIMIT_EXCEEDED) {
		mw_smime_ldap_error(error_r, "%s: more than %u entries match "
				    "%s under %s", conn->uri,
				    MW_SMIME_LDAP_ENTRIES_MAX, filter, base);
		goto out;
	}
	if (rc != LDAP_SUCCESS)
		goto fail;
	certs = sk_X509_new_null();
	if (certs == NULL) {
		mw_smime_ldap_error(error_r, "out of memory");
		goto out;
	}
	for (entry = ldap_first_entry(conn->ld, res); entry != NULL;
	     entry = ldap_next_entry(conn->ld, entry))
		mw_smime_ldap_entry_certs(conn, entry, certs, &bad);
	if (sk_X509_num(certs) > 0) {
		*certs_r = certs;
		certs = NULL;
		ret = 1;
	} else if (bad != NULL) {
		/* only bad values: the admin must hear of it, and the
		   recipient's mail must not go out as if it had none */
		mw_smime_ldap_error(error_r, "%s: %s: %s", conn->uri, filter, bad);
	} else {
		ret = 0;
	}
	goto out;
fail:
	/* A code from the server leaves the connection usable; one from
	   the library (timed out, connection lost) does not, and a lost
	   connection may only have been closed while idle. */
	*broken_r = rc < 0;
	*retry_r = rc == LDAP_SERVER_DOWN;
	mw_smime_ldap_op_error(conn, rc, "search", error_r);
out:
	free(bad);
	sk_X509_pop_free(certs, X509_free);
	if (res != NULL)
		ldap_msgfree(res);
	return ret;
}
