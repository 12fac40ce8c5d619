/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_flow_ulink.c — the local link between runners (mu_flow_ulink.c)
    on its own, in one process: records in order; a sequence (batch)
    written only at its end, a held record at the next flush; the sender's bound (MU_EAGAIN once the queue
    holds its bytes, nothing lost, everything delivered once the receiver
    reads); records larger than the socket buffers finished by later
    flushes (partial writes); a receiver that goes away and comes back
    (pending records reach the new one, the one cut in its middle is
    dropped and counted); fairness between two busy senders; malformed
    input: a foreign connection (wrong token, no hello), an oversized
    record, a record cut short by the sender's end, and the connection
    limit (a silent connection closed for a runner's, over the limit
    refused): each told (bad input), closed, the receiver going on. And:
    a sender's end after many records (all handed out, no error); a
    runner's hello read before a silent connection is closed for a slot;
    out of descriptors (the listener paused, not spinning); a closed
    connection a child holds a copy of (out of the epoll set); a record
    refused mid-sequence (the bound holds again); a record cut by a
    failed connection told once to the runner. Waits are on the
    receiver's descriptor (poll), never sleeps. */
#include "mu_test.h"
#include "mutil.h"
#include "base/mu_internal.h"
#include "flow/mu_flow_ulink.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64], path[100];
static const uint8_t token[MU__ULINK_TOKEN] = "0123456789abcdef";
static int bad_count;
static char bad_what[128];

static void
on_bad(void *ctx, const char *what, size_t size)
{
    (void) ctx;
    (void) size;
    bad_count++;
    snprintf(bad_what, sizeof bad_what, "%s", what);
}

static mu__ulink_in_t *
new_in(int max_conns)
{
    bad_count = 0;
    bad_what[0] = '\0';
    return mu__ulink_in_new(path, token, max_conns, on_bad, NULL);
}

/*  Receives one record, flushing the senders while waiting (up to 10 s
    scaled, on the receiver's descriptor and the senders' sockets). */
static int
recv_wait(mu__ulink_in_t *in, mu__ulink_out_t **outs, int nouts, const void **d, size_t *n)
{
    int64_t end = mu_test_now_ms() + mu_test_ms(10000);
    for (;;) {
        for (int i = 0; i < nouts; i++)
            mu__ulink_flush(outs[i], mu__now_ms());
        if (mu__ulink_recv(in, d, n) == 0)
            return 0;
        int64_t left = end - mu_test_now_ms();
        if (left <= 0)
            return -1;
        struct pollfd p[9] = { { .fd = mu__ulink_in_fd(in), .events = POLLIN } };
        int timeout = (int) left;
        for (int i = 0; i < nouts && i < 8; i++) {
            int due = mu__ulink_out_poll(outs[i], &p[1 + i], mu__now_ms());
            if (due >= 0 && due < timeout)
                timeout = due;
        }
        poll(p, (nfds_t) (1 + (nouts < 8 ? nouts : 8)), timeout);
    }
}

/*  Waits until the receiver has want connections open. */
static bool
wait_conns(mu__ulink_in_t *in, int want)
{
    int64_t end = mu_test_now_ms() + mu_test_ms(10000);
    while (mu__ulink_in_conns(in) != want && mu_test_now_ms() < end) {
        const void *d;
        size_t n;
        if (mu__ulink_recv(in, &d, &n) == 0)
            continue;
        struct pollfd p = { .fd = mu__ulink_in_fd(in), .events = POLLIN };
        poll(&p, 1, 50);
    }
    return mu__ulink_in_conns(in) == want;
}

/*  Waits until the receiver has told of want bad inputs. */
static bool
wait_bad(mu__ulink_in_t *in, int want)
{
    int64_t end = mu_test_now_ms() + mu_test_ms(10000);
    while (bad_count < want && mu_test_now_ms() < end) {
        const void *d;
        size_t n;
        if (mu__ulink_recv(in, &d, &n) == 0)
            continue;
        struct pollfd p = { .fd = mu__ulink_in_fd(in), .events = POLLIN };
        poll(&p, 1, 50);
    }
    return bad_count >= want;
}

static void
put_id(uint8_t *b, uint32_t sender, uint32_t id)
{
    b[0] = 'M';
    mu__put_le32(b + 1, sender);
    mu__put_le32(b + 5, id);
}

static void
test_order(void)
{
    mu__ulink_in_t *in = new_in(8);
    MU_CHECK(in);
    mu__ulink_out_t *o = mu__ulink_out_new(path, token, 3, 4096);
    MU_CHECK(o);
    uint8_t b[9];
    for (uint32_t i = 0; i < 100; i++) {
        put_id(b, 0, i);
        MU_CHECK_EQ(mu__ulink_put(o, b, sizeof b, (i % 10) != 9), 0);
    }
    for (uint32_t i = 0; i < 100; i++) {
        const void *d;
        size_t n;
        MU_CHECK_EQ(recv_wait(in, &o, 1, &d, &n), 0);
        MU_CHECK_EQ(n, 9);
        MU_CHECK_EQ(mu__get_le32((const uint8_t *) d + 5), i);
    }
    MU_CHECK_EQ(mu__ulink_in_conns(in), 1);
    MU_CHECK_EQ(bad_count, 0);
    /* a sequence is written at its end only */
    put_id(b, 0, 1000);
    MU_CHECK_EQ(mu__ulink_put(o, b, sizeof b, true), 0);
    MU_CHECK(mu__ulink_pending(o));
    const void *d;
    size_t n;
    MU_CHECK_EQ(mu__ulink_recv(in, &d, &n), -1);
    MU_CHECK_EQ(mu__ulink_put(o, NULL, 0, false), 0); /* the end */
    MU_CHECK(!mu__ulink_pending(o));
    MU_CHECK_EQ(recv_wait(in, &o, 1, &d, &n), 0);
    MU_CHECK_EQ(mu__get_le32((const uint8_t *) d + 5), 1000);
    /* a held record ends its sequence unwritten; the next flush writes it */
    put_id(b, 0, 1001);
    MU_CHECK_EQ(mu__ulink_put_held(o, b, sizeof b), 0);
    MU_CHECK(mu__ulink_pending(o));
    MU_CHECK_EQ(mu__ulink_recv(in, &d, &n), -1);
    mu__ulink_flush(o, mu__now_ms());
    MU_CHECK(!mu__ulink_pending(o));
    MU_CHECK_EQ(recv_wait(in, &o, 1, &d, &n), 0);
    MU_CHECK_EQ(mu__get_le32((const uint8_t *) d + 5), 1001);
    /* the sender's end: the connection is closed, no error */
    mu__ulink_out_destroy(&o);
    MU_CHECK(wait_conns(in, 0));
    MU_CHECK_EQ(bad_count, 0);
    mu__ulink_in_destroy(&in);
}

static void
test_bound(void)
{
    mu__ulink_in_t *in = new_in(8);
    mu__ulink_out_t *o = mu__ulink_out_new(path, token, 0, 8192);
    MU_CHECK(in && o);
    /* the receiver does not read: the kernel's buffers fill, then ours */
    uint8_t b[1000] = { 0 };
    uint32_t sent = 0;
    int rc;
    while ((rc = mu__ulink_put(o, b, sizeof b, false)) == 0) {
        put_id(b, 0, ++sent);
        MU_CHECK(sent < 1000000);
    }
    MU_CHECK_EQ(rc, MU_EAGAIN);
    MU_CHECK(mu__ulink_pending(o));
    MU_CHECK(!mu__ulink_room(o));
    /* the rest of a sequence is taken over the bound, its start is not */
    MU_CHECK_EQ(mu__ulink_put(o, b, sizeof b, true), MU_EAGAIN);
    /* everything arrives, in order, once the receiver reads */
    for (uint32_t i = 0; i < sent; i++) {
        const void *d;
        size_t n;
        MU_CHECK_EQ(recv_wait(in, &o, 1, &d, &n), 0);
        MU_CHECK_EQ(n, sizeof b);
        MU_CHECK_EQ(mu__get_le32((const uint8_t *) d + 5), i);
    }
    MU_CHECK(!mu__ulink_pending(o));
    MU_CHECK(mu__ulink_room(o));
    MU_CHECK_EQ(mu__ulink_out_lost(o), 0);
    mu__ulink_out_destroy(&o);
    mu__ulink_in_destroy(&in);
}

static void
test_partial(void)
{
    mu__ulink_in_t *in = new_in(8);
    mu__ulink_out_t *o = mu__ulink_out_new(path, token, 0, 1 << 20);
    MU_CHECK(in && o);
    size_t big = 3u << 20; /* over any socket buffer: written in pieces */
    uint8_t *b = malloc(big);
    MU_CHECK(b);
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < big; i++)
            b[i] = (uint8_t) (i * 7 + (size_t) k);
        MU_CHECK_EQ(mu__ulink_put(o, b, big, false), 0);
        MU_CHECK(mu__ulink_pending(o)); /* not all of it fitted */
        const void *d;
        size_t n;
        MU_CHECK_EQ(recv_wait(in, &o, 1, &d, &n), 0);
        MU_CHECK_EQ(n, big);
        MU_CHECK(memcmp(d, b, big) == 0);
    }
    free(b);
    /* over the largest record: refused */
    MU_CHECK_EQ(mu__ulink_put(o, "x", (size_t) MU__ULINK_MAX_RECORD + 1, false), MU_EMSGSIZE);
    MU_CHECK_EQ(bad_count, 0);
    mu__ulink_out_destroy(&o);
    mu__ulink_in_destroy(&in);
}

static void
test_reconnect(void)
{
    mu__ulink_in_t *in = new_in(8);
    mu__ulink_out_t *o = mu__ulink_out_new(path, token, 0, 1 << 20);
    MU_CHECK(in && o);
    uint8_t b[9];
    put_id(b, 0, 1);
    MU_CHECK_EQ(mu__ulink_put(o, b, sizeof b, false), 0);
    const void *d;
    size_t n;
    MU_CHECK_EQ(recv_wait(in, &o, 1, &d, &n), 0);
    MU_CHECK(mu__ulink_connected(o));
    /* the receiver dies; what the sender sends next waits for the new one */
    mu__ulink_in_destroy(&in);
    for (uint32_t i = 2; i < 50; i++) {
        put_id(b, 0, i);
        MU_CHECK_EQ(mu__ulink_put(o, b, sizeof b, false), 0);
    }
    MU_CHECK(!mu__ulink_connected(o));
    MU_CHECK(mu__ulink_pending(o));
    struct pollfd p;
    MU_CHECK(mu__ulink_out_poll(o, &p, mu__now_ms()) >= 0); /* an attempt is due */
    in = new_in(8);
    MU_CHECK(in);
    uint32_t first;
    MU_CHECK_EQ(recv_wait(in, &o, 1, &d, &n), 0);
    first = mu__get_le32((const uint8_t *) d + 5);
    /* the first one sent after the end may have been cut: lost, counted */
    MU_CHECK(first == 2 || (first == 3 && mu__ulink_out_lost(o) == 1));
    for (uint32_t i = first + 1; i < 50; i++) {
        MU_CHECK_EQ(recv_wait(in, &o, 1, &d, &n), 0);
        MU_CHECK_EQ(mu__get_le32((const uint8_t *) d + 5), i);
    }
    MU_CHECK_EQ(bad_count, 0);
    mu__ulink_out_destroy(&o);
    mu__ulink_in_destroy(&in);
}

/*  A sender that ends between records after writing more than one read
    hands out (64 records per look at the sockets): every record it wrote
    is still handed out, and its end is no error. */
static void
test_end_drains(void)
{
    mu__ulink_in_t *in = new_in(8);
    mu__ulink_out_t *o = mu__ulink_out_new(path, token, 0, 1 << 20);
    MU_CHECK(in && o);
    uint8_t b[9];
    for (uint32_t i = 0; i < 300; i++) {
        put_id(b, 0, i);
        MU_CHECK_EQ(mu__ulink_put(o, b, sizeof b, true), 0);
    }
    MU_CHECK_EQ(mu__ulink_put(o, NULL, 0, false), 0);
    MU_CHECK(!mu__ulink_pending(o)); /* all in the socket buffer */
    mu__ulink_out_destroy(&o);       /* the end, right behind them */
    for (uint32_t i = 0; i < 300; i++) {
        const void *d;
        size_t n;
        if (recv_wait(in, NULL, 0, &d, &n) != 0) {
            printf("# record %u of 300 not handed out (bad inputs %d: %s)\n", i, bad_count,
                   bad_what);
            MU_CHECK(false);
            break;
        }
        MU_CHECK_EQ(mu__get_le32((const uint8_t *) d + 5), i);
    }
    MU_CHECK(wait_conns(in, 0));
    MU_CHECK_EQ(bad_count, 0);
    mu__ulink_in_destroy(&in);
}

static void
test_fair(void)
{
    mu__ulink_in_t *in = new_in(8);
    mu__ulink_out_t *o[2] = { mu__ulink_out_new(path, token, 0, 1 << 20),
                              mu__ulink_out_new(path, token, 1, 1 << 20) };
    MU_CHECK(in && o[0] && o[1]);
    uint8_t b[9];
    for (uint32_t s = 0; s < 2; s++)
        for (uint32_t i = 0; i < 5000; i++) {
            put_id(b, s, i);
            MU_CHECK_EQ(mu__ulink_put(o[s], b, sizeof b, (i % 16) != 15), 0);
        }
    /* of the first 2000 records, each sender has a fair share, in order */
    uint32_t got[2] = { 0, 0 };
    for (int k = 0; k < 2000; k++) {
        const void *d;
        size_t n;
        MU_CHECK_EQ(recv_wait(in, o, 2, &d, &n), 0);
        uint32_t s = mu__get_le32((const uint8_t *) d + 1);
        MU_CHECK(s < 2);
        MU_CHECK_EQ(mu__get_le32((const uint8_t *) d + 5), got[s]);
        got[s]++;
    }
    printf("# of 2000 records: %u from sender 0, %u from sender 1\n", got[0], got[1]);
    MU_CHECK(got[0] >= 500 && got[1] >= 500);
    mu__ulink_out_destroy(&o[0]);
    mu__ulink_out_destroy(&o[1]);
    mu__ulink_in_destroy(&in);
}

/*  A raw connection to the receiver's socket. */
static int
raw_connect(void)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *) &a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void
raw_record(int fd, const void *data, uint32_t size)
{
    uint8_t h[4];
    mu__put_le32(h, size);
    (void) !write(fd, h, 4);
    (void) !write(fd, data, size);
}

static void
raw_hello(int fd, const uint8_t *tok)
{
    uint8_t h[1 + MU__ULINK_TOKEN + 4] = { 'H' };
    memcpy(h + 1, tok, MU__ULINK_TOKEN);
    raw_record(fd, h, sizeof h);
}

/*  After bad input: a runner's sender still gets through. */
static bool
still_works(mu__ulink_in_t *in)
{
    mu__ulink_out_t *o = mu__ulink_out_new(path, token, 0, 4096);
    uint8_t b[9];
    put_id(b, 0, 77);
    const void *d;
    size_t n;
    bool ok = o && mu__ulink_put(o, b, sizeof b, false) == 0 && recv_wait(in, &o, 1, &d, &n) == 0
              && n == 9 && mu__get_le32((const uint8_t *) d + 5) == 77;
    mu__ulink_out_destroy(&o);
    return ok;
}

static void
test_malformed(void)
{
    mu__ulink_in_t *in = new_in(4);
    MU_CHECK(in);
    /* a foreign connection: the wrong token */
    int fd = raw_connect();
    MU_CHECK(fd >= 0);
    raw_hello(fd, (const uint8_t *) "not-the-token!!!");
    raw_record(fd, "Mforeign", 8);
    MU_CHECK(wait_bad(in, 1));
    MU_CHECK(strstr(bad_what, "hello"));
    close(fd);
    /* no hello at all, data at once */
    fd = raw_connect();
    raw_record(fd, "Mdata", 5);
    MU_CHECK(wait_bad(in, 2));
    close(fd);
    /* garbage */
    fd = raw_connect();
    (void) !write(fd, "GET / HTTP/1.1\r\n\r\n", 18);
    MU_CHECK(wait_bad(in, 3));
    close(fd);
    /* a runner's hello, then an oversized record */
    fd = raw_connect();
    raw_hello(fd, token);
    uint8_t h[4];
    mu__put_le32(h, MU__ULINK_MAX_RECORD + 1);
    (void) !write(fd, h, 4);
    MU_CHECK(wait_bad(in, 4));
    MU_CHECK(strstr(bad_what, "oversized"));
    close(fd);
    /* a record cut short by the sender's end */
    fd = raw_connect();
    raw_hello(fd, token);
    mu__put_le32(h, 100);
    (void) !write(fd, h, 4);
    (void) !write(fd, "Mhalf", 5);
    close(fd);
    MU_CHECK(wait_bad(in, 5));
    MU_CHECK(strstr(bad_what, "cut short"));
    /* half a header, then the end */
    fd = raw_connect();
    raw_hello(fd, token);
    (void) !write(fd, h, 2);
    close(fd);
    MU_CHECK(wait_bad(in, 6));
    MU_CHECK(still_works(in));
    MU_CHECK(wait_conns(in, 0));
    mu__ulink_in_destroy(&in);
}

static void
test_limit(void)
{
    mu__ulink_in_t *in = new_in(2);
    MU_CHECK(in);
    /* two silent connections fill the slots; a runner's takes the oldest's */
    int s1 = raw_connect(), s2 = raw_connect();
    MU_CHECK(s1 >= 0 && s2 >= 0);
    const void *d;
    size_t n;
    MU_CHECK(wait_conns(in, 2));
    MU_CHECK(still_works(in));
    MU_CHECK_EQ(bad_count, 1);
    MU_CHECK(strstr(bad_what, "without hello"));
    MU_CHECK(wait_conns(in, 1)); /* s2 */
    char c;
    MU_CHECK_EQ(read(s1, &c, 1), 0); /* the oldest silent one was closed */
    /* two runners' connections fill the slots: a third is refused */
    mu__ulink_out_t *o[2] = { mu__ulink_out_new(path, token, 0, 4096),
                              mu__ulink_out_new(path, token, 1, 4096) };
    uint8_t b[9];
    for (int i = 0; i < 2; i++) {
        put_id(b, (uint32_t) i, 5);
        MU_CHECK_EQ(mu__ulink_put(o[i], b, sizeof b, false), 0);
        MU_CHECK_EQ(recv_wait(in, &o[i], 1, &d, &n), 0);
    }
    MU_CHECK_EQ(bad_count, 2);
    MU_CHECK_EQ(read(s2, &c, 1), 0); /* closed for the second runner */
    MU_CHECK_EQ(mu__ulink_in_conns(in), 2);
    int s3 = raw_connect();
    MU_CHECK(s3 >= 0);
    MU_CHECK(wait_bad(in, 3));
    MU_CHECK(strstr(bad_what, "limit"));
    MU_CHECK_EQ(read(s3, &c, 1), 0);
    close(s1);
    close(s2);
    close(s3);
    mu__ulink_out_destroy(&o[0]);
    mu__ulink_out_destroy(&o[1]);
    mu__ulink_in_destroy(&in);
}

/*  Every slot taken when a runner's connection and two silent ones wait
    to be accepted, the runner's first: its hello (already sent) saves it,
    the oldest silent one is closed for the other. */
static void
test_limit_hello_waiting(void)
{
    mu__ulink_in_t *in = new_in(2);
    mu__ulink_out_t *o = mu__ulink_out_new(path, token, 0, 4096);
    MU_CHECK(in && o);
    uint8_t b[9];
    put_id(b, 0, 9);
    MU_CHECK_EQ(mu__ulink_put(o, b, sizeof b, false), 0);
    MU_CHECK(mu__ulink_connected(o) && !mu__ulink_pending(o)); /* hello and record sent */
    int s1 = raw_connect(), s2 = raw_connect();
    MU_CHECK(s1 >= 0 && s2 >= 0);
    const void *d;
    size_t n;
    MU_CHECK_EQ(recv_wait(in, &o, 1, &d, &n), 0);
    MU_CHECK_EQ(mu__get_le32((const uint8_t *) d + 5), 9);
    MU_CHECK_EQ(bad_count, 1);
    MU_CHECK(strstr(bad_what, "without hello"));
    char c;
    MU_CHECK_EQ(read(s1, &c, 1), 0); /* the oldest silent one was closed */
    close(s1);
    close(s2);
    mu__ulink_out_destroy(&o);
    mu__ulink_in_destroy(&in);
}

/*  A flood of connections (60 silent ones queued behind a runner's whose
    record is there) does not keep the receiver accepting: one receive
    returns the record after at most a few batches of accepts (it took
    every queued connection before), and the rest are taken later. */
static void
test_accept_flood(void)
{
    mu__ulink_in_t *in = new_in(2);
    mu__ulink_out_t *o = mu__ulink_out_new(path, token, 0, 4096);
    MU_CHECK(in && o);
    uint8_t b[9];
    put_id(b, 0, 7);
    MU_CHECK_EQ(mu__ulink_put(o, b, sizeof b, false), 0);
    MU_CHECK(mu__ulink_connected(o) && !mu__ulink_pending(o)); /* hello and record sent */
    int silent[60];
    for (int i = 0; i < 60; i++)
        MU_CHECK((silent[i] = raw_connect()) >= 0); /* the backlog holds 64 */
    const void *d;
    size_t n;
    MU_CHECK_EQ(mu__ulink_recv(in, &d, &n), 0);
    MU_CHECK_EQ(mu__get_le32((const uint8_t *) d + 5), 7);
    MU_CHECK(bad_count > 0 && bad_count <= 32); /* 59 when it accepted them all at once */
    MU_CHECK(wait_bad(in, 59));                 /* the others: each closed for the next */
    MU_CHECK(still_works(in));
    for (int i = 0; i < 60; i++)
        close(silent[i]);
    mu__ulink_out_destroy(&o);
    mu__ulink_in_destroy(&in);
}

/*  A receiver out of descriptors cannot accept the connection that
    waits: it stops polling its listening socket for a while (its
    descriptor does not stay readable, which would spin the runner's
    loop), then accepts once a descriptor is free. */
static void
test_out_of_fds(void)
{
    mu__ulink_in_t *in = new_in(4);
    MU_CHECK(in);
    int s = raw_connect();
    MU_CHECK(s >= 0);
    raw_hello(s, token);
    raw_record(s, "Mfd", 3);
    struct rlimit old;
    MU_CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0);
    int probe = open("/dev/null", O_RDONLY | O_CLOEXEC); /* the lowest free one */
    MU_CHECK(probe >= 0);
    close(probe);
    struct rlimit low = { .rlim_cur = (rlim_t) probe + 8, .rlim_max = old.rlim_max };
    MU_CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
    int fds[64], nfds = 0, fd;
    while (nfds < 64 && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        fds[nfds++] = fd;
    int full_errno = errno;
    const void *d;
    size_t n;
    int rc = mu__ulink_recv(in, &d, &n);
    struct pollfd p = { .fd = mu__ulink_in_fd(in), .events = POLLIN };
    int ready = poll(&p, 1, 0);
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
    MU_CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
    MU_CHECK_EQ(full_errno, EMFILE);
    MU_CHECK_EQ(rc, -1);
    MU_CHECK_EQ(ready, 0); /* without the pause: 1, at once, until a descriptor is free */
    MU_CHECK_EQ(mu__ulink_in_conns(in), 0);
    MU_CHECK_EQ(recv_wait(in, NULL, 0, &d, &n), 0); /* accepted after the pause */
    MU_CHECK(n == 3 && memcmp(d, "Mfd", 3) == 0);
    MU_CHECK_EQ(bad_count, 0);
    close(s);
    mu__ulink_in_destroy(&in);
}

/*  A connection the receiver closes while another process holds a copy
    of its descriptor (a child a handler forked): its socket, still open,
    must not stay in the receiver's epoll set, where what its sender
    writes next would keep the receiver's descriptor readable for ever. */
static void
test_closed_copy_leaves_epoll(void)
{
    mu__ulink_in_t *in = new_in(4);
    MU_CHECK(in);
    int s = raw_connect();
    MU_CHECK(s >= 0);
    MU_CHECK(wait_conns(in, 1));
    int pfd[2];
    MU_CHECK(pipe(pfd) == 0);
    pid_t child = fork();
    MU_CHECK(child >= 0);
    if (child == 0) { /* holds every descriptor until the pipe ends */
        char c;
        close(pfd[1]);
        (void) !read(pfd[0], &c, 1);
        _exit(0);
    }
    close(pfd[0]);
    raw_hello(s, (const uint8_t *) "not-the-token!!!");
    MU_CHECK(wait_bad(in, 1)); /* closed by the receiver */
    MU_CHECK_EQ(mu__ulink_in_conns(in), 0);
    (void) !write(s, "more", 4);
    const void *d;
    size_t n;
    int rc = mu__ulink_recv(in, &d, &n);
    struct pollfd p = { .fd = mu__ulink_in_fd(in), .events = POLLIN };
    int ready = poll(&p, 1, 0);
    close(pfd[1]);
    int status;
    MU_CHECK_EQ(waitpid(child, &status, 0), child);
    MU_CHECK_EQ(rc, -1);
    MU_CHECK_EQ(ready, 0); /* left in the set: 1 until the child ends */
    close(s);
    MU_CHECK(still_works(in));
    mu__ulink_in_destroy(&in);
}

/*  A record refused in the middle of a sequence ends it (its sender
    drops the rest): the bound applies again to the next one. */
static void
test_bound_after_refused(void)
{
    unlink(path); /* no receiver: everything stays queued */
    mu__ulink_out_t *o = mu__ulink_out_new(path, token, 0, 100);
    MU_CHECK(o);
    uint8_t b[200] = { 'M' };
    MU_CHECK_EQ(mu__ulink_put(o, b, sizeof b, true), 0); /* a first record: room */
    MU_CHECK(!mu__ulink_room(o));
    MU_CHECK_EQ(mu__ulink_put(o, b, (size_t) MU__ULINK_MAX_RECORD + 1, false), MU_EMSGSIZE);
    MU_CHECK(!mu__ulink_connected(o));
    MU_CHECK_EQ(mu__ulink_put(o, b, sizeof b, false), MU_EAGAIN);
    MU_CHECK_EQ(mu__ulink_put(o, b, sizeof b, true), MU_EAGAIN);
    mu__ulink_out_destroy(&o);
}

/*  A record cut by its connection's failure is dropped and told once to
    the runner (which counts it as an error). */
static void
test_lost_told(void)
{
    mu__ulink_in_t *in = new_in(4);
    mu__ulink_out_t *o = mu__ulink_out_new(path, token, 0, 1 << 20);
    MU_CHECK(in && o);
    size_t big = 3u << 20; /* over any socket buffer: cut in its middle */
    uint8_t *b = calloc(1, big);
    MU_CHECK(b);
    MU_CHECK_EQ(mu__ulink_put(o, b, big, false), 0);
    free(b);
    MU_CHECK(mu__ulink_connected(o) && mu__ulink_pending(o));
    mu__ulink_in_destroy(&in); /* the receiver goes away */
    mu__ulink_flush(o, mu__now_ms());
    MU_CHECK(!mu__ulink_connected(o));
    MU_CHECK(!mu__ulink_pending(o)); /* the cut record is dropped */
    MU_CHECK_EQ(mu__ulink_out_lost(o), 1);
    MU_CHECK_EQ(mu__ulink_out_take_lost(o), 1);
    MU_CHECK_EQ(mu__ulink_out_take_lost(o), 0);
    mu__ulink_out_destroy(&o);
}

int
main(void)
{
    mu_test_start(120);
    if (!mu_test_scratch_dir(dir, sizeof dir, "ulink")) {
        printf("Bail out! no scratch directory\n");
        return 1;
    }
    snprintf(path, sizeof path, "%s/s1-0", dir);
    MU_RUN(test_order);
    MU_RUN(test_bound);
    MU_RUN(test_bound_after_refused);
    MU_RUN(test_partial);
    MU_RUN(test_reconnect);
    MU_RUN(test_lost_told);
    MU_RUN(test_end_drains);
    MU_RUN(test_fair);
    MU_RUN(test_malformed);
    MU_RUN(test_limit);
    MU_RUN(test_limit_hello_waiting);
    MU_RUN(test_accept_flood);
    MU_RUN(test_out_of_fds);
    MU_RUN(test_closed_copy_leaves_epoll);
    unlink(path);
    rmdir(dir);
    MU_DONE();
}
