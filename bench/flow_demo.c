/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  bench/flow_demo.c — `mutil flow demo` against hand-written glue on raw
    libzmq doing the same job, with the same client, in the same run.

    The job (the echo demo): numbers arrive on a TCP connection as frames
    (4-byte little-endian length, decimal digits); W worker processes check
    that each is decimal digits; the odd ones leave on one TCP connection,
    the even ones on another, framed again. The client (cli_demo_client.c,
    the demo's own) sends 1..count, checks that each comes back exactly
    once on the right connection and measures msg/s and the latency
    percentiles (paced: from each number's due time).
      ours  the flow of `mutil flow demo` (cli_demo_flow.c, public mu_flow
            API): an inbound TCP edge, a worker stage, two outbound edges on
            a broadcast link with parity filters;
      raw   fork() and libzmq as a user would write it without mutil: an
            inbound process reads what the TCP connection has and PUSHes
            each number (ipc, HWM 1000 numbers) to the workers (PULL), which
            check it and PUSH it to the odd or the even output process; each
            output process PULLs what is there (the first blocking, the rest
            while available) and writes it to its TCP connection in one
            write. --parts=N: the inbound process sends up to N numbers of a
            read as one multipart message and the workers forward each
            parity's parts of it as one (N = 16 is how mu_flow batches its
            links); default 1, a message per number.
    Either design has W + 3 such processes, each with 3 threads (its own,
    ZeroMQ's ZMQbg/IO/0 and ZMQbg/Reaper); ours has a supervisor process
    besides (one thread, idle); the client runs in this process. W
    defaults to the number of cores (as the demo), at most 64.
    What the glue leaves out, that ours does: no supervision (a process
    that dies is not restarted: the run fails), no statistics or latency
    histograms, no drain or end of stream (it is killed), and one client
    per TCP port (it accepts one connection), where ours' edges poll many
    clients and track idle and slow ones. Queues: ZeroMQ's high-water
    mark counts messages, a multipart one as one. Ours' links that batch
    set it to 1000 / 16 = 62 messages of up to 16 numbers (about 1000
    numbers per pipe; mu_flow_runner.c, LINK_QUEUE); the glue sets
    RAW_HWM / N with --parts=N: 1000 numbers per pipe with --parts=1 (a
    message per number), 62 messages of up to 16 with --parts=16.

    Cases, each run ours and raw alternately (ABBA: ours first in even
    repetitions, raw first in odd ones):
      flood  the client with 2000 numbers in flight; value msg/s;
      paced  the client at --rate=R numbers/s (default: half of ours' flood
             median of this run); value p99 latency (µs), bar p99 <= 2 ms
             with the rate carried (issue 16).
    Each line carries both designs' msg/s and p50/p99/p999 (medians over
    the repetitions) and their CPU time per message: CPU of every process
    of the design (children's rusage, the parent's minus the client thread)
    over the numbers, which the other work on a shared machine disturbs far
    less than wall-clock figures (paced, a busier machine makes batches
    larger and the figure smaller) -- and split by role: the inbound, the
    worker and the outbound processes (every thread's run time from
    /proc/PID/task/TID/schedstat, read after the settle and before the
    stop, the difference: only the client's numbers; ours' supervisor and
    the start, settle and stop are in the total only). The default is 4
    repetitions (ABBA twice). Ratios are ours / raw (msg/s: higher is
    better; latency and CPU: lower is better), medians of the per-pair
    ratios.

    Usage: bench/flow_demo [bench options] [--rate=R] [--count=N]
    [--workers=W] [--parts=N] [--settle-ms=MS] [flood|paced]; --settle-ms
    (default 200): the client starts that long after either design is up
    (ours: mu_flow_start returned and mu_flow_stats shows every runner
    forked, a pid in each runner row, which mu_flow_start does not wait
    for; not a sign that its sockets are connected, which the settle
    leaves time for; raw: each process wrote its ready byte once bound or
    connected). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "mutil.h"
#include "bench.h"
#include "bench_flow.h"
#include "cli_demo.h"

#define MAX_WORKERS 64
#define MAX_ROWS (MAX_WORKERS + 8) /* ours' stats: 3 stage totals, W + 3 runners */
#define MAX_PARTS 64
#define RAW_HWM 1000 /* numbers per pipe, as mu_flow's links: HWM RAW_HWM / raw_parts */
#define BAR_US CLI_DEMO_P99_BAR_US
#define NUM_MAX CLI_DEMO_NUM_MAX

static int workers;
static int raw_parts = 1;
static char raw_dir[64];
static int listen_fd[3] = { -1, -1, -1 }; /* raw: inbound, odd, even */
static int ready_fd = -1, ready_rd = -1;  /* raw: the ready pipe's write and read ends */
static uint64_t settle_ms = 200;          /* both: the client starts this long after the start */

/*  Waits settle_ms: the processes of either design are up and connected,
    this lets their start's remains (page faults, connection handshakes)
    pass before the client measures. */
static void
settle(void)
{
    struct timespec ts = { .tv_sec = (time_t) (settle_ms / 1000),
                           .tv_nsec = (long) (settle_ms % 1000) * 1000000 };
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
        ;
}

/* ---- raw glue -------------------------------------------------------------- */

/*  In a raw child, first: closes what it does not need, the ready pipe's
    read end and the listeners but listen_fd[keep] (keep -1: all), so that
    only the parent holds them. */
static void
raw_child_fds(int keep)
{
    close(ready_rd);
    for (int k = 0; k < 3; k++)
        if (k != keep)
            close(listen_fd[k]);
}

/*  A raw child that cannot bind or connect says why and ends (status 2). */
static void
raw_fail(const char *what, const char *ep)
{
    fprintf(stderr, "flow_demo: raw process %d: %s %s: %s\n", (int) getpid(), what, ep,
            zmq_strerror(zmq_errno()));
    _exit(2);
}

/*  Tells the parent this child is bound or connected; closes its end. */
static void
raw_ready(void)
{
    char c = 1;
    if (write(ready_fd, &c, 1) != 1)
        _exit(9);
    close(ready_fd);
}

/*  The one connection of a TCP listener (the client's). */
static int
raw_accept(int k)
{
    int fd = accept(listen_fd[k], NULL, NULL);
    if (fd < 0)
        _exit(3);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/*  Sends the number frames in buf[0..len) as messages of up to raw_parts
    parts; returns the bytes taken (whole frames), or -1 on a bad frame. */
static ssize_t
raw_send_frames(void *push, const unsigned char *buf, size_t len)
{
    size_t off = 0;
    const unsigned char *part[MAX_PARTS];
    uint32_t size[MAX_PARTS];
    for (;;) {
        int n = 0;
        while (n < raw_parts && len - off >= 4) {
            const unsigned char *p = buf + off;
            uint32_t s = p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
                         | (uint32_t) p[3] << 24;
            if (s == 0 || s > NUM_MAX)
                return -1;
            if (len - off < 4 + (size_t) s)
                break;
            part[n] = p + 4;
            size[n++] = s;
            off += 4 + s;
        }
        if (n == 0)
            return (ssize_t) off;
        for (int i = 0; i < n; i++)
            if (zmq_send(push, part[i], size[i], i + 1 < n ? ZMQ_SNDMORE : 0) < 0)
                _exit(4);
    }
}

/*  The inbound process: reads what the connection has, sends the whole
    frames, keeps the rest for the next read. */
static void
raw_inbound(int unused)
{
    (void) unused;
    raw_child_fds(0);
    void *ctx = zmq_ctx_new(), *push = bench_flow_raw_socket(ctx, ZMQ_PUSH, RAW_HWM / raw_parts);
    char ep[128];
    bench_flow_raw_ep(ep, sizeof ep, raw_dir, "in", 0);
    if (zmq_bind(push, ep) != 0)
        raw_fail("bind", ep);
    raw_ready();
    int fd = raw_accept(0);
    static unsigned char buf[65536];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof buf - len);
        if (n <= 0)
            _exit(0);
        len += (size_t) n;
        ssize_t took = raw_send_frames(push, buf, len);
        if (took < 0)
            _exit(5); /* bad framing: drop the connection */
        memmove(buf, buf + took, len - (size_t) took);
        len -= (size_t) took;
    }
}

/*  Sends the n messages of m as one multipart message on s (closes them). */
static void
raw_forward(void *s, zmq_msg_t *m, int n)
{
    for (int i = 0; i < n; i++)
        if (zmq_msg_send(&m[i], s, i + 1 < n ? ZMQ_SNDMORE : 0) < 0)
            _exit(4);
}

/*  A worker: each message's parts checked (decimal digits) and passed on by
    parity, the parts of one message to one output as one message. */
static void
raw_worker(int unused)
{
    (void) unused;
    raw_child_fds(-1);
    void *ctx = zmq_ctx_new(), *pull = bench_flow_raw_socket(ctx, ZMQ_PULL, RAW_HWM / raw_parts);
    void *out[2] = { bench_flow_raw_socket(ctx, ZMQ_PUSH, RAW_HWM / raw_parts),
                     bench_flow_raw_socket(ctx, ZMQ_PUSH, RAW_HWM / raw_parts) };
    char ep[128];
    bench_flow_raw_ep(ep, sizeof ep, raw_dir, "in", 0);
    if (zmq_connect(pull, ep) != 0)
        raw_fail("connect", ep);
    for (int k = 0; k < 2; k++) {
        bench_flow_raw_ep(ep, sizeof ep, raw_dir, "out", k);
        if (zmq_connect(out[k], ep) != 0)
            raw_fail("connect", ep);
    }
    raw_ready();
    zmq_msg_t by[2][MAX_PARTS];
    for (;;) {
        int n[2] = { 0, 0 }, more = 1;
        while (more) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, pull, 0) < 0)
                _exit(4);
            more = zmq_msg_more(&m);
            const char *d = zmq_msg_data(&m);
            size_t size = zmq_msg_size(&m);
            uint64_t v;
            if (!cli_demo_parse_number(d, size, &v) || n[0] + n[1] >= MAX_PARTS) {
                zmq_msg_close(&m); /* not a number: dropped */
                continue;
            }
            int k = (d[size - 1] - '0') % 2 == 1 ? 0 : 1;
            zmq_msg_init(&by[k][n[k]]);
            zmq_msg_move(&by[k][n[k]++], &m);
            zmq_msg_close(&m);
        }
        for (int k = 0; k < 2; k++)
            raw_forward(out[k], by[k], n[k]);
    }
}

static void
raw_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(0); /* the client went */
        buf += n;
        len -= (size_t) n;
    }
}

/*  An output process (k 0 odd, 1 even): waits for a number, takes the ones
    already there, writes them all framed in one write. */
static void
raw_output(int k)
{
    raw_child_fds(1 + k);
    void *ctx = zmq_ctx_new(), *pull = bench_flow_raw_socket(ctx, ZMQ_PULL, RAW_HWM / raw_parts);
    char ep[128];
    bench_flow_raw_ep(ep, sizeof ep, raw_dir, "out", k);
    if (zmq_bind(pull, ep) != 0)
        raw_fail("bind", ep);
    raw_ready();
    int fd = raw_accept(1 + k);
    static char buf[65536];
    for (;;) {
        size_t len = 0;
        int flags = 0;
        while (len + 4 + NUM_MAX <= sizeof buf) {
            int n = zmq_recv(pull, buf + len + 4, NUM_MAX, flags);
            if (n < 0 && errno == EAGAIN)
                break;
            if (n < 0)
                _exit(4);
            flags = ZMQ_DONTWAIT;
            if (n > NUM_MAX)
                continue; /* truncated: not a number of ours */
            unsigned char *p = (unsigned char *) buf + len;
            p[0] = (unsigned char) n;
            p[1] = p[2] = p[3] = 0;
            len += 4 + (size_t) n;
        }
        raw_write_all(fd, buf, len);
    }
}

/*  A listening TCP socket on 127.0.0.1, its port in *port; -1 on error. */
static int
listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) != 0 || listen(fd, 4) != 0
        || getsockname(fd, (struct sockaddr *) &sa, &sl) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

/*  The role of raw process i (raw_start's order: outputs, inbound, workers). */
static void
raw_role(int i, char *buf, size_t cap)
{
    if (i < 2)
        snprintf(buf, cap, "output %d (%s)", i, i == 0 ? "odd" : "even");
    else if (i == 2)
        snprintf(buf, cap, "inbound");
    else
        snprintf(buf, cap, "worker %d", i - 3);
}

/*  Waits for a ready byte on fd from each of pids[from..n) (up to 10 s),
    checking every 100 ms whether one of them ended (reaped, its pid set
    to 0). False, with the process's role and how it ended on stderr, when
    one ended or they were not all ready in time. */
static bool
wait_ready(int fd, pid_t *pids, int from, int n)
{
    int up = 0;
    struct pollfd p = { .fd = fd, .events = POLLIN };
    for (int64_t until = bench_now_ns() + 10000000000LL; up < n - from;) {
        char c, role[32];
        if (poll(&p, 1, 100) == 1 && read(fd, &c, 1) == 1) {
            up++;
            continue;
        }
        for (int i = from; i < n; i++) {
            int st;
            if (pids[i] <= 0 || waitpid(pids[i], &st, WNOHANG) != pids[i])
                continue;
            raw_role(i, role, sizeof role);
            fprintf(stderr, "flow_demo: raw %s (pid %d) ended before it was ready: %s %d\n", role,
                    (int) pids[i], WIFEXITED(st) ? "exit status" : "signal",
                    WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
            pids[i] = 0;
            return false;
        }
        if (bench_now_ns() > until) {
            fprintf(stderr, "flow_demo: raw processes %d..%d: %d of %d ready after 10 s\n", from,
                    n - 1, up, n - from);
            return false;
        }
    }
    return true;
}

/*  bench_spawn_into, saying which role could not be forked. */
static bool
raw_spawn(pid_t *pids, int *n, void (*fn)(int), int arg)
{
    char role[32];
    if (bench_spawn_into(pids, n, fn, arg))
        return true;
    raw_role(*n, role, sizeof role);
    fprintf(stderr, "flow_demo: raw %s: fork: %s\n", role, strerror(errno));
    return false;
}

/*  Starts the raw processes (their pids into pids, their number into *n):
    the outputs, then the inbound process, then the workers, each group
    bound or connected before the next starts (so every connect finds its
    peer bound: no ZeroMQ reconnect interval at the start). False when one
    could not start. */
static bool
raw_start(pid_t *pids, int *n, int ports[3])
{
    *n = 0;
    snprintf(raw_dir, sizeof raw_dir, "/tmp/mudemoraw-XXXXXX");
    int p[2];
    if (!mkdtemp(raw_dir) || pipe(p) != 0) {
        fprintf(stderr, "flow_demo: raw: mkdtemp or pipe: %s\n", strerror(errno));
        return false;
    }
    bool ok = true;
    for (int k = 0; k < 3; k++)
        ok = ok && (listen_fd[k] = listen_any(&ports[k])) >= 0;
    if (!ok)
        fprintf(stderr, "flow_demo: raw: a TCP listener: %s\n", strerror(errno));
    ready_rd = p[0];
    ready_fd = p[1];
    if (ok)
        ok = raw_spawn(pids, n, raw_output, 0) && raw_spawn(pids, n, raw_output, 1)
             && wait_ready(p[0], pids, 0, *n);
    if (ok)
        ok = raw_spawn(pids, n, raw_inbound, 0) && wait_ready(p[0], pids, 2, *n);
    for (int i = 0; ok && i < workers; i++)
        ok = raw_spawn(pids, n, raw_worker, i);
    ok = ok && wait_ready(p[0], pids, 3, *n);
    close(p[0]);
    close(p[1]);
    for (int k = 0; k < 3; k++)
        if (listen_fd[k] >= 0) {
            close(listen_fd[k]);
            listen_fd[k] = -1;
        }
    return ok;
}

static void
raw_stop(pid_t *pids, int n)
{
    for (int i = 0; i < n; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGKILL);
    for (int i = 0; i < n; i++)
        if (pids[i] > 0)
            waitpid(pids[i], NULL, 0);
    char ep[128];
    for (int k = 0; k < 3; k++) {
        bench_flow_raw_ep(ep, sizeof ep, raw_dir, k < 2 ? "out" : "in", k < 2 ? k : 0);
        unlink(ep + 6); /* past "ipc://" */
    }
    rmdir(raw_dir);
}

/* ---- one run ------------------------------------------------------------------- */

/*  A run's figures (NaN: the run failed): msg/s, latency percentiles (us),
    CPU per number (us) of the whole design and of its inbound, worker and
    outbound processes (summed per role; the rest, as ours' supervisor, is
    in the whole only). */
enum { F_MSGS, F_P50, F_P99, F_P999, F_CPU, F_CPU_IN, F_CPU_WORK, F_CPU_OUT, F_N };
static const char *const field_name[F_N] = { "msg_s",       "p50_us",         "p99_us",
                                             "p999_us",     "cpu_us_per_msg", "cpu_in_us",
                                             "cpu_work_us", "cpu_out_us" };

typedef struct {
    double v[F_N];
} run_t;

static int64_t
rusage_ns(int who)
{
    struct rusage u;
    getrusage(who, &u);
    return ((int64_t) u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000000000
           + ((int64_t) u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1000;
}

/*  CPU time of a live process so far (every thread's run time from
    /proc/PID/task/TID/schedstat, in ns); 0 when it cannot be read. */
static int64_t
proc_cpu_ns(pid_t pid)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task", (int) pid);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int64_t sum = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/%d/task/%.20s/schedstat", (int) pid, e->d_name);
        FILE *f = fopen(path, "r");
        long long ns = 0;
        if (f && fscanf(f, "%lld", &ns) == 1)
            sum += ns;
        if (f)
            fclose(f);
    }
    closedir(d);
    return sum;
}

/*  ours' runners' CPU so far, summed per role (stage in, work, out). */
static void
ours_roles(mu_flow_t *f, int64_t role[3])
{
    static mu_flow_stats_t rows[MAX_ROWS];
    rows[0].size = sizeof rows[0];
    size_t n = 0;
    if (mu_flow_stats(f, rows, MAX_ROWS, &n) != 0)
        return;
    for (size_t i = 0; i < n && i < MAX_ROWS; i++)
        if (rows[i].index >= 0 && rows[i].pid > 0) {
            int k = strcmp(rows[i].stage, "in") == 0     ? 0
                    : strcmp(rows[i].stage, "work") == 0 ? 1
                                                         : 2;
            role[k] += proc_cpu_ns(rows[i].pid);
        }
}

/*  Waits (up to 10 s) until ours' supervisor reports every runner forked
    (a pid in each runner row of mu_flow_stats, at least W + 3 rows: the
    inbound edge's, the W workers' and the two outbound edges'): mu_flow_start returns before
    it forks them. False when they were not all up in time. */
static bool
ours_wait_up(mu_flow_t *f)
{
    static mu_flow_stats_t rows[MAX_ROWS];
    for (int64_t until = bench_now_ns() + 10000000000LL; bench_now_ns() < until;) {
        rows[0].size = sizeof rows[0];
        size_t n = 0, up = 0, runners = 0;
        if (mu_flow_stats(f, rows, MAX_ROWS, &n) == 0)
            for (size_t i = 0; i < n && i < MAX_ROWS; i++)
                if (rows[i].index >= 0) {
                    runners++;
                    up += rows[i].pid > 0;
                }
        if (runners >= (size_t) workers + 3 && up == runners)
            return true;
        struct timespec ts = { .tv_nsec = 10000000 }; /* stats are up to 100 ms old */
        clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
    }
    return false;
}

/*  The raw processes' CPU so far, summed per role (raw_start's order:
    outputs, inbound, workers). */
static void
raw_roles(const pid_t *pids, int n, int64_t role[3])
{
    for (int i = 0; i < n; i++)
        role[i < 2 ? 2 : i == 2 ? 0 : 1] += proc_cpu_ns(pids[i]);
}

/*  Runs the client against one design (its CPU per role read before the
    stop); the CPU of the design's processes (and of this one, but for the
    client thread) per number in F_CPU. */
static run_t
run_once(bool ours, uint64_t count, uint64_t rate, bool verbose)
{
    int64_t self0 = rusage_ns(RUSAGE_SELF), kids0 = rusage_ns(RUSAGE_CHILDREN);
    int64_t role[3] = { 0 }, role0[3] = { 0 }; /* role0: after the settle, subtracted */
    cli_demo_opts_t o = { .count = count, .rate = rate };
    cli_demo_result_t r = { 0 };
    bool ok = false;
    if (ours) {
        mu_flow_t *f = cli_demo_flow_new(workers, 0);
        if (!f || mu_flow_start(f) != 0)
            fprintf(stderr, "flow_demo: cannot start the flow: %s\n", mu_last_error());
        else if (!ours_wait_up(f))
            fprintf(stderr, "flow_demo: the flow's runners were not all up within 10 s\n");
        else {
            settle();
            ours_roles(f, role0);
            ok = cli_demo_client_run(mu_flow_edge_port(f, "in", 0), mu_flow_edge_port(f, "out", 0),
                                     mu_flow_edge_port(f, "out", 1), &o, &r);
            ours_roles(f, role);
        }
        if (f && mu_flow_stop(f, 5000) != 0)
            ok = false;
        mu_flow_destroy(&f);
    } else {
        pid_t pids[MAX_WORKERS + 3];
        int ports[3];
        int n;
        if (!raw_start(pids, &n, ports))
            fprintf(stderr, "flow_demo: cannot start the raw processes\n");
        else {
            settle();
            raw_roles(pids, n, role0);
            ok = cli_demo_client_run(ports[0], ports[1], ports[2], &o, &r);
            raw_roles(pids, n, role);
        }
        raw_stop(pids, n);
    }
    int64_t cpu = rusage_ns(RUSAGE_SELF) - self0 + rusage_ns(RUSAGE_CHILDREN) - kids0;
    for (int k = 0; k < 3; k++)
        role[k] -= role0[k];
    double per = 1e3 * (double) count; /* ns -> us per number */
    run_t out = { { r.msgs, r.p50_us, r.p99_us, r.p999_us, (double) (cpu - r.cpu_ns) / per,
                    (double) role[0] / per, (double) role[1] / per, (double) role[2] / per } };
    if (verbose || !ok)
        fprintf(stderr,
                "%s %s: %llu of %llu back (wrong %llu, dupes %llu)%s%s, %.0f msg/s, p50 %.0f "
                "p99 %.0f p999 %.0f us, CPU us/msg %.3f (in %.2f, workers %.2f, out %.2f; "
                "client %.3f)\n",
                ours ? "ours" : "raw ", rate ? "paced" : "flood", (unsigned long long) r.received,
                (unsigned long long) count, (unsigned long long) r.wrong,
                (unsigned long long) r.dupes, r.error[0] ? ": " : "", r.error, r.msgs, r.p50_us,
                r.p99_us, r.p999_us, out.v[F_CPU], out.v[F_CPU_IN], out.v[F_CPU_WORK],
                out.v[F_CPU_OUT], (double) r.cpu_ns / per);
    if (!ok)
        for (int f = 0; f < F_N; f++)
            out.v[f] = NAN;
    return out;
}

/* ---- cases --------------------------------------------------------------------- */

/*  "ok" when the medians meet the paced bar (p99 and the rate carried) and
    no run of the design failed (a failed run lost or mangled numbers, or
    did not start: the medians of the rest would hide it); "MISS" otherwise. */
static const char *
bar_status(double msgs, double p99, uint64_t rate, int failed)
{
    if (failed > 0 || isnan(p99))
        return "MISS";
    return p99 <= BAR_US && msgs >= 0.97 * (double) rate ? "ok" : "MISS";
}

/*  Prints one case's JSON line from the medians med ([0] ours, [1] raw) and
    the paired ratios. */
static void
print_case(const char *name, uint64_t count, uint64_t rate, int reps, double med[2][F_N],
           const double ratio[F_N], const int failed[2])
{
    int head = rate ? F_P99 : F_MSGS;
    char a[32], b[32], c[32];
    printf("{\"bench\":\"flow_demo_raw\",\"case\":\"%s\",\"unit\":\"%s\",\"value\":%s,"
           "\"baseline\":\"raw-zmq-glue%s\",\"baseline_value\":%s,\"ratio\":%s",
           name, rate ? "us" : "msg/s", bench_fmt_json(med[0][head], 4, a, sizeof a),
           raw_parts > 1 ? "-batch" : "", bench_fmt_json(med[1][head], 4, b, sizeof b),
           bench_fmt_json(ratio[head], 3, c, sizeof c));
    for (int d = 0; d < 2; d++)
        for (int f = 0; f < F_N; f++)
            printf(",\"%s%s\":%s", d ? "baseline_" : "", field_name[f],
                   bench_fmt_json(med[d][f], 4, a, sizeof a));
    printf(",\"cpu_ratio\":%s,\"count\":%llu,\"workers\":%d,\"parts\":%d,\"reps\":%d,"
           "\"failed\":%d,\"baseline_failed\":%d",
           bench_fmt_json(ratio[F_CPU], 3, a, sizeof a), (unsigned long long) count, workers,
           raw_parts, reps, failed[0], failed[1]);
    if (rate)
        printf(",\"rate\":%llu,\"bar\":\"p99 <= 2 ms at the rate\",\"status\":\"%s\","
               "\"baseline_status\":\"%s\"",
               (unsigned long long) rate,
               bar_status(med[0][F_MSGS], med[0][F_P99], rate, failed[0]),
               bar_status(med[1][F_MSGS], med[1][F_P99], rate, failed[1]));
    else
        printf(",\"in_flight\":%d", CLI_DEMO_WINDOW);
    printf("}\n");
    fflush(stdout);
}

/*  Runs one case (rate 0: flood) reps times ABBA, prints its JSON line;
    returns ours' median msg/s. */
static double
run_case(const bench_opts_t *o, const char *name, uint64_t count, uint64_t rate)
{
    static double s[2][F_N][BENCH_MAX_REPS]; /* [0] ours, [1] raw */
    int failed[2] = { 0, 0 };
    for (int rep = 0; rep < o->reps; rep++)
        for (int j = 0; j < 2; j++) {
            bool ours = (rep % 2 == 0) == (j == 0);
            run_t r = run_once(ours, count, rate, o->verbose);
            failed[!ours] += isnan(r.v[F_MSGS]);
            for (int f = 0; f < F_N; f++)
                s[!ours][f][rep] = r.v[f];
        }
    double med[2][F_N], ratio[F_N];
    for (int f = 0; f < F_N; f++) {
        for (int d = 0; d < 2; d++)
            med[d][f] = bench_median(s[d][f], o->reps);
        ratio[f] = bench_paired_ratio(s[0][f], s[1][f], o->reps);
    }
    print_case(name, count, rate, o->reps, med, ratio, failed);
    return med[0][F_MSGS];
}

/*  Takes this bench's own --NAME=N options out of argv (the rest goes to
    bench_parse_args); exits 2 on a bad value. */
static void
take_option(int *argc, char **argv, const char *name, uint64_t min, uint64_t max, uint64_t *v)
{
    size_t len = strlen(name);
    for (int i = 1; i < *argc; i++)
        if (strncmp(argv[i], name, len) == 0 && argv[i][len] == '=') {
            char *end;
            unsigned long long x = strtoull(argv[i] + len + 1, &end, 10);
            if (*end || x < min || x > max) {
                fprintf(stderr, "flow_demo: %s needs a number from %llu to %llu\n", name,
                        (unsigned long long) min, (unsigned long long) max);
                exit(2);
            }
            *v = x;
            memmove(argv + i, argv + i + 1, sizeof *argv * (size_t) (*argc - i));
            (*argc)--;
            i--;
        }
}

int
main(int argc, char **argv)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t rate = 0, count = 0, parts = 1;
    uint64_t w = cores < 1 ? 1 : cores > MAX_WORKERS ? MAX_WORKERS : (uint64_t) cores;
    take_option(&argc, argv, "--rate", 1, 100000000, &rate);
    take_option(&argc, argv, "--count", 1000, 100000000, &count);
    take_option(&argc, argv, "--workers", 1, MAX_WORKERS, &w);
    take_option(&argc, argv, "--parts", 1, MAX_PARTS, &parts);
    take_option(&argc, argv, "--settle-ms", 0, 10000, &settle_ms);
    bool reps_given = false;
    for (int i = 1; i < argc; i++)
        reps_given = reps_given || strncmp(argv[i], "--reps=", 7) == 0;
    bench_opts_t o;
    bench_parse_args_help(
        argc, argv, &o,
        "this bench's own options (default: 4 repetitions, ABBA twice; cases flood, paced):\n"
        "  --rate=R      paced case at R numbers/s (default: half of ours' flood median)\n"
        "  --count=N     numbers per run (default 1000000, --quick 100000)\n"
        "  --workers=W   worker processes of either design (default: cores, at most 64)\n"
        "  --parts=N     raw glue: up to N numbers per ZeroMQ message (default 1, max 64)\n"
        "  --settle-ms=MS  wait after either design is up before the client (default 200)\n");
    if (!reps_given) /* an even number (ABBA), not bench.h's 5 */
        o.reps = 4;
    signal(SIGPIPE, SIG_IGN);
    workers = (int) w;
    raw_parts = (int) parts;
    if (!count)
        count = o.quick ? 100000 : 1000000;
    double flood = NAN;
    if (bench_selected(&o, "flood") || !rate)
        flood = run_case(&o, "flood", count, 0);
    if (bench_selected(&o, "paced")) {
        if (!rate && isfinite(flood))
            rate = (uint64_t) (flood / 2 / 1000 + 0.5) * 1000;
        if (rate)
            run_case(&o, "paced", count, rate);
    }
    printf("\n(%d workers, %llu numbers per run, raw: %d number(s) per ZeroMQ message; value: "
           "flood msg/s, paced p99 us; ratio ours/raw; cpu_us_per_msg: CPU of the design's "
           "processes per number)\n",
           workers, (unsigned long long) count, raw_parts);
    return 0;
}
