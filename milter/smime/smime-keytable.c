/* The key table: address (or "@domain") to certificate, private key and
   chain files.  A table is immutable once loaded and shared by reference
   between the messages in flight; a reload builds a new one. */

#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "mw-smime.h"

struct mw_smime_keytable {
	int refcount;
	struct mw_smime_key **keys;
	unsigned int count;
};

static void mw_smime_keytable_free(struct mw_smime_keytable *table)
{
	unsigned int i;

	for (i = 0; i < table->count; i++)
		mw_smime_key_free(&table->keys[i]);
	free(table->keys);
	free(table);
}

static int mw_smime_keytable_add(struct mw_smime_keytable *table,
				 struct mw_smime_key *key)
{
	struct mw_smime_key **keys;

	keys = realloc(table->keys, (table->count + 1) * sizeof(*keys));
	if (keys == NULL)
		return -1;
	table->keys = keys;
	table->keys[table->count++] = key;
	return 0;
}

struct mw_smime_keytable_load_ctx {
	struct mw_smime_keytable *table;
	const char *path;
	mw_smime_warn_fn *warn;
	void *warn_ctx;
};

/* One line: "address cert key [chain]".  Problems are reported and the
   line skipped; only running out of memory fails. */
static int mw_smime_keytable_line(void *context, unsigned int lineno,
				  char *line, char *load_error,
				  size_t load_error_size)
{
	struct mw_smime_keytable_load_ctx *ctx = context;
	struct mw_smime_keytable *table = ctx->table;
	const char *path = ctx->path;
	mw_smime_warn_fn *warn = ctx->warn;
	void *warn_ctx = ctx->warn_ctx;
	char *fields[5], *save = NULL, *p;
	char error[512], msg[1024];
	struct mw_smime_key *key;
	unsigned int n = 0;

	for (p = strtok_r(line, " \t\r\n", &save); p != NULL && n < 5;
	     p = strtok_r(NULL, " \t\r\n", &save))
		fields[n++] = p;
	if (n == 0)
		return 0;
	if (n < 3 || n > 4 || strchr(fields[0], '@') == NULL) {
		snprintf(msg, sizeof(msg), "%s:%u: expected "
			 "\"address certificate key [chain]\"; entry skipped",
			 path, lineno);
		warn(warn_ctx, msg);
		return 0;
	}
	for (p = fields[0]; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (mw_smime_keytable_lookup(table, fields[0]) != NULL &&
	    strcasecmp(mw_smime_keytable_lookup(table, fields[0])->address,
		       fields[0]) == 0) {
		snprintf(msg, sizeof(msg), "%s:%u: %s listed twice; entry skipped",
			 path, lineno, fields[0]);
		warn(warn_ctx, msg);
		return 0;
	}
	if (mw_smime_key_load(fields[0], fields[1], fields[2],
			      n == 4 ? fields[3] : NULL, &key,
			      error, sizeof(error)) < 0) {
		snprintf(msg, sizeof(msg), "%s:%u: %s: %s; key skipped",
			 path, lineno, fields[0], error);
		warn(warn_ctx, msg);
		return 0;
	}
	if (mw_smime_keytable_add(table, key) < 0) {
		mw_smime_key_free(&key);
		snprintf(load_error, load_error_size, "out of memory");
		return -1;
	}
	return 0;
}

int mw_smime_keytable_load(const char *path, mw_smime_warn_fn *warn,
			   void *warn_ctx, struct mw_smime_keytable **table_r,
			   char *error, size_t error_size)
{
	struct mw_smime_keytable_load_ctx ctx = {
		.path = path, .warn = warn, .warn_ctx = warn_ctx,
	};

	ctx.table = calloc(1, sizeof(*ctx.table));
	if (ctx.table == NULL) {
		snprintf(error, error_size, "out of memory");
		return -1;
	}
	ctx.table->refcount = 1;
	if (mw_smime_file_lines(path, mw_smime_keytable_line, &ctx,
				error, error_size) < 0) {
		mw_smime_keytable_free(ctx.table);
		return -1;
	}
	*table_r = ctx.table;
	return 0;
}

void mw_smime_keytable_ref(struct mw_smime_keytable *table)
{
	__atomic_add_fetch(&table->refcount, 1, __ATOMIC_RELAXED);
}

void mw_smime_keytable_unref(struct mw_smime_keytable **_table)
{
	struct mw_smime_keytable *table = *_table;

	if (table == NULL)
		return;
	*_table = NULL;
	if (__atomic_sub_fetch(&table->refcount, 1, __ATOMIC_ACQ_REL) == 0)
		mw_smime_keytable_free(table);
}

unsigned int mw_smime_keytable_count(const struct mw_smime_keytable *table)
{
	return table->count;
}

const struct mw_smime_key *
mw_smime_keytable_lookup(const struct mw_smime_keytable *table,
			 const char *address)
{
	const char *domain = strrchr(address, '@');
	const struct mw_smime_key *domain_key = NULL;
	unsigned int i;

	for (i = 0; i < table->count; i++) {
		const char *a = table->keys[i]->address;

		if (strcasecmp(a, address) == 0)
			return table->keys[i];
		if (domain != NULL && a[0] == '@' && strcasecmp(a, domain) == 0)
			domain_key = table->keys[i];
	}
	return domain_key;
}
