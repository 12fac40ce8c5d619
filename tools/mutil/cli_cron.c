/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  cli_cron.c — `mutil cron next EXPR`: the next fire times of a cron
    expression (mu_schedule.h), to check a schedule before deploying it. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CRON_HELP                                                                    \
    "EXPR has five fields: minute (0-59), hour (0-23), day of month (1-31), month\n" \
    "(1-12 or jan-dec), day of week (0-7 or sun-sat; 0 and 7 are Sunday). A field\n" \
    "is * or a comma list of N, N-M, with /STEP after *, N-M or N. When both day\n"  \
    "fields are restricted, a day matches if either does. @hourly, @daily,\n"        \
    "@weekly, @monthly and @yearly are accepted. Quote EXPR for the shell.\n\n"      \
    "options:\n"                                                                     \
    "  -n COUNT      how many fire times to print (1..1000, default 5)\n"            \
    "  --utc         evaluate in UTC instead of the local time zone (TZ)\n"          \
    "  --after TIME  start after TIME, seconds since the epoch (default now)\n\n"    \
    "One line per fire time: local (or UTC) date and time, weekday, zone, and the\n" \
    "seconds since the epoch. Exit status: 0 ok, 1 no fire time within 8 years,\n"   \
    "2 bad usage or a bad expression.\n"

static bool
parse_number(cli_args_t *args, uint64_t max, uint64_t *value_p)
{
    const char *text;
    if (!cli_args_value(args, &text))
        return false;
    uint64_t value;
    if (cli_parse_size(text, &value) == 0 && strspn(text, "0123456789") == strlen(text)
        && value <= max) {
        *value_p = value;
        return true;
    }
    cli_error(args->who, "%s needs a number up to %llu", args->option, (unsigned long long) max);
    return false;
}

typedef struct {
    const char *expr;
    uint64_t count, after;
    bool utc, has_after;
} cron_options_t;

/*  Returns CLI_ARGS_OPERAND to go on, else the exit status. */
static int
parse_options(const cli_command_t *self, int argc, char **argv, cron_options_t *opts)
{
    cli_args_t args;
    cli_args_init(&args, "cron next", argc, argv);
    const char *word;
    for (int kind; (kind = cli_args_next(&args, &word)) != CLI_ARGS_END;) {
        bool ok = true;
        if (kind == CLI_ARGS_HELP) {
            cli_print_help(stdout, "cron", self);
            return CLI_EXIT_OK;
        }
        if (kind == CLI_ARGS_OPERAND && !opts->expr)
            opts->expr = word;
        else if (kind == CLI_ARGS_OPERAND) {
            cli_error(args.who, "unexpected argument '%s' (quote EXPR)", word);
            ok = false;
        } else if (cli_args_is(&args, "-n")) {
            ok = parse_number(&args, 1000, &opts->count);
            if (ok && opts->count == 0) {
                cli_error(args.who, "-n needs a number from 1 to 1000");
                ok = false;
            }
        } else if (cli_args_is(&args, "--utc"))
            ok = cli_args_flag(&args) && (opts->utc = true);
        else if (cli_args_is(&args, "--after"))
            ok = parse_number(&args, (uint64_t) INT64_MAX / 2, &opts->after)
                 && (opts->has_after = true);
        else {
            cli_args_unknown(&args);
            ok = false;
        }
        if (!ok) {
            cli_print_usage(stderr, "cron", self);
            return CLI_EXIT_USAGE;
        }
    }
    if (!opts->expr) {
        cli_error(args.who, "missing EXPR");
        cli_print_usage(stderr, "cron", self);
        return CLI_EXIT_USAGE;
    }
    return CLI_ARGS_OPERAND;
}

static void
print_time(int64_t t, bool utc)
{
    time_t tt = (time_t) t;
    struct tm tm;
    if (utc)
        gmtime_r(&tt, &tm);
    else
        localtime_r(&tt, &tm);
    char text[64];
    strftime(text, sizeof text, utc ? "%Y-%m-%d %H:%M %a UTC" : "%Y-%m-%d %H:%M %a %Z", &tm);
    printf("%s  %lld\n", text, (long long) t);
}

static int
cron_next(const cli_command_t *self, int argc, char **argv)
{
    cron_options_t opts = { .count = 5 };
    int status = parse_options(self, argc, argv, &opts);
    if (status != CLI_ARGS_OPERAND)
        return status;
    mu_cron_t *cron = mu_cron_new(opts.expr, opts.utc ? MU_CRON_UTC : 0);
    if (!cron) {
        cli_error("cron next", "%s", mu_last_error());
        return CLI_EXIT_USAGE;
    }
    int64_t t = opts.has_after ? (int64_t) opts.after : (int64_t) time(NULL);
    status = CLI_EXIT_OK;
    for (uint64_t i = 0; i < opts.count; i++) {
        if (mu_cron_next(cron, t, &t) != 0) {
            cli_error("cron next", "%s", mu_last_error());
            status = CLI_EXIT_FAIL;
            break;
        }
        print_time(t, opts.utc);
    }
    mu_cron_destroy(&cron);
    return status;
}

static const cli_command_t sub_next = { "next",
                                        "EXPR [-n COUNT] [--utc] [--after TIME]",
                                        "print the next fire times of a cron expression",
                                        CRON_HELP,
                                        cron_next,
                                        NULL };
static const cli_command_t *const cron_subcommands[] = { &sub_next };
static const cli_subcommands_t cron_group = CLI_SUBCOMMANDS("cron", cron_subcommands);

static int
cron_run(const cli_command_t *self, int argc, char **argv)
{
    int status;
    const cli_command_t *sub = cli_subcommand(self, argc, argv, 0, NULL, &status);
    return sub ? sub->run(sub, argc - 1, argv + 1) : status;
}

const cli_command_t cli_cmd_cron = { "cron",
                                     "next EXPR [-n COUNT] [--utc] [--after TIME]",
                                     "check cron schedules (mu_schedule): next fire times",
                                     CRON_HELP,
                                     cron_run,
                                     &cron_group };
