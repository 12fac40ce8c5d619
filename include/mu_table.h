/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_table.h — text tables in aligned columns that fit the terminal.

    Rows of text cells are collected, then printed with a header line and
    a rule under it:

        caption (optional)
        level  keys  size
        -----------------
        0        12   340
        1         3    90

    Columns are as wide as their widest cell; when the rows are wider than
    the terminal (mu_terminal_width of the output) the widest columns are
    narrowed, down to 4 characters, and their longer cells cut with '~'.
    A column whose cells all look like numbers ("12", "-3.5", "4 KiB",
    "97%") is right-aligned. The header (and its rule) can be repeated
    every N rows for long listings. Cells are bytes: one byte is one
    column (UTF-8 text wider than ASCII may misalign).

    Threads: a table is not locked; one thread at a time. */
#ifndef MU_TABLE_H_INCLUDED
#define MU_TABLE_H_INCLUDED

#include <stddef.h>
#include <stdio.h>
#include "mu_defs.h"
#include "mu_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mu_table_t mu_table_t;

/*  The most columns a table has. */
#define MU_TABLE_MAX_COLUMNS 256

/*  The width in columns of the terminal fd is: TIOCGWINSZ, else $COLUMNS;
    0 (no limit) when fd is not a terminal (a pipe or a file takes whole
    lines) or the width is unknown. */
MU_EXPORT size_t mu_terminal_width(int fd);

/*  Creates a table of columns columns headed by headers[0..columns)
    (copied; a NULL header prints as ""). Returns NULL with errno EINVAL
    (MU_EINVAL: columns 0 or above MU_TABLE_MAX_COLUMNS, or headers NULL)
    or ENOMEM. */
MU_EXPORT MU_NODISCARD mu_table_t *mu_table_new(size_t columns, const char *const *headers);

/*  Frees the table. NULL-safe; sets *self_p to NULL. */
MU_EXPORT void mu_table_destroy(mu_table_t **self_p);

/*  Sets the line printed above the header (copied; cut to the width like
    a cell; NULL: none). Returns 0 or MU_ENOMEM (the caption unchanged). */
MU_EXPORT MU_NODISCARD int mu_table_set_caption(mu_table_t *self, const char *caption);

/*  Prints the header and its rule again before every every-th row after
    the first ones (0, the default: once, at the top). */
MU_EXPORT void mu_table_set_repeat(mu_table_t *self, size_t every);

/*  Appends a row of cells[0..columns) (copied; NULL prints as ""). Returns
    0 or MU_ENOMEM (no row added). */
MU_EXPORT MU_NODISCARD int mu_table_add(mu_table_t *self, const char *const *cells);

/*  Appends a row given as one printf-formatted text whose cells are
    separated by '\t'. Returns 0, MU_ENOMEM, or MU_EINVAL when the text
    does not have exactly columns cells (no row added). */
MU_EXPORT MU_NODISCARD int mu_table_addf(mu_table_t *self, const char *fmt, ...) MU_PRINTF(2, 3);

/*  Returns the number of rows added (the header not counted). */
MU_EXPORT size_t mu_table_rows(const mu_table_t *self);

/*  Prints the caption, the header, the rule and the rows to out, fitting
    width columns (0: mu_terminal_width(fileno(out)), no limit when that
    is 0). The table is unchanged and may be printed again. Returns 0,
    MU_ENOMEM (nothing printed) or MU_EIO (out has its error flag set
    after printing: a full disk, a closed pipe). */
MU_EXPORT MU_NODISCARD int mu_table_print(const mu_table_t *self, FILE *out, size_t width);

#ifdef __cplusplus
}
#endif

#endif
