/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  cli_table.c — aligned text tables that fit the terminal, for the mutil
    tool's listings and statistics. */
#include "cli.h"
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct cli_table_t {
    size_t columns;
    size_t rows; /* rows of cells, the header included */
    size_t cap;
    char **cells; /* rows * columns strings, row-major */
};

cli_table_t *
cli_table_new(size_t columns, const char *const *headers)
{
    cli_table_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->columns = columns;
    if (cli_table_add(self, headers) != 0) {
        free(self);
        return NULL;
    }
    return self;
}

int
cli_table_add(cli_table_t *self, const char *const *cells)
{
    if (self->rows == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        char **grown = realloc(self->cells, cap * self->columns * sizeof *grown);
        if (!grown)
            return MU_ENOMEM;
        self->cells = grown;
        self->cap = cap;
    }
    char **row = self->cells + self->rows * self->columns;
    for (size_t c = 0; c < self->columns; c++) {
        row[c] = strdup(cells[c] ? cells[c] : "");
        if (!row[c]) {
            while (c > 0)
                free(row[--c]);
            return MU_ENOMEM;
        }
    }
    self->rows++;
    return 0;
}

int
cli_table_addf(cli_table_t *self, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    char *line = NULL;
    int len = vasprintf(&line, fmt, args);
    va_end(args);
    if (len < 0)
        return MU_ENOMEM;
    const char **cells = calloc(self->columns, sizeof *cells);
    size_t count = 0;
    int rc = cells ? 0 : MU_ENOMEM;
    for (char *cell = line, *tab; rc == 0 && cell; cell = tab ? tab + 1 : NULL) {
        tab = strchr(cell, '\t');
        if (tab)
            *tab = '\0';
        if (count == self->columns)
            rc = MU_EINVAL;
        else
            cells[count++] = cell;
    }
    if (rc == 0 && count != self->columns)
        rc = MU_EINVAL;
    if (rc == 0)
        rc = cli_table_add(self, cells);
    free(cells);
    free(line);
    return rc;
}

size_t
cli_terminal_width(int fd)
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

void
cli_table_print(const cli_table_t *self, FILE *out, size_t width)
{
    size_t *widths = calloc(self->columns, sizeof *widths);
    bool *right = calloc(self->columns, sizeof *right);
    if (!widths || !right) {
        free(widths);
        free(right);
        return;
    }
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
    size_t limit = width ? width : cli_terminal_width(fileno(out));
    if (limit)
        fit_widths(widths, self->columns, limit);
    for (size_t r = 0; r < self->rows; r++) {
        for (size_t c = 0; c < self->columns; c++) {
            if (c)
                fputs("  ", out);
            print_cell(out, self->cells[r * self->columns + c], widths[c], right[c],
                       c + 1 == self->columns);
        }
        fputc('\n', out);
        if (r == 0) {
            size_t rule = 0;
            for (size_t c = 0; c < self->columns; c++)
                rule += widths[c] + (c ? 2 : 0);
            for (size_t i = 0; i < rule; i++)
                fputc('-', out);
            fputc('\n', out);
        }
    }
    free(widths);
    free(right);
}

void
cli_table_destroy(cli_table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cli_table_t *self = *self_p;
    for (size_t i = 0; i < self->rows * self->columns; i++)
        free(self->cells[i]);
    free(self->cells);
    free(self);
    *self_p = NULL;
}
