#include "mw-util.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

void mw_fatal(const char *fmt, ...)
{
	va_list args;

	fputs("mailward: fatal: ", stderr);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fputc('\n', stderr);
	abort();
}

void *mw_xcalloc(size_t nmemb, size_t size)
{
	void *ptr = calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size);

	if (ptr == NULL)
		mw_fatal("out of memory (%zu x %zu bytes)", nmemb, size);
	return ptr;
}

void *mw_xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		mw_fatal("allocation overflow (%zu x %zu bytes)", nmemb, size);
	ptr = realloc(ptr, nmemb * size == 0 ? 1 : nmemb * size);
	if (ptr == NULL)
		mw_fatal("out of memory (%zu x %zu bytes)", nmemb, size);
	return ptr;
}

char *mw_xstrdup(const char *str)
{
	char *dup = strdup(str);

	if (dup == NULL)
		mw_fatal("out of memory");
	return dup;
}

unsigned int mw_edit_distance(const char *a, const char *b)
{
	size_t alen = strlen(a), blen = strlen(b), i, j;
	unsigned int row[64], prev, tmp;

	/* Suggestions are only for short keywords. */
	if (blen >= MW_N_ELEMENTS(row) || alen >= MW_N_ELEMENTS(row))
		return UINT32_MAX;
	for (j = 0; j <= blen; j++)
		row[j] = j;
	for (i = 1; i <= alen; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= blen; j++) {
			tmp = row[j];
			unsigned int cost = a[i - 1] == b[j - 1] ? 0 : 1;
			unsigned int best = prev + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[blen];
}

int mw_read_file(const char *path, bool allow_empty, size_t max_size,
		 char **data_r, size_t *size_r, struct stat *st_r,
		 char *error, size_t error_size)
{
	struct stat st;
	char *data;
	size_t done = 0;
	ssize_t ret;
	int fd;

	*data_r = NULL;
	*size_r = 0;
	/* O_NONBLOCK: a FIFO named by mistake must not hang the auth process. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(error, error_size, "cannot open %s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(error, error_size, "cannot stat %s: %s", path,
			 strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(error, error_size, "%s is not a regular file", path);
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > max_size) {
		snprintf(error, error_size, "%s is too large (%lld bytes, at most %zu)",
			 path, (long long)st.st_size, max_size);
		close(fd);
		errno = EFBIG;
		return -1;
	}
	if (st.st_size == 0 && !allow_empty) {
		snprintf(error, error_size, "%s is empty", path);
		close(fd);
		return -1;
	}
	data = mw_xcalloc(1, (size_t)st.st_size + 1);
	while (done < (size_t)st.st_size) {
		ret = read(fd, data + done, (size_t)st.st_size - done);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0) {
			snprintf(error, error_size, "cannot read %s: %s", path,
				 ret < 0 ? strerror(errno) : "file shrank");
			free(data);
			close(fd);
			return -1;
		}
		done += (size_t)ret;
	}
	close(fd);
	if (st_r != NULL)
		*st_r = st;
	*data_r = data;
	*size_r = done;
	return 0;
}

enum mw_file_writers mw_file_writers(const char *path, const struct stat *st,
				     char *why, size_t why_size)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	struct stat dst;
	enum mw_file_writers writers = MW_WRITERS_OWNER;

	why[0] = '\0';
	if ((st->st_mode & S_IWOTH) != 0) {
		snprintf(why, why_size, "%s is writable by others (mode %04o)",
			 path, (unsigned int)(st->st_mode & 07777));
		return MW_WRITERS_OTHERS;
	}
	if ((st->st_mode & S_IWGRP) != 0) {
		snprintf(why, why_size, "%s is writable by its group (mode %04o)",
			 path, (unsigned int)(st->st_mode & 07777));
		writers = MW_WRITERS_GROUP;
	}
	if (slash == NULL)
		dir = mw_xstrdup(".");
	else if (slash == path)
		dir = mw_xstrdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		mw_fatal("out of memory");
	/* In a directory others can write, they can put another file in its
	   place, unless the sticky bit keeps them to their own files. */
	if (stat(dir, &dst) == 0 && (dst.st_mode & S_IWOTH) != 0 &&
	    (dst.st_mode & S_ISVTX) == 0) {
		snprintf(why, why_size,
			 "%s is in %s, which others can write (mode %04o)",
			 path, dir, (unsigned int)(dst.st_mode & 07777));
		writers = MW_WRITERS_OTHERS;
	} else if (writers == MW_WRITERS_OWNER && stat(dir, &dst) == 0 &&
		   (dst.st_mode & S_IWGRP) != 0 && (dst.st_mode & S_ISVTX) == 0) {
		snprintf(why, why_size,
			 "%s is in %s, which its group can write (mode %04o)",
			 path, dir, (unsigned int)(dst.st_mode & 07777));
		writers = MW_WRITERS_GROUP;
	}
	free(dir);
	return writers;
}

const char *mw_line_end(const char *p, const char *end, const char **next_r)
{
	for (; p < end; p++) {
		if (*p == '\n') {
			*next_r = p + 1;
			return p;
		}
		if (*p == '\r') {
			*next_r = p + 1 < end && p[1] == '\n' ? p + 2 : p + 1;
			return p;
		}
	}
	*next_r = end;
	return end;
}

char *mw_path_relative_to(const char *base_file, const char *path)
{
	const char *slash = strrchr(base_file, '/');
	char *result;

	if (path[0] == '/' || slash == NULL)
		return mw_xstrdup(path);
	if (asprintf(&result, "%.*s/%s", (int)(slash - base_file), base_file,
		     path) < 0)
		mw_fatal("out of memory");
	return result;
}

bool mw_word_needs_quotes(const char *str)
{
	if (*str == '\0')
		return true;
	for (; *str != '\0'; str++) {
		if (strchr(" \t#\"{}=;\\", *str) != NULL)
			return true;
	}
	return false;
}
