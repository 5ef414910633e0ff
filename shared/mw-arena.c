#include "mw-arena.h"
#include "mw-util.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MW_ARENA_CHUNK_SIZE (16 * 1024)
#define MW_ARENA_ALIGN 16

struct mw_arena_chunk {
	struct mw_arena_chunk *next;
	size_t size, used;
	_Alignas(MW_ARENA_ALIGN) unsigned char data[];
};

struct mw_arena {
	struct mw_arena_chunk *chunks;
};

struct mw_arena *mw_arena_new(void)
{
	return mw_xcalloc(1, sizeof(struct mw_arena));
}

void mw_arena_free(struct mw_arena **_arena)
{
	struct mw_arena *arena = *_arena;
	struct mw_arena_chunk *chunk, *next;

	if (arena == NULL)
		return;
	*_arena = NULL;
	for (chunk = arena->chunks; chunk != NULL; chunk = next) {
		next = chunk->next;
		free(chunk);
	}
	free(arena);
}

void *mw_arena_alloc(struct mw_arena *arena, size_t size)
{
	struct mw_arena_chunk *chunk = arena->chunks;
	size_t chunk_size;
	void *ptr;

	size = (size + MW_ARENA_ALIGN - 1) & ~(size_t)(MW_ARENA_ALIGN - 1);
	if (size == 0)
		size = MW_ARENA_ALIGN;
	if (chunk == NULL || chunk->size - chunk->used < size) {
		/* Large objects (address tables) get a chunk of their own,
		   placed behind the current one so its free space stays
		   usable. */
		chunk_size = size > MW_ARENA_CHUNK_SIZE / 4 ?
			size : MW_ARENA_CHUNK_SIZE;
		chunk = mw_xcalloc(1, sizeof(*chunk) + chunk_size);
		chunk->size = chunk_size;
		if (arena->chunks != NULL && chunk_size != MW_ARENA_CHUNK_SIZE) {
			chunk->next = arena->chunks->next;
			arena->chunks->next = chunk;
		} else {
			chunk->next = arena->chunks;
			arena->chunks = chunk;
		}
	}
	ptr = chunk->data + chunk->used;
	chunk->used += size;
	return ptr;
}

char *mw_arena_strndup(struct mw_arena *arena, const char *str, size_t len)
{
	char *dup = mw_arena_alloc(arena, len + 1);

	memcpy(dup, str, len);
	dup[len] = '\0';
	return dup;
}

char *mw_arena_strdup(struct mw_arena *arena, const char *str)
{
	return mw_arena_strndup(arena, str, strlen(str));
}

char *mw_arena_printf(struct mw_arena *arena, const char *fmt, ...)
{
	va_list args;
	char *str;
	int len;

	va_start(args, fmt);
	len = vsnprintf(NULL, 0, fmt, args);
	va_end(args);
	if (len < 0)
		mw_fatal("vsnprintf(%s) failed", fmt);

	str = mw_arena_alloc(arena, (size_t)len + 1);
	va_start(args, fmt);
	vsnprintf(str, (size_t)len + 1, fmt, args);
	va_end(args);
	return str;
}
