/*  mu_flow_edge.c — a TCP edge runner: mu_pipe frames (4-byte little-endian
    length) to and from clients. Frames from clients go downstream (through
    the from_client hook); messages from upstream go to every connected
    client (through from_internal). A client that sends a bad frame (over
    the edge's maximum, or cut off by its close) is logged and dropped; the
    others go on. */
#include "mu_flow_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#define MAX_CLIENTS 256
#define PENDING_LIMIT (256 * 1024)   /* stop reading upstream above this */
#define RETRY_MS 100

typedef struct {
    int fd;
    mu_pipe_t *p;
} client_t;

typedef struct {
    mu__runner_t *r;
    const mu_flow_edge_t *e;
    int lfd;
    client_t c[MAX_CLIENTS];
    int nc;
    int64_t next_connect;
} edge_t;

static void
drop_client(edge_t *ed, int k)
{
    mu_pipe_destroy(&ed->c[k].p);
    ed->c[k] = ed->c[--ed->nc];
}

static void
add_client(edge_t *ed, int fd)
{
    if (ed->nc == MAX_CLIENTS) {
        mu__runner_log(ed->r, "too many clients; connection refused");
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    mu_pipe_t *p = mu_pipe_new_fd(fd, fd);
    if (!p) {
        close(fd);
        return;
    }
    mu_pipe_set_max_frame(p, ed->e->max_frame);
    mu_pipe_set_recv_timeout(p, 0);
    mu_pipe_set_send_timeout(p, 0);
    mu_pipe_set_linger(p, 0);
    ed->c[ed->nc++] = (client_t) { .fd = fd, .p = p };
}

static void
try_connect(edge_t *ed)
{
    int64_t now = mu__now_ms();
    if (ed->nc > 0 || now < ed->next_connect)
        return;
    ed->next_connect = now + RETRY_MS;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) ed->e->port) };
    if (inet_pton(AF_INET, ed->e->host, &sa.sin_addr) != 1)
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

/*  Sends to every client: waits (servicing control) while a client's
    buffer is full; a client that is gone is dropped. */
int
mu__flow_edge_emit(void *edge, const void *data, size_t size)
{
    edge_t *ed = edge;
    mu__runner_t *r = ed->r;
    if (ed->nc == 0) { /* only while draining: no client will come for it */
        r->stats.drops++;
        return 0;
    }
    for (int k = 0; k < ed->nc; k++) {
        for (;;) {
            int rc = mu_pipe_send(ed->c[k].p, data, size, MU_PIPE_MORE);
            if (rc == 0)
                break;
            if (rc == MU_EAGAIN || rc == MU_ETIMEDOUT) {
                struct pollfd p[2] = { { .fd = ed->c[k].fd, .events = POLLOUT },
                                       { .fd = r->ctl, .events = POLLIN } };
                poll(p, 2, MU__FLOW_STATS_MS);
                mu__runner_ctl(r);
                mu__runner_tick(r);
                if (r->exit_req)
                    return MU_EINTR;
                continue;
            }
            if (rc == MU_EMSGSIZE)
                return rc;
            drop_client(ed, k--); /* gone (MU_EPIPE) */
            break;
        }
    }
    r->stats.out++;
    return 0;
}

/* ---- input -------------------------------------------------------------------- */

static void
read_client(edge_t *ed, int k)
{
    mu__runner_t *r = ed->r;
    mu_flow_emit_t out = { .runner = r };
    /* Until MU_EAGAIN: frames already buffered by the pipe wake no poll. */
    while (!r->exit_req) {
        const void *data;
        size_t size;
        int rc = mu_pipe_recv(ed->c[k].p, &data, &size);
        if (rc == MU_EAGAIN)
            return;
        if (rc != 0) {
            if (rc != MU_ECLOSED) {
                r->stats.errors++;
                mu__runner_log(r, "client %d dropped: %s", ed->c[k].fd, mu_strerror(rc));
            }
            drop_client(ed, k);
            return;
        }
        if (r->npush == 0)
            continue; /* an outbound-only edge: what clients send goes nowhere */
        r->stats.in++;
        rc = ed->e->from_client ? ed->e->from_client(ed->e->arg, data, size, &out)
                                : mu__runner_send(r, data, size);
        if (rc < 0)
            r->stats.errors++;
        mu__runner_tick(r);
    }
}

static int
deliver_clients(mu__runner_t *r, const void *data, size_t size, void *ctx)
{
    edge_t *ed = ctx;
    (void) r;
    if (ed->e->from_internal) {
        mu_flow_emit_t out = { .runner = r, .to_clients = 1, .edge = ed };
        return ed->e->from_internal(ed->e->arg, data, size, &out);
    }
    return mu__flow_edge_emit(ed, data, size);
}

static bool
clients_blocked(const edge_t *ed)
{
    if (ed->nc == 0) /* wait for a client, unless the flow drains */
        return !ed->r->drain_req;
    for (int k = 0; k < ed->nc; k++)
        if (mu_pipe_pending(ed->c[k].p) > PENDING_LIMIT)
            return true;
    return false;
}

static void
read_upstream(edge_t *ed)
{
    mu__runner_t *r = ed->r;
    zmq_msg_t m;
    zmq_msg_init(&m);
    for (int n = 0; n < 256 && !r->exit_req && !clients_blocked(ed)
                    && zmq_msg_recv(&m, r->pull, ZMQ_DONTWAIT) >= 0; n++)
        mu__runner_take(r, zmq_msg_data(&m), zmq_msg_size(&m), deliver_clients, ed);
    zmq_msg_close(&m);
    mu__runner_flush_acks(r);
    for (int k = ed->nc - 1; k >= 0; k--)
        if (mu_pipe_flush(ed->c[k].p) == MU_EPIPE)
            drop_client(ed, k);
}

static void
accept_clients(edge_t *ed)
{
    for (;;) {
        int fd = accept4(ed->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            return;
        add_client(ed, fd);
    }
}

/* ---- loop ------------------------------------------------------------------------ */

static bool
finished(const edge_t *ed)
{
    const mu__runner_t *r = ed->r;
    if (r->exit_req)
        return true;
    if (r->stage == 0)
        return r->drain_req;
    return mu__runner_input_done(r);
}

static void
poll_once(edge_t *ed)
{
    mu__runner_t *r = ed->r;
    zmq_pollitem_t items[MAX_CLIENTS + 3];
    int n = 0, first_client;
    items[n++] = (zmq_pollitem_t) { .fd = r->ctl, .events = ZMQ_POLLIN };
    int lpos = -1, upos = -1;
    if (ed->lfd >= 0) {
        lpos = n;
        items[n++] = (zmq_pollitem_t) { .fd = ed->lfd, .events = ZMQ_POLLIN };
    }
    if (r->pull && !clients_blocked(ed)) {
        upos = n;
        items[n++] = (zmq_pollitem_t) { .socket = r->pull, .events = ZMQ_POLLIN };
    }
    first_client = n;
    for (int k = 0; k < ed->nc; k++) {
        short ev = ZMQ_POLLIN;
        if (mu_pipe_pending(ed->c[k].p) > 0)
            ev |= ZMQ_POLLOUT;
        items[n++] = (zmq_pollitem_t) { .fd = ed->c[k].fd, .events = ev };
    }
    zmq_poll(items, n, MU__FLOW_STATS_MS);
    mu__runner_ctl(r);
    if (lpos >= 0 && items[lpos].revents)
        accept_clients(ed);
    /* Clients from the back, so dropping one (swap with the last) is safe. */
    int nclients = n - first_client;
    for (int k = nclients - 1; k >= 0; k--) {
        short rev = items[first_client + k].revents;
        if (k >= ed->nc || ed->c[k].fd != items[first_client + k].fd)
            continue;
        if ((rev & ZMQ_POLLOUT) && mu_pipe_flush(ed->c[k].p) == MU_EPIPE) {
            drop_client(ed, k);
            continue;
        }
        if (rev & (ZMQ_POLLIN | ZMQ_POLLERR))
            read_client(ed, k);
    }
    if (upos >= 0 && items[upos].revents)
        read_upstream(ed);
    if (ed->lfd < 0)
        try_connect(ed);
    mu__runner_tick(r);
}

/*  Writes out what clients still have pending (after the input ended). */
static void
flush_clients(edge_t *ed)
{
    mu__runner_t *r = ed->r;
    for (;;) {
        bool pending = false;
        struct pollfd p[MAX_CLIENTS + 1];
        int n = 0;
        p[n++] = (struct pollfd) { .fd = r->ctl, .events = POLLIN };
        for (int k = 0; k < ed->nc; k++) {
            int rc = mu_pipe_flush(ed->c[k].p);
            if (rc == MU_EPIPE) {
                drop_client(ed, k--);
                continue;
            }
            if (mu_pipe_pending(ed->c[k].p) > 0) {
                pending = true;
                p[n++] = (struct pollfd) { .fd = ed->c[k].fd, .events = POLLOUT };
            }
        }
        if (!pending || r->exit_req)
            return;
        poll(p, (nfds_t) n, MU__FLOW_STATS_MS);
        mu__runner_ctl(r);
        mu__runner_tick(r);
    }
}

void
mu__flow_edge_main(mu__runner_t *r)
{
    static edge_t ed;
    ed.r = r;
    ed.e = &r->st->edges[r->index];
    ed.lfd = r->st->listen_fds[r->index];
    if (ed.lfd >= 0) /* the listening socket is shared with the supervisor */
        (void) fcntl(ed.lfd, F_SETFL, fcntl(ed.lfd, F_GETFL) | O_NONBLOCK);
    while (!finished(&ed))
        poll_once(&ed);
    if (r->exit_req)
        _exit(0);
    flush_clients(&ed);
    mu__runner_finish(r);
}
