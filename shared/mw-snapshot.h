#ifndef MW_SNAPSHOT_H
#define MW_SNAPSHOT_H

/* A compiled, read-only image of a loaded policy, written once by the
   process that parsed and validated the policy and mapped by any number
   of processes that need it at once and must not parse it again (the
   Dovecot login processes, one per connection).  As with a postmap
   table: built once, read many times.

   The image holds what the Dovecot side decides with: the DNS settings,
   the defaults and every service with its rules, "from" blocks and
   settings.  Partners and S/MIME, which only the milter reads, are left
   out: a policy from a snapshot reports none.  Address sets are the flat
   sorted range arrays that mw_addrset_contains() searches, used straight
   from the mapping, so mapping costs the same whatever the size of the
   address lists: only the small part (services, rules, strings) is
   rebuilt and hashed.  The ranges are hashed too, but that hash is
   checked only on request (MW_SNAPSHOT_VERIFY_DATA): it is the one check
   whose cost grows with the lists, and ranges that a disk garbled could
   only give wrong answers, never a bad access (every range array is
   bounds-checked).

   The file is written as a temporary file, fsync()ed and renamed over
   the old one, so a reader sees the old image or the new one, never a
   part.  Every field read is bounds-checked: a truncated, foreign or
   corrupted file is refused, never trusted.

   No Dovecot headers here; the Dovecot glue is
   dovecot-plugin/mailward-snapshot.c. */

#include "mw-policy.h"

#include <stdint.h>
#include <sys/types.h>

struct mw_snapshot;

/* Who wrote the image, opaque to this module; the Dovecot glue stores
   the master process's identity, so that an image left by an earlier
   run of Dovecot is told from one of this run. */
struct mw_snapshot_owner {
	uint64_t id[3];
};

#define MW_SNAPSHOT_VERSION_STRLEN 40

enum mw_snapshot_flags {
	/* check the hash of the address ranges as well (reads the whole
	   file) */
	MW_SNAPSHOT_VERIFY_DATA = 0x01,
};

/* Writes policy into dir_fd/name atomically with mode 0644.  load_time
   is recorded as the version's time.  Returns 0, or -1 with *error_r
   (malloc()ed, the caller frees).  On success version_r (at least
   MW_SNAPSHOT_VERSION_STRLEN bytes, may be NULL) gets the version text
   that mw_snapshot_version() of the image returns. */
int mw_snapshot_write(const struct mw_policy *policy,
		      const struct mw_snapshot_owner *owner,
		      int64_t load_time, int dir_fd, const char *name,
		      char *version_r, char **error_r);

/* Maps dir_fd/name.  The file must be a regular file owned by root or
   by the caller's effective user, not writable by group or others.
   Returns 1 and *snap_r, 0 if the file does not exist, -1 with *error_r
   (malloc()ed) if it cannot be read or is not a valid image. */
int mw_snapshot_open(int dir_fd, const char *name,
		     enum mw_snapshot_flags flags,
		     struct mw_snapshot **snap_r, char **error_r);
/* The same for an image in memory, which must stay valid and unchanged
   while the snapshot lives (the fuzz target and the unit tests).
   Returns 0 or -1 with *error_r. */
int mw_snapshot_from_memory(const void *data, size_t size,
			    enum mw_snapshot_flags flags,
			    struct mw_snapshot **snap_r, char **error_r);
void mw_snapshot_free(struct mw_snapshot **snap);

/* The policy that the image holds; it lives as long as the snapshot
   (the caller may not keep references to it past mw_snapshot_free()). */
const struct mw_policy *mw_snapshot_policy(const struct mw_snapshot *snap);
const struct mw_snapshot_owner *
mw_snapshot_get_owner(const struct mw_snapshot *snap);
/* "HASH@TIME": a hash of the compiled policy's contents (the same
   contents give the same hash) and the load time, as Unix seconds. */
const char *mw_snapshot_version(const struct mw_snapshot *snap);
/* The load time that the version names. */
int64_t mw_snapshot_load_time(const struct mw_snapshot *snap);
/* True if dir_fd/name is still the file this snapshot was mapped from
   (same device and inode): one fstatat(), for callers that check at
   every connection whether a new image was published. */
bool mw_snapshot_is_current(const struct mw_snapshot *snap, int dir_fd,
			    const char *name);

/* For the fuzz target and the tests: recomputes the hashes in the
   header of an image of size bytes in place (nothing if it is shorter
   than a header), so that mutated images reach the structure checks. */
void mw_snapshot_reseal(void *data, size_t size);

#endif
