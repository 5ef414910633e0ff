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

int mwm_pidfile_write(const char *path, const char **error_r);
void mwm_pidfile_remove(const char *path);

/*
 * Runs worker() in a child process and stays as its supervisor, because
 * libmilter treats SIGHUP as "stop": the supervisor turns SIGHUP into
 * SIGUSR1 for the worker, passes SIGTERM and SIGINT on, and starts a new
 * worker if one dies on its own (Postfix tempfails mail meanwhile).
 * reload() runs in the supervisor on SIGHUP too, so that a new worker
 * starts from the last good policy rather than the one of start-up.
 * Returns the exit status for the daemon.
 */
int mwm_daemon_supervise(int (*worker)(void), void (*reload)(void));

#endif
