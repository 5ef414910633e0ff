/* The heartbeat probe: see milter-watchdog.h. */

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfdef.h>

#include "milter-socket.h"
#include "milter-watchdog.h"

static long mwm_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Writes or reads all of buf before the deadline.  Returns 0 or -1 with
   errno. */
static int mwm_probe_io(int fd, bool write_, void *buf, size_t len,
			long deadline)
{
	unsigned char *p = buf;

	while (len > 0) {
		struct pollfd pfd = { .fd = fd, .events = write_ ? POLLOUT : POLLIN };
		long left = deadline - mwm_now_ms();
		ssize_t n;
		int ret;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		ret = poll(&pfd, 1, (int)left);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0) {
			if (ret == 0)
				errno = ETIMEDOUT;
			return -1;
		}
		/* MSG_NOSIGNAL: a worker that went away must not take the
		   supervisor with it through SIGPIPE. */
		n = write_ ? send(fd, p, len, MSG_NOSIGNAL) : read(fd, p, len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ECONNRESET;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int mwm_watchdog_probe(const char *spec, int timeout_ms, char *error,
		       size_t size)
{
	/* SMFIC_OPTNEG: length, command, version, actions, protocol. */
	unsigned char optneg[17], reply[5], quit[5];
	uint32_t v;
	long deadline = mwm_now_ms() + timeout_ms;
	const char *connect_error;
	int fd;

	fd = mwm_socket_connect(spec, timeout_ms, &connect_error);
	if (fd < 0) {
		snprintf(error, size, "%s", connect_error);
		return -1;
	}
	v = htonl(13);
	memcpy(optneg, &v, 4);
	optneg[4] = SMFIC_OPTNEG;
	v = htonl(SMFI_PROT_VERSION);
	memcpy(optneg + 5, &v, 4);
	/* Every action and protocol step, as a current MTA offers. */
	v = htonl(SMFI_CURR_ACTS);
	memcpy(optneg + 9, &v, 4);
	v = htonl(SMFI_CURR_PROT);
	memcpy(optneg + 13, &v, 4);
	if (mwm_probe_io(fd, true, optneg, sizeof(optneg), deadline) < 0 ||
	    mwm_probe_io(fd, false, reply, sizeof(reply), deadline) < 0) {
		snprintf(error, size, "no answer to option negotiation: %s",
			 strerror(errno));
		close(fd);
		return -1;
	}
	if (reply[4] != SMFIC_OPTNEG) {
		snprintf(error, size, "unexpected reply '%c' to option negotiation",
			 reply[4] >= 0x20 && reply[4] < 0x7f ? reply[4] : '?');
		close(fd);
		return -1;
	}
	v = htonl(1);
	memcpy(quit, &v, 4);
	quit[4] = SMFIC_QUIT;
	/* The rest of the reply (macro lists) is not needed; QUIT ends the
	   session, and a failure to send it is no failure of the worker. */
	(void)mwm_probe_io(fd, true, quit, sizeof(quit), deadline);
	close(fd);
	return 0;
}
