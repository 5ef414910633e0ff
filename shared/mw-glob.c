#include "mw-match.h"

#include <ctype.h>

bool mw_glob_match(const char *pattern, const char *text)
{
	const char *star_pat = NULL, *star_text = NULL;

	/* Iterative matching with one backtrack point: linear in practice,
	   and a hostile certificate name cannot make it recurse. */
	while (*text != '\0') {
		if (*pattern == '*') {
			star_pat = ++pattern;
			star_text = text;
			continue;
		}
		if (*pattern == '?' ||
		    (*pattern != '\0' &&
		     tolower((unsigned char)*pattern) == tolower((unsigned char)*text))) {
			pattern++;
			text++;
			continue;
		}
		/* Let the last star take one more character, never a dot. */
		if (star_pat == NULL || *star_text == '.')
			return false;
		pattern = star_pat;
		text = ++star_text;
	}
	while (*pattern == '*')
		pattern++;
	return *pattern == '\0';
}
