/* The line-oriented files of the S/MIME settings (the key table, the
   sender map), read the one way: '#' starts a comment, and a read error
   fails the load instead of leaving a table cut short. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mw-smime.h"

int mw_smime_file_lines(const char *path, mw_smime_line_fn *fn, void *ctx,
			char *error, size_t error_size)
{
	unsigned int lineno = 0;
	char *line = NULL, *comment;
	size_t line_size = 0;
	int ret = 0;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(error, error_size, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (ret == 0 && getline(&line, &line_size, f) != -1) {
		if ((comment = strchr(line, '#')) != NULL)
			*comment = '\0';
		ret = fn(ctx, ++lineno, line, error, error_size);
	}
	if (ret == 0 && ferror(f)) {
		snprintf(error, error_size, "%s: read error", path);
		ret = -1;
	}
	free(line);
	fclose(f);
	return ret;
}
