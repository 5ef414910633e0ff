/* The top-level header changes of a signed message.  The fields stay
   where they are (RFC 5322 3.6 sets no order, but people and filters
   rely on it); only the Content-* fields move into the signed entity. */

#include <strings.h>

#include "mw-smime.h"

/* The occurrence of headers[i]'s name among headers[0..i], from 1. */
static unsigned int mw_smime_header_index(const struct mw_smime_header *headers,
					  unsigned int i)
{
	unsigned int j, index = 0;

	for (j = 0; j <= i; j++) {
		if (strcasecmp(headers[j].name, headers[i].name) == 0)
			index++;
	}
	return index;
}

int mw_smime_header_edits(const struct mw_smime_header *headers,
			  unsigned int header_count, const char *content_type,
			  mw_smime_edit_fn *fn, void *ctx)
{
	bool have_ctype = false, have_version = false;
	unsigned int i;

	for (i = header_count; i > 0; i--) {
		const struct mw_smime_header *h = &headers[i - 1];
		unsigned int index = mw_smime_header_index(headers, i - 1);

		if (strcasecmp(h->name, "MIME-Version") == 0)
			have_version = true;
		if (!mw_smime_header_is_content(h->name))
			continue;
		if (strcasecmp(h->name, "Content-Type") == 0 && index == 1) {
			have_ctype = true;
			if (fn(ctx, MW_SMIME_EDIT_CHANGE, h->name, 1,
			       content_type) < 0)
				return -1;
		} else if (fn(ctx, MW_SMIME_EDIT_DELETE, h->name, index,
			      NULL) < 0) {
			return -1;
		}
	}
	if (!have_ctype &&
	    fn(ctx, MW_SMIME_EDIT_ADD, "Content-Type", 0, content_type) < 0)
		return -1;
	if (!have_version &&
	    fn(ctx, MW_SMIME_EDIT_ADD, "MIME-Version", 0, "1.0") < 0)
		return -1;
	return 0;
}
