/*
 * The entity that gets signed.  RFC 8551 3.1.1 and 3.1.3: the signed data
 * must survive any transport unchanged, so every part is put into a 7-bit
 * transfer encoding, lines end in CRLF and are at most 998 characters
 * (RFC 5322 2.1.1).  Parts that already satisfy this are copied byte for
 * byte; others are re-encoded, text as quoted-printable (readable, and
 * line structure kept), anything else as base64.
 *
 * The body is read twice per leaf part: once to decide, once to emit.
 * Nothing but one header block and fixed buffers is held in memory.
 */

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mw-smime.h"

#define MW_SMIME_MAX_DEPTH 32
#define MW_SMIME_MAX_HEADER_BLOCK (256 * 1024)
#define MW_SMIME_MAX_LINE 998	/* RFC 5322 2.1.1, without CRLF */

/* One header block, as CRLF-terminated lines. */
struct mw_smime_hblock {
	char *data;
	size_t len, alloc;
	bool blank_line;	/* the block ended with an empty line */
};

struct mw_smime_canon {
	const struct mw_smime_spool *body;
	mw_smime_write_fn *write;
	void *ctx;
	const char *avoid;
	size_t avoid_len;
	bool avoid_seen;
	const char *bounds[MW_SMIME_MAX_DEPTH];
	unsigned int depth;
	struct mw_smime_canon_stats stats;
	char *error;
	size_t error_size;
	struct mw_smime_reader reader;	/* the structure */
	struct mw_smime_reader emit;	/* a leaf's content, second pass */
	size_t out_len;
	unsigned char out[64 * 1024];
};

/* What a leaf part's content needs, from the first pass, and the sizes
   it would have as quoted-printable and as base64 (CRLF line ends). */
struct mw_smime_scan {
	bool eight_bit, nul, bare_cr, long_line, trailing_ws, from_line;
	uint64_t qp_size, raw_size;
};

/* --- output --------------------------------------------------------------- */

static int mw_smime_canon_flush(struct mw_smime_canon *c)
{
	if (c->out_len > 0 && c->write(c->ctx, c->out, c->out_len) < 0) {
		snprintf(c->error, c->error_size, "writing the signed entity failed");
		return -1;
	}
	c->out_len = 0;
	return 0;
}

static int mw_smime_canon_out(void *ctx, const void *data, size_t size)
{
	struct mw_smime_canon *c = ctx;

	if (c->out_len + size > sizeof(c->out)) {
		if (mw_smime_canon_flush(c) < 0)
			return -1;
		if (size > sizeof(c->out)) {
			if (c->write(c->ctx, data, size) < 0) {
				snprintf(c->error, c->error_size,
					 "writing the signed entity failed");
				return -1;
			}
			return 0;
		}
	}
	memcpy(c->out + c->out_len, data, size);
	c->out_len += size;
	return 0;
}

/* The start of an output line: note whether it could be taken for the
   caller's boundary (RFC 2046 5.1.1: only at the start of a line). */
static void mw_smime_canon_check_avoid(struct mw_smime_canon *c,
				       const unsigned char *data, size_t len)
{
	if (c->avoid_len > 0 && len >= c->avoid_len + 2 &&
	    data[0] == '-' && data[1] == '-' &&
	    memcmp(data + 2, c->avoid, c->avoid_len) == 0)
		c->avoid_seen = true;
}

static int mw_smime_canon_line(struct mw_smime_canon *c, const void *data,
			       size_t len)
{
	mw_smime_canon_check_avoid(c, data, len);
	if (mw_smime_canon_out(c, data, len) < 0 ||
	    mw_smime_canon_out(c, "\r\n", 2) < 0)
		return -1;
	return 0;
}

/* The encoders' output: base64 and quoted-printable lines never start
   with "--", so only the raw paths need the boundary check. */
static int mw_smime_canon_encoded(void *ctx, const void *data, size_t size)
{
	return mw_smime_canon_out(ctx, data, size);
}

/* --- lines and boundaries ------------------------------------------------- */

static int mw_smime_canon_next(struct mw_smime_canon *c,
			       struct mw_smime_reader *reader,
			       struct mw_smime_line *line_r)
{
	return mw_smime_reader_next(reader, line_r, c->error, c->error_size);
}

/* The enclosing multipart whose delimiter line this is (RFC 2046 5.1.1:
   "--" boundary, "--" for the close, then only white space), innermost
   first; -1 for an ordinary line. */
static int mw_smime_canon_boundary(const struct mw_smime_canon *c,
				   const struct mw_smime_line *line,
				   bool *close_r)
{
	unsigned int i;

	if (line->continued || line->len < 2 || line->data[0] != '-' ||
	    line->data[1] != '-')
		return -1;
	for (i = c->depth; i > 0; i--) {
		const char *b = c->bounds[i - 1];
		size_t blen = strlen(b), pos = 2 + blen;

		if (line->len < pos || memcmp(line->data + 2, b, blen) != 0)
			continue;
		*close_r = false;
		if (line->len >= pos + 2 && line->data[pos] == '-' &&
		    line->data[pos + 1] == '-') {
			*close_r = true;
			pos += 2;
		}
		for (; pos < line->len; pos++) {
			if (line->data[pos] != ' ' && line->data[pos] != '\t')
				break;
		}
		if (pos == line->len)
			return (int)i - 1;
	}
	return -1;
}

/* RFC 2045 2.7: no NUL, no 8-bit byte, and CR only in the line end. */
static bool mw_smime_line_is_7bit(const struct mw_smime_line *line)
{
	size_t i;

	for (i = 0; i < line->len; i++) {
		if (line->data[i] == 0 || line->data[i] >= 0x80 ||
		    line->data[i] == '\r')
			return false;
	}
	return true;
}

/* --- header blocks ------------------------------------------------------- */

static int mw_smime_hblock_add(struct mw_smime_canon *c,
			       struct mw_smime_hblock *hb,
			       const void *data, size_t len)
{
	if (hb->len + len > MW_SMIME_MAX_HEADER_BLOCK) {
		snprintf(c->error, c->error_size, "header block too large");
		return -1;
	}
	if (hb->len + len > hb->alloc) {
		size_t alloc = hb->alloc == 0 ? 1024 : hb->alloc;
		char *p;

		while (alloc < hb->len + len)
			alloc *= 2;
		p = realloc(hb->data, alloc);
		if (p == NULL) {
			snprintf(c->error, c->error_size, "out of memory");
			return -1;
		}
		hb->data = p;
		hb->alloc = alloc;
	}
	memcpy(hb->data + hb->len, data, len);
	hb->len += len;
	return 0;
}

/* Calls fn for each field of the block: its name length and its whole
   text (all of its lines, CRLF included). */
typedef int mw_smime_field_fn(struct mw_smime_canon *c, const char *field,
			      size_t name_len, size_t len, void *ctx);

static int mw_smime_hblock_fields(struct mw_smime_canon *c,
				  const struct mw_smime_hblock *hb,
				  mw_smime_field_fn *fn, void *ctx)
{
	size_t pos = 0;

	while (pos < hb->len) {
		size_t start = pos, name_len;
		const char *colon;

		/* A field runs to the next line not starting with white
		   space (RFC 5322 2.2.3). */
		do {
			const char *lf = memchr(hb->data + pos, '\n',
						hb->len - pos);
			pos = (size_t)(lf - hb->data) + 1;
		} while (pos < hb->len &&
			 (hb->data[pos] == ' ' || hb->data[pos] == '\t'));
		colon = memchr(hb->data + start, ':', pos - start);
		name_len = colon == NULL ? 0 : (size_t)(colon - (hb->data + start));
		if (fn(c, hb->data + start, name_len, pos - start, ctx) < 0)
			return -1;
	}
	return 0;
}

static bool mw_smime_field_is(const char *field, size_t name_len,
			      const char *name)
{
	return name_len == strlen(name) &&
		strncasecmp(field, name, name_len) == 0;
}

static int mw_smime_field_parse(struct mw_smime_canon *c, const char *field,
				size_t name_len, size_t len, void *ctx)
{
	struct mw_smime_ctype *ct = ctx;
	const char *value = field + name_len + 1;
	size_t value_len = len - name_len - 1;

	if (name_len == 0)
		return 0;
	if (mw_smime_field_is(field, name_len, "Content-Type")) {
		/* A type that does not parse keeps the default, which RFC
		   2045 5.2 allows. */
		(void)mw_smime_ctype_parse(ct, value, value_len);
	} else if (mw_smime_field_is(field, name_len,
				     "Content-Transfer-Encoding")) {
		ct->cte = mw_smime_cte_parse(value, value_len);
	}
	return 0;
}

static const char *mw_smime_cte_name(enum mw_smime_cte cte)
{
	switch (cte) {
	case MW_SMIME_CTE_QP:
		return "quoted-printable";
	case MW_SMIME_CTE_BASE64:
		return "base64";
	default:
		return "7bit";
	}
}

struct mw_smime_emit_ctx {
	const char *new_cte;	/* replaces the field; NULL: keep it */
	bool cte_done;
};

static int mw_smime_field_emit(struct mw_smime_canon *c, const char *field,
			       size_t name_len, size_t len, void *ctx)
{
	struct mw_smime_emit_ctx *ec = ctx;
	const char *p = field, *end = field + len;

	if (ec->new_cte != NULL &&
	    mw_smime_field_is(field, name_len, "Content-Transfer-Encoding")) {
		char line[64];

		/* Only one field says how the part is encoded. */
		if (ec->cte_done)
			return 0;
		ec->cte_done = true;
		snprintf(line, sizeof(line), "Content-Transfer-Encoding: %s",
			 ec->new_cte);
		return mw_smime_canon_line(c, line, strlen(line));
	}
	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)(lf - p);

		if (n > 0 && p[n - 1] == '\r')
			n--;
		/* Copied, not encoded: in the entity a header line is a body
		   line to SMTP, whose clients break lines over 998
		   characters (RFC 5322 2.1.1). */
		if (n > MW_SMIME_MAX_LINE) {
			snprintf(c->error, c->error_size, "header line too long");
			return -1;
		}
		if (mw_smime_canon_line(c, p, n) < 0)
			return -1;
		p = lf + 1;
	}
	return 0;
}

static int mw_smime_hblock_emit(struct mw_smime_canon *c,
				const struct mw_smime_hblock *hb,
				const char *new_cte)
{
	struct mw_smime_emit_ctx ec = { .new_cte = new_cte };
	char line[64];

	if (mw_smime_hblock_fields(c, hb, mw_smime_field_emit, &ec) < 0)
		return -1;
	if (new_cte != NULL && !ec.cte_done) {
		snprintf(line, sizeof(line), "Content-Transfer-Encoding: %s",
			 new_cte);
		if (mw_smime_canon_line(c, line, strlen(line)) < 0)
			return -1;
	}
	if (hb->blank_line && mw_smime_canon_line(c, "", 0) < 0)
		return -1;
	return 0;
}

/* Reads a body part's header block (RFC 2046 5.1.1: it may be empty). */
static int mw_smime_hblock_read(struct mw_smime_canon *c,
				struct mw_smime_hblock *hb)
{
	struct mw_smime_line line;
	bool close;
	int ret;

	while ((ret = mw_smime_canon_next(c, &c->reader, &line)) > 0) {
		if (line.eol_len == 0 && line.offset + line.len < c->reader.end) {
			snprintf(c->error, c->error_size,
				 "header line too long");
			return -1;
		}
		if (mw_smime_canon_boundary(c, &line, &close) >= 0) {
			/* No body: the part ends here. */
			mw_smime_reader_seek(&c->reader, line.offset);
			return 0;
		}
		if (line.len == 0) {
			hb->blank_line = true;
			return 0;
		}
		if (line.data[0] != ' ' && line.data[0] != '\t' &&
		    memchr(line.data, ':', line.len) == NULL) {
			snprintf(c->error, c->error_size,
				 "body part header line without a colon");
			return -1;
		}
		/* Header lines are copied as they are, and neither NUL nor a
		   CR outside the line end survives transport (RFC 5322
		   2.2); 8-bit text may (RFC 6532). */
		if (memchr(line.data, '\0', line.len) != NULL ||
		    memchr(line.data, '\r', line.len) != NULL) {
			snprintf(c->error, c->error_size,
				 "NUL or bare CR in a body part header");
			return -1;
		}
		if (mw_smime_hblock_add(c, hb, line.data, line.len) < 0 ||
		    mw_smime_hblock_add(c, hb, "\r\n", 2) < 0)
			return -1;
	}
	return ret;
}

/* --- leaf parts ---------------------------------------------------------- */

/* What each byte means to the first pass, so that one loop over a line
   finds all of it. */
enum {
	MW_SMIME_B_8BIT = 1,
	MW_SMIME_B_NUL = 2,
	MW_SMIME_B_CR = 4,
	MW_SMIME_B_QP_ESCAPE = 8,	/* three characters in quoted-printable */
};

static unsigned char mw_smime_byte_class(unsigned int ch)
{
	unsigned char cls = 0;

	if (ch >= 0x80)
		cls |= MW_SMIME_B_8BIT;
	if (ch == 0)
		cls |= MW_SMIME_B_NUL;
	if (ch == '\r')
		cls |= MW_SMIME_B_CR;
	if (ch >= 0x80 || ch == '=' || (ch < 32 && ch != '\t') || ch == 127)
		cls |= MW_SMIME_B_QP_ESCAPE;
	return cls;
}

static unsigned char mw_smime_classes[256];
static pthread_once_t mw_smime_classes_once = PTHREAD_ONCE_INIT;

static void mw_smime_classes_init(void)
{
	unsigned int i;

	for (i = 0; i < 256; i++)
		mw_smime_classes[i] = mw_smime_byte_class(i);
}

static const unsigned char *mw_smime_byte_classes(void)
{
	(void)pthread_once(&mw_smime_classes_once, mw_smime_classes_init);
	return mw_smime_classes;
}

/* One line for the first pass: the kinds of bytes in it, and its size
   as quoted-printable, where a byte that needs escaping takes three
   characters and every 75 characters a soft line break three more (RFC
   2045 6.7). */
static void mw_smime_scan_line(struct mw_smime_scan *scan,
			       const struct mw_smime_line *line,
			       bool line_ends)
{
	const unsigned char *table = mw_smime_byte_classes();
	unsigned int seen = 0;
	uint64_t qp = line->len;
	size_t i;

	for (i = 0; i < line->len; i++) {
		unsigned char cls = table[line->data[i]];

		seen |= cls;
		qp += (cls & MW_SMIME_B_QP_ESCAPE) >> 2;	/* 2 more */
	}
	if ((seen & MW_SMIME_B_8BIT) != 0)
		scan->eight_bit = true;
	if ((seen & MW_SMIME_B_NUL) != 0)
		scan->nul = true;
	/* A CR ending a piece may pair with the LF of the next one. */
	if ((seen & MW_SMIME_B_CR) != 0 &&
	    (line_ends || line->data[line->len - 1] != '\r' ||
	     memchr(line->data, '\r', line->len - 1) != NULL))
		scan->bare_cr = true;
	qp += qp / 75 * 3;
	scan->qp_size += qp + (line_ends ? 2 : 0);
	scan->raw_size += line->len + (line_ends ? 2 : 0);
}

/* Base64 of n bytes in lines of 76 characters (57 bytes) with CRLF. */
static uint64_t mw_smime_base64_size(uint64_t n)
{
	return (n + 2) / 3 * 4 + (n + 56) / 57 * 2;
}

/* First pass: reads to the end of the part (the next delimiter line of
   any enclosing multipart, left unread, or the end) and notes what the
   content needs. */
static int mw_smime_leaf_scan(struct mw_smime_canon *c, bool is_text,
			      struct mw_smime_scan *scan, uint64_t *end_r)
{
	struct mw_smime_line line;
	size_t line_len = 0;
	bool close;
	int ret;

	memset(scan, 0, sizeof(*scan));
	while ((ret = mw_smime_canon_next(c, &c->reader, &line)) > 0) {
		bool line_ends;

		if (mw_smime_canon_boundary(c, &line, &close) >= 0) {
			mw_smime_reader_seek(&c->reader, line.offset);
			break;
		}
		/* The body's last line may lack a line end; the second pass
		   ends it with CRLF, so it is judged as a whole line. */
		line_ends = line.eol_len > 0 || c->reader.pos >= c->reader.end;
		mw_smime_scan_line(scan, &line, line_ends);
		line_len = line.continued ? line_len + line.len : line.len;
		if (line_len > MW_SMIME_MAX_LINE)
			scan->long_line = true;
		if (is_text && !line.continued && line.len >= 5 &&
		    memcmp(line.data, "From ", 5) == 0)
			scan->from_line = true;
		if (is_text && line_ends && line.len > 0 &&
		    (line.data[line.len - 1] == ' ' ||
		     line.data[line.len - 1] == '\t'))
			scan->trailing_ws = true;
	}
	if (ret < 0)
		return -1;
	*end_r = c->reader.pos;
	return 0;
}

enum mw_smime_leaf_action {
	MW_SMIME_LEAF_COPY,
	MW_SMIME_LEAF_QP,
	MW_SMIME_LEAF_BASE64,		/* text: line ends as CRLF */
	MW_SMIME_LEAF_BASE64_EXACT,	/* the bytes as they came */
};

static int mw_smime_leaf_decide(struct mw_smime_canon *c,
				const struct mw_smime_ctype *ct, bool is_text,
				const struct mw_smime_scan *scan,
				enum mw_smime_leaf_action *action_r)
{
	bool unsafe = scan->eight_bit || scan->nul || scan->bare_cr ||
		scan->long_line;

	*action_r = MW_SMIME_LEAF_COPY;
	/* A binary part may hold any bytes, bare line ends included, which
	   only base64 of the exact bytes keeps (RFC 2045 6.2). */
	if (ct->cte == MW_SMIME_CTE_BINARY && scan->raw_size > 0) {
		*action_r = MW_SMIME_LEAF_BASE64_EXACT;
		return 0;
	}
	switch (ct->cte) {
	case MW_SMIME_CTE_QP:
	case MW_SMIME_CTE_BASE64:
	case MW_SMIME_CTE_OTHER:
		/* Already encoded: decoding and re-encoding a broken
		   encoding could change the content, so refuse. */
		if (unsafe) {
			snprintf(c->error, c->error_size,
				 "%s/%s part declared as encoded holds %s",
				 ct->type, ct->subtype,
				 scan->long_line ? "over-long lines" :
				 "8-bit data");
			return -1;
		}
		return 0;
	default:
		break;
	}
	if (!unsafe && !(is_text && (scan->trailing_ws || scan->from_line)))
		return 0;
	if (!is_text) {
		*action_r = MW_SMIME_LEAF_BASE64_EXACT;
		return 0;
	}
	/* Quoted-printable keeps text readable, but text in a non-Latin
	   script triples in size (every byte escaped): base64 then. */
	*action_r = !scan->nul && scan->qp_size * 2 <=
		mw_smime_base64_size(scan->raw_size) * 3 ?
		MW_SMIME_LEAF_QP : MW_SMIME_LEAF_BASE64;
	return 0;
}

/* Second pass: the content from start to end.  Inside a multipart the
   line end before the delimiter belongs to the delimiter (RFC 2046
   5.1.1), so base64 leaves it out. */
static int mw_smime_leaf_emit(struct mw_smime_canon *c,
			      enum mw_smime_leaf_action action,
			      uint64_t start, uint64_t end)
{
	struct mw_smime_line line;
	struct mw_smime_b64 b64;
	struct mw_smime_qp qp;
	int ret;

	mw_smime_b64_init(&b64, mw_smime_canon_encoded, c);
	mw_smime_qp_init(&qp, mw_smime_canon_encoded, c);
	mw_smime_reader_init(&c->emit, c->body, start, end);
	while ((ret = mw_smime_canon_next(c, &c->emit, &line)) > 0) {
		bool at_end = c->emit.pos >= end;
		bool line_ends = line.eol_len > 0 || at_end;

		switch (action) {
		case MW_SMIME_LEAF_COPY:
			if (!line.continued)
				mw_smime_canon_check_avoid(c, line.data, line.len);
			if (mw_smime_canon_out(c, line.data, line.len) < 0 ||
			    (line_ends && mw_smime_canon_out(c, "\r\n", 2) < 0))
				return -1;
			break;
		case MW_SMIME_LEAF_QP:
			if (mw_smime_qp_line(&qp, line.data, line.len,
					     !line_ends) < 0)
				return -1;
			break;
		case MW_SMIME_LEAF_BASE64:
		case MW_SMIME_LEAF_BASE64_EXACT:
			if (mw_smime_b64_update(&b64, line.data, line.len) < 0)
				return -1;
			if (line.eol_len == 0 || (at_end && c->depth > 0))
				break;
			/* The line end is in the buffer after the data. */
			if (mw_smime_b64_update(&b64, action ==
						MW_SMIME_LEAF_BASE64 ? (const
						unsigned char *)"\r\n" :
						line.data + line.len,
						action == MW_SMIME_LEAF_BASE64 ?
						2 : line.eol_len) < 0)
				return -1;
			break;
		}
	}
	if (ret < 0)
		return -1;
	if ((action == MW_SMIME_LEAF_BASE64 ||
	     action == MW_SMIME_LEAF_BASE64_EXACT) && mw_smime_b64_final(&b64) < 0)
		return -1;
	return 0;
}

/* --- entities ------------------------------------------------------------ */

static int mw_smime_entity(struct mw_smime_canon *c,
			   const struct mw_smime_ctype *ct,
			   const struct mw_smime_hblock *hb);

/* Lines outside any part (preamble, epilogue) are copied; they must be
   7-bit already, as there is no encoding for them. */
static int mw_smime_copy_until_boundary(struct mw_smime_canon *c,
					int *level_r, bool *close_r)
{
	struct mw_smime_line line;
	size_t line_len = 0;
	int ret;

	*level_r = -1;
	while ((ret = mw_smime_canon_next(c, &c->reader, &line)) > 0) {
		int level = mw_smime_canon_boundary(c, &line, close_r);

		if (level >= 0) {
			/* The delimiter is copied with its transport padding
			   (RFC 2046 5.1.1), which must not make it over-long;
			   a longer line may also be a piece of one that is no
			   delimiter at all. */
			if (line.len > MW_SMIME_MAX_LINE) {
				snprintf(c->error, c->error_size,
					 "over-long boundary delimiter line");
				return -1;
			}
			*level_r = level;
			if (level + 1 < (int)c->depth)
				mw_smime_reader_seek(&c->reader, line.offset);
			else if (mw_smime_canon_line(c, line.data, line.len) < 0)
				return -1;
			return 0;
		}
		line_len = line.continued ? line_len + line.len : line.len;
		if (!mw_smime_line_is_7bit(&line) || line_len > MW_SMIME_MAX_LINE) {
			snprintf(c->error, c->error_size,
				 "8-bit data, NUL, bare CR or over-long line "
				 "outside any body part");
			return -1;
		}
		if (!line.continued)
			mw_smime_canon_check_avoid(c, line.data, line.len);
		if (mw_smime_canon_out(c, line.data, line.len) < 0 ||
		    ((line.eol_len > 0 || c->reader.pos >= c->reader.end) &&
		     mw_smime_canon_out(c, "\r\n", 2) < 0))
			return -1;
	}
	return ret;
}

/* RFC 2046 5.1: preamble, parts, close delimiter, epilogue.  A missing
   close delimiter is left missing: the output keeps the input's
   structure. */
static int mw_smime_multipart(struct mw_smime_canon *c,
			      const struct mw_smime_ctype *ct)
{
	unsigned int own;
	int level;
	bool close;

	c->bounds[c->depth++] = ct->boundary;
	own = c->depth - 1;
	if (mw_smime_copy_until_boundary(c, &level, &close) < 0)
		return -1;
	while (level == (int)own && !close) {
		struct mw_smime_ctype sub;
		struct mw_smime_hblock hb = { 0 };
		int ret;

		/* RFC 2046 5.1.5: in multipart/digest a part defaults to
		   message/rfc822. */
		mw_smime_ctype_init(&sub);
		if (strcmp(ct->subtype, "digest") == 0) {
			strcpy(sub.type, "message");
			strcpy(sub.subtype, "rfc822");
		}
		ret = mw_smime_hblock_read(c, &hb);
		if (ret == 0)
			ret = mw_smime_hblock_fields(c, &hb, mw_smime_field_parse, &sub);
		if (ret == 0)
			ret = mw_smime_entity(c, &sub, &hb);
		free(hb.data);
		if (ret < 0)
			return -1;
		if (mw_smime_copy_until_boundary(c, &level, &close) < 0)
			return -1;
	}
	if (level == (int)own && close) {
		/* The epilogue runs to an outer delimiter or the end. */
		if (mw_smime_copy_until_boundary(c, &level, &close) < 0)
			return -1;
	}
	c->depth--;
	return 0;
}

/* The transfer encoding field a multipart or message part gets: RFC 2045
   6.4 and RFC 2046 5.2.1 allow only identity encodings there, and once
   every part inside is 7-bit, so is the whole. */
static const char *mw_smime_container_cte(const struct mw_smime_ctype *ct)
{
	return ct->cte == MW_SMIME_CTE_8BIT || ct->cte == MW_SMIME_CTE_BINARY ?
		"7bit" : NULL;
}

static int mw_smime_leaf(struct mw_smime_canon *c,
			 const struct mw_smime_ctype *ct,
			 const struct mw_smime_hblock *hb)
{
	bool is_text = strcmp(ct->type, "text") == 0;
	enum mw_smime_leaf_action action;
	struct mw_smime_scan scan;
	uint64_t start = c->reader.pos, end;
	const char *new_cte;

	if (mw_smime_leaf_scan(c, is_text, &scan, &end) < 0 ||
	    mw_smime_leaf_decide(c, ct, is_text, &scan, &action) < 0)
		return -1;
	c->stats.parts++;
	switch (action) {
	case MW_SMIME_LEAF_QP:
		new_cte = mw_smime_cte_name(MW_SMIME_CTE_QP);
		c->stats.reencoded++;
		break;
	case MW_SMIME_LEAF_BASE64:
	case MW_SMIME_LEAF_BASE64_EXACT:
		new_cte = mw_smime_cte_name(MW_SMIME_CTE_BASE64);
		c->stats.reencoded++;
		break;
	default:
		new_cte = mw_smime_container_cte(ct);
		break;
	}
	if (mw_smime_hblock_emit(c, hb, new_cte) < 0)
		return -1;
	return mw_smime_leaf_emit(c, action, start, end);
}

/* Signed or encrypted content (a multipart/signed, an application/pkcs7-*
   part, at any depth) is copied byte for byte, or the signature inside
   would break: only its line ends become CRLF, which is the form it was
   signed in (RFC 8551 3.1.1).  What is not 7-bit as it stands cannot be
   made so without changing it, so it is refused. */
static int mw_smime_protected(struct mw_smime_canon *c,
			      const struct mw_smime_ctype *ct,
			      const struct mw_smime_hblock *hb)
{
	struct mw_smime_scan scan;
	uint64_t start = c->reader.pos, end;

	if (mw_smime_leaf_scan(c, false, &scan, &end) < 0)
		return -1;
	if (scan.eight_bit || scan.nul || scan.bare_cr || scan.long_line) {
		snprintf(c->error, c->error_size,
			 "signed or encrypted %s/%s part holds %s, which cannot "
			 "be re-encoded without breaking it", ct->type,
			 ct->subtype, scan.long_line ? "over-long lines" :
			 "8-bit data, NUL or bare CR");
		return -1;
	}
	c->stats.parts++;
	c->stats.protected_parts++;
	if (mw_smime_hblock_emit(c, hb, strcmp(ct->type, "multipart") == 0 ?
				 mw_smime_container_cte(ct) : NULL) < 0)
		return -1;
	return mw_smime_leaf_emit(c, MW_SMIME_LEAF_COPY, start, end);
}

static int mw_smime_entity(struct mw_smime_canon *c,
			   const struct mw_smime_ctype *ct,
			   const struct mw_smime_hblock *hb)
{
	if (mw_smime_ctype_is_protected(ct))
		return mw_smime_protected(c, ct, hb);
	if (strcmp(ct->type, "multipart") == 0) {
		/* Without a boundary the parts cannot be told apart, and the
		   whole cannot be encoded either (RFC 2045 6.4). */
		if (ct->boundary[0] == '\0') {
			snprintf(c->error, c->error_size, "multipart/%s %s",
				 ct->subtype, ct->boundary_too_long ?
				 "boundary longer than a line allows" :
				 "without a boundary parameter");
			return -1;
		}
		if (c->depth == MW_SMIME_MAX_DEPTH) {
			snprintf(c->error, c->error_size,
				 "multiparts nested too deeply");
			return -1;
		}
		if (mw_smime_hblock_emit(c, hb, mw_smime_container_cte(ct)) < 0)
			return -1;
		return mw_smime_multipart(c, ct);
	}
	if (strcmp(ct->type, "message") == 0 &&
	    strcmp(ct->subtype, "rfc822") == 0) {
		/* An attached message is an entity of its own; its parts
		   are made 7-bit like ours. */
		struct mw_smime_ctype sub;
		struct mw_smime_hblock inner = { 0 };
		int ret;

		if (mw_smime_hblock_emit(c, hb, mw_smime_container_cte(ct)) < 0)
			return -1;
		mw_smime_ctype_init(&sub);
		ret = mw_smime_hblock_read(c, &inner);
		if (ret == 0)
			ret = mw_smime_hblock_fields(c, &inner,
						     mw_smime_field_parse, &sub);
		if (ret == 0)
			ret = mw_smime_entity(c, &sub, &inner);
		free(inner.data);
		return ret;
	}
	return mw_smime_leaf(c, ct, hb);
}

/* The Content-* fields of the message header, as one block with CRLF
   line ends; folds inside values are kept (RFC 5322 2.2.3). */
static int mw_smime_top_hblock(struct mw_smime_canon *c,
			       const struct mw_smime_header *headers,
			       unsigned int count, struct mw_smime_hblock *hb)
{
	unsigned int i;

	for (i = 0; i < count; i++) {
		const char *v = headers[i].value;

		if (!mw_smime_header_is_content(headers[i].name))
			continue;
		if (mw_smime_hblock_add(c, hb, headers[i].name,
					strlen(headers[i].name)) < 0 ||
		    mw_smime_hblock_add(c, hb, ": ", 2) < 0)
			return -1;
		while (*v != '\0') {
			size_t n = strcspn(v, "\r\n");

			/* Taken as a line end, a lone CR would start a line
			   that is no fold; kept, it would not survive
			   transport. */
			if (v[n] == '\r' && v[n + 1] != '\n') {
				snprintf(c->error, c->error_size,
					 "bare CR in a message header field");
				return -1;
			}
			if (mw_smime_hblock_add(c, hb, v, n) < 0)
				return -1;
			v += n;
			if (*v == '\r')
				v++;
			if (*v == '\n')
				v++;
			if (mw_smime_hblock_add(c, hb, "\r\n", 2) < 0)
				return -1;
		}
		if (headers[i].value[0] == '\0' &&
		    mw_smime_hblock_add(c, hb, "\r\n", 2) < 0)
			return -1;
	}
	hb->blank_line = true;
	return 0;
}

int mw_smime_canon(const struct mw_smime_header *headers,
		   unsigned int header_count,
		   const struct mw_smime_spool *body,
		   mw_smime_write_fn *write, void *ctx, const char *avoid,
		   bool *avoid_seen_r, struct mw_smime_canon_stats *stats_r,
		   char *error, size_t error_size)
{
	struct mw_smime_canon *c;
	struct mw_smime_hblock hb = { 0 };
	struct mw_smime_ctype ct;
	int ret;

	/* The buffers are large and need no clearing. */
	c = malloc(sizeof(*c));
	if (c == NULL) {
		snprintf(error, error_size, "out of memory");
		return -1;
	}
	memset(c, 0, offsetof(struct mw_smime_canon, reader));
	c->out_len = 0;
	c->body = body;
	c->write = write;
	c->ctx = ctx;
	c->avoid = avoid;
	c->avoid_len = avoid != NULL ? strlen(avoid) : 0;
	c->error = error;
	c->error_size = error_size;
	mw_smime_reader_init(&c->reader, body, 0, mw_smime_spool_size(body));
	mw_smime_ctype_init(&ct);

	ret = mw_smime_top_hblock(c, headers, header_count, &hb);
	if (ret == 0)
		ret = mw_smime_hblock_fields(c, &hb, mw_smime_field_parse, &ct);
	if (ret == 0)
		ret = mw_smime_entity(c, &ct, &hb);
	if (ret == 0)
		ret = mw_smime_canon_flush(c);
	if (ret == 0 && c->reader.pos < c->reader.end) {
		/* A delimiter of no open multipart ended the walk early. */
		snprintf(error, error_size, "stray boundary delimiter");
		ret = -1;
	}
	if (ret == 0) {
		*avoid_seen_r = c->avoid_seen;
		if (stats_r != NULL)
			*stats_r = c->stats;
	}
	free(hb.data);
	free(c);
	return ret;
}
