/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  cli_num.c — `mutil num round X STEP [--down|--up]` and `mutil num price
    X... [--decimals N | --min N --max N] [--pad W] [--sep C|none]`: the
    rounding and price formatting of include/mu_numeric.h from the shell. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define NUM_ROUND_HELP                                                             \
    "round X STEP: prints X rounded to a multiple of STEP (> 0), to the nearest\n" \
    "multiple (a tie away from zero), or down / up with --down / --up. The\n"      \
    "result keeps STEP's decimals only (0.1 x 33 prints 3.3).\n"                   \
    "  mutil num round 12.345 0.05        12.35\n"                                 \
    "  mutil num round 0.24 0.07 --down   0.21\n"

#define NUM_PRICE_HELP                                                              \
    "price X...: prints each X as a price, one per line: 2 to 4 decimals and ','\n" \
    "between thousands (1234567.5 prints 1,234,567.50).\n"                          \
    "  --decimals N   exactly N decimals (0..17)\n"                                 \
    "  --min N        at least N decimals (default 2)\n"                            \
    "  --max N        at most N decimals (default 4, at least --min, up to 17)\n"   \
    "  --pad W        right-align to W characters (0..1000)\n"                      \
    "  --sep C        the thousands separator: one printable character, or\n"       \
    "                 'none' (default ',')\n"                                       \
    "  mutil num price 1234567.891 --decimals 2 --pad 16\n"

#define NUM_STATUS_HELP "Exit status: 0 ok, 2 bad usage (a number that does not parse included).\n"

/*  Parses text as a whole decimal number (strtod: also nan, inf, 1e3).
    False after printing why. */
static bool
parse_number(const char *who, const char *what, const char *text, double *v)
{
    char *end = NULL;
    errno = 0;
    *v = strtod(text, &end);
    if (end != text && *end == '\0' && errno != ERANGE)
        return true;
    cli_error(who, "%s '%s' is not a number", what, text);
    return false;
}

/*  Reads the current option's value as an integer in 0..max into *v.
    False after printing why. */
static bool
parse_int_option(cli_args_t *args, int max, int *v)
{
    const char *text = NULL;
    uint64_t n;
    if (cli_args_value(args, &text) && text[strspn(text, "0123456789")] == '\0'
        && cli_parse_size(text, &n) == 0 && n <= (uint64_t) max) {
        *v = (int) n;
        return true;
    }
    if (text)
        cli_error(args->who, "%s needs a whole number from 0 to %d", args->option, max);
    return false;
}

/*  Prints v in the fewest significant digits that read back as v. */
static void
print_shortest(double v)
{
    char text[40];
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, v);
        if (strtod(text, NULL) == v)
            break;
    }
    printf("%s\n", text);
}

static int
usage_failure(const cli_command_t *self)
{
    cli_print_usage(stderr, "num", self);
    return CLI_EXIT_USAGE;
}

static int
round_run(const cli_command_t *self, int argc, char **argv)
{
    static const char *const flags[] = { "--down", "--up", NULL };
    unsigned seen = 0;
    int status = cli_args_split(self, "num", "num round", &argc, argv, flags, &seen);
    if (status != CLI_ARGS_OPERAND)
        return status;
    if (seen == 3) {
        cli_error("num round", "--down and --up exclude each other");
        return usage_failure(self);
    }
    if (argc != 2) {
        if (argc > 2)
            cli_error("num round", "unexpected argument '%s'", argv[2]);
        else
            cli_error("num round", argc ? "missing STEP" : "missing X and STEP");
        return usage_failure(self);
    }
    double x, step, result;
    if (!parse_number("num round", "X", argv[0], &x)
        || !parse_number("num round", "STEP", argv[1], &step))
        return usage_failure(self);
    mu_round_t mode = seen & 1 ? MU_ROUND_DOWN : seen & 2 ? MU_ROUND_UP : MU_ROUND_NEAREST;
    if (mu_round_step(x, step, mode, &result) != 0) {
        cli_error("num round", "STEP must be a finite number above 0, not '%s'", argv[1]);
        return usage_failure(self);
    }
    print_shortest(result);
    return CLI_EXIT_OK;
}

typedef struct {
    int min, max, pad;
    char sep;
} price_opts_t;

/*  Reads --sep's value: one printable character (not a digit, '-' or
    '.') or "none". */
static bool
parse_sep(cli_args_t *args, char *sep)
{
    const char *text = NULL;
    if (!cli_args_value(args, &text))
        return false;
    if (strcmp(text, "none") == 0) {
        *sep = '\0';
        return true;
    }
    if (strlen(text) == 1 && text[0] > ' ' && text[0] < 127 && !strchr("0123456789-.", text[0])) {
        *sep = text[0];
        return true;
    }
    cli_error(args->who, "--sep needs one printable character other than a digit, '-' or '.', "
                         "or 'none'");
    return false;
}

/*  Parses price's options, keeping the operands in argv. Returns
    CLI_ARGS_OPERAND to go on, else the exit status (printed). */
static int
price_options(const cli_command_t *self, int *argc_p, char **argv, price_opts_t *o)
{
    cli_args_t args;
    cli_args_init(&args, "num price", *argc_p, argv);
    int operands = 0, decimals = -1;
    const char *word;
    for (int kind; (kind = cli_args_next(&args, &word)) != CLI_ARGS_END;) {
        bool ok = true;
        if (kind == CLI_ARGS_HELP) {
            cli_print_help(stdout, "num", self);
            return CLI_EXIT_OK;
        } else if (kind == CLI_ARGS_OPERAND) {
            argv[operands++] = (char *) word;
        } else if (cli_args_is(&args, "--decimals")) {
            ok = parse_int_option(&args, MU_FMT_MAX_DECIMALS, &decimals);
        } else if (cli_args_is(&args, "--min")) {
            ok = parse_int_option(&args, MU_FMT_MAX_DECIMALS, &o->min);
        } else if (cli_args_is(&args, "--max")) {
            ok = parse_int_option(&args, MU_FMT_MAX_DECIMALS, &o->max);
        } else if (cli_args_is(&args, "--pad")) {
            ok = parse_int_option(&args, 1000, &o->pad);
        } else if (cli_args_is(&args, "--sep")) {
            ok = parse_sep(&args, &o->sep);
        } else {
            cli_args_unknown(&args);
            ok = false;
        }
        if (!ok)
            return usage_failure(self);
    }
    if (decimals >= 0)
        o->min = o->max = decimals;
    if (o->max < o->min) {
        cli_error("num price", "--max %d is below --min %d", o->max, o->min);
        return usage_failure(self);
    }
    argv[operands] = NULL;
    *argc_p = operands;
    return CLI_ARGS_OPERAND;
}

static int
price_run(const cli_command_t *self, int argc, char **argv)
{
    price_opts_t o = { .min = 2, .max = 4, .pad = 0, .sep = ',' };
    int status = price_options(self, &argc, argv, &o);
    if (status != CLI_ARGS_OPERAND)
        return status;
    if (argc == 0) {
        cli_error("num price", "missing X");
        return usage_failure(self);
    }
    double *values = calloc((size_t) argc, sizeof *values);
    if (!values) {
        cli_error("num price", "out of memory");
        return CLI_EXIT_FAIL;
    }
    for (int i = 0; i < argc; i++)
        if (!parse_number("num price", "X", argv[i], &values[i])) {
            free(values);
            return usage_failure(self);
        }
    char text[1100]; /* a padded 1000 characters, or 309 digits with separators */
    for (int i = 0; i < argc; i++) {
        int n = mu_fmt_decimal(text, sizeof text, values[i], o.min, o.max, o.sep, o.pad);
        if (n < 0 || (size_t) n >= sizeof text) { /* not expected: options were checked */
            cli_error("num price", "cannot format '%s': %s", argv[i], mu_strerror(n));
            free(values);
            return CLI_EXIT_FAIL;
        }
        printf("%s\n", text);
    }
    free(values);
    return CLI_EXIT_OK;
}

static const cli_command_t num_round = { "round",
                                         "X STEP [--down | --up]",
                                         "round X to a multiple of STEP",
                                         NUM_ROUND_HELP "\n" NUM_STATUS_HELP,
                                         round_run,
                                         NULL };

static const cli_command_t num_price = {
    "price",
    "X... [--decimals N | --min N --max N] [--pad W] [--sep C|none]",
    "format numbers as prices",
    NUM_PRICE_HELP "\n" NUM_STATUS_HELP,
    price_run,
    NULL
};

static const cli_command_t *const num_subcommands[] = { &num_price, &num_round };
static const cli_subcommands_t num_group = CLI_SUBCOMMANDS("num", num_subcommands);

static int
num_run(const cli_command_t *self, int argc, char **argv)
{
    int status;
    const cli_command_t *sub = cli_subcommand(self, argc, argv, 0, NULL, &status);
    return sub ? sub->run(sub, argc - 1, argv + 1) : status;
}

const cli_command_t cli_cmd_num = {
    "num",
    "round X STEP [--down | --up]\n"
    "price X... [--decimals N | --min N --max N] [--pad W] [--sep C|none]",
    "round numbers to a step and format prices",
    "Subcommands may be abbreviated (num r).\n\n" NUM_ROUND_HELP "\n" NUM_PRICE_HELP
    "\n" NUM_STATUS_HELP,
    num_run,
    &num_group
};
