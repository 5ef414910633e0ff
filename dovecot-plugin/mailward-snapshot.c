/* The policy image between the auth and the login processes; see
   mailward-snapshot.h. */

#include "lib.h"
#include "master-interface.h"
#include "mailward-conn.h"
#include "mailward-snapshot.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The start time (field 22 of /proc/PID/stat, in clock ticks since
   boot), which tells a new master from an old one with a reused PID.
   0 where /proc cannot be read: the PID alone then. */
static uint64_t mailward_process_start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start;
	unsigned int field;
	ssize_t ret;
	int fd;

	i_snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ret = read(fd, buf, sizeof(buf) - 1);
	i_close_fd(&fd);
	if (ret <= 0)
		return 0;
	buf[ret] = '\0';
	/* the command name in parentheses may contain spaces */
	p = strrchr(buf, ')');
	if (p == NULL)
		return 0;
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", &start) != 1)
		return 0;
	return start;
}

void mailward_snapshot_owner(struct mw_snapshot_owner *owner_r)
{
	/* the auth and login processes are both the master's children */
	pid_t master = getppid();

	owner_r->id[0] = (uint64_t)master;
	owner_r->id[1] = mailward_process_start_time(master);
	owner_r->id[2] = 0;
}

uint64_t mailward_snapshot_generation(void)
{
	struct stat st;

	if (fstat(MASTER_LISTEN_FD_FIRST, &st) < 0 || !S_ISSOCK(st.st_mode))
		return 0;
	return (uint64_t)st.st_ino;
}

int mailward_snapshot_dir_open(const char *base_dir, int *fd_r,
			       const char **error_r)
{
	const char *path = t_strconcat(base_dir, "/login", NULL);

	*fd_r = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd_r < 0) {
		*error_r = t_strdup_printf("open(%s) failed: %m", path);
		return -1;
	}
	return 0;
}

int mailward_snapshot_map(int dir_fd, const struct mw_snapshot_owner *owner,
			  enum mw_snapshot_flags flags,
			  struct mw_snapshot **snap_r, const char **error_r)
{
	const struct mw_snapshot_owner *written;
	struct mw_snapshot *snap;
	char *error;
	int ret;

	ret = mw_snapshot_open(dir_fd, MAILWARD_SNAPSHOT_NAME, flags, &snap,
			       &error);
	if (ret < 0) {
		*error_r = t_strdup(error);
		free(error);
		return -1;
	}
	if (ret == 0)
		return 0;
	written = mw_snapshot_get_owner(snap);
	if (written->id[0] != owner->id[0] ||
	    (written->id[1] != owner->id[1] && owner->id[1] != 0)) {
		*error_r = t_strdup_printf(
			"%s: left by an earlier run of Dovecot (master PID %llu)",
			MAILWARD_SNAPSHOT_NAME,
			(unsigned long long)written->id[0]);
		mw_snapshot_free(&snap);
		return -1;
	}
	*snap_r = snap;
	return 1;
}

int mailward_snapshot_publish(int dir_fd, const struct mw_policy *policy,
			      uint64_t generation, int64_t load_time,
			      const char **version_r, const char **error_r)
{
	struct mw_snapshot_owner owner;
	char version[MW_SNAPSHOT_VERSION_STRLEN], *error;

	mailward_snapshot_owner(&owner);
	owner.id[2] = generation;
	if (load_time == 0)
		load_time = (int64_t)time(NULL);
	if (mw_snapshot_write(policy, &owner, load_time, dir_fd,
			      MAILWARD_SNAPSHOT_NAME, version, &error) < 0) {
		*error_r = t_strdup(error);
		free(error);
		return -1;
	}
	*version_r = t_strdup(version);
	return 0;
}

void mailward_snapshot_remove(int dir_fd)
{
	if (unlinkat(dir_fd, MAILWARD_SNAPSHOT_NAME, 0) < 0 && errno != ENOENT)
		i_error(MAILWARD_LOG_PREFIX"unlink(%s) failed: %m",
			MAILWARD_SNAPSHOT_NAME);
}

void mailward_snapshot_log_version(struct event *parent, const char *version,
				   const char *source)
{
	struct event *event;

	/* parent is NULL when the plugin loads, before any client */
	event = event_create(parent);
	event_set_name(event, MAILWARD_EVENT_POLICY_VERSION);
	event_add_str(event, "version", version);
	event_add_str(event, "source", source);
	e_debug(event, MAILWARD_LOG_PREFIX"policy version %s (from the %s)",
		version, source);
	event_unref(&event);
}
