/* The key table: address (or "@domain") to certificate, private key and
   chain files.  A table is immutable once loaded and shared by reference
   between the messages in flight; a reload builds a new one. */

#include <limits.h>
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
	char *dir;		/* the table's directory, for relative paths */
	mw_smime_warn_fn *warn;
	void *warn_ctx;
};

/* A path of the table, relative ones taken from the table's own
   directory (the daemon runs in /), into buf. */
static int mw_smime_keytable_path(const struct mw_smime_keytable_load_ctx *ctx,
				  const char *field, char *buf, size_t size)
{
	int n;

	if (field[0] == '/')
		n = snprintf(buf, size, "%s", field);
	else
		n = snprintf(buf, size, "%s/%s", ctx->dir, field);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* The domain compares case-insensitively, so it is kept in lower case;
   the local part stays as the table spells it (RFC 5321 2.4). */
static void mw_smime_lower_domain(char *address)
{
	char *p = strrchr(address, '@');

	for (; p != NULL && *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
}

/* One line: "address cert key [chain] [links=follow]".  Problems are
   reported and the line skipped; only running out of memory fails. */
static int mw_smime_keytable_line(void *context, unsigned int lineno,
				  char *line, char *load_error,
				  size_t load_error_size)
{
	struct mw_smime_keytable_load_ctx *ctx = context;
	struct mw_smime_keytable *table = ctx->table;
	const char *path = ctx->path;
	mw_smime_warn_fn *warn = ctx->warn;
	void *warn_ctx = ctx->warn_ctx;
	char *fields[6], *save = NULL, *p;
	char error[1024], msg[2048];
	char paths[3][PATH_MAX];
	const struct mw_smime_key *other;
	struct mw_smime_key *key;
	bool follow_links = false;
	unsigned int n = 0, i;

	for (p = strtok_r(line, " \t\r\n", &save); p != NULL && n < 6;
	     p = strtok_r(NULL, " \t\r\n", &save)) {
		if (strncmp(p, "links=", 6) == 0) {
			if (strcmp(p + 6, "follow") != 0) {
				snprintf(msg, sizeof(msg), "%s:%u: unknown "
					 "option %s (links=follow is known); "
					 "entry skipped", path, lineno, p);
				warn(warn_ctx, msg);
				return 0;
			}
			follow_links = true;
			continue;
		}
		fields[n++] = p;
	}
	if (n == 0 && !follow_links)
		return 0;
	if (n < 3 || n > 4 || strchr(fields[0], '@') == NULL) {
		snprintf(msg, sizeof(msg), "%s:%u: expected \"address "
			 "certificate key [chain] [links=follow]\"; entry "
			 "skipped", path, lineno);
		warn(warn_ctx, msg);
		return 0;
	}
	mw_smime_lower_domain(fields[0]);
	other = mw_smime_keytable_lookup(table, fields[0]);
	if (other != NULL && strcasecmp(other->address, fields[0]) == 0) {
		snprintf(msg, sizeof(msg), "%s:%u: %s listed twice; entry skipped",
			 path, lineno, fields[0]);
		warn(warn_ctx, msg);
		return 0;
	}
	for (i = 1; i < n; i++) {
		if (mw_smime_keytable_path(ctx, fields[i], paths[i - 1],
					   sizeof(paths[i - 1])) < 0) {
			snprintf(msg, sizeof(msg), "%s:%u: path too long; "
				 "entry skipped", path, lineno);
			warn(warn_ctx, msg);
			return 0;
		}
	}
	if (mw_smime_key_load(fields[0], paths[0], paths[1],
			      n == 4 ? paths[2] : NULL, follow_links, &key,
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
	char *slash;
	int ret;

	ctx.table = calloc(1, sizeof(*ctx.table));
	if (ctx.table == NULL) {
		snprintf(error, error_size, "out of memory");
		return -1;
	}
	ctx.table->refcount = 1;
	ctx.dir = strdup(path);
	if (ctx.dir == NULL) {
		mw_smime_keytable_free(ctx.table);
		snprintf(error, error_size, "out of memory");
		return -1;
	}
	slash = strrchr(ctx.dir, '/');
	if (slash == NULL)
		strcpy(ctx.dir, ".");
	else if (slash == ctx.dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	ret = mw_smime_file_lines(path, mw_smime_keytable_line, &ctx,
				  error, error_size);
	free(ctx.dir);
	if (ret < 0) {
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

/* The entry spelled like address (domain in any case) wins over one that
   differs only in the case of the local part, which wins over the
   domain's default. */
const struct mw_smime_key *
mw_smime_keytable_lookup(const struct mw_smime_keytable *table,
			 const char *address)
{
	const char *domain = strrchr(address, '@');
	const struct mw_smime_key *domain_key = NULL, *folded = NULL;
	size_t local_len = domain != NULL ? (size_t)(domain - address) : 0;
	unsigned int i;

	for (i = 0; i < table->count; i++) {
		const char *a = table->keys[i]->address;

		if (strcasecmp(a, address) == 0) {
			if (strncmp(a, address, local_len) == 0)
				return table->keys[i];
			if (folded == NULL)
				folded = table->keys[i];
		}
		if (domain != NULL && a[0] == '@' && strcasecmp(a, domain) == 0)
			domain_key = table->keys[i];
	}
	return folded != NULL ? folded : domain_key;
}
