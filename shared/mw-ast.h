#ifndef MW_AST_H
#define MW_AST_H

#include <stdbool.h>
#include <stddef.h>

struct mw_arena;
struct mw_diags;

/* The parser knows only the shape of the language (assignments,
   statements, blocks); what the words mean is the validator's business.
   The split keeps syntax errors and meaning errors apart, as Pigeonhole's
   parser and validator do. */

struct mw_ast_word {
	const char *text;
	bool quoted;
	unsigned int line, column;
};

enum mw_ast_kind {
	MW_AST_ASSIGN,		/* key = value... */
	MW_AST_STATEMENT,	/* word word... */
	MW_AST_BLOCK,		/* word word... { children } */
};

struct mw_ast_node {
	enum mw_ast_kind kind;
	const char *file;
	unsigned int line, column;
	/* ASSIGN: words[0] is the key and the rest its values.
	   STATEMENT: all words.  BLOCK: the words before '{'. */
	const struct mw_ast_word *words;
	unsigned int word_count;
	struct mw_ast_node *children;	/* BLOCK */
	struct mw_ast_node *next;
};

/* Maximum include nesting. */
#define MW_INCLUDE_DEPTH_MAX 16
/* Maximum block nesting.  The language needs two (service { from { } });
   the parser keeps its open blocks in a list, not on the C stack, so a
   deeper file costs an error, never a crash. */
#define MW_BLOCK_DEPTH_MAX 8
/* What one load may read through includes, the top file counted: a file
   that includes another several times over a few levels would otherwise
   expand exponentially. */
#define MW_INCLUDE_FILES_MAX 256
#define MW_INCLUDE_BYTES_MAX (8 * 1024 * 1024)

/* Parses a file and, in place of each top-level "include PATH", the file
   it names (relative to the including file's directory).  Returns 0, or
   -1 if any error was reported; *nodes_r is always set. */
int mw_parse_file(struct mw_arena *arena, struct mw_diags *diags,
		  const char *path, struct mw_ast_node **nodes_r);
int mw_parse_buffer(struct mw_arena *arena, struct mw_diags *diags,
		    const char *name, const char *data, size_t size,
		    struct mw_ast_node **nodes_r);

#endif
