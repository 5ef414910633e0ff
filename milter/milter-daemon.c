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
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "milter-daemon.h"
#include "milter-log.h"
#include "milter-watchdog.h"

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

int mwm_pidfile_open(const char *path, int *fd_r, const char **error_r)
{
	char buf[32];
	ssize_t n;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		*error_r = mwm_error("cannot open pid file %s", path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			*error_r = mwm_error("cannot lock pid file %s", path);
		} else {
			n = pread(fd, buf, sizeof(buf) - 1, 0);
			buf[n > 0 ? n : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			errno = EEXIST;
			*error_r = mwm_error("already running (pid %s holds %s)",
					     buf[0] != '\0' ? buf : "?", path);
		}
		close(fd);
		return -1;
	}
	*fd_r = fd;
	return 0;
}

int mwm_pidfile_write(int fd, const char *path, const char **error_r)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)len, 0) != len) {
		*error_r = mwm_error("cannot write pid file %s", path);
		return -1;
	}
	return 0;
}

void mwm_pidfile_remove(int fd, const char *path)
{
	/* Unlinked while still locked, so that a new instance never
	   loses its file to this one. */
	if (unlink(path) < 0 && errno != ENOENT)
		mwm_log(LOG_WARNING, "cannot remove pid file %s: %s", path,
			strerror(errno));
	close(fd);
}

static pid_t mwm_worker_start(int (*worker)(void))
{
	pid_t parent = getpid();
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
		(void)signal(SIGPIPE, SIG_DFL);
		/* A worker never outlives its supervisor: it would serve on
		   unwatched, holding the locks a restart needs. */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
			_exit(1);
		_exit(worker());
	}
	return pid;
}

static void mwm_log_worker_exit(pid_t child, int status)
{
	if (WIFSIGNALED(status))
		mwm_log(LOG_ERR, "worker %ld killed by signal %d; restarting",
			(long)child, WTERMSIG(status));
	else if (WEXITSTATUS(status) == 0)
		/* libmilter stops on SIGHUP, SIGTERM or SIGINT: someone sent
		   one to the worker rather than to the supervisor. */
		mwm_log(LOG_WARNING, "worker %ld stopped on a signal sent to it; "
			"restarting with the current policy (signal the "
			"supervisor to reload or stop)", (long)child);
	else
		mwm_log(LOG_ERR, "worker %ld exited with status %d; restarting",
			(long)child, WEXITSTATUS(status));
}

/* Probes the worker when its heartbeat is due; returns the seconds until
   the next one. */
static int mwm_supervisor_watchdog(const struct mwm_supervision *sv,
				   pid_t child, time_t started,
				   time_t *last_r)
{
	time_t now = time(NULL);
	time_t since = now - (*last_r > started ? *last_r : started);
	char error[256];

	if (since < sv->heartbeat_secs)
		return (int)(sv->heartbeat_secs - since);
	*last_r = now;
	if (mwm_watchdog_probe(sv->socket, sv->heartbeat_secs * 1000,
			       error, sizeof(error)) == 0)
		return sv->heartbeat_secs;
	mwm_log(LOG_ERR, "worker %ld missed its heartbeat (%s); killing it",
		(long)child, error);
	(void)kill(child, SIGKILL);
	return sv->heartbeat_secs;
}

int mwm_daemon_supervise(const struct mwm_supervision *sv)
{
	struct timespec wait;
	sigset_t set;
	pid_t child;
	time_t started, last_probe = 0;
	bool stopping = false;
	int sig, status;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGCHLD);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) {
		mwm_log(LOG_ERR, "pthread_sigmask failed");
		return 1;
	}
	/* The heartbeat writes to sockets whose worker may be gone. */
	(void)signal(SIGPIPE, SIG_IGN);

	started = time(NULL);
	child = mwm_worker_start(sv->worker);
	if (child < 0)
		return 1;

	for (;;) {
		wait.tv_sec = 3600;
		wait.tv_nsec = 0;
		if (sv->heartbeat_secs > 0 && !stopping)
			wait.tv_sec = mwm_supervisor_watchdog(sv, child, started,
							      &last_probe);
		sig = sigtimedwait(&set, NULL, &wait);
		if (sig < 0)
			continue;
		switch (sig) {
		case SIGHUP:
		case SIGUSR1:
			if (stopping)
				break;
			sv->reload();
			if (kill(child, SIGUSR1) < 0)
				mwm_log(LOG_ERR, "cannot signal worker %ld: %s",
					(long)child, strerror(errno));
			break;
		case SIGUSR2:
			mwm_log(LOG_INFO, "SIGUSR2 ignored (SIGHUP reloads, SIGTERM stops)");
			break;
		case SIGTERM:
		case SIGINT:
		case SIGQUIT:
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
				mwm_log_worker_exit(child, status);
				if (time(NULL) - started < MWM_RESTART_PAUSE_SECS)
					sleep(MWM_RESTART_PAUSE_SECS);
				/* A new worker starts from the newest good
				   policy, as after SIGHUP. */
				sv->reload();
				started = time(NULL);
				child = mwm_worker_start(sv->worker);
				if (child < 0)
					return 1;
			}
			break;
		}
	}
}
