/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_net.h — private: the links of a multi-host flow
    (mu_flow_net.c): credit, heartbeats, lost and joining peers,
    at-least-once across hosts, end of stream with acknowledgement. Below
    the runner core, beside mu_flow_links.c. Never installed. */
#ifndef MU_FLOW_NET_H_INCLUDED
#define MU_FLOW_NET_H_INCLUDED

#include "flow/mu_flow_int.h"

/*  Makes r's input ROUTER (r->pull; bound on this host's address) and
    output ROUTER (connected to every runner of the next stage on every
    host). Exits the process when it cannot. */
void mu__net_setup(mu__runner_t *r);

/*  Receives the next data or end-of-stream message from upstream into m
    (initialised; its body only), handling heartbeats on the way: first
    what mu__net_skim read ahead, then the socket. 0, or -1 when nothing is
    queued. */
int mu__net_recv(mu__runner_t *r, zmq_msg_t *m);

/*  Reads ahead while r holds a message it cannot pass on yet (an edge
    without client, doc/flow.md "Edge stages"): takes what came off the
    input socket, in order, for mu__net_recv to return later, and notes
    each upstream runner as heard from when its message came, so that a
    frozen sender is lost at the heartbeat timeout although nothing is
    consumed. Returns false when it stopped at its bound (AHEAD_PER_PEER
    messages times the number of upstream runners, in all: a sender
    keeping to its credit stays below its share) or without memory: then
    what is left on the socket stays there and, as before, silence is
    not counted. Never waits. */
bool mu__net_skim(mu__runner_t *r);

/*  The messages mu__net_skim read ahead that mu__net_recv has not
    returned yet (0 without links). */
size_t mu__net_ahead(const mu__runner_t *r);

/*  Opens a message mu__net_recv returned: 1 data (*data_p, *size_p set;
    call mu__net_handled after handling it), 0 nothing to handle (end of
    stream), -1 malformed. */
int mu__net_open(mu__runner_t *r, const void *msg, size_t size, const void **data_p,
                 size_t *size_p);

/*  The data message last opened was handled: credit, acknowledgement. */
void mu__net_handled(mu__runner_t *r);

/*  Sends the credit and acknowledgements owed upstream. */
void mu__net_flush(mu__runner_t *r);

/*  At exit: the same, and once more to every upstream runner whose end of
    stream this runner saw (its acknowledgement, sent once before, may have
    been lost; a sender in waiting mode would wait for it to the drain
    deadline). */
void mu__net_flush_final(mu__runner_t *r);

/*  Heartbeats, lost peers, joins, credit from downstream, redelivery;
    never waits. */
void mu__net_service(mu__runner_t *r);

/*  True when every upstream runner ended (doc/flow.md, Multi-host). */
bool mu__net_input_done(mu__runner_t *r);

/*  Sends one message downstream with the link's routing, waiting for
    credit (running r->service). 0, MU_EINTR (told to exit), MU_ENOMEM. */
int mu__net_send(mu__runner_t *r, const void *data, size_t size);

/*  The end of the output: waits for every acknowledgement (at-least-once),
    sends the end of stream to every live downstream runner and waits for
    theirs. 0 or MU_EINTR. */
int mu__net_finish_out(mu__runner_t *r);

/*  After the runner drained (until it is told to exit): heartbeats and
    credit go on, and a downstream runner that joins late (or comes back)
    gets the end of stream too, so it never waits for a silent sender. */
void mu__net_linger(mu__runner_t *r);

/*  Around user code (a handler, a source call) in the runner's thread:
    the heartbeat thread keeps the links' heartbeats and credit going
    while it runs (mu_flow_net_hb.c). No-ops without links. */
void mu__net_user_begin(mu__runner_t *r);
void mu__net_user_end(mu__runner_t *r);

/*  At the runner's exit: sends the credit owed, closes the sockets with a
    linger of the heartbeat interval (at most 1 s) so that the last credit
    and acknowledgements leave, and waits for that (bounded: the linger
    plus 250 ms). No-op without links. */
void mu__net_close(mu__runner_t *r);

/*  The output socket (for polling), or NULL. */
void *mu__net_out_socket(const mu__runner_t *r);

/*  Copies the multi-host counters into r->stats. */
void mu__net_stats(mu__runner_t *r);

#endif
