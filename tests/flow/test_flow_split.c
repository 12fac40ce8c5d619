/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_flow_split.c — a flow split over three processes (with an intruder
    knocking on its CURVE links), CURVE refusals logged at a bounded rate, and
    a CURVE flow started inside a runner of a CURVE flow. The test process
    touches ZeroMQ only as the split flow's intruder. */
#include "flow_cases.h"

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

/*  Counts, in one log line, the refused-handshake lines of the flow's CURVE
    handler and the refusals its "N more" lines report. */
static void
count_refusal_line(const char *line, int *lines_p, int *summaries_p, uint64_t *more_p)
{
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

/*  The sink's log: its process writes into a pipe, read line by line. */
typedef struct {
    int fd;
    char buf[8192];
    size_t len;
    int lines, summaries;
    uint64_t more;
} log_pipe_t;

/*  Reads from the log pipe up to the deadline (ms on mu_test_now_ms) or
    until want refusals were counted (lines + more) or the pipe ended;
    counts every whole line. */
static void
read_log_lines(log_pipe_t *lp, uint64_t want, int64_t deadline)
{
    while ((uint64_t) lp->lines + lp->more < want) {
        int64_t left = deadline - mu_test_now_ms();
        struct pollfd p = { .fd = lp->fd, .events = POLLIN };
        if (left < 0 || poll(&p, 1, (int) left) <= 0)
            return;
        ssize_t got = read(lp->fd, lp->buf + lp->len, sizeof lp->buf - 1 - lp->len);
        if (got <= 0)
            return;
        lp->len += (size_t) got;
        lp->buf[lp->len] = '\0';
        char *line = lp->buf, *nl;
        while ((nl = strchr(line, '\n')) != NULL) {
            *nl = '\0';
            count_refusal_line(line, &lp->lines, &lp->summaries, &lp->more);
            line = nl + 1;
        }
        lp->len -= (size_t) (line - lp->buf);
        memmove(lp->buf, line, lp->len);
        if (lp->len == sizeof lp->buf - 1)
            lp->len = 0; /* a line too long to be one of ours */
    }
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
    int log_pipe[2];
    MU_CHECK_EQ(pipe2(log_pipe, O_CLOEXEC), 0);
    fcntl(log_pipe[0], F_SETPIPE_SZ, 1024 * 1024); /* read only after the burst */
    open_results();
    fflush(NULL);
    /* the sink's process logs into the pipe: zsys on stdout, mu_log on stderr */
    int saved_stdout = dup(1), saved_stderr = dup(2);
    dup2(log_pipe[1], 1);
    dup2(log_pipe[1], 2);
    pid_t sink_pid = run_part("sink", mid_port, sink_port);
    dup2(saved_stdout, 1);
    dup2(saved_stderr, 2);
    close(saved_stdout);
    close(saved_stderr);
    close(log_pipe[1]);
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
    static log_pipe_t lp;
    memset(&lp, 0, sizeof lp);
    lp.fd = log_pipe[0];
    read_log_lines(&lp, N, mu_test_now_ms() + mu_test_ms(10000));
    kill(sink_pid, SIGKILL);
    waitpid(sink_pid, NULL, 0);
    waitpid(intruder, NULL, 0);
    close(log_pipe[0]);
    close_results();
    mu_keys_destroy(&server_keys);
    mu_keys_destroy(&client_keys);
    printf("# %d refusals in %lld s: %d lines logged, %d lines count %llu more\n", N,
           (long long) seconds, lp.lines, lp.summaries, (unsigned long long) lp.more);
    MU_CHECK_EQ(knock_all, 'R');
    MU_CHECK(lp.lines >= 1 && lp.lines <= seconds + 2);
    MU_CHECK(lp.summaries >= 1 && lp.summaries <= seconds + 2);
    MU_CHECK_EQ((uint64_t) lp.lines + lp.more, N);
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

int
main(int argc, char **argv)
{
    flow_test_begin(argc, argv);
    RUN(test_split_three_processes);
    RUN(test_curve_refusals_rate_limited);
    RUN(test_curve_nested_flow);
    MU_DONE();
}
