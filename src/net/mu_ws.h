/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_ws.h — private: a WebSocket endpoint on libwebsockets (ws:// and
    wss://), listening for clients or connecting to a server, run on a
    thread of its own so that its owner keeps its own poll loop (the
    proxy's WebSocket front, the flow's WebSocket edge). Never installed.

    Threads. libwebsockets is not thread-safe; the endpoint's thread is the
    only one that calls it (besides lws_cancel_service, which wakes it).
    The owner talks to it through two queues: events (a client opened, a
    message, a client closed) come out of mu__ws_recv, readable when
    mu__ws_fd (an eventfd) is; messages go in through mu__ws_send. Every
    function below may be called from any one owner thread.

    Clients cannot hold the owner up. Each client has a bounded queue of
    bytes not yet written (queue_max); a send that would go over it either
    disconnects the client (close code 1008, counted in slow) or drops its
    oldest queued messages (counted in dropped), by setting. A message over
    max_message from a client closes it (code 1009, counted in oversized);
    a client whose Origin header is not the configured one is refused at
    the handshake (HTTP 403, counted in refused_origin); a client that
    answers no ping within ping_timeout_ms is closed (ping_timeouts).

    Inbound events are bounded too: at most event_max bytes of messages
    wait in the event queue; past that the endpoint stops reading from the
    clients (libwebsockets' rx flow control) until the owner catches up,
    so a fast sender is slowed, never buffered without limit. */
#ifndef MU_WS_H_INCLUDED
#define MU_WS_H_INCLUDED

#include "base/mu_internal.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mu__ws_t mu__ws_t;

/*  A message shared by several sends (a broadcast): made once, queued to
    many clients, freed when the last one has written it. */
typedef struct mu__ws_msg_t mu__ws_msg_t;

/*  What a send does to a client whose queue would go over queue_max. */
typedef enum {
    MU__WS_DISCONNECT = 0, /* close it (1008), counted in slow (default) */
    MU__WS_DROP_OLDEST = 1 /* drop its oldest queued messages, counted in dropped */
} mu__ws_overflow_t;

/*  Defaults (used for 0). */
#define MU__WS_MAX_MESSAGE (1024u * 1024)
#define MU__WS_MAX_CLIENTS 4096
#define MU__WS_QUEUE_MAX (1024u * 1024)
#define MU__WS_EVENT_MAX (8u * 1024 * 1024)
#define MU__WS_PING_INTERVAL_MS 20000
#define MU__WS_PING_TIMEOUT_MS 10000

/*  Settings. Zero-initialise, then set what differs; every string is
    copied by mu__ws_new. */
typedef struct {
    bool listen;      /* listen for clients, else connect to host:port */
    const char *host; /* address to listen on / server to connect to; NULL: 127.0.0.1 */
    int port;         /* listen: 0 = ephemeral (mu__ws_port) */
    const char *path; /* connect: request path; NULL: "/" */
    /* TLS (wss://). Listen: cert_file and key_file (PEM), both or neither.
       Connect: tls on; ca_file (PEM) verifies the server, NULL: the
       system's CAs; tls_insecure accepts any certificate (tests). */
    const char *cert_file;
    const char *key_file;
    bool tls;
    const char *ca_file;
    bool tls_insecure;
    /* Listen: the Origin a client's handshake must carry (exactly, e.g.
       "http://127.0.0.1:8080"); NULL: any, or none. Connect: the Origin
       header sent; NULL: none. */
    const char *origin;
    size_t max_message;          /* largest message either way; 0: MU__WS_MAX_MESSAGE */
    int max_clients;             /* listen: clients at once (more are refused); 0: default */
    size_t queue_max;            /* bytes queued per client; 0: MU__WS_QUEUE_MAX */
    mu__ws_overflow_t overflow;  /* a client over queue_max */
    size_t event_max;            /* bytes of inbound messages waiting; 0: MU__WS_EVENT_MAX */
    int ping_interval_ms;        /* idle time before a ping; 0: default, -1: no pings */
    int ping_timeout_ms;         /* no pong within this: closed; 0: default */
    int reconnect_ms;            /* connect: wait before reconnecting; 0: 100 */
} mu__ws_config_t;

/*  What mu__ws_recv hands out. */
typedef enum {
    MU__WS_OPEN = 1,   /* a client connected (connect mode: the connection is up) */
    MU__WS_TEXT = 2,   /* a whole text message (UTF-8, checked by libwebsockets) */
    MU__WS_BINARY = 3, /* a whole binary message */
    MU__WS_CLOSED = 4  /* a client is gone (any reason); its id is never reused */
} mu__ws_kind_t;

typedef struct {
    mu__ws_kind_t kind;
    uint64_t client; /* the client's id (>= 1), unique for the endpoint's life */
    void *data;      /* TEXT/BINARY: the message, valid until the next mu__ws_recv
                        or mu__ws_destroy; NUL-terminated after size bytes */
    size_t size;
} mu__ws_event_t;

/*  Counters (mu__ws_stats); set size first. */
typedef struct {
    size_t size;
    uint64_t clients;        /* connected now */
    uint64_t accepted;       /* clients that completed the handshake */
    uint64_t refused;        /* refused: over max_clients */
    uint64_t refused_origin; /* refused: wrong or missing Origin */
    uint64_t messages_in, bytes_in;
    uint64_t messages_out, bytes_out; /* written to a client */
    uint64_t dropped;                 /* DROP_OLDEST: messages dropped from a queue */
    uint64_t slow;                    /* DISCONNECT: clients closed for a full queue */
    uint64_t oversized;               /* clients closed for a message over max_message */
    uint64_t ping_timeouts;           /* clients closed for no pong */
    uint64_t reconnects;              /* connect mode: connections (re)made after a loss */
    uint64_t accept_failures;         /* listen: bursts of accepts failing for want of
                                         descriptors or memory (the listener rested) */
} mu__ws_stats_t;

/*  Creates the endpoint and starts its thread; a listening endpoint is
    listening when this returns, a connecting one connects in the
    background (MU__WS_OPEN when up, then reconnects after every loss).
    Returns NULL with errno and mu_last_error(): EINVAL (bad settings, a
    key without certificate, an unreadable cert or key file), EADDRINUSE,
    ENOMEM, EIO (libwebsockets refused the context). */
mu__ws_t *mu__ws_new(const mu__ws_config_t *config);

/*  Stops the thread, closes every client, frees queued messages and
    events; sets *self_p to NULL; accepts NULL. */
void mu__ws_destroy(mu__ws_t **self_p);

/*  The port listened on (the bound one for port 0). */
int mu__ws_port(const mu__ws_t *self);

/*  An fd readable while events wait (level-triggered: readable until
    mu__ws_recv has returned MU_EAGAIN). For poll/zmq_poll. */
int mu__ws_fd(const mu__ws_t *self);

/*  Takes the next event without waiting. Returns 0 or MU_EAGAIN (none). */
int mu__ws_recv(mu__ws_t *self, mu__ws_event_t *event);

/*  Queues size bytes of data (copied) to client, as a text (binary false)
    or binary message. Returns 0, MU_ENOENT (no such client now: closed),
    MU_EMSGSIZE (over max_message), MU_EPIPE (the client was just closed
    for a full queue, DISCONNECT) or MU_ENOMEM. With DROP_OLDEST a send
    always queues (dropping older messages first). */
int mu__ws_send(mu__ws_t *self, uint64_t client, const void *data, size_t size, bool binary);

/*  A shared message for sending to many clients: mu__ws_msg_new copies
    data (NULL on ENOMEM; size must not exceed max_message of the
    endpoints it is sent on), mu__ws_send_msg queues it to client with the
    returns of mu__ws_send, mu__ws_msg_unref drops the caller's reference
    (queued copies keep it alive). */
mu__ws_msg_t *mu__ws_msg_new(const void *data, size_t size, bool binary);
int mu__ws_send_msg(mu__ws_t *self, uint64_t client, mu__ws_msg_t *msg);
void mu__ws_msg_unref(mu__ws_msg_t **msg_p);

/*  Closes client with a close code (1000..4999) and a reason (up to 123
    bytes, may be NULL) after what is queued to it is written. Returns 0
    or MU_ENOENT. */
int mu__ws_close(mu__ws_t *self, uint64_t client, int code, const char *reason);

/*  Clients connected now. */
size_t mu__ws_clients(const mu__ws_t *self);

/*  Copies the counters. Returns 0 or MU_EINVAL (size too small). */
int mu__ws_stats(const mu__ws_t *self, mu__ws_stats_t *stats);

#endif
