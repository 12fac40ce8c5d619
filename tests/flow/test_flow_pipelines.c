/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_flow_pipelines.c — several named pipelines in one flow
    (mu_flow_add_pipeline): each counts its own messages, ends by itself,
    fails alone (or fails the flow when asked), a stop drains them all,
    statistics rows name their pipeline, and every documented error. The
    sinks report into the results pipe; the test waits on records, on a go
    pipe it holds, and on the pipelines' states, never on time. */
#include "mu_test.h"
#include "mutil.h"
#include "flow_test.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  A source: count messages per runner, ids base + index * 100000 + k;
    then done, or (go_fd >= 0) waiting for a byte on go_fd first. */
typedef struct {
    uint64_t base;
    int count;
    int go_fd;
} gen_t;

static int emitted; /* per runner process (each is a fork) */

static int
gen_source(void *arg, int index, mu_flow_emit_t *out)
{
    const gen_t *g = arg;
    if (emitted < g->count) {
        uint64_t id = g->base + (uint64_t) index * 100000 + (uint64_t) emitted++;
        return mu_flow_emit(out, &id, sizeof id) == 0 ? MU_FLOW_MORE : MU_EIO;
    }
    if (g->go_fd < 0)
        return 0;
    struct pollfd p = { .fd = g->go_fd, .events = POLLIN };
    return poll(&p, 1, 50) == 1 ? 0 : MU_FLOW_MORE; /* a drain request ends the loop too */
}

/*  The last stage of a pipeline: emitting must fail with MU_EPIPE (nothing
    downstream, not the next pipeline's first stage); then reports the id. */
static int
last_sink(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    if (mu_flow_emit(out, data, size) != MU_EPIPE)
        return MU_EIO; /* counted as an error */
    return sink(state, data, size, out);
}

static int
crash_worker(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state, (void) data, (void) size, (void) out;
    _exit(3);
}

/*  Adds pipeline name: source (n runners of g) → pass-through worker →
    last_sink; stage names prefixed with name. */
static bool
add_chain(mu_flow_t *f, const char *name, int n, gen_t *g)
{
    char src[32], work[32], snk[32];
    snprintf(src, sizeof src, "%s-src", name);
    snprintf(work, sizeof work, "%s-work", name);
    snprintf(snk, sizeof snk, "%s-sink", name);
    return mu_flow_add_pipeline(f, name) == 0 && mu_flow_add_source(f, src, n, gen_source, g) == 0
           && mu_flow_add_worker_stage(f, work, 2, NULL, pass_through, NULL) == 0
           && mu_flow_add_worker_stage(f, snk, 1, sink_startup, last_sink, NULL) == 0;
}

/*  Waits up to 20 s (scaled) for pipeline name to reach want. */
static bool
wait_pipe_state(mu_flow_t *f, const char *name, mu_flow_state_t want, int *code_p)
{
    int64_t until = mu_test_now_ms() + mu_test_ms(20000);
    mu_flow_state_t got = MU_FLOW_IDLE;
    do {
        if (mu_flow_pipeline_state(f, name, &got, code_p) == 0 && got == want)
            return true;
        usleep(20000); /* the supervisor's figures are polled, as wait_stat does */
    } while (mu_test_now_ms() < until);
    printf("# pipeline %s: state %d, expected %d\n", name, (int) got, (int) want);
    return false;
}

/*  Counts the records of ids in [base, base + 99999 * runners]. */
static size_t
count_ids(const record_t *recs, size_t n, uint64_t base)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += recs[i].id >= base && recs[i].id < base + 1000000;
    return k;
}

static record_t recs[4096];

/* ---- running pipelines ------------------------------------------------------- */

static void
run_pipelines(int npipes)
{
    static const char *names[] = { "alpha", "beta", "gamma" };
    static gen_t gens[3] = { { 1000000, 40, -1 }, { 2000000, 25, -1 }, { 3000000, 60, -1 } };
    static const int runners[] = { 1, 2, 1 };
    open_results();
    mu_flow_t *f = mu_flow_new("pipes");
    MU_CHECK(f);
    for (int p = 0; p < npipes; p++)
        MU_CHECK(add_chain(f, names[p], runners[p], &gens[p]));
    MU_CHECK_EQ(mu_flow_start(f), 0);
    results_started();
    MU_CHECK_EQ(mu_flow_wait(f, -1), 0);
    size_t n = read_rest(recs, 4096);
    size_t total = 0;
    for (int p = 0; p < npipes; p++) {
        size_t want = (size_t) (gens[p].count * runners[p]);
        MU_CHECK_EQ(count_ids(recs, n, gens[p].base), want);
        total += want;
        mu_flow_state_t state;
        int code = -1;
        MU_CHECK_EQ(mu_flow_pipeline_state(f, names[p], &state, &code), 0);
        MU_CHECK_EQ(state, MU_FLOW_FINISHED);
        MU_CHECK_EQ(code, 0);
    }
    MU_CHECK_EQ(n, total);
    /* rows: per stage a total and its runners, each naming its pipeline */
    mu_flow_stats_t rows[64] = { [0].size = sizeof rows[0] };
    size_t nrows = 0;
    MU_CHECK_EQ(mu_flow_stats(f, rows, 64, &nrows), 0);
    size_t want_rows = 0;
    for (int p = 0; p < npipes; p++)
        want_rows += 3 + (size_t) runners[p] + 2 + 1; /* three totals and the runners */
    MU_CHECK_EQ(nrows, want_rows);
    for (size_t i = 0; i < nrows; i++) {
        MU_CHECK(strncmp(rows[i].stage, rows[i].pipeline, strlen(rows[i].pipeline)) == 0);
        MU_CHECK_EQ(rows[i].errors, 0);
        if (rows[i].index == -1 && strstr(rows[i].stage, "-sink")) {
            int p = rows[i].stage[0] == 'a' ? 0 : rows[i].stage[0] == 'b' ? 1 : 2;
            MU_CHECK_EQ(rows[i].in, gens[p].count * runners[p]);
        }
        if (rows[i].index == -1 && strstr(rows[i].stage, "-src"))
            MU_CHECK_EQ(rows[i].queue, 0); /* a first stage has no link into it */
    }
    mu_flow_destroy(&f);
    close_results();
}

static void
test_two_pipelines(void)
{
    run_pipelines(2);
}

static void
test_three_pipelines(void)
{
    run_pipelines(3);
}

/*  A flow without mu_flow_add_pipeline: one implicit pipeline named after
    the flow; a caller whose rows predate the pipeline field keeps working. */
static void
test_implicit_pipeline(void)
{
    static gen_t g = { 0, 30, -1 };
    open_results();
    mu_flow_t *f = mu_flow_new("solo");
    MU_CHECK(f);
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, gen_source, &g), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "sink", 1, sink_startup, last_sink, NULL), 0);
    mu_flow_state_t state;
    MU_CHECK_EQ(mu_flow_pipeline_state(f, "solo", &state, NULL), 0);
    MU_CHECK_EQ(state, MU_FLOW_IDLE);
    MU_CHECK_EQ(mu_flow_run(f), 0);
    results_started();
    MU_CHECK_EQ(read_rest(recs, 4096), 30);
    MU_CHECK_EQ(mu_flow_pipeline_state(f, "solo", &state, NULL), 0);
    MU_CHECK_EQ(state, MU_FLOW_FINISHED);
    mu_flow_stats_t rows[8];
    memset(rows, 'Z', sizeof rows);
    rows[0].size = offsetof(mu_flow_stats_t, pipeline); /* an older caller's rows */
    size_t n = 0;
    MU_CHECK_EQ(mu_flow_stats(f, rows, 1, &n), 0);
    MU_CHECK_EQ(n, 4);
    MU_CHECK_EQ(strcmp(rows[0].stage, "src"), 0);
    MU_CHECK_EQ(rows[0].pipeline[0], 'Z'); /* not written past the caller's size */
    mu_flow_stats_t row = { .size = sizeof row };
    MU_CHECK_EQ(mu_flow_stats(f, &row, 1, &n), 0);
    MU_CHECK_EQ(strcmp(row.pipeline, "solo"), 0);
    mu_flow_destroy(&f);
    close_results();
}

/* ---- failures ------------------------------------------------------------------ */

/*  "bad" crashes past its restart limit while "good" has emitted and waits
    for the go byte. */
static mu_flow_t *
start_bad_and_good(int go[2], gen_t *good, gen_t *bad, bool fail_flow)
{
    if (pipe2(go, O_CLOEXEC) != 0)
        return NULL;
    *good = (gen_t) { 5000000, 20, go[0] };
    *bad = (gen_t) { 6000000, 1000000, -1 };
    mu_flow_t *f = mu_flow_new("failing");
    if (!f)
        return NULL;
    bool ok = mu_flow_set_restart_limit(f, 2, 60000) == 0 && add_chain(f, "good", 1, good)
              && mu_flow_add_pipeline(f, "bad") == 0
              && mu_flow_add_source(f, "bad-src", 1, gen_source, bad) == 0
              && mu_flow_add_worker_stage(f, "bad-crash", 1, NULL, crash_worker, NULL) == 0
              && (!fail_flow
                  || mu_flow_set_pipeline_policy(f, "bad", MU_FLOW_PIPELINE_FAIL_FLOW) == 0)
              && mu_flow_start(f) == 0;
    if (!ok)
        mu_flow_destroy(&f);
    return f;
}

static void
test_one_fails_other_finishes(void)
{
    int go[2];
    gen_t good, bad;
    open_results();
    mu_flow_t *f = start_bad_and_good(go, &good, &bad, false);
    MU_CHECK(f);
    results_started();
    MU_CHECK_EQ(read_records(recs, 20, 20000), 20); /* good's messages all arrived */
    int code = 0;
    MU_CHECK(wait_pipe_state(f, "bad", MU_FLOW_FAILED, &code));
    MU_CHECK_EQ(code, MU_ELIMIT);
    MU_CHECK(strstr(mu_last_error(), "pipeline 'bad'"));
    MU_CHECK(strstr(mu_last_error(), "restart limit"));
    /* good still runs, and the flow with it */
    mu_flow_state_t state;
    MU_CHECK_EQ(mu_flow_pipeline_state(f, "good", &state, NULL), 0);
    MU_CHECK_EQ(state, MU_FLOW_RUNNING);
    MU_CHECK_EQ(mu_flow_wait(f, 0), MU_EAGAIN);
    mu_test_signal_byte(go[1], 'g');
    /* the flow ends when good has finished; its end is bad's failure */
    MU_CHECK_EQ(mu_flow_wait(f, -1), MU_ELIMIT);
    MU_CHECK(strstr(mu_last_error(), "pipeline 'bad'"));
    MU_CHECK_EQ(mu_flow_pipeline_state(f, "good", &state, &code), 0);
    MU_CHECK_EQ(state, MU_FLOW_FINISHED);
    MU_CHECK_EQ(code, 0);
    MU_CHECK_EQ(mu_flow_pipeline_state(f, "bad", &state, &code), 0);
    MU_CHECK_EQ(state, MU_FLOW_FAILED);
    MU_CHECK_EQ(code, MU_ELIMIT);
    mu_flow_stats_t row;
    MU_CHECK(stage_row(f, "bad-crash", -1, &row));
    MU_CHECK_EQ(row.restarts, 3);
    MU_CHECK_EQ(strcmp(row.pipeline, "bad"), 0);
    MU_CHECK(stage_row(f, "good-sink", -1, &row));
    MU_CHECK_EQ(row.in, 20);
    MU_CHECK_EQ(row.errors, 0);
    mu_flow_destroy(&f);
    close(go[0]);
    close(go[1]);
    close_results();
}

static void
test_fail_flow_policy(void)
{
    int go[2];
    gen_t good, bad;
    open_results();
    mu_flow_t *f = start_bad_and_good(go, &good, &bad, true);
    MU_CHECK(f);
    results_started();
    /* no go byte: good is stopped by bad's failure */
    MU_CHECK_EQ(mu_flow_wait(f, -1), MU_ELIMIT);
    MU_CHECK(strstr(mu_last_error(), "pipeline 'bad'"));
    mu_flow_state_t state;
    int code = 0;
    MU_CHECK_EQ(mu_flow_pipeline_state(f, "good", &state, &code), 0);
    MU_CHECK_EQ(state, MU_FLOW_FAILED);
    MU_CHECK_EQ(code, MU_ECANCELED);
    MU_CHECK(strstr(mu_last_error(), "stopped: pipeline 'bad' failed the flow"));
    MU_CHECK_EQ(mu_flow_pipeline_state(f, "bad", &state, &code), 0);
    MU_CHECK_EQ(state, MU_FLOW_FAILED);
    MU_CHECK_EQ(code, MU_ELIMIT);
    mu_flow_destroy(&f);
    close(go[0]);
    close(go[1]);
    close_results();
}

/*  Sources that never end by themselves: mu_flow_stop drains every
    pipeline, everything emitted arrives. */
static void
test_stop_drains_all(void)
{
    int go[2];
    MU_CHECK(pipe2(go, O_CLOEXEC) == 0);
    static gen_t a, b;
    a = (gen_t) { 7000000, 30, go[0] };
    b = (gen_t) { 8000000, 15, go[0] };
    open_results();
    mu_flow_t *f = mu_flow_new("stopping");
    MU_CHECK(f);
    MU_CHECK(add_chain(f, "a", 1, &a));
    MU_CHECK(add_chain(f, "b", 2, &b));
    MU_CHECK_EQ(mu_flow_start(f), 0);
    results_started();
    MU_CHECK_EQ(read_records(recs, 60, 20000), 60);
    MU_CHECK_EQ(mu_flow_wait(f, 0), MU_EAGAIN);
    MU_CHECK_EQ(mu_flow_stop(f, -1), 0);
    mu_flow_state_t state;
    MU_CHECK_EQ(mu_flow_pipeline_state(f, "a", &state, NULL), 0);
    MU_CHECK_EQ(state, MU_FLOW_FINISHED);
    MU_CHECK_EQ(mu_flow_pipeline_state(f, "b", &state, NULL), 0);
    MU_CHECK_EQ(state, MU_FLOW_FINISHED);
    MU_CHECK_EQ(read_rest(recs + 60, 100), 0);
    MU_CHECK_EQ(count_ids(recs, 60, 7000000), 30);
    MU_CHECK_EQ(count_ids(recs, 60, 8000000), 30);
    mu_flow_destroy(&f);
    close(go[0]);
    close(go[1]);
    close_results();
}

/*  A pipeline whose source ended finishes by itself while another runs on. */
static void
test_each_pipeline_ends_by_itself(void)
{
    int go[2];
    MU_CHECK(pipe2(go, O_CLOEXEC) == 0);
    static gen_t brief, longer;
    brief = (gen_t) { 1000000, 10, -1 };
    longer = (gen_t) { 2000000, 5, go[0] };
    open_results();
    mu_flow_t *f = mu_flow_new("byitself");
    MU_CHECK(f);
    MU_CHECK(add_chain(f, "brief", 1, &brief));
    MU_CHECK(add_chain(f, "longer", 1, &longer));
    MU_CHECK_EQ(mu_flow_start(f), 0);
    results_started();
    MU_CHECK(wait_pipe_state(f, "brief", MU_FLOW_FINISHED, NULL));
    mu_flow_state_t state;
    MU_CHECK_EQ(mu_flow_pipeline_state(f, "longer", &state, NULL), 0);
    MU_CHECK_EQ(state, MU_FLOW_RUNNING);
    MU_CHECK_EQ(mu_flow_state(f, NULL), MU_FLOW_RUNNING);
    /* brief's runners are gone: their rows have no pid */
    mu_flow_stats_t row;
    MU_CHECK(stage_row(f, "brief-sink", 0, &row));
    MU_CHECK_EQ(row.pid, 0);
    MU_CHECK(stage_row(f, "longer-sink", 0, &row));
    MU_CHECK(row.pid > 0);
    mu_test_signal_byte(go[1], 'g');
    MU_CHECK_EQ(mu_flow_wait(f, -1), 0);
    size_t n = read_rest(recs, 4096);
    MU_CHECK_EQ(count_ids(recs, n, 1000000), 10);
    MU_CHECK_EQ(count_ids(recs, n, 2000000), 5);
    mu_flow_destroy(&f);
    close(go[0]);
    close(go[1]);
    close_results();
}

/*  A sink that never returns. */
static int
stuck_sink(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state, (void) data, (void) size, (void) out;
    while (poll(NULL, 0, -1) >= 0 || errno == EINTR) {
    }
    return MU_EIO;
}

/*  A pipeline past its drain deadline fails alone (MU_ECANCELED). */
static void
test_drain_deadline_fails_one_pipeline(void)
{
    int go[2];
    MU_CHECK(pipe2(go, O_CLOEXEC) == 0);
    static gen_t good, slow;
    good = (gen_t) { 1000000, 5, go[0] };
    slow = (gen_t) { 2000000, 1, -1 };
    open_results();
    mu_flow_t *f = mu_flow_new("deadline");
    MU_CHECK(f);
    /* long enough for good's drain on a loaded machine (its messages are
       in before it starts), short for the test */
    MU_CHECK_EQ(mu_flow_set_drain_timeout(f, mu_test_ms(2000)), 0);
    MU_CHECK(add_chain(f, "good", 1, &good));
    MU_CHECK_EQ(mu_flow_add_pipeline(f, "slow"), 0);
    MU_CHECK_EQ(mu_flow_add_source(f, "slow-src", 1, gen_source, &slow), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "slow-sink", 1, NULL, stuck_sink, NULL), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    results_started();
    int code = 0;
    MU_CHECK(wait_pipe_state(f, "slow", MU_FLOW_FAILED, &code));
    MU_CHECK_EQ(code, MU_ECANCELED);
    MU_CHECK(strstr(mu_last_error(), "pipeline 'slow': drain deadline expired; stages still "
                                     "busy: 'slow-sink'"));
    mu_flow_state_t state;
    MU_CHECK_EQ(mu_flow_pipeline_state(f, "good", &state, NULL), 0);
    MU_CHECK_EQ(state, MU_FLOW_RUNNING);
    MU_CHECK_EQ(read_records(recs, 5, 20000), 5); /* good's messages */
    mu_test_signal_byte(go[1], 'g');
    MU_CHECK_EQ(mu_flow_wait(f, -1), MU_ECANCELED);
    MU_CHECK_EQ(mu_flow_pipeline_state(f, "good", &state, NULL), 0);
    MU_CHECK_EQ(state, MU_FLOW_FINISHED);
    MU_CHECK_EQ(count_ids(recs, 5, 1000000), 5);
    MU_CHECK_EQ(read_rest(recs + 5, 100), 0);
    mu_flow_destroy(&f);
    close(go[0]);
    close(go[1]);
    close_results();
}

/* ---- errors ---------------------------------------------------------------------- */

static void
test_errors(void)
{
    static gen_t g = { 0, 1, -1 };
    mu_flow_t *f = mu_flow_new("errs");
    MU_CHECK(f);
    mu_flow_state_t state;
    MU_CHECK_EQ(mu_flow_add_pipeline(f, ""), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_add_pipeline(f, "0123456789012345678901234567890123"), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "over 31 bytes"));
    MU_CHECK_EQ(mu_flow_add_pipeline(f, "0123456789012345678901234567890"), 0); /* 31 bytes */
    MU_CHECK_EQ(mu_flow_add_pipeline(f, "p2"), MU_EINVAL); /* the previous has no stage */
    MU_CHECK(strstr(mu_last_error(), "has no stage"));
    MU_CHECK_EQ(mu_flow_add_source(f, "s1", 1, gen_source, &g), 0);
    MU_CHECK_EQ(mu_flow_add_source(f, "s1b", 1, gen_source, &g), MU_EINVAL); /* not first */
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "w1", 1, NULL, pass_through, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_pipeline(f, "0123456789012345678901234567890"), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "added twice"));
    MU_CHECK_EQ(mu_flow_add_pipeline(f, "p2"), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "w1", 1, NULL, pass_through, NULL), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_add_source(f, "s2", 1, gen_source, &g), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "w2", 1, NULL, pass_through, NULL), 0);
    /* a link into the first stage of a pipeline would cross pipelines */
    MU_CHECK_EQ(mu_flow_set_link(f, "s2", MU_FLOW_BROADCAST, NULL, NULL, NULL), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "within a pipeline"));
    MU_CHECK_EQ(mu_flow_set_at_least_once(f, "s2", true), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_link(f, "w2", MU_FLOW_BROADCAST, NULL, NULL, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_pipeline_policy(f, "nope", MU_FLOW_PIPELINE_FAIL_FLOW), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_pipeline_policy(f, "p2", MU_FLOW_PIPELINE_FAIL_FLOW), 0);
    MU_CHECK_EQ(mu_flow_pipeline_state(f, "nope", &state, NULL), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_pipeline_state(f, "errs", &state, NULL), MU_EINVAL); /* named ones */
    MU_CHECK_EQ(mu_flow_pipeline_state(f, "p2", &state, NULL), 0);
    MU_CHECK_EQ(state, MU_FLOW_IDLE);
    /* an empty pipeline at start */
    MU_CHECK_EQ(mu_flow_add_pipeline(f, "empty"), 0);
    MU_CHECK_EQ(mu_flow_start(f), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "pipeline 'empty' has no stage"));
    /* a pipeline starting with a worker stage */
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "w3", 1, NULL, pass_through, NULL), 0);
    MU_CHECK_EQ(mu_flow_start(f), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "first stage 'w3' of pipeline 'empty'"));
    mu_flow_destroy(&f);

    /* stages before the first pipeline */
    f = mu_flow_new("errs2");
    MU_CHECK(f);
    MU_CHECK_EQ(mu_flow_add_source(f, "s", 1, gen_source, &g), 0);
    MU_CHECK_EQ(mu_flow_add_pipeline(f, "p"), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "before the first pipeline"));
    mu_flow_destroy(&f);

    /* an edge stage does not continue into the next pipeline */
    f = mu_flow_new("errs3");
    MU_CHECK(f);
    mu_flow_edge_t edge = { .host = "127.0.0.1", .port = 0, .listen = true };
    MU_CHECK_EQ(mu_flow_add_pipeline(f, "p1"), 0);
    MU_CHECK_EQ(mu_flow_add_edge(f, "e", &edge), 0);
    MU_CHECK_EQ(mu_flow_add_pipeline(f, "p2"), 0);
    MU_CHECK_EQ(mu_flow_add_edge(f, "e", &edge), MU_EINVAL);
    mu_flow_destroy(&f);

    /* at most 64 pipelines */
    f = mu_flow_new("errs4");
    MU_CHECK(f);
    for (int p = 0; p < 64; p++) {
        char name[16], src[16];
        snprintf(name, sizeof name, "p%d", p);
        snprintf(src, sizeof src, "s%d", p);
        MU_CHECK_EQ(mu_flow_add_pipeline(f, name), 0);
        MU_CHECK_EQ(mu_flow_add_source(f, src, 1, gen_source, &g), 0);
    }
    MU_CHECK_EQ(mu_flow_add_pipeline(f, "p64"), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "over 64 pipelines"));
    mu_flow_destroy(&f);

    /* named pipelines with hosts, or with a split flow */
    f = mu_flow_new("errs5");
    MU_CHECK(f);
    MU_CHECK_EQ(mu_flow_add_pipeline(f, "p"), 0);
    MU_CHECK_EQ(mu_flow_add_source(f, "s", 1, gen_source, &g), 0);
    MU_CHECK_EQ(mu_flow_add_host(f, "a", "127.0.0.1", 40000), 0);
    MU_CHECK_EQ(mu_flow_set_self(f, "a"), 0);
    MU_CHECK_EQ(mu_flow_start(f), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "do not mix with hosts"));
    mu_flow_destroy(&f);
    f = mu_flow_new("errs6");
    MU_CHECK(f);
    MU_CHECK_EQ(mu_flow_add_pipeline(f, "p"), 0);
    MU_CHECK_EQ(mu_flow_add_source(f, "s", 1, gen_source, &g), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "w", 1, NULL, pass_through, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_endpoint(f, "w", "127.0.0.1", 40000), 0);
    MU_CHECK_EQ(mu_flow_set_local(f, "w", false), 0);
    MU_CHECK_EQ(mu_flow_start(f), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "split flows"));
    mu_flow_destroy(&f);

    /* after start */
    static gen_t none = { 0, 0, -1 };
    f = mu_flow_new("errs7");
    MU_CHECK(f);
    MU_CHECK_EQ(mu_flow_add_pipeline(f, "p"), 0);
    MU_CHECK_EQ(mu_flow_add_source(f, "s", 1, gen_source, &none), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    MU_CHECK_EQ(mu_flow_add_pipeline(f, "q"), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_pipeline_policy(f, "p", MU_FLOW_PIPELINE_ISOLATE), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_wait(f, -1), 0);
    mu_flow_destroy(&f);
}

int
main(int argc, char **argv)
{
    flow_test_begin(argc, argv);
    RUN(test_two_pipelines);
    RUN(test_three_pipelines);
    RUN(test_implicit_pipeline);
    RUN(test_one_fails_other_finishes);
    RUN(test_fail_flow_policy);
    RUN(test_stop_drains_all);
    RUN(test_each_pipeline_ends_by_itself);
    RUN(test_drain_deadline_fails_one_pipeline);
    RUN(test_errors);
    MU_DONE();
}
