#include "mw-match.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Length of name without one trailing dot. */
static size_t mw_hostname_len(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && name[len - 1] == '.' ? len - 1 : len;
}

bool mw_hostname_match(const char *pattern, const char *name)
{
	size_t name_len = mw_hostname_len(name);
	size_t pat_len = strlen(pattern);

	if (pattern[0] != '.') {
		return name_len == pat_len &&
			strncasecmp(pattern, name, pat_len) == 0;
	}
	/* ".example.org": the domain itself ... */
	if (name_len == pat_len - 1 &&
	    strncasecmp(pattern + 1, name, name_len) == 0)
		return true;
	/* ... or any name that ends in it at a label boundary. */
	return name_len > pat_len &&
		strncasecmp(name + name_len - pat_len, pattern, pat_len) == 0;
}

bool mw_hostname_is_valid(const char *name)
{
	size_t label_len = 0;

	if (*name == '\0')
		return false;
	for (; *name != '\0'; name++) {
		if (*name == '.') {
			if (label_len == 0)
				return false;
			label_len = 0;
			continue;
		}
		if (!isalnum((unsigned char)*name) && *name != '-' && *name != '_')
			return false;
		if (++label_len > 63)
			return false;
	}
	return label_len > 0;
}
