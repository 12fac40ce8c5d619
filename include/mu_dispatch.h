/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_dispatch.h — command-line dispatch from a table of commands.

    A program lists its commands (and each command's subcommands) as
    mu_cmd_t entries; a word typed on the command line picks the entry
    whose name equals it, or else the only one whose name starts with it
    ("ver" for "version"). Usage lines, help pages and the command list
    are printed from the same entries, so they never drift from what the
    program accepts. Messages name the program (prog, e.g. "mutil") and
    the command path (who, e.g. "frame"), as in

        mutil frame: 'd' is ambiguous: candidates decode, dump
        mutil: unknown command 'xyz'
        run 'mutil help' for the list of commands

    No state: every function is thread-safe (output to a shared FILE is
    serialised by stdio). */
#ifndef MU_DISPATCH_H_INCLUDED
#define MU_DISPATCH_H_INCLUDED

#include <stddef.h>
#include <stdio.h>
#include "mu_defs.h"
#include "mu_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mu_cmd_t mu_cmd_t;
typedef struct mu_cmd_table_t mu_cmd_table_t;

/*  Runs a command. argv[0..argc) are the words after the command's own
    word (argv[argc] is NULL); self is the table entry, so messages can
    use self->name whatever prefix the user typed. Returns the program's
    exit status (the library gives it no meaning). */
typedef int(mu_cmd_run_fn)(const mu_cmd_t *self, int argc, char **argv);

/*  One entry of a command table. The strings are not copied: static
    text, typically. */
struct mu_cmd_t {
    const char *name;        /* the word matched on the command line */
    const char *synopsis;    /* arguments after the name; several forms
                                separated by '\n'; "" when there are none */
    const char *summary;     /* one lower-case line for the command list */
    const char *description; /* printed by mu_cmd_print_help after the
                                summary; lines end with '\n'; may be NULL */
    mu_cmd_run_fn *run;
    const mu_cmd_table_t *subcommands; /* NULL: none */
};

/*  A command's subcommands. */
struct mu_cmd_table_t {
    const char *path; /* what precedes a subcommand's name in its usage
                         line: "frame", "lru DIR NAME" */
    const mu_cmd_t *const *table;
    size_t n;
};

/*  Initialiser of a mu_cmd_table_t from an array of entry pointers. */
#define MU_CMD_TABLE(path, array)                 \
    {                                             \
        path, array, sizeof array / sizeof *array \
    }

/*  What mu_cmd_find returns when it finds no single entry. */
enum {
    MU_CMD_NONE = MU_ENOENT,     /* no name starts with the word, or it is empty */
    MU_CMD_AMBIGUOUS = MU_EEXIST /* several start with it, none equals it */
};

/*  Looks word up in table[0..n): returns the index of the entry whose
    name equals word or, failing that, of the only entry whose name
    starts with word; MU_CMD_AMBIGUOUS when several names start with it
    and none equals it; MU_CMD_NONE when none does or word is NULL or
    empty. Never prints. table may be NULL when n is 0. */
MU_EXPORT int mu_cmd_find(const char *word, const mu_cmd_t *const *table, size_t n);

/*  mu_cmd_find, and on failure prints why to err and returns NULL:
        PROG[ WHO]: 'WORD' is ambiguous: candidates A, B
    or
        PROG[ WHO]: unknown KIND 'WORD'
        run 'PROG help[ WHO]' for the list of KINDs
    who is "" at top level (or the command path, "frame"); kind names
    what was looked up ("command", "subcommand"). */
MU_EXPORT const mu_cmd_t *mu_cmd_resolve(FILE *err, const char *prog, const char *who,
                                         const char *kind, const char *word,
                                         const mu_cmd_t *const *table, size_t n);

/*  Prints "usage: PROG[ PATH] NAME SYNOPSIS", one line per synopsis form,
    the others aligned under the first. path is "" for a top-level
    command. */
MU_EXPORT void mu_cmd_print_usage(FILE *out, const char *prog, const char *path,
                                  const mu_cmd_t *cmd);

/*  Prints the usage, a blank line, the summary as a sentence (capital
    first letter, final '.'), and the description after a blank line:
    a command's help page. */
MU_EXPORT void mu_cmd_print_help(FILE *out, const char *prog, const char *path,
                                 const mu_cmd_t *cmd);

/*  Prints one line "  NAME  SUMMARY" per entry, names padded to the
    longest: the command list of a program's overview. */
MU_EXPORT void mu_cmd_print_list(FILE *out, const mu_cmd_t *const *table, size_t n);

#ifdef __cplusplus
}
#endif

#endif
