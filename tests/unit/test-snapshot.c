/* The compiled policy snapshot: a policy mapped from its image decides
   exactly as the parsed one, an image is replaced atomically and told
   apart from its successor, and truncated, corrupted or foreign images
   are refused without a crash. */

#include "test-common.h"
#include "mw-policy.h"
#include "mw-snapshot.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEST_LIST_ENTRIES 20000
#define VERIFY MW_SNAPSHOT_VERIFY_DATA

static const char test_policy_text[] =
	"dns { timeout = 2s  on_error = deny }\n"
	"defaults { cleartext = tls-only }\n"
	"service imap pop3 {\n"
	"  deny  net 192.0.2.66\n"
	"  allow net 192.0.2.0/24 2001:db8::/32\n"
	"  allow net 131.107.2.0/255.255.255.252\n"
	"  deny  net-list snap.list\n"
	"  allow net 10.0.0.0/8\n"
	"  allow host .contoso.com mail.example.org\n"
	"  deny  any\n"
	"  mechanisms = SCRAM-SHA-256 CRAM-MD5 PLAIN LOGIN\n"
	"  tls = required\n"
	"  tls_min_bits = 128\n"
	"  from net 10.0.0.0/8 {\n"
	"    tls = optional\n"
	"    cleartext = always\n"
	"  }\n"
	"  from host .contoso.com { tls_min_bits = 256 }\n"
	"}\n"
	"service submission {\n"
	"  allow any\n"
	"  auth = required\n"
	"  secured_is_tls = no\n"
	"}\n";

static char *test_dir;
static struct mw_policy *test_policy;

static void test_setup(void)
{
	char tmpl[] = "/tmp/mw-snap-XXXXXX", path[512], *text;
	size_t size = (size_t)TEST_LIST_ENTRIES * 48, used = 0;
	struct mw_diags *diags;
	unsigned int i;
	FILE *f;

	test_dir = strdup(mkdtemp(tmpl));
	text = malloc(size);
	for (i = 0; i < TEST_LIST_ENTRIES; i++) {
		if (i % 4 == 3) {
			used += (size_t)snprintf(text + used, size - used,
				"2001:db8:%x:%x::/64\n", 0x100 + i / 256,
				i % 256);
		} else {
			used += (size_t)snprintf(text + used, size - used,
				"%u.%u.%u.0/24\n", 20 + i / 65536,
				(i / 256) % 256, i % 256);
		}
	}
	snprintf(path, sizeof(path), "%s/snap.list", test_dir);
	f = fopen(path, "w");
	fwrite(text, 1, used, f);
	fclose(f);
	free(text);
	snprintf(path, sizeof(path), "%s/snap.conf", test_dir);
	f = fopen(path, "w");
	fputs(test_policy_text, f);
	fclose(f);
	if (mw_policy_load(path, &test_policy, &diags) < 0) {
		mw_diags_print(diags, stderr);
		abort();
	}
	mw_diags_free(&diags);
}

static int test_dir_fd(void)
{
	int fd = open(test_dir, O_RDONLY | O_DIRECTORY);

	if (fd < 0)
		abort();
	return fd;
}

static const struct mw_snapshot_owner test_owner = { { 4711, 99, 7 } };

static void test_write(int dir_fd, const char *name, int64_t time)
{
	char *error = NULL;

	if (mw_snapshot_write(test_policy, &test_owner, time, dir_fd, name,
			      NULL, &error) < 0) {
		fprintf(stderr, "%s\n", error);
		abort();
	}
}

static bool test_same_decision(const struct mw_decision *a,
			       const struct mw_decision *b)
{
	return a->verdict == b->verdict && a->check == b->check &&
		a->line == b->line && a->required_bits == b->required_bits &&
		((a->rule == NULL && b->rule == NULL) ||
		 (a->rule != NULL && b->rule != NULL &&
		  strcmp(a->rule, b->rule) == 0)) &&
		((a->file == NULL && b->file == NULL) ||
		 (a->file != NULL && b->file != NULL &&
		  strcmp(a->file, b->file) == 0));
}

static void test_random_conn(struct mw_conn *conn, unsigned int seed)
{
	static const char *const services[] = {
		"imap", "pop3", "submission", "smtp", NULL
	};
	static const char *const mechs[] = {
		"PLAIN", "LOGIN", "SCRAM-SHA-256", "GSSAPI", NULL
	};
	static const char *const hosts[] = {
		"a.contoso.com", "mail.example.org", "other.net"
	};
	unsigned int r = seed * 2654435761U;

	mw_conn_init(conn);
	conn->service = services[r % 5];
	if ((r >> 3) % 5 == 0) {
		char text[64];

		snprintf(text, sizeof(text), "2001:db8:%x:%x::1",
			 0x100 + (r >> 8) % 90, (r >> 16) % 256);
		(void)mw_addr_parse(text, &conn->remote_ip);
	} else {
		uint8_t b[4] = { (uint8_t)((r >> 8) % 3 == 0 ? 10 :
				 ((r >> 8) % 3 == 1 ? 192 : 20)),
				 (uint8_t)(r >> 12), (uint8_t)(r >> 20),
				 (uint8_t)(r >> 24) };

		if (b[0] == 192) {
			b[1] = 0;
			b[2] = 2;
		}
		mw_addr_from_ipv4(b, &conn->remote_ip);
	}
	conn->mech = mechs[(r >> 5) % 5];
	conn->tls = (enum mw_tls_state)((r >> 9) % 4);
	conn->cipher_bits = (r >> 11) % 3 == 0 ? MW_BITS_UNKNOWN :
		(int)((r >> 11) % 3) * 128;
	conn->cert = (enum mw_cert_state)((r >> 13) % 3);
	conn->auth = (enum mw_auth_state)((r >> 15) % 3);
	conn->host_state = (enum mw_host_state)((r >> 17) % 4);
	if (conn->host_state == MW_HOST_FOUND)
		conn->host = hosts[(r >> 19) % 3];
}

static void test_same_decisions(void)
{
	struct mw_snapshot *snap = NULL;
	const struct mw_policy *mapped;
	struct mw_decision a, b;
	struct mw_conn conn;
	char *error = NULL;
	unsigned int i, differ = 0, denied = 0;
	int dir_fd = test_dir_fd();

	test_begin("snapshot: 200,000 connections decided alike");
	test_write(dir_fd, "policy.snap", 1700000000);
	test_assert(mw_snapshot_open(dir_fd, "policy.snap", 0, &snap,
				     &error) == 1);
	if (snap == NULL) {
		fprintf(stderr, "# %s\n", error);
		free(error);
		test_end();
		return;
	}
	mapped = mw_snapshot_policy(snap);
	for (i = 0; i < 200000; i++) {
		test_random_conn(&conn, i);
		if (mw_decide(test_policy, &conn, &a) !=
		    mw_decide(mapped, &conn, &b) ||
		    !test_same_decision(&a, &b))
			differ++;
		if (a.verdict == MW_VERDICT_DENY)
			denied++;
		if (mw_decide_pending_host(test_policy, &conn, &a) !=
		    mw_decide_pending_host(mapped, &conn, &b) ||
		    !test_same_decision(&a, &b))
			differ++;
	}
	test_assert(differ == 0);
	/* the sample must reach the list and the other rules */
	test_assert(denied > 1000 && denied < 199000);
	test_assert(mw_policy_service_secured_is_tls(mapped, "imap"));
	test_assert(!mw_policy_service_secured_is_tls(mapped, "submission"));
	test_assert(mw_policy_service_uses_hosts(mapped, "imap"));
	test_assert(!mw_policy_service_uses_hosts(mapped, "submission"));
	test_assert(mw_policy_dns(mapped)->timeout_msecs == 2000);
	test_assert(mw_policy_dns(mapped)->on_error == MW_ON_ERROR_DENY);
	test_assert(mw_snapshot_get_owner(snap)->id[0] == 4711 &&
		    mw_snapshot_get_owner(snap)->id[1] == 99 &&
		    mw_snapshot_get_owner(snap)->id[2] == 7);
	test_assert(strstr(mw_snapshot_version(snap), "@1700000000") != NULL);
	mw_snapshot_free(&snap);
	test_assert(snap == NULL);
	(void)close(dir_fd);
	test_end();
}

static void test_replace(void)
{
	struct mw_snapshot *snap = NULL, *snap2 = NULL;
	char version[MW_SNAPSHOT_VERSION_STRLEN], *error = NULL;
	int dir_fd = test_dir_fd();

	test_begin("snapshot: replaced atomically, same contents same hash");
	test_write(dir_fd, "replace.snap", 1);
	test_assert(mw_snapshot_open(dir_fd, "replace.snap", VERIFY, &snap,
				     &error) == 1);
	test_assert(snap != NULL &&
		    mw_snapshot_is_current(snap, dir_fd, "replace.snap"));
	test_assert(mw_snapshot_write(test_policy, &test_owner, 2, dir_fd,
				      "replace.snap", version, &error) == 0);
	/* the old mapping stays valid and is no longer the current file */
	test_assert(snap != NULL &&
		    !mw_snapshot_is_current(snap, dir_fd, "replace.snap"));
	test_assert(mw_snapshot_open(dir_fd, "replace.snap", VERIFY, &snap2,
				     &error) == 1);
	test_assert(snap2 != NULL &&
		    strcmp(mw_snapshot_version(snap2), version) == 0);
	/* contents hash equal, times differ */
	test_assert(snap != NULL && snap2 != NULL &&
		    strncmp(mw_snapshot_version(snap),
			    mw_snapshot_version(snap2), 16) == 0 &&
		    strcmp(mw_snapshot_version(snap),
			   mw_snapshot_version(snap2)) != 0);
	test_assert(snap != NULL && mw_decide_pending_host(
		mw_snapshot_policy(snap), &(struct mw_conn){ .service = "x" },
		&(struct mw_decision){ 0 }) != MW_VERDICT_NEED_HOST);
	mw_snapshot_free(&snap);
	mw_snapshot_free(&snap2);
	test_assert(mw_snapshot_open(dir_fd, "missing.snap", VERIFY, &snap,
				     &error) == 0 && snap == NULL);
	/* no temporary file is left behind */
	test_assert(faccessat(dir_fd, "replace.snap.tmp.1", F_OK, 0) < 0);
	(void)close(dir_fd);
	test_end();
}

static void *test_read_image(int dir_fd, const char *name, size_t *size_r)
{
	struct stat st;
	void *data;
	int fd = openat(dir_fd, name, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0)
		abort();
	if (posix_memalign(&data, 16, (size_t)st.st_size + 16) != 0 ||
	    read(fd, data, (size_t)st.st_size) != st.st_size)
		abort();
	(void)close(fd);
	*size_r = (size_t)st.st_size;
	return data;
}

/* True if the image is refused; an accepted one is freed at once. */
static bool test_refused(const void *image, size_t size,
			 enum mw_snapshot_flags flags)
{
	struct mw_snapshot *snap;
	char *error = NULL;

	if (mw_snapshot_from_memory(image, size, flags, &snap, &error) < 0) {
		free(error);
		return true;
	}
	mw_snapshot_free(&snap);
	return false;
}

static void test_corrupted(void)
{
	struct mw_snapshot *snap;
	unsigned char *image, *copy;
	size_t size, len, pos;
	unsigned int refused = 0, tried = 0;
	uint32_t data_off;
	char *error;
	int dir_fd = test_dir_fd();

	test_begin("snapshot: truncated, corrupted and foreign images refused");
	test_write(dir_fd, "corrupt.snap", 5);
	image = test_read_image(dir_fd, "corrupt.snap", &size);
	if (posix_memalign((void **)&copy, 16, size) != 0)
		abort();

	/* every truncation of the header and the metadata, then some */
	for (len = 0; len < size; len += len < 4096 ? 1 : 997) {
		memcpy(copy, image, len);
		tried++;
		refused += test_refused(copy, len, VERIFY) ? 1 : 0;
	}
	test_assert(refused == tried);

	/* one flipped byte anywhere: the checksum refuses it */
	refused = tried = 0;
	for (pos = 0; pos < size; pos += pos < 2048 ? 1 : 4099) {
		memcpy(copy, image, size);
		copy[pos] ^= 0x20;
		tried++;
		refused += test_refused(copy, size, VERIFY) ? 1 : 0;
	}
	test_assert(refused == tried);

	/* without VERIFY (as login processes map), a flip in the header,
	   metadata or strings is still refused: only the ranges go
	   unhashed */
	refused = tried = 0;
	memcpy(&data_off, image + 64, sizeof(data_off));
	for (pos = 0; pos < data_off; pos++) {
		memcpy(copy, image, size);
		copy[pos] ^= 0x01;
		tried++;
		refused += test_refused(copy, size, 0) ? 1 : 0;
	}
	test_assert(tried > 200 && refused == tried);

	/* a truncated image resealed: the sizes still refuse it */
	memcpy(copy, image, size);
	mw_snapshot_reseal(copy, size - 8);
	error = NULL;
	test_assert(mw_snapshot_from_memory(copy, size - 8, VERIFY, &snap,
					    &error) < 0);
	free(error);
	/* the untouched image passes, so the refusals above mean something */
	memcpy(copy, image, size);
	error = NULL;
	test_assert(mw_snapshot_from_memory(copy, size, VERIFY, &snap, &error) == 0);
	mw_snapshot_free(&snap);

	memcpy(copy, image, size);
	memcpy(copy, "NOTASNAP", 8);
	error = NULL;
	test_assert(mw_snapshot_from_memory(copy, size, VERIFY, &snap, &error) < 0);
	test_assert(error != NULL && strstr(error, "not a mailward") != NULL);
	free(error);

	/* an image others may write is not trusted */
	test_assert(fchmodat(dir_fd, "corrupt.snap", 0666, 0) == 0);
	error = NULL;
	test_assert(mw_snapshot_open(dir_fd, "corrupt.snap", VERIFY, &snap,
				     &error) < 0);
	free(error);
	/* nor is a file that is not one */
	test_assert(mkdirat(dir_fd, "dir.snap", 0755) == 0);
	error = NULL;
	test_assert(mw_snapshot_open(dir_fd, "dir.snap", VERIFY, &snap, &error) < 0);
	free(error);

	free(image);
	free(copy);
	(void)close(dir_fd);
	test_end();
}

/* Mutations with a recomputed checksum: the structure checks alone
   stand between them and the decision code. */
static void test_structure(void)
{
	struct mw_snapshot *snap;
	struct mw_decision dec;
	struct mw_conn conn;
	unsigned char *image, *copy;
	size_t size, pos;
	unsigned int accepted = 0, refused = 0, i;
	char *error;
	int dir_fd = test_dir_fd();

	test_begin("snapshot: checksummed mutants refused or harmless");
	test_write(dir_fd, "struct.snap", 6);
	image = test_read_image(dir_fd, "struct.snap", &size);
	if (posix_memalign((void **)&copy, 16, size) != 0)
		abort();
	/* the header's fields (not the magic and the hashes), then the
	   metadata and strings byte by byte, then the ranges here and there */
	for (pos = 8; pos < size; pos += pos < 96 + 8000 ? 1 : 509) {
		if (pos >= 24 && pos < 40)
			continue;
		memcpy(copy, image, size);
		copy[pos] ^= (unsigned char)(1 + pos % 251);
		mw_snapshot_reseal(copy, size);
		error = NULL;
		if (mw_snapshot_from_memory(copy, size, VERIFY, &snap, &error) < 0) {
			refused++;
			free(error);
			continue;
		}
		accepted++;
		for (i = 0; i < 50; i++) {
			test_random_conn(&conn, i);
			(void)mw_decide(mw_snapshot_policy(snap), &conn, &dec);
			(void)mw_decide_pending_host(mw_snapshot_policy(snap),
						     &conn, &dec);
		}
		mw_snapshot_free(&snap);
	}
	/* the metadata's words cannot all be harmless: most are refused */
	test_assert(refused > 100 && accepted > 0);
	free(image);
	free(copy);
	(void)close(dir_fd);
	test_end();
}

/* make fuzz-snapshot: small valid images as the fuzzer's seeds. */
static void test_write_seeds(const char *dir)
{
	static const char *const texts[] = {
		"service imap { deny net 192.0.2.0/24 2001:db8::/32\n"
		"  allow host .contoso.com\n  deny any\n"
		"  from net 10.0.0.0/8 { tls = optional }\n}\n",
		"defaults { cleartext = tls-only  mechanisms = PLAIN }\n"
		"service pop3 submission {\n  allow any\n  tls = required\n}\n",
	};
	struct mw_policy *policy;
	struct mw_diags *diags;
	char name[32], *error = NULL;
	unsigned int i;
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	for (i = 0; i < 2 && fd >= 0; i++) {
		if (mw_policy_load_buffer("seed.conf", texts[i],
					  strlen(texts[i]), &policy,
					  &diags) < 0)
			abort();
		mw_diags_free(&diags);
		snprintf(name, sizeof(name), "seed-%u.snap", i);
		if (mw_snapshot_write(policy, &test_owner, 1, fd, name, NULL,
				      &error) < 0)
			abort();
		mw_policy_unref(&policy);
	}
	if (fd >= 0)
		(void)close(fd);
}

int main(void)
{
	const char *seeds = getenv("MW_SNAPSHOT_SEED_DIR");

	if (seeds != NULL) {
		test_write_seeds(seeds);
		return 0;
	}
	test_setup();
	test_same_decisions();
	test_replace();
	test_corrupted();
	test_structure();
	mw_policy_unref(&test_policy);
	return test_exit();
}
