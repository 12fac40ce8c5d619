/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_edge.c — a TCP edge runner: mu_pipe frames (4-byte little-endian
    length) to and from clients. Frames from clients go downstream (through
    the from_client hook); messages from upstream go to every connected
    client (through from_internal). A client that sends a bad frame (over
    the edge's maximum, or cut off by its close) is logged and dropped; the
    others go on.

    Clients cannot hold the edge up (the contract is in mu_flow.h, "Edge
    clients"): each has a bounded queue of what it has not read yet; a
    listening edge takes at most max_clients of them, making room by
    closing the one idle longest, and closes clients idle for
    idle_timeout_ms. A client's active_ms is when it last did its part:
    connected, sent a complete frame, had bytes written to it, or had
    nothing queued when a message came for it. The hooks, reading upstream
    and the end of the loop are shared with the WebSocket edge
    (mu_flow_edge_core.c). */
#include "flow/mu_flow_int.h"
#include "base/mu_accept.h"
#include "flow/mu_flow_edge.h"
#include "flow/mu_flow_edge_core.h"
#include "flow/mu_flow_runner.h"
#include "flow/mu_flow_links.h"
#include "flow/mu_flow_msgq.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#define RETRY_MS 100

/*  A send or flush that found the socket full (timeouts are 0). */
#define WOULD_BLOCK(rc) ((rc) == MU_EAGAIN || (rc) == MU_ETIMEDOUT)

typedef struct {
    int fd;
    mu_pipe_t *p;
    mu__msgq_t q; /* what the pipe could not take yet */
    int64_t active_ms;
    uint64_t seq; /* connection order: on a tie, the older is the idler */
    bool kept_up; /* had nothing queued when a message came: active_ms is due */
} client_t;

typedef struct {
    mu__edge_core_t core; /* first: the core's functions get the edge_t; r, e */
    int lfd;
    bool inbound; /* a first stage: clients send, nothing goes to them */
    client_t *c;  /* cap slots, nc used */
    int nc, cap;
    zmq_pollitem_t *items; /* cap + 3: control, listener, upstream, clients */
    int64_t next_connect;
    uint64_t accepted;      /* connections so far */
    int64_t accept_resume;  /* > 0: the listener is not polled before then */
    bool accept_starved;    /* accepts fail for want of descriptors since the last success */
    mu__log_limit_t fd_log; /* "cannot accept": one line a second at most */
} edge_t;

/* ---- the client table -------------------------------------------------------------- */

/*  Bytes waiting for client c: its queue and what its pipe holds. */
static size_t
backlog(const client_t *c)
{
    return c->q.bytes + mu_pipe_pending(c->p);
}

/*  Closes client k (the last one takes its slot); counted in *counter
    unless NULL. */
static void
close_client(edge_t *ed, int k, uint64_t *counter)
{
    if (counter)
        (*counter)++;
    mu__msgq_clear(&ed->c[k].q);
    mu_pipe_destroy(&ed->c[k].p);
    ed->c[k] = ed->c[--ed->nc];
    ed->core.r->stats.clients = (uint64_t) ed->nc;
}

static bool
idler(const client_t *a, const client_t *b)
{
    return a->active_ms < b->active_ms || (a->active_ms == b->active_ms && a->seq < b->seq);
}

/*  Stamps active_ms of the clients that kept up since the last call: once
    per loop, not per message (a clock read per message and client cost
    some 4 % of a paced flow's CPU; doc/flow.md, "Latency"). A stamp a
    loop late only makes a client look active a little longer. */
static void
stamp_kept_up(edge_t *ed)
{
    int64_t now = -1;
    for (int k = 0; k < ed->nc; k++)
        if (ed->c[k].kept_up) {
            if (now < 0)
                now = mu__now_ms();
            ed->c[k].active_ms = now;
            ed->c[k].kept_up = false;
        }
}

/*  The slot of the client idle the longest (the table is not empty). */
static int
idlest(edge_t *ed)
{
    stamp_kept_up(ed);
    int best = 0;
    for (int k = 1; k < ed->nc; k++)
        if (idler(&ed->c[k], &ed->c[best]))
            best = k;
    return best;
}

mu_pipe_t *
mu__edge_pipe_new(int fd, uint32_t max_frame, int header_bytes)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    mu_pipe_t *p = mu_pipe_new_fd(fd, fd);
    if (!p || mu_pipe_set_max_frame(p, max_frame) != 0
        || (header_bytes > 0 && mu_pipe_set_header_size(p, header_bytes) != 0)) {
        mu_pipe_destroy(&p);
        return NULL;
    }
    mu_pipe_set_recv_timeout(p, 0);
    mu_pipe_set_send_timeout(p, 0);
    mu_pipe_set_linger(p, 0);
    return p;
}

static void
add_client(edge_t *ed, int fd)
{
    if (ed->nc == ed->cap) /* make room: idle connections never lock clients out */
        close_client(ed, idlest(ed), &ed->core.r->stats.clients_idle);
    mu_pipe_t *p = mu__edge_pipe_new(fd, ed->core.e->max_frame, ed->core.r->st->header_bytes);
    if (!p) {
        close(fd);
        return;
    }
    ed->c[ed->nc++] = (client_t) { .fd = fd,
                                   .p = p,
                                   .active_ms = mu__now_ms(),
                                   .seq = ed->accepted++ };
    ed->core.r->stats.clients = (uint64_t) ed->nc;
}

/*  True when client c of a listening edge has been idle too long: on a
    first stage, it sent no complete frame; on a later one, nothing of what
    is queued for it could be written. */
static bool
is_idle(const edge_t *ed, const client_t *c, int64_t now)
{
    if (ed->lfd < 0 || ed->core.e->idle_timeout_ms < 0
        || now - c->active_ms < ed->core.e->idle_timeout_ms)
        return false;
    return ed->inbound || backlog(c) > 0;
}

static void
close_idle_clients(edge_t *ed)
{
    stamp_kept_up(ed);
    int64_t now = mu__now_ms();
    for (int k = ed->nc - 1; k >= 0; k--)
        if (is_idle(ed, &ed->c[k], now))
            close_client(ed, k, &ed->core.r->stats.clients_idle);
}

static void
try_connect(edge_t *ed)
{
    int64_t now = mu__now_ms();
    if (ed->nc > 0 || now < ed->next_connect)
        return;
    ed->next_connect = now + RETRY_MS;
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons((uint16_t) ed->core.e->port) };
    if (inet_pton(AF_INET, ed->core.e->host, &sa.sin_addr) != 1)
        return;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (connect(fd, (struct sockaddr *) &sa, sizeof sa) != 0) {
        close(fd);
        return;
    }
    add_client(ed, fd);
}

/* ---- output ------------------------------------------------------------------------ */

/*  Moves client k's queue into its pipe and writes out what the socket
    takes. Returns false when the client is gone (closed here). */
static bool
flush_client(edge_t *ed, int k)
{
    client_t *c = &ed->c[k];
    size_t before = backlog(c);
    const void *data;
    size_t size;
    int rc = 0;
    while (rc == 0 && mu__msgq_peek(&c->q, &data, &size)) {
        rc = mu_pipe_send(c->p, data, size, MU_PIPE_MORE);
        if (rc == 0)
            mu__msgq_pop(&c->q);
    }
    if (rc == 0 || WOULD_BLOCK(rc))
        rc = mu_pipe_flush(c->p);
    if (rc != 0 && !WOULD_BLOCK(rc)) {
        close_client(ed, k, NULL); /* gone (MU_EPIPE) */
        return false;
    }
    if (backlog(c) < before)
        c->active_ms = mu__now_ms();
    return true;
}

static void
flush_all(edge_t *ed)
{
    for (int k = ed->nc - 1; k >= 0; k--)
        (void) flush_client(ed, k);
}

/*  Applies the overflow setting to client k when its queue is over
    queue_max: drops its oldest messages, or closes it. */
static void
bound_queue(edge_t *ed, int k)
{
    client_t *c = &ed->c[k];
    if (c->q.bytes <= ed->core.e->queue_max)
        return;
    if (ed->core.e->overflow == MU_FLOW_EDGE_DROP_OLDEST)
        ed->core.r->stats.drops += mu__msgq_trim(&c->q, ed->core.e->queue_max);
    else
        close_client(ed, k, &ed->core.r->stats.clients_slow);
}

/*  Hands a message to client k: to its pipe when nothing waits before it,
    else to its queue. Never waits. */
static void
send_to_client(edge_t *ed, int k, const void *data, size_t size)
{
    client_t *c = &ed->c[k];
    if (backlog(c) == 0)
        c->kept_up = true; /* it kept up so far: stamped by stamp_kept_up */
    if (c->q.count == 0) {
        int rc = mu_pipe_send(c->p, data, size, MU_PIPE_MORE);
        if (rc == 0)
            return;
        if (!WOULD_BLOCK(rc)) {
            close_client(ed, k, NULL); /* gone (MU_EPIPE) */
            return;
        }
    }
    if (mu__msgq_push(&c->q, data, size) != 0) {
        ed->core.r->stats.drops++; /* no memory for the copy */
        return;
    }
    bound_queue(ed, k);
}

/*  Sends to every client without waiting: what a client's socket does not
    take waits in its queue. */
static void
broadcast(mu__edge_core_t *core, const void *data, size_t size)
{
    edge_t *ed = (edge_t *) core;
    for (int k = ed->nc - 1; k >= 0; k--) /* from the back: closing swaps in the last */
        send_to_client(ed, k, data, size);
}

static int
count_clients(const mu__edge_core_t *core)
{
    return ((const edge_t *) core)->nc;
}

/* ---- input -------------------------------------------------------------------- */

int
mu__edge_read_frames(mu_pipe_t *p, mu__edge_frame_fn *fn, void *ctx)
{
    /* Until MU_EAGAIN: frames already buffered by the pipe wake no poll. */
    for (;;) {
        const void *data;
        size_t size;
        int rc = mu_pipe_recv(p, &data, &size);
        if (rc == 0)
            rc = fn(ctx, data, size);
        if (rc != 0)
            return rc;
    }
}

typedef struct {
    edge_t *ed;
    int k;
    bool took; /* a complete frame came: the client is active */
} client_ref_t;

/*  One frame from a client: downstream, through the from_client hook. */
static int
take_client_frame(void *ctx, const void *data, size_t size)
{
    client_ref_t *ref = ctx;
    ref->took = true;
    return mu__edge_from_client(&ref->ed->core, data, size);
}

static void
read_client(edge_t *ed, int k)
{
    mu__runner_t *r = ed->core.r;
    if (r->exit_req)
        return;
    client_ref_t ref = { ed, k, false };
    int rc = mu__edge_read_frames(ed->c[k].p, take_client_frame, &ref);
    if (ref.took && k < ed->nc) /* once per read, not per frame */
        ed->c[k].active_ms = mu__now_ms();
    if (rc == MU_EAGAIN || rc == MU_EINTR)
        return;
    if (rc != MU_ECLOSED) {
        r->stats.errors++;
        mu__rlog(info, r, "client %d dropped: %s", ed->c[k].fd, mu_strerror(rc));
    }
    close_client(ed, k, NULL);
}

/*  True when every client is more than half its queue behind. */
static bool
all_behind(const mu__edge_core_t *core)
{
    const edge_t *ed = (const edge_t *) core;
    for (int k = 0; k < ed->nc; k++)
        if (backlog(&ed->c[k]) <= ed->core.e->queue_max / 2)
            return false;
    return true;
}

/*  accept4 failed with err (mu__accept_out_of_resources): the listener
    rests for MU__ACCEPT_PAUSE_MS. The first failure of a burst (failures
    with no accept between them) counts an error and is logged, at most a
    line a second, with the process's open-file limit. */
static void
pause_accepting(edge_t *ed, int err)
{
    mu__runner_t *r = ed->core.r;
    int64_t now = mu__now_ms();
    ed->accept_resume = now + MU__ACCEPT_PAUSE_MS;
    if (ed->accept_starved)
        return;
    ed->accept_starved = true;
    r->stats.errors++;
    uint64_t before = 0;
    if (!mu__log_limit_admit(&ed->fd_log, now, &before))
        return;
    char text[256];
    mu__accept_warning(text, sizeof text, err, before);
    mu__rlog(warning, r, "%s", text);
}

/*  Accepts the connections that wait, until none is left or accept4
    fails: out of descriptors or memory, the listener pauses
    (pause_accepting); other errors (the connection aborted, EINTR) end
    this round only. */
static void
accept_clients(edge_t *ed)
{
    for (;;) {
        int fd = accept4(ed->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (mu__accept_out_of_resources(errno))
                pause_accepting(ed, errno);
            return;
        }
        ed->accept_starved = false;
        add_client(ed, fd);
    }
}

/*  The poll timeout of the loop: the core's, shortened to the end of a
    pause of the listener. */
static long
edge_poll_ms(edge_t *ed)
{
    long timeout = mu__edge_poll_ms(&ed->core);
    if (ed->accept_resume > 0) {
        int64_t left = ed->accept_resume - mu__now_ms();
        if (left < timeout)
            timeout = left > 0 ? (long) left : 0;
    }
    return timeout;
}

/* ---- loop ------------------------------------------------------------------------ */

/*  Adds a poll item per client (POLLIN when want_in, POLLOUT while it has
    a backlog) from items[n]; returns the new count. */
static int
poll_clients(edge_t *ed, int n, bool want_in)
{
    for (int k = 0; k < ed->nc; k++) {
        short ev = want_in ? ZMQ_POLLIN : 0;
        if (backlog(&ed->c[k]) > 0)
            ev |= ZMQ_POLLOUT;
        ed->items[n++] = (zmq_pollitem_t) { .fd = ed->c[k].fd, .events = ev };
    }
    return n;
}

/*  Serves the clients' poll results in items[first..first+count). A
    client is judged idle only right after a poll that found nothing for
    it, so one whose bytes came while the edge was busy (waiting for room
    downstream) is read, not closed. */
static void
serve_clients(edge_t *ed, int first, int count)
{
    stamp_kept_up(ed);
    int64_t now = mu__now_ms();
    /* From the back, so closing one (the last takes its slot) is safe. */
    for (int k = count - 1; k >= 0; k--) {
        const zmq_pollitem_t *it = &ed->items[first + k];
        if (k >= ed->nc || ed->c[k].fd != it->fd)
            continue;
        if (it->revents == 0) {
            if (is_idle(ed, &ed->c[k], now))
                close_client(ed, k, &ed->core.r->stats.clients_idle);
            continue;
        }
        if ((it->revents & ZMQ_POLLOUT) && !flush_client(ed, k))
            continue;
        if (it->revents & (ZMQ_POLLIN | ZMQ_POLLERR))
            read_client(ed, k);
    }
}

static void
poll_once(edge_t *ed)
{
    mu__runner_t *r = ed->core.r;
    zmq_pollitem_t *items = ed->items;
    int n = 0;
    items[n++] = (zmq_pollitem_t) { .fd = r->ctl, .events = ZMQ_POLLIN };
    int lpos = -1, upos = -1;
    if (ed->accept_resume > 0 && mu__now_ms() >= ed->accept_resume)
        ed->accept_resume = 0; /* the pause is over */
    if (ed->lfd >= 0 && ed->accept_resume == 0) {
        lpos = n;
        items[n++] = (zmq_pollitem_t) { .fd = ed->lfd, .events = ZMQ_POLLIN };
    }
    if (mu__edge_wants_upstream(&ed->core)) {
        upos = n;
        items[n++] = (zmq_pollitem_t) { .socket = r->pull, .events = ZMQ_POLLIN };
    }
    int first_client = n;
    n = poll_clients(ed, n, true);
    mu__runner_batch_end(r);
    mu__runner_poll(r, items, n, edge_poll_ms(ed));
    if (items[0].revents) /* else a receive that finds nothing */
        mu__runner_ctl(r);
    bool accept_ready = lpos >= 0 && items[lpos].revents;
    bool upstream_ready = upos >= 0 && items[upos].revents;
    serve_clients(ed, first_client, n - first_client);
    if (accept_ready)
        accept_clients(ed);
    if (upstream_ready || mu__edge_holds(&ed->core)) {
        mu__edge_read_upstream(&ed->core);
        flush_all(ed);
    }
    if (ed->lfd < 0)
        try_connect(ed);
    stamp_kept_up(ed);
    mu__runner_tick(r);
}

/*  Writes out what clients still have queued (after the input ended);
    clients idle too long are closed meanwhile. */
static void
flush_clients(edge_t *ed)
{
    mu__runner_t *r = ed->core.r;
    for (;;) {
        flush_all(ed);
        close_idle_clients(ed);
        ed->items[0] = (zmq_pollitem_t) { .fd = r->ctl, .events = ZMQ_POLLIN };
        int n = poll_clients(ed, 1, false);
        bool pending = false;
        for (int i = 1; i < n; i++)
            pending = pending || ed->items[i].events != 0;
        if (!pending || r->exit_req)
            return;
        zmq_poll(ed->items, n, MU__FLOW_STATS_MS);
        mu__runner_ctl(r);
        mu__runner_tick(r);
    }
}

void
mu__flow_edge_main(mu__runner_t *r)
{
    static edge_t ed;
    ed.core = (mu__edge_core_t) { .r = r,
                                  .e = &r->st->edges[r->index],
                                  .clients = count_clients,
                                  .broadcast = broadcast,
                                  .all_behind = all_behind };
    ed.lfd = r->st->listen_fds[r->index];
    ed.inbound = r->pull == NULL;
    ed.cap = ed.lfd >= 0 ? ed.core.e->max_clients : 1;
    ed.c = calloc((size_t) ed.cap, sizeof *ed.c);
    ed.items = calloc((size_t) ed.cap + 3, sizeof *ed.items);
    if (!ed.c || !ed.items) {
        mu__rlog(error, r, "no memory for %d clients", ed.cap);
        _exit(1);
    }
    mu__edge_startup(&ed.core);
    if (ed.lfd >= 0) /* the listening socket is shared with the supervisor */
        (void) fcntl(ed.lfd, F_SETFL, fcntl(ed.lfd, F_GETFL) | O_NONBLOCK);
    mu__flow_say_ready(r->flow, r->stage, r->index);
    while (!mu__edge_finished(&ed.core))
        poll_once(&ed);
    if (r->exit_req)
        _exit(0);
    flush_clients(&ed);
    mu__runner_finish(r);
}
