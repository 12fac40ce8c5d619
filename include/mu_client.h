/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_client.h — client of a mu_server: requests, pushes, streams (files:
    mu_files.h).

    A mu_client_t connects a ZeroMQ DEALER to one server endpoint (tcp:// or
    ipc://). Security must match the server's: mu_client_set_curve (the
    server's public key, and the client's own keypair), mu_client_set_secret
    (keys derived from the shared passphrase), or mu_client_set_insecure.

    Calls fail fast, without waiting for their timeout, when the connection
    cannot work: MU_EAUTH (the server refused our key), MU_EHANDSHAKE (a
    wrong server key or shared secret, or security modes that differ), and,
    until a first connection was made, MU_ECONNREFUSED (nothing listens at
    the endpoint) and MU_ENOHOST (the host name does not resolve). These
    hold until a handshake succeeds; to wait for a server that is starting,
    call mu_client_wait_ready. A server that does not answer at all still
    gives MU_ETIMEDOUT after the call's timeout.

    The connection is re-established with exponential backoff (100 ms
    doubling up to 5 s by default); after a reconnect the client repeats its
    hello. ZeroMQ heartbeats detect a dead server within the heartbeat
    timeout. A reply that arrives after its call timed out is discarded and
    counted. Pushes and stream chunks that arrive while a call waits are
    queued for mu_client_recv: up to 100,000 of them and 64 MiB of their
    payload, then the oldest are dropped and counted in dropped_events (a
    single larger one is kept alone), so a server flooding a client whose
    caller does not read costs it bounded memory.

    Errors: failing calls return a negative MU_E* code and record a detail
    for mu_last_error(); an error the server answered is recorded as
    "server: <its message>", so a refusal by the server can be told from a
    local failure with the same code. MU_EINTR: a caught signal
    interrupted the wait (any signal whose handler ran, not only czmq's,
    which sets zsys_interrupted: so that a Python caller's handler runs);
    the call is not retried, and a reply that comes after it is discarded
    and counted. NULL self or a required pointer is a caller bug (assert). Design: doc/conn.md; wire format: doc/wire.md.

    A client belongs to one thread. */
#ifndef MU_CLIENT_H_INCLUDED
#define MU_CLIENT_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include "mu_defs.h"
#include "mu_error.h"
#include "mu_keys.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mu_client_t mu_client_t;

/*  What mu_client_recv returns. */
typedef enum {
    MU_CLIENT_PUSH = 1, /* a message pushed by the server */
    MU_CLIENT_STREAM    /* a stream chunk from the server */
} mu_client_kind_t;

/*  Client counters (mu_client_stats). Set size = sizeof the struct first. */
typedef struct {
    size_t size;
    uint64_t msgs_in, msgs_out, bytes_in, bytes_out;
    uint64_t requests, replies, timeouts, late_replies;
    uint64_t reconnects, dropped_events;
} mu_client_stats_t;

/*  Creates a client; nothing is connected yet. NULL with errno ENOMEM. */
MU_EXPORT MU_NODISCARD mu_client_t *mu_client_new(void);

/*  CURVE: the server's public key (32 bytes) and the client's keypair
    (copied; NULL = a fresh random keypair, for servers that allow any).
    Before connect. Returns 0, MU_EINVAL (client_keys without a secret
    key, after connect) or MU_ENOMEM. */
MU_EXPORT MU_NODISCARD int mu_client_set_curve(mu_client_t *self, const uint8_t *server_public,
                                               const mu_keys_t *client_keys);

/*  CURVE with keys derived from a shared passphrase. Before connect.
    Returns 0 or MU_EINVAL (secret shorter than 8 bytes, after connect). */
MU_EXPORT MU_NODISCARD int mu_client_set_secret(mu_client_t *self, const void *secret, size_t size);

/*  Plaintext, unauthenticated. Before connect. Returns 0 or MU_EINVAL
    (after connect). */
MU_EXPORT MU_NODISCARD int mu_client_set_insecure(mu_client_t *self);

/*  Heartbeat interval and timeout in ms (defaults 1000 / 5000). Before
    connect. Returns 0 or MU_EINVAL (interval < 10, timeout < interval,
    timeout > 6553500). */
MU_EXPORT MU_NODISCARD int mu_client_set_heartbeat(mu_client_t *self, int interval_ms,
                                                   int timeout_ms);

/*  Reconnect backoff: first interval and maximum in ms (defaults 100 and
    5000). Before connect. Returns 0 or MU_EINVAL (initial < 1, max <
    initial). */
MU_EXPORT MU_NODISCARD int mu_client_set_reconnect(mu_client_t *self, int initial_ms, int max_ms);

/*  A name the server sees in the JOIN event (at most 255 bytes). Before
    connect. Returns 0 or MU_EINVAL (too long, after connect). */
MU_EXPORT MU_NODISCARD int mu_client_set_name(mu_client_t *self, const char *name);

/*  Connects to endpoint ("tcp://host:port", port 1..65535, or
    "ipc://path") and sends the hello; does not wait for the server.
    Returns 0, MU_EINVAL (no security chosen, bad endpoint: another
    transport, a port out of range or not a number; already connected),
    -EMFILE (libzmq refuses a socket: its ZMQ_MAX_SOCKETS or the process's
    open-file limit is reached; nothing is left open, connect may be
    called again), MU_ENOMEM or MU_EIO (czmq's context is ending). */
MU_EXPORT MU_NODISCARD int mu_client_connect(mu_client_t *self, const char *endpoint);

/*  Waits up to timeout_ms until the server has answered the hello. Returns
    0, MU_EAGAIN (not yet, timeout 0), MU_ETIMEDOUT, MU_EINTR, MU_EINVAL
    (not connected) or a connection
    failure (MU_EAUTH, MU_EHANDSHAKE, MU_ENOHOST, -EMFILE: the process had
    no file descriptor left for the connection, at once; MU_ECONNREFUSED
    only when the timeout expires with the endpoint still refusing: a
    server that is starting up is waited for). */
MU_EXPORT MU_NODISCARD int mu_client_wait_ready(mu_client_t *self, int timeout_ms);

/*  Sends a request and waits up to timeout_ms (-1: forever) for its reply.
    On success *reply_p is a malloc'd buffer (followed by a NUL byte not
    counted in *reply_size_p; caller frees). Returns 0, MU_ETIMEDOUT,
    a connection failure (MU_EAUTH, MU_EHANDSHAKE, MU_ECONNREFUSED,
    MU_ENOHOST: see above), MU_EAGAIN (timeout 0: no reply yet, or the
    request could not even be queued), MU_EINTR, MU_EINVAL (not
    connected), or the error the server
    answered (MU_EREMOTE or the server's MU_E* code; mu_last_error() holds
    "server: <its message>"). A request that reaches a server
    which does not know this client (restarted) is repeated once after a
    new hello. */
MU_EXPORT MU_NODISCARD int mu_client_request(mu_client_t *self, const void *data, size_t size,
                                             void **reply_p, size_t *reply_size_p, int timeout_ms);

/*  Sends a one-way message (MU_SERVER_MESSAGE at the server). Returns 0,
    MU_EAGAIN (queue full, timeout_ms 0), MU_ETIMEDOUT (still full after
    timeout_ms > 0), MU_EINVAL (not connected) or,
    when the queue is full because the connection failed, that failure
    (MU_EAUTH, MU_EHANDSHAKE, MU_ECONNREFUSED, MU_ENOHOST). */
MU_EXPORT MU_NODISCARD int mu_client_send(mu_client_t *self, const void *data, size_t size,
                                          int timeout_ms);

/*  Sends one chunk of stream stream_id (chosen by the caller; MU_SERVER_STREAM
    at the server, in order); last = 1 ends it. Returns 0, MU_EAGAIN or
    MU_ETIMEDOUT (queue full, as mu_client_send: nothing sent, retry the
    chunk), MU_EINVAL
    (not connected) or a connection failure (as mu_client_send). */
MU_EXPORT MU_NODISCARD int mu_client_stream_send(mu_client_t *self, uint64_t stream_id,
                                                 const void *data, size_t size, int last,
                                                 int timeout_ms);

/*  Receives the next push or stream chunk: *kind_p, *id_p (stream id; 0 for
    a push), *last_p (stream end), and a malloc'd payload in *data_p / *size_p
    (NUL-terminated, caller frees). Any pointer but data_p may be NULL.
    Waits up to timeout_ms. Returns 0, MU_EAGAIN (nothing and timeout 0),
    MU_ETIMEDOUT (nothing within timeout_ms > 0), MU_EINTR, MU_EINVAL (not
    connected) or a connection failure
    (MU_EAUTH, MU_EHANDSHAKE, MU_ECONNREFUSED, MU_ENOHOST: see above). */
MU_EXPORT MU_NODISCARD int mu_client_recv(mu_client_t *self, mu_client_kind_t *kind_p,
                                          uint64_t *id_p, int *last_p, void **data_p,
                                          size_t *size_p, int timeout_ms);

/*  Reads the counters into *stats, whose size the caller set
    (mu_client_stats_t st = { .size = sizeof st }): the fields that fit
    are filled. Returns 0 or MU_EINVAL (size smaller than the first
    version of the struct). */
MU_EXPORT MU_NODISCARD int mu_client_stats(const mu_client_t *self, mu_client_stats_t *stats);

/*  The fd to poll for POLLIN (ZMQ_FD: edge-triggered; drain
    mu_client_recv with timeout 0) and the libzmq socket (void *, not a
    czmq zsock_t: for zmq_poll, zpoller_add or zloop_reader, which take
    either); NULL before mu_client_connect. */
MU_EXPORT int mu_client_fd(const mu_client_t *self);
MU_EXPORT void *mu_client_zsock(const mu_client_t *self);

/*  Says bye, closes and frees; accepts NULL and *self_p NULL. */
MU_EXPORT void mu_client_destroy(mu_client_t **self_p);

#ifdef __cplusplus
}
#endif
#endif
