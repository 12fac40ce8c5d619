/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_flow_batch.c — the batches of the links between runners
    (doc/flow.md, "Latency"): order kept when small (batched) and large
    (sent alone) messages mix; a slow handler call sends what it emitted
    before the runner's next call; a source's message leaves at once. A
    runner waiting for its own output to arrive downstream (a pipe the
    sink writes) would wait forever if the output stayed in an open batch:
    each wait has a generous bound and reports a miss instead. */
#include "mu_test.h"
#include "mutil.h"
#include "flow_test.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define MIXED_COUNT 3000
#define LARGE_SIZE 2000 /* over the 1 KiB batch limit */
#define MISSED 99       /* the id a runner emits when its wait timed out */

static int seen_pipe[2] = { -1, -1 }; /* the sink writes each id it took */

/*  Waits up to 20 s (scaled) until the sink reports id. */
static bool
wait_seen(uint64_t id)
{
    uint64_t got;
    while (read_full(seen_pipe[0], &got, sizeof got, 20000))
        if (got == id)
            return true;
    return false;
}

/*  Reports the id (first 8 bytes) into the results and the seen pipe. */
static int
seen_sink(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) out;
    record_t rec = { .index = (int32_t) (intptr_t) state };
    if (size < sizeof rec.id)
        return MU_EINVAL;
    memcpy(&rec.id, data, sizeof rec.id);
    if (write(seen_pipe[1], &rec.id, sizeof rec.id) != (ssize_t) sizeof rec.id)
        return -errno;
    return write(result_fd, &rec, sizeof rec) == (ssize_t) sizeof rec ? 0 : -errno;
}

static void
open_pipes(void)
{
    open_results();
    MU_CHECK_EQ(pipe(seen_pipe), 0);
    fcntl(seen_pipe[0], F_SETPIPE_SZ, 1024 * 1024);
}

static void
close_pipes(void)
{
    close_results();
    close(seen_pipe[0]);
    close(seen_pipe[1]);
}

/*  Runs src -> w (1 runner, handler) -> snk (1 runner) to its end; checks
    that the records are the ids 0..n-1 in order. */
static void
run_chain(const char *name, mu_flow_source_fn *src, mu_flow_handler_fn *handler, size_t n)
{
    open_pipes();
    mu_flow_t *f = mu_flow_new(name);
    MU_CHECK(f);
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, src, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "w", 1, NULL, handler, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "snk", 1, sink_startup, seen_sink, NULL), 0);
    MU_CHECK_EQ(mu_flow_run(f), 0);
    static record_t recs[MIXED_COUNT + 1];
    size_t got = read_rest(recs, n + 1);
    MU_CHECK_EQ(got, n);
    for (size_t i = 0; i < got && i < n; i++)
        if (recs[i].id != i) {
            printf("# record %zu: id %llu\n", i, (unsigned long long) recs[i].id);
            MU_CHECK_EQ(recs[i].id, i);
            break;
        }
    mu_flow_destroy(&f);
    close_pipes();
}

/* ---- small and large messages in one stream ------------------------------------------- */

static uint64_t mixed_next;

/*  Emits ids 0..MIXED_COUNT-1; every 7th message is LARGE_SIZE bytes. */
static int
mixed_source(void *arg, int index, mu_flow_emit_t *out)
{
    (void) arg;
    (void) index;
    static uint8_t buf[LARGE_SIZE];
    uint64_t id = mixed_next++;
    memcpy(buf, &id, sizeof id);
    int rc = mu_flow_emit(out, buf, id % 7 == 3 ? LARGE_SIZE : sizeof id);
    if (rc != 0)
        return rc;
    return mixed_next < MIXED_COUNT ? MU_FLOW_MORE : 0;
}

static int
forward(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state;
    return mu_flow_emit(out, data, size);
}

static void
test_mixed_sizes_keep_order(void)
{
    run_chain("bmix", mixed_source, forward, MIXED_COUNT);
}

/* ---- a slow call sends what it emitted -------------------------------------------------- */

static uint64_t two_next;

/*  Emits ids 0 and 1, then ends. */
static int
two_source(void *arg, int index, mu_flow_emit_t *out)
{
    (void) arg;
    (void) index;
    uint64_t id = two_next++;
    int rc = mu_flow_emit(out, &id, sizeof id);
    if (rc != 0)
        return rc;
    return two_next < 2 ? MU_FLOW_MORE : 0;
}

/*  Id 0: emitted, then 2 ms of work (a slow call). Id 1: waits until the
    sink has id 0 before emitting it. */
static int
slow_then_wait(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state;
    uint64_t id;
    if (size != sizeof id)
        return MU_EINVAL;
    memcpy(&id, data, sizeof id);
    if (id == 0) {
        int rc = mu_flow_emit(out, &id, sizeof id);
        usleep(2000); /* work, not a wait for an event */
        return rc;
    }
    if (!wait_seen(0))
        id = MISSED;
    return mu_flow_emit(out, &id, sizeof id);
}

static void
test_slow_call_sends_its_output(void)
{
    run_chain("bslow", two_source, slow_then_wait, 2);
}

/* ---- a source's message leaves at once ------------------------------------------------------ */

/*  Emits id 0, then (in the same call) waits until the sink has it before
    emitting id 1; then ends. */
static int
waiting_source(void *arg, int index, mu_flow_emit_t *out)
{
    (void) arg;
    (void) index;
    uint64_t id = 0;
    int rc = mu_flow_emit(out, &id, sizeof id);
    if (rc != 0)
        return rc;
    id = wait_seen(0) ? 1 : MISSED;
    rc = mu_flow_emit(out, &id, sizeof id);
    return rc;
}

/*  A source straight into the sink. */
static void
test_source_sends_at_once(void)
{
    open_pipes();
    mu_flow_t *f = mu_flow_new("bsrc");
    MU_CHECK(f);
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, waiting_source, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "snk", 1, sink_startup, seen_sink, NULL), 0);
    MU_CHECK_EQ(mu_flow_run(f), 0);
    record_t recs[3];
    size_t got = read_rest(recs, 3);
    MU_CHECK_EQ(got, 2);
    MU_CHECK_EQ(recs[0].id, 0);
    MU_CHECK_EQ(recs[1].id, 1);
    mu_flow_destroy(&f);
    close_pipes();
}

int
main(int argc, char **argv)
{
    flow_test_begin(argc, argv);
    RUN(test_mixed_sizes_keep_order);
    RUN(test_slow_call_sends_its_output);
    RUN(test_source_sends_at_once);
    MU_DONE();
}
