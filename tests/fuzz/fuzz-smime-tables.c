/*
 * libFuzzer target: any bytes as the S/MIME key table, as the sender map
 * and as a From field value, read the way the milter reads them.  Nothing
 * may crash, leak or read out of bounds, and the readers must keep their
 * promises:
 *
 *  - a readable key table always loads; every key in it has an address
 *    with an '@' and a lower-case domain, and looking that address up
 *    finds a key for it;
 *  - a sender map either loads or fails with the map's file:line; once
 *    loaded, every login may still send as itself (the map only adds);
 *  - an address taken from a From value has one '@', no white space or
 *    angle brackets, and a lower-case domain.
 *
 * The key table lives in a directory of its own with a certificate, its
 * key and a symbolic link to the key, made at start-up, so that entries
 * naming them (relatively or not, with links=follow or not) load.
 */

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "mw-smime.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static char fuzz_dir[256];
static char fuzz_table[300];

static void fuzz_die(const char *what)
{
	fprintf(stderr, "fuzz-smime-tables: %s\n", what);
	abort();
}

/* A P-256 key and a self-signed certificate for fuzz@example.org. */
static void fuzz_make_key(void)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *cert = X509_new();
	X509_EXTENSION *ext;
	X509V3_CTX v3;
	char path[400];
	FILE *f;

	if (pkey == NULL || cert == NULL)
		fuzz_die("key generation failed");
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 365 * 86400L);
	X509_set_pubkey(cert, pkey);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN",
				   MBSTRING_ASC, (const unsigned char *)"fuzz",
				   -1, -1, 0);
	X509_set_issuer_name(cert, X509_get_subject_name(cert));
	X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
				  "email:Fuzz@Example.org");
	X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	if (X509_sign(cert, pkey, EVP_sha256()) == 0)
		fuzz_die("signing the certificate failed");

	snprintf(path, sizeof(path), "%s/cert.pem", fuzz_dir);
	f = fopen(path, "w");
	if (f == NULL || !PEM_write_X509(f, cert))
		fuzz_die("writing cert.pem failed");
	fclose(f);
	snprintf(path, sizeof(path), "%s/key.pem", fuzz_dir);
	umask(077);
	f = fopen(path, "w");
	if (f == NULL || !PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL,
					       NULL))
		fuzz_die("writing key.pem failed");
	fclose(f);
	snprintf(path, sizeof(path), "%s/link.pem", fuzz_dir);
	if (symlink("key.pem", path) < 0)
		fuzz_die("symlink failed");
	X509_free(cert);
	EVP_PKEY_free(pkey);
}

/* The directory goes when the fuzzer exits. */
static void fuzz_cleanup(void)
{
	static const char *const names[] = {
		"t.keys", "cert.pem", "key.pem", "link.pem",
	};
	char path[400];
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fuzz_dir, names[i]);
		unlink(path);
	}
	rmdir(fuzz_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/fuzz-tables.XXXXXX",
		 tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(fuzz_dir) == NULL)
		fuzz_die("mkdtemp failed");
	chmod(fuzz_dir, 0755);
	atexit(fuzz_cleanup);
	snprintf(fuzz_table, sizeof(fuzz_table), "%s/t.keys", fuzz_dir);
	fuzz_make_key();
	return 0;
}

static void fuzz_write_table(const unsigned char *data, size_t size)
{
	int fd = open(fuzz_table, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size))
		fuzz_die("writing the table failed");
	close(fd);
}

static bool fuzz_domain_is_lower(const char *address)
{
	const char *at = strrchr(address, '@');

	for (; at != NULL && *at != '\0'; at++) {
		if (isupper((unsigned char)*at))
			return false;
	}
	return at != NULL;
}

static void fuzz_warn(void *ctx, const char *msg)
{
	unsigned int *count = ctx;

	/* Every warning names the table with a line number. */
	if (strncmp(msg, fuzz_table, strlen(fuzz_table)) != 0 ||
	    msg[strlen(fuzz_table)] != ':' ||
	    !isdigit((unsigned char)msg[strlen(fuzz_table) + 1]))
		fuzz_die("a key table warning without file:line");
	(*count)++;
}

static void fuzz_keytable(void)
{
	struct mw_smime_keytable *table = NULL;
	char error[512];
	unsigned int warnings = 0, i;
	/* The addresses a table can name for the key made at start-up. */
	static const char *const probes[] = {
		"fuzz@example.org", "Fuzz@Example.org", "FUZZ@EXAMPLE.ORG",
		"x@example.org", "@example.org", "fuzz@example.net",
	};

	if (mw_smime_keytable_load(fuzz_table, fuzz_warn, &warnings, &table,
				   error, sizeof(error)) < 0)
		fuzz_die("a readable key table failed to load");
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		const struct mw_smime_key *key =
			mw_smime_keytable_lookup(table, probes[i]);

		if (key == NULL)
			continue;
		if (strchr(key->address, '@') == NULL ||
		    !fuzz_domain_is_lower(key->address))
			fuzz_die("a key whose address is not an address");
		if (mw_smime_keytable_lookup(table, key->address) == NULL)
			fuzz_die("a key its own address does not find");
		if (key->address[0] != '@' &&
		    !mw_smime_key_names(key, key->address))
			fuzz_die("a key whose certificate does not name it");
	}
	mw_smime_keytable_unref(&table);
}

static void fuzz_sendermap(const unsigned char *data, size_t size)
{
	struct mw_smime_sendermap *map = NULL;
	char error[512], login[64];
	size_t n;

	if (mw_smime_sendermap_load(fuzz_table, &map, error,
				    sizeof(error)) < 0) {
		if (strstr(error, "out of memory") == NULL &&
		    (strncmp(error, fuzz_table, strlen(fuzz_table)) != 0 ||
		     error[strlen(fuzz_table)] != ':'))
			fuzz_die("a sender map error without file:line");
		return;
	}
	/* Logins from the input itself, so that some are in the map. */
	n = size < sizeof(login) - 1 ? size : sizeof(login) - 1;
	memcpy(login, data, n);
	login[n] = '\0';
	login[strcspn(login, " \t\r\n,#")] = '\0';
	if (!mw_smime_sender_allowed(map, login, login) ||
	    !mw_smime_sender_allowed(map, "a@example.org", "A@Example.ORG"))
		fuzz_die("the sender map took a login's own address away");
	(void)mw_smime_sender_allowed(map, login, "sales@example.org");
	(void)mw_smime_sender_allowed(map, "x", login);
	mw_smime_sendermap_free(&map);
}

/* No CR, LF, angle bracket or comment, and white space and '@' only in
   quoted strings, but for the one '@' before the domain. */
static bool fuzz_is_addr_spec(const char *a)
{
	bool quoted = false;
	unsigned int at = 0;

	for (; *a != '\0'; a++) {
		if (*a == '\r' || *a == '\n')
			return false;
		if (quoted) {
			if (*a == '\\' && a[1] != '\0')
				a++;
			else if (*a == '"')
				quoted = false;
		} else if (*a == '"') {
			quoted = true;
		} else if (*a == '@') {
			at++;
		} else if (strchr(" \t<>()", *a) != NULL && at == 0) {
			return false;
		}
	}
	return at == 1;
}

static void fuzz_from(const unsigned char *data, size_t size)
{
	char *value = malloc(size + 1), buf[256];
	const char *error = NULL;

	if (value == NULL)
		fuzz_die("out of memory");
	memcpy(value, data, size);
	value[size] = '\0';
	if (mw_smime_from_address(value, buf, sizeof(buf), &error) == 0) {
		if (!fuzz_is_addr_spec(buf) || !fuzz_domain_is_lower(buf))
			fuzz_die("a From address that is no addr-spec");
	} else if (error == NULL) {
		fuzz_die("a From failure without a reason");
	}
	free(value);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	fuzz_write_table(data, size);
	fuzz_keytable();
	fuzz_sendermap(data, size);
	fuzz_from(data, size);
	ERR_clear_error();
	return 0;
}
