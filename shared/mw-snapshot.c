/* The compiled policy image: see mw-snapshot.h.

   Layout (host byte order; the byte-order word refuses a foreign one):

     header   struct mw_snap_header, 112 bytes
     meta     32-bit words: the DNS settings, the address set table, the
              defaults and the services, in the order mw_snap_put_*()
              writes them; a string is an offset into the strings, a set
              an index into the set table, MW_SNAP_NONE stands for NULL
     strings  NUL-terminated, the last byte of the section a NUL
     data     the address ranges, 16-byte aligned, as mw_addrset keeps
              them

   The header's checksum covers the header (with the checksum field read
   as zero), which holds meta_hash, over the metadata and the strings,
   and content_hash, over everything after the header: the same policy
   gives the same content_hash whenever and by whom it was written.  The
   header and meta_hash are checked at every mapping, content_hash with
   MW_SNAPSHOT_VERIFY_DATA. */

#include "mw-snapshot.h"
#include "mw-policy-private.h"
#include "mw-arena.h"
#include "mw-util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MW_SNAP_MAGIC "MWSNAP\r\n"
#define MW_SNAP_BYTE_ORDER 0x01020304U
#define MW_SNAP_FORMAT 1U
#define MW_SNAP_NONE 0xffffffffU
/* far above any real policy: a list of a million IPv6 networks is 32 MB */
#define MW_SNAP_SIZE_MAX (1024U * 1024U * 1024U)

struct mw_snap_header {
	char magic[8];
	uint32_t byte_order;
	uint32_t format;
	uint64_t file_size;
	uint64_t checksum;
	uint64_t content_hash;
	int64_t load_time;
	uint32_t meta_off, meta_words;
	uint32_t str_off, str_size;
	uint32_t data_off, data_size;
	uint64_t meta_hash;
	uint64_t owner[3];
	uint64_t reserved;
};
_Static_assert(sizeof(struct mw_snap_header) == 112, "header layout");

struct mw_snapshot {
	const unsigned char *data;
	size_t size;
	bool mapped;
	dev_t dev;
	ino_t ino;
	struct mw_policy *policy;
	struct mw_snapshot_owner owner;
	char version[MW_SNAPSHOT_VERSION_STRLEN];
	int64_t load_time;
};

static char *mw_snap_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static char *mw_snap_error(const char *fmt, ...)
{
	va_list args;
	char *str;

	va_start(args, fmt);
	if (vasprintf(&str, fmt, args) < 0)
		mw_fatal("out of memory");
	va_end(args);
	return str;
}

/* --- the hash ------------------------------------------------------------ */

/* Four independent multiply-xor lanes over 8-byte words, so that the
   check of a large image runs at memory speed: the one step of mapping
   whose cost grows with the address lists. */
#define MW_HASH_K1 0x9e3779b97f4a7c15ULL
#define MW_HASH_K2 0xc2b2ae3d27d4eb4fULL

static uint64_t mw_hash_rotl(uint64_t v, unsigned int n)
{
	return v << n | v >> (64 - n);
}

static uint64_t mw_hash_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t mw_hash_lane(uint64_t h, uint64_t w)
{
	return mw_hash_rotl(h ^ (w * MW_HASH_K2), 31) * MW_HASH_K1;
}

static uint64_t mw_hash(const void *data, size_t size)
{
	const unsigned char *p = data;
	uint64_t h[4] = { 1, 2, 3, 4 }, w[4], tail = 0;
	size_t i = 0;
	unsigned int l;

	for (; i + 32 <= size; i += 32) {
		memcpy(w, p + i, 32);
		for (l = 0; l < 4; l++)
			h[l] = mw_hash_lane(h[l], w[l]);
	}
	for (; i + 8 <= size; i += 8) {
		memcpy(w, p + i, 8);
		h[0] = mw_hash_lane(h[0], w[0]);
	}
	memcpy(&tail, p + i, size - i);
	h[1] = mw_hash_lane(h[1], tail ^ (uint64_t)size);
	return mw_hash_mix(h[0] ^ mw_hash_rotl(h[1], 17) ^
			   mw_hash_rotl(h[2], 29) ^ mw_hash_rotl(h[3], 43));
}

static uint64_t mw_snap_checksum(const struct mw_snap_header *hdr)
{
	struct mw_snap_header copy = *hdr;

	copy.checksum = 0;
	return mw_hash(&copy, sizeof(copy));
}

/* The metadata and strings: from the end of the header to the data.
   0 if the header's data offset is out of range. */
static uint64_t mw_snap_meta_hash(const struct mw_snap_header *hdr,
				  const unsigned char *data, size_t size)
{
	if (hdr->data_off < sizeof(*hdr) || hdr->data_off > size)
		return 0;
	return mw_hash(data + sizeof(*hdr), hdr->data_off - sizeof(*hdr));
}

void mw_snapshot_reseal(void *data, size_t size)
{
	struct mw_snap_header hdr;

	if (size < sizeof(hdr))
		return;
	memcpy(&hdr, data, sizeof(hdr));
	hdr.content_hash = mw_hash((unsigned char *)data + sizeof(hdr),
				   size - sizeof(hdr));
	hdr.meta_hash = mw_snap_meta_hash(&hdr, data, size);
	hdr.checksum = mw_snap_checksum(&hdr);
	memcpy(data, &hdr, sizeof(hdr));
}

/* --- writing ----------------------------------------------------------- */

struct mw_snap_buf {
	unsigned char *data;
	size_t used, alloc;
};

struct mw_snap_writer {
	struct mw_snap_buf meta, str, data;
	const struct mw_addrset **sets;
	unsigned int set_count, set_alloc;
};

static void *mw_snap_buf_append(struct mw_snap_buf *buf, const void *data,
				size_t size)
{
	void *dest;

	if (size == 0)
		return buf->data;
	if (buf->used + size > buf->alloc) {
		while (buf->used + size > buf->alloc)
			buf->alloc = buf->alloc == 0 ? 4096 : buf->alloc * 2;
		buf->data = mw_xreallocarray(buf->data, buf->alloc, 1);
	}
	dest = buf->data + buf->used;
	if (data != NULL)
		memcpy(dest, data, size);
	else
		memset(dest, 0, size);
	buf->used += size;
	return dest;
}

static void mw_snap_put(struct mw_snap_writer *w, uint32_t value)
{
	(void)mw_snap_buf_append(&w->meta, &value, sizeof(value));
}

static void mw_snap_put_str(struct mw_snap_writer *w, const char *str)
{
	if (str == NULL) {
		mw_snap_put(w, MW_SNAP_NONE);
		return;
	}
	mw_snap_put(w, (uint32_t)w->str.used);
	(void)mw_snap_buf_append(&w->str, str, strlen(str) + 1);
}

static void mw_snap_put_strlist(struct mw_snap_writer *w,
				const char *const *list)
{
	unsigned int i, count = 0;

	if (list == NULL) {
		mw_snap_put(w, MW_SNAP_NONE);
		return;
	}
	while (list[count] != NULL)
		count++;
	mw_snap_put(w, count);
	for (i = 0; i < count; i++)
		mw_snap_put_str(w, list[i]);
}

static void mw_snap_put_loc(struct mw_snap_writer *w, const struct mw_loc *loc)
{
	mw_snap_put_str(w, loc->file);
	mw_snap_put(w, loc->line);
}

/* The address sets go into a table first, so that the services can name
   them by index. */
static void mw_snap_collect_set(struct mw_snap_writer *w,
				const struct mw_matcher *match)
{
	unsigned int i;

	if (match->kind != MW_MATCH_NET)
		return;
	for (i = 0; i < w->set_count; i++) {
		if (w->sets[i] == match->nets)
			return;
	}
	if (w->set_count == w->set_alloc) {
		w->set_alloc = w->set_alloc == 0 ? 16 : w->set_alloc * 2;
		w->sets = mw_xreallocarray(w->sets, w->set_alloc,
					   sizeof(*w->sets));
	}
	w->sets[w->set_count++] = match->nets;
}

static void mw_snap_collect_service(struct mw_snap_writer *w,
				    const struct mw_service *service)
{
	unsigned int i;

	for (i = 0; i < service->rule_count; i++)
		mw_snap_collect_set(w, &service->rules[i].match);
	for (i = 0; i < service->from_count; i++)
		mw_snap_collect_set(w, &service->froms[i].match);
}

static uint32_t mw_snap_data_append(struct mw_snap_writer *w,
				    const void *data, size_t size)
{
	static const unsigned char zero[16];
	size_t pad = (16 - w->data.used % 16) % 16;
	uint32_t offset;

	(void)mw_snap_buf_append(&w->data, zero, pad);
	offset = (uint32_t)w->data.used;
	if (size > 0)
		(void)mw_snap_buf_append(&w->data, data, size);
	return offset;
}

static void mw_snap_put_sets(struct mw_snap_writer *w)
{
	const void *v4, *v6;
	unsigned int i, v4_count, v6_count;

	mw_snap_put(w, w->set_count);
	for (i = 0; i < w->set_count; i++) {
		mw_addrset_ranges(w->sets[i], &v4, &v4_count, &v6, &v6_count);
		mw_snap_put(w, mw_snap_data_append(w, v4, (size_t)v4_count *
						   MW_ADDRSET_RANGE4_SIZE));
		mw_snap_put(w, v4_count);
		mw_snap_put(w, mw_snap_data_append(w, v6, (size_t)v6_count *
						   MW_ADDRSET_RANGE6_SIZE));
		mw_snap_put(w, v6_count);
		mw_snap_put(w, mw_addrset_entry_count(w->sets[i]));
	}
}

static void mw_snap_put_matcher(struct mw_snap_writer *w,
				const struct mw_matcher *match)
{
	unsigned int i, set = MW_SNAP_NONE;

	for (i = 0; match->kind == MW_MATCH_NET && i < w->set_count; i++) {
		if (w->sets[i] == match->nets)
			set = i;
	}
	mw_snap_put(w, match->kind);
	mw_snap_put(w, set);
	mw_snap_put_strlist(w, match->kind == MW_MATCH_HOST ?
			    match->hosts : NULL);
}

static void mw_snap_put_settings(struct mw_snap_writer *w,
				 const struct mw_settings *set)
{
	unsigned int i;

	for (i = 0; i < MW_SET_COUNT; i++) {
		mw_snap_put(w, (uint32_t)set->value[i]);
		mw_snap_put_str(w, set->text[i]);
		mw_snap_put_loc(w, &set->loc[i]);
	}
	mw_snap_put_strlist(w, set->mechanisms);
	mw_snap_put(w, set->set_mask);
}

static void mw_snap_put_service(struct mw_snap_writer *w,
				const struct mw_service *service)
{
	unsigned int i;

	mw_snap_put_str(w, service->name);
	mw_snap_put_loc(w, &service->loc);
	mw_snap_put_strlist(w, service->daemon_names);
	mw_snap_put(w, service->rule_count);
	for (i = 0; i < service->rule_count; i++) {
		const struct mw_rule *rule = &service->rules[i];

		mw_snap_put(w, rule->action);
		mw_snap_put_matcher(w, &rule->match);
		mw_snap_put_str(w, rule->text);
		mw_snap_put_loc(w, &rule->loc);
	}
	mw_snap_put(w, service->from_count);
	for (i = 0; i < service->from_count; i++) {
		const struct mw_from *from = &service->froms[i];

		mw_snap_put_matcher(w, &from->match);
		mw_snap_put_str(w, from->text);
		mw_snap_put_loc(w, &from->loc);
		mw_snap_put_settings(w, &from->settings);
	}
	mw_snap_put_settings(w, &service->settings);
	mw_snap_put(w, service->uses_hosts ? 1 : 0);
}

static void mw_snap_encode(struct mw_snap_writer *w,
			   const struct mw_policy *policy)
{
	const struct mw_dns_settings *dns = &policy->dns;
	unsigned int i;

	mw_snap_collect_service(w, &policy->defaults);
	for (i = 0; i < policy->service_count; i++)
		mw_snap_collect_service(w, &policy->services[i]);

	mw_snap_put(w, dns->timeout_msecs);
	mw_snap_put(w, dns->cache_ttl_secs);
	mw_snap_put(w, dns->negative_ttl_secs);
	mw_snap_put(w, dns->cache_size);
	mw_snap_put(w, dns->on_error);
	mw_snap_put_str(w, policy->path);
	mw_snap_put_sets(w);
	mw_snap_put_service(w, &policy->defaults);
	mw_snap_put(w, policy->service_count);
	for (i = 0; i < policy->service_count; i++)
		mw_snap_put_service(w, &policy->services[i]);
	/* the strings section always ends with a NUL, even when empty */
	(void)mw_snap_buf_append(&w->str, "", 1);
}

static void mw_snap_format_version(char *buf, uint64_t hash, int64_t time)
{
	snprintf(buf, MW_SNAPSHOT_VERSION_STRLEN, "%016llx@%lld",
		 (unsigned long long)hash, (long long)time);
}

/* The image in one buffer (malloc()ed), header filled in. */
static unsigned char *
mw_snap_build(const struct mw_policy *policy,
	      const struct mw_snapshot_owner *owner, int64_t load_time,
	      size_t *size_r, char *version_r)
{
	struct mw_snap_writer w;
	struct mw_snap_header hdr;
	struct mw_snap_buf out;
	size_t pad;

	memset(&w, 0, sizeof(w));
	mw_snap_encode(&w, policy);

	memset(&hdr, 0, sizeof(hdr));
	memcpy(hdr.magic, MW_SNAP_MAGIC, sizeof(hdr.magic));
	hdr.byte_order = MW_SNAP_BYTE_ORDER;
	hdr.format = MW_SNAP_FORMAT;
	hdr.load_time = load_time;
	memcpy(hdr.owner, owner->id, sizeof(hdr.owner));

	memset(&out, 0, sizeof(out));
	(void)mw_snap_buf_append(&out, NULL, sizeof(hdr));
	hdr.meta_off = (uint32_t)out.used;
	hdr.meta_words = (uint32_t)(w.meta.used / 4);
	(void)mw_snap_buf_append(&out, w.meta.data, w.meta.used);
	hdr.str_off = (uint32_t)out.used;
	hdr.str_size = (uint32_t)w.str.used;
	(void)mw_snap_buf_append(&out, w.str.data, w.str.used);
	pad = (16 - out.used % 16) % 16;
	(void)mw_snap_buf_append(&out, NULL, pad);
	hdr.data_off = (uint32_t)out.used;
	hdr.data_size = (uint32_t)w.data.used;
	if (w.data.used > 0)
		(void)mw_snap_buf_append(&out, w.data.data, w.data.used);
	pad = (8 - out.used % 8) % 8;
	(void)mw_snap_buf_append(&out, NULL, pad);
	hdr.file_size = out.used;

	hdr.content_hash = mw_hash(out.data + sizeof(hdr),
				   out.used - sizeof(hdr));
	hdr.meta_hash = mw_snap_meta_hash(&hdr, out.data, out.used);
	hdr.checksum = mw_snap_checksum(&hdr);
	memcpy(out.data, &hdr, sizeof(hdr));
	if (version_r != NULL)
		mw_snap_format_version(version_r, hdr.content_hash, load_time);

	free(w.meta.data);
	free(w.str.data);
	free(w.data.data);
	free(w.sets);
	*size_r = out.used;
	return out.data;
}

static int mw_snap_write_all(int fd, const unsigned char *data, size_t size)
{
	ssize_t ret;

	while (size > 0) {
		ret = write(fd, data, size);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += ret;
		size -= (size_t)ret;
	}
	return 0;
}

int mw_snapshot_write(const struct mw_policy *policy,
		      const struct mw_snapshot_owner *owner,
		      int64_t load_time, int dir_fd, const char *name,
		      char *version_r, char **error_r)
{
	unsigned char *image;
	size_t size;
	char tmp[256];
	const char *step;
	int fd, saved_errno;

	if (policy->service_count > UINT32_MAX / 64) {
		*error_r = mw_snap_error("%s: policy too large", name);
		return -1;
	}
	image = mw_snap_build(policy, owner, load_time, &size, version_r);
	if (size > MW_SNAP_SIZE_MAX) {
		free(image);
		*error_r = mw_snap_error("%s: image of %zu bytes is too large",
					 name, size);
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", name, (long)getpid());
	/* O_EXCL with O_NOFOLLOW: never writes through a planted link */
	(void)unlinkat(dir_fd, tmp, 0);
	fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0644);
	if (fd < 0) {
		step = "open";
		goto fail_noclose;
	}
	/* whatever the umask: login processes run as another user */
	step = "fchmod";
	if (fchmod(fd, 0644) < 0)
		goto fail;
	step = "write";
	if (mw_snap_write_all(fd, image, size) < 0)
		goto fail;
	step = "fsync";
	if (fsync(fd) < 0)
		goto fail;
	step = "close";
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	step = "rename";
	if (renameat(dir_fd, tmp, dir_fd, name) < 0)
		goto fail;
	/* the rename itself must survive a crash too; a directory that
	   cannot be synced (some file systems) is no reason to fail */
	(void)fsync(dir_fd);
	free(image);
	return 0;

fail:
	saved_errno = errno;
	if (fd >= 0)
		(void)close(fd);
	(void)unlinkat(dir_fd, tmp, 0);
	errno = saved_errno;
fail_noclose:
	*error_r = mw_snap_error("%s(%s): %s", step, tmp, strerror(errno));
	free(image);
	return -1;
}

/* --- reading ----------------------------------------------------------- */

struct mw_snap_reader {
	struct mw_arena *arena;
	const uint32_t *meta;
	size_t words, pos;
	const char *str;
	size_t str_size;
	const unsigned char *data;
	size_t data_size;
	struct mw_addrset **sets;
	unsigned int set_count;
	const char *error;
};

static void mw_snap_fail(struct mw_snap_reader *r, const char *error)
{
	if (r->error == NULL)
		r->error = error;
}

static uint32_t mw_snap_get(struct mw_snap_reader *r)
{
	uint32_t value;

	if (r->pos >= r->words) {
		mw_snap_fail(r, "metadata ends early");
		return 0;
	}
	memcpy(&value, r->meta + r->pos++, sizeof(value));
	return value;
}

/* A count of things that take at least one word each: never more than
   the words left, so a corrupted count cannot make a huge allocation. */
static uint32_t mw_snap_get_count(struct mw_snap_reader *r)
{
	uint32_t count = mw_snap_get(r);

	if (count > r->words - r->pos) {
		mw_snap_fail(r, "count beyond the metadata");
		return 0;
	}
	return count;
}

static const char *mw_snap_get_str(struct mw_snap_reader *r)
{
	uint32_t offset = mw_snap_get(r);

	if (offset == MW_SNAP_NONE)
		return NULL;
	if (offset >= r->str_size) {
		mw_snap_fail(r, "string beyond the string table");
		return "";
	}
	/* the table ends with a NUL (checked before), so this string ends
	   inside it */
	return r->str + offset;
}

static const char *const *mw_snap_get_strlist(struct mw_snap_reader *r,
					      bool allow_null)
{
	const char **list;
	uint32_t i, count = mw_snap_get(r);

	if (count == MW_SNAP_NONE) {
		if (!allow_null)
			mw_snap_fail(r, "list missing");
		return NULL;
	}
	if (count > r->words - r->pos) {
		mw_snap_fail(r, "list beyond the metadata");
		return NULL;
	}
	list = MW_ARENA_NEW(r->arena, const char *, count + 1);
	for (i = 0; i < count; i++) {
		list[i] = mw_snap_get_str(r);
		if (list[i] == NULL) {
			mw_snap_fail(r, "list holds no string");
			list[i] = "";
		}
	}
	return list;
}

static void mw_snap_get_loc(struct mw_snap_reader *r, struct mw_loc *loc_r)
{
	loc_r->file = mw_snap_get_str(r);
	loc_r->line = mw_snap_get(r);
}

static const void *mw_snap_get_ranges(struct mw_snap_reader *r,
				      uint32_t offset, uint32_t count,
				      size_t size)
{
	if (offset % 16 != 0 || offset > r->data_size ||
	    (uint64_t)count * size > r->data_size - offset) {
		mw_snap_fail(r, "address ranges beyond the data");
		return NULL;
	}
	return r->data + offset;
}

static void mw_snap_get_sets(struct mw_snap_reader *r)
{
	uint32_t i, count = mw_snap_get_count(r);

	r->sets = MW_ARENA_NEW(r->arena, struct mw_addrset *, count + 1);
	for (i = 0; i < count && r->error == NULL; i++) {
		uint32_t v4_off = mw_snap_get(r), v4_count = mw_snap_get(r);
		uint32_t v6_off = mw_snap_get(r), v6_count = mw_snap_get(r);
		uint32_t entries = mw_snap_get(r);
		const void *v4, *v6;

		v4 = mw_snap_get_ranges(r, v4_off, v4_count,
					MW_ADDRSET_RANGE4_SIZE);
		v6 = mw_snap_get_ranges(r, v6_off, v6_count,
					MW_ADDRSET_RANGE6_SIZE);
		if (r->error != NULL)
			break;
		r->sets[i] = mw_addrset_wrap(r->arena, v4, v4_count,
					     v6, v6_count, entries);
	}
	r->set_count = r->error == NULL ? count : 0;
}

static void mw_snap_get_matcher(struct mw_snap_reader *r,
				struct mw_matcher *match_r)
{
	uint32_t kind = mw_snap_get(r), set = mw_snap_get(r);

	match_r->hosts = mw_snap_get_strlist(r, kind != MW_MATCH_HOST);
	switch (kind) {
	case MW_MATCH_ANY:
		match_r->kind = MW_MATCH_ANY;
		return;
	case MW_MATCH_NET:
		match_r->kind = MW_MATCH_NET;
		if (set >= r->set_count) {
			mw_snap_fail(r, "rule names no address set");
			return;
		}
		match_r->nets = r->sets[set];
		return;
	case MW_MATCH_HOST:
		match_r->kind = MW_MATCH_HOST;
		return;
	}
	mw_snap_fail(r, "unknown match kind");
}

static void mw_snap_get_settings(struct mw_snap_reader *r,
				 struct mw_settings *set_r)
{
	unsigned int i;

	for (i = 0; i < MW_SET_COUNT; i++) {
		set_r->value[i] = (int)mw_snap_get(r);
		set_r->text[i] = mw_snap_get_str(r);
		mw_snap_get_loc(r, &set_r->loc[i]);
	}
	set_r->mechanisms = mw_snap_get_strlist(r, true);
	set_r->set_mask = mw_snap_get(r);
}

static void mw_snap_get_service(struct mw_snap_reader *r,
				struct mw_service *service_r)
{
	struct mw_rule *rules;
	struct mw_from *froms;
	uint32_t i, action;

	service_r->name = mw_snap_get_str(r);
	if (service_r->name == NULL) {
		mw_snap_fail(r, "service without a name");
		service_r->name = "";
	}
	mw_snap_get_loc(r, &service_r->loc);
	service_r->daemon_names = mw_snap_get_strlist(r, true);

	service_r->rule_count = mw_snap_get_count(r);
	rules = MW_ARENA_NEW(r->arena, struct mw_rule,
			     service_r->rule_count + 1);
	for (i = 0; i < service_r->rule_count && r->error == NULL; i++) {
		action = mw_snap_get(r);
		if (action > MW_ACTION_DENY)
			mw_snap_fail(r, "unknown rule action");
		rules[i].action = action == MW_ACTION_DENY ?
			MW_ACTION_DENY : MW_ACTION_ALLOW;
		mw_snap_get_matcher(r, &rules[i].match);
		rules[i].text = mw_snap_get_str(r);
		mw_snap_get_loc(r, &rules[i].loc);
	}
	service_r->rules = rules;

	service_r->from_count = mw_snap_get_count(r);
	froms = MW_ARENA_NEW(r->arena, struct mw_from,
			     service_r->from_count + 1);
	for (i = 0; i < service_r->from_count && r->error == NULL; i++) {
		mw_snap_get_matcher(r, &froms[i].match);
		froms[i].text = mw_snap_get_str(r);
		mw_snap_get_loc(r, &froms[i].loc);
		mw_snap_get_settings(r, &froms[i].settings);
	}
	service_r->froms = froms;
	mw_snap_get_settings(r, &service_r->settings);
	service_r->uses_hosts = mw_snap_get(r) != 0;
}

static void mw_snap_decode(struct mw_snap_reader *r, struct mw_policy *policy)
{
	struct mw_service *services;
	uint32_t i, on_error;

	policy->dns.timeout_msecs = mw_snap_get(r);
	policy->dns.cache_ttl_secs = mw_snap_get(r);
	policy->dns.negative_ttl_secs = mw_snap_get(r);
	policy->dns.cache_size = mw_snap_get(r);
	on_error = mw_snap_get(r);
	if (on_error > MW_ON_ERROR_NO_MATCH)
		mw_snap_fail(r, "unknown dns on_error");
	policy->dns.on_error = (enum mw_on_error)(on_error %
		(MW_ON_ERROR_NO_MATCH + 1));
	policy->path = mw_snap_get_str(r);
	if (policy->path == NULL)
		policy->path = "";
	mw_snap_get_sets(r);
	mw_snap_get_service(r, &policy->defaults);
	policy->service_count = mw_snap_get_count(r);
	services = MW_ARENA_NEW(r->arena, struct mw_service,
				policy->service_count + 1);
	for (i = 0; i < policy->service_count && r->error == NULL; i++)
		mw_snap_get_service(r, &services[i]);
	policy->services = services;
	if (r->error == NULL && r->pos != r->words)
		mw_snap_fail(r, "metadata has trailing words");
}

static bool mw_snap_section_ok(uint64_t off, uint64_t size, uint64_t file_size)
{
	return off >= sizeof(struct mw_snap_header) && off <= file_size &&
		size <= file_size - off;
}

static const char *mw_snap_check_header(const struct mw_snap_header *hdr,
					const unsigned char *data, size_t size,
					enum mw_snapshot_flags flags)
{
	if (size < sizeof(*hdr))
		return "truncated header";
	if (memcmp(hdr->magic, MW_SNAP_MAGIC, sizeof(hdr->magic)) != 0)
		return "not a mailward policy snapshot";
	if (hdr->byte_order != MW_SNAP_BYTE_ORDER)
		return "written on a machine of another byte order";
	if (hdr->format != MW_SNAP_FORMAT)
		return "unsupported snapshot format";
	if (hdr->file_size != size)
		return "size differs from the header's (truncated?)";
	if (mw_snap_checksum(hdr) != hdr->checksum)
		return "header checksum mismatch";
	if (hdr->meta_off % 4 != 0 || hdr->data_off % 16 != 0)
		return "misaligned section";
	if (!mw_snap_section_ok(hdr->meta_off, (uint64_t)hdr->meta_words * 4,
				size) ||
	    !mw_snap_section_ok(hdr->str_off, hdr->str_size, size) ||
	    !mw_snap_section_ok(hdr->data_off, hdr->data_size, size))
		return "section beyond the end of the file";
	/* what the metadata hash covers: everything but the ranges */
	if ((uint64_t)hdr->meta_off + (uint64_t)hdr->meta_words * 4 >
	    hdr->data_off ||
	    (uint64_t)hdr->str_off + hdr->str_size > hdr->data_off)
		return "metadata overlaps the data";
	if (hdr->str_size == 0 || data[hdr->str_off + hdr->str_size - 1] != '\0')
		return "string table not terminated";
	if (mw_snap_meta_hash(hdr, data, size) != hdr->meta_hash)
		return "metadata checksum mismatch";
	if ((flags & MW_SNAPSHOT_VERIFY_DATA) != 0 &&
	    mw_hash(data + sizeof(*hdr), size - sizeof(*hdr)) !=
	    hdr->content_hash)
		return "data checksum mismatch";
	return NULL;
}

static int mw_snap_parse(struct mw_snapshot *snap,
			 enum mw_snapshot_flags flags, char **error_r)
{
	struct mw_snap_header hdr;
	struct mw_snap_reader r;
	struct mw_policy *policy;
	const char *error;

	if (snap->size < sizeof(hdr)) {
		*error_r = mw_snap_error("truncated header");
		return -1;
	}
	memcpy(&hdr, snap->data, sizeof(hdr));
	error = mw_snap_check_header(&hdr, snap->data, snap->size, flags);
	if (error != NULL) {
		*error_r = mw_snap_error("%s", error);
		return -1;
	}

	policy = mw_xcalloc(1, sizeof(*policy));
	atomic_init(&policy->refcount, 1);
	policy->arena = mw_arena_new();

	memset(&r, 0, sizeof(r));
	r.arena = policy->arena;
	r.meta = (const uint32_t *)(snap->data + hdr.meta_off);
	r.words = hdr.meta_words;
	r.str = (const char *)snap->data + hdr.str_off;
	r.str_size = hdr.str_size;
	r.data = snap->data + hdr.data_off;
	r.data_size = hdr.data_size;
	mw_snap_decode(&r, policy);
	if (r.error != NULL) {
		*error_r = mw_snap_error("invalid contents: %s", r.error);
		mw_policy_unref(&policy);
		return -1;
	}
	snap->policy = policy;
	memcpy(snap->owner.id, hdr.owner, sizeof(snap->owner.id));
	mw_snap_format_version(snap->version, hdr.content_hash,
			       hdr.load_time);
	snap->load_time = hdr.load_time;
	return 0;
}

int mw_snapshot_from_memory(const void *data, size_t size,
			    enum mw_snapshot_flags flags,
			    struct mw_snapshot **snap_r, char **error_r)
{
	struct mw_snapshot *snap;

	/* the ranges are used in place, as from a page-aligned mapping */
	if ((uintptr_t)data % 16 != 0) {
		*error_r = mw_snap_error("image not 16-byte aligned");
		return -1;
	}
	snap = mw_xcalloc(1, sizeof(*snap));
	snap->data = data;
	snap->size = size;
	if (mw_snap_parse(snap, flags, error_r) < 0) {
		free(snap);
		return -1;
	}
	*snap_r = snap;
	return 0;
}

int mw_snapshot_open(int dir_fd, const char *name,
		     enum mw_snapshot_flags flags,
		     struct mw_snapshot **snap_r, char **error_r)
{
	struct mw_snapshot *snap;
	struct stat st;
	void *data;
	char *error;
	int fd;

	fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		*error_r = mw_snap_error("open(%s): %s", name, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		*error_r = mw_snap_error("fstat(%s): %s", name, strerror(errno));
		(void)close(fd);
		return -1;
	}
	/* whoever could write it could decide who gets in */
	if (!S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & 022) != 0) {
		*error_r = mw_snap_error("%s: not a regular file owned by root "
					 "and writable by its owner only", name);
		(void)close(fd);
		return -1;
	}
	if (st.st_size < (off_t)sizeof(struct mw_snap_header) ||
	    st.st_size > (off_t)MW_SNAP_SIZE_MAX) {
		*error_r = mw_snap_error("%s: invalid size %lld", name,
					 (long long)st.st_size);
		(void)close(fd);
		return -1;
	}
	data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	(void)close(fd);
	if (data == MAP_FAILED) {
		*error_r = mw_snap_error("mmap(%s): %s", name, strerror(errno));
		return -1;
	}
	snap = mw_xcalloc(1, sizeof(*snap));
	snap->data = data;
	snap->size = (size_t)st.st_size;
	snap->mapped = true;
	snap->dev = st.st_dev;
	snap->ino = st.st_ino;
	if (mw_snap_parse(snap, flags, &error) < 0) {
		*error_r = mw_snap_error("%s: %s", name, error);
		free(error);
		mw_snapshot_free(&snap);
		return -1;
	}
	*snap_r = snap;
	return 1;
}

void mw_snapshot_free(struct mw_snapshot **_snap)
{
	struct mw_snapshot *snap = *_snap;

	if (snap == NULL)
		return;
	*_snap = NULL;
	mw_policy_unref(&snap->policy);
	if (snap->mapped)
		(void)munmap((void *)snap->data, snap->size);
	free(snap);
}

const struct mw_policy *mw_snapshot_policy(const struct mw_snapshot *snap)
{
	return snap->policy;
}

const struct mw_snapshot_owner *
mw_snapshot_get_owner(const struct mw_snapshot *snap)
{
	return &snap->owner;
}

const char *mw_snapshot_version(const struct mw_snapshot *snap)
{
	return snap->version;
}

int64_t mw_snapshot_load_time(const struct mw_snapshot *snap)
{
	return snap->load_time;
}

bool mw_snapshot_is_current(const struct mw_snapshot *snap, int dir_fd,
			    const char *name)
{
	struct stat st;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	return st.st_dev == snap->dev && st.st_ino == snap->ino;
}
