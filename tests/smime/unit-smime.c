/*
 * Unit tests of the S/MIME engine: encoders, MIME header parsing, the
 * From address, the sender map, header edits, the spool, canonical
 * output, and the key table's load checks.  unit-smime CERTDIR, where
 * CERTDIR is what make-pki.sh made.  Prints TAP.
 */

#include <ctype.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "msgfile.h"

static unsigned int test_n;
static unsigned int test_failed;

static void check(bool ok, const char *fmt, ...)
{
	va_list args;

	printf("%sok %u - ", ok ? "" : "not ", ++test_n);
	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	putchar('\n');
	if (!ok)
		test_failed++;
}

/* A growing buffer as the encoders' and canonicaliser's output. */
#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

struct sink {
	char data[1 << 16];
	size_t len;
};

static int sink_write(void *ctx, const void *data, size_t size)
{
	struct sink *s = ctx;

	if (s->len + size >= sizeof(s->data))
		return -1;
	memcpy(s->data + s->len, data, size);
	s->len += size;
	s->data[s->len] = '\0';
	return 0;
}

static void test_encoders(void)
{
	struct mw_smime_b64 b64;
	struct mw_smime_qp qp;
	struct sink s = { .len = 0 };
	unsigned char bytes[100];
	char line[200];
	size_t i;

	mw_smime_b64_init(&b64, sink_write, &s);
	mw_smime_b64_update(&b64, "Ma", 2);
	mw_smime_b64_update(&b64, "n", 1);
	mw_smime_b64_update(&b64, "Ma", 2);
	mw_smime_b64_final(&b64);
	check(strcmp(s.data, "TWFuTWE=\r\n") == 0, "base64 across updates");

	s.len = 0;
	for (i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)i;
	mw_smime_b64_init(&b64, sink_write, &s);
	mw_smime_b64_update(&b64, bytes, sizeof(bytes));
	mw_smime_b64_final(&b64);
	check(strchr(s.data, '\n') - s.data == 77 && s.len == 76 + 2 + 60 + 2,
	      "base64 lines of 76 characters");

	s.len = 0;
	mw_smime_qp_init(&qp, sink_write, &s);
	mw_smime_qp_line(&qp, (const unsigned char *)"From me = x ", 12, false);
	mw_smime_qp_line(&qp, (const unsigned char *)".\xc3\xa9", 3, false);
	check(strcmp(s.data, "=46rom me =3D x=20\r\n=2E=C3=A9\r\n") == 0,
	      "quoted-printable: From, '=', trailing space, dot, 8-bit");

	s.len = 0;
	memset(line, 'a', sizeof(line));
	mw_smime_qp_init(&qp, sink_write, &s);
	mw_smime_qp_line(&qp, (unsigned char *)line, 100, true);
	mw_smime_qp_line(&qp, (unsigned char *)line, 100, false);
	check(strncmp(s.data + 75, "=\r\n", 3) == 0 &&
	      s.len == 200 + 2 * 3 + 2, "quoted-printable soft line breaks");
}

/* Decodes quoted-printable text into out; -1 for a malformed escape. */
static int qp_decode(const char *in, size_t len, unsigned char *out,
		     size_t *out_len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		if (in[i] != '=') {
			out[n++] = (unsigned char)in[i];
			continue;
		}
		if (i + 2 < len && in[i + 1] == '\r' && in[i + 2] == '\n') {
			i += 2;		/* soft line break */
			continue;
		}
		if (i + 2 >= len || !isxdigit((unsigned char)in[i + 1]) ||
		    !isxdigit((unsigned char)in[i + 2]))
			return -1;
		char hex[3] = { in[i + 1], in[i + 2], '\0' };
		out[n++] = (unsigned char)strtoul(hex, NULL, 16);
		i += 2;
	}
	*out_len = n;
	return 0;
}

/* Every encoded line: at most 76 characters, no white space before its
   end, no "From " or "." at its start. */
static bool qp_lines_safe(const char *text, size_t len)
{
	const char *line = text, *end;

	while (line < text + len) {
		end = strstr(line, "\r\n");
		if (end == NULL || end - line > 76 ||
		    (end > line && (end[-1] == ' ' || end[-1] == '\t')) ||
		    strncmp(line, "From ", 5) == 0 || line[0] == '.')
			return false;
		line = end + 2;
	}
	return true;
}

/* Random lines of spaces, tabs, "=", dots, "From " and 8-bit bytes, fed
   in random pieces: the encoding decodes to the input (lines joined by
   CRLF) and every line of it is safe. */
static void test_qp_random(void)
{
	static const char *const atoms[] = {
		"a", "word", " ", "\t", "=", ".", "From ", "\xc3\xbc", "\xff",
		"  ", "x.y", "F",
	};
	unsigned char input[4096], decoded[8192];
	struct mw_smime_qp qp;
	struct sink s = { .len = 0 };
	unsigned int round, mismatches = 0, unsafe = 0;

	srandom(5);
	for (round = 0; round < 2000; round++) {
		size_t in_len = 0, dec_len, line_start, lines = 1 + random() % 4;

		s.len = 0;
		mw_smime_qp_init(&qp, sink_write, &s);
		while (lines-- > 0) {
			size_t want = random() % 200, pos;

			line_start = in_len;
			while (in_len - line_start < want) {
				const char *a = atoms[random() % N_ELEMENTS(atoms)];

				memcpy(input + in_len, a, strlen(a));
				in_len += strlen(a);
			}
			/* The line in one to three pieces. */
			for (pos = line_start; pos < in_len || pos == line_start;) {
				size_t piece = in_len - pos;

				if (piece > 1 && random() % 2 == 0)
					piece = 1 + random() % (piece - 1);
				mw_smime_qp_line(&qp, input + pos, piece,
						 pos + piece < in_len);
				pos += piece;
				if (piece == 0)
					break;
			}
			memcpy(input + in_len, "\r\n", 2);
			in_len += 2;
		}
		if (qp_decode(s.data, s.len, decoded, &dec_len) < 0 ||
		    dec_len != in_len || memcmp(decoded, input, in_len) != 0)
			mismatches++;
		if (!qp_lines_safe(s.data, s.len))
			unsafe++;
	}
	check(mismatches == 0 && unsafe == 0,
	      "quoted-printable: 2000 random texts decode to the input, "
	      "every line safe (%u mismatches, %u unsafe)", mismatches, unsafe);
}

static void test_mimehdr(void)
{
	static const char ct1[] = "Multipart/Mixed (comment);\n\t"
		"charset=x; BOUNDARY=\"a b;c\"";
	struct mw_smime_ctype ct;

	mw_smime_ctype_init(&ct);
	check(mw_smime_ctype_parse(&ct, ct1, strlen(ct1)) == 0 &&
	      strcmp(ct.type, "multipart") == 0 &&
	      strcmp(ct.subtype, "mixed") == 0 &&
	      strcmp(ct.boundary, "a b;c") == 0,
	      "Content-Type with comment, fold and quoted boundary");
	mw_smime_ctype_init(&ct);
	check(mw_smime_ctype_parse(&ct, "garbage", 7) < 0 &&
	      strcmp(ct.type, "text") == 0, "bad Content-Type keeps text/plain");
	check(mw_smime_cte_parse(" 8Bit", 5) == MW_SMIME_CTE_8BIT &&
	      mw_smime_cte_parse("Quoted-Printable", 16) == MW_SMIME_CTE_QP &&
	      mw_smime_cte_parse("x-uue", 5) == MW_SMIME_CTE_OTHER,
	      "Content-Transfer-Encoding tokens");
	mw_smime_ctype_parse(&ct, "application/x-pkcs7-mime; smime-type=enveloped-data", 51);
	check(mw_smime_ctype_is_protected(&ct), "x-pkcs7-mime counts as protected");
	mw_smime_ctype_parse(&ct, "multipart/alternative", 21);
	check(!mw_smime_ctype_is_protected(&ct), "alternative is not protected");
}

/* Issue 14 item 1 for the S/MIME From: RFC 5322 3.4, not a search
   for '@'. */
static void test_from_grammar(void)
{
	static const struct {
		const char *value, *address;	/* NULL: refused */
	} cases[] = {
		{ "\"alice@evil.example\" <Alice@Example.ORG>", "Alice@example.org" },
		{ "Alice (work@evil.example) <alice@example.org>", "alice@example.org" },
		{ "alice(c)@(c)example.org(c)", "alice@example.org" },
		{ "\"john doe\"@example.org", "\"john doe\"@example.org" },
		{ "<\"a>b\"@example.org>", "\"a>b\"@example.org" },
		{ "<@relay.example,@b.example:alice@example.org>", "alice@example.org" },
		{ " Alice Q. Example <alice @ example . org>", "alice@example.org" },
		{ "alice@[192.0.2.1]", "alice@[192.0.2.1]" },
		{ "alice@[IPv6:2001:db8::1]", "alice@[ipv6:2001:db8::1]" },
		{ "fz@[\\@..\\]", NULL },
		{ "=?utf-8?q?Gr=C3=BC=C3=9Fe?= <alice@example.org>", "alice@example.org" },
		{ "alice@example.org <bob@example.org>", NULL },
		{ "<alice@example.org> x", NULL },
		{ "alice", NULL },
		{ "@example.org", NULL },
		{ "alice@", NULL },
		{ "<a b@example.org>", NULL },
		{ "alice@example.org (open comment", NULL },
		{ "\"unterminated <alice@example.org>", NULL },
		{ "a@b@example.org", NULL },
		{ "Team:;", NULL },
	};
	const char *error;
	char buf[256];
	unsigned int i, bad = 0;

	for (i = 0; i < N_ELEMENTS(cases); i++) {
		int ret = mw_smime_from_address(cases[i].value, buf,
						sizeof(buf), &error);

		if (cases[i].address == NULL ? ret == 0 :
		    ret < 0 || strcmp(buf, cases[i].address) != 0) {
			printf("# From %s -> %s\n", cases[i].value,
			       ret == 0 ? buf : error);
			bad++;
		}
	}
	check(bad == 0, "From addresses by RFC 5322: quoted '@' in display "
	      "names and comments, quoted local parts, routes, literals "
	      "(%u of %zu wrong)", bad, N_ELEMENTS(cases));
}

static void test_from(void)
{
	char buf[256];
	const char *error = NULL;
	int ret;

	check(mw_smime_from_address("\"Doe, John\" <John@Example.ORG>", buf,
				    sizeof(buf), &error) == 0 &&
	      strcmp(buf, "John@example.org") == 0,
	      "From with quoted comma, local part kept as spelled: %s", buf);
	check(mw_smime_from_address("alice@example.org (Alice)", buf,
				    sizeof(buf), &error) == 0 &&
	      strcmp(buf, "alice@example.org") == 0, "bare From with comment");
	ret = mw_smime_from_address("a@example.org, b@example.org", buf,
				    sizeof(buf), &error);
	check(ret < 0 && strcmp(error, "From lists several mailboxes") == 0,
	      "From with two mailboxes refused");
	check(mw_smime_from_address("team: a@example.org;", buf, sizeof(buf),
				    &error) < 0, "From group refused");
	test_from_grammar();
}

static void test_sendermap(const char *dir)
{
	struct mw_smime_sendermap *map = NULL;
	char path[4096], error[256];
	FILE *f;

	check(mw_smime_sender_allowed(NULL, "Alice@example.org",
				      "alice@example.org") &&
	      !mw_smime_sender_allowed(NULL, "alice", "alice@example.org"),
	      "without a map a login sends as itself only");
	snprintf(path, sizeof(path), "%s/senders", dir);
	f = fopen(path, "w");
	fputs("# comment\nsales@example.org alice, bob\n"
	      "@example.net  carol\nalice@example.org alice\n", f);
	fclose(f);
	check(mw_smime_sendermap_load(path, &map, error, sizeof(error)) == 0,
	      "sender map loads");
	check(mw_smime_sender_allowed(map, "bob", "sales@example.org") &&
	      !mw_smime_sender_allowed(map, "dave", "sales@example.org"),
	      "map lists who may send as an address");
	check(mw_smime_sender_allowed(map, "carol", "x@example.net") &&
	      mw_smime_sender_allowed(map, "x@example.net", "x@example.net") &&
	      !mw_smime_sender_allowed(map, "y@example.net", "x@example.net"),
	      "domain entry adds carol; each login keeps its own address");
	mw_smime_sendermap_free(&map);

	/* issue 10 item 4: an entry for an address adds rights, it does
	   not take its owner's away. */
	f = fopen(path, "w");
	fputs("sales@example.net assistant@example.org\n", f);
	fclose(f);
	check(mw_smime_sendermap_load(path, &map, error, sizeof(error)) == 0 &&
	      mw_smime_sender_allowed(map, "assistant@example.org",
				      "sales@example.net") &&
	      mw_smime_sender_allowed(map, "sales@example.net",
				      "sales@example.net") &&
	      mw_smime_sender_allowed(map, "Sales@Example.NET",
				      "sales@example.net") &&
	      !mw_smime_sender_allowed(map, "mallory@example.org",
				       "sales@example.net"),
	      "sender map adds the assistant and keeps sales@'s own right");
	mw_smime_sendermap_free(&map);
}

struct edit_log {
	char text[1024];
};

static int log_edit(void *ctx, enum mw_smime_edit_op op, const char *name,
		    unsigned int index, const char *value)
{
	struct edit_log *l = ctx;
	size_t len = strlen(l->text);

	snprintf(l->text + len, sizeof(l->text) - len, "%s %s %u;",
		 op == MW_SMIME_EDIT_ADD ? "add" :
		 op == MW_SMIME_EDIT_DELETE ? "del" : "chg", name, index);
	return 0;
}

static void test_header_edits(void)
{
	const struct mw_smime_header h1[] = {
		{ "From", "a@example.org" },
		{ "content-type", "text/plain" },
		{ "Content-Transfer-Encoding", "8bit" },
		{ "Subject", "x" },
		{ "Content-Type", "text/html" },
	};
	const struct mw_smime_header h2[] = {
		{ "From", "a@example.org" }, { "MIME-Version", "1.0" },
	};
	struct edit_log l = { "" };

	mw_smime_header_edits(h1, 5, "multipart/signed", log_edit, &l);
	check(strcmp(l.text, "del Content-Type 2;del Content-Transfer-Encoding 1;"
		     "chg content-type 1;add MIME-Version 0;") == 0,
	      "header edits: %s", l.text);
	l.text[0] = '\0';
	mw_smime_header_edits(h2, 2, "multipart/signed", log_edit, &l);
	check(strcmp(l.text, "add Content-Type 0;") == 0,
	      "header edits without Content-Type: %s", l.text);
}

static void test_spool(void)
{
	struct mw_smime_spool *spool = mw_smime_spool_new(16, "/tmp");
	char error[256], buf[64];
	size_t got;

	mw_smime_spool_write(spool, "0123456789", 10, error, sizeof(error));
	check(!mw_smime_spool_in_file(spool), "spool below threshold in memory");
	mw_smime_spool_write(spool, "abcdefghij", 10, error, sizeof(error));
	mw_smime_spool_pread(spool, 5, buf, sizeof(buf), &got, error,
			     sizeof(error));
	check(mw_smime_spool_in_file(spool) && got == 15 &&
	      memcmp(buf, "56789abcdefghij", 15) == 0,
	      "spool above threshold moves to a file, contents kept");
	mw_smime_spool_free(&spool);
}

static int canon_mem(const char *headers_ct, const char *body,
		     size_t body_len, const char *avoid, bool *seen_r,
		     struct sink *s, char *error, size_t error_size)
{
	struct mw_smime_header h[] = { { "Content-Type", headers_ct } };
	struct mw_smime_spool *spool = mw_smime_spool_new(1 << 20, "/tmp");
	int ret;

	s->len = 0;
	s->data[0] = '\0';
	mw_smime_spool_write(spool, body, body_len, error, error_size);
	ret = mw_smime_canon(h, 1, spool, sink_write, s, avoid, seen_r, NULL,
			     error, error_size);
	mw_smime_spool_free(&spool);
	return ret;
}

static int canon_str(const char *headers_ct, const char *body,
		     const char *avoid, bool *seen_r, struct sink *s,
		     char *error, size_t error_size)
{
	return canon_mem(headers_ct, body, strlen(body), avoid, seen_r, s,
			 error, error_size);
}

static void test_canon(void)
{
	struct sink *s = calloc(1, sizeof(*s));
	char error[256];
	bool seen = false;

	check(canon_str("text/plain", "a\nb\r\n", NULL, &seen, s, error,
			sizeof(error)) == 0 &&
	      strcmp(s->data, "Content-Type: text/plain\r\n\r\na\r\nb\r\n") == 0,
	      "LF becomes CRLF, 7-bit text copied");
	check(canon_str("text/plain; charset=utf-8", "\xc3\xa9t\xc3\xa9\n",
			NULL, &seen, s, error, sizeof(error)) == 0 &&
	      strstr(s->data, "Content-Transfer-Encoding: quoted-printable\r\n"
		     "\r\n=C3=A9t=C3=A9\r\n") != NULL,
	      "8-bit text becomes quoted-printable");
	check(canon_str("multipart/mixed; boundary=b",
			"--b\nContent-Type: application/octet-stream\n\n\x01\xff\n--b--\n",
			NULL, &seen, s, error, sizeof(error)) == 0 &&
	      strstr(s->data, "Content-Transfer-Encoding: base64\r\n\r\nAf8=\r\n--b--\r\n") != NULL,
	      "8-bit data part becomes base64 without the delimiter's CRLF");
	check(canon_str("text/plain", "x\n--avoid-me\n", "avoid-me", &seen, s,
			error, sizeof(error)) == 0 && seen,
	      "a line starting with the outer boundary is noticed");
	check(canon_str("multipart/mixed; boundary=b",
			"--b\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n\xff\xfe\n--b--\n",
			NULL, &seen, s, error, sizeof(error)) < 0,
	      "8-bit data in a base64 part is refused: %s", error);
	check(canon_str("multipart/mixed; boundary=b",
			"pre\xff\n--b\n\nx\n--b--\n", NULL, &seen, s, error,
			sizeof(error)) < 0,
	      "8-bit preamble is refused: %s", error);
	free(s);
}

/* Decodes the base64 lines that follow marker in text into out. */
static size_t b64_after(const char *text, const char *marker,
			unsigned char *out, size_t size)
{
	const char *p = strstr(text, marker), *end;
	EVP_ENCODE_CTX *ctx;
	int n = 0, m = 0;

	if (p == NULL)
		return 0;
	p += strlen(marker);
	end = strstr(p, "\r\n--");
	if (end == NULL)
		end = p + strlen(p);
	if ((size_t)(end - p) > size)
		return 0;
	ctx = EVP_ENCODE_CTX_new();
	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, out, &n, (const unsigned char *)p,
			     (int)(end - p)) < 0 ||
	    EVP_DecodeFinal(ctx, out + n, &m) < 0)
		n = m = 0;
	EVP_ENCODE_CTX_free(ctx);
	return (size_t)(n + m);
}

/* Issue 10 items 1, 3 and 9, and QP against base64: signed content at
   any depth copied as it is, long boundaries, multiparts without one,
   binary parts, and text that quoted-printable would triple. */
static void test_canon_mime(void)
{
	static const char inner_signed[] =
		"--outer\n"
		"Content-Type: text/plain\n\nSee below.\n"
		"--outer\n"
		"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=in\n\n"
		"--in\n"
		"Content-Type: text/plain\n\n"
		"From the desk of Alice: \n"
		"--in\n"
		"Content-Type: application/pkcs7-signature\n"
		"Content-Transfer-Encoding: base64\n\nAAAA\n"
		"--in--\n"
		"--outer--\n";
	static const char forwarded[] =
		"--outer\n"
		"Content-Type: message/rfc822\n\n"
		"From: carol@example.org\n"
		"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=in\n\n"
		"--in\n\nFrom here \n--in\n"
		"Content-Type: application/pkcs7-signature\n\nAAAA\n--in--\n"
		"--outer--\n";
	static const char binary_part[] =
		"--b\nContent-Type: application/octet-stream\n"
		"Content-Transfer-Encoding: binary\n\n"
		"a\nb\r\nc\0\n--b--\n";
	struct sink *s = calloc(1, sizeof(*s));
	char error[256], ct[1200], body[4000], bnd[200];
	unsigned char decoded[4096];
	struct mw_smime_ctype pct;
	bool seen = false;
	size_t n, i;

	check(canon_str("multipart/mixed; boundary=outer", inner_signed, NULL,
			&seen, s, error, sizeof(error)) == 0 &&
	      strstr(s->data, "\r\nFrom the desk of Alice: \r\n--in\r\n") != NULL &&
	      strstr(s->data, "=46rom") == NULL,
	      "multipart/signed inside multipart/mixed copied byte for byte");
	check(canon_str("multipart/mixed; boundary=outer", forwarded, NULL,
			&seen, s, error, sizeof(error)) == 0 &&
	      strstr(s->data, "--in\r\n\r\nFrom here \r\n--in\r\n") != NULL,
	      "signed message/rfc822 copied byte for byte");
	check(canon_str("multipart/mixed; boundary=outer",
			"--outer\nContent-Type: multipart/signed; boundary=in\n\n"
			"--in\n\n\xe9t\xe9\n--in--\n--outer--\n", NULL, &seen,
			s, error, sizeof(error)) < 0 &&
	      strstr(error, "signed or encrypted") != NULL,
	      "8-bit signed content is refused, not re-encoded: %s", error);
	check(canon_str("multipart/mixed; boundary=outer",
			"--outer\nContent-Type: application/pkcs7-mime\n\n"
			"From x \n--outer--\n", NULL, &seen, s, error,
			sizeof(error)) == 0 &&
	      strstr(s->data, "\r\nFrom x \r\n") != NULL,
	      "application/pkcs7-mime part copied as it is");

	for (i = 0; i < 150; i++)
		bnd[i] = (char)('a' + i % 26);
	bnd[150] = '\0';
	snprintf(ct, sizeof(ct), "multipart/mixed; boundary=\"%s\"", bnd);
	snprintf(body, sizeof(body), "--%s\nContent-Type: text/plain; "
		 "charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nd\xc3\xa9j\xc3\xa0\n"
		 "--%s\nContent-Type: application/pdf\n\nJVBE\n--%s--\n",
		 bnd, bnd, bnd);
	mw_smime_ctype_init(&pct);
	check(mw_smime_ctype_parse(&pct, ct, strlen(ct)) == 0 &&
	      strcmp(pct.boundary, bnd) == 0,
	      "a 150-character boundary parses");
	check(canon_str(ct, body, NULL, &seen, s, error, sizeof(error)) == 0 &&
	      strstr(s->data, "d=C3=A9j=C3=A0") != NULL &&
	      strstr(s->data, "Content-Type: application/pdf\r\n\r\nJVBE\r\n") != NULL,
	      "a multipart with a 150-character boundary keeps its parts");
	check(canon_str("multipart/mixed", "--x\n\nbody\n--x--\n", NULL,
			&seen, s, error, sizeof(error)) < 0 &&
	      strstr(error, "without a boundary") != NULL,
	      "a multipart without a boundary is refused: %s", error);
	check(canon_str("multipart/mixed; boundary=\"\"", "x\n", NULL,
			&seen, s, error, sizeof(error)) < 0,
	      "a multipart with an empty boundary is refused");
	{
		char huge[1100];

		memset(huge, 'q', 1000);
		huge[1000] = '\0';
		snprintf(ct, sizeof(ct), "multipart/mixed; boundary=%s", huge);
		check(canon_str(ct, "x\n", NULL, &seen, s, error,
				sizeof(error)) < 0 &&
		      strstr(error, "longer than a line") != NULL,
		      "a boundary too long for a line is refused: %s", error);
	}

	n = canon_mem("multipart/mixed; boundary=b", binary_part,
		      sizeof(binary_part) - 1, NULL, &seen, s, error,
		      sizeof(error)) == 0 ?
		b64_after(s->data, "Content-Transfer-Encoding: base64\r\n\r\n",
			  decoded, sizeof(decoded)) : 0;
	check(n == 7 && memcmp(decoded, "a\nb\r\nc\0", 7) == 0,
	      "binary part: base64 of its exact bytes, bare LF kept (%zu)", n);
	if (n != 7)
		printf("# %s\n", s->data);
	{
		struct mw_smime_header h[] = {
			{ "Content-Type", "text/plain; charset=us-ascii" },
			{ "Content-Transfer-Encoding", "binary" },
		};
		struct mw_smime_spool *spool = mw_smime_spool_new(1 << 20, "/tmp");

		s->len = 0;
		mw_smime_spool_write(spool, "one\ntwo\r\n", 9, error,
				     sizeof(error));
		check(mw_smime_canon(h, 2, spool, sink_write, s, NULL, &seen,
				     NULL, error, sizeof(error)) == 0 &&
		      strstr(s->data, "Content-Transfer-Encoding: base64\r\n\r\n"
			     "b25lCnR3bw0K\r\n") != NULL,
		      "binary text at the top: base64 of the exact bytes");
		mw_smime_spool_free(&spool);
	}

	/* 日本語 repeated: QP would be 9 characters per 3 bytes. */
	body[0] = '\0';
	for (i = 0; i < 40; i++)
		strcat(body, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	strcat(body, "\n");
	check(canon_str("text/plain; charset=utf-8", body, NULL, &seen, s,
			error, sizeof(error)) == 0 &&
	      strstr(s->data, "Content-Transfer-Encoding: base64") != NULL,
	      "Japanese UTF-8 text becomes base64, not 3x quoted-printable");
	check(canon_str("text/plain; charset=utf-8",
			"Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6" "ln, mostly ASCII text here\n",
			NULL, &seen, s, error, sizeof(error)) == 0 &&
	      strstr(s->data, "Content-Transfer-Encoding: quoted-printable") != NULL,
	      "mostly-ASCII 8-bit text stays quoted-printable");
	free(s);
}

/* The body's last line without a line end gets CRLF like any other, so
   it must be judged like one; and lines that are copied as they are
   (preamble, delimiters, header fields) must already be what the entity
   needs: no NUL, CR only in CRLF, at most 998 characters. */
static void test_canon_raw_lines(void)
{
	static const char nul_header[] =
		"--b\nContent-Type: text/plain;\0 x=y\n\nx\n--b--\n";
	struct sink *s = calloc(1, sizeof(*s));
	char error[256], ct[1100], body[1200];
	bool seen = false;

	check(canon_str("text/plain", "x ", NULL, &seen, s, error,
			sizeof(error)) == 0 &&
	      strcmp(s->data, "Content-Type: text/plain\r\n"
		     "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
		     "x=20\r\n") == 0,
	      "last line without line end: trailing space encoded");
	check(canon_str("text/plain", "abc\r", NULL, &seen, s, error,
			sizeof(error)) == 0 &&
	      strstr(s->data, "\r\n\r\nabc=0D\r\n") != NULL,
	      "last line without line end: bare CR encoded");
	check(canon_str("multipart/mixed; boundary=b",
			"pre\rx\n--b\n\nx\n--b--\n", NULL, &seen, s, error,
			sizeof(error)) < 0,
	      "bare CR in the preamble is refused: %s", error);
	check(canon_str("multipart/mixed; boundary=b",
			"--b\nX-A: a\rb\n\nx\n--b--\n", NULL, &seen, s, error,
			sizeof(error)) < 0,
	      "bare CR in a body part header is refused: %s", error);
	check(canon_mem("multipart/mixed; boundary=b", nul_header,
			sizeof(nul_header) - 1, NULL, &seen, s, error,
			sizeof(error)) < 0,
	      "NUL in a body part header is refused: %s", error);
	check(canon_str("text/plain;\r charset=us-ascii", "x\n", NULL, &seen,
			s, error, sizeof(error)) < 0,
	      "bare CR in a message header field is refused: %s", error);

	snprintf(ct, sizeof(ct), "text/plain; name=%0999d", 0);
	check(canon_str(ct, "x\n", NULL, &seen, s, error, sizeof(error)) < 0,
	      "over-long message header line is refused: %s", error);
	snprintf(body, sizeof(body), "--b\nContent-Type: text/plain; "
		 "name=%0999d\n\nx\n--b--\n", 0);
	check(canon_str("multipart/mixed; boundary=b", body, NULL, &seen, s,
			error, sizeof(error)) < 0,
	      "over-long body part header line is refused: %s", error);
	snprintf(body, sizeof(body), "--b%1000s\n\nx\n--b--\n", "");
	check(canon_str("multipart/mixed; boundary=b", body, NULL, &seen, s,
			error, sizeof(error)) < 0,
	      "delimiter made over-long by padding is refused: %s", error);
	free(s);
}

/* Where the output has white space before a line end. */
struct ws_sink {
	char prev;
	unsigned int trailing_ws;
};

static int ws_sink_write(void *ctx, const void *data, size_t size)
{
	struct ws_sink *w = ctx;
	const char *p = data;
	size_t i;

	for (i = 0; i < size; i++) {
		if (p[i] == '\r' && (w->prev == ' ' || w->prev == '\t'))
			w->trailing_ws++;
		w->prev = p[i];
	}
	return 0;
}

/* A line that ends in white space just where the reader's buffer is
   full comes as a piece ending in the space and an empty last piece
   (the line end): the space must still be encoded. */
static void test_qp_piece_end(void)
{
	const size_t len = MW_SMIME_READER_BUF;
	struct mw_smime_header h[] = { { "Content-Type", "text/plain" } };
	struct mw_smime_spool *spool = mw_smime_spool_new(1 << 20, "/tmp");
	struct ws_sink w = { 0, 0 };
	struct mw_smime_qp qp;
	struct sink s = { .len = 0 };
	char error[256], *body = malloc(len + 2);
	bool seen;
	int ret;

	mw_smime_qp_init(&qp, sink_write, &s);
	mw_smime_qp_line(&qp, (const unsigned char *)"a ", 2, true);
	mw_smime_qp_line(&qp, (const unsigned char *)"", 0, false);
	check(strcmp(s.data, "a=20\r\n") == 0,
	      "quoted-printable: space ending a piece before an empty last "
	      "piece is encoded");

	memset(body, 'x', len - 1);
	memcpy(body + len - 1, " \r\n", 3);
	mw_smime_spool_write(spool, body, len + 2, error, sizeof(error));
	ret = mw_smime_canon(h, 1, spool, ws_sink_write, &w, NULL, &seen, NULL,
			     error, sizeof(error));
	check(ret == 0 && w.trailing_ws == 0,
	      "a line longer than the reader's buffer, ending in a space: "
	      "no trailing white space in the entity (%u)", w.trailing_ws);
	mw_smime_spool_free(&spool);
	free(body);
}

struct warnings {
	char text[8192];
	unsigned int count;
};

static void collect_warning(void *ctx, const char *msg)
{
	struct warnings *w = ctx;
	size_t len = strlen(w->text);

	snprintf(w->text + len, sizeof(w->text) - len, "# %s\n", msg);
	w->count++;
}

static void test_keytable(const char *dir)
{
	struct mw_smime_keytable *table = NULL, *second;
	struct warnings w = { "", 0 };
	const struct mw_smime_key *key;
	char path[4096], error[512];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "%s/smime.keys", dir);
	f = fopen(path, "w");
	fprintf(f, "# address certificate key chain\n"
		"alice@example.org %1$s/alice.pem %1$s/alice.key %1$s/inter.pem\n"
		"Bob@Example.org %1$s/bob.pem %1$s/bob.key %1$s/inter.pem\n"
		"@example.org %1$s/domain.pem %1$s/domain.key %1$s/inter.pem\n"
		"expired@example.org %1$s/expired.pem %1$s/expired.key\n"
		"noeku@example.org %1$s/noeku.pem %1$s/noeku.key\n"
		"other@example.org %1$s/other.pem %1$s/other.key\n"
		"loose@example.org %1$s/loosekey.pem %1$s/loosekey.key\n"
		"mismatch@example.org %1$s/alice.pem %1$s/bob.key\n"
		"broken line\n", dir);
	fclose(f);
	check(mw_smime_keytable_load(path, collect_warning, &w, &table,
				     error, sizeof(error)) == 0,
	      "key table loads");
	if (table == NULL)
		return;
	fputs(w.text, stdout);
	check(mw_smime_keytable_count(table) == 3,
	      "three good keys of eight entries (%u)",
	      mw_smime_keytable_count(table));
	check(strstr(w.text, ":5: expired@example.org: certificate expired") != NULL,
	      "expired certificate skipped with file:line");
	check(strstr(w.text, "noeku@example.org: certificate extended key usage lacks emailProtection") != NULL,
	      "certificate without emailProtection skipped");
	check(strstr(w.text, "other@example.org: certificate does not name other@example.org") != NULL,
	      "certificate not naming the address skipped");
	check(strstr(w.text, "loosekey.key: private key readable by others (mode 0644)") != NULL,
	      "0644 private key refused");
	check(strstr(w.text, "bob.key does not match") != NULL,
	      "key not matching its certificate skipped");
	check(strstr(w.text, ":10: expected") != NULL, "malformed line reported");
	key = mw_smime_keytable_lookup(table, "ALICE@example.org");
	check(key != NULL && strcmp(key->address, "alice@example.org") == 0 &&
	      sk_X509_num(key->chain) == 1, "address lookup, with chain");
	key = mw_smime_keytable_lookup(table, "bob@example.org");
	check(key != NULL && EVP_PKEY_get_base_id(key->pkey) == EVP_PKEY_EC,
	      "ECDSA key loaded");
	key = mw_smime_keytable_lookup(table, "carol@example.org");
	check(key != NULL && strcmp(key->address, "@example.org") == 0 &&
	      mw_smime_key_names(key, "carol@example.org") &&
	      !mw_smime_key_names(key, "erin@example.org"),
	      "domain default @example.org, names only its addresses");
	check(mw_smime_keytable_lookup(table, "alice@example.net") == NULL,
	      "no key for another domain");
	second = table;
	mw_smime_keytable_ref(second);
	mw_smime_keytable_unref(&table);
	check(table == NULL &&
	      mw_smime_keytable_lookup(second, "alice@example.org") != NULL,
	      "a second reference keeps the table alive");
	mw_smime_keytable_unref(&second);
	ret = mw_smime_keytable_load("/nonexistent/keys", collect_warning, &w,
				     &table, error, sizeof(error));
	check(ret < 0 && strstr(error, "No such file") != NULL,
	      "a missing key table fails the load");
}

/* Copies dir/name to dest with the given mode. */
static void copy_file(const char *dir, const char *name, const char *dest,
		      mode_t mode)
{
	char src[4096], buf[8192];
	FILE *in, *out;
	size_t n;

	snprintf(src, sizeof(src), "%s/%s", dir, name);
	in = fopen(src, "rb");
	out = fopen(dest, "wb");
	while (in != NULL && out != NULL && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	if (in != NULL)
		fclose(in);
	if (out != NULL)
		fclose(out);
	chmod(dest, mode);
}

/* Loads a one-line key table at dir/t.keys and returns the count of
   keys; the warnings go to w. */
static unsigned int load_one(const char *dir, const char *line,
			     struct warnings *w)
{
	struct mw_smime_keytable *table = NULL;
	char path[4096], error[512];
	unsigned int count = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/t.keys", dir);
	f = fopen(path, "w");
	fputs(line, f);
	fclose(f);
	w->text[0] = '\0';
	w->count = 0;
	if (mw_smime_keytable_load(path, collect_warning, w, &table, error,
				   sizeof(error)) == 0) {
		count = mw_smime_keytable_count(table);
		mw_smime_keytable_unref(&table);
	}
	return count;
}

/* Issue 10 items 2, 6, 10 and issue 14 items 6, 7: address case, keys
   under a passphrase, owner and mode of the files and their directories,
   symbolic links, relative paths. */
static void test_keyfiles(const char *pki)
{
	struct mw_smime_keytable *table = NULL;
	struct warnings w = { "", 0 };
	const struct mw_smime_key *key;
	char d[2048], sub[4096], path[4096], line[8192], error[512];
	FILE *f;

	snprintf(d, sizeof(d), "%.2000s/kf", pki);
	mkdir(d, 0755);
	chmod(d, 0755);
	snprintf(path, sizeof(path), "%s/a.pem", d);
	copy_file(pki, "alice.pem", path, 0644);
	snprintf(path, sizeof(path), "%s/a.key", d);
	copy_file(pki, "alice.key", path, 0600);
	snprintf(path, sizeof(path), "%s/dave.pem", d);
	copy_file(pki, "dave.pem", path, 0644);
	snprintf(path, sizeof(path), "%s/dave.key", d);
	copy_file(pki, "dave.key", path, 0600);
	snprintf(path, sizeof(path), "%s/locked.pem", d);
	copy_file(pki, "locked.pem", path, 0644);
	snprintf(path, sizeof(path), "%s/locked.key", d);
	copy_file(pki, "locked.key", path, 0600);

	/* Item 2: the table lower-cases only the domain, the certificate
	   names Dave.Jones@Example.ORG. */
	snprintf(path, sizeof(path), "%s/t.keys", d);
	f = fopen(path, "w");
	fprintf(f, "dave.jones@example.org dave.pem dave.key\n"
		"alice@example.org a.pem a.key\n");
	fclose(f);
	check(mw_smime_keytable_load(path, collect_warning, &w, &table, error,
				     sizeof(error)) == 0 &&
	      mw_smime_keytable_count(table) == 2,
	      "relative paths resolve against the table's directory; a "
	      "certificate for Dave.Jones@Example.ORG loads for "
	      "dave.jones@example.org");
	fputs(w.text, stdout);
	if (table != NULL) {
		key = mw_smime_keytable_lookup(table, "Dave.Jones@Example.ORG");
		check(key != NULL &&
		      mw_smime_key_names(key, "Dave.Jones@example.org") &&
		      mw_smime_key_names(key, "dave.jones@EXAMPLE.org") &&
		      !mw_smime_key_names(key, "dave.jone@example.org"),
		      "names: domain any case, local part as spelled or "
		      "case-insensitively");
		mw_smime_keytable_unref(&table);
	}

	/* Item 6: a passphrase is refused with file:line, never asked. */
	check(load_one(d, "alice@example.org locked.pem locked.key\n", &w) == 0 &&
	      strstr(w.text, "t.keys:1: alice@example.org: ") != NULL &&
	      strstr(w.text, "locked.key: private key is protected by a passphrase") != NULL,
	      "a key under a passphrase is refused with file:line");

	/* Item 10 and issue 14 item 6: modes. */
	snprintf(path, sizeof(path), "%s/a.key", d);
	chmod(path, 0622);
	check(load_one(d, "alice@example.org a.pem a.key\n", &w) == 0 &&
	      strstr(w.text, "private key writable by group or others (mode 0622)") != NULL,
	      "a 0622 key is refused");
	chmod(path, 0640);
	if (chown(path, 0, 0) == 0 && geteuid() == 0)
		check(load_one(d, "alice@example.org a.pem a.key\n", &w) == 1,
		      "a 0640 key of a group the milter runs in is accepted");
	if (geteuid() == 0 && chown(path, 0, 1) == 0)
		check(load_one(d, "alice@example.org a.pem a.key\n", &w) == 0 &&
		      strstr(w.text, "readable by group daemon, which the milter does not run in") != NULL,
		      "a 0640 key of another group is refused");
	if (geteuid() == 0 && chown(path, 0, 0) != 0)
		perror(path);
	chmod(path, 0600);
	snprintf(path, sizeof(path), "%s/a.pem", d);
	chmod(path, 0646);
	check(load_one(d, "alice@example.org a.pem a.key\n", &w) == 0 &&
	      strstr(w.text, "certificate writable by group or others (mode 0646)") != NULL,
	      "a certificate others can write is refused");
	chmod(path, 0644);
	chmod(d, 0777);
	check(load_one(d, "alice@example.org a.pem a.key\n", &w) == 0 &&
	      strstr(w.text, "kf writable by group or others (mode 0777)") != NULL,
	      "a key in a world-writable directory is refused");
	chmod(d, 0775);
	check(load_one(d, "alice@example.org a.pem a.key\n", &w) == 0 &&
	      strstr(w.text, "writable by group or others (mode 0775)") != NULL,
	      "a key in a group-writable directory is refused");
	chmod(d, 0755);
	if (geteuid() == 0 && chown(d, 1, 1) == 0) {
		check(load_one(d, "alice@example.org a.pem a.key\n", &w) == 0 &&
		      strstr(w.text, "owned by uid 1, neither root nor the milter's user") != NULL,
		      "a key in a directory of another user is refused");
		if (chown(d, 0, 0) != 0)
			perror(d);
	}

	/* Symbolic links: refused unless the entry says links=follow, and
	   then the target's directories are checked. */
	snprintf(sub, sizeof(sub), "%s/link.key", d);
	if (symlink("a.key", sub) == 0) {
		check(load_one(d, "alice@example.org a.pem link.key\n", &w) == 0 &&
		      strstr(w.text, "link.key: a symbolic link, and the entry does not say links=follow") != NULL,
		      "a symbolic link is refused by default");
		check(load_one(d, "alice@example.org a.pem link.key links=follow\n", &w) == 1,
		      "links=follow accepts it");
		check(load_one(d, "alice@example.org a.pem link.key links=maybe\n", &w) == 0 &&
		      strstr(w.text, "unknown option links=maybe") != NULL,
		      "an unknown option is reported");
	}
	snprintf(line, sizeof(line), "alice@example.org %s/a.pem %s/a.key\n", d, d);
	check(load_one(d, line, &w) == 1, "absolute paths still work");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: unit-smime CERTDIR\n");
		return 1;
	}
	test_encoders();
	test_qp_random();
	test_mimehdr();
	test_from();
	test_sendermap(argv[1]);
	test_header_edits();
	test_spool();
	test_canon();
	test_canon_raw_lines();
	test_canon_mime();
	test_qp_piece_end();
	test_keytable(argv[1]);
	test_keyfiles(argv[1]);
	return test_failed == 0 ? 0 : 1;
}
