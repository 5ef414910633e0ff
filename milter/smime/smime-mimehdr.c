/* The MIME header fields the canonicaliser needs: Content-Type (RFC 2045
   section 5.1, RFC 2046) and Content-Transfer-Encoding (RFC 2045
   section 6). */

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "mw-smime.h"

void mw_smime_ctype_init(struct mw_smime_ctype *ct)
{
	memset(ct, 0, sizeof(*ct));
	/* RFC 2045 5.2: no Content-Type means text/plain. */
	strcpy(ct->type, "text");
	strcpy(ct->subtype, "plain");
	ct->cte = MW_SMIME_CTE_7BIT;
}

/* Skips white space, folds and (comments) (RFC 5322 3.2.2). */
static const char *mw_smime_skip_cfws(const char *p, const char *end)
{
	while (p < end) {
		if (isspace((unsigned char)*p)) {
			p++;
		} else if (*p == '(') {
			int depth = 0;

			for (; p < end; p++) {
				if (*p == '\\' && p + 1 < end)
					p++;
				else if (*p == '(')
					depth++;
				else if (*p == ')' && --depth == 0) {
					p++;
					break;
				}
			}
		} else {
			break;
		}
	}
	return p;
}

/* RFC 2045 5.1 token characters. */
static bool mw_smime_is_tchar(unsigned char c)
{
	return c > 32 && c < 127 && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

static const char *mw_smime_token(const char *p, const char *end,
				  char *buf, size_t size)
{
	size_t n = 0;

	for (; p < end && mw_smime_is_tchar((unsigned char)*p); p++) {
		if (n + 1 < size)
			buf[n++] = (char)tolower((unsigned char)*p);
	}
	buf[n] = '\0';
	return p;
}

/* A parameter value: token or quoted-string, unquoted into buf. */
static const char *mw_smime_param_value(const char *p, const char *end,
					char *buf, size_t size, bool *too_long_r)
{
	size_t n = 0;

	*too_long_r = false;
	if (p < end && *p == '"') {
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\\' && p + 1 < end)
				p++;
			if (*p == '\r' || *p == '\n')
				continue;
			if (n + 1 < size)
				buf[n++] = *p;
			else
				*too_long_r = true;
		}
		if (p < end)
			p++;
	} else {
		for (; p < end && mw_smime_is_tchar((unsigned char)*p); p++) {
			if (n + 1 < size)
				buf[n++] = *p;
			else
				*too_long_r = true;
		}
	}
	buf[n] = '\0';
	return p;
}

int mw_smime_ctype_parse(struct mw_smime_ctype *ct, const char *value,
			 size_t len)
{
	const char *p = value, *end = value + len;
	char type[sizeof(ct->type)], subtype[sizeof(ct->subtype)];
	enum mw_smime_cte cte = ct->cte;

	p = mw_smime_skip_cfws(p, end);
	p = mw_smime_token(p, end, type, sizeof(type));
	p = mw_smime_skip_cfws(p, end);
	if (type[0] == '\0' || p >= end || *p != '/')
		return -1;
	p = mw_smime_skip_cfws(p + 1, end);
	p = mw_smime_token(p, end, subtype, sizeof(subtype));
	if (subtype[0] == '\0')
		return -1;
	mw_smime_ctype_init(ct);
	ct->cte = cte;
	strcpy(ct->type, type);
	strcpy(ct->subtype, subtype);

	for (;;) {
		char name[32], pvalue[MW_SMIME_BOUNDARY_MAX + 2];
		bool too_long;

		p = mw_smime_skip_cfws(p, end);
		if (p >= end || *p != ';')
			break;
		p = mw_smime_skip_cfws(p + 1, end);
		p = mw_smime_token(p, end, name, sizeof(name));
		p = mw_smime_skip_cfws(p, end);
		if (p >= end || *p != '=')
			break;
		p = mw_smime_skip_cfws(p + 1, end);
		p = mw_smime_param_value(p, end, pvalue, sizeof(pvalue),
					 &too_long);
		/* A boundary whose delimiter would not fit in a line is
		   noted, so that the multipart is refused rather than
		   taken for a leaf. */
		if (strcmp(name, "boundary") == 0) {
			ct->boundary_too_long = too_long ||
				strlen(pvalue) > MW_SMIME_BOUNDARY_MAX;
			if (!ct->boundary_too_long)
				strcpy(ct->boundary, pvalue);
		}
	}
	return 0;
}

enum mw_smime_cte mw_smime_cte_parse(const char *value, size_t len)
{
	const char *p = value, *end = value + len;
	char token[32];

	p = mw_smime_skip_cfws(p, end);
	(void)mw_smime_token(p, end, token, sizeof(token));
	if (token[0] == '\0' || strcmp(token, "7bit") == 0)
		return MW_SMIME_CTE_7BIT;
	if (strcmp(token, "8bit") == 0)
		return MW_SMIME_CTE_8BIT;
	if (strcmp(token, "binary") == 0)
		return MW_SMIME_CTE_BINARY;
	if (strcmp(token, "quoted-printable") == 0)
		return MW_SMIME_CTE_QP;
	if (strcmp(token, "base64") == 0)
		return MW_SMIME_CTE_BASE64;
	return MW_SMIME_CTE_OTHER;
}

bool mw_smime_ctype_is_protected(const struct mw_smime_ctype *ct)
{
	if (strcmp(ct->type, "multipart") == 0)
		return strcmp(ct->subtype, "signed") == 0 ||
			strcmp(ct->subtype, "encrypted") == 0;
	if (strcmp(ct->type, "application") == 0)
		return strcmp(ct->subtype, "pkcs7-mime") == 0 ||
			strcmp(ct->subtype, "x-pkcs7-mime") == 0 ||
			strcmp(ct->subtype, "pkcs7-signature") == 0 ||
			strcmp(ct->subtype, "x-pkcs7-signature") == 0;
	return false;
}

bool mw_smime_header_is_content(const char *name)
{
	return strncasecmp(name, "Content-", 8) == 0;
}
