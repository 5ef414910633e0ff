/*
 * Reading a certificate or private key file so that what is checked is
 * what is read: the file is opened once (not following a symbolic link
 * unless the key table allows it), the checks look at the open
 * descriptor, and every directory above the file is checked as OpenDKIM
 * checks its key files, since whoever can write one of them can swap the
 * file for another.
 *
 * The rules: the file and every directory above it belong to root or to
 * the user the milter runs as, and none is writable by group or others;
 * a directory writable by others is accepted only when it is root's and
 * sticky (/tmp), because then nobody else can rename or remove what is
 * in it.  A private key may not be readable by others; readable by its
 * group only when the milter runs in that group (Debian's root:ssl-cert
 * 0640, as Postfix and Dovecot accept it).
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "mw-smime.h"

#define MW_SMIME_FILE_MAX (1024 * 1024)

static bool mw_smime_owner_ok(const struct stat *st)
{
	return st->st_uid == 0 || st->st_uid == geteuid();
}

/* True if the process runs in group gid. */
static bool mw_smime_in_group(gid_t gid)
{
	gid_t groups[NGROUPS_MAX];
	int i, n;

	if (gid == getegid())
		return true;
	n = getgroups(NGROUPS_MAX, groups);
	for (i = 0; i < n; i++) {
		if (groups[i] == gid)
			return true;
	}
	return false;
}

static void mw_smime_group_name(gid_t gid, char *buf, size_t size)
{
	struct group grp, *result = NULL;
	char strbuf[1024];

	if (getgrgid_r(gid, &grp, strbuf, sizeof(strbuf), &result) == 0 &&
	    result != NULL)
		snprintf(buf, size, "%s", grp.gr_name);
	else
		snprintf(buf, size, "%u", (unsigned int)gid);
}

static int mw_smime_check_file_mode(const char *path, const struct stat *st,
				    enum mw_smime_file_kind kind,
				    char *error, size_t error_size)
{
	const char *what = kind == MW_SMIME_FILE_KEY ? "private key" :
		"certificate";
	unsigned int mode = (unsigned int)(st->st_mode & 07777);
	char group[64];

	if (!S_ISREG(st->st_mode)) {
		snprintf(error, error_size, "%s: not a regular file", path);
		return -1;
	}
	if (!mw_smime_owner_ok(st)) {
		snprintf(error, error_size,
			 "%s: %s owned by uid %u, neither root nor the milter's "
			 "user", path, what, (unsigned int)st->st_uid);
		return -1;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(error, error_size,
			 "%s: %s writable by group or others (mode %04o)",
			 path, what, mode);
		return -1;
	}
	if (kind != MW_SMIME_FILE_KEY)
		return 0;
	/* A private key others can read is as good as published. */
	if ((st->st_mode & S_IROTH) != 0) {
		snprintf(error, error_size,
			 "%s: private key readable by others (mode %04o)",
			 path, mode);
		return -1;
	}
	if ((st->st_mode & S_IRGRP) != 0 && !mw_smime_in_group(st->st_gid)) {
		mw_smime_group_name(st->st_gid, group, sizeof(group));
		snprintf(error, error_size,
			 "%s: private key readable by group %s, which the "
			 "milter does not run in (mode %04o)", path, group, mode);
		return -1;
	}
	return 0;
}

static int mw_smime_check_dir(const char *dir, char *error, size_t error_size)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		snprintf(error, error_size, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!mw_smime_owner_ok(&st)) {
		snprintf(error, error_size,
			 "directory %s owned by uid %u, neither root nor the "
			 "milter's user", dir, (unsigned int)st.st_uid);
		return -1;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    !(st.st_uid == 0 && (st.st_mode & S_ISVTX) != 0)) {
		snprintf(error, error_size,
			 "directory %s writable by group or others (mode %04o)",
			 dir, (unsigned int)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

/* Every directory from / down to the one holding the file, on the path
   with no symbolic links left; and that path must still lead to the
   file that is open. */
static int mw_smime_check_parents(const char *path, const struct stat *st,
				  char *error, size_t error_size)
{
	char *real = realpath(path, NULL), *last, *p;
	struct stat now;
	int ret = 0;

	if (real == NULL) {
		snprintf(error, error_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (stat(real, &now) < 0 || now.st_dev != st->st_dev ||
	    now.st_ino != st->st_ino) {
		snprintf(error, error_size, "%s: replaced while being read",
			 path);
		free(real);
		return -1;
	}
	last = strrchr(real, '/');
	ret = mw_smime_check_dir("/", error, error_size);
	for (p = strchr(real + 1, '/'); ret == 0 && p != NULL && p <= last;
	     p = strchr(p + 1, '/')) {
		*p = '\0';
		ret = mw_smime_check_dir(real, error, error_size);
		*p = '/';
	}
	free(real);
	return ret;
}

int mw_smime_file_read(const char *path, enum mw_smime_file_kind kind,
		       bool follow_links, unsigned char **data_r,
		       size_t *size_r, char *error, size_t error_size)
{
	int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	unsigned char *data = NULL;
	size_t size = 0;
	struct stat st;
	ssize_t n;
	int fd;

	if (!follow_links)
		flags |= O_NOFOLLOW;
	fd = open(path, flags);
	if (fd < 0) {
		if (errno == ELOOP && !follow_links)
			snprintf(error, error_size, "%s: a symbolic link, and "
				 "the entry does not say links=follow", path);
		else
			snprintf(error, error_size, "%s: %s", path,
				 strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(error, error_size, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (mw_smime_check_file_mode(path, &st, kind, error, error_size) < 0 ||
	    mw_smime_check_parents(path, &st, error, error_size) < 0)
		goto fail;
	if (st.st_size > MW_SMIME_FILE_MAX) {
		snprintf(error, error_size, "%s: larger than %u bytes", path,
			 MW_SMIME_FILE_MAX);
		goto fail;
	}
	data = malloc((size_t)st.st_size + 1);
	if (data == NULL) {
		snprintf(error, error_size, "out of memory");
		goto fail;
	}
	while (size < (size_t)st.st_size) {
		n = read(fd, data + size, (size_t)st.st_size - size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(error, error_size, "%s: %s", path,
				 n < 0 ? strerror(errno) : "shorter than its size");
			goto fail;
		}
		size += (size_t)n;
	}
	close(fd);
	data[size] = '\0';
	*data_r = data;
	*size_r = size;
	return 0;
fail:
	if (data != NULL) {
		OPENSSL_cleanse(data, size);
		free(data);
	}
	close(fd);
	return -1;
}

void mw_smime_file_data_free(unsigned char **_data, size_t size)
{
	unsigned char *data = *_data;

	if (data == NULL)
		return;
	*_data = NULL;
	OPENSSL_cleanse(data, size);
	free(data);
}
