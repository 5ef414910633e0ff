/*
 * Unit tests of the LDAP source's pieces that need no server: the
 * filter escaping (RFC 4515), the attribute parser, the cache, and the
 * settings checks (the password file's mode among them).  TAP output.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "smime-ldap-private.h"

static int test_n, test_failures;

static void __attribute__((format(printf, 2, 3)))
ok(bool cond, const char *fmt, ...)
{
	va_list args;

	test_n++;
	if (!cond)
		test_failures++;
	printf("%sok %d - ", cond ? "" : "not ", test_n);
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	printf("\n");
}

static void test_filter_one(const char *template, const char *address,
			    size_t len, const char *want)
{
	char *got = mw_smime_ldap_filter(template, address, len);

	ok(got != NULL && strcmp(got, want) == 0, "filter %s", want);
	if (got != NULL && strcmp(got, want) != 0)
		printf("# got %s\n", got);
	free(got);
}

static void test_filter(void)
{
	test_filter_one("(mail=%s)", "alice@example.org", 17,
			"(mail=alice@example.org)");
	/* the injection: must stay one equality match */
	test_filter_one("(mail=%s)", "*)(uid=*", 8,
			"(mail=\\2a\\29\\28uid=\\2a)");
	test_filter_one("(mail=%s)", "a\\b@x", 5, "(mail=a\\5cb@x)");
	test_filter_one("(mail=%s)", "a\0b@x", 5, "(mail=a\\00b@x)");
	test_filter_one("(mail=%s)", "j\xc3\xb6rg@x", 7,
			"(mail=j\\c3\\b6rg@x)");
	test_filter_one("(|(mail=%s)(mailAlternateAddress=%s))", "*", 1,
			"(|(mail=\\2a)(mailAlternateAddress=\\2a))");
	test_filter_one("(&(objectClass=inetOrgPerson)(mail=%s)(x=100%))",
			"b@x", 3,
			"(&(objectClass=inetOrgPerson)(mail=b@x)(x=100%))");
}

static X509 *make_cert(const char *cn)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = X509_new();
	X509_NAME *name = X509_NAME_new();

	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
	X509_set_subject_name(cert, name);
	X509_set_issuer_name(cert, name);
	X509_gmtime_adj(X509_getm_notBefore(cert), 0);
	X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
	X509_set_pubkey(cert, key);
	X509_sign(cert, key, EVP_sha256());
	X509_NAME_free(name);
	EVP_PKEY_free(key);
	return cert;
}

/* A certs-only PKCS#7 (what openssl crl2pkcs7 -nocrl makes) as DER. */
static int certs_only(X509 **certs, int n, unsigned char **der_r)
{
	PKCS7 *p7 = PKCS7_new();
	int i, len;

	PKCS7_set_type(p7, NID_pkcs7_signed);
	PKCS7_content_new(p7, NID_pkcs7_data);
	for (i = 0; i < n; i++)
		PKCS7_add_certificate(p7, certs[i]);
	*der_r = NULL;
	len = i2d_PKCS7(p7, der_r);
	PKCS7_free(p7);
	return len;
}

static int parse(const char *attr, const unsigned char *data, size_t size,
		 STACK_OF(X509) *certs)
{
	char *error = NULL;
	int ret = mw_smime_ldap_parse_value(attr, data, size, certs, &error);

	if (ret < 0 && error == NULL)
		ret = -2;
	free(error);
	return ret;
}

static void test_parse(void)
{
	X509 *a = make_cert("a"), *b = make_cert("b"), *pair[2] = { a, b };
	X509 *many[MW_SMIME_LDAP_CERTS_MAX + 1];
	STACK_OF(X509) *certs = sk_X509_new_null();
	unsigned char *der = NULL, *p7 = NULL, *p7two = NULL, *p7many = NULL;
	unsigned char *buf;
	int der_len, p7_len, p7two_len, p7many_len, i;

	der_len = i2d_X509(a, &der);
	p7_len = certs_only(&a, 1, &p7);
	p7two_len = certs_only(pair, 2, &p7two);
	for (i = 0; i <= MW_SMIME_LDAP_CERTS_MAX; i++)
		many[i] = a;
	p7many_len = certs_only(many, MW_SMIME_LDAP_CERTS_MAX + 1, &p7many);

	ok(parse("userCertificate;binary", der, der_len, certs) == 0 &&
	   sk_X509_num(certs) == 1 && X509_cmp(sk_X509_value(certs, 0), a) == 0,
	   "%s", "userCertificate;binary: DER certificate");
	ok(parse("USERCERTIFICATE", der, der_len, certs) == 0 &&
	   sk_X509_num(certs) == 2, "%s", "attribute name without case or ;binary");
	ok(parse("userSMIMECertificate", p7, p7_len, certs) == 0 &&
	   sk_X509_num(certs) == 3, "%s", "userSMIMECertificate: certs-only PKCS#7");
	ok(parse("userSMIMECertificate;binary", p7two, p7two_len, certs) == 0 &&
	   sk_X509_num(certs) == 5 &&
	   X509_cmp(sk_X509_value(certs, 4), b) == 0,
	   "%s", "PKCS#7 with two certificates gives both");
	ok(parse("userSMIMECertificate", der, der_len, certs) == -1 &&
	   sk_X509_num(certs) == 5, "%s", "a bare certificate is not a PKCS#7");
	ok(parse("userCertificate;binary", p7, p7_len, certs) == -1,
	   "%s", "a PKCS#7 is not a certificate");
	buf = malloc(p7_len + 1);
	memcpy(buf, p7, p7_len);
	buf[p7_len] = 0;
	ok(parse("userSMIMECertificate", buf, p7_len + 1, certs) == -1,
	   "%s", "PKCS#7 with a byte after it refused");
	free(buf);
	buf = malloc(der_len + 2);
	memcpy(buf, der, der_len);
	memcpy(buf + der_len, "xx", 2);
	ok(parse("userCertificate;binary", buf, der_len + 2, certs) == -1,
	   "%s", "certificate with bytes after it refused");
	ok(parse("userCertificate;binary", buf, der_len - 1, certs) == -1,
	   "%s", "truncated certificate refused");
	free(buf);
	ok(parse("userCertificate;binary", der, 0, certs) == -1,
	   "%s", "empty value refused");
	ok(parse("userCertificate;binary", der, MW_SMIME_LDAP_VALUE_MAX + 1,
		 certs) == -1, "%s", "value over the size limit refused");
	ok(parse("mail", der, der_len, certs) == -1,
	   "%s", "other attribute refused");
	ok(parse("userCertificateX", der, der_len, certs) == -1,
	   "%s", "attribute with a longer name refused");
	ok(sk_X509_num(certs) == 5, "%s", "refused values added nothing");
	sk_X509_pop_free(certs, X509_free);
	certs = sk_X509_new_null();
	ok(parse("userSMIMECertificate", p7many, p7many_len, certs) == -1 &&
	   sk_X509_num(certs) == 0, "%s", "PKCS#7 with too many certificates refused");
	for (i = 0; i < MW_SMIME_LDAP_CERTS_MAX; i++)
		parse("userCertificate", der, der_len, certs);
	ok(sk_X509_num(certs) == MW_SMIME_LDAP_CERTS_MAX &&
	   parse("userCertificate", der, der_len, certs) == -1,
	   "%s", "certificates per address limited");
	sk_X509_pop_free(certs, X509_free);
	OPENSSL_free(der);
	OPENSSL_free(p7);
	OPENSSL_free(p7two);
	OPENSSL_free(p7many);
	X509_free(a);
	X509_free(b);
}

static void test_cache(void)
{
	struct mw_smime_ldap_cache *cache = mw_smime_ldap_cache_new(3);
	STACK_OF(X509) *certs = sk_X509_new_null(), *got = NULL;
	X509 *a = make_cert("a");
	char key[32];
	int i;

	sk_X509_push(certs, a);
	mw_smime_ldap_cache_put(cache, "a@x", certs, 1000, 10);
	mw_smime_ldap_cache_put(cache, "none@x", NULL, 1000, 5);
	ok(mw_smime_ldap_cache_get(cache, "a@x", 5000, &got) == 1 &&
	   got != NULL && sk_X509_num(got) == 1 &&
	   X509_cmp(sk_X509_value(got, 0), a) == 0, "%s", "cache: positive hit");
	sk_X509_pop_free(got, X509_free);
	got = NULL;
	ok(mw_smime_ldap_cache_get(cache, "none@x", 5000, &got) == 1 &&
	   got == NULL, "%s", "cache: negative hit");
	ok(mw_smime_ldap_cache_get(cache, "none@x", 6000, &got) == 0,
	   "%s", "cache: negative entry expires after its TTL");
	ok(mw_smime_ldap_cache_get(cache, "a@x", 10999, &got) == 1,
	   "%s", "cache: positive entry lives its TTL");
	sk_X509_pop_free(got, X509_free);
	got = NULL;
	ok(mw_smime_ldap_cache_get(cache, "a@x", 11000, &got) == 0,
	   "%s", "cache: positive entry expires after its TTL");
	mw_smime_ldap_cache_put(cache, "zero@x", certs, 1000, 0);
	ok(mw_smime_ldap_cache_get(cache, "zero@x", 1000, &got) == 0,
	   "%s", "cache: TTL 0 stores nothing");
	for (i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "u%d@x", i);
		mw_smime_ldap_cache_put(cache, key, NULL, 20000, 60);
	}
	ok(mw_smime_ldap_cache_count(cache) == 3 &&
	   mw_smime_ldap_cache_get(cache, "u9@x", 20000, &got) == 1 &&
	   mw_smime_ldap_cache_get(cache, "u7@x", 20000, &got) == 1 &&
	   mw_smime_ldap_cache_get(cache, "u6@x", 20000, &got) == 0,
	   "%s", "cache: bounded, the oldest evicted");
	mw_smime_ldap_cache_put(cache, "u7@x", NULL, 20000, 60);
	mw_smime_ldap_cache_put(cache, "u10@x", NULL, 20000, 60);
	ok(mw_smime_ldap_cache_get(cache, "u7@x", 20000, &got) == 1 &&
	   mw_smime_ldap_cache_get(cache, "u8@x", 20000, &got) == 0,
	   "%s", "cache: a replaced entry counts as new");
	mw_smime_ldap_cache_free(&cache);
	sk_X509_pop_free(certs, X509_free);
}

static int try_new(const struct mw_smime_ldap_settings *set, char **error_r)
{
	struct mw_smime_ldap *ldap = NULL;
	int ret = mw_smime_ldap_new(set, &ldap, error_r);

	mw_smime_ldap_free(&ldap);
	return ret;
}

/* mw_smime_ldap_new() refuses set with a message containing want. */
static void new_fails(const struct mw_smime_ldap_settings *set,
		      const char *want, const char *desc)
{
	char *error = NULL;
	int ret = try_new(set, &error);

	ok(ret < 0 && error != NULL && strstr(error, want) != NULL,
	   "settings refused: %s", desc);
	printf("# %s\n", error != NULL ? error : "(no message)");
	free(error);
}

static void test_settings(void)
{
	struct mw_smime_ldap_settings set = {
		.uri = "ldap://127.0.0.1:1", .base = "dc=example,dc=com",
		.filter = "(mail=%s)", .starttls = true, .timeout_msecs = 1000,
		.max_connections = 2,
	};
	char dir[] = "/tmp/mw-ldap-unit.XXXXXX", path[64], *error = NULL;
	FILE *f;
	int ret;

	ret = try_new(&set, &error);
	ok(ret == 0, "%s", "settings: anonymous accepted");
	free(error);
	set.uri = "http://x";
	new_fails(&set, "ldap://", "not an LDAP URI");
	set.uri = "ldaps://127.0.0.1:1";
	set.filter = "(mail=alice)";
	new_fails(&set, "%s", "filter without %s");
	set.filter = "(mail=%s)";
	set.bind_dn = "cn=milter,dc=example,dc=com";
	new_fails(&set, "go together", "bind_dn without password_file");
	if (mkdtemp(dir) == NULL)
		return;
	chmod(dir, 0700);
	snprintf(path, sizeof(path), "%s/secret", dir);
	f = fopen(path, "w");
	fputs("s3cret\n", f);
	fclose(f);
	chmod(path, 0644);
	set.password_file = path;
	new_fails(&set, "readable by others", "password file readable by others");
	chmod(path, 0600);
	error = NULL;
	ret = try_new(&set, &error);
	ok(ret == 0, "%s", "settings: password file 0600 accepted");
	free(error);
	f = fopen(path, "w");
	fputs("\n", f);
	fclose(f);
	new_fails(&set, "empty", "empty password (an unauthenticated bind)");
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_filter();
	test_parse();
	test_cache();
	test_settings();
	printf("1..%d\n", test_n);
	return test_failures == 0 ? 0 : 1;
}
