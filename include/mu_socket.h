/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_socket.h — the smart socket: one object that binds and/or connects to
    any number of tcp:// and ipc:// endpoints, sends whole messages in a
    chosen distribution mode and receives them with the sender's identity.

    Identity. Every socket has a 16-byte identity, given to mu_socket_new or
    random. It is the ZeroMQ routing id of the socket, so it stays the same
    across reconnects, and it is what receivers see as the sender and what
    mu_socket_send_to addresses.

    Peers. Either end may bind; both ends are the same kind of object. When a
    connection is made (in either direction) libzmq sends a probe, and each
    side answers with a HELLO carrying its identity and a random session
    number; a peer whose HELLO arrived is "joined". Only joined peers get
    messages. A peer leaves when it says BYE (mu_socket_destroy), when libzmq
    reports its connection gone (a send to it fails), or when nothing was
    heard from it for the heartbeat timeout. Connecting ends reconnect by
    themselves (libzmq backoff, 100 ms doubling to 5 s), and the peer joins
    again under the same identity. With mu_socket_set_events(self, 1),
    mu_socket_recv also returns MU_SOCKET_JOIN and MU_SOCKET_LEAVE events.
    (How joins are seen without libzmq's draft API: doc/socket.md.)

    Send modes. MU_SOCKET_PUBLISH (default): each joined peer gets a copy.
    MU_SOCKET_ROUNDROBIN: each message goes to one peer; the order is the
    order in which peers joined, and the cycle continues where it was when
    peers join or leave (a new peer is added at the end of the cycle).
    mu_socket_send_to sends to one identity whatever the mode.

    Queueing. With no peer joined, mu_socket_send keeps messages in a local
    queue (default 1000 messages) and hands them out, in order and in the
    current mode, when peers join. When the queue is full, or a peer's
    libzmq pipe is full (send high-water mark 1000), the policy decides:
    MU_SOCKET_BLOCK waits up to the send timeout (then MU_ETIMEDOUT),
    MU_SOCKET_DROP drops the message, counts it in `dropped` and returns
    MU_EAGAIN. Messages already handed to a peer whose connection breaks
    before they left are lost unless AT_LEAST_ONCE is on.

    AT_LEAST_ONCE (mu_socket_set_at_least_once). Every copy of a message gets
    a 64-bit id, unique per socket session; the receiver acknowledges ids
    after mu_socket_recv handed them out (acks are batched and sent by the
    next mu_socket_recv or mu_socket_tick); the sender resends unacknowledged
    copies after the resend interval, doubling up to 32x, at most `retries`
    times (then the copy is dropped and counted in `dropped`). A resend keeps
    its id. In ROUNDROBIN mode a copy whose peer left is resent to the next
    peer; otherwise it waits for the same identity to join again. The
    receiver drops ids it already delivered (counted in `duplicates`),
    exactly within a window of 2^20 ids past the oldest missing id of that
    sender session; a sender that restarts starts a new session.
    At most `window` copies are unacknowledged at a time; a send beyond
    that waits or drops as the queue policy says.

    Driving. By default there is no background thread: heartbeats, expiry,
    acks and resends happen inside mu_socket_send, mu_socket_recv and
    mu_socket_tick, and the owner calls one of them at least every
    heartbeat interval (a pure sender calls mu_socket_tick when idle).
    With mu_socket_set_background(self, 1) a background thread does that
    periodic work whenever the owner is not inside a call, so an idle owner
    needs no calls at all (mu_socket_tick still works, and is harmless).
    A PING goes to a peer only when nothing else was sent to it for the
    heartbeat interval: under steady traffic no PING is sent. For a poll loop use
    mu_socket_zsock (zpoller/zloop) or mu_socket_fd (ZMQ_FD, edge-
    triggered): after a wake-up call mu_socket_recv with timeout 0 until it
    returns MU_EAGAIN, and never sleep longer than mu_socket_tick returns.

    Wire format (one ZeroMQ ROUTER-to-ROUTER message = routing id + one body
    frame; integers little-endian). Body byte 0 is the type:
      'H' HELLO   : 'H' version(1) identity(16) session(8) flags(1)
                    flags bit 0 = "answer me with a HELLO"
      'D' DATA    : 'D' payload
      'R' RDATA   : 'R' id(8) payload                (AT_LEAST_ONCE)
      'A' ACK     : 'A' id(8) x N, N >= 1
      'P' PING    : 'P'                             (liveness, every interval)
      'B' BYE     : 'B'
    An empty body is libzmq's connection probe. Anything else, a body too
    short for its type, a routing id that is not 16 bytes, a HELLO whose
    identity differs from the routing id, or a non-HELLO message from a peer
    that has not joined, is dropped and counted in `malformed` (a non-HELLO
    from a 16-byte id that has not joined is also answered with a HELLO so a
    live peer can rejoin). libzmq itself drops connections whose ZMTP
    handshake is broken; with CURVE a wrong key never connects. The
    socket keeps working in every case.

    CURVE. With mu_socket_set_curve (or mu_socket_set_curve_secret) before
    bind/connect, the socket is a CURVE server on its binds (clients checked
    against an allow-list through libmutil's ZAP handler) and a CURVE client
    on its connects.

    Threads. A socket belongs to one thread at a time. Sockets live on czmq's
    shared context (czmq installs its SIGINT handler on first use).

    Errors. Failing calls record a detail for mu_last_error() (the endpoint
    of a failed bind or connect, the value refused by a setter).

    Design (socket options, the split of the code) and measured figures:
    doc/socket.md. */
#ifndef MU_SOCKET_H_INCLUDED
#define MU_SOCKET_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include "mu_defs.h"
#include "mu_error.h"
#include "mu_keys.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mu_socket_t mu_socket_t;

#define MU_SOCKET_ID_BYTES 16
#define MU_SOCKET_MAX_MESSAGE (64u * 1024 * 1024) /* payload bytes */

typedef enum {
    MU_SOCKET_PUBLISH = 1,   /* every joined peer gets a copy */
    MU_SOCKET_ROUNDROBIN = 2 /* each message to one peer, in turn */
} mu_socket_mode_t;

typedef enum {
    MU_SOCKET_BLOCK = 1, /* wait up to the send timeout */
    MU_SOCKET_DROP = 2   /* drop at once, count, return MU_EAGAIN */
} mu_socket_policy_t;

typedef enum {
    MU_SOCKET_MESSAGE = 1, /* data from peer: data/size set */
    MU_SOCKET_JOIN = 2,    /* peer joined (only with events on) */
    MU_SOCKET_LEAVE = 3    /* peer left (only with events on) */
} mu_socket_event_t;

/*  What mu_socket_recv hands back. data stays valid until the next
    mu_socket_recv or mu_socket_destroy on the same socket. */
typedef struct {
    mu_socket_event_t event;
    uint8_t peer[MU_SOCKET_ID_BYTES]; /* the sender / the peer concerned */
    const void *data;                 /* NULL for events */
    size_t size;
} mu_socket_msg_t;

/*  Counters (mu_socket_stats). Set size to sizeof the struct before the
    call: `mu_socket_stats_t st = { .size = sizeof st };`. */
typedef struct {
    size_t size;            /* set by the caller: sizeof (mu_socket_stats_t) */
    uint64_t sent;          /* copies handed to libzmq (first sends) */
    uint64_t received;      /* messages delivered by mu_socket_recv */
    uint64_t dropped;       /* dropped by policy, unroutable, or retries exhausted */
    uint64_t resent;        /* AT_LEAST_ONCE resends */
    uint64_t duplicates;    /* AT_LEAST_ONCE copies removed at this receiver */
    uint64_t reconnects;    /* joins of an identity that had joined before */
    uint64_t joins;         /* all joins */
    uint64_t leaves;        /* all leaves */
    uint64_t malformed;     /* messages dropped as malformed or from non-peers */
    uint64_t auth_failures; /* CURVE handshakes refused on our binds */
    uint64_t pings;         /* PINGs sent (only to peers idle for an interval) */
} mu_socket_stats_t;

/*  Creates a socket. identity is 16 bytes, or NULL for a random one.
    Returns NULL with errno ENOMEM, EMFILE (libzmq refuses the socket: its
    ZMQ_MAX_SOCKETS or the process's open-file limit is reached) or EIO
    (libsodium cannot initialize, or czmq's context is ending);
    mu_last_error() tells which. */
MU_EXPORT MU_NODISCARD mu_socket_t *mu_socket_new(const uint8_t *identity);

/*  Sends BYE to the joined peers, closes the socket (linger 200 ms), frees
    everything and sets *self_p to NULL. Accepts NULL and *self_p NULL. */
MU_EXPORT void mu_socket_destroy(mu_socket_t **self_p);

/*  The socket's 16-byte identity (valid while self lives). */
MU_EXPORT const uint8_t *mu_socket_identity(const mu_socket_t *self);

/*  Sets the send mode for mu_socket_send (a value of the enum; anything
    else is a caller bug, asserted). */
MU_EXPORT void mu_socket_set_mode(mu_socket_t *self, mu_socket_mode_t mode);

/*  Heartbeat interval and dead-peer timeout in ms (default 1000 / 3000);
    needs 0 < interval_ms < timeout_ms. A PING goes to each joined peer
    to which nothing else was sent for an interval; a peer not heard from for timeout_ms leaves at the next
    check (so within timeout + interval); a peer whose connection libzmq
    reports gone leaves at the next send to it (within one interval). The
    ZMTP heartbeat (libzmq HEARTBEAT_IVL/TIMEOUT/TTL) part applies to
    endpoints bound or connected afterwards. Returns 0 or MU_EINVAL. */
MU_EXPORT MU_NODISCARD int mu_socket_set_heartbeat(mu_socket_t *self, int interval_ms,
                                                   int timeout_ms);

/*  Reconnect backoff of later connects (libzmq ZMQ_RECONNECT_IVL and
    ZMQ_RECONNECT_IVL_MAX): the first retry after initial_ms, each next one
    after twice the last, up to max_ms (default 100 / 5000); max_ms equal
    to initial_ms retries at a fixed interval. Needs 1 <= initial_ms <=
    max_ms <= 3600000. Returns 0 or MU_EINVAL. */
MU_EXPORT MU_NODISCARD int mu_socket_set_reconnect(mu_socket_t *self, int initial_ms, int max_ms);

/*  libzmq high-water marks (messages per peer pipe, ZMQ_SNDHWM and
    ZMQ_RCVHWM, default 1000 each) of later binds and connects; each
    1..2^24. A send to a peer whose send pipe is full waits or drops as the
    queue policy says. With AT_LEAST_ONCE the receive mark is at least
    2 x window + 1000 (see mu_socket_set_at_least_once). Returns 0 or
    MU_EINVAL. */
MU_EXPORT MU_NODISCARD int mu_socket_set_hwm(mu_socket_t *self, int send_hwm, int recv_hwm);

/*  With on != 0, starts a background thread that does the periodic work
    (heartbeats, expiry of silent peers, acks, resends, queued sends)
    whenever it is due and the owner is not inside a call on the socket;
    with 0, stops it (joins the thread). From then on every call on the
    socket takes a mutex (uncontended: tens of ns). The socket still
    belongs to one owner thread. Messages read by the background thread
    wait in the socket for mu_socket_recv, so with background on use
    mu_socket_recv with a timeout, not a poll on mu_socket_fd or
    mu_socket_zsock (their readiness does not cover those messages).
    mu_socket_destroy stops the thread. Returns 0, or MU_ENOMEM when the
    thread cannot be started. */
MU_EXPORT MU_NODISCARD int mu_socket_set_background(mu_socket_t *self, int on);

/*  Local queue limit (messages, 1..2^24, default 1000), full-queue policy
    (default MU_SOCKET_BLOCK) and send timeout in ms (-1 = forever, the
    default; 0 = never wait). policy is a value of the enum (asserted).
    Returns 0, MU_EINVAL (a limit or timeout out of range, or a limit
    below the number of messages queued now) or MU_ENOMEM. */
MU_EXPORT MU_NODISCARD int mu_socket_set_queue(mu_socket_t *self, size_t limit,
                                               mu_socket_policy_t policy, int timeout_ms);

/*  What mu_socket_send_to does for an identity that is not joined: 0
    (default) returns MU_EHOSTUNREACH; 1 drops, counts in `dropped` and
    returns 0. */
MU_EXPORT void mu_socket_set_drop_unroutable(mu_socket_t *self, int drop);

/*  With on != 0, mu_socket_recv also returns JOIN and LEAVE events. */
MU_EXPORT void mu_socket_set_events(mu_socket_t *self, int on);

/*  Turns AT_LEAST_ONCE on: up to retries (1..1000) resends per copy, the
    first after resend_ms (>= 1), window (1..2^20) copies unacknowledged at
    most. Pick resend_ms well above the round trip under load, or spurious
    resends (removed at the receiver, counted) cost throughput. Only before
    the first mu_socket_send or mu_socket_send_to, even one that only
    queued (may be called again to change the values until then). It also
    raises the receive limit per peer (libzmq's ZMQ_RCVHWM, 1000 messages
    by default) to 2 x window + 1000, so that the acks a window produces
    never fill it; call it before binding or connecting, as connections
    made earlier keep their limit.
    Returns 0, MU_EINVAL (a bad value, or after a send) or MU_ENOMEM. */
MU_EXPORT MU_NODISCARD int mu_socket_set_at_least_once(mu_socket_t *self, int retries,
                                                       int resend_ms, size_t window);

/*  CURVE. server_keys (with secret) and allow (copied) apply to later binds;
    client_keys (with secret) and server_public (32 bytes, copied) to later
    connects. Either pair may be NULL (that side stays plaintext). Returns
    0, MU_EINVAL (a keypair without secret, half a pair, or called after a
    CURVE bind) or MU_ENOMEM. */
MU_EXPORT MU_NODISCARD int mu_socket_set_curve(mu_socket_t *self, const mu_keys_t *server_keys,
                                               const mu_allow_t *allow,
                                               const mu_keys_t *client_keys,
                                               const uint8_t *server_public);

/*  CURVE from a shared secret (at least 8 bytes): binds use the secret's
    server keypair and accept its client key; connects use its client
    keypair and expect its server key. Returns 0, MU_EINVAL or MU_ENOMEM. */
MU_EXPORT MU_NODISCARD int mu_socket_set_curve_secret(mu_socket_t *self, const void *secret,
                                                      size_t size);

/*  Binds to a tcp:// or ipc:// endpoint (tcp port 1..65535, or "*" or 0
    to pick one). Returns the bound port for tcp (1..65535), 0 for ipc, or
    MU_EADDRINUSE (the address is in use), MU_EINVAL (a bad endpoint:
    another transport, a port out of range or not a number, an interface
    that does not exist), -EMFILE (the first CURVE bind of the process
    starts its ZAP handler and libzmq refused one of its sockets, or the
    endpoint needs a file the process cannot open), MU_EIO or MU_ENOMEM;
    mu_last_error() names the endpoint. */
MU_EXPORT MU_NODISCARD int mu_socket_bind(mu_socket_t *self, const char *endpoint);

/*  Connects to a tcp:// (port 1..65535) or ipc:// endpoint; the
    connection is made (and remade) in the background. Returns 0 or
    MU_EINVAL (a bad endpoint, as for mu_socket_bind). */
MU_EXPORT MU_NODISCARD int mu_socket_connect(mu_socket_t *self, const char *endpoint);

/*  The last endpoint bound, with the port filled in ("" before any bind). */
MU_EXPORT const char *mu_socket_endpoint(const mu_socket_t *self);

/*  Sends size bytes (copied) in the current mode. Returns 0 (handed to
    libzmq, or queued while no peer is joined), MU_EMSGSIZE (over
    MU_SOCKET_MAX_MESSAGE), MU_ETIMEDOUT (BLOCK policy, nothing could take
    it in time; in PUBLISH mode, the peers that could not take it in time
    are skipped and counted in `dropped`), MU_EAGAIN (DROP policy, dropped
    and counted). */
MU_EXPORT MU_NODISCARD int mu_socket_send(mu_socket_t *self, const void *data, size_t size);

/*  Sends to the peer with identity (16 bytes). Returns 0, MU_EHOSTUNREACH
    (not joined; 0 and counted with mu_socket_set_drop_unroutable),
    MU_EMSGSIZE, MU_ETIMEDOUT or MU_EAGAIN as mu_socket_send. */
MU_EXPORT MU_NODISCARD int mu_socket_send_to(mu_socket_t *self, const uint8_t *identity,
                                             const void *data, size_t size);

/*  Receives the next message (or event) into *msg, waiting up to timeout_ms
    (-1 forever, 0 not at all). Returns 0, MU_EAGAIN (timeout 0, nothing
    there), MU_ETIMEDOUT, or MU_EINTR (a signal or the context ended). */
MU_EXPORT MU_NODISCARD int mu_socket_recv(mu_socket_t *self, mu_socket_msg_t *msg, int timeout_ms);

/*  Does the periodic work now if due (heartbeats, expiry, acks, resends,
    queued sends). Returns the ms until it is next due (>= 0). */
MU_EXPORT int mu_socket_tick(mu_socket_t *self);

/*  Joined peers now. */
MU_EXPORT size_t mu_socket_peers(const mu_socket_t *self);

/*  1 when the peer with identity (16 bytes) is joined, else 0. */
MU_EXPORT int mu_socket_has_peer(const mu_socket_t *self, const uint8_t *identity);

/*  Copies the counters into *stats; the caller sets stats->size first.
    Returns 0, or MU_EINVAL when stats->size is smaller than the first
    version of mu_socket_stats_t. */
MU_EXPORT MU_NODISCARD int mu_socket_stats(const mu_socket_t *self, mu_socket_stats_t *stats);

/*  The underlying libzmq socket (void *, not a czmq zsock_t: for zmq_poll,
    zpoller or zloop, which take either) and its ZMQ_FD (edge-triggered).
    Do not send or receive on it directly. */
MU_EXPORT void *mu_socket_zsock(mu_socket_t *self);
MU_EXPORT int mu_socket_fd(mu_socket_t *self);

#ifdef __cplusplus
}
#endif
#endif
