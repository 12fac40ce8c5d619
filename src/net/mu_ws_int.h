/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_ws_int.h — private to the WebSocket endpoint (mu_ws*.c): the
    endpoint, its clients, its shared messages and its event queue. Never
    installed. doc/ws.md has the design (threads, queues, flow control).

    Who touches what. The owner thread (mu__ws_send, _close, _recv, ...)
    and the service thread (the lws callbacks) share the client table, the
    clients' send queues, the dirty list and the counters, all under
    mu__ws_t.lock; the event queue has a lock of its own. Fields marked
    "service" are the service thread's alone (lws handles, the message
    being assembled), and a client is freed only by the service thread, so
    it may use a client it found in the table after dropping the lock. */
#ifndef MU_WS_INT_H_INCLUDED
#define MU_WS_INT_H_INCLUDED

#include "net/mu_ws.h"
#include "base/mu_log_limit.h"
#include "base/mu_sync.h"
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>

/*  Largest payload of one frame written: a longer message goes out as a
    fragmented message, one frame per writable callback. */
#define MU__WS_CHUNK 16384
/*  Room lws may need for a frame header (at most 14 bytes) on top of a
    chunk, so that one lws_write is one send(). */
#define MU__WS_TX_PACKET (MU__WS_CHUNK + 16)
/*  The longest close reason a close frame carries (125 - the code). */
#define MU__WS_REASON_MAX 123

struct mu__ws_msg_t {
    atomic_size_t refs;
    /* The one endpoint allowed to write the message in place (lws writes
       the frame header into the headroom); the others copy. */
    _Atomic(const void *) writer;
    size_t size;
    bool binary;
    unsigned char buf[]; /* LWS_PRE headroom, size bytes, a NUL */
};

/*  The payload of msg. */
static inline unsigned char *
mu__ws_msg_data(mu__ws_msg_t *msg)
{
    return msg->buf + LWS_PRE;
}

/*  Takes one more reference on msg; returns it. */
mu__ws_msg_t *mu__ws_msg_ref(mu__ws_msg_t *msg);

/*  One event waiting in the queue, its data inline. */
typedef struct mu__ws_ev_t {
    struct mu__ws_ev_t *next;
    mu__ws_kind_t kind;
    uint64_t client;
    size_t size; /* bytes of data */
    size_t cap;  /* bytes allocated for data (a NUL included) */
    unsigned char data[];
} mu__ws_ev_t;

/*  The inbound queue: the service thread pushes, the owner pops. */
typedef struct {
    pthread_mutex_t lock;
    int fd;      /* eventfd, readable while events wait */
    bool raised; /* fd's state (mu__level_fd_sync) */
    mu__ws_ev_t *head, *tail;
    size_t bytes;      /* data bytes waiting, plus a fixed cost per event */
    size_t max;        /* event_max */
    bool paused;       /* reading was paused for a full queue */
    mu__ws_ev_t *last; /* the event mu__ws_recv handed out last */
} mu__ws_events_t;

/*  One connected client (connect mode: the connection). */
typedef struct mu__ws_client_t {
    uint64_t id;
    struct mu__ws_client_t *next; /* in its table bucket */
    struct lws *wsi;              /* service */
    /* The send queue, oldest first: a ring of references (mu__ws_msg_t *),
       allocated at the first message. */
    mu__ring_t queue;
    size_t queued;     /* bytes of the queued messages */
    size_t head_sent;  /* bytes of the oldest already written */
    uint64_t head_seq; /* bumped whenever the oldest leaves the queue */
    bool head_busy;    /* the service thread is writing (part of) the oldest */
    bool dirty;        /* in the endpoint's dirty list */
    struct mu__ws_client_t *dirty_prev, *dirty_next;
    bool closing;   /* closed or being closed: no more sends */
    bool slow;      /* closed for a full queue (DISCONNECT) */
    bool killing;   /* service: the slow close has been started */
    bool oversized; /* service: closed for a message over max_message */
    bool paused;    /* service: not read from for a full event queue */
    int close_code;
    size_t reason_len;
    char reason[MU__WS_REASON_MAX + 1];
    /* Inbound (service): the message being assembled. */
    mu__ws_ev_t *rx;
    bool rx_active;
    int64_t valid_ms; /* service: last sign of life (handshake, pong) */
} mu__ws_client_t;

/*  The client table: chained buckets keyed by id. */
typedef struct {
    mu__ws_client_t **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;
} mu__ws_table_t;

struct mu__ws_t {
    mu__ws_config_t config; /* defaults applied, strings owned */
    int port;
    struct lws_context *context;
    struct lws_vhost *vhost;
    struct lws_protocols protocols[2];
    lws_retry_bo_t retry; /* the keepalive policy */
    int hangup_ms;        /* ping interval + timeout as lws applies them */
    pthread_t thread;
    bool thread_started;
    atomic_bool stop;
    atomic_bool wake_pending; /* an lws_cancel_service is on its way */
    atomic_bool resume_rx;    /* the owner drained the events: read again */

    pthread_mutex_t lock;
    mu__ws_table_t table;
    uint64_t last_id;
    mu__ws_client_t *dirty; /* clients with something new to do */
    mu__ws_stats_t stats;

    mu__ws_events_t events;

    /* service */
    int listen_fd;                       /* listen: ours until lws adopts it, then -1 */
    struct lws *listener;                /* listen: the adopted listening socket */
    lws_sorted_usec_list_t accept_pause; /* listen: the end of a rest of the listener */
    bool accept_starved;                 /* accepts fail for want of resources since
                                            the last success */
    mu__log_limit_t accept_log;          /* "cannot accept": a line a second at most */
    unsigned char *scratch;           /* LWS_PRE + MU__WS_CHUNK: frames written by copy */
    lws_sorted_usec_list_t reconnect; /* connect mode */
    bool connected_once;
    bool connect_failing; /* the last attempt failed (logged once) */
};

/*  Per-connection data lws allocates for us. */
typedef struct {
    mu__ws_client_t *client; /* NULL until established */
} mu__ws_session_t;

/* ---- the client queue and table (mu_ws_queue.c) ------------------------ */

/*  A new client with id (not yet in the table), or NULL (ENOMEM). */
mu__ws_client_t *mu__ws_client_new(uint64_t id);

/*  Frees client, its queue (references dropped) and any partial message. */
void mu__ws_client_free(mu__ws_client_t *client);

/*  Queues msg (a new reference) to client, applying overflow when the
    queue would go over queue_max; counts in stats. Returns 0, MU_EPIPE
    (DISCONNECT: the client is now slow and closing; its queue is
    emptied) or MU_ENOMEM. Under the endpoint lock. */
int mu__ws_client_queue(mu__ws_client_t *client, mu__ws_msg_t *msg, size_t queue_max,
                        mu__ws_overflow_t overflow, mu__ws_stats_t *stats);

/*  Drops every queued message (references released). */
void mu__ws_client_clear(mu__ws_client_t *client);

/*  Removes the oldest queued message (written). */
void mu__ws_client_pop(mu__ws_client_t *client);

/*  The oldest queued message (count > 0). */
mu__ws_msg_t *mu__ws_client_oldest(const mu__ws_client_t *client);

/*  Calls fn(client, arg) for every client in the table. */
void mu__ws_table_each(const mu__ws_table_t *table, void (*fn)(mu__ws_client_t *, void *),
                       void *arg);

/*  Puts client in the dirty list *head_p (once). */
void mu__ws_dirty_add(mu__ws_client_t **head_p, mu__ws_client_t *client);

/*  Takes client out of the dirty list *head_p if it is in. */
void mu__ws_dirty_remove(mu__ws_client_t **head_p, mu__ws_client_t *client);

int mu__ws_table_init(mu__ws_table_t *table);
/*  Frees the table and every client still in it. */
void mu__ws_table_free(mu__ws_table_t *table);
mu__ws_client_t *mu__ws_table_find(const mu__ws_table_t *table, uint64_t id);
/*  Returns 0 or MU_ENOMEM (a growth that failed; the client is not in). */
int mu__ws_table_add(mu__ws_table_t *table, mu__ws_client_t *client);
void mu__ws_table_remove(mu__ws_table_t *table, mu__ws_client_t *client);

/* ---- the event queue (mu_ws_events.c) ----------------------------------- */

/*  Returns 0, MU_ENOMEM or an eventfd failure. */
int mu__ws_events_init(mu__ws_events_t *events, size_t max);
void mu__ws_events_free(mu__ws_events_t *events);

/*  A new event with room for cap data bytes (and a NUL), or NULL. */
mu__ws_ev_t *mu__ws_ev_new(mu__ws_kind_t kind, uint64_t client, size_t cap);

/*  Grows ev to room for cap data bytes; NULL on ENOMEM (ev unchanged). */
mu__ws_ev_t *mu__ws_ev_grow(mu__ws_ev_t *ev, size_t cap);

/*  Appends ev (taken). Returns true when the queue now holds more than
    max bytes (the caller pauses the client it read ev from). */
bool mu__ws_events_push(mu__ws_events_t *events, mu__ws_ev_t *ev);

/*  Whether the queue holds more than max bytes. */
bool mu__ws_events_full(mu__ws_events_t *events);

/*  Pushes a new data-less event; false on ENOMEM (lost, logged). */
bool mu__ws_events_note(mu__ws_events_t *events, mu__ws_kind_t kind, uint64_t client);

/*  Takes the oldest event into *out (valid until the next pop). Returns 0
    or MU_EAGAIN; *resume_p is set when reading was paused and the queue
    is now below half of max (the caller resumes reading). */
int mu__ws_events_pop(mu__ws_events_t *events, mu__ws_event_t *out, bool *resume_p);

/* ---- the service side (mu_ws_service.c, mu_ws_lws.c) ------------------- */

/*  The protocol callback of every endpoint. */
int mu__ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len);

/*  Connect mode: (re)connects now (service thread, or before it starts). */
void mu__ws_connect_now(lws_sorted_usec_list_t *sul);

/*  Connect mode: schedules the next attempt after reconnect_ms. */
void mu__ws_reconnect_later(mu__ws_t *self);

/*  Creates self->context (and vhost, port) from self->config. Returns 0,
    MU_EINVAL (TLS files refused), MU_EADDRINUSE or MU_EIO, recorded. */
int mu__ws_context_new(mu__ws_t *self);

/* ---- the listening socket (mu_ws_listen.c) ------------------------------ */

/*  Listen mode: binds (SO_REUSEADDR) and listens on numeric (an IPv4
    literal when ipv4, else IPv6) at config.port; sets listen_fd and port.
    Returns 0, MU_EADDRINUSE (the port is taken) or MU_EIO (another failure
    of socket, bind or listen, its errno text in the detail), recorded. */
int mu__ws_listen_open(mu__ws_t *self, const char *numeric, bool ipv4);

/*  Hands listen_fd to lws as a raw descriptor of the endpoint's protocol
    (its callback gets LWS_CALLBACK_RAW_RX_FILE when a connection waits);
    lws owns and closes it from then on. Returns 0 or MU_EIO, recorded. */
int mu__ws_listen_adopt(mu__ws_t *self);

/*  The listener is readable (service thread): accepts the waiting
    connections (at most a round's worth) and hands each to lws. Out of
    descriptors or memory, the listener rests MU__ACCEPT_PAUSE_MS at a
    time (counted once per burst in accept_failures, logged at most once a
    second); other accept errors end the round. Returns 0. */
int mu__ws_listen_accept(mu__ws_t *self);

/*  Starts the service thread. Returns 0 or a pthread failure. */
int mu__ws_thread_start(mu__ws_t *self);

/*  Stops the thread (if started) and destroys the context. */
void mu__ws_context_stop(mu__ws_t *self);

/*  Asks the service thread to look at the dirty list (one wake-up for any
    number of calls before it runs). */
void mu__ws_wake(mu__ws_t *self);

#endif
