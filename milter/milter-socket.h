#ifndef MILTER_SOCKET_H
#define MILTER_SOCKET_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * The milter's listening socket, owned for as long as the milter runs.
 *
 * libmilter unlinks its unix socket path whenever smfi_main() returns in
 * any process, even a socket that another process has bound since: a
 * worker stopped by a signal would leave the supervisor listening on a
 * path that no longer exists.  So libmilter opens the socket under a
 * private name beside the real one, which is then renamed into place:
 * libmilter's copy of the name never exists again, and only this module
 * ever removes the real path, and only while it is still our socket.
 *
 * A lock file next to the socket (PATH.lock, flock) keeps a second
 * instance from taking the path over; a socket that another process still
 * answers on is never replaced.
 *
 * Functions return 0, or -1 with a message in *error_r that lives until
 * the next call.
 */
struct mwm_socket {
	/* What libmilter opens: the private unix path, or an inet spec as
	   given. */
	char *listen_spec;
	char *path;		/* the public unix path; NULL for inet */
	char *private_path;
	int lock_fd;
	/* The published socket, to recognise it at exit. */
	dev_t dev;
	ino_t ino;
	bool published;
};

/* Takes the lock and checks that nobody else serves spec (unix:PATH,
   local:PATH, inet:PORT@HOST, inet6:...).  Fills sock_r. */
int mwm_socket_claim(const char *spec, struct mwm_socket *sock_r,
		     const char **error_r);
/* After smfi_opensocket(sock->listen_spec): moves the socket to its
   public path. */
int mwm_socket_publish(struct mwm_socket *sock, const char **error_r);
/* Removes the public path if it is still our socket; drops the lock. */
void mwm_socket_release(struct mwm_socket *sock);

/* A connected stream socket to the milter at spec, within timeout_ms.
   Returns the descriptor, or -1 with a message in *error_r. */
int mwm_socket_connect(const char *spec, int timeout_ms, const char **error_r);

#endif
