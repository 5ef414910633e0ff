#ifndef MSGFILE_H
#define MSGFILE_H

/*
 * A message file split the way Postfix hands a message to a milter:
 * header fields as (name, value) with the space after the colon removed
 * and folds kept as "\n" + white space, then the body bytes untouched.
 * Shared by the test programs (static functions, one user per binary).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mw-smime.h"

struct msgfile {
	struct mw_smime_header headers[256];
	unsigned int header_count;
	unsigned char *body;
	size_t body_size;
	char *data;		/* the file; names and values point into it */
};

static __attribute__((unused)) unsigned char *
msgfile_slurp(const char *path, size_t *size_r)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data = NULL;
	size_t size = 0, alloc = 0, n;

	if (f == NULL)
		return NULL;
	do {
		if (size + 65536 > alloc) {
			alloc = alloc == 0 ? 1 << 20 : alloc * 2;
			data = realloc(data, alloc + 1);
			if (data == NULL) {
				fclose(f);
				return NULL;
			}
		}
		n = fread(data + size, 1, alloc - size, f);
		size += n;
	} while (n > 0);
	fclose(f);
	data[size] = '\0';
	*size_r = size;
	return data;
}

static __attribute__((unused)) void msgfile_free(struct msgfile *m)
{
	unsigned int i;

	for (i = 0; i < m->header_count; i++) {
		free((char *)m->headers[i].name);
		free((char *)m->headers[i].value);
	}
	free(m->data);
	memset(m, 0, sizeof(*m));
}

static __attribute__((unused)) int msgfile_read(const char *path,
						struct msgfile *m)
{
	size_t size, pos = 0;
	char *d;

	memset(m, 0, sizeof(*m));
	m->data = (char *)msgfile_slurp(path, &size);
	if (m->data == NULL)
		return -1;
	d = m->data;
	while (pos < size && d[pos] != '\n' &&
	       !(d[pos] == '\r' && pos + 1 < size && d[pos + 1] == '\n')) {
		size_t start = pos, colon, vstart, i, o;
		char *value;

		/* The field: this line and its continuation lines. */
		do {
			char *lf = memchr(d + pos, '\n', size - pos);

			pos = lf == NULL ? size : (size_t)(lf - d) + 1;
		} while (pos < size && (d[pos] == ' ' || d[pos] == '\t'));
		for (colon = start; colon < pos && d[colon] != ':'; colon++)
			;
		if (colon == pos || m->header_count == 256)
			return -1;
		vstart = colon + 1;
		while (vstart < pos && (d[vstart] == ' ' || d[vstart] == '\t'))
			vstart++;
		value = malloc(pos - vstart + 1);
		for (i = vstart, o = 0; i < pos; i++) {
			if (d[i] != '\r')
				value[o++] = d[i];
		}
		while (o > 0 && value[o - 1] == '\n')
			o--;
		value[o] = '\0';
		m->headers[m->header_count].name = strndup(d + start, colon - start);
		m->headers[m->header_count].value = value;
		m->header_count++;
	}
	pos += d[pos] == '\r' ? 2 : 1;
	if (pos > size)
		pos = size;
	m->body = (unsigned char *)d + pos;
	m->body_size = size - pos;
	return 0;
}

#endif
