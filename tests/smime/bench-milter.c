/*
 * The rate users get: messages signed per second through the running
 * mailward-milter, over its socket, next to a bare CMS_sign() of the same
 * bytes with the same key in the same run.
 *
 *   bench-milter SOCKET LOGIN MESSAGE CERT KEY CHAIN SECONDS CLIENTS
 *
 * Each of CLIENTS threads plays Postfix's part of the milter protocol
 * (version 6) as smtpd does for a one-message session: a connection, the
 * negotiation, connect, MAIL with the SASL macros, the header fields one
 * by one, the body, end of message, reading every modification, and quit.
 * The bare rate runs CMS_sign() (detached, binary, the signer's chain) and
 * i2d_CMS_bio() on as many threads.  Prints both rates and their ratio,
 * and with WORKER-PID the worker's CPU time per message.  With
 * MW_BENCH_UNSIGNED set the messages are expected back unsigned (a From
 * without a key): the cost of the milter protocol alone.
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "msgfile.h"

#define SMFIP_NR_HDR 0x80
#define SMFIP_NOHDRS 0x20
#define SMFIP_NOEOH 0x40
#define SMFIP_NOBODY 0x10
#define SMFIP_NOCONNECT 0x1
#define SMFIP_NOMAIL 0x4
#define SMFIP_NR_CONN 0x1000
#define SMFIP_NR_MAIL 0x4000
#define SMFIP_NR_EOH 0x40000
#define SMFIP_NR_BODY 0x80000

struct bench {
	const char *socket_path;
	const char *login;
	const unsigned char *msg;
	size_t msg_len;
	struct msgfile m;
	X509 *cert;
	EVP_PKEY *pkey;
	STACK_OF(X509) *chain;
	double seconds;
	bool unsigned_run;	/* the milter passes the messages unsigned */
	volatile int stop;
};

struct conn {
	int fd;
	unsigned char buf[65536 + 16];
	size_t len;		/* bytes queued in buf */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int conn_write_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Queues one packet; a packet whose reply is awaited is flushed by
   conn_reply(), as smtpd writes a packet and then waits. */
static int conn_packet(struct conn *c, char cmd, const void *data, size_t len)
{
	uint32_t n = htonl((uint32_t)len + 1);

	if (c->len + len + 5 > sizeof(c->buf)) {
		if (conn_write_all(c->fd, c->buf, c->len) < 0)
			return -1;
		c->len = 0;
	}
	if (len + 5 > sizeof(c->buf)) {
		unsigned char head[5];

		memcpy(head, &n, 4);
		head[4] = (unsigned char)cmd;
		return conn_write_all(c->fd, head, 5) < 0 ||
			conn_write_all(c->fd, data, len) < 0 ? -1 : 0;
	}
	memcpy(c->buf + c->len, &n, 4);
	c->buf[c->len + 4] = (unsigned char)cmd;
	memcpy(c->buf + c->len + 5, data, len);
	c->len += len + 5;
	return 0;
}

static int conn_flush(struct conn *c)
{
	if (c->len > 0 && conn_write_all(c->fd, c->buf, c->len) < 0)
		return -1;
	c->len = 0;
	return 0;
}

static int read_all(int fd, void *data, size_t len)
{
	unsigned char *p = data;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one reply packet into data (up to size; the rest skipped);
   returns its command, or -1. */
static int conn_read(struct conn *c, unsigned char *data, size_t size,
		     size_t *len_r)
{
	unsigned char head[5], skip[4096];
	uint32_t n;
	size_t left, take;

	if (conn_flush(c) < 0 || read_all(c->fd, head, 5) < 0)
		return -1;
	memcpy(&n, head, 4);
	n = ntohl(n);
	if (n == 0)
		return -1;
	left = n - 1;
	take = left < size ? left : size;
	if (read_all(c->fd, data, take) < 0)
		return -1;
	for (left -= take; left > 0; left -= take) {
		take = left < sizeof(skip) ? left : sizeof(skip);
		if (read_all(c->fd, skip, take) < 0)
			return -1;
	}
	*len_r = n - 1 < size ? n - 1 : size;
	return head[4];
}

static int conn_reply(struct conn *c)
{
	unsigned char data[512];
	size_t len;
	int cmd;

	do {
		cmd = conn_read(c, data, sizeof(data), &len);
	} while (cmd == 'p');
	return cmd;
}

static size_t put_z(unsigned char *p, const char *s)
{
	size_t n = strlen(s) + 1;

	memcpy(p, s, n);
	return n;
}

static int conn_open(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* One message through the milter; 0 when it came back signed. */
static int bench_one(struct bench *b, struct conn *c)
{
	unsigned char pkt[8192], reply[512];
	uint32_t opt[3] = { htonl(6), htonl(0x1FF), htonl(0x1FFFFF) }, proto;
	size_t n, len, off;
	unsigned int i;
	bool body_changed = false;
	int cmd;

	c->fd = conn_open(b->socket_path);
	c->len = 0;
	if (c->fd < 0)
		return -1;
	if (conn_packet(c, 'O', opt, sizeof(opt)) < 0 ||
	    conn_read(c, reply, sizeof(reply), &len) != 'O' || len < 12)
		goto fail;
	memcpy(&proto, reply + 8, 4);
	proto = ntohl(proto);

	n = 0;
	pkt[n++] = 'C';
	n += put_z(pkt + n, "{daemon_name}");
	n += put_z(pkt + n, "ORIGINATING");
	n += put_z(pkt + n, "{daemon_addr}");
	n += put_z(pkt + n, "127.0.0.1");
	conn_packet(c, 'D', pkt, n);
	if ((proto & SMFIP_NOCONNECT) == 0) {
		n = put_z(pkt, "localhost");
		pkt[n++] = '4';
		pkt[n++] = 0x30;
		pkt[n++] = 0x39;
		n += put_z(pkt + n, "127.0.0.1");
		conn_packet(c, 'C', pkt, n);
		if ((proto & SMFIP_NR_CONN) == 0 && conn_reply(c) != 'c')
			goto fail;
	}
	n = 0;
	pkt[n++] = 'M';
	n += put_z(pkt + n, "{auth_type}");
	n += put_z(pkt + n, "PLAIN");
	n += put_z(pkt + n, "{auth_authen}");
	n += put_z(pkt + n, b->login);
	n += put_z(pkt + n, "{tls_version}");
	n += put_z(pkt + n, "TLSv1.3");
	n += put_z(pkt + n, "{cipher_bits}");
	n += put_z(pkt + n, "256");
	n += put_z(pkt + n, "i");
	n += put_z(pkt + n, "4BENCH");
	conn_packet(c, 'D', pkt, n);
	pkt[0] = '<';
	n = 1 + (size_t)snprintf((char *)pkt + 1, sizeof(pkt) - 1, "%s>",
				 b->login) + 1;
	conn_packet(c, 'M', pkt, n);
	if ((proto & SMFIP_NR_MAIL) == 0 && conn_reply(c) != 'c')
		goto fail;
	for (i = 0; i < b->m.header_count && (proto & SMFIP_NOHDRS) == 0; i++) {
		const char *name = b->m.headers[i].name;
		const char *value = b->m.headers[i].value;
		size_t nl = strlen(name) + 1, vl = strlen(value) + 1;

		if (nl + vl > sizeof(pkt))
			goto fail;
		memcpy(pkt, name, nl);
		memcpy(pkt + nl, value, vl);
		conn_packet(c, 'L', pkt, nl + vl);
		if ((proto & SMFIP_NR_HDR) == 0 && conn_reply(c) != 'c')
			goto fail;
	}
	if ((proto & SMFIP_NOEOH) == 0) {
		conn_packet(c, 'N', NULL, 0);
		if ((proto & SMFIP_NR_EOH) == 0 && conn_reply(c) != 'c')
			goto fail;
	}
	for (off = 0; off < b->m.body_size && (proto & SMFIP_NOBODY) == 0;
	     off += len) {
		len = b->m.body_size - off;
		if (len > 65535)
			len = 65535;
		conn_packet(c, 'B', b->m.body + off, len);
		if ((proto & SMFIP_NR_BODY) == 0 && conn_reply(c) != 'c')
			goto fail;
	}
	n = 0;
	pkt[n++] = 'E';
	n += put_z(pkt + n, "i");
	n += put_z(pkt + n, "4BENCH");
	conn_packet(c, 'D', pkt, n);
	conn_packet(c, 'E', NULL, 0);
	for (;;) {
		cmd = conn_read(c, reply, sizeof(reply), &len);
		if (cmd == 'b')
			body_changed = true;
		else if (cmd == 'c' || cmd == 'a')
			break;
		else if (cmd != 'm' && cmd != 'h' && cmd != 'p')
			goto fail;
	}
	conn_packet(c, 'Q', NULL, 0);
	conn_flush(c);
	close(c->fd);
	return body_changed != b->unsigned_run ? 0 : -1;
fail:
	close(c->fd);
	return -1;
}

struct worker {
	struct bench *b;
	bool bare;
	unsigned long done, failed;
	pthread_t thread;
};

static int bench_bare_one(struct bench *b)
{
	BIO *in = BIO_new_mem_buf(b->msg, (int)b->msg_len);
	BIO *out = BIO_new(BIO_s_mem());
	CMS_ContentInfo *cms;
	int ret = -1;

	cms = CMS_sign(b->cert, b->pkey, b->chain, in,
		       CMS_DETACHED | CMS_BINARY);
	if (cms != NULL && i2d_CMS_bio(out, cms) == 1)
		ret = 0;
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	BIO_free(out);
	return ret;
}

static void *worker_run(void *ctx)
{
	struct worker *w = ctx;
	struct conn *c = malloc(sizeof(*c));

	while (!w->b->stop && c != NULL) {
		if ((w->bare ? bench_bare_one(w->b) : bench_one(w->b, c)) == 0)
			w->done++;
		else
			w->failed++;
	}
	free(c);
	return NULL;
}

/* Runs threads for the bench's seconds; returns messages per second. */
static double bench_run(struct bench *b, bool bare, unsigned int threads,
			unsigned long *done_r, unsigned long *failed_r)
{
	struct worker *w = calloc(threads, sizeof(*w));
	unsigned long done = 0, failed = 0;
	double start, elapsed;
	unsigned int i;

	b->stop = 0;
	start = now();
	for (i = 0; i < threads; i++) {
		w[i].b = b;
		w[i].bare = bare;
		pthread_create(&w[i].thread, NULL, worker_run, &w[i]);
	}
	while (now() - start < b->seconds)
		usleep(20000);
	b->stop = 1;
	for (i = 0; i < threads; i++) {
		pthread_join(w[i].thread, NULL);
		done += w[i].done;
		failed += w[i].failed;
	}
	elapsed = now() - start;
	free(w);
	*failed_r = failed;
	*done_r = done;
	return (double)done / elapsed;
}

/* A process's CPU time (user and system) in seconds, from /proc. */
static double worker_cpu(long pid)
{
	unsigned long utime = 0, stime = 0;
	char path[64], buf[1024], *p;
	size_t n;
	FILE *f;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields 14 and 15, counted after the command name's ')'. */
	p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u "
				"%*u %*u %lu %lu", &utime, &stime) != 2)
		return 0;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

	if (f != NULL)
		fclose(f);
	return x;
}

int main(int argc, char **argv)
{
	struct bench b = { 0 };
	unsigned long failed_m, failed_b, done_m, done_b;
	double milter, bare;
	unsigned int clients;
	long worker = 0;
	double cpu;
	FILE *f;
	X509 *x;

	if (argc != 9 && argc != 10) {
		fprintf(stderr, "usage: bench-milter SOCKET LOGIN MESSAGE CERT "
			"KEY CHAIN SECONDS CLIENTS [WORKER-PID]\n");
		return 1;
	}
	if (argc == 10)
		worker = strtol(argv[9], NULL, 10);
	b.socket_path = strncmp(argv[1], "unix:", 5) == 0 ? argv[1] + 5 :
		argv[1];
	b.login = argv[2];
	if (msgfile_read(argv[3], &b.m) < 0)
		return 1;
	b.msg = msgfile_slurp(argv[3], &b.msg_len);
	b.cert = read_cert(argv[4]);
	f = fopen(argv[5], "r");
	b.pkey = f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f != NULL)
		fclose(f);
	b.chain = sk_X509_new_null();
	if ((x = read_cert(argv[6])) != NULL)
		sk_X509_push(b.chain, x);
	if (b.msg == NULL || b.cert == NULL || b.pkey == NULL) {
		fprintf(stderr, "bench-milter: cannot read the message or key\n");
		return 1;
	}
	b.seconds = strtod(argv[7], NULL);
	b.unsigned_run = getenv("MW_BENCH_UNSIGNED") != NULL;
	clients = (unsigned int)strtoul(argv[8], NULL, 10);

	cpu = worker_cpu(worker);
	milter = bench_run(&b, false, clients, &done_m, &failed_m);
	cpu = worker_cpu(worker) - cpu;
	bare = bench_run(&b, true, clients, &done_b, &failed_b);
	printf("  %-8s %u client%s: milter %6.0f msg/s, bare CMS_sign() %6.0f/s, "
	       "ratio %.2f", b.unsigned_run ? "unsigned" :
	       EVP_PKEY_get_base_id(b.pkey) == EVP_PKEY_EC ? "P-256" : "RSA", clients, clients == 1 ? " " : "s", milter,
	       bare, bare > 0 ? milter / bare : 0);
	/* CPU per message: the worker's, against the bare sign's (all
	   threads together, so per message it is threads / rate at most). */
	if (worker > 0 && done_m > 0)
		printf("; worker CPU %.0f us/msg, bare %.0f us/msg",
		       cpu * 1e6 / (double)done_m,
		       bare > 0 ? 1e6 / bare * (clients < 2 ? 1 : 2) : 0);
	printf("%s\n", failed_m + failed_b > 0 ? " (failures!)" : "");
	if (failed_m > 0)
		fprintf(stderr, "bench-milter: %lu messages not signed\n",
			failed_m);
	msgfile_free(&b.m);
	free((void *)b.msg);
	X509_free(b.cert);
	EVP_PKEY_free(b.pkey);
	sk_X509_pop_free(b.chain, X509_free);
	return failed_m + failed_b > 0 ? 1 : 0;
}
