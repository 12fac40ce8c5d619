/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  cli_flow_run.c — `mutil flow run FILE [--host NAME]`: runs a flow file
    (mu_flow_conf_load; the format: doc/flow.md, "Flow files") until the
    flow ends: a ready line, event lines while it runs (restarts, lost and
    joined hosts, refused handshakes, errors: the counters that grew, once a
    second), the statistics at the end (with --host, a line of multi-host
    counters a stage). SIGINT/SIGTERM drains it; a second
    one stops it at once. */
#include "cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROWS 1200

static volatile sig_atomic_t signals_seen;

static void
on_signal(int sig)
{
    (void) sig;
    signals_seen++;
}

/*  Prints "ready" with the listening edges' ports. */
static void
print_ready(mu_flow_t *f, const char *file, const char *host, const mu_flow_stats_t *rows, size_t n)
{
    printf("flow %s%s%s: ready (supervisor pid %d)", file, host ? " host " : "", host ? host : "",
           (int) mu_flow_pid(f));
    for (size_t i = 0; i < n; i++)
        if (rows[i].index >= 0) {
            int port = mu_flow_edge_port(f, rows[i].stage, rows[i].index);
            if (port > 0)
                printf(" edge %s[%d] port %d", rows[i].stage, rows[i].index, port);
        }
    printf("\n");
    fflush(stdout);
}

/*  One line per stage counter that grew since the last look. */
static void
print_events(const mu_flow_stats_t *now, size_t n, mu_flow_stats_t *last, size_t nlast)
{
    for (size_t i = 0; i < n && i < nlast; i++) {
        const mu_flow_stats_t *a = &now[i], *b = &last[i];
        if (a->index >= 0 || strcmp(a->stage, b->stage) != 0)
            continue;
        const struct {
            const char *name;
            uint64_t now, before;
        } counters[] = {
            { "restarts", a->restarts, b->restarts },
            { "errors", a->errors, b->errors },
            { "hosts lost", a->hosts_lost, b->hosts_lost },
            { "hosts joined", a->hosts_joined, b->hosts_joined },
            { "refused handshakes", a->auth_failures, b->auth_failures },
            { "redelivered", a->redelivered, b->redelivered },
        };
        for (size_t k = 0; k < sizeof counters / sizeof counters[0]; k++)
            if (counters[k].now > counters[k].before)
                printf("event: stage %s: %s +%llu (total %llu)\n", a->stage, counters[k].name,
                       (unsigned long long) (counters[k].now - counters[k].before),
                       (unsigned long long) counters[k].now);
    }
    fflush(stdout);
}

/*  Multi-host counters of each stage total at the end, one line a stage:
    "hosts: stage NAME duplicates D redelivered R lost L joined J refused A". */
static void
print_host_counters(mu_flow_t *f)
{
    static mu_flow_stats_t rows[MAX_ROWS];
    rows[0].size = sizeof rows[0];
    size_t n = 0;
    if (mu_flow_stats(f, rows, MAX_ROWS, &n) != 0)
        return;
    for (size_t i = 0; i < n && i < MAX_ROWS; i++)
        if (rows[i].index < 0)
            printf("hosts: stage %s duplicates %llu redelivered %llu lost %llu joined %llu "
                   "refused %llu\n",
                   rows[i].stage, (unsigned long long) rows[i].duplicates,
                   (unsigned long long) rows[i].redelivered,
                   (unsigned long long) rows[i].hosts_lost,
                   (unsigned long long) rows[i].hosts_joined,
                   (unsigned long long) rows[i].auth_failures);
}

/*  Runs the started flow until it ends; returns its end code. */
static int
run_until_end(mu_flow_t *f, const char *file, const char *host)
{
    static mu_flow_stats_t rows[MAX_ROWS], last[MAX_ROWS];
    size_t n = 0, nlast = 0;
    rows[0].size = sizeof rows[0];
    if (mu_flow_stats(f, rows, MAX_ROWS, &n) != 0)
        n = 0;
    print_ready(f, file, host, rows, n < MAX_ROWS ? n : MAX_ROWS);
    memcpy(last, rows, sizeof rows[0] * (n < MAX_ROWS ? n : MAX_ROWS));
    nlast = n;
    int handled = 0;
    for (int slice = 1;; slice++) {
        int rc = mu_flow_wait(f, 200);
        /* A flow that failed its stage deadline ends with MU_ETIMEDOUT too:
           the state tells it from "still running". */
        int code = 0;
        mu_flow_state_t state = mu_flow_state(f, &code);
        if (state == MU_FLOW_FINISHED || state == MU_FLOW_FAILED)
            return code;
        if (rc != MU_ETIMEDOUT)
            return rc;
        if (signals_seen > handled) { /* the first drains, a second stops at once */
            handled = signals_seen;
            fprintf(stderr, "mutil flow run: %s\n",
                    handled == 1 ? "draining (again to stop at once)" : "stopping at once");
            kill(mu_flow_pid(f), handled == 1 ? SIGTERM : SIGKILL);
        }
        if (slice % 5 != 0)
            continue;
        rows[0].size = sizeof rows[0];
        if (mu_flow_stats(f, rows, MAX_ROWS, &n) == 0) {
            print_events(rows, n, last, nlast);
            memcpy(last, rows, sizeof rows[0] * (n < MAX_ROWS ? n : MAX_ROWS));
            nlast = n;
        }
    }
}

/*  Reads the options: FILE and --host NAME. Returns CLI_ARGS_OPERAND to go
    on, else the exit status (help or usage printed). */
static int
parse_options(const cli_command_t *self, int argc, char **argv, const char **file_p,
              const char **host_p)
{
    cli_args_t args;
    cli_args_init(&args, "flow run", argc, argv);
    const char *word;
    for (int kind; (kind = cli_args_next(&args, &word)) != CLI_ARGS_END;) {
        bool ok = true;
        if (kind == CLI_ARGS_HELP) {
            cli_print_help(stdout, "flow", self);
            return CLI_EXIT_OK;
        }
        if (kind == CLI_ARGS_OPERAND && !*file_p)
            *file_p = word;
        else if (kind == CLI_ARGS_OPERAND) {
            cli_error(args.who, "unexpected argument '%s'", word);
            ok = false;
        } else if (cli_args_is(&args, "--host"))
            ok = cli_args_value(&args, host_p);
        else {
            cli_args_unknown(&args);
            ok = false;
        }
        if (!ok) {
            cli_print_usage(stderr, "flow", self);
            return CLI_EXIT_USAGE;
        }
    }
    if (!*file_p) {
        cli_error(args.who, "missing the flow file");
        cli_print_usage(stderr, "flow", self);
        return CLI_EXIT_USAGE;
    }
    return CLI_ARGS_OPERAND;
}

static int
flow_run_file(const cli_command_t *self, int argc, char **argv)
{
    const char *file = NULL, *host = NULL;
    int status = parse_options(self, argc, argv, &file, &host);
    if (status != CLI_ARGS_OPERAND)
        return status;
    mu_flow_conf_t *conf = mu_flow_conf_load(file, host);
    if (!conf) {
        cli_error("flow run", "%s", mu_last_error());
        return CLI_EXIT_USAGE;
    }
    mu_flow_t *f = mu_flow_conf_flow(conf);
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int rc = mu_flow_start(f);
    if (rc != 0) {
        cli_error("flow run", "cannot start the flow: %s", mu_last_error());
        mu_flow_conf_destroy(&conf);
        return rc == MU_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    }
    rc = run_until_end(f, file, host);
    cli_flow_print_stats(f);
    if (host)
        print_host_counters(f);
    if (rc == 0)
        printf("flow %s: finished\n", file);
    else
        cli_error("flow run", "the flow failed (%s): %s", cli_errname(rc), mu_last_error());
    mu_flow_conf_destroy(&conf);
    return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

const cli_command_t cli_flow_sub_run = {
    "run",
    "FILE [--host NAME]",
    "run a flow file (JSON; doc/flow.md) until the flow ends",
    "Loads the flow file (the format: doc/flow.md, \"Flow files\"), starts this\n"
    "host's part of the flow (--host NAME: one of the file's hosts; needed when\n"
    "the file lists hosts) and runs it until it ends. Prints a ready line\n"
    "(\"flow FILE [host NAME]: ready (supervisor pid P)\", with the ports of the\n"
    "listening edges), an event line when a stage's restarts, errors, lost or\n"
    "joined hosts, refused handshakes or redeliveries grow (checked every\n"
    "second), and the statistics at the end. SIGINT or SIGTERM drains the\n"
    "flow; a second one stops it at once.\n\n"
    "Exit status: 0 the flow finished (a complete drain), 1 it failed (the\n"
    "reason is printed), 2 bad usage or a bad flow file (the message names\n"
    "the file's line or key).\n",
    flow_run_file,
    NULL
};
