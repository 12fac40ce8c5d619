/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_flow.c — mu_flow: API errors, shapes (one stage, three stages,
    fan-out 1..8, fan-in, keyed, broadcast with filters), an fd source,
    drops, wait errors, ending with requests unread, the bus, a start from
    a thread that blocks every signal. Supervision is
    in test_flow_restart.c, flows over processes and CURVE in
    test_flow_split.c, in-process handlers and the teardown hook in
    test_flow_inproc.c, TCP edges in test_flow_edge.c. The test process
    never touches ZeroMQ: only the flow's runners do, each with its own
    context. */
#include "flow_cases.h"

/* ---- API errors -------------------------------------------------------------- */

static void
test_api_errors(void)
{
    errno = 0;
    MU_CHECK(mu_flow_new("") == NULL && errno == EINVAL);
    mu_flow_t *f = mu_flow_new("errs");
    MU_CHECK(f);
    size_t n;
    MU_CHECK_EQ(mu_flow_stats(f, NULL, 0, &n), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_wait(f, 0), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_state(f, NULL), MU_FLOW_IDLE);
    MU_CHECK_EQ(mu_flow_stop(f, 0), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_edge_port(f, "in", 0), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_start(f), MU_EINVAL); /* no stage */
    MU_CHECK(strstr(mu_last_error(), "no stage") != NULL);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "w", 0, NULL, pass_through, NULL), MU_EINVAL);
    MU_CHECK(strstr(mu_last_error(), "0 runners") != NULL);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "w", 2, NULL, pass_through, NULL), 0);
    MU_CHECK_EQ(mu_flow_start(f), MU_EINVAL); /* first stage is a worker */
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "w", 2, NULL, pass_through, NULL), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_link(f, "w", MU_FLOW_BALANCE, NULL, NULL, NULL), MU_EINVAL);
    mu_flow_destroy(&f);
    MU_CHECK(f == NULL);
    mu_flow_destroy(&f);

    f = mu_flow_new("errs");
    static uint64_t next;
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, counting_source, &next), 0);
    MU_CHECK_EQ(mu_flow_add_source(f, "src2", 1, counting_source, &next), MU_EINVAL);
    int bad_fd = 1000;
    MU_CHECK_EQ(mu_flow_add_fd_source(f, "fds", &bad_fd, 1), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "w", 2, NULL, pass_through, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_link(f, "nope", MU_FLOW_BALANCE, NULL, NULL, NULL), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_link(f, "w", MU_FLOW_KEYED, NULL, key_mod7, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_drop(f, "nope", true), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_restart_limit(f, -1, 10), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_restart_limit(f, 1, 0), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_drain_timeout(f, 0), MU_EINVAL);
    mu_flow_edge_t e = { .host = "127.0.0.1", .port = 70000, .listen = true };
    MU_CHECK_EQ(mu_flow_add_edge(f, "out", &e), MU_EINVAL);
    e.port = 0;
    e.listen = false; /* connecting needs a port */
    MU_CHECK_EQ(mu_flow_add_edge(f, "out", &e), MU_EINVAL);
    e.host = "not-an-address";
    e.listen = true;
    MU_CHECK_EQ(mu_flow_add_edge(f, "out", &e), 0);
    MU_CHECK_EQ(mu_flow_start(f), MU_EINVAL); /* bad host, found at bind */
    mu_flow_destroy(&f);

    /* An address in use. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof sa;
    MU_CHECK(bind(s, (struct sockaddr *) &sa, sizeof sa) == 0 && listen(s, 1) == 0);
    MU_CHECK(getsockname(s, (struct sockaddr *) &sa, &len) == 0);
    f = mu_flow_new("inuse");
    e = (mu_flow_edge_t) { .host = "127.0.0.1", .port = ntohs(sa.sin_port), .listen = true };
    MU_CHECK_EQ(mu_flow_add_edge(f, "in", &e), 0);
    MU_CHECK_EQ(mu_flow_start(f), -EADDRINUSE);
    mu_flow_destroy(&f);
    close(s);
}

/* ---- shapes --------------------------------------------------------------------- */
static int
lonely_source(void *arg, int index, mu_flow_emit_t *out)
{
    (void) arg;
    uint64_t id = (uint64_t) index;
    record_t rec = { .index = mu_flow_emit(out, &id, sizeof id), .id = id };
    return write(result_fd, &rec, sizeof rec) == (ssize_t) sizeof rec ? 0 : MU_EIO;
}

static void
test_one_stage(void)
{
    open_results();
    mu_flow_t *f = mu_flow_new("one");
    MU_CHECK_EQ(mu_flow_add_source(f, "only", 3, lonely_source, NULL), 0);
    MU_CHECK_EQ(mu_flow_run(f), 0);
    record_t recs[4];
    MU_CHECK_EQ(read_rest(recs, 4), 3);
    for (int i = 0; i < 3; i++)
        MU_CHECK_EQ(recs[i].index, MU_EPIPE); /* nothing downstream */
    mu_flow_stats_t row;
    MU_CHECK(stage_row(f, "only", -1, &row));
    MU_CHECK_EQ(row.restarts, 0);
    MU_CHECK_EQ(mu_flow_wait(f, 0), 0); /* the end stays reported */
    int code = -1;
    MU_CHECK_EQ(mu_flow_state(f, &code), MU_FLOW_FINISHED);
    MU_CHECK_EQ(code, 0);
    mu_flow_destroy(&f);
    close_results();
}

/*  source(nsrc) → [middle(width)] → sink(nsink): every id exactly once. */
static bool
run_line(int nsrc, int width, int nsink, uint64_t count)
{
    open_results();
    src_count = count;
    static uint64_t next;
    next = 0;
    mu_flow_t *f = mu_flow_new("line");
    bool ok = mu_flow_add_source(f, "src", nsrc, counting_source, &next) == 0;
    if (width > 0)
        ok = ok && mu_flow_add_worker_stage(f, "mid", width, NULL, pass_through, NULL) == 0;
    ok = ok && mu_flow_add_worker_stage(f, "sink", nsink, sink_startup, sink, NULL) == 0;
    ok = ok && mu_flow_start(f) == 0;
    results_started();
    size_t total = (size_t) nsrc * count;
    record_t *recs = calloc(total + 1, sizeof *recs);
    size_t got = ok ? read_records(recs, total, 60000) : 0;
    int rc = ok ? mu_flow_wait(f, mu_test_ms(60000)) : -1;
    got += ok ? read_rest(recs + got, 1) : 0; /* nothing more after the end */
    if (got != total || rc != 0) {
        printf("# line %d/%d/%d: got %zu of %zu, rc %d\n", nsrc, width, nsink, got, total, rc);
        ok = false;
    }
    uint8_t *seen = calloc(total, 1);
    for (size_t i = 0; ok && i < got; i++) {
        uint64_t src = recs[i].id / 1000000000u, k = recs[i].id % 1000000000u;
        size_t slot = (size_t) (src * count + k);
        if (src >= (uint64_t) nsrc || k >= count || seen[slot]++) {
            printf("# bad or duplicate id %llu\n", (unsigned long long) recs[i].id);
            ok = false;
        }
    }
    mu_flow_stats_t row;
    if (ok && (!stage_row(f, "sink", -1, &row) || row.in != total || row.queue != 0)) {
        printf("# sink stats in %llu queue %lld\n", (unsigned long long) row.in,
               (long long) row.queue);
        ok = false;
    }
    free(seen);
    free(recs);
    mu_flow_destroy(&f);
    close_results();
    return ok;
}

static void
test_three_stages(void)
{
    MU_CHECK(run_line(1, 2, 1, 20000));
}

static void
test_fan_out_widths(void)
{
    for (int w = 1; w <= 8; w++)
        MU_CHECK(run_line(1, w, 1, 2000));
}

static void
test_fan_in(void)
{
    MU_CHECK(run_line(3, 0, 1, 3000));
    MU_CHECK(run_line(3, 2, 2, 1000));
}

/*  Runs flow `name`: one counting source of count records into a "sink"
    stage of workers linked by kind (filter, key), and reads what the sinks
    wrote into recs (room for more than want) until want records and the
    flow's end. *got_p: how many were read (0 when a step failed: the case
    is marked failed); *f_p: the ended flow, for the caller to look at,
    destroy, then close_results(). */
static void
run_to_sinks(const char *name, uint64_t count, int workers, mu_flow_link_t kind,
             mu_flow_filter_fn *filter, mu_flow_key_fn *key, record_t *recs, size_t want,
             size_t *got_p, mu_flow_t **f_p)
{
    *got_p = 0;
    open_results();
    src_count = count;
    static uint64_t next;
    next = 0;
    mu_flow_t *f = *f_p = mu_flow_new(name);
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, counting_source, &next), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "sink", workers, sink_startup, sink, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_link(f, "sink", kind, filter, key, NULL), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    results_started();
    size_t got = read_records(recs, want, 60000);
    MU_CHECK_EQ(mu_flow_wait(f, mu_test_ms(60000)), 0);
    got += read_rest(recs + got, 1);
    *got_p = got;
}

static void
test_keyed(void)
{
    static record_t recs[5001];
    size_t got;
    mu_flow_t *f;
    run_to_sinks("keyed", 5000, 4, MU_FLOW_KEYED, NULL, key_mod7, recs, 5000, &got, &f);
    MU_CHECK_EQ(got, 5000);
    int owner[7] = { -1, -1, -1, -1, -1, -1, -1 };
    for (size_t i = 0; i < got; i++) {
        int key = (int) (recs[i].id % 7);
        if (owner[key] < 0)
            owner[key] = recs[i].index;
        MU_CHECK_EQ(recs[i].index, owner[key]); /* same key, same worker */
        MU_CHECK_EQ(recs[i].index, key % 4);
    }
    mu_flow_destroy(&f);
    close_results();
}

static bool
parity_filter(void *arg, int index, const void *data, size_t size)
{
    (void) arg;
    uint64_t id;
    memcpy(&id, data, size < sizeof id ? size : sizeof id);
    return index == 0 || (index == 1 && id % 2 == 0) || (index == 2 && id % 2 == 1);
}

static void
test_broadcast_filters(void)
{
    static record_t recs[6001];
    size_t got;
    mu_flow_t *f;
    run_to_sinks("bcast", 3000, 3, MU_FLOW_BROADCAST, parity_filter, NULL, recs, 6000, &got, &f);
    MU_CHECK_EQ(got, 6000);
    static uint8_t seen[3][3000];
    memset(seen, 0, sizeof seen);
    for (size_t i = 0; i < got; i++) {
        int j = recs[i].index;
        uint64_t id = recs[i].id;
        MU_CHECK(j >= 0 && j < 3 && id < 3000);
        MU_CHECK(parity_filter(NULL, j, &id, sizeof id));
        MU_CHECK_EQ(seen[j][id]++, 0);
    }
    mu_flow_stats_t row;
    MU_CHECK(stage_row(f, "src", -1, &row));
    MU_CHECK_EQ(row.out, 6000); /* every copy counts */
    mu_flow_destroy(&f);
    close_results();
}

static void
test_fd_source(void)
{
    int a[2], b[2];
    MU_CHECK(pipe(a) == 0 && pipe(b) == 0);
    open_results();
    mu_flow_t *f = mu_flow_new("fds");
    int fds[2] = { a[0], b[0] };
    MU_CHECK_EQ(mu_flow_add_fd_source(f, "pipes", fds, 2), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "sink", 2, sink_startup, sink, NULL), 0);
    for (uint64_t k = 0; k < 2000; k++) { /* 4-byte little-endian length, then 8 bytes */
        uint8_t frame[12] = { 8, 0, 0, 0 };
        memcpy(frame + 4, &k, sizeof k);
        MU_CHECK_EQ(write(k % 2 ? b[1] : a[1], frame, sizeof frame), sizeof frame);
    }
    /* Writers close before the flow forks (it would inherit the write ends
       and EOF would never come): the sources end, the flow drains. */
    close(a[1]);
    close(b[1]);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    results_started();
    static record_t recs[2001];
    size_t got = read_records(recs, 2000, 60000);
    MU_CHECK_EQ(mu_flow_wait(f, mu_test_ms(60000)), 0);
    got += read_rest(recs + got, 1);
    MU_CHECK_EQ(got, 2000);
    static uint8_t seen[2000];
    memset(seen, 0, sizeof seen);
    for (size_t i = 0; i < got; i++) {
        MU_CHECK(recs[i].id < 2000);
        MU_CHECK_EQ(seen[recs[i].id]++, 0);
    }
    mu_flow_stats_t row;
    MU_CHECK(stage_row(f, "pipes", -1, &row));
    MU_CHECK_EQ(row.in, 2000);
    MU_CHECK_EQ(row.errors, 0);
    mu_flow_destroy(&f);
    close_results();
}

static int
slow_sink(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    usleep(200); /* the subject: a slow sink */
    return sink(state, data, size, out);
}

static void
test_drop_counted(void)
{
    open_results();
    src_count = 20000;
    static uint64_t next;
    next = 0;
    mu_flow_t *f = mu_flow_new("drops");
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, counting_source, &next), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "sink", 1, sink_startup, slow_sink, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_drop(f, "src", true), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    results_started();
    static record_t recs[20001];
    size_t got = read_records(recs, 20001, 60000); /* until the end of the stream */
    MU_CHECK_EQ(mu_flow_wait(f, mu_test_ms(60000)), 0);
    mu_flow_stats_t src, snk;
    MU_CHECK(stage_row(f, "src", -1, &src));
    MU_CHECK(stage_row(f, "sink", -1, &snk));
    printf("# %zu delivered, %llu dropped\n", got, (unsigned long long) src.drops);
    MU_CHECK(src.drops > 0);                 /* the slow sink could not keep up */
    MU_CHECK_EQ(src.out + src.drops, 20000); /* every message sent or counted */
    MU_CHECK_EQ(got, src.out);
    MU_CHECK_EQ(snk.in, src.out);
    mu_flow_destroy(&f);
    close_results();
}

static int
stuck_handler(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state;
    (void) data;
    (void) size;
    (void) out;
    record_t stuck = { .index = -1 }; /* says it is stuck */
    if (write(result_fd, &stuck, sizeof stuck) != (ssize_t) sizeof stuck)
        return MU_EIO;
    sleep(100); /* never finishes within the drain deadline */
    return 0;
}

static void
test_wait_errors(void)
{
    static uint64_t next;
    open_results();
    mu_flow_t *f = mu_flow_new("stuck");
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, endless_source, &next), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "work", 1, NULL, stuck_handler, NULL), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    MU_CHECK_EQ(mu_flow_wait(f, 50), MU_ETIMEDOUT); /* still running */
    int code = -1;
    MU_CHECK_EQ(mu_flow_state(f, &code), MU_FLOW_RUNNING);
    MU_CHECK_EQ(code, 0);
    record_t stuck;
    MU_CHECK_EQ(read_records(&stuck, 1, 20000), 1); /* the handler is stuck */
    close_results();
    MU_CHECK_EQ(kill(mu_flow_pid(f), SIGSTOP), 0);
    size_t n;
    int rc = mu_flow_stats(f, NULL, 0, &n); /* no answer within 1 s */
    kill(mu_flow_pid(f), SIGCONT);
    MU_CHECK_EQ(rc, MU_ETIMEDOUT);
    MU_CHECK_EQ(mu_flow_stop(f, 300), MU_ECANCELED); /* the drain deadline expired */
    MU_CHECK(strstr(mu_last_error(), "drain deadline expired") != NULL);
    MU_CHECK(strstr(mu_last_error(), "'work'") != NULL);
    MU_CHECK_EQ(mu_flow_state(f, &code), MU_FLOW_FAILED);
    MU_CHECK_EQ(code, MU_ECANCELED);
    MU_CHECK(strstr(mu_last_error(), "drain deadline expired") != NULL);
    mu_flow_destroy(&f);

    f = mu_flow_new("gone");
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, endless_source, &next), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    MU_CHECK_EQ(kill(mu_flow_pid(f), SIGKILL), 0);
    MU_CHECK_EQ(mu_flow_wait(f, mu_test_ms(20000)), MU_EIO); /* the supervisor died */
    MU_CHECK(strstr(mu_last_error(), "supervisor died") != NULL);
    MU_CHECK_EQ(mu_flow_state(f, &code), MU_FLOW_FAILED);
    MU_CHECK_EQ(code, MU_EIO);
    mu_flow_destroy(&f);
}

/*  Worker runner 0 reports (tag 20) and gets stuck on its message; the
    others pass. The teardown (runner 1's: runner 0 never gets there)
    reports (tag 21) that the drain began. */
static int
stuck0_startup(void *arg, int index, void **state_p)
{
    (void) arg;
    *state_p = (void *) (intptr_t) index;
    return 0;
}

static int
stuck0_handler(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) data;
    (void) size;
    (void) out;
    if ((intptr_t) state != 0)
        return 0;
    report(20, 0);
    sleep(100); /* never finishes within the drain deadline */
    return 0;
}

static int
drain_began(void *state, mu_flow_emit_t *out)
{
    (void) out;
    report(21, (uint64_t) (intptr_t) state);
    return 0;
}

static uint64_t
id_key(void *arg, const void *data, size_t size)
{
    (void) arg;
    uint64_t id = 0;
    memcpy(&id, data, size < sizeof id ? size : sizeof id);
    return id;
}

/*  The supervisor ends (its drain deadline expires) with statistics
    requests of ours it never read: its end notice must still come through
    (the kernel reports the unread requests as a reset before the notice),
    so the end is MU_ECANCELED, not "the supervisor died". */
static void
test_end_with_requests_unread(void)
{
    static uint64_t next;
    next = 0;
    src_count = 2; /* ids 0 and 1: one to each worker runner */
    int drain_ms = mu_test_ms(2000);
    open_results();
    mu_flow_t *f = mu_flow_new("unread");
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, counting_source, &next), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "work", 2, stuck0_startup, stuck0_handler, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_link(f, "work", MU_FLOW_KEYED, NULL, id_key, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_teardown(f, "work", drain_began), 0);
    MU_CHECK_EQ(mu_flow_set_drain_timeout(f, drain_ms), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    results_started();
    record_t recs[2];
    MU_CHECK_EQ(read_records(recs, 2, 20000), 2); /* runner 0 stuck, the drain began */
    int64_t deadline = mu_test_now_ms() + drain_ms;
    MU_CHECK_EQ(kill(mu_flow_pid(f), SIGSTOP), 0);
    size_t n;
    int unread = 0;
    while (unread < 2 || mu_test_now_ms() < deadline + 500) { /* each: 1 s unanswered */
        MU_CHECK_EQ(mu_flow_stats(f, NULL, 0, &n), MU_ETIMEDOUT);
        unread++;
    }
    MU_CHECK_EQ(kill(mu_flow_pid(f), SIGCONT), 0); /* reads one request, then ends */
    siginfo_t info; /* the supervisor is gone before we read what it sent */
    MU_CHECK_EQ(waitid(P_PID, (id_t) mu_flow_pid(f), &info, WEXITED | WNOWAIT), 0);
    int rc = mu_flow_wait(f, mu_test_ms(30000));
    printf("# %d requests unread; the end: %s (%s)\n", unread, mu_strerror(rc), mu_last_error());
    bool told = strstr(mu_last_error(), "drain deadline expired") != NULL;
    mu_flow_destroy(&f);
    close_results();
    MU_CHECK_EQ(rc, MU_ECANCELED);
    MU_CHECK(told);
}

/*  A flow that ended by itself and was not waited for yet: mu_flow_stats
    gives its final figures (it reads the end notice), not MU_ETIMEDOUT
    because the supervisor is gone. */
static void
test_stats_after_own_end(void)
{
    static uint64_t next;
    next = 0;
    src_count = 5;
    open_results();
    mu_flow_t *f = mu_flow_new("ended");
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, counting_source, &next), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "sink", 1, sink_startup, sink, NULL), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    results_started();
    siginfo_t info; /* the supervisor is gone before we ask */
    MU_CHECK_EQ(waitid(P_PID, (id_t) mu_flow_pid(f), &info, WEXITED | WNOWAIT), 0);
    mu_flow_stats_t row = { 0 };
    MU_CHECK(stage_row(f, "sink", -1, &row));
    MU_CHECK_EQ(row.in, 5);
    MU_CHECK_EQ(mu_flow_wait(f, 0), 0);
    mu_flow_destroy(&f);
    close_results();
}

/* ---- in-process stages: the event bus ------------------------------------------------ */
typedef struct {
    pthread_t thread;
    int calls, fail_on;
    uint64_t sum;
    int delay_us;
    pthread_mutex_t mu;
} probe_t;

static int
probe(void *arg, const char *event, const void *data, size_t size)
{
    probe_t *p = arg;
    (void) event;
    if (p->delay_us)
        usleep((useconds_t) p->delay_us); /* the subject: a slow hook */
    uint64_t v = 0;
    memcpy(&v, data, size < sizeof v ? size : sizeof v);
    pthread_mutex_lock(&p->mu);
    p->thread = pthread_self();
    p->calls++;
    p->sum += v;
    pthread_mutex_unlock(&p->mu);
    return p->fail_on && (int) v == p->fail_on ? MU_EPROTO : 0;
}

static void
test_bus(void)
{
    mu_flow_bus_t *bus = mu_flow_bus_new();
    MU_CHECK(bus);
    static probe_t in, th, all, slow;
    in = th = all = slow = (probe_t) { .mu = PTHREAD_MUTEX_INITIALIZER };
    in.fail_on = 100000;
    slow.delay_us = 300000;
    MU_CHECK_EQ(mu_flow_bus_on(bus, "", MU_FLOW_INLINE, probe, &in, 0), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_bus_on(bus,
                               "0123456789012345678901234567890123456789012345678901234567890123",
                               MU_FLOW_INLINE, probe, &in, 0),
                MU_EINVAL);
    MU_CHECK_EQ(mu_flow_bus_on(bus, "tick", MU_FLOW_INLINE, probe, &in, 0), 0);
    MU_CHECK_EQ(mu_flow_bus_on(bus, "tick", MU_FLOW_THREAD, probe, &th, 2), 0); /* tiny queue */
    MU_CHECK_EQ(mu_flow_bus_on(bus, "*", MU_FLOW_INLINE, probe, &all, 0), 0);
    MU_CHECK_EQ(mu_flow_bus_on(bus, "slow", MU_FLOW_THREAD, probe, &slow, 0), 0);
    uint64_t v = 3;
    MU_CHECK_EQ(mu_flow_bus_emit(bus, "tick", &v, sizeof v), 3);
    MU_CHECK_EQ(in.calls, 1); /* inline: done before emit returns */
    MU_CHECK(pthread_equal(in.thread, pthread_self()));
    MU_CHECK_EQ(mu_flow_bus_emit(bus, "none", &v, sizeof v), 1); /* only "*" */
    MU_CHECK_EQ(mu_flow_bus_on(bus, "late", MU_FLOW_INLINE, probe, &in, 0), MU_EINVAL);
    v = 100000;
    MU_CHECK_EQ(mu_flow_bus_emit(bus, "tick", &v, sizeof v), MU_EPROTO); /* inline failed */
    for (uint64_t k = 1; k <= 1000; k++) /* back-pressure through a queue of 2 */
        MU_CHECK_EQ(mu_flow_bus_emit(bus, "tick", &k, sizeof k), 3);
    MU_CHECK_EQ(mu_flow_bus_drain(bus, mu_test_ms(20000)), 0);
    pthread_mutex_lock(&th.mu);
    int calls = th.calls;
    uint64_t sum = th.sum;
    bool other = !pthread_equal(th.thread, pthread_self());
    pthread_mutex_unlock(&th.mu);
    MU_CHECK_EQ(calls, 1002);
    MU_CHECK_EQ(sum, 3 + 100000 + 500500);
    MU_CHECK(other); /* ran on the subscription's thread */
    MU_CHECK_EQ(mu_flow_bus_emit(bus, "slow", &v, sizeof v), 2);
    MU_CHECK_EQ(mu_flow_bus_drain(bus, 0), MU_EAGAIN);
    MU_CHECK_EQ(mu_flow_bus_drain(bus, 50), MU_ETIMEDOUT);
    MU_CHECK_EQ(mu_flow_bus_drain(bus, -1), 0);
    MU_CHECK_EQ(mu_flow_bus_drain(bus, 0), 0);
    mu_flow_bus_stats_t bst = { .size = sizeof bst };
    MU_CHECK_EQ(mu_flow_bus_stats(bus, &bst), 0);
    MU_CHECK_EQ(bst.delivered, 1002 * 3 + 1 + 2);
    MU_CHECK_EQ(bst.errors, 1);
    mu_flow_bus_stats_t small = { .size = sizeof small - 1 };
    MU_CHECK_EQ(mu_flow_bus_stats(bus, &small), MU_EINVAL);
    v = 1;
    MU_CHECK_EQ(mu_flow_bus_emit(bus, "slow", &v, sizeof v), 2);
    mu_flow_bus_destroy(&bus); /* runs what is queued first */
    MU_CHECK(bus == NULL);
    MU_CHECK_EQ(slow.calls, 2);
    mu_flow_bus_destroy(&bus);
}

/*  A caller bug (a NULL handler) is an assertion, not a code. */
static void
test_caller_bug_aborts(void)
{
    pid_t pid = fork();
    MU_CHECK(pid >= 0);
    if (pid == 0) {
        close(2); /* the assertion's message */
        mu_flow_t *f = mu_flow_new("bug");
        int rc = f ? mu_flow_add_worker_stage(f, "w", 1, NULL, NULL, NULL) : -1;
        _exit(rc == 0 ? 0 : 1);
    }
    int status = 0;
    MU_CHECK_EQ(waitpid(pid, &status, 0), pid);
    MU_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

/* ---- started from a thread that blocks signals ------------------------------ */

static int sig_gate[2] = { -1, -1 };   /* the test lets the source emit */
static int sig_report[2] = { -1, -1 }; /* the source says 'Y': none blocked */

/*  Whether the calling thread blocks none of SIGINT, SIGTERM, SIGHUP. */
static bool
owned_signals_free(void)
{
    sigset_t now;
    pthread_sigmask(SIG_SETMASK, NULL, &now);
    return !sigismember(&now, SIGINT) && !sigismember(&now, SIGTERM) && !sigismember(&now, SIGHUP);
}

/*  Reports its runner's mask, then emits one message once the test writes
    a byte to sig_gate. */
static int
gated_source(void *arg, int index, mu_flow_emit_t *out)
{
    (void) arg, (void) index;
    char c;
    if (write(sig_report[1], owned_signals_free() ? "Y" : "N", 1) != 1
        || read(sig_gate[0], &c, 1) != 1)
        return MU_EIO;
    return mu_flow_emit(out, "x", 1) == 0 ? 0 : MU_EIO;
}

static int
discard(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state, (void) data, (void) size, (void) out;
    return 0;
}

/*  A thread that blocks every signal (as a program that takes its signals
    on one thread does) starts the flow. */
static void *
start_blocking_all(void *arg)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    return (void *) (intptr_t) mu_flow_start(arg);
}

/*  The mask of process pid (its main thread), from /proc; ~0 when unreadable. */
static uint64_t
blocked_of(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
    FILE *f = fopen(path, "r");
    uint64_t mask = UINT64_MAX;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "SigBlk:", 7) == 0)
            mask = strtoull(line + 7, NULL, 16);
    if (f)
        fclose(f);
    return mask;
}

/*  A flow started from a thread that blocks every signal and then ends:
    its supervisor and runners block none of SIGINT, SIGTERM and SIGHUP
    (they would otherwise miss mu_flow_stop's fallback and their drain),
    and the flow runs to its end (the thread's end does not end it: the
    kernel's parent-death signal follows the thread that forked). */
static void
test_started_with_signals_blocked(void)
{
    const uint64_t owned = 1u << (SIGINT - 1) | 1u << (SIGTERM - 1) | 1u << (SIGHUP - 1);
    MU_CHECK_EQ(pipe(sig_gate), 0);
    MU_CHECK_EQ(pipe(sig_report), 0);
    mu_flow_t *f = mu_flow_new("masked");
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, gated_source, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "sink", 1, NULL, discard, NULL), 0);
    pthread_t t;
    void *rc = NULL;
    MU_CHECK_EQ(pthread_create(&t, NULL, start_blocking_all, f), 0);
    pthread_join(t, &rc);
    MU_CHECK_EQ((intptr_t) rc, 0);
    /* the runner reports once the supervisor forked it: past the reset */
    MU_CHECK_EQ(mu_test_wait_byte(sig_report[0], 20000), 'Y');
    MU_CHECK_EQ(blocked_of(mu_flow_pid(f)) & owned, 0);
    MU_CHECK_EQ(write(sig_gate[1], "g", 1), 1);
    MU_CHECK_EQ(mu_flow_wait(f, mu_test_ms(30000)), 0);
    mu_flow_destroy(&f);
    for (int i = 0; i < 2; i++) {
        close(sig_gate[i]);
        close(sig_report[i]);
    }
}

int
main(int argc, char **argv)
{
    flow_test_begin(argc, argv);
    RUN(test_api_errors);
    RUN(test_caller_bug_aborts);
    RUN(test_bus);
    RUN(test_one_stage);
    RUN(test_three_stages);
    RUN(test_fan_out_widths);
    RUN(test_fan_in);
    RUN(test_keyed);
    RUN(test_broadcast_filters);
    RUN(test_fd_source);
    RUN(test_drop_counted);
    RUN(test_wait_errors);
    RUN(test_end_with_requests_unread);
    RUN(test_stats_after_own_end);
    RUN(test_started_with_signals_blocked);
    MU_DONE();
}
