#ifndef MILTER_DAEMON_H
#define MILTER_DAEMON_H

#include <stdbool.h>
#include <sys/types.h>

/* Process plumbing for mailward-milter.  Functions return 0, or -1 with a
   message in *error_r that lives until the next call. */

/* Looks up "user" or "user:group" (while still root). */
int mwm_daemon_user_lookup(const char *spec, uid_t *uid_r, gid_t *gid_r,
			   const char **error_r);
/* Sets groups, gid and uid, and checks that root cannot come back. */
int mwm_daemon_drop_privileges(const char *user, uid_t uid, gid_t gid,
			       const char **error_r);
/* Forks into the background: the parent exits, the child leads a new
   session with stdio on /dev/null. */
int mwm_daemon_detach(const char **error_r);

/* The pid file, opened and locked before the daemon detaches: a second
   instance with the same file is refused (the message names the pid that
   holds it).  The pid is written once it is final; the file is removed
   at exit, still locked. */
int mwm_pidfile_open(const char *path, int *fd_r, const char **error_r);
int mwm_pidfile_write(int fd, const char *path, const char **error_r);
void mwm_pidfile_remove(int fd, const char *path);

struct mwm_supervision {
	int (*worker)(void);
	/* Runs in the supervisor on SIGHUP and before a new worker starts,
	   so that a new worker starts from the last good policy rather than
	   the one of start-up. */
	void (*reload)(void);
	/* The heartbeat (milter-watchdog.h): every heartbeat_secs the
	   supervisor negotiates with the worker on socket, and kills and
	   restarts a worker that does not answer within as long.  0: off. */
	const char *socket;
	int heartbeat_secs;
};

/*
 * Runs the worker in a child process and stays as its supervisor, because
 * libmilter treats SIGHUP as "stop".  Signals to the supervisor: SIGHUP
 * and SIGUSR1 reload (the worker gets SIGUSR1), SIGTERM, SIGINT and
 * SIGQUIT stop, SIGUSR2 is ignored.  A worker that ends on its own (a
 * crash, SIGKILL, or libmilter stopping on a SIGHUP or SIGTERM sent to
 * the worker itself), or that misses its heartbeat, is replaced; the
 * socket stays in place meanwhile (milter-socket.h) and Postfix tempfails
 * what the old worker had in flight.  Returns the exit status for the
 * daemon.
 */
int mwm_daemon_supervise(const struct mwm_supervision *sv);

#endif
