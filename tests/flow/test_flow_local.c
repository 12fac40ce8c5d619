/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_flow_local.c — the local links between a flow's runners
    (mu_flow_ulink.c) at the flow level, in the demo's shape (one runner
    feeding two workers feeding two sinks, balanced links; the first
    runner is a source, whose link stays on ZeroMQ, so the workers → sinks
    links are the local ones):
      - a worker SIGKILLed mid-stream: the sinks take its successor's new
        connection and the old one's end, the end of stream (per upstream
        index) still comes from every worker, the flow ends by itself;
        every id the sinks got came once, the successor carried some, and
        the ids lost are at most what the dead worker held (its input and
        output queues), the sinks' statistics match what they reported;
      - a sink SIGKILLed mid-stream: both workers reconnect to its
        successor, which gets ids, and the flow ends by itself;
      - foreign input on a sink's socket (a connection with the wrong
        token, garbage, half a record): counted as errors of that runner,
        which stays up and carries the whole stream;
      - a message too large for a local link: mu_flow_emit says
        MU_EMSGSIZE, and the next message goes.
    Waits are on the results pipe and on the runners' start reports. */
#include "flow_cases.h"
#include "base/mu_internal.h"
#include "flow/mu_flow_int.h"
#include "flow/mu_flow_ulink.h"

#include <signal.h>
#include <sys/un.h>

enum { N = 200000 };

/*  Each runner started reports (code, pid) here. */
static int started[2] = { -1, -1 };

static int
reporting_startup(void *arg, int index, void **state_p)
{
    record_t rec = { .index = (int32_t) (intptr_t) arg + index, .id = (uint64_t) getpid() };
    if (write(started[1], &rec, sizeof rec) != (ssize_t) sizeof rec)
        return MU_EIO;
    *state_p = NULL;
    return 0;
}

/*  The pid of runner code once it started (flow_wait_start), or 0. */
static pid_t
wait_start(int code)
{
    return flow_wait_start(started[0], code);
}

/*  A worker: emits (id, its pid). */
static int
tag_worker(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state;
    uint64_t m[2] = { 0, (uint64_t) getpid() };
    if (size != sizeof m[0])
        return MU_EINVAL;
    memcpy(&m[0], data, sizeof m[0]);
    if (worker_delay_us)
        usleep((useconds_t) worker_delay_us); /* simulated work, not a wait */
    return mu_flow_emit(out, m, sizeof m);
}

/*  A sink: reports (the worker's pid, the id with its own pid in the
    high 32 bits). */
static int
tag_sink(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    (void) state;
    (void) out;
    uint64_t m[2];
    if (size != sizeof m)
        return MU_EINVAL;
    memcpy(m, data, sizeof m);
    record_t rec = { .index = (int32_t) m[1], .id = m[0] | ((uint64_t) getpid() << 32) };
    return write(result_fd, &rec, sizeof rec) == (ssize_t) sizeof rec ? 0 : -errno;
}

typedef struct {
    size_t distinct, dupes, bad, by_pid[2]; /* by_pid: records of pids[0], pids[1] */
    pid_t pids[2];                          /* worker or sink pids to count */
    bool by_sink;                           /* count pids of sinks, not workers */
} tally_t;

static uint8_t seen[N];

static void
tally(tally_t *t, const record_t *recs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t id = recs[i].id & 0xffffffffu;
        pid_t pid = t->by_sink ? (pid_t) (recs[i].id >> 32) : (pid_t) recs[i].index;
        if (id >= N) {
            t->bad++;
            continue;
        }
        if (seen[id]++)
            t->dupes++;
        else
            t->distinct++;
        for (int k = 0; k < 2; k++)
            if (pid == t->pids[k])
                t->by_pid[k]++;
    }
}

/*  Reads records until want of them are tallied (0: until the stream
    ends, every process of the flow gone). False on 30 s (scaled) without
    a record. */
static bool
read_until(tally_t *t, size_t want)
{
    static record_t recs[4096];
    for (;;) {
        size_t have = t->distinct + t->dupes + t->bad;
        if (want > 0 && have >= want)
            return true;
        size_t room = want > 0 && want - have < 4096 ? want - have : 4096;
        size_t got = read_records(recs, room, 30000);
        tally(t, recs, got);
        if (got < room) /* the end of the stream, or a timeout */
            return want == 0;
    }
}

/*  source → work (2, tag_worker) → sink (2, tag_sink), all starts
    reported (codes 0-1 workers, 10-11 sinks). */
static mu_flow_t *
demo_shape(const char *name, uint64_t *next)
{
    src_count = N;
    *next = 0;
    mu_flow_t *f = mu_flow_new(name);
    if (!f || mu_flow_add_source(f, "src", 1, counting_source, next) != 0
        || mu_flow_add_worker_stage(f, "work", 2, reporting_startup, tag_worker, (void *) 0) != 0
        || mu_flow_add_worker_stage(f, "sink", 2, reporting_startup, tag_sink, (void *) 10) != 0
        || mu_flow_set_restart_limit(f, 100, 10000) != 0)
        mu_flow_destroy(&f);
    return f;
}

/*  The stage totals against what the sinks reported: the source sent N,
    the sinks took (in) exactly the distinct ids reported, the lost ones
    are at most bound. */
static bool
accounted(mu_flow_t *f, const tally_t *t, size_t bound)
{
    mu_flow_stats_t src, sink;
    if (!stage_row(f, "src", -1, &src) || !stage_row(f, "sink", -1, &sink))
        return false;
    size_t lost = N - t->distinct;
    printf("# src out %llu, sink in %llu, distinct %zu, lost %zu (bound %zu), duplicates %zu\n",
           (unsigned long long) src.out, (unsigned long long) sink.in, t->distinct, lost, bound,
           t->dupes);
    return src.out == N && t->dupes == 0 && t->bad == 0 && lost <= bound;
}

/*  The most ids a runner killed in a flood can take with it, generously:
    the queue of its input link (from the source, ZeroMQ's: 1000 messages
    a side; from a worker, a local link's 64 KiB) plus the kernel's
    socket buffer (some 200 KiB, 256 KiB here, of records of 12 bytes or
    more), and its own output queue (64 KiB), twice over. */
#define LOST_BOUND (2 * (65536 + 262144) / 12)

static void
test_worker_killed(void)
{
    memset(seen, 0, sizeof seen);
    open_results();
    MU_CHECK_EQ(pipe2(started, O_CLOEXEC), 0);
    uint64_t next;
    mu_flow_t *f = demo_shape("lkw", &next);
    MU_CHECK(f);
    worker_delay_us = 20; /* the kill lands mid-stream */
    MU_CHECK_EQ(mu_flow_start(f), 0);
    worker_delay_us = 0;
    results_started();
    pid_t victim = wait_start(0);
    MU_CHECK(victim > 0);
    tally_t t = { .pids = { victim, 0 } };
    MU_CHECK(read_until(&t, 5000));
    MU_CHECK(t.by_pid[0] > 0);
    MU_CHECK_EQ(kill(victim, SIGKILL), 0);
    t.pids[1] = wait_start(0);
    MU_CHECK(t.pids[1] > 0 && t.pids[1] != victim);
    MU_CHECK(read_until(&t, 0));
    MU_CHECK_EQ(mu_flow_wait(f, mu_test_ms(60000)), 0); /* ended by itself */
    printf("# the dead worker passed %zu, its successor %zu\n", t.by_pid[0], t.by_pid[1]);
    MU_CHECK(t.by_pid[1] > 0);
    MU_CHECK(accounted(f, &t, LOST_BOUND));
    mu_flow_stats_t row;
    MU_CHECK(stage_row(f, "work", -1, &row));
    MU_CHECK_EQ(row.restarts, 1);
    MU_CHECK(stage_row(f, "sink", -1, &row));
    /* one error when the kill cut the worker's write in the middle of a
       record (the sink counts the record cut short), else none */
    MU_CHECK(row.errors <= 1);
    MU_CHECK_EQ(row.in, t.distinct);
    mu_flow_destroy(&f);
    close(started[0]);
    close(started[1]);
    close_results();
}

static void
test_sink_killed(void)
{
    memset(seen, 0, sizeof seen);
    open_results();
    MU_CHECK_EQ(pipe2(started, O_CLOEXEC), 0);
    uint64_t next;
    mu_flow_t *f = demo_shape("lks", &next);
    MU_CHECK(f);
    worker_delay_us = 20;
    MU_CHECK_EQ(mu_flow_start(f), 0);
    worker_delay_us = 0;
    results_started();
    pid_t victim = wait_start(10);
    MU_CHECK(victim > 0);
    tally_t t = { .pids = { victim, 0 }, .by_sink = true };
    MU_CHECK(read_until(&t, 5000));
    MU_CHECK_EQ(kill(victim, SIGKILL), 0);
    t.pids[1] = wait_start(10);
    MU_CHECK(t.pids[1] > 0 && t.pids[1] != victim);
    MU_CHECK(read_until(&t, 0));
    MU_CHECK_EQ(mu_flow_wait(f, mu_test_ms(60000)), 0);
    printf("# the dead sink took %zu, its successor %zu\n", t.by_pid[0], t.by_pid[1]);
    MU_CHECK(t.by_pid[1] > 0); /* the workers reconnected */
    mu_flow_stats_t src, work;
    MU_CHECK(stage_row(f, "src", -1, &src));
    MU_CHECK(stage_row(f, "work", -1, &work));
    MU_CHECK_EQ(src.out, N);
    MU_CHECK_EQ(work.in, N); /* no worker died: each took what the source sent */
    MU_CHECK_EQ(t.dupes, 0);
    MU_CHECK_EQ(t.bad, 0);
    MU_CHECK(N - t.distinct <= LOST_BOUND);
    printf("# lost %zu with the dead sink\n", (size_t) (N - t.distinct));
    mu_flow_destroy(&f);
    close(started[0]);
    close(started[1]);
    close_results();
}

/*  A connection to runner index of stage's socket in f's directory. */
static int
connect_runner(mu_flow_t *f, int stage, int index)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "%s/s%d-%d", f->dir, stage, index);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *) &a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/*  Writes a record (u32 LE size, data) to fd. */
static bool
write_record(int fd, const void *data, uint32_t size)
{
    uint8_t b[64];
    mu__put_le32(b, size);
    memcpy(b + 4, data, size);
    return write(fd, b, 4 + size) == (ssize_t) (4 + size);
}

/*  Its end of stream (the peer's close) read: the runner closed it. */
static bool
closed_by_peer(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    char c;
    return poll(&p, 1, mu_test_ms(20000)) == 1 && read(fd, &c, 1) == 0;
}

static void
test_foreign_input(void)
{
    memset(seen, 0, sizeof seen);
    open_results();
    MU_CHECK_EQ(pipe2(started, O_CLOEXEC), 0);
    uint64_t next;
    mu_flow_t *f = demo_shape("lkf", &next);
    MU_CHECK(f);
    worker_delay_us = 20;
    MU_CHECK_EQ(mu_flow_start(f), 0);
    worker_delay_us = 0;
    results_started();
    MU_CHECK(wait_start(10) > 0);
    /* the wrong token, and a record behind it in the same write (the
       runner may close the connection as soon as it reads the hello) */
    int a = connect_runner(f, 2, 0);
    MU_CHECK(a >= 0);
    uint8_t hello[1 + MU__ULINK_TOKEN + 4] = { 'H' };
    uint8_t both[4 + sizeof hello + 4 + 9];
    mu__put_le32(both, sizeof hello);
    memcpy(both + 4, hello, sizeof hello);
    mu__put_le32(both + 4 + sizeof hello, 9);
    memcpy(both + 8 + sizeof hello, "M12345678", 9);
    MU_CHECK_EQ(write(a, both, sizeof both), (ssize_t) sizeof both);
    MU_CHECK(closed_by_peer(a));
    close(a);
    /* garbage */
    a = connect_runner(f, 2, 0);
    MU_CHECK(a >= 0);
    MU_CHECK_EQ(write(a, "GET / HTTP/1.0\r\n\r\n", 18), 18);
    MU_CHECK(closed_by_peer(a));
    close(a);
    /* the right token, then half a record and the end */
    a = connect_runner(f, 2, 0);
    MU_CHECK(a >= 0);
    memcpy(hello + 1, f->link_token, MU__ULINK_TOKEN);
    MU_CHECK(write_record(a, hello, sizeof hello));
    uint8_t half[6];
    mu__put_le32(half, 40);
    memcpy(half + 4, "M1", 2);
    MU_CHECK_EQ(write(a, half, sizeof half), (ssize_t) sizeof half);
    close(a);
    mu_flow_stats_t row;
    MU_CHECK(wait_stat(f, "sink", STAT(errors), 3, &row));
    tally_t t = { 0 };
    MU_CHECK(read_until(&t, 0));
    MU_CHECK_EQ(mu_flow_wait(f, mu_test_ms(60000)), 0);
    MU_CHECK(accounted(f, &t, 0)); /* nothing lost */
    MU_CHECK(stage_row(f, "sink", -1, &row));
    MU_CHECK_EQ(row.errors, 3);
    MU_CHECK_EQ(row.restarts, 0);
    MU_CHECK_EQ(row.in, N);
    mu_flow_destroy(&f);
    close(started[0]);
    close(started[1]);
    close_results();
}

/*  A worker: tries a message of MU__ULINK_MAX_RECORD bytes (its type byte
    makes it one over), reports what that returned (index -2, id -rc),
    then forwards the id as tag_worker does. */
static int
too_large_worker(void *state, const void *data, size_t size, mu_flow_emit_t *out)
{
    void *big = calloc(1, MU__ULINK_MAX_RECORD); /* mapped, not touched: refused first */
    if (!big)
        return MU_ENOMEM;
    int rc = mu_flow_emit(out, big, MU__ULINK_MAX_RECORD);
    free(big);
    report(-2, (uint64_t) -rc);
    return tag_worker(state, data, size, out);
}

static void
test_too_large(void)
{
    open_results();
    src_count = 1;
    uint64_t next = 0;
    mu_flow_t *f = mu_flow_new("lkbig");
    MU_CHECK(f);
    MU_CHECK_EQ(mu_flow_add_source(f, "src", 1, counting_source, &next), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "work", 1, NULL, too_large_worker, NULL), 0);
    MU_CHECK_EQ(mu_flow_add_worker_stage(f, "sink", 1, NULL, tag_sink, NULL), 0);
    MU_CHECK_EQ(mu_flow_start(f), 0);
    results_started();
    record_t recs[4];
    size_t n = read_records(recs, 4, 30000); /* up to the end of the stream */
    MU_CHECK_EQ(mu_flow_wait(f, mu_test_ms(60000)), 0);
    MU_CHECK_EQ(n, 2);
    MU_CHECK_EQ(recs[0].index, -2);
    MU_CHECK_EQ(-(int64_t) recs[0].id, MU_EMSGSIZE);
    MU_CHECK_EQ(recs[1].id & 0xffffffffu, 0);
    mu_flow_destroy(&f);
    close_results();
}

int
main(int argc, char **argv)
{
    flow_test_begin(argc, argv);
    RUN(test_worker_killed);
    RUN(test_sink_killed);
    RUN(test_foreign_input);
    RUN(test_too_large);
    MU_DONE();
}
