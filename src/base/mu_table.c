/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_table.c — aligned text tables that fit the terminal, with an
    optional caption and repeated headers (include/mu_table.h). */
#include "base/mu_internal.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct mu_table_t {
    size_t columns;
    size_t rows; /* rows of cells, the header included */
    size_t cap;
    char **cells; /* rows * columns strings, row-major */
    char *caption;
    size_t repeat;
};

static void
free_row(char **row, size_t n)
{
    while (n > 0)
        free(row[--n]);
}

/* Appends a row without the checks of the public functions. */
static int
add_row(mu_table_t *self, const char *const *cells)
{
    if (self->rows == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        char **grown = realloc(self->cells, cap * self->columns * sizeof *grown);
        if (!grown)
            return mu__fail(MU_ENOMEM, "table of %zu rows", cap);
        self->cells = grown;
        self->cap = cap;
    }
    char **row = self->cells + self->rows * self->columns;
    for (size_t c = 0; c < self->columns; c++) {
        row[c] = strdup(cells[c] ? cells[c] : "");
        if (!row[c]) {
            free_row(row, c);
            return mu__fail(MU_ENOMEM, "table cell");
        }
    }
    self->rows++;
    return 0;
}

mu_table_t *
mu_table_new(size_t columns, const char *const *headers)
{
    if (columns == 0 || columns > MU_TABLE_MAX_COLUMNS || !headers)
        return mu__fail_null(MU_EINVAL, "table of %zu columns%s", columns,
                             headers ? "" : " without headers");
    mu_table_t *self = calloc(1, sizeof *self);
    if (!self)
        return mu__fail_null(MU_ENOMEM, "table");
    self->columns = columns;
    if (add_row(self, headers) != 0) {
        free(self->cells);
        free(self);
        errno = ENOMEM;
        return NULL;
    }
    return self;
}

void
mu_table_destroy(mu_table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mu_table_t *self = *self_p;
    free_row(self->cells, self->rows * self->columns);
    free(self->cells);
    free(self->caption);
    free(self);
    *self_p = NULL;
}

int
mu_table_set_caption(mu_table_t *self, const char *caption)
{
    assert(self);
    char *copy = NULL;
    if (caption && !(copy = strdup(caption)))
        return mu__fail(MU_ENOMEM, "table caption");
    free(self->caption);
    self->caption = copy;
    return 0;
}

void
mu_table_set_repeat(mu_table_t *self, size_t every)
{
    assert(self);
    self->repeat = every;
}

int
mu_table_add(mu_table_t *self, const char *const *cells)
{
    assert(self && cells);
    return add_row(self, cells);
}

/* Splits line at its tabs into cells[0..columns); false when the count
   differs. */
static bool
split_cells(char *line, const char **cells, size_t columns)
{
    size_t count = 0;
    for (char *cell = line, *tab; cell; cell = tab ? tab + 1 : NULL) {
        tab = strchr(cell, '\t');
        if (tab)
            *tab = '\0';
        if (count == columns)
            return false;
        cells[count++] = cell;
    }
    return count == columns;
}

int
mu_table_addf(mu_table_t *self, const char *fmt, ...)
{
    assert(self && fmt);
    va_list args, again;
    va_start(args, fmt);
    va_copy(again, args);
    int len = vsnprintf(NULL, 0, fmt, args);
    va_end(args);
    char *line = len >= 0 ? malloc((size_t) len + 1) : NULL;
    if (line)
        vsnprintf(line, (size_t) len + 1, fmt, again);
    va_end(again);
    const char **cells = line ? calloc(self->columns, sizeof *cells) : NULL;
    int rc;
    if (!cells)
        rc = mu__fail(MU_ENOMEM, "table row");
    else if (!split_cells(line, cells, self->columns))
        rc = mu__fail(MU_EINVAL, "table row: %zu tab-separated cells expected", self->columns);
    else
        rc = add_row(self, cells);
    free(cells);
    free(line);
    return rc;
}

size_t
mu_table_rows(const mu_table_t *self)
{
    assert(self);
    return self->rows - 1;
}

size_t
mu_terminal_width(int fd)
{
    if (!isatty(fd))
        return 0;
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    const char *columns = getenv("COLUMNS");
    long n = columns ? strtol(columns, NULL, 10) : 0;
    return n > 0 ? (size_t) n : 0;
}

static bool
looks_numeric(const char *cell)
{
    if (!*cell)
        return false;
    for (const char *p = cell; *p; p++)
        if (!strchr("0123456789.-+eE%kKMGTiBxs/ ", *p))
            return false;
    return cell[0] == '-' || cell[0] == '+' || (cell[0] >= '0' && cell[0] <= '9');
}

/*  Narrows the widest column, one character at a time, until the row fits
    (never below 4 characters). */
static void
fit_widths(size_t *widths, size_t columns, size_t limit)
{
    for (;;) {
        size_t total = 0, widest = 0;
        for (size_t c = 0; c < columns; c++) {
            total += widths[c] + (c ? 2 : 0);
            if (widths[c] > widths[widest])
                widest = c;
        }
        if (total <= limit || widths[widest] <= 4)
            return;
        widths[widest]--;
    }
}

static void
print_cell(FILE *out, const char *cell, size_t width, bool right, bool last)
{
    size_t len = strlen(cell);
    if (len > width) {
        fprintf(out, "%.*s~", (int) (width - 1), cell);
        len = width;
    } else if (right) {
        fprintf(out, "%*s", (int) width, cell);
    } else {
        fputs(cell, out);
    }
    if (!last && !right)
        fprintf(out, "%*s", (int) (width - len), "");
}

static void
print_row(const mu_table_t *self, FILE *out, size_t r, const size_t *widths, const bool *right)
{
    for (size_t c = 0; c < self->columns; c++) {
        if (c)
            fputs("  ", out);
        print_cell(out, self->cells[r * self->columns + c], widths[c], right[c],
                   c + 1 == self->columns);
    }
    fputc('\n', out);
}

static void
print_header(const mu_table_t *self, FILE *out, const size_t *widths, const bool *right)
{
    print_row(self, out, 0, widths, right);
    size_t rule = 0;
    for (size_t c = 0; c < self->columns; c++)
        rule += widths[c] + (c ? 2 : 0);
    for (size_t i = 0; i < rule; i++)
        fputc('-', out);
    fputc('\n', out);
}

/* Column widths (widest cell) and alignment (right when every non-empty
   body cell looks numeric and there is a body). */
static void
measure(const mu_table_t *self, size_t *widths, bool *right)
{
    for (size_t c = 0; c < self->columns; c++) {
        right[c] = self->rows > 1;
        for (size_t r = 0; r < self->rows; r++) {
            const char *cell = self->cells[r * self->columns + c];
            size_t len = strlen(cell);
            if (len > widths[c])
                widths[c] = len;
            if (r > 0 && *cell && !looks_numeric(cell))
                right[c] = false;
        }
    }
}

int
mu_table_print(const mu_table_t *self, FILE *out, size_t width)
{
    assert(self && out);
    size_t *widths = calloc(self->columns, sizeof *widths);
    bool *right = calloc(self->columns, sizeof *right);
    if (!widths || !right) {
        free(widths);
        free(right);
        return mu__fail(MU_ENOMEM, "table widths");
    }
    measure(self, widths, right);
    size_t limit = width ? width : mu_terminal_width(fileno(out));
    if (limit)
        fit_widths(widths, self->columns, limit);
    if (self->caption) {
        size_t len = strlen(self->caption);
        if (limit >= 1 && len > limit)
            fprintf(out, "%.*s~\n", (int) (limit - 1), self->caption);
        else
            fprintf(out, "%s\n", self->caption);
    }
    print_header(self, out, widths, right);
    for (size_t r = 1; r < self->rows; r++) {
        if (self->repeat && r > 1 && (r - 1) % self->repeat == 0)
            print_header(self, out, widths, right);
        print_row(self, out, r, widths, right);
    }
    free(widths);
    free(right);
    return ferror(out) ? mu__fail(MU_EIO, "writing a table") : 0;
}
