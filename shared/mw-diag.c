#include "mw-diag.h"
#include "mw-util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct mw_diags {
	struct mw_diag *items;
	unsigned int count, alloc, errors, warnings;
	unsigned int warnings_dropped;
	bool dropped_reported;
	char *first_error;
};

struct mw_diags *mw_diags_new(void)
{
	return mw_xcalloc(1, sizeof(struct mw_diags));
}

void mw_diags_free(struct mw_diags **_diags)
{
	struct mw_diags *diags = *_diags;
	unsigned int i;

	if (diags == NULL)
		return;
	*_diags = NULL;
	for (i = 0; i < diags->count; i++) {
		free((char *)diags->items[i].file);
		free((char *)diags->items[i].message);
	}
	free(diags->items);
	free(diags->first_error);
	free(diags);
}

bool mw_diags_full(const struct mw_diags *diags)
{
	return diags->errors >= MW_DIAG_MAX_ERRORS;
}

/* Appends one diagnostic; message is taken over. */
static void mw_diag_push(struct mw_diags *diags, enum mw_severity severity,
			 const char *file, unsigned int line,
			 unsigned int column, char *message)
{
	struct mw_diag *diag;

	if (diags->count == diags->alloc) {
		diags->alloc = diags->alloc == 0 ? 8 : diags->alloc * 2;
		diags->items = mw_xreallocarray(diags->items, diags->alloc,
						sizeof(*diags->items));
	}
	diag = &diags->items[diags->count++];
	diag->severity = severity;
	diag->file = file == NULL ? NULL : mw_xstrdup(file);
	diag->line = line;
	diag->column = column;
	diag->message = message;
}

void mw_diag_add(struct mw_diags *diags, enum mw_severity severity,
		 const char *file, unsigned int line, unsigned int column,
		 const char *fmt, ...)
{
	va_list args;
	char *message;

	if (severity == MW_SEVERITY_ERROR && mw_diags_full(diags))
		return;
	if (severity == MW_SEVERITY_WARNING &&
	    diags->warnings >= MW_DIAG_MAX_WARNINGS) {
		diags->warnings_dropped++;
		return;
	}

	va_start(args, fmt);
	if (vasprintf(&message, fmt, args) < 0)
		mw_fatal("out of memory");
	va_end(args);
	mw_diag_push(diags, severity, file, line, column, message);

	if (severity == MW_SEVERITY_WARNING)
		diags->warnings++;
	if (severity == MW_SEVERITY_ERROR && ++diags->errors == MW_DIAG_MAX_ERRORS) {
		mw_diag_push(diags, MW_SEVERITY_WARNING, NULL, 0, 0,
			     mw_xstrdup("too many errors, stopping here"));
	}
}

static void mw_diags_add_dropped(struct mw_diags *diags)
{
	char *message;

	if (diags->warnings_dropped == 0 || diags->dropped_reported)
		return;
	diags->dropped_reported = true;
	if (asprintf(&message, "%u more warning%s not shown",
		     diags->warnings_dropped,
		     diags->warnings_dropped == 1 ? "" : "s") < 0)
		mw_fatal("out of memory");
	mw_diag_push(diags, MW_SEVERITY_WARNING, NULL, 0, 0, message);
}

/* Sort key: files in the order they were first named, then line and
   column.  The lexer, parser and validator report in passes; the reader
   wants the file's order.  The summary (no file) goes last, and idx keeps
   equal places in the order they were reported. */
struct mw_diag_key {
	unsigned int file_rank, line, column, idx;
};

static int mw_diag_key_cmp(const void *a, const void *b)
{
	const struct mw_diag_key *ka = a, *kb = b;

	if (ka->file_rank != kb->file_rank)
		return ka->file_rank < kb->file_rank ? -1 : 1;
	if (ka->line != kb->line)
		return ka->line < kb->line ? -1 : 1;
	if (ka->column != kb->column)
		return ka->column < kb->column ? -1 : 1;
	return ka->idx < kb->idx ? -1 : (ka->idx > kb->idx ? 1 : 0);
}

void mw_diags_sort(struct mw_diags *diags)
{
	struct mw_diag_key *keys;
	struct mw_diag *sorted;
	unsigned int i, j;

	mw_diags_add_dropped(diags);
	if (diags->count < 2)
		return;
	keys = mw_xreallocarray(NULL, diags->count, sizeof(*keys));
	for (i = 0; i < diags->count; i++) {
		const char *file = diags->items[i].file;

		keys[i].file_rank = UINT32_MAX;
		for (j = 0; file != NULL && j <= i; j++) {
			if (diags->items[j].file != NULL &&
			    strcmp(diags->items[j].file, file) == 0) {
				keys[i].file_rank = j;
				break;
			}
		}
		keys[i].line = diags->items[i].line;
		keys[i].column = diags->items[i].column;
		keys[i].idx = i;
	}
	qsort(keys, diags->count, sizeof(*keys), mw_diag_key_cmp);
	sorted = mw_xreallocarray(NULL, diags->alloc, sizeof(*sorted));
	for (i = 0; i < diags->count; i++)
		sorted[i] = diags->items[keys[i].idx];
	free(diags->items);
	diags->items = sorted;
	free(keys);
}

unsigned int mw_diags_count(const struct mw_diags *diags)
{
	return diags->count;
}

unsigned int mw_diags_error_count(const struct mw_diags *diags)
{
	return diags->errors;
}

const struct mw_diag *
mw_diags_get(const struct mw_diags *diags, unsigned int idx)
{
	return idx < diags->count ? &diags->items[idx] : NULL;
}

static void mw_diag_print_location(const struct mw_diag *diag, FILE *out)
{
	if (diag->file == NULL)
		return;
	fputs(diag->file, out);
	if (diag->line > 0) {
		fprintf(out, ":%u", diag->line);
		if (diag->column > 0)
			fprintf(out, ":%u", diag->column);
	}
	fputs(": ", out);
}

void mw_diags_print(const struct mw_diags *diags, FILE *out)
{
	unsigned int i;

	for (i = 0; i < diags->count; i++) {
		const struct mw_diag *diag = &diags->items[i];

		mw_diag_print_location(diag, out);
		fprintf(out, "%s: %s\n",
			diag->severity == MW_SEVERITY_ERROR ? "error" : "warning",
			diag->message);
	}
}

const char *mw_diags_first_error(struct mw_diags *diags)
{
	unsigned int i;
	size_t size;
	FILE *out;

	if (diags->first_error != NULL)
		return diags->first_error;
	for (i = 0; i < diags->count; i++) {
		if (diags->items[i].severity != MW_SEVERITY_ERROR)
			continue;
		out = open_memstream(&diags->first_error, &size);
		if (out == NULL)
			mw_fatal("out of memory");
		mw_diag_print_location(&diags->items[i], out);
		fputs(diags->items[i].message, out);
		fclose(out);
		return diags->first_error;
	}
	return NULL;
}
