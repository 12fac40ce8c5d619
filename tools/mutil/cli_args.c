/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  cli_args.c — the command-line conventions every mutil command shares:
    options may come anywhere among the operands; "--name=value" equals
    "--name value"; "--" ends the options (what follows is an operand even
    when it starts with '-'); "-" alone (stdin/stdout) and negative numbers
    ("-5") are operands; "--help" and "-h" ask for help. The walker
    (cli_args_next) serves commands with options that take values; the
    splitter (cli_args_split) serves the many that take only flags. */
#include "cli.h"

#include <string.h>

void
cli_args_init(cli_args_t *self, const char *who, int argc, char **argv)
{
    *self = (cli_args_t) { .who = who, .argc = argc, .argv = argv };
}

/*  A word that is an operand although it starts with '-'. */
static bool
dash_operand(const char *word)
{
    return word[1] == '\0' || (word[1] >= '0' && word[1] <= '9');
}

int
cli_args_next(cli_args_t *self, const char **operand_p)
{
    self->option[0] = '\0';
    self->value = NULL;
    while (self->index < self->argc) {
        const char *word = self->argv[self->index++];
        if (self->operands_only || word[0] != '-' || dash_operand(word)) {
            *operand_p = word;
            return CLI_ARGS_OPERAND;
        }
        if (strcmp(word, "--") == 0) {
            self->operands_only = true;
            continue;
        }
        size_t len = strcspn(word, "=");
        if (word[1] == '-' && word[len] == '=')
            self->value = word + len + 1; /* --name=value (short options never) */
        else
            len = strlen(word);
        snprintf(self->option, sizeof self->option, "%.*s", (int) len, word);
        return cli_is_help(self->option) ? CLI_ARGS_HELP : CLI_ARGS_OPTION;
    }
    return CLI_ARGS_END;
}

bool
cli_args_is(const cli_args_t *self, const char *name)
{
    return strcmp(self->option, name) == 0;
}

bool
cli_args_value(cli_args_t *self, const char **value_p)
{
    if (self->value) {
        *value_p = self->value;
        return true;
    }
    if (self->index >= self->argc) {
        cli_error(self->who, "option %s needs a value", self->option);
        return false;
    }
    *value_p = self->argv[self->index++];
    return true;
}

bool
cli_args_flag(const cli_args_t *self)
{
    if (self->value == NULL)
        return true;
    cli_error(self->who, "option %s takes no value", self->option);
    return false;
}

void
cli_args_unknown(const cli_args_t *self)
{
    cli_error(self->who, "unknown option '%s'", self->option);
}

/*  The index of the current option in flags, or -1 (printed) when it is
    none of them or came with a value. */
static int
flag_index(const cli_args_t *args, const char *const *flags)
{
    for (int i = 0; flags && flags[i]; i++)
        if (cli_args_is(args, flags[i]))
            return cli_args_flag(args) ? i : -1;
    cli_args_unknown(args);
    return -1;
}

int
cli_args_split(const cli_command_t *cmd, const char *path, const char *who, int *argc_p,
               char **argv, const char *const *flags, unsigned *seen_p)
{
    cli_args_t args;
    cli_args_init(&args, who, *argc_p, argv);
    unsigned seen = 0;
    int operands = 0;
    const char *word;
    for (int kind; (kind = cli_args_next(&args, &word)) != CLI_ARGS_END;) {
        if (kind == CLI_ARGS_HELP) {
            cli_print_help(stdout, path, cmd);
            return CLI_EXIT_OK;
        }
        if (kind == CLI_ARGS_OPERAND) {
            argv[operands++] = (char *) word; /* never overtakes the reading */
            continue;
        }
        int i = flag_index(&args, flags);
        if (i < 0) {
            cli_print_usage(stderr, path, cmd);
            return CLI_EXIT_USAGE;
        }
        seen |= 1u << i;
    }
    argv[operands] = NULL;
    *argc_p = operands;
    if (seen_p)
        *seen_p = seen;
    return CLI_ARGS_OPERAND;
}
