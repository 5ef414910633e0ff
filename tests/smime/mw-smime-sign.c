/*
 * Signs a message file the way the milter does, for the tests and the
 * benchmark: mw-smime-sign [-d digest] [-t spool_threshold] [-T tmpdir]
 * CERT KEY CHAIN|- IN OUT.  The key must name the From address.  Exits 0
 * when signed, 3 when the message is left alone (already signed or
 * encrypted; OUT is then a copy), 1 on errors.
 */

#include <getopt.h>
#include <unistd.h>

#include "msgfile.h"

struct out_header {
	const char *name;
	char *value;
	bool deleted;
};

struct out_headers {
	struct out_header h[260];
	unsigned int count;
};

static int apply_edit(void *ctx, enum mw_smime_edit_op op, const char *name,
		      unsigned int index, const char *value)
{
	struct out_headers *oh = ctx;
	unsigned int i, seen = 0;

	if (op == MW_SMIME_EDIT_ADD) {
		oh->h[oh->count].name = name;
		oh->h[oh->count++].value = strdup(value);
		return 0;
	}
	for (i = 0; i < oh->count; i++) {
		if (oh->h[i].deleted || strcasecmp(oh->h[i].name, name) != 0 ||
		    ++seen != index)
			continue;
		if (op == MW_SMIME_EDIT_DELETE) {
			oh->h[i].deleted = true;
		} else {
			free(oh->h[i].value);
			oh->h[i].value = strdup(value);
		}
		return 0;
	}
	return -1;
}

static void write_value(FILE *f, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\n')
			fputc('\r', f);
		fputc(*v, f);
	}
}

int main(int argc, char **argv)
{
	struct mw_smime_sign_params params = {
		.digest = "sha256", .spool_threshold = 1024 * 1024,
		.tmpdir = "/tmp",
	};
	struct mw_smime_key *key = NULL;
	struct mw_smime_signed *sig = NULL;
	struct mw_smime_spool *body;
	struct out_headers oh = { .count = 0 };
	struct msgfile m;
	char error[512], from[256], buf[65536];
	const char *err = NULL;
	unsigned int i;
	size_t len;
	FILE *out;
	int c;

	while ((c = getopt(argc, argv, "d:t:T:")) != -1) {
		switch (c) {
		case 'd': params.digest = optarg; break;
		case 't': params.spool_threshold = strtoul(optarg, NULL, 10); break;
		case 'T': params.tmpdir = optarg; break;
		default: return 1;
		}
	}
	if (argc - optind != 5) {
		fprintf(stderr, "usage: mw-smime-sign [-d digest] [-t threshold] "
			"[-T tmpdir] CERT KEY CHAIN|- IN OUT\n");
		return 1;
	}
	argv += optind;
	if (msgfile_read(argv[3], &m) < 0) {
		fprintf(stderr, "%s: unreadable message\n", argv[3]);
		return 1;
	}
	for (i = 0; i < m.header_count; i++) {
		struct mw_smime_ctype ct;

		mw_smime_ctype_init(&ct);
		if (strcasecmp(m.headers[i].name, "Content-Type") == 0 &&
		    mw_smime_ctype_parse(&ct, m.headers[i].value,
					 strlen(m.headers[i].value)) == 0 &&
		    mw_smime_ctype_is_protected(&ct)) {
			size_t size;
			unsigned char *data = msgfile_slurp(argv[3], &size);

			out = fopen(argv[4], "wb");
			fwrite(data, 1, size, out);
			fclose(out);
			free(data);
			msgfile_free(&m);
			return 3;
		}
		if (strcasecmp(m.headers[i].name, "From") == 0 &&
		    mw_smime_from_address(m.headers[i].value, from,
					  sizeof(from), &err) < 0) {
			fprintf(stderr, "From: %s\n", err);
			return 1;
		}
	}
	if (mw_smime_key_load(from, argv[0], argv[1],
			      strcmp(argv[2], "-") == 0 ? NULL : argv[2],
			      true, &key, error, sizeof(error)) < 0) {
		fprintf(stderr, "key: %s\n", error);
		return 1;
	}
	params.key = key;
	body = mw_smime_spool_new(params.spool_threshold, params.tmpdir);
	if (mw_smime_spool_write(body, m.body, m.body_size, error,
				 sizeof(error)) < 0 ||
	    mw_smime_sign(&params, m.headers, m.header_count, body, &sig,
			  error, sizeof(error)) < 0) {
		fprintf(stderr, "sign: %s\n", error);
		return 1;
	}
	for (i = 0; i < m.header_count; i++) {
		oh.h[i].name = m.headers[i].name;
		oh.h[i].value = strdup(m.headers[i].value);
	}
	oh.count = m.header_count;
	if (mw_smime_header_edits(m.headers, m.header_count,
				  mw_smime_signed_content_type(sig),
				  apply_edit, &oh) < 0) {
		fprintf(stderr, "header edits failed\n");
		return 1;
	}
	out = fopen(argv[4], "wb");
	for (i = 0; i < oh.count; i++) {
		if (!oh.h[i].deleted) {
			fprintf(out, "%s: ", oh.h[i].name);
			write_value(out, oh.h[i].value);
			fputs("\r\n", out);
		}
		free(oh.h[i].value);
	}
	fputs("\r\n", out);
	while (mw_smime_signed_read(sig, buf, sizeof(buf), &len, error,
				    sizeof(error)) == 0 && len > 0)
		fwrite(buf, 1, len, out);
	if (fclose(out) != 0)
		return 1;
	mw_smime_signed_free(&sig);
	mw_smime_spool_free(&body);
	mw_smime_key_free(&key);
	msgfile_free(&m);
	return 0;
}
