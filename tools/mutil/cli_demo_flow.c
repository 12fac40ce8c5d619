/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  cli_demo_flow.c — the echo flow of `mutil flow demo|serve` and
    bench/flow_demo.c (cli_demo.h): a TCP edge listening for numbers, N
    worker processes that check and pass them on, and two TCP edges
    replying with the odd and the even numbers (a broadcast link whose
    per-edge filters pick the parity). */
#include "cli_demo.h"

bool
cli_demo_parse_number(const void *data, size_t size, uint64_t *value_p)
{
    const char *p = data;
    if (size == 0 || size > CLI_DEMO_NUM_MAX)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < size; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (uint64_t) (p[i] - '0');
    }
    *value_p = v;
    return true;
}

static int
echo_handler(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state;
    uint64_t v;
    if (!cli_demo_parse_number(data, size, &v))
        return MU_EPROTO;
    return mu_flow_emit(out, data, size);
}

static bool
odd_filter(void *arg, const void *data, size_t size)
{
    (void) arg;
    return size > 0 && (((const char *) data)[size - 1] - '0') % 2 == 1;
}

static bool
even_filter(void *arg, const void *data, size_t size)
{
    (void) arg;
    return size > 0 && (((const char *) data)[size - 1] - '0') % 2 == 0;
}

mu_flow_t *
cli_demo_flow_new(int workers, int port)
{
    mu_flow_t *f = mu_flow_new("echo");
    if (!f)
        return NULL;
    mu_flow_edge_t in = { .host = "127.0.0.1",
                          .port = port,
                          .listen = true,
                          .max_frame = CLI_DEMO_NUM_MAX };
    mu_flow_edge_t odd = { .host = "127.0.0.1",
                           .port = port ? port + 1 : 0,
                           .listen = true,
                           .filter = odd_filter };
    mu_flow_edge_t even = { .host = "127.0.0.1",
                            .port = port ? port + 2 : 0,
                            .listen = true,
                            .filter = even_filter };
    if (mu_flow_add_edge(f, "in", &in) != 0
        || mu_flow_add_worker_stage(f, "work", workers, NULL, echo_handler, NULL) != 0
        || mu_flow_add_edge(f, "out", &odd) != 0 || mu_flow_add_edge(f, "out", &even) != 0
        || mu_flow_set_link(f, "out", MU_FLOW_BROADCAST, NULL, NULL, NULL) != 0)
        mu_flow_destroy(&f);
    return f;
}
