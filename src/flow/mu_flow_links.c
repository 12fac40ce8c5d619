/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_links.c — the routing of what a runner emits over the link into
    the next stage: balanced (to the next live runner with room), keyed
    (key % runners), broadcast (every runner whose filter accepts), and
    at-least-once (mu_flow_reliable.c, below this file) on a balanced link;
    the end-of-stream markers and the acknowledgements a receiver owes.
    While waiting for room it runs the runner's service hook (r->service:
    control messages, acks, statistics), never a runner function. */
#include "flow/mu_flow_int.h"
#include "flow/mu_flow_links.h"
#include "flow/mu_flow_reliable.h"
#include "flow/mu_flow_net.h"
#include "flow/mu_flow_ulink.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/*  The longest run of a balanced link: consecutive messages of one input
    batch sent to the same downstream runner. A run wakes one runner (and
    its ZeroMQ I/O threads) for the batch instead of every runner for a
    share of it (doc/flow.md, "Latency"); the cap, one batch, bounds how
    much of a burst one runner takes while the others could share it (64
    left one runner a tail of 64 slow messages: bench/flow_hosts' chain
    rows lost 11-17 %). */
#define MU__BALANCE_RUN MU__LINK_BATCH_PARTS

/*  How long an open batch may wait (a slow handler's outputs do not wait
    for the end of its input batch). */
#define MU__BATCH_NS 50000

/* ---- local links ----------------------------------------------------------- */

void
mu__runner_flush_links(mu__runner_t *r)
{
    int64_t now = mu__now_ms();
    for (int j = 0; r->uout && j < r->npush; j++)
        if (!r->dead_down[j])
            mu__ulink_flush(r->uout[j], now);
}

uint64_t
mu__links_take_lost(mu__runner_t *r)
{
    uint64_t n = 0;
    for (int j = 0; r->uout && j < r->npush; j++)
        n += mu__ulink_out_take_lost(r->uout[j]);
    return n;
}

int
mu__links_poll_items(mu__runner_t *r, zmq_pollitem_t *ext, int m, long *timeout_ms)
{
    int64_t now = mu__now_ms();
    for (int j = 0; r->uout && j < r->npush; j++) {
        if (r->dead_down[j])
            continue;
        struct pollfd p;
        int due = mu__ulink_out_poll(r->uout[j], &p, now);
        if (p.fd >= 0)
            ext[m++] = (zmq_pollitem_t) { .fd = p.fd, .events = ZMQ_POLLOUT };
        if (due >= 0 && (*timeout_ms < 0 || due < *timeout_ms))
            *timeout_ms = due;
    }
    return m;
}

/*  Sends one part to runner j without waiting: more, another part of the
    same message follows. On a local link a part is a record, and the
    records of one message are written together at its last. -1 with
    errno (EAGAIN: no room) on failure. */
static int
part_send(mu__runner_t *r, int j, const void *data, size_t size, bool more)
{
    if (!r->uout)
        return zmq_send(r->push[j], data, size, ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0)) < 0 ? -1
                                                                                             : 0;
    int rc = mu__ulink_put(r->uout[j], data, size, more);
    if (rc == MU_EAGAIN && mu__ulink_pending(r->uout[j])) { /* held batches, maybe */
        mu__ulink_flush(r->uout[j], mu__now_ms());
        rc = mu__ulink_put(r->uout[j], data, size, more);
    }
    if (rc == 0)
        return 0;
    errno = rc == MU_EAGAIN ? EAGAIN : -rc;
    return -1;
}

/*  part_send of m, consumed when sent. */
static int
msg_send(mu__runner_t *r, int j, zmq_msg_t *m, bool more)
{
    if (!r->uout)
        return zmq_msg_send(m, r->push[j], ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0)) < 0 ? -1 : 0;
    if (part_send(r, j, zmq_msg_data(m), zmq_msg_size(m), more) != 0)
        return -1;
    zmq_msg_close(m);
    zmq_msg_init(m);
    return 0;
}

/* ---- batches ----------------------------------------------------------------- */

/*  Copies data message m (its 'M' dropped) into j's framed part. False
    when there is no buffer (no memory): m then goes as a part of its own. */
static bool
frame_append(mu__runner_t *r, int j, zmq_msg_t *m)
{
    if (!r->frame[j] && !(r->frame[j] = malloc(MU__FRAME_CAP)))
        return false;
    uint8_t *b = r->frame[j];
    size_t n = r->framed[j], size = zmq_msg_size(m) - 1;
    if (n == 0)
        b[n++] = 'B';
    mu__put_le32(b + n, (uint32_t) size);
    memcpy(b + n + 4, (const uint8_t *) zmq_msg_data(m) + 1, size);
    r->framed[j] = n + 4 + size;
    return true;
}

/*  Sends j's framed part (if any) with flags (ZMQ_SNDMORE when more parts
    follow). Within a batch only a pipe that went away fails it. */
static int
frame_send(mu__runner_t *r, int j, int flags)
{
    if (r->framed[j] == 0)
        return 0;
    int rc = part_send(r, j, r->frame[j], r->framed[j], flags != 0);
    r->framed[j] = 0;
    return rc < 0 ? -1 : 0;
}

/*  A full batch's last part to local link j, held: written with the
    next flush of the batches (mu__runner_flush_batches, at the latest
    MU__BATCH_NS after the oldest open batch opened), so the batches a
    runner sends to one runner while it handles one input batch go in one
    write (the runs of a balanced link come back to a runner every 16
    messages per downstream runner). */
static int
hold_last(mu__runner_t *r, int j)
{
    int rc = mu__ulink_put_held(r->uout[j], r->frame[j], r->framed[j]);
    r->framed[j] = 0;
    if (r->held_ns == 0)
        r->held_ns = r->open_ns; /* the oldest open batch's: no later than this one's */
    return rc == 0 ? 0 : -1;
}

/*  Ends the open batch of push socket j: its framed part, or an empty part
    when it has none, without MORE; the receiver skips an empty part
    (mu__runner_take). Within a multipart message the part cannot meet a
    full pipe (ZeroMQ counts whole messages); only a pipe that went away
    fails it, and libzmq then drops the whole multipart message: its
    messages, counted out when they were sent, are counted errors too.
    full: the batch is full (not a flush); on a local link it is then held
    (hold_last). */
static void
close_batch(mu__runner_t *r, int j, bool full)
{
    if (!r->parts || r->parts[j] == 0)
        return;
    int rc;
    if (full && r->uout && r->framed[j] > 0)
        rc = hold_last(r, j);
    else
        rc = r->framed[j] > 0 ? frame_send(r, j, 0) : part_send(r, j, "", 0, false);
    if (rc < 0)
        r->stats.errors += (uint64_t) r->parts[j];
    r->parts[j] = 0;
    r->nopen--;
}

void
mu__runner_flush_batches(mu__runner_t *r)
{
    for (int j = 0; r->nopen > 0 && j < r->npush; j++)
        close_batch(r, j, false);
    if (r->held_ns != 0) {
        mu__runner_flush_links(r);
        r->held_ns = 0;
    }
}

void
mu__runner_batch_due(mu__runner_t *r, int64_t call_ns, int64_t now_ns)
{
    if (r->nopen == 0 && r->held_ns == 0)
        return;
    int64_t oldest = r->nopen > 0 ? r->open_ns : r->held_ns;
    if (r->held_ns != 0 && r->held_ns < oldest)
        oldest = r->held_ns;
    if (now_ns - oldest >= MU__BATCH_NS || (call_ns > 0 && now_ns - call_ns >= MU__BATCH_NS / 2))
        mu__runner_flush_batches(r);
}

/*  A batch of j is over after a failed send: libzmq dropped the whole
    multipart message, whose messages (counted out) are counted errors.
    The error is the dead peer's (EPIPE). */
static void
batch_lost(mu__runner_t *r, int j)
{
    r->stats.errors += (uint64_t) r->parts[j];
    r->parts[j] = 0;
    r->framed[j] = 0;
    r->nopen--;
    errno = EPIPE;
}

/*  Sends m to push socket j without waiting: a data message (batch) as a
    part of j's open batch (opened here: framed after its first), else a
    message of its own, which ends an open batch. Returns zmq_msg_send's
    result. */
static int
push(mu__runner_t *r, int j, zmq_msg_t *m, bool batch)
{
    batch = batch && r->parts && zmq_msg_size(m) <= MU__BATCH_MAX_SIZE;
    if (batch && r->parts[j] > 0 && frame_append(r, j, m)) {
        zmq_msg_close(m);
        if (++r->parts[j] >= MU__BATCH_PARTS)
            close_batch(r, j, true);
        return 0;
    }
    bool open = r->parts && r->parts[j] > 0;
    if (open && frame_send(r, j, ZMQ_SNDMORE) != 0) { /* what was framed goes first */
        batch_lost(r, j);
        return -1;
    }
    if (msg_send(r, j, m, batch) < 0) {
        /* Within a batch only a pipe that went away fails (a restarted
           runner). */
        if (open && errno != EAGAIN && errno != EINTR)
            batch_lost(r, j);
        return -1;
    }
    if (!batch) {
        if (open) { /* it was the batch's last part */
            r->parts[j] = 0;
            r->nopen--;
        }
        return 0;
    }
    if (r->parts[j]++ == 0 && r->nopen++ == 0)
        r->open_ns = mu__flow_now_ns();
    if (r->parts[j] >= MU__BATCH_PARTS)
        close_batch(r, j, true);
    return 0;
}

/*  Waits until push socket j (or any live one for j < 0) can take a
    message, or a control message arrives. MU_EINTR when told to exit. */
static int
wait_out(mu__runner_t *r, int j)
{
    mu__runner_flush_batches(r);
    mu__runner_flush_acks(r);                       /* nothing waits on us while we wait */
    zmq_pollitem_t items[MU__FLOW_MAX_RUNNERS + 2]; /* pushes, control, acks */
    int n = 0;
    long timeout = MU__FLOW_STATS_MS;
    for (int k = 0; k < r->npush && !r->uout; k++)
        if ((j < 0 || k == j) && !r->dead_down[k])
            items[n++] = (zmq_pollitem_t) { .socket = r->push[k], .events = ZMQ_POLLOUT };
    n = mu__links_poll_items(r, items, n, &timeout); /* local links: all that wait */
    items[n++] = (zmq_pollitem_t) { .fd = r->ctl, .events = ZMQ_POLLIN };
    void *acks = mu__rel_ack_socket(r);
    if (acks)
        items[n++] = (zmq_pollitem_t) { .socket = acks, .events = ZMQ_POLLIN };
    zmq_poll(items, n, timeout);
    mu__runner_flush_links(r);
    return r->service(r); /* the runner's control, acks, statistics */
}

static int
build(zmq_msg_t *m, char type, const void *data, size_t size)
{
    if (zmq_msg_init_size(m, size + 1) != 0)
        return MU_ENOMEM;
    char *p = zmq_msg_data(m);
    p[0] = type;
    if (size)
        memcpy(p + 1, data, size);
    return 0;
}

/*  Sends m (consumed) to runner j, waiting for room; batch: a data message
    that may go in a batch. */
static int
send_to(mu__runner_t *r, int j, zmq_msg_t *m, bool may_drop, bool batch)
{
    for (;;) {
        if (r->dead_down[j]) {
            zmq_msg_close(m);
            r->stats.drops++;
            return 0;
        }
        if (push(r, j, m, batch) >= 0)
            return 0;
        if (errno != EAGAIN && errno != EINTR) {
            zmq_msg_close(m);
            return -errno;
        }
        if (may_drop && r->st->drop) {
            zmq_msg_close(m);
            r->stats.drops++;
            return 0;
        }
        int rc = wait_out(r, j);
        if (rc != 0) {
            zmq_msg_close(m);
            return rc;
        }
    }
}

/*  Counts a message sent to runner j in the current run: a new run when j
    is another runner, the next runner after a full one. */
static void
count_run(mu__runner_t *r, int j)
{
    if (j != r->rr) {
        r->rr = j;
        r->rr_run = 0;
    }
    if (++r->rr_run >= MU__BALANCE_RUN) {
        r->rr = (j + 1) % r->npush;
        r->rr_run = 0;
    }
}

void
mu__runner_batch_end(mu__runner_t *r)
{
    mu__runner_flush_batches(r);
    if (r->rr_run > 0 && r->npush > 0) {
        r->rr = (r->rr + 1) % r->npush;
        r->rr_run = 0;
    }
}

static int
send_balanced(mu__runner_t *r, zmq_msg_t *m, int *target_p, bool batch)
{
    for (;;) {
        for (int k = 0; k < r->npush; k++) {
            int j = (r->rr + k) % r->npush;
            if (r->dead_down[j])
                continue;
            if (push(r, j, m, batch) >= 0) {
                count_run(r, j);
                if (target_p)
                    *target_p = j;
                return 0;
            }
        }
        if (r->st->drop) {
            zmq_msg_close(m);
            r->stats.drops++;
            return 1;
        }
        int rc = wait_out(r, -1);
        if (rc != 0) {
            zmq_msg_close(m);
            return rc;
        }
    }
}

int
mu__runner_send_balanced(mu__runner_t *r, zmq_msg_t *m, int *target_p)
{
    return send_balanced(r, m, target_p, false);
}

/*  True when runner j of the next stage takes data on a broadcast link. */
static bool
accepts(const mu__runner_t *r, int j, const void *data, size_t size)
{
    const mu__stage_t *nx = r->next;
    if (nx->filter)
        return nx->filter(nx->link_arg, j, data, size);
    if (nx->kind == MU__ST_EDGE && nx->edges[j].filter)
        return nx->edges[j].filter(nx->edges[j].arg, data, size);
    return true;
}

int
mu__runner_send(mu__runner_t *r, const void *data, size_t size)
{
    if (r->net && r->npush > 0) {
        int rc = mu__net_send(r, data, size);
        if (rc == 0)
            r->stats.out++;
        return rc;
    }
    if (r->npush == 0)
        return MU_EPIPE;
    if (r->uout && size >= MU__ULINK_MAX_RECORD) /* with its type byte, over a record */
        return MU_EMSGSIZE;
    zmq_msg_t m;
    int rc;
    if (r->next->link == MU_FLOW_BROADCAST) {
        for (int j = 0; j < r->npush; j++) {
            if (!accepts(r, j, data, size))
                continue;
            if ((rc = build(&m, 'M', data, size)) != 0)
                return rc;
            uint64_t drops = r->stats.drops;
            if ((rc = send_to(r, j, &m, true, true)) != 0)
                return rc;
            if (r->stats.drops == drops)
                r->stats.out++;
        }
        return 0;
    }
    if (r->rel) {
        rc = mu__rel_send(r, data, size);
        if (rc == 0)
            r->stats.out++;
        return rc < 0 ? rc : 0;
    }
    if ((rc = build(&m, 'M', data, size)) != 0)
        return rc;
    if (r->next->link == MU_FLOW_KEYED) {
        uint64_t key = r->next->key(r->next->link_arg, data, size);
        uint64_t drops = r->stats.drops;
        rc = send_to(r, (int) (key % (uint64_t) r->npush), &m, true, true);
        if (rc == 0 && r->stats.drops == drops)
            r->stats.out++;
        return rc;
    }
    rc = send_balanced(r, &m, NULL, true);
    if (rc == 0)
        r->stats.out++;
    return rc < 0 ? rc : 0;
}

void
mu__runner_flush_acks(mu__runner_t *r)
{
    if (r->net && r->pull)
        mu__net_flush(r);
    for (int i = 0; r->ack_push && i < r->n_up; i++)
        if (r->nacks[i] > 0) {
            uint8_t buf[MU__ACK_BATCH * 8];
            for (int k = 0; k < r->nacks[i]; k++)
                mu__put_le64(buf + 8 * k, r->acks[i][k]);
            (void) zmq_send(r->ack_push[i], buf, (size_t) r->nacks[i] * 8, 0);
            r->nacks[i] = 0;
        }
}

int
mu__links_send_eos(mu__runner_t *r)
{
    if (r->net)
        return mu__net_finish_out(r);
    mu__runner_flush_batches(r);
    uint8_t idx[4];
    mu__put_le32(idx, (uint32_t) r->index);
    for (int j = 0; j < r->npush && !r->exit_req; j++) {
        zmq_msg_t m;
        if (build(&m, 'E', idx, sizeof idx) == 0)
            (void) send_to(r, j, &m, false, false);
    }
    return r->exit_req ? MU_EINTR : 0;
}
