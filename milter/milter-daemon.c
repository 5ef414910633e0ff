/* Privileges, detaching, the pid file and the worker's supervisor. */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "milter-daemon.h"
#include "milter-log.h"

/* A worker that dies sooner than this after its start is restarted only
   after a pause, so a crash loop does not spin. */
#define MWM_RESTART_PAUSE_SECS 1

static char mwm_daemon_error[512];

/* The message for *error_r: fmt's text, then ": " and errno's. */
static const char *mwm_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static const char *mwm_error(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list args;
	size_t len;

	va_start(args, fmt);
	vsnprintf(mwm_daemon_error, sizeof(mwm_daemon_error), fmt, args);
	va_end(args);
	len = strlen(mwm_daemon_error);
	snprintf(mwm_daemon_error + len, sizeof(mwm_daemon_error) - len,
		 ": %s", strerror(saved_errno));
	return mwm_daemon_error;
}

int mwm_daemon_user_lookup(const char *spec, uid_t *uid_r, gid_t *gid_r,
			   const char **error_r)
{
	char user[256];
	const char *colon = strchr(spec, ':');
	size_t len = colon != NULL ? (size_t)(colon - spec) : strlen(spec);
	struct passwd *pw;

	if (len == 0 || len >= sizeof(user)) {
		errno = EINVAL;
		*error_r = mwm_error("invalid user \"%s\"", spec);
		return -1;
	}
	memcpy(user, spec, len);
	user[len] = '\0';

	errno = 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		if (errno == 0)
			errno = ENOENT;
		*error_r = mwm_error("unknown user %s", user);
		return -1;
	}
	*uid_r = pw->pw_uid;
	*gid_r = pw->pw_gid;

	if (colon != NULL) {
		struct group *gr;

		errno = 0;
		gr = getgrnam(colon + 1);
		if (gr == NULL) {
			if (errno == 0)
				errno = ENOENT;
			*error_r = mwm_error("unknown group %s", colon + 1);
			return -1;
		}
		*gid_r = gr->gr_gid;
	}
	return 0;
}

int mwm_daemon_drop_privileges(const char *user, uid_t uid, gid_t gid,
			       const char **error_r)
{
	if (initgroups(user, gid) < 0) {
		*error_r = mwm_error("initgroups(%s)", user);
		return -1;
	}
	if (setgid(gid) < 0 || setuid(uid) < 0) {
		*error_r = mwm_error("cannot become user %s", user);
		return -1;
	}
	if (uid != 0 && setuid(0) == 0) {
		errno = EPERM;
		*error_r = mwm_error("still able to regain root after becoming %s",
				     user);
		return -1;
	}
	return 0;
}

int mwm_daemon_detach(const char **error_r)
{
	pid_t pid;
	int fd;

	pid = fork();
	if (pid < 0) {
		*error_r = mwm_error("fork");
		return -1;
	}
	if (pid > 0)
		_exit(0);
	if (setsid() < 0) {
		*error_r = mwm_error("setsid");
		return -1;
	}
	if (chdir("/") < 0) {
		*error_r = mwm_error("chdir(/)");
		return -1;
	}
	fd = open("/dev/null", O_RDWR);
	if (fd < 0) {
		*error_r = mwm_error("open(/dev/null)");
		return -1;
	}
	(void)dup2(fd, STDIN_FILENO);
	(void)dup2(fd, STDOUT_FILENO);
	(void)dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	return 0;
}

int mwm_pidfile_write(const char *path, const char **error_r)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		*error_r = mwm_error("cannot create pid file %s", path);
		return -1;
	}
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0) {
		*error_r = mwm_error("cannot write pid file %s", path);
		return -1;
	}
	return 0;
}

void mwm_pidfile_remove(const char *path)
{
	if (unlink(path) < 0 && errno != ENOENT)
		mwm_log(LOG_WARNING, "cannot remove pid file %s: %s", path,
			strerror(errno));
}

static pid_t mwm_worker_start(int (*worker)(void))
{
	pid_t pid = fork();

	if (pid < 0) {
		mwm_log(LOG_ERR, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* The worker waits for SIGUSR1 itself and libmilter for
		   SIGHUP, SIGTERM and SIGINT; both keep them blocked and
		   use sigwait(), so only SIGCHLD goes back to normal. */
		sigset_t chld;

		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		(void)pthread_sigmask(SIG_UNBLOCK, &chld, NULL);
		_exit(worker());
	}
	return pid;
}

int mwm_daemon_supervise(int (*worker)(void), void (*reload)(void))
{
	sigset_t set;
	pid_t child;
	time_t started;
	bool stopping = false;
	int sig, status;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
		mwm_log(LOG_ERR, "pthread_sigmask failed");
		return 1;
	}

	started = time(NULL);
	child = mwm_worker_start(worker);
	if (child < 0)
		return 1;

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		switch (sig) {
		case SIGHUP:
		case SIGUSR1:
			if (stopping)
				break;
			reload();
			if (kill(child, SIGUSR1) < 0)
				mwm_log(LOG_ERR, "cannot signal worker %ld: %s",
					(long)child, strerror(errno));
			break;
		case SIGTERM:
		case SIGINT:
			if (!stopping) {
				mwm_log(LOG_INFO, "stopping");
				stopping = true;
				(void)kill(child, SIGTERM);
			}
			break;
		case SIGCHLD:
			while (waitpid(child, &status, WNOHANG) == child) {
				if (stopping)
					return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
				if (WIFSIGNALED(status))
					mwm_log(LOG_ERR, "worker %ld killed by signal %d; restarting",
						(long)child, WTERMSIG(status));
				else
					mwm_log(LOG_ERR, "worker %ld exited with status %d; restarting",
						(long)child, WEXITSTATUS(status));
				if (time(NULL) - started < MWM_RESTART_PAUSE_SECS)
					sleep(MWM_RESTART_PAUSE_SECS);
				started = time(NULL);
				child = mwm_worker_start(worker);
				if (child < 0)
					return 1;
			}
			break;
		}
	}
}
