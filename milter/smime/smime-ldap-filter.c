/*
 * The search filter for an address.  The address comes from the SMTP
 * envelope, so it is hostile: unescaped, "x*)(uid=*" would turn
 * "(mail=%s)" into a filter that matches every entry.  RFC 4515 3 lets
 * any byte be written as \XX; the special ones must be, and escaping
 * every byte outside printable ASCII as well keeps the filter valid
 * UTF-8 whatever the address holds.
 */

#include <stdlib.h>
#include <string.h>

#include "smime-ldap.h"

static bool mw_smime_ldap_must_escape(unsigned char c)
{
	return c == '*' || c == '(' || c == ')' || c == '\\' ||
		c < 0x20 || c >= 0x7f;
}

char *mw_smime_ldap_filter(const char *template, const char *address,
			   size_t address_len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, n = 0, escaped = 0, tlen = strlen(template);
	const char *p;
	char *out, *o;

	for (i = 0; i < address_len; i++)
		escaped += mw_smime_ldap_must_escape((unsigned char)address[i]) ? 3 : 1;
	for (p = template; (p = strstr(p, "%s")) != NULL; p += 2)
		n++;
	/* every "%s" (2 bytes) becomes the escaped address */
	out = malloc(tlen - 2 * n + n * escaped + 1);
	if (out == NULL)
		return NULL;
	o = out;
	for (p = template; *p != '\0'; p++) {
		if (p[0] != '%' || p[1] != 's') {
			*o++ = *p;
			continue;
		}
		for (i = 0; i < address_len; i++) {
			unsigned char c = (unsigned char)address[i];

			if (mw_smime_ldap_must_escape(c)) {
				*o++ = '\\';
				*o++ = hex[c >> 4];
				*o++ = hex[c & 0x0f];
			} else {
				*o++ = (char)c;
			}
		}
		p++;
	}
	*o = '\0';
	return out;
}
