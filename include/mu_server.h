/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_server.h — authenticated server: requests, pushes, streams and files.

    A mu_server_t binds a ZeroMQ ROUTER on tcp:// or ipc:// endpoints;
    clients (mu_client.h) connect. Security is CURVE (mu_server_set_curve:
    keypair + allow-list; mu_server_set_secret: keys from a shared
    passphrase) unless the caller explicitly asks for plaintext
    (mu_server_set_insecure). Unauthenticated peers are refused during the
    handshake, counted in auth_failures and logged (rate-limited); the
    application never sees them.

    All work (peers, heartbeats, leave detection, file chunks) happens
    inside mu_server_recv on the caller's thread: call it in a loop, or
    when mu_server_fd polls readable and then with timeout 0 until
    MU_EAGAIN. mu_server_recv returns the events the application must see:
    peers joining and leaving, requests, one-way messages, stream chunks.

    Peers. A connection that completed the hello is a peer with a 64-bit
    id unique for the server's life, the client's CURVE public key (zeros
    when insecure) and a name. It leaves on bye, when its connection drops,
    or after the heartbeat timeout of silence (MU_SERVER_LEAVE then comes
    within that timeout).

    Files: see mu_files.h (mu_server_set_root, mu_server_set_transfer_budget).

    Errors: failing calls return a negative MU_E* code and record a detail
    for mu_last_error(). Passing NULL for self or a required pointer is a
    caller bug (assert). Design and figures: doc/conn.md; the wire format:
    doc/wire.md.

    A server belongs to one thread. */
#ifndef MU_SERVER_H_INCLUDED
#define MU_SERVER_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include "mu_defs.h"
#include "mu_error.h"
#include "mu_keys.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mu_server_t mu_server_t;
typedef struct mu_event_t mu_event_t;

/*  What a server event is. */
typedef enum {
    MU_SERVER_JOIN = 1, /* a peer completed the hello; data = its name */
    MU_SERVER_LEAVE,    /* a peer said bye, dropped, or timed out */
    MU_SERVER_REQUEST,  /* a request: answer with mu_server_reply(_error) */
    MU_SERVER_MESSAGE,  /* a one-way message (mu_client_send) */
    MU_SERVER_STREAM    /* a chunk of a stream; mu_event_last() on the end */
} mu_event_kind_t;

/*  The server's counters (mu_server_stats). Set size = sizeof the struct
    before the call. */
typedef struct {
    size_t size;
    uint64_t msgs_in, msgs_out;   /* protocol messages received / sent */
    uint64_t bytes_in, bytes_out; /* payload bytes received / sent */
    uint64_t auth_failures;       /* refused handshakes */
    uint64_t protocol_errors;     /* malformed messages answered with errors */
    uint64_t peers_joined, peers_left;
    uint64_t files_sent, files_received;
} mu_server_stats_t;

/*  One peer's counters (mu_server_peer_stats). Set size first. */
typedef struct {
    size_t size;
    uint64_t msgs_in, msgs_out, bytes_in, bytes_out;
    uint64_t protocol_errors;
    uint64_t files_sent, files_received;
} mu_server_peer_stats_t;

/*  Creates a server with no endpoint and no security chosen yet. Returns
    NULL with errno ENOMEM. */
MU_EXPORT MU_NODISCARD mu_server_t *mu_server_new(void);

/*  Uses CURVE with the server's keypair (must have its secret key) and the
    client allow-list (both copied; neither NULL). Before the first bind.
    Returns 0, MU_EINVAL (no secret key, called after bind) or MU_ENOMEM. */
MU_EXPORT MU_NODISCARD int mu_server_set_curve(mu_server_t *self, const mu_keys_t *keys,
                                               const mu_allow_t *allow);

/*  Uses CURVE with keys derived from a shared passphrase (mu_keys.h):
    the server keypair, and an allow-list of the one client key. Before the
    first bind. Returns 0 or MU_EINVAL (secret too short, after bind). */
MU_EXPORT MU_NODISCARD int mu_server_set_secret(mu_server_t *self, const void *secret, size_t size);

/*  Accepts plaintext, unauthenticated clients. Never the default. Before
    the first bind. Returns 0 or MU_EINVAL (after bind). */
MU_EXPORT MU_NODISCARD int mu_server_set_insecure(mu_server_t *self);

/*  Heartbeat interval and timeout in ms (defaults 1000 and 5000): a peer
    heard from by no message and no ZeroMQ heartbeat for timeout_ms leaves.
    Before the first bind. Returns 0 or MU_EINVAL (interval < 10, timeout <
    interval, timeout > 6553500: ZeroMQ's heartbeat TTL limit). */
MU_EXPORT MU_NODISCARD int mu_server_set_heartbeat(mu_server_t *self, int interval_ms,
                                                   int timeout_ms);

/*  Largest message accepted from a peer (default 16 MiB + protocol
    overhead); bigger ones close that peer's connection (libzmq
    ZMQ_MAXMSGSIZE). Before the first bind. Returns 0 or MU_EINVAL. */
MU_EXPORT MU_NODISCARD int mu_server_set_max_message(mu_server_t *self, size_t bytes);

/*  Binds an endpoint: "tcp://host:port" (port 1..65535, or * or 0 for an
    ephemeral port) or "ipc://path"; may be called again for more
    endpoints. Returns the bound TCP port (1..65535: the one the system
    chose for * or 0), 0 for ipc://, or MU_EINVAL (no security chosen, bad
    endpoint: another transport, a port out of range or not a number),
    MU_EADDRINUSE (the address is taken), -EMFILE (the first bind: libzmq
    refuses a socket, its ZMQ_MAX_SOCKETS or the process's open-file limit
    being reached; nothing is left open, bind may be called again) or
    another bind error (-errno). */
MU_EXPORT MU_NODISCARD int mu_server_bind(mu_server_t *self, const char *endpoint);

/*  The endpoint actually bound by the index-th bind (a resolved port for
    tcp://...:*), or NULL. Valid while self lives. */
MU_EXPORT const char *mu_server_endpoint(const mu_server_t *self, size_t index);

/*  Does the server's work and returns the next event for the application
    in *event_p (caller destroys it with mu_event_destroy). Waits up to
    timeout_ms (0: do not wait; -1: forever). Returns 0, MU_EAGAIN (no
    event and timeout 0), MU_ETIMEDOUT (no event within timeout_ms > 0),
    MU_EINTR (a signal; czmq's handler set zsys_interrupted) or MU_EINVAL
    (not bound). */
MU_EXPORT MU_NODISCARD int mu_server_recv(mu_server_t *self, mu_event_t **event_p, int timeout_ms);

/*  Answers a MU_SERVER_REQUEST event with data (size bytes, copied).
    Returns 0, MU_EINVAL (not a request, or already answered),
    MU_EHOSTUNREACH (the peer has left) or MU_EAGAIN (the peer's queue is
    full: its high-water mark; try again later). */
MU_EXPORT MU_NODISCARD int mu_server_reply(mu_server_t *self, mu_event_t *request, const void *data,
                                           size_t size);

/*  Answers a request with an error: code (a negative MU_E* code) and a
    message (may be NULL); the client's call returns code (MU_EREMOTE when
    code is not a known error). Same returns as mu_server_reply. */
MU_EXPORT MU_NODISCARD int mu_server_reply_error(mu_server_t *self, mu_event_t *request, int code,
                                                 const char *message);

/*  Pushes a message to one peer. Returns 0, MU_EHOSTUNREACH (no such peer)
    or MU_EAGAIN (its queue is full). */
MU_EXPORT MU_NODISCARD int mu_server_push(mu_server_t *self, uint64_t peer, const void *data,
                                          size_t size);

/*  Pushes a message to every peer. Returns the number of peers it was
    queued to (>= 0); peers whose queue is full miss it and are not
    counted. */
MU_EXPORT int mu_server_push_all(mu_server_t *self, const void *data, size_t size);

/*  Sends one chunk of stream stream_id (chosen by the caller) to a peer;
    last = 1 ends the stream (the chunk may be empty). Order is kept. The
    client receives it with mu_client_recv as MU_CLIENT_STREAM. Returns as
    mu_server_push; on MU_EAGAIN nothing was sent: retry the same chunk. */
MU_EXPORT MU_NODISCARD int mu_server_stream_send(mu_server_t *self, uint64_t peer,
                                                 uint64_t stream_id, const void *data, size_t size,
                                                 int last);

/*  Copies the peer's 32-byte public key to public_key (zeros when the
    server is insecure). Returns 0 or MU_EHOSTUNREACH (no such peer). */
MU_EXPORT MU_NODISCARD int mu_server_peer_key(const mu_server_t *self, uint64_t peer,
                                              uint8_t *public_key);

/*  Reads the server's counters into *stats, whose size the caller set
    (mu_server_stats_t st = { .size = sizeof st }): the fields that fit
    are filled. Returns 0 or MU_EINVAL (size smaller than the first
    version of the struct). */
MU_EXPORT MU_NODISCARD int mu_server_stats(const mu_server_t *self, mu_server_stats_t *stats);

/*  Reads one peer's counters (size set as for mu_server_stats). Returns 0,
    MU_EHOSTUNREACH (no such peer) or MU_EINVAL (size too small). */
MU_EXPORT MU_NODISCARD int mu_server_peer_stats(const mu_server_t *self, uint64_t peer,
                                                mu_server_peer_stats_t *stats);

/*  Number of peers currently joined. */
MU_EXPORT size_t mu_server_peers(const mu_server_t *self);

/*  The file descriptor to poll for POLLIN (ZMQ_FD of the ROUTER:
    edge-triggered, so drain with timeout 0 after a wake-up), and the
    libzmq socket (void *, not a czmq zsock_t: for zmq_poll, zpoller or
    zloop, which take either). Also wake up at least every
    heartbeat interval, or use a timeout, so expiries are noticed. */
MU_EXPORT int mu_server_fd(const mu_server_t *self);
MU_EXPORT void *mu_server_zsock(const mu_server_t *self);

/*  Says bye to every peer, closes the sockets and frees everything; accepts
    NULL and *self_p NULL. Events the application still holds must have been
    destroyed before (see mu_event_destroy). */
MU_EXPORT void mu_server_destroy(mu_server_t **self_p);

/*  --- events --- */

/*  The event's kind. */
MU_EXPORT mu_event_kind_t mu_event_kind(const mu_event_t *self);

/*  The id of the peer the event is about or from. */
MU_EXPORT uint64_t mu_event_peer(const mu_event_t *self);

/*  The request's correlation id or the stream's id (0 for other kinds). */
MU_EXPORT uint64_t mu_event_id(const mu_event_t *self);

/*  The event's payload and its size (valid until mu_event_destroy). The
    payload is followed by a NUL byte not counted in *size_p. */
MU_EXPORT const void *mu_event_data(const mu_event_t *self, size_t *size_p);

/*  1 when a MU_SERVER_STREAM chunk ends its stream, else 0. */
MU_EXPORT int mu_event_last(const mu_event_t *self);

/*  Destroys an event; accepts NULL and *self_p NULL. A request destroyed
    without a reply is answered MU_EREMOTE "request dropped by the
    application" so the client does not wait for its timeout; the event
    answers through the server that made it, so destroy every event before
    that server (mu_server_destroy). */
MU_EXPORT void mu_event_destroy(mu_event_t **self_p);

#ifdef __cplusplus
}
#endif
#endif
