/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_links.h — private: routing over the link into the next stage
    (mu_flow_links.c), below the runner core. Never installed. */
#ifndef MU_FLOW_LINKS_H_INCLUDED
#define MU_FLOW_LINKS_H_INCLUDED

#include "flow/mu_flow_int.h"

/* ---- links (mu_flow_links.c): below the runner core ------------------------- */

/*  Local link outputs (mu_flow_ulink.c; r->uout): adds to items, from
    items[n], a POLLOUT item for the socket of each live one whose queued
    bytes wait for room, and lowers *timeout_ms (-1: none) to the next
    connection attempt due. Returns the new count (at most n + r->npush). */
int mu__links_poll_items(mu__runner_t *r, zmq_pollitem_t *items, int n, long *timeout_ms);

/*  Writes what the local link outputs have queued, as far as their
    sockets take it, and connects those not connected when an attempt is
    due (never waits). mu__runner_poll does it after every wait. */
void mu__runner_flush_links(mu__runner_t *r);

/*  Records the local link outputs dropped (their connection failed in
    their middle) since the last call: the runner counts them as errors. */
uint64_t mu__links_take_lost(mu__runner_t *r);

/*  Sends the acknowledgements gathered so far (at-least-once receivers). */
void mu__runner_flush_acks(mu__runner_t *r);

/*  Balanced send of m (consumed) over the live downstream runners, in
    runs: consecutive messages of one input batch go to the same runner
    while it has room, up to MU__BALANCE_RUN of them; *target_p gets the
    runner. 0, 1 (dropped on a dropping stage),
    MU_EINTR. */
int mu__runner_send_balanced(mu__runner_t *r, zmq_msg_t *m, int *target_p);

/*  The most data messages in one batch (mu_flow_links.c); the runner's
    link sockets divide their high-water marks by it (mu_flow_runner.c). */
#define MU__LINK_BATCH_PARTS 16

/*  Batches: the most data messages of one batch (one ZeroMQ multipart
    message), and the largest message that goes in one, its type byte
    included (a larger one is sent alone: its copy costs more than a
    wake-up). ZeroMQ's high-water mark counts whole multipart messages:
    the link sockets divide it by MU__LINK_BATCH_PARTS (mu_flow_runner.c),
    so a link's queue holds in messages. */
#define MU__BATCH_PARTS MU__LINK_BATCH_PARTS
#define MU__BATCH_MAX_SIZE 1024

/*  The most bytes of a framed part: 'B', then per message its size (u32
    LE) and payload (doc/wire.md). A batch's first message is a part of its
    own, sent at once: it meets the high-water mark (ZeroMQ checks a
    multipart message's first part), so the rest of the batch, framed,
    always fits behind it. The rest is copied into the runner's frame[j]
    and goes out as one more part when the batch ends: one ZeroMQ message
    for up to 15 data messages, not one each (libzmq's work per message,
    in the runner's thread and in both I/O threads, was a third of a paced
    flow's CPU; doc/flow.md, "Latency"). A receiver drops a framed part
    that exceeds these bounds (mu_flow_runner.c). */
#define MU__FRAME_CAP (1 + (MU__BATCH_PARTS - 1) * (4 + MU__BATCH_MAX_SIZE))

/*  Data messages go downstream in batches: the messages a runner sends to
    one downstream runner in a row are one ZeroMQ multipart message (the
    first alone, the rest framed in one more part; doc/wire.md), so ZeroMQ
    wakes the downstream runner's threads once per batch, not per message. A batch is sent
    (ended) at MU__BATCH_PARTS parts, when the runner is about to wait
    (mu__runner_batch_end, before any wait in this file) or when the oldest
    open batch is MU__BATCH_NS old (mu__runner_batch_due). */

/*  The end of an input batch (the runner is about to wait): sends the open
    batches, and the next balanced send starts a run on the next downstream
    runner. */
void mu__runner_batch_end(mu__runner_t *r);

/*  Sends the open batches now, and writes the full batches local links
    hold (mu_flow_links.c, hold_last). */
void mu__runner_flush_batches(mu__runner_t *r);

/*  After a handler call (started at call_ns, 0: not timed) that ended at
    now_ns (mu__flow_now_ns): sends the open (and held) batches when the
    oldest is MU__BATCH_NS old, or when the call took half that (a slow handler's
    outputs do not wait for its next call). */
void mu__runner_batch_due(mu__runner_t *r, int64_t call_ns, int64_t now_ns);

/*  Sends the end-of-stream marker to every downstream runner (behind what
    was sent before). 0 or MU_EINTR. */
int mu__links_send_eos(mu__runner_t *r);

/*  Sends one message downstream with the link's routing; waits for room
    (unless the stage drops). 0, MU_EPIPE (no next stage), MU_EINTR (told to
    exit), MU_EMSGSIZE (too large for a local link: MU__ULINK_MAX_RECORD
    with the type byte), MU_ENOMEM. */
int mu__runner_send(mu__runner_t *r, const void *data, size_t size);

#endif
