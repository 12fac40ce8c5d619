/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_client.h — client of a mu_server: requests, pushes, streams, files.

    A mu_client_t connects a ZeroMQ DEALER to one server endpoint (tcp:// or
    ipc://). Security must match the server's: mu_client_set_curve (the
    server's public key, and the client's own keypair), mu_client_set_secret
    (keys derived from the shared passphrase), or mu_client_set_insecure.

    Calls fail fast, without waiting for their timeout, when the connection
    cannot work: MU_EAUTH (the server refused our key), MU_EHANDSHAKE (the
    handshake failed: a wrong server key or shared secret, or security modes
    that differ), and, until a first connection was made, MU_ECONNREFUSED
    (nothing listens at the endpoint: server down, wrong port or ipc path)
    and MU_ENOHOST (the host name does not resolve). These hold until a
    handshake succeeds (libzmq keeps trying in the background); to wait
    for a server that is starting, call mu_client_wait_ready. A server
    that does not answer at all (a filtered port, a frozen process) still
    gives MU_ETIMEDOUT after the call's timeout.

    The connection is re-established by libzmq with exponential backoff
    (100 ms doubling up to 5 s by default); after a reconnect the client
    repeats its hello, so a restarted server knows it again. ZeroMQ
    heartbeats detect a dead server within the heartbeat timeout.

    Requests carry a 64-bit correlation id; a reply that arrives after its
    call timed out is discarded and counted. Pushes and stream chunks from
    the server that arrive while a call waits for its reply are queued (up
    to 100,000 events, then the oldest are dropped and counted) and returned
    by mu_client_recv.

    Files. mu_client_get downloads REMOTE (relative to the server's root) to
    LOCAL; mu_client_put uploads. Chunks (default 256 KiB) flow against a
    window of credit (default 8 chunks); the receiver writes LOCAL.part-XXXXXX
    in LOCAL's directory, fsyncs it, checks the BLAKE2b-256 digest of the
    whole file and renames it into place. A download interrupted by a lost
    connection or a restarted server resumes from the bytes already written
    (kept while the call runs) until the call's timeout expires. With
    MU_FILE_RESUME, a partial file LOCAL.partial left by an earlier failed
    call is continued. A digest mismatch gives MU_EDIGEST and keeps nothing.

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
    MU_CLIENT_PUSH = 1,  /* a message pushed by the server */
    MU_CLIENT_STREAM     /* a stream chunk from the server */
} mu_client_kind_t;

/*  Client counters. */
typedef struct {
    uint64_t msgs_in, msgs_out, bytes_in, bytes_out;
    uint64_t requests, replies, timeouts, late_replies;
    uint64_t reconnects, dropped_events;
} mu_client_stats_t;

/*  Progress of a file transfer: bytes done so far of total. Return 0 to go
    on, non-zero to cancel (the call then returns MU_EINTR). */
typedef int mu_progress_fn(uint64_t done, uint64_t total, void *arg);

/*  Options of mu_client_get / mu_client_put (NULL: defaults). */
typedef struct {
    size_t chunk_size;          /* bytes per chunk; 0 = 256 KiB; max 4 MiB */
    unsigned window;            /* chunks in flight; 0 = 8 */
    int timeout_ms;             /* whole transfer, -1 = none; 0 = 60 s */
    int flags;                  /* MU_FILE_* */
    mu_progress_fn *progress;   /* may be NULL */
    void *progress_arg;
} mu_file_options_t;

#define MU_FILE_RESUME 1      /* continue LOCAL.partial (get) */
#define MU_FILE_OVERWRITE 2   /* replace an existing destination */

/*  Creates a client; nothing is connected yet. NULL with errno ENOMEM. */
MU_EXPORT mu_client_t *mu_client_new(void);

/*  CURVE: the server's public key (32 bytes) and the client's keypair
    (copied; NULL = a fresh random keypair, for servers that allow any).
    Before connect. Returns 0, MU_EINVAL (server_public NULL, client_keys
    without a secret key, after connect) or MU_ENOMEM. */
MU_EXPORT MU_NODISCARD int mu_client_set_curve(mu_client_t *self, const uint8_t *server_public,
                                               const mu_keys_t *client_keys);

/*  CURVE with keys derived from a shared passphrase. Before connect.
    Returns 0 or MU_EINVAL (secret shorter than 8 bytes, after connect). */
MU_EXPORT MU_NODISCARD int mu_client_set_secret(mu_client_t *self, const void *secret,
                                                size_t size);

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
MU_EXPORT MU_NODISCARD int mu_client_set_reconnect(mu_client_t *self, int initial_ms,
                                                   int max_ms);

/*  A name the server sees in the JOIN event (at most 255 bytes). Before
    connect. Returns 0 or MU_EINVAL (NULL, too long, after connect). */
MU_EXPORT MU_NODISCARD int mu_client_set_name(mu_client_t *self, const char *name);

/*  Connects to endpoint ("tcp://host:port", port 1..65535, or
    "ipc://path") and sends the hello; does not wait for the server.
    Returns 0, MU_EINVAL (no security chosen, bad endpoint: another
    transport, a port out of range or not a number; already connected). */
MU_EXPORT MU_NODISCARD int mu_client_connect(mu_client_t *self, const char *endpoint);

/*  Waits up to timeout_ms until the server has answered the hello. Returns
    0, MU_ETIMEDOUT, MU_EINTR, MU_EINVAL (not connected) or a connection
    failure (MU_EAUTH, MU_EHANDSHAKE, MU_ENOHOST at once; MU_ECONNREFUSED
    only when the timeout expires with the endpoint still refusing: a
    server that is starting up is waited for). */
MU_EXPORT MU_NODISCARD int mu_client_wait_ready(mu_client_t *self, int timeout_ms);

/*  Sends a request and waits up to timeout_ms (-1: forever) for its reply.
    On success *reply_p is a malloc'd buffer (followed by a NUL byte not
    counted in *reply_size_p; caller frees). Returns 0, MU_ETIMEDOUT,
    a connection failure (MU_EAUTH, MU_EHANDSHAKE, MU_ECONNREFUSED,
    MU_ENOHOST: see above), MU_EAGAIN (cannot even queue the
    request), MU_EINTR, MU_EINVAL (not connected, reply_p NULL), or the
    error the server answered (MU_EREMOTE or the server's MU_E* code; its
    message is in mu_client_last_error). A request that reaches a server
    which does not know this client (restarted) is repeated once after a
    new hello. */
MU_EXPORT MU_NODISCARD int mu_client_request(mu_client_t *self, const void *data, size_t size,
                                             void **reply_p, size_t *reply_size_p,
                                             int timeout_ms);

/*  The server's message when the last mu_client_request, mu_client_get
    or mu_client_put on this thread failed with an error the server sent
    (thread-local). "" when that call succeeded or failed on this side
    (a timeout, a connection failure, a local file error): so a caller
    can tell a refusal by the server from a local failure with the same
    code (MU_ENOENT, MU_EACCES...). */
MU_EXPORT const char *mu_client_last_error(void);

/*  Sends a one-way message (MU_SERVER_MESSAGE at the server). Returns 0,
    MU_EAGAIN (queue full after timeout_ms), MU_EINVAL (not connected) or,
    when the queue is full because the connection failed, that failure
    (MU_EAUTH, MU_EHANDSHAKE, MU_ECONNREFUSED, MU_ENOHOST). */
MU_EXPORT MU_NODISCARD int mu_client_send(mu_client_t *self, const void *data, size_t size,
                                          int timeout_ms);

/*  Sends one chunk of stream stream_id (chosen by the caller; MU_SERVER_STREAM
    at the server, in order); last = 1 ends it. Returns 0, MU_EAGAIN
    (queue full after timeout_ms: nothing sent, retry the chunk), MU_EINVAL
    (not connected) or a connection failure (as mu_client_send). */
MU_EXPORT MU_NODISCARD int mu_client_stream_send(mu_client_t *self, uint64_t stream_id,
                                                 const void *data, size_t size, int last,
                                                 int timeout_ms);

/*  Receives the next push or stream chunk: *kind_p, *id_p (stream id; 0 for
    a push), *last_p (stream end), and a malloc'd payload in *data_p / *size_p
    (NUL-terminated, caller frees). Any pointer but data_p may be NULL.
    Waits up to timeout_ms. Returns 0, MU_EAGAIN (timeout), MU_EINTR,
    MU_EINVAL (not connected, data_p NULL) or a connection failure
    (MU_EAUTH, MU_EHANDSHAKE, MU_ECONNREFUSED, MU_ENOHOST: see above). */
MU_EXPORT MU_NODISCARD int mu_client_recv(mu_client_t *self, mu_client_kind_t *kind_p,
                                          uint64_t *id_p, int *last_p, void **data_p,
                                          size_t *size_p, int timeout_ms);

/*  Downloads remote to local (see above). Returns 0, MU_ENOENT, MU_EACCES,
    MU_EINVAL (bad path), MU_EISDIR, MU_EEXIST (local exists and no
    MU_FILE_OVERWRITE), MU_EDIGEST, MU_ETIMEDOUT, a connection failure
    (as mu_client_request), MU_EINTR (cancelled by progress, or a signal
    handler set zsys_interrupted), MU_EIO (the file changed on the server while it was sent),
    MU_EAGAIN (the server already runs 32 transfers for this client), or
    -errno of a local write (MU_ENOSPC, MU_EFBIG...); on error
    no file is left at local (nor a temp file; with MU_FILE_RESUME the
    bytes received are kept in local.partial). Sets SIGXFSZ to SIG_IGN
    (process-wide) when its disposition is the default, so a write past
    RLIMIT_FSIZE gives MU_EFBIG instead of killing the process; a handler
    or SIG_IGN the application set is kept. */
MU_EXPORT MU_NODISCARD int mu_client_get(mu_client_t *self, const char *remote,
                                         const char *local, const mu_file_options_t *options);

/*  Uploads local to remote. Returns like mu_client_get (errors of the
    server's writing come back as its codes, e.g. MU_ENOSPC, MU_EFBIG). */
MU_EXPORT MU_NODISCARD int mu_client_put(mu_client_t *self, const char *local,
                                         const char *remote, const mu_file_options_t *options);

/*  Reads the counters. */
MU_EXPORT void mu_client_stats(const mu_client_t *self, mu_client_stats_t *stats);

/*  The fd to poll for POLLIN (ZMQ_FD: edge-triggered; drain
    mu_client_recv with timeout 0) and the zsock_t as void *. */
MU_EXPORT int mu_client_fd(const mu_client_t *self);
MU_EXPORT void *mu_client_zsock(const mu_client_t *self);

/*  Says bye, closes and frees; accepts NULL and *self_p NULL. */
MU_EXPORT void mu_client_destroy(mu_client_t **self_p);

#ifdef __cplusplus
}
#endif
#endif
