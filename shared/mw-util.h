#ifndef MW_UTIL_H
#define MW_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Size of the error buffers that parse functions fill. */
#define MW_ERROR_SIZE 256

#define MW_N_ELEMENTS(arr) (sizeof(arr) / sizeof((arr)[0]))

/* Allocation that cannot fail: out of memory while loading a policy ends
   the process, as in Dovecot's i_malloc(). */
void *mw_xcalloc(size_t nmemb, size_t size);
void *mw_xreallocarray(void *ptr, size_t nmemb, size_t size);
char *mw_xstrdup(const char *str);
void mw_fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/* Edit distance for "did you mean" suggestions. */
unsigned int mw_edit_distance(const char *a, const char *b);


/* True if str must be quoted to read back as one word of a policy file. */
bool mw_word_needs_quotes(const char *str);

/* Reads a whole file into a NUL-terminated malloc()ed buffer.  Returns 0,
   or -1 with the system's reason (or "file is empty" if !allow_empty) in
   error[]. */
int mw_read_file(const char *path, bool allow_empty, char **data_r,
		 size_t *size_r, char *error, size_t error_size);
/* path resolved against the directory of base_file, unless absolute. */
char *mw_path_relative_to(const char *base_file, const char *path);

#endif
