/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_flow_inproc.c — the teardown hook and in-process handlers of a worker
    stage (order, back-pressure, drain, misuse). */
#include "flow_cases.h"

/* ---- teardown hook and in-process stages ------------------------------------ */

/*  Sink that reports (tag from the id's high bits, id's low 40 bits). */
static int
tag_sink(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state;
    (void) out;
    uint64_t id;
    if (size != sizeof id)
        return MU_EINVAL;
    memcpy(&id, data, sizeof id);
    report((int32_t) (id >> 40), id & ((UINT64_C(1) << 40) - 1));
    return 0;
}

/*  A worker with its own bus (no flow support): a slow thread handler turns
    ids into outputs kept in a locked outbox, which the worker's thread
    sends; whatever is still queued at the end of input needs the teardown
    hook. */
typedef struct {
    mu_flow_bus_t *bus;
    pthread_mutex_t mu;
    uint64_t ids[256];
    size_t n;
} own_bus_t;

static own_bus_t own;

static int
own_slow(void *arg, const char *event, const void *data, size_t size)
{
    (void) event;
    own_bus_t *o = arg;
    usleep(2000); /* the subject: a slow handler, so sends queue behind it */
    pthread_mutex_lock(&o->mu);
    if (size == sizeof(uint64_t) && o->n < 256)
        memcpy(&o->ids[o->n++], data, sizeof(uint64_t));
    pthread_mutex_unlock(&o->mu);
    return 0;
}

static int
own_startup(void *arg, int index, void **state_p)
{
    (void) index;
    own = (own_bus_t) { .mu = PTHREAD_MUTEX_INITIALIZER };
    own.bus = mu_flow_bus_new();
    *state_p = &own;
    (void) arg;
    return own.bus && mu_flow_bus_on(own.bus, "id", MU_FLOW_THREAD, own_slow, &own, 0) == 0 ? 0
                                                                                            : -1;
}

static int
own_flush(own_bus_t *o, mu_flow_emit_t *out)
{
    uint64_t ids[256];
    pthread_mutex_lock(&o->mu);
    size_t n = o->n;
    memcpy(ids, o->ids, n * sizeof *ids);
    o->n = 0;
    pthread_mutex_unlock(&o->mu);
    for (size_t i = 0; i < n; i++)
        if (mu_flow_emit(out, &ids[i], sizeof ids[i]) != 0)
            return MU_EIO;
    return 0;
}

static int
own_handler(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    own_bus_t *o = state;
    if (mu_flow_bus_emit(o->bus, "id", data, size) != 1)
        return MU_EIO;
    return own_flush(o, out);
}

/*  Drains the bus, sends the rest and a final marker (7 << 40, plus 1 when
    mu_flow_emit_event on a worker without in-process handlers did not
    return 0), then fails on purpose to be counted. */
static int
own_teardown(void *state, mu_flow_emit_t *out)
{
    own_bus_t *o = state;
    if (mu_flow_bus_drain(o->bus, -1) != 0 || own_flush(o, out) != 0)
        return MU_EIO;
    mu_flow_bus_destroy(&o->bus);
    uint64_t marker = (UINT64_C(7) << 40) + (mu_flow_emit_event(out, "x", NULL, 0) == 0 ? 0 : 1);
    if (mu_flow_emit(out, &marker, sizeof marker) != 0)
        return MU_EIO;
    return MU_EPROTO;
}

static void
test_teardown(void)
{
    mu_flow_t *f = mu_flow_new("td");
    static uint64_t next;
    next = 0;
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, counting_source, &next), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "bufd", 1, own_startup, own_handler, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "sink", 1, NULL, tag_sink, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_teardown(f, "nope", own_teardown), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_teardown(f, "src", own_teardown), MU_EINVAL); /* not a worker */
    MU_CHECK_EQ(mu_flow_set_teardown(f, "bufd", NULL), 0);
    MU_CHECK_EQ(mu_flow_set_teardown(f, "bufd", own_teardown), 0);
    open_results();
    src_count = 60;
    MU_CHECK_EQ(mu_flow_run(f), 0);
    MU_CHECK_EQ(mu_flow_set_teardown(f, "bufd", own_teardown), MU_EINVAL); /* started */
    record_t recs[62];
    size_t got = read_rest(recs, 62);
    MU_CHECK_EQ(got, 61);
    bool seen[60] = { false }, in_order = true;
    for (size_t i = 0; i + 1 < got; i++) {
        if (recs[i].index == 0 && recs[i].id < 60 && !seen[recs[i].id])
            seen[recs[i].id] = true;
        else
            in_order = false;
    }
    MU_CHECK(in_order);
    size_t nseen = 0;
    for (int i = 0; i < 60; i++)
        nseen += seen[i];
    MU_CHECK_EQ(nseen, 60);
    MU_CHECK(got == 61 && recs[60].index == 7 && recs[60].id == 0); /* teardown's, last */
    mu_flow_stats_t row;
    MU_CHECK(stage_row(f, "bufd", -1, &row));
    MU_CHECK_EQ(row.errors, 1); /* the teardown's MU_EPROTO */
    MU_CHECK_EQ(row.out, 61);
    mu_flow_destroy(&f);
    close_results();
}

/*  In-process handlers of stage "proc": an inline one and a thread one
    subscribed to "v"; each emits its tag (1 inline, 2 thread) with the id
    downstream. The stage's handler emits "v" per message. */
static _Atomic uint64_t bp_started, bp_emitted;

static int
ip_inline(void *arg, const char *event, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) arg;
    uint64_t id;
    if (strcmp(event, "v") != 0 || size != sizeof id)
        return MU_EINVAL;
    memcpy(&id, data, sizeof id);
    id |= UINT64_C(1) << 40;
    return mu_flow_emit(out, &id, sizeof id);
}

static int
ip_thread(void *arg, const char *event, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) event;
    uint64_t id;
    if (size != sizeof id)
        return MU_EINVAL;
    memcpy(&id, data, sizeof id);
    if (id == 0 && mu_flow_emit_event(out, "v", &id, sizeof id) != MU_EINVAL)
        id = 999; /* a thread handler cannot emit events: spoils the order check */
    atomic_fetch_add(&bp_started, 1);
    int delay = *(int *) arg;
    if (delay)
        usleep((useconds_t) delay); /* the subject: a slow thread handler (back-pressure) */
    id |= UINT64_C(2) << 40;
    return mu_flow_emit(out, &id, sizeof id);
}

/*  Emits "v"; reports (tag 3) a wrong reach count, and (tag 4) a thread
    queue (capacity 2) that held more than it may, i.e. no back-pressure
    (2 queued + 1 taken by the thread but not yet counted as started). */
static int
ip_handler(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    int want = (int) (intptr_t) state;
    int rc = mu_flow_emit_event(out, "v", data, size);
    uint64_t k = atomic_fetch_add(&bp_emitted, 1) + 1;
    if (rc != want)
        report(3, (uint64_t) (int64_t) rc);
    if (want == 1 && k - atomic_load(&bp_started) > 3)
        report(4, k);
    return 0;
}

static int
ip_startup(void *arg, int index, void **state_p)
{
    (void) index;
    atomic_store(&bp_started, 0);
    atomic_store(&bp_emitted, 0);
    *state_p = arg;
    return 0;
}

/*  Runs src(count) → proc (in-process handlers as set by the caller) →
    sink and checks every tag in tags got ids 0..count-1 once, in order. */
static bool
run_inproc(mu_flow_t *f, uint64_t count, const int *tags, int ntags)
{
    open_results();
    src_count = count;
    size_t want = (size_t) count * (size_t) ntags;
    record_t *recs = calloc(want + 1, sizeof *recs);
    bool ok = mu_flow_run(f) == 0;
    size_t got = read_rest(recs, want + 1);
    if (got != want) {
        printf("# got %zu of %zu records\n", got, want);
        ok = false;
    }
    uint64_t next[8] = { 0 };
    for (size_t i = 0; ok && i < got; i++) {
        int t = 0;
        while (t < ntags && tags[t] != recs[i].index)
            t++;
        if (t == ntags || recs[i].id != next[t]++) {
            printf("# record %zu: tag %d id %llu\n", i, recs[i].index,
                   (unsigned long long) recs[i].id);
            ok = false;
        }
    }
    mu_flow_stats_t row;
    if (ok
        && (!stage_row(f, "proc", -1, &row) || row.out != want || row.drops != 0
            || row.errors != 0)) {
        printf("# proc out %llu drops %llu errors %llu\n", (unsigned long long) row.out,
               (unsigned long long) row.drops, (unsigned long long) row.errors);
        ok = false;
    }
    free(recs);
    close_results();
    return ok;
}

static mu_flow_t *
inproc_flow(const char *name, int want_reach)
{
    static uint64_t next;
    next = 0;
    mu_flow_t *f = mu_flow_new(name);
    if (mu_flow_add_source(f, "src", 1, counting_source, &next) != 0
        || mu_flow_add_worker_stage(f, "proc", 1, ip_startup, ip_handler,
                                    (void *) (intptr_t) want_reach)
               != 0
        || mu_flow_add_worker_stage(f, "sink", 1, NULL, tag_sink, NULL) != 0)
        mu_flow_destroy(&f);
    return f;
}

static void
test_inproc_order(void)
{
    static int no_delay = 0;
    mu_flow_t *f = inproc_flow("ipo", 2);
    MU_CHECK(f);
    MU_CHECK_EQ(mu_flow_add_inproc(f, "nope", "v", MU_FLOW_INLINE, ip_inline, NULL, 0), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_add_inproc(f, "src", "v", MU_FLOW_INLINE, ip_inline, NULL, 0), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_add_inproc(f, "proc", "", MU_FLOW_INLINE, ip_inline, NULL, 0), MU_EINVAL);
    char longname[80];
    memset(longname, 'e', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    MU_CHECK_EQ(mu_flow_add_inproc(f, "proc", longname, MU_FLOW_INLINE, ip_inline, NULL, 0),
                MU_EINVAL);
    MU_CHECK_EQ(mu_flow_add_inproc(f, "proc", "v", MU_FLOW_INLINE, ip_inline, NULL, 0), 0);
    MU_CHECK_EQ(mu_flow_add_inproc(f, "proc", "v", MU_FLOW_THREAD, ip_thread, &no_delay, 4), 0);
    const int tags[2] = { 1, 2 };
    MU_CHECK(run_inproc(f, 3000, tags, 2));
    MU_CHECK_EQ(mu_flow_add_inproc(f, "proc", "v", MU_FLOW_INLINE, ip_inline, NULL, 0),
                MU_EINVAL); /* started */
    mu_flow_destroy(&f);
}

/*  A slow thread handler with a queue of 2: the stage's handler waits
    (ip_handler reports otherwise), nothing is dropped, and the drain
    finishes what is still queued. */
static void
test_inproc_backpressure(void)
{
    static int delay = 300;
    mu_flow_t *f = inproc_flow("ipb", 1);
    MU_CHECK(f);
    MU_CHECK_EQ(mu_flow_add_inproc(f, "proc", "v", MU_FLOW_THREAD, ip_thread, &delay, 2), 0);
    const int tags[1] = { 2 };
    MU_CHECK(run_inproc(f, 400, tags, 1));
    mu_flow_destroy(&f);
}

/*  A thread handler emitting a burst of outputs per event into a slow
    sink: its output queue (1024) fills, it waits, and the drain still
    sends every output before the end of stream. */
static int
ip_burst(void *arg, const char *event, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) arg;
    (void) event;
    uint64_t id;
    if (size != sizeof id)
        return MU_EINVAL;
    memcpy(&id, data, sizeof id);
    atomic_fetch_add(&bp_started, 1);
    for (uint64_t k = 0; k < 1500; k++) {
        uint64_t v = (UINT64_C(2) << 40) | (id * 1500 + k);
        int rc = mu_flow_emit(out, &v, sizeof v);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int
slow_tag_sink(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    usleep(20); /* the subject: a slow sink */
    return tag_sink(state, data, size, out);
}

static void
test_inproc_drain(void)
{
    static uint64_t next;
    next = 0;
    mu_flow_t *f = mu_flow_new("ipd");
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, counting_source, &next), 0);
    MU_CHECK_EQ(
        mu_flow_add_worker_stage(f, "proc", 1, ip_startup, ip_handler, (void *) (intptr_t) 1), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "sink", 1, NULL, slow_tag_sink, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_inproc(f, "proc", "v", MU_FLOW_THREAD, ip_burst, NULL, 2), 0);
    const int tags[1] = { 2 };
    open_results();
    src_count = 4;
    size_t want = 4 * 1500;
    record_t *recs = calloc(want + 1, sizeof *recs);
    MU_CHECK_EQ(mu_flow_run(f), 0);
    size_t got = read_rest(recs, want + 1);
    MU_CHECK_EQ(got, want);
    bool ordered = true;
    for (size_t i = 0; i < got; i++)
        ordered = ordered && recs[i].index == tags[0] && recs[i].id == i;
    MU_CHECK(ordered);
    free(recs);
    close_results();
    mu_flow_destroy(&f);
}

/*  Misuse inside runners, reported as records: a source's emitter cannot
    emit events (tag 10), bad arguments (11, 12), a thread handler of the
    last stage has nowhere to emit (13). */
static int
event_source(void *arg, int index, mu_flow_emit_t *out)
{
    (void) arg;
    (void) index;
    report(10, (uint64_t) (int64_t) mu_flow_emit_event(out, "v", NULL, 0));
    uint64_t id = 5;
    return mu_flow_emit(out, &id, sizeof id);
}

static int
event_last(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state;
    return mu_flow_emit_event(out, "v", data, size) == 1 ? 0 : MU_EIO;
}

static int
last_thread(void *arg, const char *event, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) arg;
    (void) event;
    report(13, (uint64_t) (int64_t) mu_flow_emit(out, data, size));
    return 0;
}

static void
test_inproc_errors(void)
{
    mu_flow_t *f = mu_flow_new("ipe");
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, event_source, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "last", 1, NULL, event_last, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_inproc(f, "last", "*", MU_FLOW_THREAD, last_thread, NULL, 0), 0);
    open_results();
    MU_CHECK_EQ(mu_flow_run(f), 0);
    record_t recs[5];
    size_t got = read_rest(recs, 5);
    MU_CHECK_EQ(got, 2); /* a NULL event or data is a caller bug: asserted */
    int64_t rc_of[14] = { 0 };
    for (size_t i = 0; i < got; i++)
        if (recs[i].index >= 10 && recs[i].index <= 13)
            rc_of[recs[i].index] = (int64_t) recs[i].id;
    MU_CHECK_EQ(rc_of[10], MU_EINVAL);
    MU_CHECK_EQ(rc_of[13], MU_EPIPE);
    mu_flow_stats_t row;
    MU_CHECK(stage_row(f, "last", -1, &row));
    MU_CHECK_EQ(row.errors, 0);
    close_results();
    mu_flow_destroy(&f);
}

int
main(int argc, char **argv)
{
    flow_test_begin(argc, argv);
    RUN(test_teardown);
    RUN(test_inproc_order);
    RUN(test_inproc_backpressure);
    RUN(test_inproc_drain);
    RUN(test_inproc_errors);
    MU_DONE();
}
