/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  cli_flow.c — `mutil flow demo|serve|help`: the echo dataflow of the seeds
    run end to end, or served to clients of your own (the Python binding's
    cross-language test is one).

    demo builds the flow "echo": a TCP edge listening for numbers, N worker
    processes that check and pass them on, and two TCP edges replying with
    the odd and the even numbers (a broadcast link whose per-edge filters
    pick the parity). A client in this process connects to the three edges,
    sends the numbers 1..COUNT as decimal text frames (4-byte little-endian
    length, then the digits) with a window of numbers in flight, and checks
    that every number comes back exactly once, on the edge of its parity. It
    prints messages/s and the latency percentiles, then the flow's
    statistics. Flood (the default) sends as fast as the window allows;
    --rate N paces the numbers at N per second, each one's latency counted
    from the time it was due (so time the client lost, to a busy machine or
    a flow that did not read, is counted: no coordinated omission); what is
    due is written within PACED_TICK_NS (one write per tick).
    --json prints the summary as one JSON line instead (for
    tools/bench_tables.py): bench "flow_demo", case "flood" or "paced". */
#include "cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WINDOW 2000          /* numbers in flight (flood; paced: at least) */
#define PACED_WINDOW_S 0.05  /* paced: the window holds this much of the schedule */
#define PACED_TICK_NS 100000 /* paced: what came due is written at most this late */
#define STALL_MS 10000       /* no reply for this long: the demo fails */
#define NUM_MAX 20           /* digits of a number frame */

/*  The help of "flow demo" and "flow serve", also part of "mutil help flow". */
#define DEMO_HELP                                                                \
    "demo runs the echo flow: an inbound TCP edge, --workers worker processes\n" \
    "(default: the number of cores, at most 256) and two outbound TCP\n"         \
    "edges, one for odd and one for even numbers. A client sends the numbers\n"  \
    "1..--count (default 100000) and checks that each comes back exactly once\n" \
    "on the right edge; then the throughput, latency percentiles and the\n"      \
    "flow's statistics per stage and worker are printed. By default the\n"       \
    "client floods (2000 numbers in flight); --rate N paces it at N numbers\n"   \
    "per second, latency counted from when each number was due; --json\n"        \
    "prints that line as one JSON line (for tools/bench_tables.py).\n"
#define SERVE_HELP                                                               \
    "serve runs the same flow for clients of your own: it prints the edges'\n"   \
    "ports (--port P: inbound P, odd P+1, even P+2; default ephemeral ports),\n" \
    "then runs until SIGINT or SIGTERM, drains and prints the statistics.\n"

#define FLOW_HELP                                                                     \
    DEMO_HELP "\n" SERVE_HELP "\n"                                                    \
              "run runs a flow file (JSON: hosts, stages with external-command or\n"  \
              "shared-library handlers, links; doc/flow.md \"Flow files\"): see\n"    \
              "'mutil help flow run'.\n\n"                                            \
              "Exit status: 0 every number came back right (demo) or a clean drain\n" \
              "(serve), 1 otherwise, 2 bad usage.\n"

/* ---- the flow ----------------------------------------------------------------- */

/*  Parses a number frame; false when it is not 1..20 decimal digits. */
static bool
parse_number(const void *data, size_t size, uint64_t *value_p)
{
    const char *p = data;
    if (size == 0 || size > NUM_MAX)
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
    if (!parse_number(data, size, &v))
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

/*  The echo flow; port: the inbound edge's (odd port + 1, even port + 2),
    0: ephemeral ports. */
static mu_flow_t *
make_flow(int workers, int port)
{
    mu_flow_t *f = mu_flow_new("echo");
    if (!f)
        return NULL;
    mu_flow_edge_t in = { .host = "127.0.0.1", .port = port, .listen = true, .max_frame = NUM_MAX };
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

/* ---- the client ------------------------------------------------------------------ */

typedef struct {
    int fd;
    char buf[65536];
    size_t len;
} conn_t;

typedef struct {
    uint64_t count, sent, received, wrong, dupes;
    uint64_t window;  /* numbers in flight at most */
    int64_t *sent_ns; /* per number */
    uint8_t *seen;
    double *lat_us;    /* per reply */
    conn_t in, out[2]; /* out[0] odd, out[1] even */
    char wbuf[65536];
    size_t wlen, woff;
    double rate; /* numbers per second; 0: flood */
    int64_t t0;  /* start */
    double due;  /* paced: when the next number is due (ns, from t0) */
} client_t;

static int64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t) port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *) &sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/*  True when the next number may go now (flood: always; paced: one is
    due every 1/rate s from t0). */
static bool
due_now(const client_t *c, int64_t now)
{
    return c->rate <= 0 || c->due <= (double) (now - c->t0);
}

/*  True when the numbers due are written now: flood always; paced once the
    first one due has waited PACED_TICK_NS (one write per tick, as a sender
    batching its writes would do; the wait counts in each one's latency). */
static bool
write_now(const client_t *c, int64_t now)
{
    return c->rate <= 0 || c->due + PACED_TICK_NS <= (double) (now - c->t0);
}

/*  Queues number frames while they are due and the window and the buffer
    allow; each one's latency counts from when it was due (flood: now). */
static void
fill(client_t *c)
{
    if (c->woff == c->wlen)
        c->woff = c->wlen = 0;
    int64_t now = now_ns();
    if (!write_now(c, now))
        return;
    while (c->sent < c->count && c->sent - c->received < c->window
           && c->wlen + 4 + NUM_MAX <= sizeof c->wbuf && due_now(c, now)) {
        uint64_t v = ++c->sent;
        char digits[NUM_MAX + 1];
        int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long) v);
        unsigned char *p = (unsigned char *) c->wbuf + c->wlen;
        p[0] = (unsigned char) n;
        p[1] = p[2] = p[3] = 0;
        memcpy(p + 4, digits, (size_t) n);
        c->wlen += 4 + (size_t) n;
        c->sent_ns[v] = c->rate > 0 ? c->t0 + (int64_t) c->due : now;
        c->due += 1e9 / (c->rate > 0 ? c->rate : 1);
    }
}

/*  How long pump may wait: until the next number is due (paced), else
    100 ms. */
static struct timespec
wait_time(const client_t *c)
{
    int64_t ns = 100000000;
    if (c->rate > 0 && c->sent < c->count && c->sent - c->received < c->window
        && c->woff == c->wlen) {
        int64_t left = c->t0 + (int64_t) c->due + PACED_TICK_NS - now_ns();
        ns = left < 0 ? 0 : left < ns ? left : ns;
    }
    return (struct timespec) { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };
}

/*  Takes the whole frames in an outbound connection's buffer. */
static void
take_replies(client_t *c, conn_t *o, int parity)
{
    size_t off = 0;
    while (o->len - off >= 4) {
        const unsigned char *p = (const unsigned char *) o->buf + off;
        uint32_t n = p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
        if (o->len - off < 4 + (size_t) n)
            break;
        uint64_t v;
        if (!parse_number(p + 4, n, &v) || v == 0 || v > c->count || (int) (v % 2) != parity)
            c->wrong++;
        else if (c->seen[v]++)
            c->dupes++;
        else {
            c->lat_us[c->received] = (double) (now_ns() - c->sent_ns[v]) / 1000.0;
            c->received++;
        }
        off += 4 + n;
    }
    memmove(o->buf, o->buf + off, o->len - off);
    o->len -= off;
}

/*  Writes what is queued for the inbound edge as far as the socket takes
    it; false when the connection failed. */
static bool
send_queued(client_t *c)
{
    if (c->woff == c->wlen)
        return true;
    ssize_t n = send(c->in.fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    c->woff += (size_t) n;
    return true;
}

/*  One round of I/O: what is due goes out at once (a full socket: when
    poll says it has room); returns false when a connection failed. */
static bool
pump(client_t *c)
{
    fill(c);
    if (!send_queued(c))
        return false;
    struct pollfd p[3] = {
        { .fd = c->in.fd, .events = c->woff < c->wlen ? POLLOUT : 0 },
        { .fd = c->out[0].fd, .events = POLLIN },
        { .fd = c->out[1].fd, .events = POLLIN },
    };
    struct timespec wait = wait_time(c);
    if (ppoll(p, 3, &wait, NULL) < 0)
        return errno == EINTR;
    if ((p[0].revents & POLLOUT) && !send_queued(c))
        return false;
    for (int k = 0; k < 2; k++)
        if (p[k + 1].revents) {
            conn_t *o = &c->out[k];
            ssize_t n = recv(o->fd, o->buf + o->len, sizeof o->buf - o->len, 0);
            if (n <= 0)
                return false;
            o->len += (size_t) n;
            take_replies(c, o, k == 0 ? 1 : 0);
        }
    return true;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

/* ---- the demo ---------------------------------------------------------------------- */

void
cli_flow_print_stats(mu_flow_t *f)
{
    static mu_flow_stats_t rows[600];
    rows[0].size = sizeof rows[0];
    size_t n = 0;
    if (mu_flow_stats(f, rows, 600, &n) != 0)
        return;
    /* the pipeline column only when the flow has several pipelines */
    bool pipes = false;
    for (size_t i = 1; i < n && i < 600; i++)
        pipes = pipes || strcmp(rows[i].pipeline, rows[0].pipeline) != 0;
    static const char *const headers[] = { "pipeline", "stage",  "runner",   "pid",    "in",
                                           "out",      "errors", "restarts", "drops",  "queue",
                                           "clients",  "idle",   "slow",     "p50 us", "p99 us" };
    cli_table_t *t = cli_table_new(pipes ? 15 : 14, pipes ? headers : headers + 1);
    for (size_t i = 0; t && i < n && i < 600; i++) {
        const mu_flow_stats_t *r = &rows[i];
        char idx[16], pid[16], stage[80];
        snprintf(idx, sizeof idx, r->index < 0 ? "all" : "%d", r->index);
        snprintf(pid, sizeof pid, r->pid > 0 ? "%d" : "-", (int) r->pid);
        snprintf(stage, sizeof stage, "%s%s%s", pipes ? r->pipeline : "", pipes ? "\t" : "",
                 r->stage);
        (void) cli_table_addf(t,
                              "%s\t%s\t%s\t%llu\t%llu\t%llu\t%llu\t%llu\t%lld\t%llu\t%llu\t%llu"
                              "\t%.1f\t%.1f",
                              stage, idx, pid, (unsigned long long) r->in,
                              (unsigned long long) r->out, (unsigned long long) r->errors,
                              (unsigned long long) r->restarts, (unsigned long long) r->drops,
                              (long long) r->queue, (unsigned long long) r->clients,
                              (unsigned long long) r->clients_idle,
                              (unsigned long long) r->clients_slow, r->p50_us, r->p99_us);
    }
    if (t)
        cli_table_print(t, stdout, 0);
    cli_table_destroy(&t);
}

/*  Runs the client against the started flow; returns true when every
    number came back right. */
static bool
run_client(mu_flow_t *f, uint64_t count, double *secs_p, client_t *c)
{
    c->count = count;
    c->sent_ns = calloc(count + 1, sizeof *c->sent_ns);
    c->seen = calloc(count + 1, 1);
    c->lat_us = calloc(count + 1, sizeof *c->lat_us);
    if (!c->sent_ns || !c->seen || !c->lat_us)
        return false;
    c->out[0].fd = connect_port(mu_flow_edge_port(f, "out", 0));
    c->out[1].fd = connect_port(mu_flow_edge_port(f, "out", 1));
    c->in.fd = connect_port(mu_flow_edge_port(f, "in", 0));
    if (c->in.fd < 0 || c->out[0].fd < 0 || c->out[1].fd < 0) {
        cli_error("flow demo", "cannot connect to the flow's edges: %s", strerror(errno));
        return false;
    }
    int64_t t0 = now_ns(), last_progress = t0;
    c->t0 = t0;
    uint64_t last_received = 0;
    while (c->received < count && c->wrong == 0) {
        if (!pump(c)) {
            cli_error("flow demo", "a connection to the flow failed");
            break;
        }
        int64_t now = now_ns();
        if (c->received != last_received) {
            last_received = c->received;
            last_progress = now;
        } else if (now - last_progress > (int64_t) STALL_MS * 1000000) {
            cli_error("flow demo", "no reply for %d ms", STALL_MS);
            break;
        }
    }
    *secs_p = (double) (now_ns() - t0) / 1e9;
    for (int k = 0; k < 2; k++) /* late duplicates would show up now */
        if (c->received == count)
            for (int64_t until = now_ns() + 200000000; now_ns() < until;)
                if (!pump(c))
                    break;
    close(c->in.fd);
    close(c->out[0].fd);
    close(c->out[1].fd);
    return c->received == count && c->wrong == 0 && c->dupes == 0;
}

/*  Reads the current option's value as a number in 1..max into *v.
    Returns false after printing why. */
static bool
parse_count(cli_args_t *args, uint64_t max, uint64_t *v)
{
    const char *text = NULL;
    if (cli_args_value(args, &text) && cli_parse_size(text, v) == 0 && *v >= 1 && *v <= max)
        return true;
    if (text)
        cli_error(args->who, "%s needs a number from 1 to %llu", args->option,
                  (unsigned long long) max);
    return false;
}

/*  Parses the options of "flow demo" and "flow serve" (who): --workers N
    (1..256), the command's own numeric option (--count or --port, up to
    max, into *value) and, when rate is not NULL, --rate N (1..10^8
    numbers/s) and --json (into *json). Returns CLI_ARGS_OPERAND to go on,
    else the exit status (help or usage printed). */
static int
parse_options(const cli_command_t *self, const char *who, int argc, char **argv, uint64_t *workers,
              const char *option, uint64_t max, uint64_t *value, uint64_t *rate, bool *json)
{
    cli_args_t args;
    cli_args_init(&args, who, argc, argv);
    const char *word;
    for (int kind; (kind = cli_args_next(&args, &word)) != CLI_ARGS_END;) {
        bool ok = false;
        if (kind == CLI_ARGS_HELP) {
            cli_print_help(stdout, "flow", self);
            return CLI_EXIT_OK;
        }
        if (kind == CLI_ARGS_OPERAND)
            cli_error(args.who, "unexpected argument '%s'", word);
        else if (cli_args_is(&args, "--workers"))
            ok = parse_count(&args, 256, workers);
        else if (cli_args_is(&args, option))
            ok = parse_count(&args, max, value);
        else if (rate && cli_args_is(&args, "--rate"))
            ok = parse_count(&args, 100000000, rate);
        else if (json && cli_args_is(&args, "--json"))
            ok = *json = cli_args_flag(&args);
        else
            cli_args_unknown(&args);
        if (!ok) {
            cli_print_usage(stderr, "flow", self);
            return CLI_EXIT_USAGE;
        }
    }
    return CLI_ARGS_OPERAND;
}

/*  The latency quantile q of the sorted latencies (nearest rank). */
static double
quantile(const client_t *c, double q)
{
    if (c->received == 0)
        return 0;
    size_t k = (size_t) ((double) c->received * q);
    return c->lat_us[k < c->received ? k : c->received - 1];
}

/*  The demo's throughput and latency line: text, or one JSON line (json)
    with the paced mode's bar (issue 16: p99 <= 2 ms). c's latencies are
    sorted. */
static void
print_summary(const client_t *c, uint64_t count, uint64_t rate, double secs, bool json)
{
    double msgs = secs > 0 ? (double) c->received / secs : 0;
    double p50 = quantile(c, 0.5), p99 = quantile(c, 0.99), p999 = quantile(c, 0.999);
    if (!json) {
        if (rate)
            printf("paced at %llu/s: ", (unsigned long long) rate);
        else
            printf("flood (%d in flight): ", WINDOW);
        printf("%.0f messages/s, latency p50 %.0f us, p99 %.0f us, p999 %.0f us\n", msgs, p50, p99,
               p999);
        return;
    }
    printf("{\"bench\":\"flow_demo\",\"case\":\"%s\",\"unit\":\"msg/s\",\"value\":%.0f,"
           "\"p50_us\":%.0f,\"p99_us\":%.0f,\"p999_us\":%.0f,\"received\":%llu,\"count\":%llu,"
           "\"wrong\":%llu,\"duplicates\":%llu",
           rate ? "paced" : "flood", msgs, p50, p99, p999, (unsigned long long) c->received,
           (unsigned long long) count, (unsigned long long) c->wrong,
           (unsigned long long) c->dupes);
    if (rate) {
        /* the bar holds only if the flow carried the rate (a full window
           holds the client back: value below the rate) */
        bool carried = msgs >= 0.97 * (double) rate;
        printf(",\"rate\":%llu,\"bar\":\"p99 <= 2 ms at the rate\",\"status\":\"%s\"}\n",
               (unsigned long long) rate, p99 <= 2000 && carried ? "ok" : "MISS");
    } else
        printf(",\"in_flight\":%d}\n", WINDOW);
}

static int
flow_demo(const cli_command_t *self, int argc, char **argv)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t workers = (uint64_t) (cores > 0 ? cores : 1), count = 100000, rate = 0;
    if (workers > 256)
        workers = 256;
    bool json = false;
    int status = parse_options(self, "flow demo", argc, argv, &workers, "--count", 100000000,
                               &count, &rate, &json);
    if (status != CLI_ARGS_OPERAND)
        return status;
    mu_flow_t *f = make_flow((int) workers, 0);
    int rc = f ? mu_flow_start(f) : MU_ENOMEM;
    if (rc != 0) {
        cli_error("flow demo", "cannot start the flow: %s", mu_strerror(rc));
        mu_flow_destroy(&f);
        return CLI_EXIT_FAIL;
    }
    printf("echo flow: inbound edge port %d, %llu workers, odd edge port %d, even edge port %d\n",
           mu_flow_edge_port(f, "in", 0), (unsigned long long) workers,
           mu_flow_edge_port(f, "out", 0), mu_flow_edge_port(f, "out", 1));
    client_t *c = calloc(1, sizeof *c);
    if (c) {
        c->rate = (double) rate;
        c->window = WINDOW;
        if ((double) rate * PACED_WINDOW_S > WINDOW)
            c->window = (uint64_t) ((double) rate * PACED_WINDOW_S);
    }
    double secs = 0;
    bool ok = c && run_client(f, count, &secs, c);
    if (c) {
        qsort(c->lat_us, c->received, sizeof *c->lat_us, cmp_double);
        printf("%llu of %llu numbers back (wrong edge or malformed: %llu, duplicates: %llu)\n",
               (unsigned long long) c->received, (unsigned long long) count,
               (unsigned long long) c->wrong, (unsigned long long) c->dupes);
        print_summary(c, count, rate, secs, json);
        free(c->sent_ns);
        free(c->seen);
        free(c->lat_us);
        free(c);
    }
    int stop = mu_flow_stop(f, 5000);
    if (stop != 0) {
        cli_error("flow demo", "flow ended with %s: %s", mu_strerror(stop), mu_last_error());
        ok = false;
    }
    cli_flow_print_stats(f);
    mu_flow_destroy(&f);
    printf("%s\n", ok ? "ok: every number came back exactly once on the right edge" : "FAILED");
    return ok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/*  Waits for the end of the flow or a signal; then drains. Returns the end. */
static int
serve_until_signal(mu_flow_t *f)
{
    int end = MU_EAGAIN;
    while (end == MU_EAGAIN && !cli_interrupted()) {
        int rc = mu_flow_wait(f, 200);
        end = rc == MU_ETIMEDOUT ? MU_EAGAIN : rc; /* still running, or the end */
    }
    return end == MU_EAGAIN ? mu_flow_stop(f, -1) : end;
}

static int
flow_serve(const cli_command_t *self, int argc, char **argv)
{
    uint64_t workers = 4, port = 0;
    int status = parse_options(self, "flow serve", argc, argv, &workers, "--port", 65533, &port,
                               NULL, NULL);
    if (status != CLI_ARGS_OPERAND)
        return status;
    mu_flow_t *f = make_flow((int) workers, (int) port);
    cli_catch_interrupts();
    int rc = f ? mu_flow_start(f) : MU_ENOMEM;
    if (rc != 0) {
        cli_error("flow serve", "cannot start the flow: %s", mu_strerror(rc));
        mu_flow_destroy(&f);
        return CLI_EXIT_FAIL;
    }
    printf("echo flow: inbound edge port %d, %llu workers, odd edge port %d, even edge port %d\n",
           mu_flow_edge_port(f, "in", 0), (unsigned long long) workers,
           mu_flow_edge_port(f, "out", 0), mu_flow_edge_port(f, "out", 1));
    fflush(stdout);
    rc = serve_until_signal(f);
    if (rc != 0)
        cli_error("flow serve", "flow ended with %s: %s", mu_strerror(rc), mu_last_error());
    cli_flow_print_stats(f);
    mu_flow_destroy(&f);
    return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int flow_help(const cli_command_t *self, int argc, char **argv);

static const cli_command_t sub_demo = { "demo",
                                        "[--workers N] [--count N] [--rate N] [--json]",
                                        "run the echo flow with a checking client",
                                        DEMO_HELP "\nExit status: 0 every number came back "
                                                  "right, 1 otherwise, 2 bad usage.\n",
                                        flow_demo,
                                        NULL };
static const cli_command_t sub_serve = { "serve",
                                         "[--workers N] [--port P]",
                                         "run the echo flow for other clients until a signal",
                                         SERVE_HELP "\nExit status: 0 a clean drain, 1 "
                                                    "otherwise, 2 bad usage.\n",
                                         flow_serve,
                                         NULL };
static const cli_command_t sub_help = { "help", "",        "describe the flow commands",
                                        NULL,   flow_help, NULL };
static const cli_command_t *const flow_subcommands[] = { &sub_demo, &sub_serve, &cli_flow_sub_run,
                                                         &sub_help };
static const cli_subcommands_t flow_group = CLI_SUBCOMMANDS("flow", flow_subcommands);

static int
flow_help(const cli_command_t *self, int argc, char **argv)
{
    int status = cli_args_split(self, "flow", "flow help", &argc, argv, NULL, NULL);
    if (status != CLI_ARGS_OPERAND)
        return status;
    if (argc > 0) {
        cli_error("flow help", "unexpected argument '%s'", argv[0]);
        cli_print_usage(stderr, "flow", self);
        return CLI_EXIT_USAGE;
    }
    cli_print_help(stdout, "", &cli_cmd_flow);
    return CLI_EXIT_OK;
}

static int
flow_run(const cli_command_t *self, int argc, char **argv)
{
    int status;
    const cli_command_t *sub = cli_subcommand(self, argc, argv, 0, NULL, &status);
    return sub ? sub->run(sub, argc - 1, argv + 1) : status;
}

const cli_command_t cli_cmd_flow = {
    "flow",
    "demo [--workers N] [--count N] [--rate N] [--json]\n"
    "serve [--workers N] [--port P]\n"
    "run FILE [--host NAME]\nhelp",
    "run multi-process dataflows (mu_flow): the echo demo, flow files",
    FLOW_HELP,
    flow_run,
    &flow_group
};
