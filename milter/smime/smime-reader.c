/* Reading a spool line by line.  Lines longer than the buffer come in
   pieces, so memory stays bounded whatever the input. */

#include <string.h>

#include "mw-smime.h"

void mw_smime_reader_init(struct mw_smime_reader *reader,
			  const struct mw_smime_spool *spool,
			  uint64_t start, uint64_t end)
{
	reader->spool = spool;
	reader->pos = start;
	reader->end = end;
	reader->buf_offset = start;
	reader->buf_len = 0;
	reader->in_line = false;
}

void mw_smime_reader_seek(struct mw_smime_reader *reader, uint64_t offset)
{
	reader->pos = offset;
	reader->in_line = false;
}

/* Makes buf hold the bytes from reader->pos on, as many as fit. */
static int mw_smime_reader_fill(struct mw_smime_reader *reader,
				char *error, size_t error_size)
{
	uint64_t want = reader->end - reader->pos;
	size_t got;

	if (reader->pos >= reader->buf_offset &&
	    reader->pos - reader->buf_offset < reader->buf_len &&
	    (reader->buf_offset + reader->buf_len >= reader->end ||
	     reader->buf_len - (reader->pos - reader->buf_offset) >= 1000))
		return 0;
	if (want > sizeof(reader->buf))
		want = sizeof(reader->buf);
	if (mw_smime_spool_pread(reader->spool, reader->pos, reader->buf,
				 (size_t)want, &got, error, error_size) < 0)
		return -1;
	reader->buf_offset = reader->pos;
	reader->buf_len = got;
	return 0;
}

int mw_smime_reader_next(struct mw_smime_reader *reader,
			 struct mw_smime_line *line_r,
			 char *error, size_t error_size)
{
	const unsigned char *start, *lf;
	size_t avail, len;

	if (reader->pos >= reader->end)
		return 0;
	if (mw_smime_reader_fill(reader, error, error_size) < 0)
		return -1;
	start = reader->buf + (reader->pos - reader->buf_offset);
	avail = reader->buf_len - (size_t)(reader->pos - reader->buf_offset);
	if (avail == 0) {
		snprintf(error, error_size, "spool shorter than expected");
		return -1;
	}
	/* A line that did not fit is read again from its start, so the
	   buffer holds it whole whenever it can. */
	if (avail < sizeof(reader->buf) &&
	    reader->pos + avail < reader->end &&
	    memchr(start, '\n', avail) == NULL) {
		reader->buf_len = 0;
		if (mw_smime_reader_fill(reader, error, error_size) < 0)
			return -1;
		start = reader->buf;
		avail = reader->buf_len;
	}
	lf = memchr(start, '\n', avail);
	line_r->continued = reader->in_line;
	line_r->offset = reader->pos;
	line_r->data = start;
	if (lf != NULL) {
		len = (size_t)(lf - start);
		line_r->eol_len = 1;
		if (len > 0 && start[len - 1] == '\r') {
			len--;
			line_r->eol_len = 2;
		}
		reader->pos += (size_t)(lf - start) + 1;
		reader->in_line = false;
	} else {
		len = avail;
		/* Keep a CR that may pair with an LF in the next piece. */
		if (len > 1 && start[len - 1] == '\r' &&
		    reader->pos + len < reader->end)
			len--;
		line_r->eol_len = 0;
		reader->pos += len;
		reader->in_line = reader->pos < reader->end;
	}
	line_r->len = len;
	return 1;
}
