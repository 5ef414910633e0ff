/*
 * Recipients' certificates from files: a directory of PEM files or a
 * table (address  /path/cert.pem), loaded whole at start and on SIGHUP
 * like the key table, and searched without locks afterwards.  Addresses
 * are indexed with the whole address in lower case; the selection then
 * checks that the certificate names the recipient as signing does.
 */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "mw-smime-enc.h"

#define MW_SMIME_CERT_ADDRESS_MAX 320

struct mw_smime_cert_entry {
	char *address;		/* lower case */
	X509 *cert;
};

struct mw_smime_certsrc_file {
	struct mw_smime_certsrc src;
	char name[512];
	struct mw_smime_cert_entry *entries;	/* sorted by address */
	unsigned int count, alloc;
	unsigned int cert_count;
	mw_smime_warn_fn *warn;
	void *warn_ctx;
	char *dir;		/* a table's directory */
};

static void mw_smime_cert_lower(char *str)
{
	for (; *str != '\0'; str++)
		*str = (char)tolower((unsigned char)*str);
}

static int mw_smime_cert_add(struct mw_smime_certsrc_file *fs,
			     const char *address, size_t len, X509 *cert)
{
	struct mw_smime_cert_entry *e;

	if (len == 0 || len > MW_SMIME_CERT_ADDRESS_MAX ||
	    memchr(address, '@', len) == NULL)
		return 0;
	if (fs->count == fs->alloc) {
		unsigned int alloc = fs->alloc == 0 ? 64 : fs->alloc * 2;

		e = realloc(fs->entries, alloc * sizeof(*e));
		if (e == NULL)
			return -1;
		fs->entries = e;
		fs->alloc = alloc;
	}
	e = &fs->entries[fs->count];
	e->address = strndup(address, len);
	if (e->address == NULL)
		return -1;
	mw_smime_cert_lower(e->address);
	X509_up_ref(cert);
	e->cert = cert;
	fs->count++;
	return 0;
}

/* Indexes cert under the addresses it names (RFC 8550 3): the
   subjectAltName rfc822Names, or, when there are none, the subject's
   emailAddress.  Returns the number of addresses, or -1. */
static int mw_smime_cert_index(struct mw_smime_certsrc_file *fs, X509 *cert)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name,
						NULL, NULL);
	X509_NAME *subject;
	int i, n = 0;

	for (i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);

		if (gn->type != GEN_EMAIL)
			continue;
		if (mw_smime_cert_add(fs, (const char *)
				      ASN1_STRING_get0_data(gn->d.rfc822Name),
				      (size_t)ASN1_STRING_length(gn->d.rfc822Name),
				      cert) < 0) {
			GENERAL_NAMES_free(names);
			return -1;
		}
		n++;
	}
	GENERAL_NAMES_free(names);
	if (n > 0)
		return n;
	subject = X509_get_subject_name(cert);
	for (i = X509_NAME_get_index_by_NID(subject, NID_pkcs9_emailAddress, -1);
	     i >= 0;
	     i = X509_NAME_get_index_by_NID(subject, NID_pkcs9_emailAddress, i)) {
		ASN1_STRING *s = X509_NAME_ENTRY_get_data(
			X509_NAME_get_entry(subject, i));

		if (mw_smime_cert_add(fs, (const char *)ASN1_STRING_get0_data(s),
				      (size_t)ASN1_STRING_length(s), cert) < 0)
			return -1;
		n++;
	}
	return n;
}

/* Reports "source: what: detail" through the load's warn(). */
static void mw_smime_cert_warn(struct mw_smime_certsrc_file *fs,
			       const char *what, const char *detail)
{
	char msg[1200];

	if (fs->warn == NULL)
		return;
	snprintf(msg, sizeof(msg), "%s: %s: %s", fs->name, what, detail);
	fs->warn(fs->warn_ctx, msg);
}

/* The certificates of a PEM file, in order; NULL after a warning. */
static STACK_OF(X509) *mw_smime_cert_read(struct mw_smime_certsrc_file *fs,
					  const char *path)
{
	STACK_OF(X509) *certs;
	unsigned char *data;
	char error[512];
	size_t size;
	BIO *bio;
	X509 *x;

	if (mw_smime_file_read(path, MW_SMIME_FILE_CERT, true, &data, &size,
			       error, sizeof(error)) < 0) {
		mw_smime_cert_warn(fs, path, error);
		return NULL;
	}
	certs = sk_X509_new_null();
	bio = BIO_new_mem_buf(data, (int)size);
	while (bio != NULL && certs != NULL &&
	       (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_push(certs, x) == 0)
			X509_free(x);
	}
	ERR_clear_error();
	BIO_free(bio);
	mw_smime_file_data_free(&data, size);
	if (certs != NULL && sk_X509_num(certs) == 0) {
		mw_smime_cert_warn(fs, path, "no PEM certificate in it");
		sk_X509_free(certs);
		return NULL;
	}
	return certs;
}

static int mw_smime_cert_untrusted(struct mw_smime_certsrc_file *fs, X509 *x)
{
	if (fs->src.untrusted == NULL &&
	    (fs->src.untrusted = sk_X509_new_null()) == NULL)
		return -1;
	if (sk_X509_push(fs->src.untrusted, x) == 0)
		return -1;
	X509_up_ref(x);
	return 0;
}

static int mw_smime_cert_dir_load(struct mw_smime_certsrc_file *fs,
				  const char *path, char *error,
				  size_t error_size)
{
	struct dirent *d;
	DIR *dir = opendir(path);
	int ret = 0;

	if (dir == NULL) {
		snprintf(error, error_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (ret == 0 && (d = readdir(dir)) != NULL) {
		STACK_OF(X509) *certs;
		char file[4096];
		struct stat st;
		int i, n;

		if (d->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, d->d_name);
		if (stat(file, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if ((certs = mw_smime_cert_read(fs, file)) == NULL)
			continue;
		for (i = 0; ret == 0 && i < sk_X509_num(certs); i++) {
			X509 *x = sk_X509_value(certs, i);

			n = mw_smime_cert_index(fs, x);
			if (n < 0 || (n == 0 && mw_smime_cert_untrusted(fs, x) < 0))
				ret = -1;
			else if (n > 0)
				fs->cert_count++;
		}
		sk_X509_pop_free(certs, X509_free);
	}
	closedir(dir);
	if (ret < 0)
		snprintf(error, error_size, "out of memory");
	return ret;
}

struct mw_smime_cert_table_ctx {
	struct mw_smime_certsrc_file *fs;
	const char *path;
};

/* "address path": the file's first certificate is the address's, the
   rest are its chain. */
static int mw_smime_cert_table_line(void *context, unsigned int lineno,
				    char *line, char *error, size_t error_size)
{
	struct mw_smime_cert_table_ctx *ctx = context;
	struct mw_smime_certsrc_file *fs = ctx->fs;
	char *address, *file, *extra, *save = NULL, path[4096], where[600];
	STACK_OF(X509) *certs;
	int i, ret = 0;

	address = strtok_r(line, " \t\r\n", &save);
	if (address == NULL)
		return 0;
	file = strtok_r(NULL, " \t\r\n", &save);
	extra = strtok_r(NULL, " \t\r\n", &save);
	snprintf(where, sizeof(where), "%s:%u", ctx->path, lineno);
	if (file == NULL || extra != NULL || strchr(address, '@') == NULL) {
		mw_smime_cert_warn(fs, where,
				   "expected 'address path'; line skipped");
		return 0;
	}
	if (file[0] == '/')
		snprintf(path, sizeof(path), "%s", file);
	else
		snprintf(path, sizeof(path), "%s/%s", fs->dir, file);
	if ((certs = mw_smime_cert_read(fs, path)) == NULL)
		return 0;
	if (mw_smime_cert_add(fs, address, strlen(address),
			      sk_X509_value(certs, 0)) < 0)
		ret = -1;
	else
		fs->cert_count++;
	for (i = 1; ret == 0 && i < sk_X509_num(certs); i++) {
		if (mw_smime_cert_untrusted(fs, sk_X509_value(certs, i)) < 0)
			ret = -1;
	}
	sk_X509_pop_free(certs, X509_free);
	if (ret < 0)
		snprintf(error, error_size, "out of memory");
	return ret;
}

static int mw_smime_cert_entry_cmp(const void *a, const void *b)
{
	const struct mw_smime_cert_entry *ea = a, *eb = b;

	return strcmp(ea->address, eb->address);
}

static int mw_smime_certsrc_file_lookup(struct mw_smime_certsrc *src,
					const char *address,
					STACK_OF(X509) **certs_r,
					char *error, size_t error_size)
{
	struct mw_smime_certsrc_file *fs = (struct mw_smime_certsrc_file *)src;
	struct mw_smime_cert_entry key, *e;
	char lower[MW_SMIME_CERT_ADDRESS_MAX + 1];
	unsigned int first, i;

	*certs_r = NULL;
	if (strlen(address) > MW_SMIME_CERT_ADDRESS_MAX)
		return 0;
	snprintf(lower, sizeof(lower), "%s", address);
	mw_smime_cert_lower(lower);
	key.address = lower;
	e = bsearch(&key, fs->entries, fs->count, sizeof(*fs->entries),
		    mw_smime_cert_entry_cmp);
	if (e == NULL)
		return 0;
	first = (unsigned int)(e - fs->entries);
	while (first > 0 && strcmp(fs->entries[first - 1].address, lower) == 0)
		first--;
	if ((*certs_r = sk_X509_new_null()) == NULL) {
		snprintf(error, error_size, "out of memory");
		return -1;
	}
	for (i = first; i < fs->count &&
	     strcmp(fs->entries[i].address, lower) == 0; i++) {
		if (sk_X509_push(*certs_r, fs->entries[i].cert) == 0) {
			sk_X509_pop_free(*certs_r, X509_free);
			*certs_r = NULL;
			snprintf(error, error_size, "out of memory");
			return -1;
		}
		X509_up_ref(fs->entries[i].cert);
	}
	return 1;
}

static void mw_smime_certsrc_file_free(struct mw_smime_certsrc *src)
{
	struct mw_smime_certsrc_file *fs = (struct mw_smime_certsrc_file *)src;
	unsigned int i;

	for (i = 0; i < fs->count; i++) {
		free(fs->entries[i].address);
		X509_free(fs->entries[i].cert);
	}
	free(fs->entries);
	free(fs->dir);
	sk_X509_pop_free(fs->src.untrusted, X509_free);
	free(fs);
}

int mw_smime_certsrc_file_open(const char *path, mw_smime_warn_fn *warn,
			       void *warn_ctx, struct mw_smime_certsrc **src_r,
			       char *error, size_t error_size)
{
	struct mw_smime_certsrc_file *fs;
	struct stat st;
	int ret;

	if (stat(path, &st) < 0) {
		snprintf(error, error_size, "certificates %s: %s", path,
			 strerror(errno));
		return -1;
	}
	fs = calloc(1, sizeof(*fs));
	if (fs == NULL) {
		snprintf(error, error_size, "out of memory");
		return -1;
	}
	fs->warn = warn;
	fs->warn_ctx = warn_ctx;
	fs->src.lookup = mw_smime_certsrc_file_lookup;
	fs->src.free = mw_smime_certsrc_file_free;
	fs->src.name = fs->name;
	if (S_ISDIR(st.st_mode)) {
		snprintf(fs->name, sizeof(fs->name), "directory %s", path);
		ret = mw_smime_cert_dir_load(fs, path, error, error_size);
	} else {
		struct mw_smime_cert_table_ctx ctx = { .fs = fs, .path = path };
		const char *slash = strrchr(path, '/');

		snprintf(fs->name, sizeof(fs->name), "table %s", path);
		fs->dir = slash == NULL ? strdup(".") :
			strndup(path, (size_t)(slash - path));
		ret = fs->dir == NULL ? -1 :
			mw_smime_file_lines(path, mw_smime_cert_table_line,
					    &ctx, error, error_size);
	}
	if (ret < 0) {
		mw_smime_certsrc_file_free(&fs->src);
		return -1;
	}
	qsort(fs->entries, fs->count, sizeof(*fs->entries),
	      mw_smime_cert_entry_cmp);
	*src_r = &fs->src;
	return 0;
}

unsigned int mw_smime_certsrc_file_count(const struct mw_smime_certsrc *src)
{
	const struct mw_smime_certsrc_file *fs =
		(const struct mw_smime_certsrc_file *)src;

	return fs->cert_count;
}

void mw_smime_certsrc_free(struct mw_smime_certsrc **_src)
{
	struct mw_smime_certsrc *src = *_src;

	if (src == NULL)
		return;
	*_src = NULL;
	src->free(src);
}

int mw_smime_trust_load(const char *path, X509_STORE **store_r,
			char *error, size_t error_size)
{
	X509_STORE *store = X509_STORE_new();
	struct stat st;
	int ok;

	if (store == NULL) {
		snprintf(error, error_size, "out of memory");
		return -1;
	}
	if (stat(path, &st) < 0) {
		snprintf(error, error_size, "trust %s: %s", path, strerror(errno));
		X509_STORE_free(store);
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		ok = X509_STORE_load_path(store, path);
	else
		ok = X509_STORE_load_file(store, path);
	if (ok != 1 || (!S_ISDIR(st.st_mode) &&
			sk_X509_OBJECT_num(X509_STORE_get0_objects(store)) == 0)) {
		unsigned long e = ERR_get_error();

		snprintf(error, error_size, "trust %s: %s", path,
			 e != 0 ? ERR_reason_error_string(e) :
			 "no certificate in it");
		ERR_clear_error();
		X509_STORE_free(store);
		return -1;
	}
	*store_r = store;
	return 0;
}
