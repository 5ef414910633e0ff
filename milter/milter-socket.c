/* The listening socket's ownership: see milter-socket.h. */

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "milter-socket.h"

static __thread char mwm_socket_error[512];

static const char *mwm_socket_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static const char *mwm_socket_fail(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vsnprintf(mwm_socket_error, sizeof(mwm_socket_error), fmt, args);
	va_end(args);
	return mwm_socket_error;
}

/* The path of a unix spec, or NULL for inet. */
static const char *mwm_socket_unix_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	return NULL;
}

/* Waits for fd to become ready for events within *timeout_ms, which it
   decreases.  Returns 0, or -1 with errno (ETIMEDOUT). */
static int mwm_socket_wait(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int ret;

	do {
		ret = poll(&pfd, 1, timeout_ms);
	} while (ret < 0 && errno == EINTR);
	if (ret == 0)
		errno = ETIMEDOUT;
	return ret > 0 ? 0 : -1;
}

static int mwm_socket_connect_addr(const struct sockaddr *sa, socklen_t len,
				   int timeout_ms)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int err = 0;
	socklen_t err_len = sizeof(err);

	if (fd < 0)
		return -1;
	if (connect(fd, sa, len) < 0) {
		if (errno != EINPROGRESS ||
		    mwm_socket_wait(fd, POLLOUT, timeout_ms) < 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) < 0 ||
		    err != 0) {
			if (err != 0)
				errno = err;
			err = errno;
			close(fd);
			errno = err;
			return -1;
		}
	}
	return fd;
}

int mwm_socket_connect(const char *spec, int timeout_ms, const char **error_r)
{
	const char *path = mwm_socket_unix_path(spec);
	struct addrinfo hints, *res, *ai;
	char port[16], host[256];
	const char *colon, *at;
	int fd = -1, ret;

	if (path != NULL) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		if (strlen(path) >= sizeof(sun.sun_path)) {
			*error_r = mwm_socket_fail("%s: path too long", path);
			return -1;
		}
		strcpy(sun.sun_path, path);
		fd = mwm_socket_connect_addr((struct sockaddr *)&sun,
					     sizeof(sun), timeout_ms);
		if (fd < 0)
			*error_r = mwm_socket_fail("connect(%s): %s", path,
						   strerror(errno));
		return fd;
	}
	/* inet:PORT[@HOST] or inet6:PORT[@HOST]; no host is every address,
	   which includes loopback. */
	colon = strchr(spec, ':');
	if (colon == NULL) {
		*error_r = mwm_socket_fail("%s: not a socket", spec);
		return -1;
	}
	at = strchr(colon + 1, '@');
	snprintf(port, sizeof(port), "%.*s",
		 (int)(at != NULL ? (size_t)(at - colon - 1) : strlen(colon + 1)),
		 colon + 1);
	if (at != NULL) {
		snprintf(host, sizeof(host), "%s", at + 1);
		if (host[0] == '[' && host[strlen(host) - 1] == ']') {
			memmove(host, host + 1, strlen(host));
			host[strlen(host) - 1] = '\0';
		}
	} else {
		strcpy(host, strncmp(spec, "inet6:", 6) == 0 ? "::1" : "127.0.0.1");
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = strncmp(spec, "inet6:", 6) == 0 ? AF_INET6 : AF_INET;
	ret = getaddrinfo(host, port, &hints, &res);
	if (ret != 0) {
		*error_r = mwm_socket_fail("%s: %s", spec, gai_strerror(ret));
		return -1;
	}
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
		fd = mwm_socket_connect_addr(ai->ai_addr, ai->ai_addrlen,
					     timeout_ms);
	if (fd < 0)
		*error_r = mwm_socket_fail("connect(%s): %s", spec,
					   strerror(errno));
	freeaddrinfo(res);
	return fd;
}

static void mwm_socket_free(struct mwm_socket *sock)
{
	free(sock->listen_spec);
	free(sock->path);
	free(sock->private_path);
	if (sock->lock_fd >= 0)
		close(sock->lock_fd);
	memset(sock, 0, sizeof(*sock));
	sock->lock_fd = -1;
}

/* The private name beside path: "DIR/.NAME.new". */
static char *mwm_socket_private_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dir_len = slash != NULL ? (size_t)(slash - path + 1) : 0;
	char *name;

	if (asprintf(&name, "%.*s.%s.new", (int)dir_len, path,
		     path + dir_len) < 0)
		return NULL;
	return name;
}

/* Whether the socket at path is free to replace: nothing there, or a
   socket nobody answers on (left by a crash). */
static int mwm_socket_check_free(const char *path, const char **error_r)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		*error_r = mwm_socket_fail("%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		*error_r = mwm_socket_fail("%s exists and is not a socket", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = mwm_socket_connect_addr((struct sockaddr *)&sun, sizeof(sun), 1000);
	if (fd >= 0) {
		close(fd);
		*error_r = mwm_socket_fail("%s is in use by another process", path);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		/* EACCES, a time-out: maybe alive, so not ours to take. */
		*error_r = mwm_socket_fail("%s may be in use by another process: connect: %s",
					   path, strerror(errno));
		return -1;
	}
	return 0;
}

int mwm_socket_claim(const char *spec, struct mwm_socket *sock_r,
		     const char **error_r)
{
	struct sockaddr_un sun;
	const char *path = mwm_socket_unix_path(spec);
	char *lock_path = NULL;

	memset(sock_r, 0, sizeof(*sock_r));
	sock_r->lock_fd = -1;
	if (path == NULL) {
		/* inet: bind() refuses a port someone listens on. */
		sock_r->listen_spec = strdup(spec);
		if (sock_r->listen_spec == NULL)
			goto nomem;
		return 0;
	}

	sock_r->path = strdup(path);
	sock_r->private_path = mwm_socket_private_name(path);
	if (sock_r->path == NULL || sock_r->private_path == NULL ||
	    asprintf(&sock_r->listen_spec, "unix:%s", sock_r->private_path) < 0 ||
	    asprintf(&lock_path, "%s.lock", path) < 0)
		goto nomem;
	if (strlen(sock_r->private_path) >= sizeof(sun.sun_path)) {
		*error_r = mwm_socket_fail("socket path %s is too long (at most %zu bytes)",
			path, sizeof(sun.sun_path) - 6);
		goto fail;
	}

	sock_r->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			       0600);
	if (sock_r->lock_fd < 0) {
		*error_r = mwm_socket_fail("cannot open lock file %s: %s",
					   lock_path, strerror(errno));
		goto fail;
	}
	if (flock(sock_r->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		*error_r = errno == EWOULDBLOCK ?
			mwm_socket_fail("another mailward-milter serves %s (it holds %s)",
					path, lock_path) :
			mwm_socket_fail("cannot lock %s: %s", lock_path,
					strerror(errno));
		goto fail;
	}

	/* The lock is ours, but a process without it (an older milter,
	   something else) may still answer on the path. */
	if (mwm_socket_check_free(path, error_r) < 0)
		goto fail;
	/* A leftover private name from a crash. */
	(void)unlink(sock_r->private_path);
	free(lock_path);
	return 0;

nomem:
	*error_r = "out of memory";
fail:
	free(lock_path);
	mwm_socket_free(sock_r);
	return -1;
}

int mwm_socket_publish(struct mwm_socket *sock, const char **error_r)
{
	struct stat st;

	if (sock->path == NULL)
		return 0;
	/* rename() replaces a stale socket at once: the path is never
	   missing once it has existed. */
	if (rename(sock->private_path, sock->path) < 0) {
		*error_r = mwm_socket_fail("cannot rename %s to %s: %s",
					   sock->private_path, sock->path,
					   strerror(errno));
		(void)unlink(sock->private_path);
		return -1;
	}
	if (stat(sock->path, &st) < 0) {
		*error_r = mwm_socket_fail("%s: %s", sock->path, strerror(errno));
		return -1;
	}
	sock->dev = st.st_dev;
	sock->ino = st.st_ino;
	sock->published = true;
	return 0;
}

void mwm_socket_release(struct mwm_socket *sock)
{
	struct stat st;

	if (sock->published && lstat(sock->path, &st) == 0 &&
	    st.st_dev == sock->dev && st.st_ino == sock->ino)
		(void)unlink(sock->path);
	mwm_socket_free(sock);
}
