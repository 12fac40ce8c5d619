/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  cli_demo_client.c — the echo demo's checking client (cli_demo.h): it
    connects to the three ports, sends the numbers 1..count as decimal text
    frames (4-byte little-endian length, then the digits) with a window of
    numbers in flight, and checks that every number comes back exactly
    once, on the port of its parity. Flood (rate 0) sends as fast as the
    window allows; a rate paces the numbers at that many per second, each
    one's latency counted from the time it was due (so time the client
    lost, to a busy machine or a flow that did not read, is counted: no
    coordinated omission); what is due is written within PACED_TICK_NS (one
    write per tick). A warm-up (cli_demo_warm_up) is the same client with
    its own connections, flooding CLI_DEMO_WARMUP numbers, untimed. */
#include "cli_demo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PACED_WINDOW_S 0.05  /* paced: the window holds this much of the schedule */
#define PACED_TICK_NS 100000 /* paced: what came due is written at most this late */
#define STALL_MS 10000       /* no reply for this long: the run fails */
#define NUM_MAX CLI_DEMO_NUM_MAX

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
    double rate;      /* numbers per second; 0: flood */
    int64_t t0;       /* start */
    int64_t first_ns; /* the first reply's time (0: none yet) */
    double due;       /* paced: when the next number is due (ns, from t0) */
} client_t;

static int64_t
cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
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
    int64_t now = mu_timer_now_ns();
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
        int64_t left = c->t0 + (int64_t) c->due + PACED_TICK_NS - mu_timer_now_ns();
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
        if (!cli_demo_parse_number(p + 4, n, &v) || v == 0 || v > c->count
            || (int) (v % 2) != parity)
            c->wrong++;
        else if (c->seen[v]++)
            c->dupes++;
        else {
            int64_t now = mu_timer_now_ns();
            if (c->first_ns == 0)
                c->first_ns = now;
            c->lat_us[c->received] = (double) (now - c->sent_ns[v]) / 1000.0;
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

/*  Pumps until every number is back, a wrong one came, a connection failed
    or nothing came for STALL_MS; then, with late_check, 2 x 200 ms more for
    late duplicates. Returns the seconds from the first send to the end. */
static double
drive(client_t *c, cli_demo_result_t *r, bool late_check)
{
    int64_t t0 = mu_timer_now_ns(), last_progress = t0;
    c->t0 = t0;
    uint64_t last_received = 0;
    while (c->received < c->count && c->wrong == 0) {
        if (!pump(c)) {
            snprintf(r->error, sizeof r->error, "a connection to the flow failed");
            break;
        }
        int64_t now = mu_timer_now_ns();
        if (c->received != last_received) {
            last_received = c->received;
            last_progress = now;
        } else if (now - last_progress > (int64_t) STALL_MS * 1000000) {
            snprintf(r->error, sizeof r->error, "no reply for %d ms", STALL_MS);
            break;
        }
    }
    double secs = (double) (mu_timer_now_ns() - t0) / 1e9;
    if (c->first_ns != 0)
        r->first_us = (double) (c->first_ns - t0) / 1000.0;
    for (int k = 0; k < 2 && late_check; k++) /* late duplicates would show up now */
        if (c->received == c->count)
            for (int64_t until = mu_timer_now_ns() + 200000000; mu_timer_now_ns() < until;)
                if (!pump(c))
                    break;
    return secs;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
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

uint64_t
cli_demo_window(uint64_t rate)
{
    if ((double) rate * PACED_WINDOW_S > CLI_DEMO_WINDOW)
        return (uint64_t) ((double) rate * PACED_WINDOW_S);
    return CLI_DEMO_WINDOW;
}

/*  cli_demo_client_run, with or without the wait for late duplicates. */
static bool
run_client(int in, int odd, int even, const cli_demo_opts_t *o, cli_demo_result_t *r,
           bool late_check)
{
    int64_t cpu0 = cpu_ns();
    memset(r, 0, sizeof *r);
    r->count = o->count;
    r->rate = o->rate;
    r->window = o->window ? o->window : cli_demo_window(o->rate);
    client_t *c = calloc(1, sizeof *c);
    if (c) {
        c->count = o->count;
        c->rate = (double) o->rate;
        c->window = r->window;
        c->sent_ns = calloc(o->count + 1, sizeof *c->sent_ns);
        c->seen = calloc(o->count + 1, 1);
        c->lat_us = calloc(o->count + 1, sizeof *c->lat_us);
    }
    if (!c || !c->sent_ns || !c->seen || !c->lat_us)
        snprintf(r->error, sizeof r->error, "out of memory");
    else {
        c->out[0].fd = connect_port(odd);
        c->out[1].fd = connect_port(even);
        c->in.fd = connect_port(in);
        if (c->in.fd < 0 || c->out[0].fd < 0 || c->out[1].fd < 0)
            snprintf(r->error, sizeof r->error, "cannot connect to the flow's edges: %s",
                     strerror(errno));
        else
            r->secs = drive(c, r, late_check);
        for (int k = 0; k < 3; k++) {
            int fd = k == 0 ? c->in.fd : c->out[k - 1].fd;
            if (fd >= 0)
                close(fd);
        }
        qsort(c->lat_us, c->received, sizeof *c->lat_us, cmp_double);
        r->received = c->received;
        r->wrong = c->wrong;
        r->dupes = c->dupes;
        r->msgs = r->secs > 0 ? (double) c->received / r->secs : 0;
        r->p50_us = quantile(c, 0.5);
        r->p99_us = quantile(c, 0.99);
        r->p999_us = quantile(c, 0.999);
    }
    if (c) {
        free(c->sent_ns);
        free(c->seen);
        free(c->lat_us);
        free(c);
    }
    r->cpu_ns = cpu_ns() - cpu0;
    return !r->error[0] && r->received == r->count && r->wrong == 0 && r->dupes == 0;
}

bool
cli_demo_client_run(int in, int odd, int even, const cli_demo_opts_t *o, cli_demo_result_t *r)
{
    return run_client(in, odd, even, o, r, true);
}

bool
cli_demo_warm_up(int in, int odd, int even, cli_demo_result_t *r)
{
    const cli_demo_opts_t o = { .count = CLI_DEMO_WARMUP };
    return run_client(in, odd, even, &o, r, false);
}

void
cli_demo_print(const cli_demo_result_t *r, bool json)
{
    printf("%llu of %llu numbers back (wrong edge or malformed: %llu, duplicates: %llu)\n",
           (unsigned long long) r->received, (unsigned long long) r->count,
           (unsigned long long) r->wrong, (unsigned long long) r->dupes);
    if (!json) {
        if (r->rate)
            printf("paced at %llu/s: ", (unsigned long long) r->rate);
        else
            printf("flood (%d in flight): ", CLI_DEMO_WINDOW);
        printf("%.0f messages/s, latency p50 %.0f us, p99 %.0f us, p999 %.0f us\n", r->msgs,
               r->p50_us, r->p99_us, r->p999_us);
        return;
    }
    printf("{\"bench\":\"flow_demo\",\"case\":\"%s\",\"unit\":\"msg/s\",\"value\":%.0f,"
           "\"p50_us\":%.0f,\"p99_us\":%.0f,\"p999_us\":%.0f,\"received\":%llu,\"count\":%llu,"
           "\"wrong\":%llu,\"duplicates\":%llu",
           r->rate ? "paced" : "flood", r->msgs, r->p50_us, r->p99_us, r->p999_us,
           (unsigned long long) r->received, (unsigned long long) r->count,
           (unsigned long long) r->wrong, (unsigned long long) r->dupes);
    if (r->rate) {
        /* the bar holds only if the flow carried the rate (a full window
           holds the client back: value below the rate) */
        bool carried = r->msgs >= 0.97 * (double) r->rate;
        printf(",\"rate\":%llu,\"bar\":\"p99 <= 2 ms at the rate\",\"status\":\"%s\"}\n",
               (unsigned long long) r->rate,
               r->p99_us <= CLI_DEMO_P99_BAR_US && carried ? "ok" : "MISS");
    } else
        printf(",\"in_flight\":%d}\n", CLI_DEMO_WINDOW);
}
