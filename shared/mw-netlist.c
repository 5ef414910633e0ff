/* Address list files: one address, CIDR prefix or address/netmask a
   line, '#' comments.  Block lists run to tens of thousands of lines, so
   this reads them directly instead of through the policy lexer. */

#include "mw-policy-private.h"
#include "mw-diag.h"
#include "mw-util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool mw_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Column (from 1) of pos within a line; lists are ASCII, so bytes do. */
static unsigned int mw_column(const char *line, const char *pos)
{
	return (unsigned int)(pos - line) + 1;
}

int mw_netlist_load(const char *path, struct mw_addrset_builder *builder,
		    struct mw_diags *diags, const char *ref_file,
		    unsigned int ref_line, unsigned int ref_column)
{
	char error[MW_ERROR_SIZE], why[MW_ERROR_SIZE + 64];
	struct stat st;
	size_t size;
	char *data;
	int ret;

	if (mw_read_file(path, true, MW_FILE_SIZE_MAX, &data, &size, &st,
			 error, sizeof(error)) < 0) {
		mw_diag_error(diags, ref_file, ref_line, ref_column, "%s", error);
		return -1;
	}
	switch (mw_file_writers(path, &st, why, sizeof(why))) {
	case MW_WRITERS_OWNER:
		break;
	case MW_WRITERS_GROUP:
		mw_diag_warning(diags, ref_file, ref_line, ref_column, "%s", why);
		break;
	case MW_WRITERS_OTHERS:
		mw_diag_error(diags, ref_file, ref_line, ref_column,
			      "%s; refusing it", why);
		free(data);
		return -1;
	}
	ret = mw_netlist_parse(path, data, size, builder, diags, ref_file,
			       ref_line, ref_column);
	free(data);
	return ret;
}

int mw_netlist_parse(const char *path, const char *data, size_t size,
		     struct mw_addrset_builder *builder, struct mw_diags *diags,
		     const char *ref_file, unsigned int ref_line,
		     unsigned int ref_column)
{
	char error[MW_ERROR_SIZE], entry[MW_PREFIX_STRLEN + 16];
	char canon[MW_PREFIX_STRLEN];
	struct mw_prefix prefix;
	const char *line, *end, *eol, *next, *start, *stop, *rest, *nul;
	unsigned int lineno = 0, entries = 0;
	bool host_bits, failed = false;
	size_t len;

	end = data + size;
	for (line = data; line < end && !mw_diags_full(diags); line = next) {
		lineno++;
		eol = mw_line_end(line, end, &next);
		/* A NUL would end the entry early when it is parsed as a
		   string, silently keeping only its first part. */
		nul = memchr(line, '\0', (size_t)(eol - line));
		if (nul != NULL) {
			mw_diag_error(diags, path, lineno, mw_column(line, nul),
				      "NUL byte in address list");
			failed = true;
			continue;
		}
		for (start = line; start < eol && mw_is_space(*start); start++)
			;
		for (stop = start; stop < eol && !mw_is_space(*stop) && *stop != '#'; stop++)
			;
		if (start == stop)
			continue;	/* blank or comment */
		for (rest = stop; rest < eol && mw_is_space(*rest); rest++)
			;
		if (rest < eol && *rest != '#') {
			mw_diag_error(diags, path, lineno, mw_column(line, rest),
				      "one address or network a line");
			failed = true;
			continue;
		}
		len = (size_t)(stop - start);
		if (len >= sizeof(entry)) {
			mw_diag_error(diags, path, lineno, mw_column(line, start),
				      "'%.20s...' is not an IP address or network",
				      start);
			failed = true;
			continue;
		}
		memcpy(entry, start, len);
		entry[len] = '\0';
		if (mw_prefix_parse(entry, &prefix, &host_bits, error, sizeof(error)) < 0) {
			mw_diag_error(diags, path, lineno, mw_column(line, start),
				      "%s", error);
			failed = true;
			continue;
		}
		if (host_bits) {
			mw_diag_warning(diags, path, lineno, mw_column(line, start),
					"%s has host bits set; it is read as %s",
					entry, mw_prefix_to_str(&prefix, canon,
								sizeof(canon)));
		}
		mw_addrset_builder_add(builder, &prefix);
		entries++;
	}
	if (!failed && entries == 0) {
		mw_diag_warning(diags, ref_file, ref_line, ref_column,
				"%s lists no address", path);
	}
	return failed ? -1 : 0;
}
