/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_flow.c — mu_flow: API errors, shapes (one stage, three stages,
    fan-out 1..8, fan-in, keyed, broadcast with filters), supervision
    (SIGKILL → restart, restart intensity), drain on SIGTERM, children dying
    with the parent, at-least-once links, a flow split over processes, a
    CURVE flow started inside a runner of a CURVE flow, the teardown hook, in-process handlers of a worker stage (order,
    back-pressure, drain, misuse). TCP edges are in test_flow_edge.c. The
    test process never touches ZeroMQ (but for the split flow's intruder):
    only the flow's runners do, each with its own context. */
#include "mu_test.h"
#include "mutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <zmq.h>

#include "flow_test.h"

static uint64_t src_count; /* ids the counting source emits */

/*  One record to the results pipe from a runner (tag in index). */
static void
report(int32_t tag, uint64_t id)
{
    record_t rec = { .index = tag, .id = id };
    if (write(result_fd, &rec, sizeof rec) != (ssize_t) sizeof rec)
        abort();
}

/* ---- sources ----------------------------------------------------------------- */

/*  Emits ids index*1e9 + 0 .. src_count-1, then ends. */
static int
counting_source(void *arg, int index, mu_flow_emit_t *out)
{
    uint64_t *next = arg;
    if (*next >= src_count)
        return 0;
    uint64_t id = (uint64_t) index * 1000000000u + *next;
    (*next)++;
    int rc = mu_flow_emit(out, &id, sizeof id);
    return rc == 0 ? MU_FLOW_MORE : rc;
}

/*  Emits ids forever, one per ms. */
static int
endless_source(void *arg, int index, mu_flow_emit_t *out)
{
    (void) index;
    uint64_t *next = arg;
    uint64_t id = (*next)++;
    int rc = mu_flow_emit(out, &id, sizeof id);
    usleep(200);
    return rc == 0 ? MU_FLOW_MORE : rc;
}


/* ---- API errors -------------------------------------------------------------- */

static uint64_t
key_mod7(void *arg, const void *data, size_t size)
{
    (void) arg;
    uint64_t id = 0;
    memcpy(&id, data, size < sizeof id ? size : sizeof id);
    return id % 7;
}

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
    usleep(200);
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

/* ---- supervision ------------------------------------------------------------------ */

static void
test_sigkill_restart(void)
{
    open_results();
    static uint64_t next;
    next = 0;
    mu_flow_t *f = mu_flow_new("restart");
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, endless_source, &next), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "work", 2, sink_startup, sink, NULL), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    mu_flow_stats_t row = { 0 };
    int64_t until = mu_test_now_ms() + mu_test_ms(20000);
    while (mu_test_now_ms() < until
           && (!stage_row(f, "work", 0, &row) || row.pid == 0 || row.in == 0))
        usleep(20000);
    MU_CHECK(row.pid > 0);
    pid_t victim = row.pid;
    char comm[64] = "";
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", (int) victim);
    FILE *fp = fopen(path, "r");
    MU_CHECK(fp);
    MU_CHECK(fgets(comm, sizeof comm, fp) != NULL);
    fclose(fp);
    MU_CHECK(strncmp(comm, "restart/work/0", 14) == 0); /* the process title */
    MU_CHECK_EQ(kill(victim, SIGKILL), 0);
    until = mu_test_now_ms() + mu_test_ms(20000);
    while (mu_test_now_ms() < until
           && (!stage_row(f, "work", 0, &row) || row.restarts < 1 || row.pid == 0
               || row.pid == victim))
        usleep(20000);
    MU_CHECK_EQ(row.restarts, 1);
    MU_CHECK(row.pid > 0 && row.pid != victim);
    MU_CHECK(stage_row(f, "work", -1, &row));
    MU_CHECK_EQ(row.restarts, 1);
    MU_CHECK_EQ(mu_flow_stop(f, mu_test_ms(30000)), 0);
    mu_flow_destroy(&f);
    close_results();
}

static int
failing_startup(void *arg, int index, void **state_p)
{
    (void) arg;
    (void) index;
    (void) state_p;
    return -1;
}

static void
test_restart_intensity(void)
{
    static uint64_t next;
    mu_flow_t *f = mu_flow_new("doomed");
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, endless_source, &next), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "crashy", 1, failing_startup, pass_through, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_restart_limit(f, 3, 10000), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    MU_CHECK_EQ(mu_flow_set_restart_limit(f, 3, 10000), MU_EINVAL); /* started */
    MU_CHECK_EQ(mu_flow_start(f), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_wait(f, mu_test_ms(60000)), MU_ELIMIT);
    printf("# %s\n", mu_last_error());
    MU_CHECK(strstr(mu_last_error(), "stage 'crashy'") != NULL);
    MU_CHECK(strstr(mu_last_error(), "restart limit") != NULL);
    mu_flow_stats_t row;
    MU_CHECK(stage_row(f, "crashy", -1, &row));
    MU_CHECK_EQ(row.restarts, 4);
    mu_flow_destroy(&f);
}

static void
test_sigterm_drains(void)
{
    open_results();
    worker_delay_us = 300;
    static uint64_t next;
    next = 0;
    mu_flow_t *f = mu_flow_new("drain");
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, endless_source, &next), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "mid", 3, NULL, pass_through, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "sink", 2, sink_startup, sink, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_drain_timeout(f, mu_test_ms(30000)), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    results_started();
    static record_t recs[200000];
    size_t got = read_records(recs, 300, 20000);
    MU_CHECK_EQ(got, 300);
    MU_CHECK_EQ(kill(mu_flow_pid(f), SIGTERM), 0);
    got += read_records(recs + got, 200000 - got, 60000); /* until the end of the stream */
    MU_CHECK_EQ(mu_flow_wait(f, mu_test_ms(60000)), 0);
    worker_delay_us = 0;
    mu_flow_stats_t row;
    MU_CHECK(stage_row(f, "src", -1, &row));
    MU_CHECK_EQ(got, row.out); /* every accepted message finished */
    static uint8_t seen[200000];
    memset(seen, 0, sizeof seen);
    for (size_t i = 0; i < got; i++) {
        MU_CHECK(recs[i].id < got);         /* ids 0..got-1 ... */
        MU_CHECK_EQ(seen[recs[i].id]++, 0); /* ... each once */
    }
    mu_flow_destroy(&f);
    close_results();
}

static bool
process_gone(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return true;
    bool zombie = fgets(buf, sizeof buf, fp) && strstr(buf, ") Z ") != NULL;
    fclose(fp);
    return zombie;
}

static void
test_parent_killed(void)
{
    int info[2];
    MU_CHECK(pipe(info) == 0);
    pid_t parent = fork();
    MU_CHECK(parent >= 0);
    if (parent == 0) {
        alarm((unsigned) mu_test_ms(60000) / 1000);
        close(info[0]);
        static uint64_t next;
        mu_flow_t *f = mu_flow_new("orphan");
        if (mu_flow_add_source(f, "src", 1, endless_source, &next) != 0
            || mu_flow_add_worker_stage(f, "work", 3, NULL, pass_through, NULL) != 0
            || mu_flow_add_worker_stage(f, "last", 1, NULL, pass_through, NULL) != 0
            || mu_flow_start(f) != 0)
            _exit(1);
        mu_flow_stats_t rows[16] = { [0].size = sizeof rows[0] };
        size_t n = 0;
        int64_t until = mu_test_now_ms() + mu_test_ms(20000);
        bool all = false;
        while (!all && mu_test_now_ms() < until) {
            usleep(20000);
            all = mu_flow_stats(f, rows, 16, &n) == 0 && n == 8; /* 3 totals, 5 runners */
            for (size_t i = 0; all && i < n; i++)
                all = rows[i].index < 0 || rows[i].pid > 0;
        }
        pid_t pids[6] = { mu_flow_pid(f) };
        int k = 1;
        for (size_t i = 0; i < n && k < 6; i++)
            if (rows[i].index >= 0)
                pids[k++] = rows[i].pid;
        if (write(info[1], pids, sizeof pids) != (ssize_t) sizeof pids)
            _exit(1);
        pause();
        _exit(0);
    }
    close(info[1]);
    pid_t pids[6] = { 0 };
    struct pollfd p = { .fd = info[0], .events = POLLIN };
    bool got = poll(&p, 1, mu_test_ms(30000)) == 1
               && read(info[0], pids, sizeof pids) == sizeof pids;
    close(info[0]);
    bool all_alive = true;
    for (int i = 0; i < 6; i++)
        all_alive = all_alive && pids[i] > 0 && !process_gone(pids[i]);
    MU_CHECK_EQ(kill(parent, SIGKILL), 0);
    waitpid(parent, NULL, 0);
    MU_CHECK(got);
    MU_CHECK(all_alive);
    int64_t until = mu_test_now_ms() + mu_test_ms(10000);
    int left = 6;
    while (left > 0 && mu_test_now_ms() < until) {
        left = 0;
        for (int i = 0; i < 6; i++)
            left += !process_gone(pids[i]);
        if (left)
            usleep(20000);
    }
    MU_CHECK_EQ(left, 0);
}

/* ---- at-least-once ---------------------------------------------------------------- */

static void
test_at_least_once_errors(void)
{
    static uint64_t next;
    mu_flow_t *f = mu_flow_new("alo");
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, counting_source, &next), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "sink", 2, sink_startup, sink, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_at_least_once(f, "src", true), MU_EINVAL); /* first stage */
    MU_CHECK_EQ(mu_flow_set_at_least_once(f, "nope", true), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_at_least_once(f, "sink", true), 0);
    MU_CHECK_EQ(mu_flow_set_link(f, "sink", MU_FLOW_KEYED, NULL, key_mod7, NULL), 0);
    MU_CHECK_EQ(mu_flow_start(f), MU_EINVAL); /* only balanced links */
    mu_flow_destroy(&f);
}

/*  100,000 ids over an at-least-once link while its workers are SIGKILLed
    in a loop: every id arrives, duplicates are counted. */
static void
test_at_least_once_kills(void)
{
    enum { N = 100000, KILLS = 12 };
    open_results();
    src_count = N;
    static uint64_t next;
    next = 0;
    mu_flow_t *f = mu_flow_new("alo");
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, counting_source, &next), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "sink", 4, sink_startup, sink, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_at_least_once(f, "sink", true), 0);
    MU_CHECK_EQ(mu_flow_set_restart_limit(f, 100, 10000), 0);
    sink_delay_us = 20; /* long enough for the kills to land mid-stream */
    MU_CHECK_EQ(mu_flow_start(f), 0);
    sink_delay_us = 0;
    static uint8_t seen[N];
    memset(seen, 0, sizeof seen);
    static record_t recs[4096];
    size_t distinct = 0, dupes = 0;
    int kills = 0;
    int64_t until = mu_test_now_ms() + mu_test_ms(90000), next_kill = mu_test_now_ms() + 100;
    while (distinct < N && mu_test_now_ms() < until) {
        size_t got = read_records(recs, 4096, 30);
        for (size_t i = 0; i < got; i++) {
            uint64_t id = recs[i].id;
            if (id >= N) {
                printf("# bad id %llu\n", (unsigned long long) id);
                mu_flow_destroy(&f);
                MU_CHECK(0);
            }
            if (seen[id]++)
                dupes++;
            else
                distinct++;
        }
        mu_flow_stats_t row;
        if (kills < KILLS && mu_test_now_ms() >= next_kill && stage_row(f, "sink", kills % 4, &row)
            && row.pid > 0) {
            kill(row.pid, SIGKILL);
            kills++;
            next_kill = mu_test_now_ms() + 80;
        }
    }
    MU_CHECK_EQ(mu_flow_wait(f, mu_test_ms(60000)), 0);
    mu_flow_stats_t total;
    MU_CHECK(stage_row(f, "sink", -1, &total));
    MU_CHECK(stage_row(f, "src", -1, &total));
    printf("# %d kills, %zu distinct ids, %zu duplicates, %llu redelivered\n", kills, distinct,
           dupes, (unsigned long long) total.redelivered);
    MU_CHECK_EQ(distinct, N); /* no id missing */
    MU_CHECK(kills >= 3);
    MU_CHECK(stage_row(f, "sink", -1, &total));
    MU_CHECK(total.restarts >= 3);
    mu_flow_destroy(&f);
    close_results();
}

/* ---- one flow split over three processes ------------------------------------------- */

/*  A base port with n free consecutive ports on 127.0.0.1 (checked by
    binding; another program could still take one meanwhile). */
static int
free_base(int n)
{
    for (int tries = 0; tries < 200; tries++) {
        int base = 20000 + (int) ((unsigned) rand() % 30000), ok = 1;
        for (int i = 0; ok && i < n; i++) {
            int s = socket(AF_INET, SOCK_STREAM, 0);
            struct sockaddr_in sa = { .sin_family = AF_INET,
                                      .sin_port = htons((uint16_t) (base + i)),
                                      .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
            ok = bind(s, (struct sockaddr *) &sa, sizeof sa) == 0;
            close(s);
        }
        if (ok)
            return base;
    }
    return -1;
}

/*  The shared definition: src(1) → mid(2) → sink(1), mid and sink pinned;
    this process runs only stage `mine`. */
static mu_keys_t *server_keys, *client_keys;

static mu_flow_t *
split_flow(const char *mine, int mid_port, int sink_port, uint64_t *next)
{
    mu_flow_t *f = mu_flow_new("split");
    if (mu_flow_set_curve(f, server_keys, client_keys) != 0
        || mu_flow_add_source(f, "src", 1, counting_source, next) != 0
        || mu_flow_add_worker_stage(f, "mid", 2, NULL, pass_through, NULL) != 0
        || mu_flow_add_worker_stage(f, "sink", 1, sink_startup, sink, NULL) != 0
        || mu_flow_set_endpoint(f, "mid", "127.0.0.1", mid_port) != 0
        || mu_flow_set_endpoint(f, "sink", "127.0.0.1", sink_port) != 0)
        mu_flow_destroy(&f);
    const char *stages[] = { "src", "mid", "sink" };
    for (int i = 0; f && i < 3; i++)
        if (mu_flow_set_local(f, stages[i], strcmp(stages[i], mine) == 0) != 0)
            mu_flow_destroy(&f);
    return f;
}

static pid_t
run_part(const char *mine, int mid_port, int sink_port)
{
    pid_t pid = fork();
    if (pid == 0) {
        alarm((unsigned) mu_test_ms(60000) / 1000);
        close(results[0]);
        static uint64_t next;
        mu_flow_t *f = split_flow(mine, mid_port, sink_port, &next);
        int rc = f ? mu_flow_run(f) : -1;
        if (rc != 0)
            printf("# part %s: %s %s\n", mine, mu_strerror(rc), f ? mu_last_error() : "");
        /* The sink's runner counted the intruder's refused handshake. */
        mu_flow_stats_t row = { 0 };
        bool refused = strcmp(mine, "sink") != 0
                       || (stage_row(f, "sink", -1, &row) && row.errors >= 1);
        if (!refused)
            printf("# the sink counted no refused handshake\n");
        mu_flow_destroy(&f);
        _exit(rc != 0 ? 1 : refused ? 0 : 4);
    }
    return pid;
}

/*  A CURVE client with keys of its own knocks on port (forge: sends a
    forged message too); returns true once libzmq reports its handshake
    refused. seq names its monitor. */
static bool
knock(void *ctx, int port, int seq, bool forge)
{
    void *push = zmq_socket(ctx, ZMQ_PUSH), *mon = zmq_socket(ctx, ZMQ_PAIR);
    char pub[41], sec[41], ep[64], mon_ep[64];
    int timeout = mu_test_ms(30000), linger = 0;
    zmq_curve_keypair(pub, sec);
    zmq_setsockopt(push, ZMQ_CURVE_SERVERKEY, mu_keys_public(server_keys), 32);
    zmq_setsockopt(push, ZMQ_CURVE_PUBLICKEY, pub, 40);
    zmq_setsockopt(push, ZMQ_CURVE_SECRETKEY, sec, 40);
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(mon, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    snprintf(mon_ep, sizeof mon_ep, "inproc://intruder-%d", seq);
    zmq_socket_monitor(push, mon_ep,
                       ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                           | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL);
    zmq_connect(mon, mon_ep);
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    zmq_connect(push, ep);
    if (forge) {
        char forged[9] = { 'M' };
        uint64_t evil = 777777;
        memcpy(forged + 1, &evil, sizeof evil);
        zmq_send(push, forged, sizeof forged, ZMQ_DONTWAIT);
    }
    uint8_t event[6];
    bool refused = zmq_recv(mon, event, sizeof event, 0) >= 2; /* the event frame */
    zmq_close(mon);
    zmq_close(push);
    return refused;
}

/*  Knocks n times on port, each time with new keys (the first also sends a
    forged message); writes 'R' to ready_fd once all were refused. */
static void
intrude(int port, int n, int ready_fd)
{
    void *ctx = zmq_ctx_new();
    int refused = 0;
    for (int i = 0; i < n; i++)
        refused += knock(ctx, port, i, i == 0);
    zmq_ctx_term(ctx);
    if (refused == n)
        mu_test_signal_byte(ready_fd, 'R');
}

/*  An intruder process knocks once on port (intrude); returns 'R' once it
    was refused, or what mu_test_wait_byte returned. The intruder is gone
    on return. */
static int
intruder_knocks(int port)
{
    int ready[2];
    if (pipe(ready) != 0)
        return -1;
    pid_t intruder = fork();
    if (intruder == 0) {
        close(ready[0]);
        intrude(port, 1, ready[1]);
        _exit(0);
    }
    close(ready[1]);
    int byte = intruder > 0 ? mu_test_wait_byte(ready[0], 30000) : -1;
    close(ready[0]);
    if (intruder > 0)
        waitpid(intruder, NULL, 0);
    return byte;
}

static void
test_split_three_processes(void)
{
    mu_flow_t *f = mu_flow_new("x");
    MU_CHECK_EQ(mu_flow_set_endpoint(f, "none", "127.0.0.1", 5000), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_local(f, "none", false), MU_EINVAL);
    static uint64_t next;
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, counting_source, &next), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "w", 3, NULL, pass_through, NULL), 0);
    MU_CHECK_EQ(mu_flow_set_endpoint(f, "w", "", 5000), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_endpoint(f, "w", "127.0.0.1", 0), MU_EINVAL);
    MU_CHECK_EQ(mu_flow_set_endpoint(f, "w", "127.0.0.1", 65534), MU_EINVAL); /* 3 ports */
    MU_CHECK_EQ(mu_flow_set_local(f, "w", false), 0);
    MU_CHECK_EQ(mu_flow_start(f), MU_EINVAL); /* a remote link not pinned */
    MU_CHECK_EQ(mu_flow_set_local(f, "src", false), 0);
    MU_CHECK_EQ(mu_flow_start(f), MU_EINVAL); /* nothing local */
    mu_flow_destroy(&f);

    mu_keys_t *public_only = mu_keys_new_from(mu_keys_public(server_keys = mu_keys_new()), NULL);
    client_keys = mu_keys_new();
    MU_CHECK(server_keys && client_keys && public_only);
    f = mu_flow_new("x");
    MU_CHECK_EQ(mu_flow_set_curve(f, public_only, client_keys), MU_EINVAL);
    mu_flow_destroy(&f);
    mu_keys_destroy(&public_only);

    srand((unsigned) getpid());
    int mid_port = free_base(2), sink_port = free_base(1);
    MU_CHECK(mid_port > 0 && sink_port > 0 && (sink_port < mid_port || sink_port > mid_port + 1));
    open_results();
    src_count = 5000;
    pid_t sink_pid = run_part("sink", mid_port, sink_port);
    pid_t mid_pid = run_part("mid", mid_port, sink_port);
    MU_CHECK(sink_pid > 0 && mid_pid > 0);
    /* An intruder with its own keys knows the endpoint and the server's
       public key: its message must never reach the sink. It knocks while
       only sink and mid run, and says when it was refused. */
    int knock = intruder_knocks(sink_port);
    pid_t src_pid = run_part("src", mid_port, sink_port);
    MU_CHECK(src_pid > 0);
    results_started();
    static record_t recs[5001];
    size_t got = read_records(recs, 5000, 60000);
    /* The sink's process ends by itself once both mid runners sent their
       end of stream; the others feed a remote stage: they stop on SIGTERM. */
    int status = -1;
    MU_CHECK_EQ(waitpid(sink_pid, &status, 0), sink_pid);
    int sink_status = status;
    kill(mid_pid, SIGTERM);
    kill(src_pid, SIGTERM);
    int mid_status = -1, src_status = -1;
    waitpid(mid_pid, &mid_status, 0);
    waitpid(src_pid, &src_status, 0);
    got += read_rest(recs + got, 1);
    close_results();
    mu_keys_destroy(&server_keys);
    mu_keys_destroy(&client_keys);
    MU_CHECK_EQ(knock, 'R');
    MU_CHECK_EQ(got, 5000);
    static uint8_t seen[5000];
    memset(seen, 0, sizeof seen);
    for (size_t i = 0; i < got; i++) {
        MU_CHECK(recs[i].id < 5000);
        MU_CHECK_EQ(seen[recs[i].id]++, 0);
    }
    MU_CHECK(WIFEXITED(sink_status) && WEXITSTATUS(sink_status) == 0);
    MU_CHECK(WIFEXITED(mid_status) && WEXITSTATUS(mid_status) == 0);
    MU_CHECK(WIFEXITED(src_status) && WEXITSTATUS(src_status) == 0);
}

/*  Counts, in the log file path, the refused-handshake lines of the flow's
    CURVE handler and the refusals its "N more" lines report. */
static void
count_refusal_lines(const char *path, int *lines_p, int *summaries_p, uint64_t *more_p)
{
    char line[512];
    *lines_p = *summaries_p = 0;
    *more_p = 0;
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f)) {
        /* zsys lines: "W: date time mu_flow F/S/I (pid N): ..." */
        const char *more = strstr(line, " more refused handshakes on ZAP domain");
        if (more && strstr(line, "mu_flow ")) {
            const char *num = more;
            while (num > line && num[-1] >= '0' && num[-1] <= '9')
                num--;
            (*summaries_p)++;
            *more_p += strtoull(num, NULL, 10);
        } else if (strstr(line, "mu_flow ") && strstr(line, "refused CURVE handshake from")) {
            (*lines_p)++;
        }
    }
    if (f)
        fclose(f);
}

/*  A burst of refused CURVE handshakes on a pinned stage logs at most one
    line a second, and one line counting the others. */
static void
test_curve_refusals_rate_limited(void)
{
    enum { N = 40 };
    server_keys = mu_keys_new();
    client_keys = mu_keys_new();
    MU_CHECK(server_keys && client_keys);
    srand((unsigned) getpid() + 1);
    int mid_port = free_base(2), sink_port = free_base(1);
    MU_CHECK(mid_port > 0 && sink_port > 0 && (sink_port < mid_port || sink_port > mid_port + 1));
    char log_path[] = "/tmp/mu_test_flow_log.XXXXXX";
    int log_fd = mkstemp(log_path);
    MU_CHECK(log_fd >= 0);
    open_results();
    fflush(NULL);
    int saved_stdout = dup(1); /* the sink's process logs (zsys: stdout) into log_path */
    dup2(log_fd, 1);
    pid_t sink_pid = run_part("sink", mid_port, sink_port);
    dup2(saved_stdout, 1);
    close(saved_stdout);
    close(log_fd);
    results_started();
    int ready[2];
    MU_CHECK(sink_pid > 0 && pipe(ready) == 0);
    int64_t start = mu_test_now_ms();
    pid_t intruder = fork();
    if (intruder == 0) {
        close(ready[0]);
        intrude(sink_port, N, ready[1]);
        _exit(0);
    }
    close(ready[1]);
    int knock_all = mu_test_wait_byte(ready[0], 60000);
    close(ready[0]);
    int64_t seconds = (mu_test_now_ms() - start) / 1000;
    /* The handler reports the refusals it did not log once their second
       is over, without another handshake: wait for that line. */
    int lines = 0, summaries = 0;
    uint64_t more = 0;
    int64_t deadline = mu_test_now_ms() + mu_test_ms(10000);
    while ((uint64_t) lines + more < N && mu_test_now_ms() < deadline) {
        usleep(20 * 1000);
        count_refusal_lines(log_path, &lines, &summaries, &more);
    }
    kill(sink_pid, SIGKILL);
    waitpid(sink_pid, NULL, 0);
    waitpid(intruder, NULL, 0);
    close_results();
    unlink(log_path);
    mu_keys_destroy(&server_keys);
    mu_keys_destroy(&client_keys);
    printf("# %d refusals in %lld s: %d lines logged, %d lines count %llu more\n", N,
           (long long) seconds, lines, summaries, (unsigned long long) more);
    MU_CHECK_EQ(knock_all, 'R');
    MU_CHECK(lines >= 1 && lines <= seconds + 2);
    MU_CHECK(summaries >= 1 && summaries <= seconds + 2);
    MU_CHECK_EQ((uint64_t) lines + more, N);
}

/* ---- a CURVE flow started by a runner of a CURVE flow ------------------------------- */

/*  The inner flow of test_curve_nested_flow: its source waits for the
    test's go (a byte on nest_gate, written once the intruder was refused),
    then counts. The host handler reports the inner flow's end (tag -1, id
    rc), its sink's refused handshakes (tag -2) and its source's input
    count (tag -3). */
enum { NEST_COUNT = 200 };
static int nest_gate[2] = { -1, -1 };
static int nest_port;

static int
gated_source(void *arg, int index, mu_flow_emit_t *out)
{
    uint64_t *next = arg;
    if (*next == 0 && mu_test_wait_byte(nest_gate[0], 120000) != 'G')
        return MU_ETIMEDOUT;
    return counting_source(arg, index, out);
}

static int
nest_host(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state, (void) data, (void) size, (void) out;
    static uint64_t next;
    next = 0;
    src_count = NEST_COUNT;
    mu_flow_t *f = mu_flow_new("inner");
    int rc = f ? 0 : MU_ENOMEM;
    if (rc == 0
        && (mu_flow_set_curve(f, server_keys, client_keys) != 0
            || mu_flow_add_source(f, "isrc", 1, gated_source, &next) != 0
            || mu_flow_add_worker_stage(f, "isink", 1, sink_startup, sink, NULL) != 0
            || mu_flow_set_endpoint(f, "isink", "127.0.0.1", nest_port) != 0))
        rc = MU_EINVAL;
    rc = rc == 0 ? mu_flow_run(f) : rc;
    mu_flow_stats_t sink_row = { 0 }, src_row = { 0 };
    if (f && (!stage_row(f, "isink", -1, &sink_row) || !stage_row(f, "isrc", -1, &src_row)))
        rc = rc == 0 ? MU_EINVAL : rc;
    report(-1, (uint64_t) (int64_t) rc);
    report(-2, sink_row.errors);
    report(-3, src_row.in);
    mu_flow_destroy(&f);
    return 0;
}

/*  A runner of a CURVE-pinned stage runs a second CURVE flow (here from
    its handler; mu_flow.h lets a process that uses libzmq start flows).
    That flow's runners are forks of the first runner: each must still run
    a ZAP handler of its own for its own context, or libzmq 4.3.4 lets any
    CURVE key in. An intruder with keys of its own knocks on the inner
    flow's pinned stage (sending a forged message): it must be refused,
    counted, and nothing of it delivered; the inner source's statistics
    start at zero (nothing inherited from the host runner). Two rounds:
    flows one after another in the same process. */
static void
test_curve_nested_flow(void)
{
    srand((unsigned) getpid() + 2);
    for (int round = 0; round < 2; round++) {
        server_keys = mu_keys_new();
        client_keys = mu_keys_new();
        MU_CHECK(server_keys && client_keys);
        int host_port = free_base(1);
        nest_port = free_base(1);
        MU_CHECK(host_port > 0 && nest_port > 0 && host_port != nest_port);
        MU_CHECK(pipe(nest_gate) == 0);
        open_results();
        src_count = 1; /* one message starts the host's handler */
        static uint64_t next;
        next = 0;
        mu_flow_t *f = mu_flow_new("outer");
        MU_CHECK_EQ(mu_flow_set_curve(f, server_keys, client_keys), 0);
        MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, counting_source, &next), 0);
        MU_CHECK_EQ(mu_flow_add_worker_stage(f, "host", 1, NULL, nest_host, NULL), 0);
        MU_CHECK_EQ(mu_flow_set_endpoint(f, "host", "127.0.0.1", host_port), 0);
        MU_CHECK_EQ(mu_flow_set_drain_timeout(f, mu_test_ms(120000)), 0);
        MU_CHECK_EQ(mu_flow_start(f), 0);
        results_started();
        int knock = intruder_knocks(nest_port);
        mu_test_signal_byte(nest_gate[1], 'G'); /* the inner source may count now */
        close(nest_gate[1]);
        record_t recs[NEST_COUNT + 8];
        size_t got = read_records(recs, NEST_COUNT + 3, 60000);
        MU_CHECK_EQ(mu_flow_wait(f, mu_test_ms(60000)), 0);
        got += read_rest(recs + got, NEST_COUNT + 8 - got);
        mu_flow_destroy(&f);
        close_results();
        close(nest_gate[0]);
        mu_keys_destroy(&server_keys);
        mu_keys_destroy(&client_keys);
        int64_t rc = -100;
        uint64_t refused = 0, src_in = 0;
        size_t data = 0, forged = 0;
        for (size_t i = 0; i < got; i++) {
            if (recs[i].index == -1)
                rc = (int64_t) recs[i].id;
            else if (recs[i].index == -2)
                refused = recs[i].id;
            else if (recs[i].index == -3)
                src_in = recs[i].id;
            else if (recs[i].id < NEST_COUNT)
                data++;
            else
                forged++;
        }
        printf("# round %d: intruder %s, inner flow rc %lld, %llu refused, %zu delivered, "
               "%zu forged, inner source in %llu\n",
               round, knock == 'R' ? "refused" : "NOT refused", (long long) rc,
               (unsigned long long) refused, data, forged, (unsigned long long) src_in);
        MU_CHECK_EQ(knock, 'R');
        MU_CHECK_EQ(forged, 0);
        MU_CHECK_EQ(rc, 0);
        MU_CHECK(refused >= 1);
        MU_CHECK_EQ(data, NEST_COUNT);
        MU_CHECK_EQ(src_in, NEST_COUNT);
    }
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
        usleep((useconds_t) p->delay_us);
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
    usleep(2000);
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
        usleep((useconds_t) delay);
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
    usleep(20);
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
    RUN(test_sigkill_restart);
    RUN(test_restart_intensity);
    RUN(test_sigterm_drains);
    RUN(test_wait_errors);
    RUN(test_end_with_requests_unread);
    RUN(test_stats_after_own_end);
    RUN(test_parent_killed);
    RUN(test_at_least_once_errors);
    RUN(test_at_least_once_kills);
    RUN(test_split_three_processes);
    RUN(test_curve_refusals_rate_limited);
    RUN(test_teardown);
    RUN(test_inproc_order);
    RUN(test_inproc_backpressure);
    RUN(test_inproc_drain);
    RUN(test_inproc_errors);
    RUN(test_curve_nested_flow);
    MU_DONE();
}
