/* mailward test: the decision for one described client, with the rule
   that made it.  Field names follow "doveadm auth test -x". */

#include "cmd.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CMD_TEST_USAGE \
	"usage: mailward test [-c FILE] service=NAME rip=ADDR [lip=ADDR] [rport=N] [lport=N]\n" \
	"                     [host=NAME|none|fail] [mech=MECH] [secured=tls|yes|no]\n" \
	"                     [bits=N] [cert=valid|none] [auth=yes|no]\n"

static int cmd_parse_uint(const char *str, unsigned int max, unsigned int *value_r)
{
	char *end;
	unsigned long value;

	if (*str < '0' || *str > '9')
		return -1;
	value = strtoul(str, &end, 10);
	if (*end != '\0' || value > max)
		return -1;
	*value_r = (unsigned int)value;
	return 0;
}

static int cmd_test_field(struct mw_conn *conn, const char *key, const char *value)
{
	unsigned int num;

	if (strcmp(key, "service") == 0) {
		conn->service = value;
	} else if (strcmp(key, "rip") == 0) {
		return mw_addr_parse(value, &conn->remote_ip);
	} else if (strcmp(key, "lip") == 0) {
		return mw_addr_parse(value, &conn->local_ip);
	} else if (strcmp(key, "rport") == 0 || strcmp(key, "lport") == 0) {
		if (cmd_parse_uint(value, 65535, &num) < 0)
			return -1;
		*(key[0] == 'r' ? &conn->remote_port : &conn->local_port) = num;
	} else if (strcmp(key, "host") == 0) {
		if (strcmp(value, "none") == 0) {
			conn->host_state = MW_HOST_NONE;
		} else if (strcmp(value, "fail") == 0) {
			conn->host_state = MW_HOST_FAILED;
		} else {
			conn->host_state = MW_HOST_FOUND;
			conn->host = value;
		}
	} else if (strcmp(key, "mech") == 0) {
		conn->mech = value;
	} else if (strcmp(key, "secured") == 0) {
		if (strcmp(value, "tls") == 0)
			conn->tls = MW_TLS_ACTIVE;
		else if (strcmp(value, "yes") == 0)
			conn->tls = MW_TLS_SECURED;
		else if (strcmp(value, "no") == 0)
			conn->tls = MW_TLS_NONE;
		else
			return -1;
	} else if (strcmp(key, "bits") == 0) {
		if (cmd_parse_uint(value, 65535, &num) < 0)
			return -1;
		conn->cipher_bits = (int)num;
	} else if (strcmp(key, "cert") == 0) {
		if (strcmp(value, "valid") == 0)
			conn->cert = MW_CERT_VALID;
		else if (strcmp(value, "none") == 0)
			conn->cert = MW_CERT_NONE;
		else
			return -1;
	} else if (strcmp(key, "auth") == 0) {
		if (strcmp(value, "yes") == 0)
			conn->auth = MW_AUTH_DONE;
		else if (strcmp(value, "no") == 0)
			conn->auth = MW_AUTH_NONE;
		else
			return -1;
	} else {
		return -1;
	}
	return 0;
}

/* Forward-confirmed reverse DNS through the system resolver, as the
   Dovecot module does it asynchronously: the PTR name counts only if one
   of its addresses is the client's. */
static void cmd_lookup_host(struct mw_conn *conn, char *name, size_t size)
{
	struct sockaddr_storage ss;
	struct addrinfo hints, *res, *ai;
	socklen_t sslen;
	struct mw_addr addr;
	int ret;

	memset(&ss, 0, sizeof(ss));
	if (conn->remote_ip.family == MW_AF_INET4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, conn->remote_ip.bytes, 4);
		sslen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, conn->remote_ip.bytes, 16);
		sslen = sizeof(*sin6);
	}
	ret = getnameinfo((struct sockaddr *)&ss, sslen, name, (socklen_t)size,
			  NULL, 0, NI_NAMEREQD);
	if (ret == EAI_NONAME) {
		conn->host_state = MW_HOST_NONE;
		printf("host:     (no PTR record)\n");
		return;
	}
	if (ret != 0) {
		conn->host_state = MW_HOST_FAILED;
		printf("host:     (lookup failed: %s)\n", gai_strerror(ret));
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	ret = getaddrinfo(name, NULL, &hints, &res);
	if (ret != 0) {
		conn->host_state = ret == EAI_NONAME ? MW_HOST_NONE : MW_HOST_FAILED;
		printf("host:     %s (forward lookup failed: %s)\n", name,
		       gai_strerror(ret));
		return;
	}
	conn->host_state = MW_HOST_NONE;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (mw_addr_from_sockaddr(ai->ai_addr, &addr) == 0 &&
		    addr.family == conn->remote_ip.family &&
		    memcmp(addr.bytes, conn->remote_ip.bytes,
			   addr.family == MW_AF_INET4 ? 4 : 16) == 0) {
			conn->host_state = MW_HOST_FOUND;
			conn->host = name;
			break;
		}
	}
	freeaddrinfo(res);
	printf("host:     %s (%s)\n", name, conn->host_state == MW_HOST_FOUND ?
	       "forward-confirmed" : "not forward-confirmed: ignored");
}

int cmd_test(int argc, char *argv[])
{
	const char *path = CMD_DEFAULT_POLICY;
	char reason[512], addr[MW_ADDR_STRLEN], host[1025];
	struct mw_policy *policy;
	struct mw_decision dec;
	struct mw_conn conn;
	enum mw_verdict verdict;
	int c, i;

	mw_conn_init(&conn);
	optind = 1;
	while ((c = getopt(argc, argv, "c:")) != -1) {
		if (c == 'c') {
			path = optarg;
			continue;
		}
		fputs(CMD_TEST_USAGE, stderr);
		return CMD_EXIT_USAGE;
	}
	for (i = optind; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (eq == NULL) {
			fprintf(stderr, "mailward: expected key=value, found '%s'\n", argv[i]);
			return CMD_EXIT_USAGE;
		}
		*eq = '\0';
		if (cmd_test_field(&conn, argv[i], eq + 1) < 0) {
			fprintf(stderr, "mailward: invalid field %s=%s\n%s", argv[i],
				eq + 1, CMD_TEST_USAGE);
			return CMD_EXIT_USAGE;
		}
	}
	if (conn.service == NULL || conn.remote_ip.family == MW_AF_NONE) {
		fputs("mailward: service= and rip= are required\n" CMD_TEST_USAGE, stderr);
		return CMD_EXIT_USAGE;
	}
	if (cmd_load_policy(path, &policy) < 0)
		return CMD_EXIT_CONFIG;

	printf("service:  %s\n", conn.service);
	printf("client:   %s\n", mw_addr_to_str(&conn.remote_ip, addr, sizeof(addr)));
	verdict = mw_decide(policy, &conn, &dec);
	if (verdict == MW_VERDICT_NEED_HOST) {
		cmd_lookup_host(&conn, host, sizeof(host));
		verdict = mw_decide(policy, &conn, &dec);
	}
	printf("decision: %s\n", mw_verdict_name(verdict));
	printf("check:    %s\n", mw_check_name(dec.check));
	if (dec.file != NULL)
		printf("rule:     %s (%s:%u)\n", dec.rule, dec.file, dec.line);
	else
		printf("rule:     %s (built-in default)\n", dec.rule);
	printf("reason:   %s\n", mw_decision_reason(&dec, &conn, reason, sizeof(reason)));
	if (verdict != MW_VERDICT_ALLOW)
		printf("client sees: %s\n", mw_decision_client_text(&dec));
	mw_policy_unref(&policy);

	switch (verdict) {
	case MW_VERDICT_ALLOW:
		return CMD_EXIT_ALLOW;
	case MW_VERDICT_DENY:
		return CMD_EXIT_DENY;
	default:
		return CMD_EXIT_TEMPFAIL;
	}
}
