/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_socket_int.h — the smart socket's private state, shared by its
    parts. Never installed. The parts call each other only downwards:
      mu_socket.c          construction, options, bind/connect, recv
      mu_socket_send.c     sending, the local queue, the periodic tick
      mu_socket_read.c     reading and handling one incoming message
      mu_socket_reliable.c AT_LEAST_ONCE: copies in flight, resends,
                           receiver de-duplication, acks
      mu_socket_peers.c    the peer table, join/leave, events, heartbeats,
                           control messages
      mu_socket_actor.c    the optional background thread, socket options
                           for reconnect and high-water marks
    The contract and the wire format are in include/mu_socket.h. */
#ifndef MU_SOCKET_INT_H_INCLUDED
#define MU_SOCKET_INT_H_INCLUDED

#include "base/mu_internal.h"
#include "net/mu_socket_hello.h"
#include "net/mu_curve_side.h"
#include <czmq.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#define ID_BYTES MU_SOCKET_ID_BYTES
#define HELLO_ANSWER MU__HELLO_ANSWER
#define ACK_BATCH 128         /* ids per ACK message */
#define DEDUP_BITS (1u << 20) /* receiver de-duplication window */
#define INBOX_LIMIT 10000     /* messages read ahead while sending */
#define SLICE_MS 10           /* blocking-send slice */

typedef struct {
    uint8_t id[ID_BYTES];
    bool joined, ever_joined;
    uint64_t session; /* the peer's session (from HELLO) */
    int64_t last_recv;
    int64_t last_send; /* clock of the last DATA or PING sent to it */
    size_t ring_idx;
    /* de-duplication of the peer's RDATA ids, for dd_session */
    uint64_t dd_session, dd_base; /* ids < dd_base were delivered */
    uint64_t *dd_bits;            /* DEDUP_BITS bits, id & (DEDUP_BITS-1) */
    /* acks owed to the peer */
    uint64_t acks[ACK_BATCH];
    size_t nacks;
} peer_t;

typedef struct { /* an AT_LEAST_ONCE copy in flight */
    bool live;
    uint8_t peer[ID_BYTES];
    uint8_t *body; /* 'R' id payload */
    size_t len;
    int retries;
    int64_t due;
} pending_t;

typedef struct { /* a message or event waiting for recv */
    mu_socket_event_t event;
    uint8_t peer[ID_BYTES];
    zmq_msg_t body;  /* events: empty */
    size_t offset;   /* payload offset in body */
    uint64_t rel_id; /* RDATA id to ack on hand-out, 0 none */
} inbox_t;

typedef struct { /* a payload waiting for a peer */
    uint8_t *data;
    size_t size;
} queued_t;

struct mu_socket_t {
    void *handle; /* ROUTER (net/mu_zsocket.h) */
    uint8_t id[ID_BYTES];
    uint64_t session;
    mu_socket_mode_t mode;
    int hb_ivl, hb_timeout;
    size_t queue_limit;
    mu_socket_policy_t policy;
    int send_timeout;
    bool drop_unroutable, events;
    int sndtimeo_set, rcvtimeo_set; /* SNDTIMEO, RCVTIMEO on the socket now */

    zhashx_t *peers;   /* id -> peer_t (owned; kept after leave) */
    peer_t *last_peer; /* lookup cache */
    peer_t **ring;     /* joined peers in join order */
    size_t nring, ring_cap, cursor;

    /* receive */
    zmq_msg_t route, body;     /* the last message read directly */
    const uint8_t *route_data; /* zmq_msg_data of route and data and */
    const uint8_t *body_data;  /* size of body, kept by process_one */
    size_t body_size;          /* for the direct hand-out */
    zmq_msg_t scratch;         /* bodies read ahead (while sending) */
    bool cur_inbox;            /* handed out an inbox item */
    inbox_t cur;               /* that item */
    inbox_t *inbox;            /* ring */
    size_t in_head, in_len, in_cap;

    /* local queue while no peer is joined */
    queued_t *queue;
    size_t q_head, q_len;

    /* AT_LEAST_ONCE */
    bool reliable;
    int retries, resend_ms;
    size_t window;
    pending_t *pend;
    size_t pend_mask;
    uint64_t pbase, pnext; /* ids [pbase, pnext) may be live */
    int64_t next_resend;

    /* timers */
    int64_t now; /* clock read by the last maybe_tick */
    int64_t next_ping, next_due;
    bool in_tick, sending; /* re-entry guards */
    bool acks_owed;        /* some peer has acks to send */
    bool sent_any;         /* a send was made (queued or not) */
    unsigned sends;        /* mu_socket_send calls, for read-ahead */
    int64_t drained_at;    /* clock of the last read-ahead in send */

    mu__curve_side_t side; /* CURVE keys, the last endpoint bound */
    int rcvhwm;            /* ZMQ_RCVHWM asked by mu_socket_set_hwm */

    /* background thread (mu_socket_actor.c) */
    bool bg, bg_stop; /* bg: the thread runs, every call takes mu */
    pthread_t bg_thread;
    pthread_mutex_t mu;
    pthread_cond_t bg_wake;

    mu_socket_stats_t stats;
};

/* ---- small helpers (inline: on the hot paths) ----------------------- */

/* The coarse monotonic clock (cheap enough to read per message). */
static inline int64_t
mu__socket_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* errno of a failed libzmq call as a MU_E code. */
static inline int
mu__socket_zmq_error(void)
{
    if (errno == EAGAIN)
        return MU_EAGAIN;
    if (errno == EHOSTUNREACH)
        return MU_EHOSTUNREACH;
    if (errno == EINTR || errno == ETERM)
        return MU_EINTR;
    return -errno;
}

static inline void
mu__socket_set_int(mu_socket_t *self, int option, int value)
{
    (void) zmq_setsockopt(self->handle, option, &value, sizeof value);
}

/* The peer with identity id (joined or not), or NULL. */
static inline peer_t *
mu__socket_peer_find(mu_socket_t *self, const uint8_t *id)
{
    if (self->last_peer && memcmp(self->last_peer->id, id, ID_BYTES) == 0)
        return self->last_peer;
    peer_t *peer = zhashx_lookup(self->peers, id);
    if (peer)
        self->last_peer = peer;
    return peer;
}

/* A deadline for a timeout counted from now (a clock reading already
   taken, so the hot paths read the clock once): -1 none, 0 already passed. */
static inline int64_t
mu__socket_deadline(int64_t now, int timeout_ms)
{
    return timeout_ms < 0 ? -1 : timeout_ms == 0 ? 0 : now + timeout_ms;
}

/* Milliseconds left until deadline at the clock reading now. */
static inline int
mu__socket_remaining_at(int64_t deadline, int64_t now)
{
    if (deadline <= 0)
        return (int) deadline;
    int64_t left = deadline - now;
    return left > 0 ? (int) left : 0;
}

/* Takes and releases the socket's mutex when the background thread runs
   (only the owner thread changes bg, and only while it holds no lock). */
static inline void
mu__socket_lock(const mu_socket_t *self)
{
    if (self->bg)
        pthread_mutex_lock((pthread_mutex_t *) &self->mu);
}
static inline void
mu__socket_unlock(const mu_socket_t *self)
{
    if (self->bg)
        pthread_mutex_unlock((pthread_mutex_t *) &self->mu);
}

/* ---- mu_socket_actor.c ------------------------------------------------ */

/* Stops the background thread if it runs (mu_socket_destroy). */
void mu__socket_background_stop(mu_socket_t *self);

/* ---- mu_socket_peers.c ----------------------------------------------- */

/* Makes the (empty) peer table. Returns NULL when out of memory. */
zhashx_t *mu__socket_peers_new(void);
/* The peer with identity id, created (not joined) when new; NULL: ENOMEM. */
peer_t *mu__socket_peer_get(mu_socket_t *self, const uint8_t *id);
/* Joins peer under session (a different session: leaves first). Returns
   true when it joined now, false when it was joined already or out of
   memory. */
bool mu__socket_peer_join(mu_socket_t *self, peer_t *peer, uint64_t session);
/* Takes a joined peer out of the ring, counts and reports the leave. */
void mu__socket_peer_leave(mu_socket_t *self, peer_t *peer);
/* Sends routing id + body without waiting. Returns 0 or a MU_E code. */
int mu__socket_send_now(mu_socket_t *self, const uint8_t *id, const void *body, size_t len);
/* Sends a HELLO (flags: MU__HELLO_ANSWER or 0) to id; errors ignored. */
void mu__socket_send_hello(mu_socket_t *self, const uint8_t *id, int flags);
/* Sends PINGs when due and lets silent peers leave. */
void mu__socket_heartbeat(mu_socket_t *self, int64_t now);
/* A new slot at the end of the inbox (body initialised), or NULL. */
inbox_t *mu__socket_inbox_push(mu_socket_t *self);
/* Whether the inbox holds as much as it may read ahead. */
bool mu__socket_inbox_full(const mu_socket_t *self);

/* ---- mu_socket_reliable.c -------------------------------------------- */

/* Copies in flight (AT_LEAST_ONCE). */
static inline size_t
mu__socket_in_flight(const mu_socket_t *self)
{
    return (size_t) (self->pnext - self->pbase);
}
/* Registers a copy of data for peer_id: a new id in *id_p. NULL: ENOMEM. */
pending_t *mu__socket_pending_add(mu_socket_t *self, const uint8_t *peer_id, const void *data,
                                  size_t size, uint64_t *id_p);
/* Forgets the copy with id (acknowledged, failed or given up). */
void mu__socket_pending_done(mu_socket_t *self, uint64_t id);
/* Resends the copies that are due. */
void mu__socket_resend_due(mu_socket_t *self, int64_t now);
/* A peer joined again: its waiting copies are due now. */
void mu__socket_resend_to_joined(mu_socket_t *self, const peer_t *peer);
/* Frees the copies in flight. */
void mu__socket_pending_free(mu_socket_t *self);
/* Records a received id. Returns 1 if new, 0 if a duplicate, MU_ENOMEM. */
int mu__socket_dedup_check(peer_t *peer, uint64_t id);
/* Handles an ACK body. */
void mu__socket_on_ack(mu_socket_t *self, const uint8_t *body, size_t len);
/* Owes the peer an ack for id (sent in batches). */
void mu__socket_owe_ack(mu_socket_t *self, peer_t *peer, uint64_t id);
/* Sends the acks owed to peer; if its pipe is full they stay owed. */
void mu__socket_flush_acks(mu_socket_t *self, peer_t *peer);
/* mu__socket_flush_acks for every joined peer. */
void mu__socket_flush_all_acks(mu_socket_t *self);

/* ---- mu_socket_read.c ------------------------------------------------ */

/* Reads and handles one message, waiting up to wait_ms for it. direct: a
   DATA message stays in self->body/route for the caller (returns 1);
   otherwise it is moved to the inbox. Returns 1 (data ready in self->body),
   0 (handled), MU_EAGAIN (nothing to read) or another MU_E code. */
int mu__socket_process_one(mu_socket_t *self, bool direct, int wait_ms);
/* Reads ahead into the inbox until nothing is left or it is full. */
void mu__socket_drain_incoming(mu_socket_t *self);

/* ---- mu_socket_send.c ------------------------------------------------ */

/* The periodic work (drain, heartbeats, acks, resends, queue flush) at
   clock now; then self->now is the clock after it. */
void mu__socket_do_tick(mu_socket_t *self, int64_t now);

/* Reads the clock and does the periodic work if due. Returns the clock
   read on entry; self->now is the clock after the work. Inline: on every
   send and receive it is one clock read and one test. */
static inline int64_t
mu__socket_maybe_tick(mu_socket_t *self)
{
    int64_t now = self->now = mu__socket_now();
    if (now >= self->next_due && !self->in_tick)
        mu__socket_do_tick(self, now);
    return now;
}

#endif
