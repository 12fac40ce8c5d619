/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  cli_flow.c — `mutil flow demo|serve|help`: the echo dataflow of the seeds
    run end to end, or served to clients of your own (the Python binding's
    cross-language test is one).

    demo builds the flow "echo": a TCP edge listening for numbers, N worker
    processes that check and pass them on, and two TCP edges replying with
    the odd and the even numbers (a broadcast link whose per-edge filters
    pick the parity). A client in this process connects to the three edges,
    sends the numbers 1..COUNT as decimal text frames (4-byte little-endian
    length, then the digits) with a window of numbers in flight, and checks
    that every number comes back exactly once, on the edge of its parity. It
    prints messages/s and the latency percentiles, then the flow's
    statistics. Flood (the default) sends as fast as the window allows;
    --rate N paces the numbers at N per second, each one's latency counted
    from the time it was due (no coordinated omission). The flow and the
    client are in cli_demo_flow.c and cli_demo_client.c (cli_demo.h), which
    bench/flow_demo.c shares. --json prints the summary as one JSON line instead (for
    tools/bench_tables.py): bench "flow_demo", case "flood" or "paced". */
#include "cli.h"
#include "cli_demo.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*  The help of "flow demo" and "flow serve", also part of "mutil help flow". */
#define DEMO_HELP                                                                \
    "demo runs the echo flow: an inbound TCP edge, --workers worker processes\n" \
    "(default: the number of cores, at most 256) and two outbound TCP\n"         \
    "edges, one for odd and one for even numbers. A client sends the numbers\n"  \
    "1..--count (default 100000) and checks that each comes back exactly once\n" \
    "on the right edge; then the throughput, latency percentiles and the\n"      \
    "flow's statistics per stage and worker are printed. By default the\n"       \
    "client floods (2000 numbers in flight); --rate N paces it at N numbers\n"   \
    "per second, latency counted from when each number was due; --json\n"        \
    "prints that line as one JSON line (for tools/bench_tables.py). Before\n"    \
    "the timed run the demo waits until the flow's processes are up and\n"       \
    "linked (the time since the start is printed), then a warm-up sends 2000\n"  \
    "numbers, untimed, and waits for them: its first answer's time is\n"         \
    "printed, and the statistics count its numbers too.\n"
#define SERVE_HELP                                                               \
    "serve runs the same flow for clients of your own: it prints the edges'\n"   \
    "ports (--port P: inbound P, odd P+1, even P+2; default ephemeral ports),\n" \
    "then runs until SIGINT or SIGTERM, drains and prints the statistics.\n"

#define FLOW_HELP                                                                     \
    DEMO_HELP "\n" SERVE_HELP "\n"                                                    \
              "run runs a flow file (JSON: hosts, stages with external-command or\n"  \
              "shared-library handlers, links; doc/flow.md \"Flow files\"): see\n"    \
              "'mutil help flow run'.\n\n"                                            \
              "Exit status: 0 every number came back right (demo) or a clean drain\n" \
              "(serve), 1 otherwise, 2 bad usage.\n"

/* ---- the demo ---------------------------------------------------------------------- */

enum { STATS_COLS = 15, COL_PIPELINE = 0, COL_PID = 3 };

/*  The cells of one statistics row, every column (each at most 79 bytes). */
static void
stats_cells(const mu_flow_stats_t *r, char cells[STATS_COLS][80])
{
    snprintf(cells[0], 80, "%s", r->pipeline);
    snprintf(cells[1], 80, "%s", r->stage);
    snprintf(cells[2], 80, r->index < 0 ? "all" : "%d", r->index);
    snprintf(cells[3], 80, r->pid > 0 ? "%d" : "-", (int) r->pid);
    const uint64_t counts[] = { r->in, r->out, r->errors, r->restarts, r->drops };
    for (int k = 0; k < 5; k++) /* in .. drops: cells 4 to 8 */
        snprintf(cells[4 + k], 80, "%llu", (unsigned long long) counts[k]);
    snprintf(cells[9], 80, "%lld", (long long) r->queue); /* signed: see mu_flow_stats_t */
    const uint64_t clients[] = { r->clients, r->clients_idle, r->clients_slow };
    for (int k = 0; k < 3; k++) /* clients, idle, slow: cells 10 to 12 */
        snprintf(cells[10 + k], 80, "%llu", (unsigned long long) clients[k]);
    snprintf(cells[13], 80, "%.1f", r->p50_us);
    snprintf(cells[14], 80, "%.1f", r->p99_us);
}

void
cli_flow_print_stats(mu_flow_t *f)
{
    static mu_flow_stats_t rows[600];
    rows[0].size = sizeof rows[0];
    size_t n = 0;
    if (mu_flow_stats(f, rows, 600, &n) != 0)
        return;
    n = n < 600 ? n : 600;
    /*  The pipeline column only when the flow has several pipelines; the
        pid column only while some runner runs (after the end none does). */
    bool pipes = false, pids = false;
    for (size_t i = 0; i < n; i++) {
        pipes = pipes || strcmp(rows[i].pipeline, rows[0].pipeline) != 0;
        pids = pids || rows[i].pid > 0;
    }
    static const char *const headers[STATS_COLS] = { "pipeline", "stage",  "runner",  "pid",
                                                     "in",       "out",    "errors",  "restarts",
                                                     "drops",    "queue",  "clients", "idle",
                                                     "slow",     "p50 us", "p99 us" };
    const char *shown[STATS_COLS];
    int cols = 0, keep[STATS_COLS];
    for (int c = 0; c < STATS_COLS; c++)
        if ((c != COL_PIPELINE || pipes) && (c != COL_PID || pids)) {
            keep[cols] = c;
            shown[cols++] = headers[c];
        }
    cli_table_t *t = cli_table_new(cols, shown);
    for (size_t i = 0; t && i < n; i++) {
        char cells[STATS_COLS][80];
        stats_cells(&rows[i], cells);
        for (int k = 0; k < cols; k++)
            shown[k] = cells[keep[k]];
        if (cli_table_add(t, shown) != 0)
            break;
    }
    if (t)
        cli_table_print(t, stdout, 0);
    cli_table_destroy(&t);
}

/*  Reads the current option's value as a number in 1..max into *v.
    Returns false after printing why. */
static bool
parse_count(cli_args_t *args, uint64_t max, uint64_t *v)
{
    const char *text = NULL;
    if (cli_args_value(args, &text) && cli_parse_size(text, v) == 0 && *v >= 1 && *v <= max)
        return true;
    if (text)
        cli_error(args->who, "%s needs a number from 1 to %llu", args->option,
                  (unsigned long long) max);
    return false;
}

/*  Parses the options of "flow demo" and "flow serve" (who): --workers N
    (1..256), the command's own numeric option (--count or --port, up to
    max, into *value) and, when rate is not NULL, --rate N (1..10^8
    numbers/s) and --json (into *json). Returns CLI_ARGS_OPERAND to go on,
    else the exit status (help or usage printed). */
static int
parse_options(const cli_command_t *self, const char *who, int argc, char **argv, uint64_t *workers,
              const char *option, uint64_t max, uint64_t *value, uint64_t *rate, bool *json)
{
    cli_args_t args;
    cli_args_init(&args, who, argc, argv);
    const char *word;
    for (int kind; (kind = cli_args_next(&args, &word)) != CLI_ARGS_END;) {
        bool ok = false;
        if (kind == CLI_ARGS_HELP) {
            cli_print_help(stdout, "flow", self);
            return CLI_EXIT_OK;
        }
        if (kind == CLI_ARGS_OPERAND)
            cli_error(args.who, "unexpected argument '%s'", word);
        else if (cli_args_is(&args, "--workers"))
            ok = parse_count(&args, 256, workers);
        else if (cli_args_is(&args, option))
            ok = parse_count(&args, max, value);
        else if (rate && cli_args_is(&args, "--rate"))
            ok = parse_count(&args, 100000000, rate);
        else if (json && cli_args_is(&args, "--json"))
            ok = *json = cli_args_flag(&args);
        else
            cli_args_unknown(&args);
        if (!ok) {
            cli_print_usage(stderr, "flow", self);
            return CLI_EXIT_USAGE;
        }
    }
    return CLI_ARGS_OPERAND;
}

/*  Waits until f's processes are ready (mu_flow_wait_ready), then runs the
    demo's warm-up (cli_demo_warm_up) against f's edges; prints when they
    were ready (since started_ns) and when the warm-up's first answer came,
    or why either failed. */
static bool
demo_warm_up(mu_flow_t *f, int64_t started_ns)
{
    int rc = mu_flow_wait_ready(f, 30000);
    if (rc != 0) {
        cli_error("flow demo", "the flow did not get ready: %s", mu_last_error());
        return false;
    }
    printf("ready: every process up and linked %.1f ms after the start\n",
           (double) (mu_timer_now_ns() - started_ns) / 1e6);
    cli_demo_result_t r;
    if (cli_demo_warm_up(mu_flow_edge_port(f, "in", 0), mu_flow_edge_port(f, "out", 0),
                         mu_flow_edge_port(f, "out", 1), &r)) {
        printf("warm-up: %d numbers back (untimed), the first after %.1f ms\n", CLI_DEMO_WARMUP,
               r.first_us / 1000.0);
        return true;
    }
    cli_error("flow demo", "the warm-up failed: %s",
              r.error[0] ? r.error : "a number was lost, duplicated or wrong");
    cli_demo_print(&r, false);
    return false;
}

static int
flow_demo(const cli_command_t *self, int argc, char **argv)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t workers = (uint64_t) (cores > 0 ? cores : 1), count = 100000, rate = 0;
    if (workers > 256)
        workers = 256;
    bool json = false;
    int status = parse_options(self, "flow demo", argc, argv, &workers, "--count", 100000000,
                               &count, &rate, &json);
    if (status != CLI_ARGS_OPERAND)
        return status;
    mu_flow_t *f = cli_demo_flow_new((int) workers, 0);
    int64_t started_ns = mu_timer_now_ns();
    int rc = f ? mu_flow_start(f) : MU_ENOMEM;
    if (rc != 0) {
        cli_error("flow demo", "cannot start the flow: %s", mu_strerror(rc));
        mu_flow_destroy(&f);
        return CLI_EXIT_FAIL;
    }
    printf("echo flow: inbound edge port %d, %llu workers, odd edge port %d, even edge port %d\n",
           mu_flow_edge_port(f, "in", 0), (unsigned long long) workers,
           mu_flow_edge_port(f, "out", 0), mu_flow_edge_port(f, "out", 1));
    bool ok = demo_warm_up(f, started_ns);
    if (ok) {
        cli_demo_opts_t opts = { .count = count, .rate = rate };
        cli_demo_result_t res;
        ok = cli_demo_client_run(mu_flow_edge_port(f, "in", 0), mu_flow_edge_port(f, "out", 0),
                                 mu_flow_edge_port(f, "out", 1), &opts, &res);
        if (res.error[0])
            cli_error("flow demo", "%s", res.error);
        cli_demo_print(&res, json);
    }
    int stop = mu_flow_stop(f, 5000);
    if (stop != 0) {
        cli_error("flow demo", "the flow failed (%s): %s", mu_errname(stop), mu_last_error());
        ok = false;
    }
    cli_flow_print_stats(f);
    mu_flow_destroy(&f);
    printf("%s\n", ok ? "ok: every number came back exactly once on the right edge" : "FAILED");
    return ok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/*  Waits for the end of the flow or a signal; then drains. Returns the end. */
static int
serve_until_signal(mu_flow_t *f)
{
    int end = MU_EAGAIN;
    while (end == MU_EAGAIN && !cli_interrupted()) {
        int rc = mu_flow_wait(f, 200);
        end = rc == MU_ETIMEDOUT ? MU_EAGAIN : rc; /* still running, or the end */
    }
    return end == MU_EAGAIN ? mu_flow_stop(f, -1) : end;
}

static int
flow_serve(const cli_command_t *self, int argc, char **argv)
{
    uint64_t workers = 4, port = 0;
    int status = parse_options(self, "flow serve", argc, argv, &workers, "--port", 65533, &port,
                               NULL, NULL);
    if (status != CLI_ARGS_OPERAND)
        return status;
    mu_flow_t *f = cli_demo_flow_new((int) workers, (int) port);
    cli_catch_interrupts();
    int rc = f ? mu_flow_start(f) : MU_ENOMEM;
    if (rc != 0) {
        cli_error("flow serve", "cannot start the flow: %s", mu_strerror(rc));
        mu_flow_destroy(&f);
        return CLI_EXIT_FAIL;
    }
    printf("echo flow: inbound edge port %d, %llu workers, odd edge port %d, even edge port %d\n",
           mu_flow_edge_port(f, "in", 0), (unsigned long long) workers,
           mu_flow_edge_port(f, "out", 0), mu_flow_edge_port(f, "out", 1));
    fflush(stdout);
    rc = serve_until_signal(f);
    if (rc != 0)
        cli_error("flow serve", "the flow failed (%s): %s", mu_errname(rc), mu_last_error());
    cli_flow_print_stats(f);
    mu_flow_destroy(&f);
    return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int flow_help(const cli_command_t *self, int argc, char **argv);

static const cli_command_t sub_demo = { "demo",
                                        "[--workers N] [--count N] [--rate N] [--json]",
                                        "run the echo flow with a checking client",
                                        DEMO_HELP "\nExit status: 0 every number came back "
                                                  "right, 1 otherwise, 2 bad usage.\n",
                                        flow_demo,
                                        NULL };
static const cli_command_t sub_serve = { "serve",
                                         "[--workers N] [--port P]",
                                         "run the echo flow for other clients until a signal",
                                         SERVE_HELP "\nExit status: 0 a clean drain, 1 "
                                                    "otherwise, 2 bad usage.\n",
                                         flow_serve,
                                         NULL };
static const cli_command_t sub_help = { "help", "",        "describe the flow commands",
                                        NULL,   flow_help, NULL };
static const cli_command_t *const flow_subcommands[] = { &sub_demo, &sub_serve, &cli_flow_sub_run,
                                                         &sub_help };
static const cli_subcommands_t flow_group = CLI_SUBCOMMANDS("flow", flow_subcommands);

static int
flow_help(const cli_command_t *self, int argc, char **argv)
{
    int status = cli_args_split(self, "flow", "flow help", &argc, argv, NULL, NULL);
    if (status != CLI_ARGS_OPERAND)
        return status;
    if (argc > 0) {
        cli_error("flow help", "unexpected argument '%s'", argv[0]);
        cli_print_usage(stderr, "flow", self);
        return CLI_EXIT_USAGE;
    }
    cli_print_help(stdout, "", &cli_cmd_flow);
    return CLI_EXIT_OK;
}

static int
flow_run(const cli_command_t *self, int argc, char **argv)
{
    int status;
    const cli_command_t *sub = cli_subcommand(self, argc, argv, 0, NULL, &status);
    return sub ? sub->run(sub, argc - 1, argv + 1) : status;
}

const cli_command_t cli_cmd_flow = {
    "flow",
    "demo [--workers N] [--count N] [--rate N] [--json]\n"
    "serve [--workers N] [--port P]\n"
    "run FILE [--host NAME]\nhelp",
    "run multi-process dataflows (mu_flow): the echo demo, flow files",
    FLOW_HELP,
    flow_run,
    &flow_group
};
