#include "mw-ast.h"
#include "mw-arena.h"
#include "mw-diag.h"
#include "mw-lexer.h"
#include "mw-util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Files being read, outermost first, to refuse include loops. */
struct mw_include_frame {
	dev_t dev;
	ino_t ino;
};

/* What the files of one load have read so far, against
   MW_INCLUDE_FILES_MAX and MW_INCLUDE_BYTES_MAX. */
struct mw_include_budget {
	unsigned int files;
	size_t bytes;
	bool files_reported;	/* the refusals after the first are echoes */
};

struct mw_parser {
	struct mw_arena *arena;
	struct mw_diags *diags;
	const char *file;	/* in the arena */
	const struct mw_token *tok;	/* current token */
	struct mw_include_frame *stack;
	unsigned int depth;
	struct mw_include_budget *budget;
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

/* word word... up to the first token that is not a word. */
static unsigned int mw_parse_words(struct mw_parser *p)
{
	unsigned int count = 0;

	while (mw_token_is_word(p->tok)) {
		count++;
		p->tok++;
	}
	return count;
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

/* Skips a block nested too deep, from its '{' to the matching '}' or the
   end of the file, counting braces instead of parsing what is inside. */
static void mw_parser_skip_block(struct mw_parser *p)
{
	unsigned long depth = 0;

	for (; p->tok->type != MW_TOKEN_EOF; p->tok++) {
		if (p->tok->type == MW_TOKEN_LBRACE) {
			depth++;
		} else if (p->tok->type == MW_TOKEN_RBRACE && --depth == 0) {
			p->tok++;
			return;
		}
	}
}

/* One open block: where its children go. */
struct mw_parse_frame {
	const struct mw_token *open;	/* its '{' */
	struct mw_ast_node **tail;
};

/* Items of a whole file.  Open blocks are kept in frames[], not in C
   recursion, so how deep a file nests is data: a deep file gets an error
   at the block past MW_BLOCK_DEPTH_MAX and cannot exhaust the stack. */
static struct mw_ast_node *mw_parse_items(struct mw_parser *p)
{
	struct mw_parse_frame frames[MW_BLOCK_DEPTH_MAX + 1], *top;
	struct mw_ast_node *head = NULL, *node;
	const struct mw_token *first, *open;
	unsigned int depth = 0, count;

	frames[0].open = NULL;
	frames[0].tail = &head;
	for (;;) {
		top = &frames[depth];
		switch (p->tok->type) {
		case MW_TOKEN_NEWLINE:
		case MW_TOKEN_SEMICOLON:
			p->tok++;
			continue;
		case MW_TOKEN_EOF:
			/* Every block still open is missing its '}'. */
			for (; depth > 0; depth--) {
				open = frames[depth].open;
				mw_diag_error(p->diags, p->file, open->line,
					      open->column,
					      "missing '}' for this '{'");
				p->failed = true;
			}
			return head;
		case MW_TOKEN_RBRACE:
			if (depth > 0) {
				depth--;
				p->tok++;
				continue;
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
			first = p->tok;
			count = mw_parse_words(p);
			if (p->tok->type == MW_TOKEN_LBRACE) {
				open = p->tok;
				if (depth == MW_BLOCK_DEPTH_MAX) {
					mw_diag_error(p->diags, p->file, open->line,
						      open->column,
						      "blocks nested deeper than %d levels",
						      MW_BLOCK_DEPTH_MAX);
					p->failed = true;
					mw_parser_skip_block(p);
					continue;
				}
				p->tok++;
				node = mw_parser_node(p, MW_AST_BLOCK, first, count);
				*top->tail = node;
				top->tail = &node->next;
				depth++;
				frames[depth].open = open;
				frames[depth].tail = &node->children;
				continue;
			}
			if (!mw_token_ends_statement(p->tok)) {
				mw_parser_unexpected(p, p->tok, "");
				mw_parser_skip_statement(p);
			}
			node = mw_parser_node(p, MW_AST_STATEMENT, first, count);
			if (strcmp(node->words[0].text, "include") == 0 &&
			    !node->words[0].quoted) {
				if (depth == 0) {
					mw_parse_include(p, node, &top->tail);
				} else {
					mw_diag_error(p->diags, p->file, node->line,
						      node->column,
						      "include is allowed only outside blocks");
					p->failed = true;
				}
				continue;
			}
		}
		*top->tail = node;
		top->tail = &node->next;
	}
}

static int mw_parse_tokens(struct mw_parser *p, const char *data, size_t size,
			   struct mw_ast_node **nodes_r)
{
	struct mw_token_list list;

	if (mw_lex(p->arena, p->diags, p->file, data, size, &list) < 0)
		p->failed = true;
	p->tok = list.tokens;
	*nodes_r = mw_parse_items(p);
	return p->failed ? -1 : 0;
}

/* Refuses a policy file that someone besides its owner could rewrite,
   as Postfix refuses group- or world-writable files in its own
   directories: warns for the group, fails for others. */
static int mw_check_writers(struct mw_diags *diags, const char *path,
			    const struct stat *st)
{
	char why[MW_ERROR_SIZE + 64];

	switch (mw_file_writers(path, st, why, sizeof(why))) {
	case MW_WRITERS_OWNER:
		break;
	case MW_WRITERS_GROUP:
		mw_diag_warning(diags, path, 0, 0, "%s", why);
		break;
	case MW_WRITERS_OTHERS:
		mw_diag_error(diags, path, 0, 0, "%s; refusing it", why);
		return -1;
	}
	return 0;
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
		.budget = outer->budget,
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
	if (p.budget->files >= MW_INCLUDE_FILES_MAX) {
		if (!p.budget->files_reported) {
			mw_diag_error(p.diags, where, line, column,
				      "includes read more than %d files; refusing %s and any further include",
				      MW_INCLUDE_FILES_MAX, path);
		}
		p.budget->files_reported = true;
		return -1;
	}
	if (mw_read_file(path, false, p.budget->bytes >= MW_INCLUDE_BYTES_MAX ? 0 :
			 MW_INCLUDE_BYTES_MAX - p.budget->bytes,
			 &data, &size, &st, error, sizeof(error)) < 0) {
		mw_diag_error(p.diags, where, line, column, "%s%s", error,
			      errno == EFBIG && p.budget->bytes > 0 ?
			      ", counting what the other included files hold" : "");
		return -1;
	}
	p.budget->files++;
	p.budget->bytes += size;
	if (mw_check_writers(p.diags, path, &st) < 0) {
		free(data);
		return -1;
	}
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
	ret = mw_parse_tokens(&p, data, size, nodes_r);
	free(data);
	return ret;
}

int mw_parse_file(struct mw_arena *arena, struct mw_diags *diags,
		  const char *path, struct mw_ast_node **nodes_r)
{
	struct mw_include_budget budget = { 0, 0, false };
	struct mw_parser top = {
		.arena = arena, .diags = diags, .file = NULL, .budget = &budget,
	};

	return mw_parse_path(&top, path, NULL, nodes_r);
}

int mw_parse_buffer(struct mw_arena *arena, struct mw_diags *diags,
		    const char *name, const char *data, size_t size,
		    struct mw_ast_node **nodes_r)
{
	struct mw_include_frame frames[MW_INCLUDE_DEPTH_MAX + 1];
	struct mw_include_budget budget = { 1, size, false };
	struct mw_parser p = {
		.arena = arena, .diags = diags,
		.file = mw_arena_strdup(arena, name),
		.stack = frames, .depth = 0, .budget = &budget,
	};

	if (size == 0) {
		mw_diag_error(diags, name, 0, 0, "%s is empty", name);
		*nodes_r = NULL;
		return -1;
	}
	return mw_parse_tokens(&p, data, size, nodes_r);
}
