#include "mw-ast.h"
#include "mw-arena.h"
#include "mw-diag.h"
#include "mw-lexer.h"
#include "mw-util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Files being read, outermost first, to refuse include loops. */
struct mw_include_frame {
	dev_t dev;
	ino_t ino;
};

struct mw_parser {
	struct mw_arena *arena;
	struct mw_diags *diags;
	const char *file;	/* in the arena */
	const struct mw_token *tok;	/* current token */
	struct mw_include_frame *stack;
	unsigned int depth;
	bool failed;
};

static int mw_parse_path(struct mw_parser *outer, const char *path,
			 const struct mw_ast_word *include_word,
			 struct mw_ast_node **nodes_r);

static void mw_parser_error(struct mw_parser *p, const struct mw_token *tok,
			    const char *what)
{
	mw_diag_error(p->diags, p->file, tok->line, tok->column, "%s", what);
	p->failed = true;
}

static void mw_parser_unexpected(struct mw_parser *p, const struct mw_token *tok,
				 const char *context)
{
	mw_diag_error(p->diags, p->file, tok->line, tok->column,
		      "unexpected %s%s", mw_token_type_name(tok->type), context);
	p->failed = true;
}

static bool mw_token_is_word(const struct mw_token *tok)
{
	return tok->type == MW_TOKEN_WORD || tok->type == MW_TOKEN_STRING;
}

static bool mw_token_ends_statement(const struct mw_token *tok)
{
	return tok->type == MW_TOKEN_NEWLINE || tok->type == MW_TOKEN_SEMICOLON ||
		tok->type == MW_TOKEN_RBRACE || tok->type == MW_TOKEN_EOF;
}

/* Error recovery: skip to the end of the statement, so the next line is
   parsed on its own and its errors, if any, are reported too. */
static void mw_parser_skip_statement(struct mw_parser *p)
{
	while (!mw_token_ends_statement(p->tok))
		p->tok++;
}

static struct mw_ast_node *
mw_parser_node(struct mw_parser *p, enum mw_ast_kind kind,
	       const struct mw_token *first, unsigned int word_count)
{
	struct mw_ast_node *node = MW_ARENA_NEW(p->arena, struct mw_ast_node, 1);
	struct mw_ast_word *words =
		MW_ARENA_NEW(p->arena, struct mw_ast_word, word_count);
	const struct mw_token *tok = first;
	unsigned int i;

	for (i = 0; i < word_count; tok++) {
		if (!mw_token_is_word(tok))
			continue;
		words[i].text = tok->text;
		words[i].quoted = tok->type == MW_TOKEN_STRING;
		words[i].line = tok->line;
		words[i].column = tok->column;
		i++;
	}
	node->kind = kind;
	node->file = p->file;
	node->line = first->line;
	node->column = first->column;
	node->words = words;
	node->word_count = word_count;
	return node;
}

/* key = value...  The values end at the end of the statement, or where
   the next "key =" begins, so that "timeout = 3s  cache_ttl = 15m" may
   share a line as in dovecot.conf's one-line blocks. */
static struct mw_ast_node *mw_parse_assign(struct mw_parser *p)
{
	const struct mw_token *first = p->tok;
	unsigned int count = 1;

	p->tok += 2;		/* key, '=' */
	while (mw_token_is_word(p->tok) && p->tok[1].type != MW_TOKEN_EQUALS) {
		count++;
		p->tok++;
	}
	if (!mw_token_ends_statement(p->tok) && !mw_token_is_word(p->tok)) {
		mw_parser_unexpected(p, p->tok, " in the value of a setting");
		mw_parser_skip_statement(p);
	}
	return mw_parser_node(p, MW_AST_ASSIGN, first, count);
}

static struct mw_ast_node *mw_parse_items(struct mw_parser *p,
					  const struct mw_token *open);

static struct mw_ast_node *mw_parse_statement(struct mw_parser *p)
{
	const struct mw_token *first = p->tok, *open;
	struct mw_ast_node *node;
	unsigned int count = 0;

	while (mw_token_is_word(p->tok)) {
		count++;
		p->tok++;
	}
	if (p->tok->type == MW_TOKEN_LBRACE) {
		open = p->tok++;
		node = mw_parser_node(p, MW_AST_BLOCK, first, count);
		node->children = mw_parse_items(p, open);
		return node;
	}
	if (!mw_token_ends_statement(p->tok)) {
		mw_parser_unexpected(p, p->tok, "");
		mw_parser_skip_statement(p);
	}
	return mw_parser_node(p, MW_AST_STATEMENT, first, count);
}

static void mw_parse_include(struct mw_parser *p, struct mw_ast_node *node,
			     struct mw_ast_node ***tail)
{
	struct mw_ast_node *included = NULL;
	char *path;

	if (node->word_count != 2) {
		mw_diag_error(p->diags, p->file, node->line, node->column,
			      "include takes one file name");
		p->failed = true;
		return;
	}
	path = mw_path_relative_to(p->file, node->words[1].text);
	if (mw_parse_path(p, path, &node->words[1], &included) < 0)
		p->failed = true;
	free(path);
	for (; included != NULL; included = included->next) {
		**tail = included;
		*tail = &included->next;
	}
}

/* Items up to the '}' that closes open, or to the end of the file when
   open is NULL. */
static struct mw_ast_node *mw_parse_items(struct mw_parser *p,
					  const struct mw_token *open)
{
	struct mw_ast_node *head = NULL, **tail = &head, *node;

	for (;;) {
		switch (p->tok->type) {
		case MW_TOKEN_NEWLINE:
		case MW_TOKEN_SEMICOLON:
			p->tok++;
			continue;
		case MW_TOKEN_EOF:
			if (open != NULL) {
				mw_diag_error(p->diags, p->file, open->line,
					      open->column,
					      "missing '}' for this '{'");
				p->failed = true;
			}
			return head;
		case MW_TOKEN_RBRACE:
			if (open != NULL) {
				p->tok++;
				return head;
			}
			mw_parser_error(p, p->tok, "unexpected '}' with no block open");
			p->tok++;
			continue;
		case MW_TOKEN_EQUALS:
		case MW_TOKEN_LBRACE:
			mw_parser_unexpected(p, p->tok, "; expected a setting or a rule");
			p->tok++;
			mw_parser_skip_statement(p);
			continue;
		case MW_TOKEN_WORD:
		case MW_TOKEN_STRING:
			break;
		}

		if (p->tok[1].type == MW_TOKEN_EQUALS) {
			node = mw_parse_assign(p);
		} else {
			node = mw_parse_statement(p);
			if (node->kind == MW_AST_STATEMENT &&
			    strcmp(node->words[0].text, "include") == 0 &&
			    !node->words[0].quoted) {
				if (open == NULL) {
					mw_parse_include(p, node, &tail);
				} else {
					mw_diag_error(p->diags, p->file, node->line,
						      node->column,
						      "include is allowed only outside blocks");
					p->failed = true;
				}
				continue;
			}
		}
		*tail = node;
		tail = &node->next;
	}
}

static int mw_parse_tokens(struct mw_parser *p, const char *data, size_t size,
			   struct mw_ast_node **nodes_r)
{
	struct mw_token_list list;

	if (mw_lex(p->arena, p->diags, p->file, data, size, &list) < 0)
		p->failed = true;
	p->tok = list.tokens;
	*nodes_r = mw_parse_items(p, NULL);
	return p->failed ? -1 : 0;
}

static int mw_parse_path(struct mw_parser *outer, const char *path,
			 const struct mw_ast_word *include_word,
			 struct mw_ast_node **nodes_r)
{
	struct mw_include_frame frames[MW_INCLUDE_DEPTH_MAX + 1];
	struct mw_parser p = {
		.arena = outer->arena, .diags = outer->diags,
		.file = mw_arena_strdup(outer->arena, path),
		.stack = frames, .depth = outer->depth + 1,
	};
	const char *where = include_word == NULL ? path : outer->file;
	unsigned int line = include_word == NULL ? 0 : include_word->line;
	unsigned int column = include_word == NULL ? 0 : include_word->column;
	char error[MW_ERROR_SIZE];
	struct stat st;
	unsigned int i;
	size_t size;
	char *data;
	int ret;

	*nodes_r = NULL;
	if (outer->depth > 0)
		memcpy(frames, outer->stack, sizeof(frames[0]) * outer->depth);
	if (p.depth > MW_INCLUDE_DEPTH_MAX) {
		mw_diag_error(p.diags, where, line, column,
			      "includes nested deeper than %d levels",
			      MW_INCLUDE_DEPTH_MAX);
		return -1;
	}
	if (mw_read_file(path, false, &data, &size, error, sizeof(error)) < 0) {
		mw_diag_error(p.diags, where, line, column, "%s", error);
		return -1;
	}
	memset(&frames[outer->depth], 0, sizeof(frames[0]));
	if (stat(path, &st) == 0) {
		for (i = 0; i < outer->depth; i++) {
			if (frames[i].dev == st.st_dev && frames[i].ino == st.st_ino) {
				mw_diag_error(p.diags, where, line, column,
					      "include loop: %s is already being read",
					      path);
				free(data);
				return -1;
			}
		}
		frames[outer->depth].dev = st.st_dev;
		frames[outer->depth].ino = st.st_ino;
	}
	ret = mw_parse_tokens(&p, data, size, nodes_r);
	free(data);
	return ret;
}

int mw_parse_file(struct mw_arena *arena, struct mw_diags *diags,
		  const char *path, struct mw_ast_node **nodes_r)
{
	struct mw_parser top = { .arena = arena, .diags = diags, .file = NULL };

	return mw_parse_path(&top, path, NULL, nodes_r);
}

int mw_parse_buffer(struct mw_arena *arena, struct mw_diags *diags,
		    const char *name, const char *data, size_t size,
		    struct mw_ast_node **nodes_r)
{
	struct mw_include_frame frames[MW_INCLUDE_DEPTH_MAX + 1];
	struct mw_parser p = {
		.arena = arena, .diags = diags,
		.file = mw_arena_strdup(arena, name),
		.stack = frames, .depth = 0,
	};

	if (size == 0) {
		mw_diag_error(diags, name, 0, 0, "%s is empty", name);
		*nodes_r = NULL;
		return -1;
	}
	return mw_parse_tokens(&p, data, size, nodes_r);
}
