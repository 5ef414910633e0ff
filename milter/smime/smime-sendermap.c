/* Who may sign as whom: a login may always send as the address that is
   its name; a map in the style of Postfix's smtpd_sender_login_maps
   ("address login[,login...]", "@domain" for a whole domain) allows
   more. */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mw-smime.h"

struct mw_smime_sender_entry {
	char *address;		/* lower case */
	char *logins;		/* "login,login" */
};

struct mw_smime_sendermap {
	struct mw_smime_sender_entry *entries;
	unsigned int count;
};

static int mw_smime_sendermap_add(struct mw_smime_sendermap *map,
				  const char *address, const char *logins)
{
	struct mw_smime_sender_entry *e;
	char *p;

	e = realloc(map->entries, (map->count + 1) * sizeof(*e));
	if (e == NULL)
		return -1;
	map->entries = e;
	e = &map->entries[map->count];
	e->address = strdup(address);
	e->logins = strdup(logins);
	if (e->address == NULL || e->logins == NULL) {
		free(e->address);
		free(e->logins);
		return -1;
	}
	for (p = e->address; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	map->count++;
	return 0;
}

struct mw_smime_sendermap_load_ctx {
	struct mw_smime_sendermap *map;
	const char *path;
};

/* One line: "address login[,login...]". */
static int mw_smime_sendermap_line(void *context, unsigned int lineno,
				   char *line, char *error, size_t error_size)
{
	struct mw_smime_sendermap_load_ctx *ctx = context;
	char *save = NULL, *address, *logins;

	address = strtok_r(line, " \t\r\n", &save);
	if (address == NULL)
		return 0;
	/* Logins may be separated by commas, spaces or both. */
	logins = strtok_r(NULL, "\r\n", &save);
	if (logins == NULL || strchr(address, '@') == NULL) {
		snprintf(error, error_size,
			 "%s:%u: expected \"address login[,login...]\"",
			 ctx->path, lineno);
		return -1;
	}
	if (mw_smime_sendermap_add(ctx->map, address, logins) < 0) {
		snprintf(error, error_size, "out of memory");
		return -1;
	}
	return 0;
}

int mw_smime_sendermap_load(const char *path,
			    struct mw_smime_sendermap **map_r,
			    char *error, size_t error_size)
{
	struct mw_smime_sendermap_load_ctx ctx = { .path = path };

	ctx.map = calloc(1, sizeof(*ctx.map));
	if (ctx.map == NULL) {
		snprintf(error, error_size, "out of memory");
		return -1;
	}
	if (mw_smime_file_lines(path, mw_smime_sendermap_line, &ctx,
				error, error_size) < 0) {
		mw_smime_sendermap_free(&ctx.map);
		return -1;
	}
	*map_r = ctx.map;
	return 0;
}

void mw_smime_sendermap_free(struct mw_smime_sendermap **_map)
{
	struct mw_smime_sendermap *map = *_map;
	unsigned int i;

	if (map == NULL)
		return;
	*_map = NULL;
	for (i = 0; i < map->count; i++) {
		free(map->entries[i].address);
		free(map->entries[i].logins);
	}
	free(map->entries);
	free(map);
}

static bool mw_smime_logins_list(const char *logins, const char *login)
{
	size_t len = strlen(login);
	const char *p = logins;

	while (*p != '\0') {
		size_t n;

		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (n == len && n > 0 && strncasecmp(p, login, n) == 0)
			return true;
		p += n;
	}
	return false;
}

bool mw_smime_sender_allowed(const struct mw_smime_sendermap *map,
			     const char *login, const char *address)
{
	const struct mw_smime_sender_entry *domain_entry = NULL;
	const char *domain = strrchr(address, '@');
	unsigned int i;

	/* The map adds rights; it never takes a login's own address away
	   (README, mailward-milter(8)). */
	if (strcasecmp(login, address) == 0)
		return true;
	for (i = 0; map != NULL && i < map->count; i++) {
		const struct mw_smime_sender_entry *e = &map->entries[i];

		if (strcasecmp(e->address, address) == 0)
			return mw_smime_logins_list(e->logins, login);
		if (domain != NULL && strcasecmp(e->address, domain) == 0)
			domain_entry = e;
	}
	if (domain_entry != NULL)
		return mw_smime_logins_list(domain_entry->logins, login);
	return false;
}
