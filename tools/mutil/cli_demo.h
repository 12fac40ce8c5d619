/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  cli_demo.h — the echo demo's two halves, shared by `mutil flow demo|serve`
    (tools/mutil/cli_flow.c) and bench/flow_demo.c:

      cli_demo_flow.c    the echo flow on the public mu_flow API (an inbound
                         TCP edge, N workers checking the numbers, two
                         outbound TCP edges for the odd and the even ones);
      cli_demo_client.c  the checking load generator: it connects to three
                         TCP ports (inbound, odd, even), sends the numbers
                         1..count as frames (4-byte little-endian length,
                         then the decimal digits) and checks that each comes
                         back exactly once on the port of its parity.

    Needs only "config.h" and "mutil.h" (not the tool's cli.h), so a
    benchmark can compile both files. Never installed. */
#ifndef CLI_DEMO_H_INCLUDED
#define CLI_DEMO_H_INCLUDED

#include "config.h"
#include "mutil.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLI_DEMO_WINDOW 2000     /* numbers in flight (flood; paced: at least) */
#define CLI_DEMO_NUM_MAX 20      /* digits of a number frame */
#define CLI_DEMO_P99_BAR_US 2000 /* issue 16: paced p99 <= 2 ms at the rate */
#define CLI_DEMO_WARMUP 2000     /* numbers of cli_demo_warm_up */

/* ---- the flow (cli_demo_flow.c) ---------------------------------------------- */

/*  Parses a number frame; false when it is not 1..20 decimal digits. */
bool cli_demo_parse_number(const void *data, size_t size, uint64_t *value_p);

/*  The echo flow, not started; port: the inbound edge's (odd port + 1,
    even port + 2), 0: ephemeral ports. NULL when mu_flow refused it
    (mu_last_error). The caller owns it (mu_flow_destroy). */
mu_flow_t *cli_demo_flow_new(int workers, int port);

/* ---- the client (cli_demo_client.c) ------------------------------------------- */

typedef struct {
    uint64_t count;  /* numbers 1..count */
    uint64_t rate;   /* numbers per second; 0: flood */
    uint64_t window; /* numbers in flight at most; 0: cli_demo_window(rate) */
} cli_demo_opts_t;

typedef struct {
    uint64_t count, rate, window;    /* as run */
    uint64_t received, wrong, dupes; /* right, wrong edge or malformed, twice */
    double secs;                     /* first send to last reply */
    double msgs;                     /* received / secs */
    double p50_us, p99_us, p999_us;  /* latency from send (paced: from due) */
    double first_us;                 /* first send to first reply (0: no reply) */
    int64_t cpu_ns;                  /* the client thread's CPU time */
    char error[160];                 /* why it failed, "" when it did not */
} cli_demo_result_t;

/*  The window for a rate: CLI_DEMO_WINDOW, or more when 50 ms of the
    schedule holds more. */
uint64_t cli_demo_window(uint64_t rate);

/*  Runs the client against 127.0.0.1's ports in, odd and even; fills *r.
    Returns true when every number came back exactly once on the right
    port (false: r->error says why when a connection failed, stalled for
    10 s or memory ran out; else the counts do). Blocks until done. */
bool cli_demo_client_run(int in, int odd, int even, const cli_demo_opts_t *o, cli_demo_result_t *r);

/*  Warms a flow up before a measured run: runs the client (own
    connections, flood) with CLI_DEMO_WARMUP numbers and returns when each
    came back, so that the flow's processes are up and linked; r->first_us
    is then how long the first answer took (the flow's start-up as a
    client sees it). Returns and fills *r as cli_demo_client_run, without
    its wait for late duplicates. */
bool cli_demo_warm_up(int in, int odd, int even, cli_demo_result_t *r);

/*  Prints "N of M numbers back ..." and the throughput and latency line:
    text, or one JSON line (json; bench "flow_demo", with the paced
    mode's bar). */
void cli_demo_print(const cli_demo_result_t *r, bool json);

#endif
