#ifndef MW_DIAG_H
#define MW_DIAG_H

#include "mw-policy.h"

#include <stdbool.h>

/* Loading reports every error it can find in one pass, up to this many;
   past it the rest would mostly be echoes of the first ones. */
#define MW_DIAG_MAX_ERRORS 20
/* Warnings kept; the rest are only counted, and the count is reported
   in their place: a long list with host bits set must not print a line
   per entry on every load. */
#define MW_DIAG_MAX_WARNINGS 100

struct mw_diags *mw_diags_new(void);

void mw_diag_add(struct mw_diags *diags, enum mw_severity severity,
		 const char *file, unsigned int line, unsigned int column,
		 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#define mw_diag_error(diags, file, line, column, ...) \
	mw_diag_add(diags, MW_SEVERITY_ERROR, file, line, column, __VA_ARGS__)
#define mw_diag_warning(diags, file, line, column, ...) \
	mw_diag_add(diags, MW_SEVERITY_WARNING, file, line, column, __VA_ARGS__)

/* Puts the diagnostics in file order (see mw-diag.c), and adds the count
   of warnings past MW_DIAG_MAX_WARNINGS at the end. */
void mw_diags_sort(struct mw_diags *diags);

/* True once MW_DIAG_MAX_ERRORS errors are in: the loader stops there. */
bool mw_diags_full(const struct mw_diags *diags);

#endif
