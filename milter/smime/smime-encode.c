/* Quoted-printable and base64 encoders that write as they go, so a part
   of any size is encoded in constant memory. */

#include <string.h>

#include "mw-smime.h"

static const char mw_smime_b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void mw_smime_b64_init(struct mw_smime_b64 *b64, mw_smime_write_fn *write,
		       void *ctx)
{
	memset(b64, 0, sizeof(*b64));
	b64->write = write;
	b64->ctx = ctx;
}

/* Encodes up to 57 bytes as one line of up to 76 characters + CRLF. */
static int mw_smime_b64_line(struct mw_smime_b64 *b64,
			     const unsigned char *in, size_t len)
{
	char out[80];
	size_t i, n = 0;

	for (i = 0; i + 2 < len; i += 3) {
		out[n++] = mw_smime_b64_alphabet[in[i] >> 2];
		out[n++] = mw_smime_b64_alphabet[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		out[n++] = mw_smime_b64_alphabet[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		out[n++] = mw_smime_b64_alphabet[in[i + 2] & 63];
	}
	if (i < len) {
		unsigned int b1 = i + 1 < len ? in[i + 1] : 0;

		out[n++] = mw_smime_b64_alphabet[in[i] >> 2];
		out[n++] = mw_smime_b64_alphabet[((in[i] & 3) << 4) | (b1 >> 4)];
		out[n++] = i + 1 < len ?
			mw_smime_b64_alphabet[(b1 & 15) << 2] : '=';
		out[n++] = '=';
	}
	out[n++] = '\r';
	out[n++] = '\n';
	return b64->write(b64->ctx, out, n);
}

int mw_smime_b64_update(struct mw_smime_b64 *b64, const void *data,
			size_t size)
{
	const unsigned char *p = data;
	size_t take;

	if (b64->pending_len > 0) {
		take = sizeof(b64->pending) - b64->pending_len;
		if (take > size)
			take = size;
		memcpy(b64->pending + b64->pending_len, p, take);
		b64->pending_len += take;
		p += take;
		size -= take;
		if (b64->pending_len < sizeof(b64->pending))
			return 0;
		if (mw_smime_b64_line(b64, b64->pending, b64->pending_len) < 0)
			return -1;
		b64->pending_len = 0;
	}
	for (; size >= sizeof(b64->pending); p += sizeof(b64->pending),
	     size -= sizeof(b64->pending)) {
		if (mw_smime_b64_line(b64, p, sizeof(b64->pending)) < 0)
			return -1;
	}
	memcpy(b64->pending, p, size);
	b64->pending_len = size;
	return 0;
}

int mw_smime_b64_final(struct mw_smime_b64 *b64)
{
	int ret = 0;

	if (b64->pending_len > 0)
		ret = mw_smime_b64_line(b64, b64->pending, b64->pending_len);
	b64->pending_len = 0;
	return ret;
}

void mw_smime_qp_init(struct mw_smime_qp *qp, mw_smime_write_fn *write,
		      void *ctx)
{
	memset(qp, 0, sizeof(*qp));
	qp->write = write;
	qp->ctx = ctx;
}

static int mw_smime_qp_flush(struct mw_smime_qp *qp)
{
	int ret = qp->out_len == 0 ? 0 :
		qp->write(qp->ctx, qp->out, qp->out_len);

	qp->out_len = 0;
	return ret;
}

/* Makes room for need more bytes in the output buffer. */
static inline int mw_smime_qp_room(struct mw_smime_qp *qp, size_t need)
{
	return qp->out_len + need > sizeof(qp->out) ? mw_smime_qp_flush(qp) : 0;
}

/* Characters that may stand for themselves anywhere (RFC 2045 6.7 rule
   2): printable ASCII but "=". */
static const bool mw_smime_qp_plain[256] = {
	[33 ... 60] = true, [62 ... 126] = true,
};
/* What the fast path copies: the above, and spaces and tabs, which stand
   for themselves everywhere but at the end of a line (the run never
   takes a piece's last character). */
static const bool mw_smime_qp_run[256] = {
	['\t'] = true, [32 ... 60] = true, [62 ... 126] = true,
};

/* Whether c may stand for itself at the current column.  RFC 2045 6.7
   rule 3: white space at the end of a line is encoded.  "From " at the
   start of a line is encoded too, since mbox writers would change it, and
   a leading ".", which some transports mishandle (RFC 2049 section 3);
   both apply after a soft line break as well. */
static inline bool mw_smime_qp_literal(const struct mw_smime_qp *qp,
				       unsigned char c, bool last)
{
	if (mw_smime_qp_plain[c])
		return qp->col != 0 || (c != '.' && c != 'F');
	if (c == ' ' || c == '\t')
		return !last;
	return false;
}

int mw_smime_qp_line(struct mw_smime_qp *qp, const unsigned char *data,
		     size_t len, bool more)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = data[i];
		bool last = !more && i + 1 == len;
		/* White space that ends a piece is encoded as if it ended
		   the line: the next piece may be empty and end it there. */
		bool piece_end = i + 1 == len;

		/* Fast path: a run of characters that stand for themselves,
		   up to column 75, copied at once.  The rules below decide
		   the rest, including the line's last character. */
		if (qp->col > 0 && mw_smime_qp_run[c] && !piece_end) {
			size_t n = 1, room = qp->col < 75 ? 75 - qp->col : 0;

			while (n < room && i + n + 1 < len &&
			       mw_smime_qp_run[data[i + n]])
				n++;
			if (n <= room) {
				if (mw_smime_qp_room(qp, n) < 0)
					return -1;
				memcpy(qp->out + qp->out_len, data + i, n);
				qp->out_len += n;
				qp->col += n;
				i += n - 1;
				continue;
			}
		}
		/* The last character may use column 76; others leave room
		   for the "=" of a soft line break. */
		size_t limit = last ? 76 : 75;
		size_t n = mw_smime_qp_literal(qp, c, piece_end) ? 1 : 3;

		/* At most a soft line break and an escape: 6 bytes. */
		if (mw_smime_qp_room(qp, 6) < 0)
			return -1;
		if (qp->col + n > limit) {
			memcpy(qp->out + qp->out_len, "=\r\n", 3);
			qp->out_len += 3;
			qp->col = 0;
			n = mw_smime_qp_literal(qp, c, piece_end) ? 1 : 3;
		}
		if (n == 1) {
			qp->out[qp->out_len++] = (char)c;
		} else {
			qp->out[qp->out_len++] = '=';
			qp->out[qp->out_len++] = hex[c >> 4];
			qp->out[qp->out_len++] = hex[c & 15];
		}
		qp->col += n;
	}
	if (more)
		return 0;
	if (mw_smime_qp_room(qp, 2) < 0)
		return -1;
	memcpy(qp->out + qp->out_len, "\r\n", 2);
	qp->out_len += 2;
	qp->col = 0;
	return mw_smime_qp_flush(qp);
}
