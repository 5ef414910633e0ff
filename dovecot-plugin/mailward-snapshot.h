#ifndef MAILWARD_SNAPSHOT_H
#define MAILWARD_SNAPSHOT_H

/* The policy as the auth process loaded it, for the login processes.

   The auth process parses and validates the policy file (in the passdb's
   preinit, as root, at start and again at every "doveadm reload", which
   restarts it) and writes a compiled image (mw-snapshot.h) into the
   login directory, base_dir/login/mailward-policy.snap.  Login processes
   map that image instead of reading the policy file, so that both decide
   with one version, which changes only when the auth process loads a
   new one, and so that a connection costs the same whatever the size of
   the address lists.

   The image carries the master process's identity (PID and start time):
   an image left by an earlier run of Dovecot is stale and never used.
   It also carries the auth process's generation: the inode of its first
   listener socket, which the master creates anew at every reload and
   keeps when it merely restarts the auth process (after idle_kill, or a
   crash).  An auth process of the same generation as the image keeps
   the image's version instead of reading the file: only a reload
   changes the policy. */

#include "mw-snapshot.h"

#define MAILWARD_SNAPSHOT_NAME "mailward-policy.snap"

/* Sent when the policy file does not load, with the fields policy (the
   path), error ("file:line:column: message") and kept_version (the
   version still in force, "" if none). */
#define MAILWARD_EVENT_LOAD_FAILED "mailward_policy_load_failed"
/* Sent (at debug level) when a process starts using a policy version,
   with the fields version and source ("file" or "snapshot"). */
#define MAILWARD_EVENT_POLICY_VERSION "mailward_policy_version"

/* The running Dovecot master's identity, as images record it, with
   generation 0. */
void mailward_snapshot_owner(struct mw_snapshot_owner *owner_r);
/* The auth process's generation (see above); 0 if unknown. */
uint64_t mailward_snapshot_generation(void);

/* Opens base_dir/login.  Returns 0, or -1 with error_r. */
int mailward_snapshot_dir_open(const char *base_dir, int *fd_r,
			       const char **error_r);

/* Maps the image in dir_fd if this run of Dovecot wrote it.  Returns 1
   with *snap_r, 0 if there is none, -1 with error_r if it is not valid
   or was left by an earlier run.  Login processes, which map it for
   every connection, leave the address ranges' hash unchecked (see
   mw-snapshot.h); the auth process checks everything. */
int mailward_snapshot_map(int dir_fd, const struct mw_snapshot_owner *owner,
			  enum mw_snapshot_flags flags,
			  struct mw_snapshot **snap_r, const char **error_r);

/* Writes policy's image for this run and generation, loaded at
   load_time (0: now).  Returns 0 with version_r, or -1 with error_r. */
int mailward_snapshot_publish(int dir_fd, const struct mw_policy *policy,
			      uint64_t generation, int64_t load_time,
			      const char **version_r, const char **error_r);

/* Removes the image, so that login processes refuse every client rather
   than decide with a version that the auth process does not use. */
void mailward_snapshot_remove(int dir_fd);

/* Sends the MAILWARD_EVENT_POLICY_VERSION event as a child of parent. */
void mailward_snapshot_log_version(struct event *parent, const char *version,
				   const char *source);

#endif
