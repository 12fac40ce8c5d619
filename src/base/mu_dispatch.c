/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_dispatch.c — unique-prefix lookup in a command table and the usage,
    help and list text printed from it (include/mu_dispatch.h). */
#include "base/mu_internal.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>

int
mu_cmd_find(const char *word, const mu_cmd_t *const *table, size_t n)
{
    if (word == NULL || *word == '\0')
        return MU_CMD_NONE;
    size_t len = strlen(word);
    int found = MU_CMD_NONE;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(table[i]->name, word) == 0)
            return (int) i; /* an exact name always wins */
        if (strncmp(table[i]->name, word, len) == 0)
            found = found == MU_CMD_NONE ? (int) i : MU_CMD_AMBIGUOUS;
    }
    return found;
}

/*  Prints the names in table[0..n) that start with word, ", "-separated. */
static void
print_candidates(FILE *out, const char *word, const mu_cmd_t *const *table, size_t n)
{
    size_t len = strlen(word);
    const char *sep = "";
    for (size_t i = 0; i < n; i++) {
        if (strncmp(table[i]->name, word, len) == 0) {
            fprintf(out, "%s%s", sep, table[i]->name);
            sep = ", ";
        }
    }
}

const mu_cmd_t *
mu_cmd_resolve(FILE *err, const char *prog, const char *who, const char *kind, const char *word,
               const mu_cmd_t *const *table, size_t n)
{
    assert(err && prog && who && kind);
    int index = mu_cmd_find(word, table, n);
    if (index >= 0)
        return table[index];
    const char *space = *who ? " " : "";
    if (index == MU_CMD_AMBIGUOUS) {
        fprintf(err, "%s%s%s: '%s' is ambiguous: candidates ", prog, space, who, word);
        print_candidates(err, word, table, n);
        fputc('\n', err);
    } else {
        fprintf(err, "%s%s%s: unknown %s '%s'\n", prog, space, who, kind, word ? word : "");
        fprintf(err, "run '%s help%s%s' for the list of %ss\n", prog, space, who, kind);
    }
    return NULL;
}

void
mu_cmd_print_usage(FILE *out, const char *prog, const char *path, const mu_cmd_t *cmd)
{
    assert(out && prog && path && cmd);
    const char *space = *path ? " " : "";
    const char *form = cmd->synopsis ? cmd->synopsis : "";
    const char *lead = "usage: ";
    do {
        size_t len = strcspn(form, "\n");
        fprintf(out, "%s%s%s%s %s%s%.*s\n", lead, prog, space, path, cmd->name, len ? " " : "",
                (int) len, form);
        form += len;
        lead = "       ";
    } while (*form++ == '\n');
}

void
mu_cmd_print_help(FILE *out, const char *prog, const char *path, const mu_cmd_t *cmd)
{
    mu_cmd_print_usage(out, prog, path, cmd);
    /* The summary is a lower-case phrase; here it stands as a sentence. */
    if (cmd->summary && *cmd->summary)
        fprintf(out, "\n%c%s.\n", toupper((unsigned char) cmd->summary[0]), cmd->summary + 1);
    if (cmd->description)
        fprintf(out, "\n%s", cmd->description);
}

void
mu_cmd_print_list(FILE *out, const mu_cmd_t *const *table, size_t n)
{
    assert(out);
    size_t width = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(table[i]->name);
        width = len > width ? len : width;
    }
    for (size_t i = 0; i < n; i++)
        fprintf(out, "  %-*s  %s\n", (int) width, table[i]->name,
                table[i]->summary ? table[i]->summary : "");
}
