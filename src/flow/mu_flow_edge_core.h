/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_edge_core.h — private: what the edge runners share, whatever
    their clients speak (mu_flow_edge_core.c): the hooks, the emitter to
    the clients, reading upstream and the end of the loop. Never installed. */
#ifndef MU_FLOW_EDGE_CORE_H_INCLUDED
#define MU_FLOW_EDGE_CORE_H_INCLUDED

#include "flow/mu_flow_int.h"

typedef struct mu__edge_core_t mu__edge_core_t;

/*  The part of an edge runner's state the core uses: the first member of
    each transport's state, whose functions it calls. */
struct mu__edge_core_t {
    mu__runner_t *r;
    const mu_flow_edge_t *e;
    void *state;    /* what the hooks get: e->arg, or what e->startup set */
    unsigned taken; /* messages from clients so far */
    bool user_each; /* user code runs per message from a client: a from_client
                       hook, or the link's key function or filters */
    /*  Clients connected now. */
    int (*clients)(const mu__edge_core_t *core);
    /*  Hands a message to every client without waiting (there is one). */
    void (*broadcast)(mu__edge_core_t *core, const void *data, size_t size);
    /*  True when every client is so far behind that reading upstream
        should wait; NULL: never (the clients' queues bound themselves). */
    bool (*all_behind)(const mu__edge_core_t *core);
    /*  Multi-host, no client: the one data message read while waiting for
        a client (read only to see an end of stream behind nothing). */
    zmq_msg_t held;
    bool has_held, held_init;
    /*  A framed part the edge stopped reading in the middle of (its last
        client left, or all fell behind) is held too: held_off is where
        its rest starts (0: held whole). */
    size_t held_off;
    /*  Multi-host, no client, a message held: what came behind it is read
        ahead by the links (mu__net_skim) until their bound, reached when
        ahead_full (the input is then left unpolled until the edge reads). */
    bool ahead_full;
};

/*  Runs the edge's startup hook (or takes e->arg as the state); exits the
    process with status 3 when the hook fails. */
void mu__edge_startup(mu__edge_core_t *core);

/*  Sends to the clients of the edge (an emitter with to_clients; edge is
    the mu__edge_core_t). Returns 0 (a message counted as dropped when no
    client is connected, which happens only while draining) or
    MU_EMSGSIZE (over max_frame). */
int mu__flow_edge_emit(void *edge, const void *data, size_t size);

/*  A message from a client: downstream through the from_client hook, on
    an edge with a downstream. Returns MU_EINTR when the runner is told to
    exit, else 0. */
int mu__edge_from_client(mu__edge_core_t *core, const void *data, size_t size);

/*  True when the edge should not read upstream: no client (unless the
    flow drains), or every client far behind (all_behind). */
bool mu__edge_blocked(const mu__edge_core_t *core);

/*  True when the loop should poll the input: not blocked, or (multi-host)
    blocked for want of a client with no message held yet, or with one held
    and more to read ahead behind it. */
bool mu__edge_wants_upstream(const mu__edge_core_t *core);

/*  Reads a batch from upstream and hands it to the clients through the
    from_internal hook, while the edge is not blocked (a held message
    first). Multi-host, blocked for want of a client: reads one message;
    an end of stream is taken at once (so an outbound edge whose clients
    left ends with its upstream: no supervisor drain comes to a host
    without sources), data is held for the next client; with one held,
    what comes behind it is read ahead in the links (mu__net_skim: the
    senders' heartbeats are seen, nothing is consumed). Call it also when
    nothing came from upstream while a message waits (mu__edge_holds): a
    client that connected, or the drain, takes it then (its sender may be
    gone: nothing else would come). */
void mu__edge_read_upstream(mu__edge_core_t *core);

/*  True while a message is held for a client, or (multi-host) anything
    was read ahead behind it (data, heartbeats, an end of stream). The loop
    calls mu__edge_read_upstream then even when nothing came from
    upstream. */
bool mu__edge_holds(const mu__edge_core_t *core);

/*  The loop's poll timeout in ms: 0 while what is held or read ahead can
    go on (no longer blocked: a client came, or the drain), since nothing
    on the input would wake the poll for it; else MU__FLOW_STATS_MS. */
int mu__edge_poll_ms(const mu__edge_core_t *core);

/*  True when the edge's loop is over: told to exit, a first stage told to
    drain, or a later stage whose input ended and that holds no message
    read ahead. */
bool mu__edge_finished(const mu__edge_core_t *core);

#endif
