/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_ulink.h — private: the local link between runners of one flow
    on one machine (mu_flow_ulink.c): records over AF_UNIX stream sockets
    in the flow's directory, written and read by the runners' own threads
    (no ZeroMQ, no I/O thread). Wire format: doc/wire.md, "Local links";
    design: doc/flow.md, "Local links". Never installed. */
#ifndef MU_FLOW_ULINK_H_INCLUDED
#define MU_FLOW_ULINK_H_INCLUDED

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  The flow's secret a runner proves in its hello record (one per flow,
    drawn when it starts): a connection whose first record is not that
    hello is not one of the flow's runners. */
#define MU__ULINK_TOKEN 16

/*  The largest record (a message, with its type byte): a larger one is
    refused by the sender (MU_EMSGSIZE) and is an error at the receiver. */
#define MU__ULINK_MAX_RECORD (64u << 20)

/*  How long a sender waits between connection attempts to a receiver that
    is not there (yet, or again after a restart). */
#define MU__ULINK_RECONNECT_MS 10

/*  A receiver's read buffer per connection: records up to this size are
    read in place; a larger one gets a buffer of its own size, given back
    once it is taken. */
#define MU__ULINK_READ_BUF 65536

typedef struct mu__ulink_out_t mu__ulink_out_t;
typedef struct mu__ulink_in_t mu__ulink_in_t;

/*  Called for each malformed input (what: its kind, size: bytes
    concerned) just before its connection is closed. */
typedef void mu__ulink_bad_fn(void *ctx, const char *what, size_t size);

/* ---- sending side: one link to one receiver ------------------------------- */

/*  A link to the receiver bound at path (copied; it need not exist yet),
    proving token (MU__ULINK_TOKEN bytes) and sending index in its hello.
    queue_bytes bounds the records queued (see mu__ulink_put). NULL when
    out of memory. Connects at the first flush. */
mu__ulink_out_t *mu__ulink_out_new(const char *path, const uint8_t *token, uint32_t index,
                                   size_t queue_bytes);

/*  Closes the connection and frees the link (queued records are lost);
    *o becomes NULL (no-op when NULL). */
void mu__ulink_out_destroy(mu__ulink_out_t **o);

/*  Queues one record of size bytes (size 0: none, only ends a sequence).
    more: another record of the same sequence (a batch) follows, so the
    queue is not written yet; without more, everything queued is written
    now (as far as the socket takes it, the rest later: mu__ulink_flush).
    The bound applies to a sequence's first record only: MU_EAGAIN, nothing
    queued, when queue_bytes or more are queued; the rest of a sequence is
    always taken, so the queue holds at most queue_bytes plus one sequence.
    0, MU_EAGAIN, MU_EMSGSIZE (over MU__ULINK_MAX_RECORD), MU_ENOMEM (those
    two end the sequence: its next record is a first one). */
int mu__ulink_put(mu__ulink_out_t *o, const void *data, size_t size, bool more);

/*  mu__ulink_put without more (the record ends its sequence), but not
    written yet: the next mu__ulink_flush (or put without more) writes it.
    Lets a sender gather several sequences into one write. */
int mu__ulink_put_held(mu__ulink_out_t *o, const void *data, size_t size);

/*  Whether a sequence's first record would be queued now. */
bool mu__ulink_room(const mu__ulink_out_t *o);

/*  Writes what is queued (never waits), connecting first when not
    connected and an attempt is due (now_ms: mu__now_ms). A connection
    that fails (the receiver died) is closed: the record it was in the
    middle of is dropped (counted, mu__ulink_out_lost), the records not
    begun stay queued for the next connection. */
void mu__ulink_flush(mu__ulink_out_t *o, int64_t now_ms);

/*  Connects now when not connected (whenever an attempt is due or not;
    a failed one makes the next due MU__ULINK_RECONNECT_MS later).
    Returns whether the link is connected. */
bool mu__ulink_connect(mu__ulink_out_t *o, int64_t now_ms);

/*  Whether records wait to be written. */
bool mu__ulink_pending(const mu__ulink_out_t *o);

/*  What to wait for before the next mu__ulink_flush: fills *p with the
    socket and POLLOUT when queued bytes wait for room (fd -1: nothing to
    wait for on a socket) and returns the ms until a connection attempt
    is due (0: now), or -1 when none is. */
int mu__ulink_out_poll(const mu__ulink_out_t *o, struct pollfd *p, int64_t now_ms);

/*  Records dropped because their connection failed in their middle. */
uint64_t mu__ulink_out_lost(const mu__ulink_out_t *o);

/*  Of those, the ones dropped since the last call (for the runner's
    error count). */
uint64_t mu__ulink_out_take_lost(mu__ulink_out_t *o);

/*  Whether the link is connected now (tests). */
bool mu__ulink_connected(const mu__ulink_out_t *o);

/* ---- receiving side: one socket, many senders --------------------------- */

/*  Binds and listens at path (an existing file there is removed first),
    expecting hellos with token; accepts at most max_conns connections at
    once. bad(ctx, ...) is told of each malformed input. NULL with errno
    set on failure. */
mu__ulink_in_t *mu__ulink_in_new(const char *path, const uint8_t *token, int max_conns,
                                 mu__ulink_bad_fn *bad, void *ctx);

/*  Closes every connection and the socket (the file stays); *in becomes
    NULL (no-op when NULL). */
void mu__ulink_in_destroy(mu__ulink_in_t **in);

/*  A descriptor that polls readable when a connection waits to be
    accepted or a connection has bytes to read (an epoll descriptor). */
int mu__ulink_in_fd(const mu__ulink_in_t *in);

/*  The next record from any sender, taken in turn from each connection
    that has one (fair: a busy sender cannot starve another; the sockets
    are read again at least every few records): 0 with *data, *size (valid
    until the next call), or -1 when none is there now (never waits).
    Accepts new connections, closes those that end or send malformed
    input (bad is told; a record cut short by an end counts too). */
int mu__ulink_recv(mu__ulink_in_t *in, const void **data, size_t *size);

/*  Connections open now (tests). */
int mu__ulink_in_conns(const mu__ulink_in_t *in);

#endif
