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

/* Largest policy or address list file. */
#define MW_FILE_SIZE_MAX (256 * 1024 * 1024)

/* Reads a whole file of at most max_size bytes into a NUL-terminated
   malloc()ed buffer.  Returns 0, or -1 with the system's reason (or "file
   is empty" if !allow_empty) in error[], and errno EFBIG if the file is
   larger than max_size.  st_r (may be NULL) gets the
   fstat() of the descriptor read, so that checks on it are about the
   very file whose bytes were read. */
struct stat;
int mw_read_file(const char *path, bool allow_empty, size_t max_size,
		 char **data_r, size_t *size_r, struct stat *st_r,
		 char *error, size_t error_size);

/* Who besides the owner can change what a file says: its own mode, and
   a parent directory in which others may replace it. */
enum mw_file_writers {
	MW_WRITERS_OWNER,
	MW_WRITERS_GROUP,	/* the file or its directory is group-writable */
	MW_WRITERS_OTHERS,	/* the file, or its directory without the
				   sticky bit, is world-writable */
};
/* st is the file's fstat(); the directory is looked up by path.  why[]
   names the writable one. */
enum mw_file_writers mw_file_writers(const char *path, const struct stat *st,
				     char *why, size_t why_size);
/* End of the line that starts at p: LF, CRLF or a bare CR, so that a file
   with old Mac line ends is read line by line instead of as one long
   comment.  *next_r is where the following line starts. */
const char *mw_line_end(const char *p, const char *end, const char **next_r);
/* path resolved against the directory of base_file, unless absolute. */
char *mw_path_relative_to(const char *base_file, const char *path);

#endif
