/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_ulink.c — local links between the runners of one flow: records
    (u32 LE size, then that many bytes) over AF_UNIX stream sockets, each
    connection opened by a hello record proving the flow's token. The
    sender queues records in a bounded buffer and writes them itself; the
    receiver reads every connection through one epoll descriptor and hands
    out records in turn from each. Wire: doc/wire.md, "Local links". */
#include "base/mu_internal.h"
#include "flow/mu_flow_ulink.h"
#include "mu_error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

/*  The hello: 'H', the token, the sender's index (u32 LE). */
#define HELLO_LEN (1 + MU__ULINK_TOKEN + 4)

/*  Records a receiver hands out between two looks at its sockets: a busy
    connection's buffer cannot keep the others unread for long. */
#define READ_EVERY 64

/*  How long a receiver that cannot accept (out of descriptors or memory)
    leaves its listening socket out of its epoll set: the connection
    waiting stays readable, and polling it meanwhile would spin. */
#define LISTEN_PAUSE_MS 50

/*  Connections accepted per look at the sockets: a flood of connections
    (another process of the flow's user connecting in a loop) waits for the
    next look, while the connections' records are read in between. */
#define ACCEPT_BATCH 16

/*  The epoll keys of the listening socket and of the pause's timer (a
    connection's is its slot). */
#define KEY_LISTEN UINT32_MAX
#define KEY_TIMER (UINT32_MAX - 1)

/* ---- sending ---------------------------------------------------------------------- */

struct mu__ulink_out_t {
    struct sockaddr_un addr;
    uint8_t hello[4 + HELLO_LEN]; /* the hello record, framed */
    size_t hello_off;             /* its bytes written on this connection */
    int fd;                       /* -1: not connected */
    int64_t retry_ms;             /* when to try connecting next */
    uint8_t *buf;                 /* queued records, framed */
    size_t cap, len, off;         /* allocated, queued, written */
    size_t rec;                   /* where the record holding off starts */
    size_t queue_bytes;
    bool in_seq; /* the last put had more */
    uint64_t lost;
    uint64_t lost_taken; /* of lost, told (mu__ulink_out_take_lost) */
};

mu__ulink_out_t *
mu__ulink_out_new(const char *path, const uint8_t *token, uint32_t index, size_t queue_bytes)
{
    mu__ulink_out_t *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->addr.sun_family = AF_UNIX;
    snprintf(o->addr.sun_path, sizeof o->addr.sun_path, "%s", path);
    mu__put_le32(o->hello, HELLO_LEN);
    o->hello[4] = 'H';
    memcpy(o->hello + 5, token, MU__ULINK_TOKEN);
    mu__put_le32(o->hello + 5 + MU__ULINK_TOKEN, index);
    o->fd = -1;
    o->queue_bytes = queue_bytes;
    return o;
}

void
mu__ulink_out_destroy(mu__ulink_out_t **o)
{
    if (!o || !*o)
        return;
    if ((*o)->fd >= 0)
        close((*o)->fd);
    free((*o)->buf);
    free(*o);
    *o = NULL;
}

bool
mu__ulink_room(const mu__ulink_out_t *o)
{
    return o->len - o->off < o->queue_bytes;
}

bool
mu__ulink_pending(const mu__ulink_out_t *o)
{
    return o->len > o->off;
}

uint64_t
mu__ulink_out_lost(const mu__ulink_out_t *o)
{
    return o->lost;
}

uint64_t
mu__ulink_out_take_lost(mu__ulink_out_t *o)
{
    uint64_t n = o->lost - o->lost_taken;
    o->lost_taken = o->lost;
    return n;
}

bool
mu__ulink_connected(const mu__ulink_out_t *o)
{
    return o->fd >= 0;
}

/*  Makes room for need more bytes: drops what was written, grows. */
static int
reserve(mu__ulink_out_t *o, size_t need)
{
    if (o->off > 0 && o->off == o->len)
        o->off = o->len = o->rec = 0;
    if (o->len + need <= o->cap)
        return 0;
    if (o->rec > 0) { /* keep from the record being written */
        memmove(o->buf, o->buf + o->rec, o->len - o->rec);
        o->len -= o->rec;
        o->off -= o->rec;
        o->rec = 0;
        if (o->len + need <= o->cap)
            return 0;
    }
    size_t cap = o->cap ? o->cap : 4096;
    while (cap < o->len + need)
        cap *= 2;
    uint8_t *b = realloc(o->buf, cap);
    if (!b)
        return MU_ENOMEM;
    o->buf = b;
    o->cap = cap;
    return 0;
}

/*  Queues a record (mu__ulink_put without the write). */
static int
queue_record(mu__ulink_out_t *o, const void *data, size_t size, bool more)
{
    if (size > MU__ULINK_MAX_RECORD) {
        o->in_seq = false; /* the caller drops the sequence: the bound holds again */
        return MU_EMSGSIZE;
    }
    if (!o->in_seq && size > 0 && !mu__ulink_room(o))
        return MU_EAGAIN;
    if (size > 0) {
        if (reserve(o, 4 + size) != 0) {
            o->in_seq = false;
            return MU_ENOMEM;
        }
        mu__put_le32(o->buf + o->len, (uint32_t) size);
        memcpy(o->buf + o->len + 4, data, size);
        o->len += 4 + size;
    }
    o->in_seq = more;
    return 0;
}

int
mu__ulink_put(mu__ulink_out_t *o, const void *data, size_t size, bool more)
{
    int rc = queue_record(o, data, size, more);
    if (rc == 0 && !more)
        mu__ulink_flush(o, mu__now_ms());
    return rc;
}

int
mu__ulink_put_held(mu__ulink_out_t *o, const void *data, size_t size)
{
    return queue_record(o, data, size, false);
}

/*  Advances o->rec past the records written in full. */
static void
track_records(mu__ulink_out_t *o)
{
    while (o->rec < o->off && o->off - o->rec >= 4) {
        size_t end = o->rec + 4 + mu__get_le32(o->buf + o->rec);
        if (end > o->off)
            break;
        o->rec = end;
    }
}

/*  The connection failed: closed; the record it was in the middle of is
    dropped (the next connection starts at a record's start). */
static void
lost_connection(mu__ulink_out_t *o, int64_t now_ms)
{
    close(o->fd);
    o->fd = -1;
    o->hello_off = 0;
    o->retry_ms = now_ms; /* at once: the receiver may be back already */
    track_records(o);
    if (o->off > o->rec) {
        o->off = o->rec + 4 + mu__get_le32(o->buf + o->rec);
        o->rec = o->off;
        o->lost++;
    }
}

static void
try_connect(mu__ulink_out_t *o, int64_t now_ms)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *) &o->addr, sizeof o->addr) != 0) {
        if (fd >= 0)
            close(fd);
        o->retry_ms = now_ms + MU__ULINK_RECONNECT_MS;
        return;
    }
    o->fd = fd;
    o->hello_off = 0;
}

/*  Writes on the connection until done or the socket is full. False when
    the connection failed (it is closed). */
static bool
write_out(mu__ulink_out_t *o, int64_t now_ms)
{
    while (o->hello_off < sizeof o->hello || o->off < o->len) {
        struct iovec iov[2];
        int n = 0;
        if (o->hello_off < sizeof o->hello)
            iov[n++] = (struct iovec) { o->hello + o->hello_off, sizeof o->hello - o->hello_off };
        if (o->off < o->len)
            iov[n++] = (struct iovec) { o->buf + o->off, o->len - o->off };
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t) n };
        ssize_t w = sendmsg(o->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            track_records(o);
            return true;
        }
        if (w <= 0) {
            lost_connection(o, now_ms);
            return false;
        }
        size_t h = sizeof o->hello - o->hello_off;
        if ((size_t) w < h) {
            o->hello_off += (size_t) w;
            continue;
        }
        o->hello_off = sizeof o->hello;
        o->off += (size_t) w - h;
    }
    o->off = o->len = o->rec = 0;
    if (o->cap > 4 * o->queue_bytes) { /* a large message passed: give it back */
        free(o->buf);
        o->buf = NULL;
        o->cap = 0;
    }
    return true;
}

bool
mu__ulink_connect(mu__ulink_out_t *o, int64_t now_ms)
{
    if (o->fd < 0)
        try_connect(o, now_ms);
    return o->fd >= 0;
}

void
mu__ulink_flush(mu__ulink_out_t *o, int64_t now_ms)
{
    /* A failed connection is tried again at once: a restarted receiver
       may be there already. */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (o->fd < 0) {
            if (now_ms < o->retry_ms)
                return;
            try_connect(o, now_ms);
            if (o->fd < 0)
                return;
        }
        if (write_out(o, now_ms))
            return;
    }
}

int
mu__ulink_out_poll(const mu__ulink_out_t *o, struct pollfd *p, int64_t now_ms)
{
    *p = (struct pollfd) { .fd = -1 };
    bool waiting = o->len > o->off || (o->fd >= 0 && o->hello_off < sizeof o->hello);
    if (!waiting)
        return -1;
    if (o->fd < 0)
        return o->retry_ms > now_ms ? (int) (o->retry_ms - now_ms) : 0;
    *p = (struct pollfd) { .fd = o->fd, .events = POLLOUT };
    return -1;
}

/* ---- receiving ------------------------------------------------------------------- */

typedef struct {
    int fd; /* -1: a free slot */
    bool hello;
    bool ended;     /* the sender's end was read: out of the epoll set, the
                   records buffered are handed out before it closes */
    uint64_t since; /* accepted as the since-th connection */
    uint8_t *buf;
    size_t cap, head, tail;
} conn_t;

struct mu__ulink_in_t {
    int lfd, efd;
    int tfd;     /* a timer ending a pause of the listening socket */
    bool paused; /* the listening socket is out of the epoll set */
    uint8_t token[MU__ULINK_TOKEN];
    conn_t *conns;
    int max, open;
    int next;       /* the connection whose turn it is */
    int handed;     /* records handed out since the sockets were read */
    uint64_t count; /* connections accepted */
    mu__ulink_bad_fn *bad;
    void *ctx;
};

mu__ulink_in_t *
mu__ulink_in_new(const char *path, const uint8_t *token, int max_conns, mu__ulink_bad_fn *bad,
                 void *ctx)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof a.sun_path) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    memcpy(a.sun_path, path, strlen(path) + 1);
    mu__ulink_in_t *in = calloc(1, sizeof *in);
    if (!in || !(in->conns = calloc((size_t) max_conns, sizeof *in->conns))) {
        free(in);
        errno = ENOMEM;
        return NULL;
    }
    for (int i = 0; i < max_conns; i++)
        in->conns[i].fd = -1;
    in->max = max_conns;
    memcpy(in->token, token, MU__ULINK_TOKEN);
    in->bad = bad;
    in->ctx = ctx;
    in->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    in->efd = epoll_create1(EPOLL_CLOEXEC);
    in->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = KEY_LISTEN };
    struct epoll_event tev = { .events = EPOLLIN, .data.u32 = KEY_TIMER };
    unlink(path);
    if (in->lfd < 0 || in->efd < 0 || in->tfd < 0
        || bind(in->lfd, (struct sockaddr *) &a, sizeof a) != 0 || listen(in->lfd, 64) != 0
        || epoll_ctl(in->efd, EPOLL_CTL_ADD, in->lfd, &ev) != 0
        || epoll_ctl(in->efd, EPOLL_CTL_ADD, in->tfd, &tev) != 0) {
        int err = errno;
        mu__ulink_in_destroy(&in);
        errno = err;
        return NULL;
    }
    return in;
}

static void
close_conn(mu__ulink_in_t *in, conn_t *c)
{
    /* Out of the epoll set first: close alone leaves it there while
       another process (a child a handler forked) holds a copy of it. */
    if (!c->ended)
        (void) epoll_ctl(in->efd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
    c->cap = c->head = c->tail = 0;
    in->open--;
}

/*  Malformed input on c: told, then c is closed. */
static void
reject(mu__ulink_in_t *in, conn_t *c, const char *what, size_t size)
{
    if (in->bad)
        in->bad(in->ctx, what, size);
    close_conn(in, c);
}

void
mu__ulink_in_destroy(mu__ulink_in_t **in)
{
    if (!in || !*in)
        return;
    mu__ulink_in_t *p = *in;
    for (int i = 0; i < p->max; i++)
        if (p->conns[i].fd >= 0)
            close_conn(p, &p->conns[i]);
    if (p->lfd >= 0)
        close(p->lfd);
    if (p->efd >= 0)
        close(p->efd);
    if (p->tfd >= 0)
        close(p->tfd);
    free(p->conns);
    free(p);
    *in = NULL;
}

int
mu__ulink_in_fd(const mu__ulink_in_t *in)
{
    return in->efd;
}

int
mu__ulink_in_conns(const mu__ulink_in_t *in)
{
    return in->open;
}

static void read_conn(mu__ulink_in_t *in, conn_t *c);
static bool take_hello(mu__ulink_in_t *in, conn_t *c);

/*  A free slot for a new connection: when all are taken, the hellos that
    wait in their sockets are read first (a runner's connection accepted
    just before a flood of others is not taken for a silent one; once per
    batch of accepts: *hellos_read), then the oldest connection still
    without one is closed (an error) to make one; -1 when every connection
    is a runner's. */
static int
free_slot(mu__ulink_in_t *in, bool *hellos_read)
{
    for (int i = 0; i < in->max; i++) {
        conn_t *c = &in->conns[i];
        if (c->fd < 0)
            return i;
    }
    for (int i = 0; i < in->max && !*hellos_read; i++) {
        conn_t *c = &in->conns[i];
        if (c->fd >= 0 && !c->hello && !c->ended)
            read_conn(in, c);
        if (c->fd >= 0)
            (void) take_hello(in, c);
    }
    *hellos_read = true;
    int oldest = -1;
    for (int i = 0; i < in->max; i++) {
        conn_t *c = &in->conns[i];
        if (c->fd < 0)
            return i;
        if (!c->hello && (oldest < 0 || c->since < in->conns[oldest].since))
            oldest = i;
    }
    if (oldest >= 0)
        reject(in, &in->conns[oldest], "connection without hello, closed for another", 0);
    return oldest;
}

/*  The listening socket leaves the epoll set for LISTEN_PAUSE_MS (the
    timer brings it back: resume_listening). */
static void
pause_listening(mu__ulink_in_t *in)
{
    struct itimerspec t = { .it_value = { .tv_nsec = LISTEN_PAUSE_MS * 1000000L } };
    if (timerfd_settime(in->tfd, 0, &t, NULL) != 0)
        return; /* without the timer it stays: a spin, not a deaf runner */
    if (!in->paused)
        (void) epoll_ctl(in->efd, EPOLL_CTL_DEL, in->lfd, NULL);
    in->paused = true;
}

static void
resume_listening(mu__ulink_in_t *in)
{
    uint64_t expirations;
    (void) !read(in->tfd, &expirations, sizeof expirations);
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = KEY_LISTEN };
    if (!in->paused)
        return;
    if (epoll_ctl(in->efd, EPOLL_CTL_ADD, in->lfd, &ev) == 0)
        in->paused = false;
    else
        pause_listening(in); /* again later */
}

/*  Accepts up to ACCEPT_BATCH waiting connections (the listening socket
    is level-triggered: the rest are there at the next look). */
static void
accept_some(mu__ulink_in_t *in)
{
    bool hellos_read = false;
    for (int n = 0; n < ACCEPT_BATCH && !in->paused; n++) {
        int fd = accept4(in->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
            continue;
        if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM))
            pause_listening(in);
        if (fd < 0)
            return;
        int i = free_slot(in, &hellos_read);
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t) i };
        uint8_t *buf = i >= 0 ? malloc(MU__ULINK_READ_BUF) : NULL;
        if (!buf || epoll_ctl(in->efd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            if (in->bad)
                in->bad(in->ctx, "connection over the limit", 0);
            free(buf);
            close(fd);
            continue;
        }
        in->conns[i] = (conn_t) { .fd = fd,
                                  .since = in->count++,
                                  .buf = buf,
                                  .cap = MU__ULINK_READ_BUF };
        in->open++;
    }
}

/*  Whether rec (size bytes) is the hello of the flow's runners. */
static bool
hello_ok(const mu__ulink_in_t *in, const uint8_t *rec, size_t size)
{
    if (size != HELLO_LEN || rec[0] != 'H')
        return false;
    uint8_t diff = 0; /* every byte compared: the time says nothing of the token */
    for (int i = 0; i < MU__ULINK_TOKEN; i++)
        diff |= (uint8_t) (rec[1 + i] ^ in->token[i]);
    return diff == 0;
}

/*  Takes c's hello when its bytes are there: true once c has sent it;
    false while it is not complete, or when it is not the flow's (c is
    then closed). */
static bool
take_hello(mu__ulink_in_t *in, conn_t *c)
{
    if (c->hello)
        return true;
    size_t have = c->tail - c->head;
    if (have < 4)
        return false;
    uint32_t len = mu__get_le32(c->buf + c->head);
    if (len != HELLO_LEN) {
        reject(in, c, "connection without hello", len);
        return false;
    }
    if (have - 4 < len)
        return false;
    if (!hello_ok(in, c->buf + c->head + 4, len)) {
        reject(in, c, "connection without hello", len);
        return false;
    }
    c->head += 4 + (size_t) len;
    c->hello = true;
    return true;
}

/*  The next complete record of c, checked: true with *rec, *size; false
    when none is complete (c may have been closed for malformed input). */
static bool
next_record(mu__ulink_in_t *in, conn_t *c, const uint8_t **rec, size_t *size)
{
    if (!take_hello(in, c))
        return false;
    size_t have = c->tail - c->head;
    if (have < 4)
        return false;
    uint32_t len = mu__get_le32(c->buf + c->head);
    if (len > MU__ULINK_MAX_RECORD) {
        reject(in, c, "oversized record", len);
        return false;
    }
    if (have - 4 < len)
        return false;
    *rec = c->buf + c->head + 4;
    *size = len;
    c->head += 4 + (size_t) len;
    return true;
}

/*  Room in c's buffer for its next record: what is taken dropped, a
    large record given a buffer of its size, a large buffer given back
    once empty. False when out of memory. */
static bool
make_room(conn_t *c)
{
    if (c->head == c->tail) {
        c->head = c->tail = 0;
        if (c->cap > MU__ULINK_READ_BUF) {
            uint8_t *b = realloc(c->buf, MU__ULINK_READ_BUF);
            if (b) {
                c->buf = b;
                c->cap = MU__ULINK_READ_BUF;
            }
        }
    }
    size_t need = c->cap; /* a size not yet checked (next_record) grows nothing */
    if (c->hello && c->tail - c->head >= 4
        && mu__get_le32(c->buf + c->head) <= MU__ULINK_MAX_RECORD)
        need = 4 + (size_t) mu__get_le32(c->buf + c->head);
    if (c->head > 0 && (c->tail == c->cap || c->head + need > c->cap)) {
        memmove(c->buf, c->buf + c->head, c->tail - c->head);
        c->tail -= c->head;
        c->head = 0;
    }
    if (need > c->cap) {
        uint8_t *b = realloc(c->buf, need);
        if (!b)
            return false;
        c->buf = b;
        c->cap = need;
    }
    return true;
}

/*  Reads what c's socket has, as far as its buffer takes. */
static void
read_conn(mu__ulink_in_t *in, conn_t *c)
{
    if (!make_room(c)) {
        reject(in, c, "record (no memory for it)", c->tail - c->head);
        return;
    }
    if (c->tail == c->cap)
        return; /* full of complete records: taken first */
    ssize_t n = read(c->fd, c->buf + c->tail, c->cap - c->tail);
    if (n > 0) {
        c->tail += (size_t) n;
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    /* The end (everything sent is read by now): the complete records
       buffered are still handed out (take_buffered closes c after). */
    c->ended = true;
    (void) epoll_ctl(in->efd, EPOLL_CTL_DEL, c->fd, NULL);
}

/*  c ended and has no complete record left: closed; an error when the
    sender went away in the middle of a record. */
static void
end_conn(mu__ulink_in_t *in, conn_t *c)
{
    if (c->tail > c->head)
        reject(in, c, "record cut short", c->tail - c->head);
    else
        close_conn(in, c);
}

/*  Accepts and reads what the sockets have. False when nothing was. */
static bool
read_sockets(mu__ulink_in_t *in)
{
    struct epoll_event ev[64];
    int n = epoll_wait(in->efd, ev, 64, 0);
    for (int i = 0; i < n; i++) {
        uint32_t k = ev[i].data.u32;
        if (k == KEY_TIMER) {
            resume_listening(in);
            accept_some(in);
        } else if (k == KEY_LISTEN)
            accept_some(in);
        else if (in->conns[k].fd >= 0)
            read_conn(in, &in->conns[k]);
    }
    in->handed = 0;
    return n > 0;
}

/*  A record from the connections' buffers, in turn from each. */
static bool
take_buffered(mu__ulink_in_t *in, const void **data, size_t *size)
{
    for (int k = 0; k < in->max; k++) {
        int i = (in->next + k) % in->max;
        conn_t *c = &in->conns[i];
        const uint8_t *rec;
        if (c->fd >= 0 && next_record(in, c, &rec, size)) {
            *data = rec;
            in->next = (i + 1) % in->max;
            in->handed++;
            return true;
        }
        if (c->fd >= 0 && c->ended)
            end_conn(in, c);
    }
    return false;
}

int
mu__ulink_recv(mu__ulink_in_t *in, const void **data, size_t *size)
{
    if (in->handed >= READ_EVERY)
        (void) read_sockets(in);
    /* A few rounds: a listener that cannot accept (no descriptors left)
       stays readable, and must not keep the caller here. */
    for (int round = 0; round < 4; round++) {
        if (take_buffered(in, data, size))
            return 0;
        if (!read_sockets(in))
            return -1;
    }
    return take_buffered(in, data, size) ? 0 : -1;
}
