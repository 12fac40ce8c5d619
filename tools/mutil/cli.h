/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  cli.h — private declarations shared by the mutil tool's sources
    (tools/mutil/mutil.c and tools/mutil/cli_*.c). Never installed.

    Adding a command takes two steps:
      1. write tools/mutil/cli_<name>.c defining
             const cli_command_t cli_cmd_<name> = { "<name>", ... };
         (and list the file in Makefile.am's mutil_SOURCES; commands that
         share their option handling may share a file, as call, get, put
         and serve do in tools/mutil/cli_conn.c);
      2. add XX(<name>) to CLI_COMMANDS below, keeping the list alphabetical
         (`mutil help` prints the commands in this order).
    The dispatcher, `mutil help` and `mutil <name> --help` then know it.
    A command with subcommands points its entry's subcommands at a
    cli_subcommands_t listing them; `mutil help <name> <sub>` then knows
    them too.

    Command words are matched by libmutil's mu_cmd_find (include/mu_dispatch.h):
    an exact name wins, else a unique prefix; the same matcher serves
    subcommands (`mutil frame e`). */
#ifndef CLI_H_INCLUDED
#define CLI_H_INCLUDED

#include "config.h"
#include "mutil.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*  Exit statuses of the tool and of every command's run function. */
enum {
    CLI_EXIT_OK = 0,   /* success */
    CLI_EXIT_FAIL = 1, /* runtime error or bad input data */
    CLI_EXIT_USAGE = 2 /* bad command line */
};

/*  The command table is libmutil's public one (include/mu_dispatch.h):
    an entry is { name, synopsis, summary, description, run, subcommands };
    run returns a CLI_EXIT_* status. These names are the tool's own for
    it, with the program name "mutil" bound in the wrappers below. */
typedef mu_cmd_t cli_command_t;
typedef mu_cmd_table_t cli_subcommands_t;
typedef mu_cmd_run_fn cli_run_fn;

/*  Initialiser of a cli_subcommands_t from an array of entries. */
#define CLI_SUBCOMMANDS(path, array) MU_CMD_TABLE(path, array)

/*  The top-level commands: XX(name) for each cli_cmd_<name>. */
#define CLI_COMMANDS(XX) \
    XX(cache)            \
    XX(call)             \
    XX(cron)             \
    XX(flow)             \
    XX(frame)            \
    XX(get)              \
    XX(help)             \
    XX(keygen)           \
    XX(lru)              \
    XX(num)              \
    XX(proxy)            \
    XX(put)              \
    XX(serve)            \
    XX(shard)            \
    XX(sigv4)            \
    XX(version)

/*  `mutil flow run` (cli_flow_run.c) and the flow statistics table it
    shares with the other flow commands (cli_flow.c). */
extern const cli_command_t cli_flow_sub_run;
void cli_flow_print_stats(mu_flow_t *f);

#define CLI__DECLARE(name) extern const cli_command_t cli_cmd_##name;
CLI_COMMANDS(CLI__DECLARE)
#undef CLI__DECLARE

/*  mu_cmd_resolve to stderr as "mutil": the entry word names (exact name
    or unique prefix), or NULL after printing why. who is the command path
    for the message prefix ("" at top level, "frame" for frame's
    subcommands); kind names what was looked up ("command", "subcommand"). */
static inline const cli_command_t *
cli_resolve(const char *who, const char *kind, const char *word, const cli_command_t *const *table,
            size_t n)
{
    return mu_cmd_resolve(stderr, "mutil", who, kind, word, table, n);
}

/*  Resolves the subcommand word argv[lead] of self (after lead operands,
    e.g. lru's DIR and NAME, named lead_names for the message) in
    self->subcommands. Returns it, or NULL with *status_p the exit status:
    CLI_EXIT_OK after printing self's help (--help or -h before the
    subcommand word), CLI_EXIT_USAGE after printing why (missing, unknown
    or ambiguous word). */
const cli_command_t *cli_subcommand(const cli_command_t *self, int argc, char **argv, int lead,
                                    const char *lead_names, int *status_p);

/*  Prints "usage: mutil[ path] NAME SYNOPSIS" (mu_cmd_print_usage). path
    is "" for a top-level command, "frame" for a subcommand of frame. */
static inline void
cli_print_usage(FILE *out, const char *path, const cli_command_t *cmd)
{
    mu_cmd_print_usage(out, "mutil", path, cmd);
}

/*  Prints the usage, then the summary and the description: what
    `mutil help NAME` and `mutil NAME --help` show (mu_cmd_print_help). */
static inline void
cli_print_help(FILE *out, const char *path, const cli_command_t *cmd)
{
    mu_cmd_print_help(out, "mutil", path, cmd);
}

/*  Prints "mutil WHO: MESSAGE\n" to stderr (just "mutil: " when who is ""). */
void cli_error(const char *who, const char *fmt, ...) MU_PRINTF(2, 3);

/*  Why the last library call failed with rc: mu_last_error() (the code's
    text and the library's detail, e.g. which limit) when it is rc's, else
    mu_strerror(rc). Valid until the next library call. */
const char *cli_why(int rc);

/*  rc's symbolic name: mu_errname's ("MU_EPROTO"), or the errno name of a
    -errno code outside libmutil's table ("EMFILE"). */
const char *cli_errname(int rc);

/*  Reads the passphrase file path (mu_keys_read_secret_file with flags);
    on failure prints what is wrong with the file and what to do, as
    "mutil WHO: PATH: ...", and returns false. */
bool cli_load_secret(const char *who, const char *path, int flags, char **secret_p, size_t *size_p);

/*  Loads the cert path (mu_keys_load with flags), with its secret key when
    need_secret; on failure prints what is wrong (not a cert, a pair that
    does not match, a secret file that is not private...) and returns NULL. */
mu_keys_t *cli_load_cert(const char *who, const char *path, int flags, bool need_secret);

/*  The server's public key from key: 40 Z85 characters, or a cert file
    (its public key only). On failure prints why and returns NULL. */
mu_keys_t *cli_load_server_key(const char *who, const char *key);

/*  True when arg asks for help: "--help" or "-h". */
int cli_is_help(const char *arg);

/* ---- command-line words (cli_args.c) ---- */

/*  The conventions every command follows: options anywhere among the
    operands; "--name=value" equals "--name value"; "--" ends the options;
    "-" alone and negative numbers ("-5") are operands; "--help" / "-h" ask
    for help. */

/*  What cli_args_next found (negative, so never mistaken for an exit
    status). */
enum {
    CLI_ARGS_END = -1,     /* no more words */
    CLI_ARGS_OPTION = -2,  /* an option: its name in option, see value */
    CLI_ARGS_OPERAND = -3, /* an operand */
    CLI_ARGS_HELP = -4     /* --help or -h */
};

/*  A walk over a command's words. */
typedef struct {
    const char *who; /* for messages */
    int argc;
    char **argv;
    int index;          /* the next word */
    bool operands_only; /* "--" was seen */
    char option[64];    /* the current option's name, "=value" cut */
    const char *value;  /* the "=value" part, or NULL */
} cli_args_t;

/*  Starts a walk over argv[0..argc). */
void cli_args_init(cli_args_t *self, const char *who, int argc, char **argv);

/*  Steps to the next word: CLI_ARGS_OPERAND (the word in *operand_p),
    CLI_ARGS_OPTION, CLI_ARGS_HELP or CLI_ARGS_END. Never prints. */
int cli_args_next(cli_args_t *self, const char **operand_p);

/*  True when the current option is name ("--chunk"). */
bool cli_args_is(const cli_args_t *self, const char *name);

/*  The current option's value: its "=value", else the next word. Returns
    false after printing "option X needs a value" when there is none. */
bool cli_args_value(cli_args_t *self, const char **value_p);

/*  For an option that takes no value: false after printing "option X
    takes no value" when it came with "=value". */
bool cli_args_flag(const cli_args_t *self);

/*  Prints "unknown option 'X'". */
void cli_args_unknown(const cli_args_t *self);

/*  For commands whose options are all flags: removes the options from
    argv[0..*argc_p), leaving the operands in order (NULL-terminated) and
    their count in *argc_p, and sets bit i of *seen_p (may be NULL) for each
    flags[i] given (flags: NULL-terminated names, may be NULL: none).
    Returns CLI_ARGS_OPERAND when the command goes on with its operands;
    otherwise the exit status to return: CLI_EXIT_OK after printing cmd's
    help (asked for), CLI_EXIT_USAGE after printing the unknown option (or
    the flag given a value) and cmd's usage. path and who as for
    cli_print_usage and cli_error. */
int cli_args_split(const cli_command_t *cmd, const char *path, const char *who, int *argc_p,
                   char **argv, const char *const *flags, unsigned *seen_p);

/*  Parses a decimal unsigned integer with an optional binary size suffix
    (K, M, G, T: KiB..TiB; lower case accepted) into *value_p. Returns 0, or
    MU_EINVAL for an empty string, a sign, other characters, or a value that
    does not fit in 64 bits; *value_p is untouched then. */
int cli_parse_size(const char *text, uint64_t *value_p);

/* ---- file transfers: the local side (cli_transfer.c) ---- */

/*  Catches SIGINT and SIGTERM: the handler sets czmq's zsys_interrupted,
    which ends a waiting library call with MU_EINTR, and remembers the
    signal. */
void cli_catch_interrupts(void);

/*  The signal caught by that handler, or 0. */
int cli_interrupted(void);

/*  When a signal was caught: flushes the output and dies of it (default
    action), so a calling shell sees an interrupted command. Else returns. */
void cli_die_of_interrupt(void);

/*  State of the progress bar; zero-initialise, then set lines and who. */
typedef struct {
    bool lines;      /* plain lines (stderr is no terminal) */
    const char *who; /* the command, for lines */
    bool started;
    int64_t start_ms, last_ms;
    uint64_t first; /* bytes done at the first call (a resume) */
} cli_progress_t;

/*  A mu_progress_fn drawing "[####....]  45%  12.0 of 26.5 MiB  110.3 MiB/s"
    on stderr, at most 10 times a second and once at the end, fitted to the
    terminal's width; with lines set, printing "mutil WHO: DONE of TOTAL
    bytes" lines instead (the first call, then as often, and the end). arg
    is a cli_progress_t. Always returns 0. */
int cli_progress_draw(void *arg, uint64_t done, uint64_t total);

/*  The local file of a get or put. */
typedef struct {
    const char *who;  /* "get" / "put", for messages */
    const char *name; /* what messages call it: the path, or
                                "standard input/output" */
    char *path;       /* the file the library writes or reads */
    char *partial;    /* get: path.partial */
    char *spool_dir;  /* get to stdout: a private temporary directory */
    int spool_fd;     /* put from stdin: its spooled copy, or -1 */
} cli_local_t;

/*  Works out the file a get of remote writes for LOCAL (see cli_transfer.c)
    and checks it before anything is sent: its directory exists, it is not
    a directory, it does not exist without MU_FILE_OVERWRITE in *flags, an
    earlier path.partial is continued (MU_FILE_RESUME), started over
    (MU_FILE_OVERWRITE) or else refused. Adds MU_FILE_RESUME to *flags, so
    the bytes received are kept in path.partial when the call fails.
    Returns CLI_EXIT_OK, or CLI_EXIT_FAIL / CLI_EXIT_USAGE after printing
    why (call cli_local_free then). */
int cli_get_local_open(cli_local_t *self, const char *who, const char *local, const char *remote,
                       int *flags);

/*  After mu_client_get returned rc: copies the download to stdout (LOCAL
    "-"), or after a failure says how many bytes path.partial keeps and how
    to continue. Frees self. Returns a CLI_EXIT_* status. */
int cli_get_local_close(cli_local_t *self, int rc);

/*  Works out and checks the file a put reads for LOCAL: an existing
    regular file, or standard input for "-". Returns like
    cli_get_local_open. */
int cli_put_local_open(cli_local_t *self, const char *who, const char *local);

/*  Frees what self holds (keeps who). */
void cli_local_free(cli_local_t *self);

/*  Tables fitted to the terminal are libmutil's (include/mu_table.h);
    these are the tool's names for them. */
typedef mu_table_t cli_table_t;
#define cli_terminal_width mu_terminal_width
#define cli_table_new mu_table_new
#define cli_table_add mu_table_add
/* A caller may drop cli_table_addf's result, as with the tool's former
   own version (mu_table_addf is MU_NODISCARD). */
static inline int
cli__result(int rc)
{
    return rc;
}
#define cli_table_addf(...) cli__result(mu_table_addf(__VA_ARGS__))
#define cli_table_destroy mu_table_destroy

/*  Prints the table (mu_table_print); a write error shows when the tool
    flushes stdout at exit. */
static inline void
cli_table_print(const cli_table_t *self, FILE *out, size_t width)
{
    int rc = mu_table_print(self, out, width);
    (void) rc;
}

#endif
