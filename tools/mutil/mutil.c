/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mutil.c — the `mutil` command-line tool: main(), the command table, the
    shared command-line helpers of cli.h, and the two built-in commands
    `help` and `version`. Each other command lives in its own tools/mutil/cli_*.c.

    Exit statuses: 0 success, 1 runtime error or bad input, 2 bad usage. */
#include "cli.h"

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <zmq.h>
#include <czmq.h>
#include <sodium.h>
#include <sqlite3.h>
#include <msgpack.h>

/*  The top-level command table, in CLI_COMMANDS order. */
#define CLI__ENTRY(name) &cli_cmd_##name,
static const cli_command_t *const commands[] = { CLI_COMMANDS(CLI__ENTRY) };
#undef CLI__ENTRY
#define N_COMMANDS (sizeof commands / sizeof commands[0])

/* ---- shared helpers (declared in cli.h) -------------------------------- */

const cli_command_t *
cli_subcommand(const cli_command_t *self, int argc, char **argv, int lead, const char *lead_names,
               int *status_p)
{
    for (int i = 0; i <= lead && i < argc; i++)
        if (cli_is_help(argv[i])) { /* before the subcommand word */
            cli_print_help(stdout, "", self);
            *status_p = CLI_EXIT_OK;
            return NULL;
        }
    *status_p = CLI_EXIT_USAGE;
    if (argc <= lead) {
        cli_error(self->name, "missing %s", argc < lead ? lead_names : "subcommand");
        cli_print_usage(stderr, "", self);
        return NULL;
    }
    const cli_subcommands_t *subs = self->subcommands;
    return cli_resolve(self->name, "subcommand", argv[lead], subs->table, subs->n);
}

void
cli_error(const char *who, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fprintf(stderr, "mutil%s%s: ", *who ? " " : "", who);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
}

const char *
cli_why(int rc)
{
    return mu_last_code() == rc ? mu_last_error() : mu_strerror(rc);
}

const char *
cli_errname(int rc)
{
    const char *name = mu_errname(rc);
    const char *sys = strcmp(name, "MU_E?") == 0 && rc < 0 ? strerrorname_np(-rc) : NULL;
    return sys ? sys : name;
}

int
cli_is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int
cli_parse_size(const char *text, uint64_t *value_p)
{
    uint64_t value = 0;
    const char *p = text;
    if (*p < '0' || *p > '9')
        return MU_EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned digit = (unsigned) (*p - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return MU_EINVAL;
        value = value * 10 + digit;
    }
    static const char suffixes[] = "KMGT";
    if (*p) {
        const char *s = strchr(suffixes, *p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
        if (s == NULL || p[1] != '\0')
            return MU_EINVAL;
        for (const char *k = suffixes; k <= s; k++) {
            if (value > UINT64_MAX / 1024)
                return MU_EINVAL;
            value *= 1024;
        }
    }
    *value_p = value;
    return 0;
}

/* ---- help ---------------------------------------------------------------- */

/*  Prints the tool's usage and the command list (what `mutil help` shows). */
static void
print_overview(FILE *out)
{
    fprintf(out, "usage: mutil <command> [<arguments>]\n\ncommands:\n");
    mu_cmd_print_list(out, commands, N_COMMANDS);
    fprintf(out,
            "\nA command may be abbreviated to any unique prefix (mutil ver = mutil version).\n"
            "Options go anywhere, as --opt VALUE or --opt=VALUE; -- ends them.\n"
            "Run 'mutil help <command> [<subcommand>]' or 'mutil <command> --help' for\n"
            "its usage.\n");
}

/*  `mutil help [COMMAND [SUBCOMMAND]]`: the overview, one command's help,
    or a subcommand's. */
static int
help_run(const cli_command_t *self, int argc, char **argv)
{
    int status = cli_args_split(self, "", self->name, &argc, argv, NULL, NULL);
    if (status != CLI_ARGS_OPERAND)
        return status;
    if (argc == 0) {
        print_overview(stdout);
        return CLI_EXIT_OK;
    }
    if (argc > 2) {
        cli_error(self->name, "too many arguments");
        cli_print_usage(stderr, "", self);
        return CLI_EXIT_USAGE;
    }
    const cli_command_t *cmd = cli_resolve("", "command", argv[0], commands, N_COMMANDS);
    if (cmd == NULL)
        return CLI_EXIT_USAGE;
    if (argc == 1) {
        cli_print_help(stdout, "", cmd);
        return CLI_EXIT_OK;
    }
    const cli_subcommands_t *subs = cmd->subcommands;
    if (subs == NULL) {
        cli_error(self->name, "'%s' has no subcommands", cmd->name);
        fprintf(stderr, "run 'mutil help %s' for its usage\n", cmd->name);
        return CLI_EXIT_USAGE;
    }
    const cli_command_t *sub = cli_resolve(cmd->name, "subcommand", argv[1], subs->table, subs->n);
    if (sub == NULL)
        return CLI_EXIT_USAGE;
    cli_print_help(stdout, subs->path, sub);
    return CLI_EXIT_OK;
}

const cli_command_t cli_cmd_help = {
    "help",
    "[<command> [<subcommand>]]",
    "show the list of commands, or the usage of one",
    "Without an argument, lists the commands with a one-line summary. With a\n"
    "command name (or a unique prefix of one), prints that command's usage and\n"
    "description, as 'mutil <command> --help' does; with a subcommand too\n"
    "(mutil help lru add), that subcommand's.\n",
    help_run,
    NULL
};

/* ---- version ------------------------------------------------------------- */

/*  `mutil version`: one line naming this tool's version and the run-time
    versions of libmutil and of the libraries it is linked with. */
static int
version_run(const cli_command_t *self, int argc, char **argv)
{
    int status = cli_args_split(self, "", self->name, &argc, argv, NULL, NULL);
    if (status != CLI_ARGS_OPERAND)
        return status;
    if (argc > 0) {
        cli_error(self->name, "unexpected argument '%s'", argv[0]);
        cli_print_usage(stderr, "", self);
        return CLI_EXIT_USAGE;
    }
    int zmq_major, zmq_minor, zmq_patch;
    zmq_version(&zmq_major, &zmq_minor, &zmq_patch);
    int czmq_major, czmq_minor, czmq_patch;
    zsys_version(&czmq_major, &czmq_minor, &czmq_patch);
    printf("mutil %s (libmutil %s, libzmq %d.%d.%d, czmq %d.%d.%d, libsodium %s, "
           "sqlite %s, msgpack %s)\n",
           PACKAGE_VERSION, mu_version_string(), zmq_major, zmq_minor, zmq_patch, czmq_major,
           czmq_minor, czmq_patch, sodium_version_string(), sqlite3_libversion(),
           msgpack_version());
    return CLI_EXIT_OK;
}

const cli_command_t cli_cmd_version = {
    "version",
    "",
    "print the versions of mutil and of the libraries it uses",
    "Prints one line: the version of this tool, then the run-time versions of\n"
    "libmutil, libzmq, czmq, libsodium, SQLite and msgpack-c.\n",
    version_run,
    NULL
};

/* ---- main ---------------------------------------------------------------- */

/*  Flushes stdout and reports a failed write (a full disk, a closed pipe):
    returns status unchanged when all output went out, else CLI_EXIT_FAIL. */
static int
finish_stdout(int status)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return status;
    cli_error("", "error writing to standard output");
    return status == CLI_EXIT_OK ? CLI_EXIT_FAIL : status;
}

/*  Raises the soft open-file limit to the hard one, as Go programs do:
    every ZeroMQ socket and connection takes a descriptor, and libzmq 4.3
    aborts the process when an ipc:// listener cannot accept a connection
    for want of one (doc/pipe.md, "Sockets"). */
static void
raise_file_limit(void)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        (void) setrlimit(RLIMIT_NOFILE, &limit);
    }
}

int
main(int argc, char **argv)
{
    raise_file_limit();
    /* A reader that goes away shows up as a write error (EPIPE) that the
       command reports, the way mu_pipe reports it, rather than as a signal. */
    signal(SIGPIPE, SIG_IGN);
    /* czmq logs (the library's warnings, such as refused handshakes) go to
       stderr, so stdout carries only a command's results. czmq's own
       SIGINT/SIGTERM handler is off: Ctrl-C ends a command at once, except
       where a command installs its own handler (serve, to print its totals). */
    zsys_handler_set(NULL);
    zsys_set_logstream(stderr);
    /* czmq sets itself up again in a forked child (a flow's supervisor and
       runners) and then logs to stdout unless its environment says stderr. */
    setenv("ZSYS_LOGSTREAM", "stderr", 1);

    if (argc < 2) {
        print_overview(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *word = argv[1];
    if (cli_is_help(word)) {
        print_overview(stdout);
        return finish_stdout(CLI_EXIT_OK);
    }
    if (strcmp(word, "--version") == 0)
        return finish_stdout(cli_cmd_version.run(&cli_cmd_version, 0, argv + 2));
    if (word[0] == '-') {
        cli_error("", "unknown option '%s'", word);
        fprintf(stderr, "run 'mutil help' for the list of commands\n");
        return CLI_EXIT_USAGE;
    }
    const cli_command_t *cmd = cli_resolve("", "command", word, commands, N_COMMANDS);
    if (cmd == NULL)
        return CLI_EXIT_USAGE;
    if (argc > 2 && cli_is_help(argv[2])) {
        cli_print_help(stdout, "", cmd);
        return finish_stdout(CLI_EXIT_OK);
    }
    return finish_stdout(cmd->run(cmd, argc - 2, argv + 2));
}
