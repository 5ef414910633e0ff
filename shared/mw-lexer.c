#include "mw-lexer.h"
#include "mw-arena.h"
#include "mw-diag.h"
#include "mw-util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct mw_lexer {
	struct mw_arena *arena;
	struct mw_diags *diags;
	const char *file;
	struct mw_token *tokens;
	unsigned int count, alloc;
	bool failed;
};

const char *mw_token_type_name(enum mw_token_type type)
{
	switch (type) {
	case MW_TOKEN_EOF: return "end of file";
	case MW_TOKEN_WORD: return "word";
	case MW_TOKEN_STRING: return "string";
	case MW_TOKEN_LBRACE: return "'{'";
	case MW_TOKEN_RBRACE: return "'}'";
	case MW_TOKEN_EQUALS: return "'='";
	case MW_TOKEN_SEMICOLON: return "';'";
	case MW_TOKEN_NEWLINE: return "end of line";
	}
	return "token";
}

static void mw_lexer_push(struct mw_lexer *lex, enum mw_token_type type,
			  const char *text, unsigned int line,
			  unsigned int column)
{
	struct mw_token *tok;

	if (lex->count == lex->alloc) {
		lex->alloc = lex->alloc == 0 ? 64 : lex->alloc * 2;
		lex->tokens = mw_xreallocarray(lex->tokens, lex->alloc,
					       sizeof(*lex->tokens));
	}
	tok = &lex->tokens[lex->count++];
	tok->type = type;
	tok->text = text;
	tok->line = line;
	tok->column = column;
}

/* Length of the UTF-8 sequence at p (at most avail bytes), or 0 if it is
   not well-formed: overlong forms, surrogates and values past U+10FFFF
   are refused, as RFC 3629 requires. */
static size_t mw_utf8_seq_len(const unsigned char *p, size_t avail)
{
	size_t len, i;
	unsigned int cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2; cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3; cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4; cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (avail < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* Checks one line before it is tokenised; returns false (and reports) if
   it must be dropped. */
static bool mw_lexer_check_line(struct mw_lexer *lex, const char *line,
				size_t len, unsigned int lineno)
{
	const unsigned char *p = (const unsigned char *)line;
	unsigned int column = 1;
	size_t i = 0, seq;

	if (len > MW_LINE_MAX) {
		mw_diag_error(lex->diags, lex->file, lineno, MW_LINE_MAX + 1,
			      "line is too long (%zu bytes, at most %u)",
			      len, MW_LINE_MAX);
		return false;
	}
	while (i < len) {
		if (p[i] == '\0') {
			mw_diag_error(lex->diags, lex->file, lineno, column,
				      "NUL byte in policy file");
			return false;
		}
		seq = mw_utf8_seq_len(p + i, len - i);
		if (seq == 0) {
			mw_diag_error(lex->diags, lex->file, lineno, column,
				      "byte 0x%02x is not valid UTF-8", p[i]);
			return false;
		}
		i += seq;
		column++;
	}
	return true;
}

static bool mw_is_word_char(char c)
{
	return c != ' ' && c != '\t' && c != '\r' && c != '\n' &&
		c != '{' && c != '}' && c != '=' && c != ';' && c != '#' &&
		c != '"';
}

static unsigned int mw_columns(const char *start, const char *end)
{
	unsigned int n = 0;

	for (; start < end; start++) {
		if (((unsigned char)*start & 0xc0) != 0x80)
			n++;
	}
	return n;
}

/* Returns false if the string is not terminated on this line. */
static bool mw_lexer_string(struct mw_lexer *lex, const char **_p,
			    const char *end, unsigned int lineno,
			    unsigned int column)
{
	const char *p = *_p + 1;
	char *buf = mw_arena_alloc(lex->arena, (size_t)(end - p) + 1);
	size_t len = 0;

	for (; p < end && *p != '"'; p++) {
		if (*p == '\\' && p + 1 < end && (p[1] == '"' || p[1] == '\\'))
			p++;
		buf[len++] = *p;
	}
	if (p == end) {
		mw_diag_error(lex->diags, lex->file, lineno, column,
			      "unterminated string");
		return false;
	}
	buf[len] = '\0';
	mw_lexer_push(lex, MW_TOKEN_STRING, buf, lineno, column);
	*_p = p + 1;
	return true;
}

static void mw_lexer_line(struct mw_lexer *lex, const char *line,
			  const char *end, unsigned int lineno)
{
	const char *p = line, *start;
	unsigned int column, line_first_token = lex->count;

	while (p < end) {
		column = mw_columns(line, p) + 1;
		switch (*p) {
		case ' ': case '\t': case '\r':
			p++;
			continue;
		case '#':
			return;
		case '{':
			mw_lexer_push(lex, MW_TOKEN_LBRACE, NULL, lineno, column);
			p++;
			continue;
		case '}':
			mw_lexer_push(lex, MW_TOKEN_RBRACE, NULL, lineno, column);
			p++;
			continue;
		case '=':
			mw_lexer_push(lex, MW_TOKEN_EQUALS, NULL, lineno, column);
			p++;
			continue;
		case ';':
			mw_lexer_push(lex, MW_TOKEN_SEMICOLON, NULL, lineno, column);
			p++;
			continue;
		case '"':
			if (!mw_lexer_string(lex, &p, end, lineno, column)) {
				/* Drop the whole line, so its remains do not
				   raise errors of their own. */
				lex->count = line_first_token;
				lex->failed = true;
				return;
			}
			continue;
		}
		start = p;
		while (p < end && mw_is_word_char(*p))
			p++;
		mw_lexer_push(lex, MW_TOKEN_WORD,
			      mw_arena_strndup(lex->arena, start, (size_t)(p - start)),
			      lineno, column);
	}
}

int mw_lex(struct mw_arena *arena, struct mw_diags *diags, const char *file,
	   const char *data, size_t size, struct mw_token_list *list_r)
{
	struct mw_lexer lex = {
		.arena = arena, .diags = diags, .file = file,
	};
	const char *p = data, *end = data + size, *eol, *next;
	unsigned int lineno = 0;
	struct mw_token *copy;

	while (p < end) {
		lineno++;
		eol = mw_line_end(p, end, &next);
		if (mw_lexer_check_line(&lex, p, (size_t)(eol - p), lineno))
			mw_lexer_line(&lex, p, eol, lineno);
		else
			lex.failed = true;
		mw_lexer_push(&lex, MW_TOKEN_NEWLINE, NULL, lineno,
			      mw_columns(p, eol) + 1);
		p = next;
	}
	mw_lexer_push(&lex, MW_TOKEN_EOF, NULL, lineno + 1, 1);

	/* The list lives as long as the arena; the growing buffer does not. */
	copy = MW_ARENA_NEW(arena, struct mw_token, lex.count);
	memcpy(copy, lex.tokens, sizeof(*copy) * lex.count);
	free(lex.tokens);
	list_r->tokens = copy;
	list_r->count = lex.count;
	return lex.failed ? -1 : 0;
}
