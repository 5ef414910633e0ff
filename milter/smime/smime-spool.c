/* The spool: message bytes in memory up to a threshold, then in an
   unlinked temporary file, so that a 50 MB message costs disk, not
   memory. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mw-smime.h"

struct mw_smime_spool {
	size_t threshold;
	char *tmpdir;
	unsigned char *mem;
	size_t mem_size, mem_alloc;
	int fd;			/* -1 while in memory */
	uint64_t size;
};

struct mw_smime_spool *mw_smime_spool_new(size_t threshold, const char *tmpdir)
{
	struct mw_smime_spool *spool = calloc(1, sizeof(*spool));

	if (spool == NULL)
		return NULL;
	spool->tmpdir = strdup(tmpdir != NULL ? tmpdir : "/tmp");
	if (spool->tmpdir == NULL) {
		free(spool);
		return NULL;
	}
	spool->threshold = threshold;
	spool->fd = -1;
	return spool;
}

void mw_smime_spool_free(struct mw_smime_spool **_spool)
{
	struct mw_smime_spool *spool = *_spool;

	if (spool == NULL)
		return;
	*_spool = NULL;
	if (spool->fd != -1)
		(void)close(spool->fd);
	free(spool->mem);
	free(spool->tmpdir);
	free(spool);
}

static int mw_smime_write_all(int fd, const void *data, size_t size)
{
	const unsigned char *p = data;

	while (size > 0) {
		ssize_t n = write(fd, p, size);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		size -= (size_t)n;
	}
	return 0;
}

/* Moves what is in memory to a new temporary file. */
static int mw_smime_spool_to_file(struct mw_smime_spool *spool,
				  char *error, size_t error_size)
{
	char path[4096];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/mailward-smime.XXXXXX",
			     spool->tmpdir) >= sizeof(path)) {
		snprintf(error, error_size, "tmpdir %s: path too long",
			 spool->tmpdir);
		return -1;
	}
	fd = mkstemp(path);
	if (fd == -1) {
		snprintf(error, error_size, "mkstemp(%s) failed: %s", path,
			 strerror(errno));
		return -1;
	}
	(void)unlink(path);
	if (mw_smime_write_all(fd, spool->mem, spool->mem_size) < 0) {
		snprintf(error, error_size, "write(%s) failed: %s", path,
			 strerror(errno));
		(void)close(fd);
		return -1;
	}
	spool->fd = fd;
	free(spool->mem);
	spool->mem = NULL;
	spool->mem_size = spool->mem_alloc = 0;
	return 0;
}

int mw_smime_spool_write(struct mw_smime_spool *spool, const void *data,
			 size_t size, char *error, size_t error_size)
{
	if (spool->fd == -1 && spool->mem_size + size > spool->threshold) {
		if (mw_smime_spool_to_file(spool, error, error_size) < 0)
			return -1;
	}
	if (spool->fd != -1) {
		if (mw_smime_write_all(spool->fd, data, size) < 0) {
			snprintf(error, error_size, "write to spool failed: %s",
				 strerror(errno));
			return -1;
		}
	} else if (size > 0) {
		if (spool->mem_size + size > spool->mem_alloc) {
			size_t alloc = spool->mem_alloc == 0 ? 8192 :
				spool->mem_alloc;
			unsigned char *mem;

			while (alloc < spool->mem_size + size)
				alloc *= 2;
			mem = realloc(spool->mem, alloc);
			if (mem == NULL) {
				snprintf(error, error_size, "out of memory");
				return -1;
			}
			spool->mem = mem;
			spool->mem_alloc = alloc;
		}
		memcpy(spool->mem + spool->mem_size, data, size);
		spool->mem_size += size;
	}
	spool->size += size;
	return 0;
}

uint64_t mw_smime_spool_size(const struct mw_smime_spool *spool)
{
	return spool->size;
}

bool mw_smime_spool_in_file(const struct mw_smime_spool *spool)
{
	return spool->fd != -1;
}

int mw_smime_spool_pread(const struct mw_smime_spool *spool, uint64_t offset,
			 void *buf, size_t size, size_t *got_r,
			 char *error, size_t error_size)
{
	ssize_t n;

	*got_r = 0;
	if (offset >= spool->size)
		return 0;
	if (size > spool->size - offset)
		size = (size_t)(spool->size - offset);
	if (spool->fd == -1) {
		memcpy(buf, spool->mem + offset, size);
		*got_r = size;
		return 0;
	}
	do {
		n = pread(spool->fd, buf, size, (off_t)offset);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		snprintf(error, error_size, "read from spool failed: %s",
			 strerror(errno));
		return -1;
	}
	*got_r = (size_t)n;
	return 0;
}
