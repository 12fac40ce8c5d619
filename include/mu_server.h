/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_server.h — authenticated server: requests, pushes, streams and files.

    A mu_server_t binds a ZeroMQ ROUTER on one or more tcp:// or ipc://
    endpoints; clients (mu_client.h) connect DEALERs. Security is CURVE unless
    the caller explicitly asks for plaintext (mu_server_set_insecure):
      - mu_server_set_curve: the server's keypair + an allow-list of client
        public keys (mu_keys.h; "allow any" only via mu_allow_new_any);
      - mu_server_set_secret: both keypairs derived from a shared passphrase;
        only clients that know it get in.
    Unauthenticated peers are refused during the CURVE handshake (a ZAP
    handler shared by the process); they are counted in auth_failures and
    logged with their address (escaped, at most one line a second, the
    others counted); the application never sees them.

    Driving the server. All work — accepting peers, heartbeats, expiring
    dead peers, serving file chunks — happens inside mu_server_recv, on the
    caller's thread: call it in a loop (or when mu_server_fd/zsock polls
    readable, then with timeout 0 until MU_EAGAIN). A server whose owner does
    not call mu_server_recv answers nobody. mu_server_recv returns only the
    events the application must see: peers joining and leaving, requests,
    one-way messages and stream chunks.

    Peers. Each connection that completes the protocol hello is a peer with
    a 64-bit id, unique for the server's life, the client's 32-byte CURVE
    public key (all zero when insecure) and its transport address. A peer
    leaves when it says bye, when its connection drops, or when nothing is
    heard from it for the heartbeat timeout (ZeroMQ heartbeats keep an idle
    but live connection alive): MU_SERVER_LEAVE then comes within that
    timeout. (Implementation: a dropped connection is seen through a
    zmq_socket_monitor; the ZeroMQ heartbeat timeout is what drops a silent
    peer, so an idle client that still answers heartbeats never leaves.)

    Files. With mu_server_set_root, clients may download and upload files
    below that directory (mu_client_get/mu_client_put); this is handled
    inside mu_server_recv and never shows up as an event. Paths are relative
    to the root; absolute paths, ".." components, embedded NULs, paths over
    1024 bytes and symlinks that leave the root are refused (MU_EACCES or
    MU_EINVAL at the client). An upload's missing directories below the
    root are created (mode 0755, as mkdir -p), under the same rules: each
    new directory is made and opened relative to its parent's descriptor
    without following links, so a link or a directory swapped in during
    the creation cannot lead outside the root; a component that is not a
    directory gives MU_ENOTDIR. Uploads are written to a temporary file in
    the target directory, fsync'ed, checked against the BLAKE2b digest the
    client sends, and renamed into place; a failing write (disk full,
    RLIMIT_FSIZE) removes the temporary file and answers its error
    (MU_ENOSPC, MU_EFBIG), and the server keeps serving. Signals: a write
    past RLIMIT_FSIZE raises SIGXFSZ, whose default action kills the
    process; mu_server_set_root therefore sets SIGXFSZ to SIG_IGN when its
    disposition is the default (a handler or SIG_IGN the application set is
    kept: a handler must return for the write to fail with EFBIG). Chunks
    are sent only against credit the receiver grants (a window of chunks),
    and each mu_server_recv call serves a bounded number of chunks per
    transfer, so one client's large transfer never stalls the others.
    The file data the server has read but libzmq has not yet written out
    is bounded by two byte budgets (mu_server_set_transfer_budget): one
    per peer and one for the whole server, so clients that open downloads
    and never read cannot make the server's memory grow past them. Past a
    budget a download waits (it is never failed for it) and resumes when
    bytes drain; mu_server_recv wakes up for that by itself, an
    application polling mu_server_fd resumes it at its next call.

    Bad input from an authenticated peer (a malformed protocol message) gets
    an error reply and is counted in protocol_errors; the connection stays.

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
    MU_SERVER_JOIN = 1,  /* a peer completed the hello; data = its name */
    MU_SERVER_LEAVE,     /* a peer said bye, dropped, or timed out */
    MU_SERVER_REQUEST,   /* a request: answer with mu_server_reply(_error) */
    MU_SERVER_MESSAGE,   /* a one-way message (mu_client_send) */
    MU_SERVER_STREAM     /* a chunk of a stream; mu_event_last() on the end */
} mu_event_kind_t;

/*  Per-peer or whole-server counters. */
typedef struct {
    uint64_t msgs_in, msgs_out;     /* protocol messages received / sent */
    uint64_t bytes_in, bytes_out;   /* payload bytes received / sent */
    uint64_t auth_failures;         /* refused handshakes (server total only) */
    uint64_t protocol_errors;       /* malformed messages answered with errors */
    uint64_t peers_joined, peers_left; /* (server total only) */
    uint64_t files_sent, files_received;
} mu_server_stats_t;

/*  Creates a server with no endpoint and no security chosen yet. Returns
    NULL with errno ENOMEM. */
MU_EXPORT mu_server_t *mu_server_new(void);

/*  Uses CURVE with the server's keypair (must have its secret key) and the
    client allow-list (both copied). Before the first bind. Returns 0 or
    MU_EINVAL (no secret key, called after bind). */
MU_EXPORT MU_NODISCARD int mu_server_set_curve(mu_server_t *self, const mu_keys_t *keys,
                                               const mu_allow_t *allow);

/*  Uses CURVE with keys derived from a shared passphrase (mu_keys.h):
    the server keypair, and an allow-list of the one client key. Before the
    first bind. Returns 0 or MU_EINVAL (secret too short, after bind). */
MU_EXPORT MU_NODISCARD int mu_server_set_secret(mu_server_t *self, const void *secret,
                                                size_t size);

/*  Accepts plaintext, unauthenticated clients. Never the default. Before
    the first bind. Returns 0 or MU_EINVAL (after bind). */
MU_EXPORT MU_NODISCARD int mu_server_set_insecure(mu_server_t *self);

/*  Serves files below dir (which must exist and be a directory). Sets
    SIGXFSZ to SIG_IGN (process-wide) when its disposition is the default,
    so uploads past RLIMIT_FSIZE fail with MU_EFBIG instead of killing the
    process (see Files above). Returns 0, MU_ENOENT, MU_ENOTDIR or
    MU_EACCES. */
MU_EXPORT MU_NODISCARD int mu_server_set_root(mu_server_t *self, const char *dir);

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

/*  Bounds the file data queued for sending (read, not yet written out by
    libzmq): per_peer_bytes for one peer's downloads together,
    per_server_bytes for all peers (defaults 64 MiB and 512 MiB). A
    download that would pass either waits until bytes drain; a peer or
    server with nothing queued still takes one chunk, so a chunk larger
    than a budget moves too, one at a time. Any time; applies to the next
    chunk. Returns 0 or MU_EINVAL (a budget of 0, per_peer_bytes >
    per_server_bytes). */
MU_EXPORT MU_NODISCARD int mu_server_set_transfer_budget(mu_server_t *self,
                                                         size_t per_peer_bytes,
                                                         size_t per_server_bytes);

/*  Binds an endpoint: "tcp://host:port" (port 1..65535, or * or 0 for an
    ephemeral port) or "ipc://path". Returns 0, MU_EINVAL (no security
    chosen, bad endpoint: another transport, a port out of range or not a
    number), or the bind error (-errno, e.g. MU_EADDRINUSE is reported as
    -EADDRINUSE). */
MU_EXPORT MU_NODISCARD int mu_server_bind(mu_server_t *self, const char *endpoint);

/*  The endpoint actually bound by the index-th bind (a resolved port for
    tcp://...:*), or NULL. Valid while self lives. */
MU_EXPORT const char *mu_server_endpoint(const mu_server_t *self, size_t index);

/*  Does the server's work and returns the next event for the application
    in *event_p (caller destroys it with mu_event_destroy). Waits up to
    timeout_ms (0: do not wait; -1: forever). Returns 0, MU_EAGAIN (timeout,
    no event), MU_EINTR (a signal; czmq's handler set zsys_interrupted) or
    MU_EINVAL. */
MU_EXPORT MU_NODISCARD int mu_server_recv(mu_server_t *self, mu_event_t **event_p,
                                          int timeout_ms);

/*  Answers a MU_SERVER_REQUEST event with data (size bytes, copied).
    Returns 0, MU_EINVAL (not a request, or already answered),
    MU_EHOSTUNREACH (the peer has left) or MU_EAGAIN (the peer's queue is
    full: its high-water mark; try again later). */
MU_EXPORT MU_NODISCARD int mu_server_reply(mu_server_t *self, mu_event_t *request,
                                           const void *data, size_t size);

/*  Answers a request with an error: code (a negative MU_E* code) and a
    message (may be NULL); the client's call returns code (MU_EREMOTE when
    code is not a known error). Same returns as mu_server_reply. */
MU_EXPORT MU_NODISCARD int mu_server_reply_error(mu_server_t *self, mu_event_t *request,
                                                 int code, const char *message);

/*  Pushes a message to one peer. Returns 0, MU_EHOSTUNREACH (no such peer)
    or MU_EAGAIN (its queue is full). */
MU_EXPORT MU_NODISCARD int mu_server_push(mu_server_t *self, uint64_t peer,
                                          const void *data, size_t size);

/*  Pushes a message to every peer. Returns the number of peers it was
    queued to (>= 0); peers whose queue is full miss it and are not
    counted. */
MU_EXPORT int mu_server_push_all(mu_server_t *self, const void *data, size_t size);

/*  Sends one chunk of stream stream_id (chosen by the caller) to a peer;
    last = 1 ends the stream (the chunk may be empty). Order is kept. The
    client receives it with mu_client_recv as MU_CLIENT_STREAM. Returns as
    mu_server_push; on MU_EAGAIN nothing was sent: retry the same chunk. */
MU_EXPORT MU_NODISCARD int mu_server_stream_send(mu_server_t *self, uint64_t peer,
                                                 uint64_t stream_id, const void *data,
                                                 size_t size, int last);

/*  Copies the peer's 32-byte public key to public_key (zeros when the
    server is insecure). Returns 0 or MU_EHOSTUNREACH (no such peer). */
MU_EXPORT MU_NODISCARD int mu_server_peer_key(const mu_server_t *self, uint64_t peer,
                                              uint8_t *public_key);

/*  Reads one peer's counters (peer != 0) or the server's totals (peer ==
    0). Returns 0 or MU_EHOSTUNREACH. */
MU_EXPORT MU_NODISCARD int mu_server_stats(const mu_server_t *self, uint64_t peer,
                                           mu_server_stats_t *stats);

/*  Number of peers currently joined. */
MU_EXPORT size_t mu_server_peers(const mu_server_t *self);

/*  The file descriptor to poll for POLLIN (ZMQ_FD of the ROUTER:
    edge-triggered, so drain with timeout 0 after a wake-up), and the
    zsock_t (as void *) for zpoller/zloop. Also wake up at least every
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
