#ifndef MW_LEXER_H
#define MW_LEXER_H

#include <stddef.h>

struct mw_arena;
struct mw_diags;

/* Longest line a policy file may have.  Longer ones are rejected rather
   than split: a truncated address list would silently change meaning. */
#define MW_LINE_MAX 4096

enum mw_token_type {
	MW_TOKEN_EOF = 0,
	MW_TOKEN_WORD,
	MW_TOKEN_STRING,	/* "quoted", escapes \" and \\ */
	MW_TOKEN_LBRACE,
	MW_TOKEN_RBRACE,
	MW_TOKEN_EQUALS,
	MW_TOKEN_SEMICOLON,
	MW_TOKEN_NEWLINE,
};

struct mw_token {
	enum mw_token_type type;
	const char *text;	/* WORD and STRING; in the arena */
	unsigned int line, column;	/* column counts characters, from 1 */
};

struct mw_token_list {
	struct mw_token *tokens;	/* ends with MW_TOKEN_EOF */
	unsigned int count;
};

/* Splits a whole file into tokens.  Lexical errors (bytes that are not
   UTF-8, NUL bytes, overlong lines, unterminated strings) are reported
   with file:line:column, the offending line is dropped and lexing goes
   on, so one pass finds them all.  Returns 0, or -1 if any error was
   reported.  The list is always usable. */
int mw_lex(struct mw_arena *arena, struct mw_diags *diags, const char *file,
	   const char *data, size_t size, struct mw_token_list *list_r);

const char *mw_token_type_name(enum mw_token_type type);

#endif
