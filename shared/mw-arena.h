#ifndef MW_ARENA_H
#define MW_ARENA_H

#include <stddef.h>

/* A loaded policy is immutable and freed as a whole, so everything in it
   comes from one arena: no per-object frees, no ownership to track. */
struct mw_arena;

struct mw_arena *mw_arena_new(void);
void mw_arena_free(struct mw_arena **arena);

/* Zero-filled, aligned for any type.  Aborts on out-of-memory, as
   Dovecot's pools do: a half-built policy is never an option. */
void *mw_arena_alloc(struct mw_arena *arena, size_t size);
char *mw_arena_strdup(struct mw_arena *arena, const char *str);
char *mw_arena_strndup(struct mw_arena *arena, const char *str, size_t len);
char *mw_arena_printf(struct mw_arena *arena, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define MW_ARENA_NEW(arena, type, count) \
	((type *)mw_arena_alloc((arena), sizeof(type) * (count)))

#endif
