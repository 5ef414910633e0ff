/* mailward-milter: options and start-up. */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "milter.h"
#include "milter-config.h"
#include "milter-daemon.h"
#include "milter-log.h"
#include "milter-processor.h"
#include "milter-socket.h"

#ifndef SYSCONFDIR
#  define SYSCONFDIR "/etc"
#endif
#ifndef RUNSTATEDIR
#  define RUNSTATEDIR "/run"
#endif
#ifndef MW_VERSION
#  define MW_VERSION "0.1"
#endif

/* Room for libmilter, the policy decision and a message processor's
   OpenSSL calls, with a wide margin (sanitizer builds need more). */
#define MWM_THREAD_STACK_SIZE (1024 * 1024)

#define MWM_DEFAULT_POLICY SYSCONFDIR "/mailward/mailward.conf"
#define MWM_DEFAULT_SOCKET "unix:" RUNSTATEDIR "/mailward/milter.sock"

struct mwm_options {
	const char *policy_path;
	const char *socket;
	const char *user;
	const char *pidfile;
	int timeout_secs;
	int heartbeat_secs;
	bool foreground;
	bool syslog;
	bool debug;
	bool check_only;
};

static void mwm_usage(FILE *out)
{
	fprintf(out,
"usage: " MWM_NAME " [-fsdn] [-c policy] [-p socket] [-u user[:group]]\n"
"                       [-P pidfile] [-T timeout] [-W heartbeat]\n"
"  -c policy   policy file (default " MWM_DEFAULT_POLICY ")\n"
"  -p socket   unix:PATH or inet:PORT@HOST (default " MWM_DEFAULT_SOCKET ")\n"
"  -u user     run as this user (required when started as root)\n"
"  -P pidfile  write the supervisor's pid here\n"
"  -T timeout  seconds to wait for the MTA (default 7210)\n"
"  -W seconds  restart a worker that does not answer for this long\n"
"              (default 10; 0 turns the heartbeat off)\n"
"  -f          stay in the foreground and log to stderr\n"
"  -s          log to syslog even in the foreground\n"
"  -d          debug logging\n"
"  -n          check the policy file and exit\n"
"  -V          print the version and exit\n");
}

/* libmilter accepts more forms; these are the ones we document. */
static bool mwm_socket_valid(const char *spec)
{
	const char *path;

	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		path = strchr(spec, ':') + 1;
		return *path == '/';
	}
	if (strncmp(spec, "inet:", 5) == 0 || strncmp(spec, "inet6:", 6) == 0) {
		const char *port = strchr(spec, ':') + 1;
		char *end;
		long n = strtol(port, &end, 10);

		return end != port && n > 0 && n < 65536 &&
			(*end == '\0' || (*end == '@' && end[1] != '\0'));
	}
	return false;
}

static int mwm_options_parse(int argc, char **argv, struct mwm_options *opts)
{
	int c;

	*opts = (struct mwm_options){
		.policy_path = MWM_DEFAULT_POLICY,
		.socket = MWM_DEFAULT_SOCKET,
		.timeout_secs = 7210,
		.heartbeat_secs = 10,
	};
	while ((c = getopt(argc, argv, "c:p:u:P:T:W:fsdnVh")) != -1) {
		switch (c) {
		case 'c': opts->policy_path = optarg; break;
		case 'p': opts->socket = optarg; break;
		case 'u': opts->user = optarg; break;
		case 'P': opts->pidfile = optarg; break;
		case 'T': {
			char *end;
			long n = strtol(optarg, &end, 10);

			if (end == optarg || *end != '\0' || n <= 0 || n > 86400) {
				fprintf(stderr, MWM_NAME ": invalid timeout: %s\n", optarg);
				return -1;
			}
			opts->timeout_secs = (int)n;
			break;
		}
		case 'W': {
			char *end;
			long n = strtol(optarg, &end, 10);

			if (end == optarg || *end != '\0' || n < 0 || n > 3600) {
				fprintf(stderr, MWM_NAME ": invalid heartbeat: %s\n", optarg);
				return -1;
			}
			opts->heartbeat_secs = (int)n;
			break;
		}
		case 'f': opts->foreground = true; break;
		case 's': opts->syslog = true; break;
		case 'd': opts->debug = true; break;
		case 'n': opts->check_only = true; break;
		case 'V':
			printf(MWM_NAME " " MW_VERSION "\n");
			exit(0);
		case 'h':
			mwm_usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, MWM_NAME ": unexpected argument: %s\n", argv[optind]);
		return -1;
	}
	if (!mwm_socket_valid(opts->socket)) {
		fprintf(stderr, MWM_NAME ": invalid socket: %s\n", opts->socket);
		return -1;
	}
	return 0;
}

/* -n: the policy's diagnostics on stderr, and the verdict in the exit
   status, like "mailward check"; then what the processors read from it
   (the S/MIME key table, each refused key with its reason), as a start
   would.  Run it as the user the milter runs as. */
static int mwm_check_policy(const char *path)
{
	struct mw_policy *policy;
	struct mw_diags *diags;
	int ret;

	ret = mw_policy_load(path, &policy, &diags);
	mw_diags_print(diags, stderr);
	mw_diags_free(&diags);
	if (ret < 0)
		return EX_CONFIG;
	mwm_log_init(true, false);
	ret = mwm_processors_policy_loaded(policy, true);
	mwm_processors_deinit();
	mw_policy_unref(&policy);
	return ret < 0 ? EX_CONFIG : 0;
}

static void *mwm_reload_thread(void *context)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		if (sigwait(&set, &sig) == 0 && sig == SIGUSR1)
			(void)mwm_config_reload(true);
	}
	return context;
}

/* The worker process: serves Postfix until libmilter stops on SIGTERM.
   The supervisor relays SIGHUP as SIGUSR1, which libmilter leaves to us. */
static int mwm_worker(void)
{
	pthread_attr_t attr;
	pthread_t thread;

	/* libmilter starts a thread per MTA connection with the default
	   attributes.  Sessions need little stack; a small one lets glibc
	   keep many in its stack cache instead of mapping 8 MB for every
	   SMTP connection. */
	if (pthread_attr_init(&attr) == 0) {
		if (pthread_attr_setstacksize(&attr, MWM_THREAD_STACK_SIZE) != 0 ||
		    pthread_setattr_default_np(&attr) != 0)
			mwm_log(LOG_WARNING, "cannot set the thread stack size");
		pthread_attr_destroy(&attr);
	}

	if (pthread_create(&thread, NULL, mwm_reload_thread, NULL) != 0 ||
	    pthread_detach(thread) != 0) {
		mwm_log(LOG_ERR, "cannot start the reload thread");
		return EX_OSERR;
	}
	mwm_log(LOG_INFO, "worker %ld ready", (long)getpid());
	if (smfi_main() != MI_SUCCESS) {
		mwm_log(LOG_ERR, "libmilter stopped with an error");
		return EX_SOFTWARE;
	}
	return 0;
}

/* The supervisor keeps its copy current without logging: the worker
   logs the same outcome. */
static void mwm_supervisor_reload(void)
{
	(void)mwm_config_reload(false);
}

int main(int argc, char **argv)
{
	struct mwm_options opts;
	struct mwm_socket sock;
	struct mwm_supervision sv = {
		.worker = mwm_worker,
		.reload = mwm_supervisor_reload,
	};
	const char *error;
	uid_t uid = 0;
	gid_t gid = 0;
	int status, pid_fd = -1;

	if (mwm_options_parse(argc, argv, &opts) < 0) {
		mwm_usage(stderr);
		return EX_USAGE;
	}
	if (opts.check_only)
		return mwm_check_policy(opts.policy_path);

	/* Until the daemon detaches, what goes wrong is said on stderr too:
	   whoever started it sees why it did not start. */
	mwm_log_init(opts.foreground && !opts.syslog, opts.debug);
	mwm_log_startup(true);

	if (opts.user != NULL) {
		if (mwm_daemon_user_lookup(opts.user, &uid, &gid, &error) < 0 ||
		    mwm_daemon_drop_privileges(opts.user, uid, gid, &error) < 0) {
			mwm_log(LOG_ERR, "%s", error);
			return EX_NOUSER;
		}
	} else if (geteuid() == 0) {
		mwm_log(LOG_ERR, "refusing to run as root; give -u user");
		return EX_USAGE;
	}

	/* The policy is read as the user that will reload it. */
	if (mwm_config_init(opts.policy_path) < 0) {
		mwm_log(LOG_ERR, "invalid policy %s; not starting", opts.policy_path);
		return EX_CONFIG;
	}

	/* Locks first: a second instance must fail before it touches the
	   first one's socket. */
	if (opts.pidfile != NULL &&
	    mwm_pidfile_open(opts.pidfile, &pid_fd, &error) < 0) {
		mwm_log(LOG_ERR, "%s; not starting", error);
		mwm_config_deinit();
		return EX_TEMPFAIL;
	}
	if (mwm_socket_claim(opts.socket, &sock, &error) < 0) {
		mwm_log(LOG_ERR, "%s; not starting", error);
		if (pid_fd >= 0)
			mwm_pidfile_remove(pid_fd, opts.pidfile);
		mwm_config_deinit();
		return EX_TEMPFAIL;
	}

	/* The socket is opened before detaching, so that a bad address
	   fails the start rather than a later worker.  Postfix (another
	   user) must be able to write to a unix socket: group members may. */
	umask(007);
	if (smfi_setconn(sock.listen_spec) != MI_SUCCESS ||
	    smfi_settimeout(opts.timeout_secs) != MI_SUCCESS ||
	    smfi_register(mwm_milter_desc) != MI_SUCCESS ||
	    smfi_opensocket(true) != MI_SUCCESS) {
		mwm_log(LOG_ERR, "cannot listen on %s (libmilter logs why to syslog)",
			opts.socket);
		status = EX_UNAVAILABLE;
		goto out;
	}
	if (mwm_socket_publish(&sock, &error) < 0) {
		mwm_log(LOG_ERR, "%s", error);
		status = EX_CANTCREAT;
		goto out;
	}

	if (!opts.foreground && mwm_daemon_detach(&error) < 0) {
		mwm_log(LOG_ERR, "%s", error);
		status = EX_OSERR;
		goto out;
	}
	mwm_log_startup(false);
	if (pid_fd >= 0 && mwm_pidfile_write(pid_fd, opts.pidfile, &error) < 0) {
		mwm_log(LOG_ERR, "%s", error);
		status = EX_CANTCREAT;
		goto out;
	}
	mwm_log(LOG_INFO, "listening on %s with policy %s", opts.socket,
		opts.policy_path);

	sv.socket = opts.socket;
	sv.heartbeat_secs = opts.heartbeat_secs;
	status = mwm_daemon_supervise(&sv);
	mwm_log(LOG_INFO, "stopped");
out:
	mwm_socket_release(&sock);
	if (pid_fd >= 0)
		mwm_pidfile_remove(pid_fd, opts.pidfile);
	mwm_config_deinit();
	return status;
}
