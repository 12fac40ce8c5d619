/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_pubsub.h — topic publish/subscribe on ZeroMQ XPUB/SUB, and a proxy
    (XSUB upstream, XPUB downstream) that forwards the union of its
    subscribers' subscriptions upstream.

    Topics. A topic is 0..MU_PUBSUB_MAX_TOPIC bytes (any bytes). A
    subscription is a prefix: it matches every topic that starts with it
    (the empty prefix matches everything), as in ZeroMQ. Filtering happens
    at the publisher: a message no subscriber asked for never leaves it.

    Wire format (doc/pubsub.md): a message is three ZeroMQ frames,
    [topic][payload][trailer], the trailer being 17 bytes: the publisher's
    random session (8, little-endian), the topic's sequence number (8,
    little-endian) and flags (1). A plain ZeroMQ SUB sees the topic and the
    payload as its first two frames; mu_sub also accepts two-frame
    messages from plain ZeroMQ publishers (without gap detection), and
    mu_pub_set_trailer(pub, 0) makes mu_pub send those.

    Losses. libzmq drops a message for a subscriber whose queue is full
    (the high-water mark) without telling the publisher, so a slow
    subscriber never slows the others. The publisher cannot count those
    drops per subscriber; the subscriber can: every topic carries its own
    sequence, and mu_sub counts the gaps (`missed`). With
    mu_pub_set_nodrop, the publisher instead refuses a message that some
    matching subscriber cannot take, and counts it (`dropped`).

    Last-value cache (mu_pub_set_cache): the publisher keeps the last
    message of each topic (at most N topics, least recently published
    evicted) and, when a subscription arrives, publishes again the cached
    messages whose topic matches it, flagged as replays. XPUB cannot
    address one subscriber, so every subscriber of those topics gets the
    replay; mu_sub drops the replays it has already seen (by sequence),
    counted in `duplicates`. Through proxies too: they forward every
    subscription (doc/pubsub.md).

    CURVE as in mu_socket: binds are CURVE servers (clients checked
    against an allow-list by libmutil's ZAP handler, refusals counted in
    `auth_failures`), connects are CURVE clients. Either side may bind.

    Driving. libzmq takes on a socket's new connections (and
    reconnections) only inside calls on that socket: a subscriber's
    subscriptions reach a publisher that connected to it, or that
    restarted, once the subscriber calls mu_sub_recv (or subscribes); a
    publisher reads subscriptions in mu_pub_send and mu_pub_handle.

    Threads. A mu_pub_t or mu_sub_t belongs to one thread at a time. A
    mu_proxy_t runs its forwarding in a thread of its own once started.
    Sockets live on czmq's shared context. */
#ifndef MU_PUBSUB_H_INCLUDED
#define MU_PUBSUB_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mu_defs.h"
#include "mu_error.h"
#include "mu_keys.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MU_PUBSUB_MAX_TOPIC 255                   /* bytes */
#define MU_PUBSUB_MAX_MESSAGE (64u * 1024 * 1024) /* payload bytes */

typedef struct mu_pub_t mu_pub_t;
typedef struct mu_sub_t mu_sub_t;
typedef struct mu_proxy_t mu_proxy_t;

/* ---- publisher --------------------------------------------------------- */

/*  Publisher counters (mu_pub_stats): set size first. */
typedef struct {
    size_t size;            /* set by the caller: sizeof (mu_pub_stats_t) */
    uint64_t sent;          /* messages handed to libzmq that matched a subscription */
    uint64_t filtered;      /* messages that matched no subscription (not sent) */
    uint64_t dropped;       /* nodrop mode: refused because a subscriber was full */
    uint64_t bytes_sent;    /* payload bytes of `sent` */
    uint64_t subscribes;    /* subscribe messages received (each one, verbose) */
    uint64_t unsubscribes;  /* prefixes no longer subscribed by anyone */
    uint64_t replays;       /* cached messages published again on a subscription */
    uint64_t evicted;       /* topics evicted from the topic table */
    uint64_t auth_failures; /* CURVE handshakes refused on our binds */
} mu_pub_stats_t;

/*  Creates a publisher (an XPUB socket, send high-water mark 1000 per
    subscriber, lossy, no cache). A subscriber that sends a frame over 512
    bytes (no subscription to a topic needs one) has its connection closed.
    Returns NULL with errno ENOMEM, EMFILE (libzmq refuses the socket: its
    ZMQ_MAX_SOCKETS or the process's open-file limit is reached) or EIO
    (libsodium cannot initialize, or czmq's context is ending). */
MU_EXPORT MU_NODISCARD mu_pub_t *mu_pub_new(void);

/*  Closes the socket (linger 200 ms), frees everything, sets *self_p to
    NULL. Accepts NULL and *self_p NULL. */
MU_EXPORT void mu_pub_destroy(mu_pub_t **self_p);

/*  Messages queued per subscriber before drops (libzmq ZMQ_SNDHWM; 0 = no
    limit). Applies to connections made afterwards: call it before bind
    and connect. libzmq counts it with a lag: bursts of more than hwm / 2
    messages within a millisecond may drop for a subscriber that keeps up
    unless mu_pub_handle(self, 0) runs between them (doc/pubsub.md).
    Returns 0 or MU_EINVAL (negative). */
MU_EXPORT MU_NODISCARD int mu_pub_set_hwm(mu_pub_t *self, int hwm);

/*  Nodrop mode (on != 0): a message that a matching subscriber's full
    queue cannot take is not sent to anybody; mu_pub_send waits up to
    timeout_ms (-1 forever, 0 not at all) for room, then returns MU_EAGAIN
    (timeout 0) or MU_ETIMEDOUT, counted in `dropped`. One slow
    subscriber then holds back all. Off (default): lossy, each full
    subscriber loses its copy alone. Returns 0 or MU_EINVAL (timeout <
    -1). */
MU_EXPORT MU_NODISCARD int mu_pub_set_nodrop(mu_pub_t *self, int on, int timeout_ms);

/*  Last-value cache of up to topics topics (0 = off, the default;
    at most 2^24). Also the size of the per-topic sequence table (65536
    when the cache is off). Before the first mu_pub_send. Returns 0 or
    MU_EINVAL (too large, after a send, or on with the trailer off). */
MU_EXPORT MU_NODISCARD int mu_pub_set_cache(mu_pub_t *self, size_t topics);

/*  Trailer (on != 0, the default): every message is [topic][payload]
    [trailer]. Off: plain two-frame messages [topic][payload], exactly
    what a plain ZeroMQ SUB expects, at a lower cost per message (one
    frame less; figures in doc/pubsub.md, "Performance"). Lost without
    it: subscribers cannot count gaps (`missed` stays 0), and there is no
    replay flag nor replay de-duplication, so the last-value cache is
    refused with it off. Before the first mu_pub_send. Returns 0 or
    MU_EINVAL (after a send; off while the cache is on). */
MU_EXPORT MU_NODISCARD int mu_pub_set_trailer(mu_pub_t *self, int on);

/*  CURVE, as mu_socket_set_curve: server_keys (with secret) and allow for
    later binds, client_keys (with secret) and server_public (32 bytes) for
    later connects; either pair may be NULL. Returns 0, MU_EINVAL (a
    keypair without secret, half a pair, after a CURVE bind) or
    MU_ENOMEM. */
MU_EXPORT MU_NODISCARD int mu_pub_set_curve(mu_pub_t *self, const mu_keys_t *server_keys,
                                            const mu_allow_t *allow, const mu_keys_t *client_keys,
                                            const uint8_t *server_public);

/*  CURVE from a shared secret (>= MU_KEYS_SECRET_MIN bytes), as
    mu_socket_set_curve_secret. Returns 0, MU_EINVAL or MU_ENOMEM. */
MU_EXPORT MU_NODISCARD int mu_pub_set_curve_secret(mu_pub_t *self, const void *secret, size_t size);

/*  Binds to a tcp:// or ipc:// endpoint (tcp port 0 or "*": any). Returns
    the bound TCP port, 0 for ipc, MU_EADDRINUSE, MU_EINVAL (a bad
    endpoint), -EMFILE (the first CURVE bind of the process starts its ZAP
    handler and libzmq refused one of its sockets, or the endpoint needs a
    file the process cannot open), MU_EIO or MU_ENOMEM; mu_last_error()
    names the endpoint. */
MU_EXPORT MU_NODISCARD int mu_pub_bind(mu_pub_t *self, const char *endpoint);

/*  Connects to a tcp:// or ipc:// endpoint (a bound mu_sub or a proxy's
    upstream side); reconnects by itself. Returns 0 or MU_EINVAL. */
MU_EXPORT MU_NODISCARD int mu_pub_connect(mu_pub_t *self, const char *endpoint);

/*  The last endpoint bound, port filled in ("" before any bind). */
MU_EXPORT const char *mu_pub_endpoint(const mu_pub_t *self);

/*  Publishes size bytes of data (copied) on topic (topic_size bytes).
    Reads the subscriptions that arrived first (as mu_pub_handle with
    timeout 0), at most once per millisecond (reading costs a system
    call); libzmq's own filter is always up to date. Returns 0 (sent, or filtered: no subscriber), MU_EINVAL
    (topic over MU_PUBSUB_MAX_TOPIC), MU_EMSGSIZE (data over
    MU_PUBSUB_MAX_MESSAGE), MU_EAGAIN / MU_ETIMEDOUT (nodrop mode: dropped
    and counted), MU_EINTR or MU_ENOMEM. */
MU_EXPORT MU_NODISCARD int mu_pub_send(mu_pub_t *self, const void *topic, size_t topic_size,
                                       const void *data, size_t size);

/*  Reads subscription messages: waits up to timeout_ms (-1 forever, 0 not
    at all) for one, then takes every one queued, updating the subscribed
    set and answering subscriptions from the cache. A publisher that sends
    rarely calls it when its fd (mu_pub_fd) is readable. Returns the
    number of subscription messages read (>= 1), MU_EAGAIN (timeout 0,
    none), MU_ETIMEDOUT or MU_EINTR. */
MU_EXPORT MU_NODISCARD int mu_pub_handle(mu_pub_t *self, int timeout_ms);

/*  Distinct prefixes subscribed now by at least one subscriber, as far as
    the subscription messages read so far tell. */
MU_EXPORT size_t mu_pub_subscriptions(const mu_pub_t *self);

/*  1 when prefix (size bytes) is subscribed now, else 0. */
MU_EXPORT int mu_pub_is_subscribed(const mu_pub_t *self, const void *prefix, size_t size);

/*  Copies the counters; the caller sets stats->size. Returns 0 or
    MU_EINVAL (size below the first version of the struct). */
MU_EXPORT MU_NODISCARD int mu_pub_stats(const mu_pub_t *self, mu_pub_stats_t *stats);

/*  The libzmq socket (void *, not a czmq zsock_t: for zmq_poll, zpoller or
    zloop, which take either) and its ZMQ_FD (edge-triggered), to poll for
    subscriptions. Do not send or receive on it directly. */
MU_EXPORT void *mu_pub_zsock(mu_pub_t *self);
MU_EXPORT int mu_pub_fd(mu_pub_t *self);

/* ---- subscriber -------------------------------------------------------- */

/*  What mu_sub_recv hands back; valid until the next mu_sub_recv or
    mu_sub_destroy. */
typedef struct {
    const void *topic;
    size_t topic_size;
    const void *data;
    size_t size;
    int replay; /* 1: a last-value cache replay (published earlier) */
} mu_sub_msg_t;

typedef struct {
    size_t size;       /* set by the caller: sizeof (mu_sub_stats_t) */
    uint64_t received; /* messages delivered by mu_sub_recv */
    uint64_t bytes_received;
    uint64_t missed;        /* gaps in a topic's sequence: lost on the way (saturates) */
    uint64_t duplicates;    /* replays (or copies) already delivered, dropped */
    uint64_t malformed;     /* messages with a bad frame layout, dropped */
    uint64_t auth_failures; /* CURVE handshakes refused on our binds */
} mu_sub_stats_t;

/*  Creates a subscriber (a SUB socket, receive high-water mark 1000)
    subscribed to nothing. Returns NULL with errno as mu_pub_new. */
MU_EXPORT MU_NODISCARD mu_sub_t *mu_sub_new(void);

/*  Closes and frees; sets *self_p to NULL; accepts NULL. */
MU_EXPORT void mu_sub_destroy(mu_sub_t **self_p);

/*  Receive high-water mark (ZMQ_RCVHWM; 0 = no limit), before bind and
    connect. Returns 0 or MU_EINVAL. */
MU_EXPORT MU_NODISCARD int mu_sub_set_hwm(mu_sub_t *self, int hwm);

/*  CURVE, as mu_pub_set_curve and mu_pub_set_curve_secret. */
MU_EXPORT MU_NODISCARD int mu_sub_set_curve(mu_sub_t *self, const mu_keys_t *server_keys,
                                            const mu_allow_t *allow, const mu_keys_t *client_keys,
                                            const uint8_t *server_public);
MU_EXPORT MU_NODISCARD int mu_sub_set_curve_secret(mu_sub_t *self, const void *secret, size_t size);

/*  Bind and connect as mu_pub_bind / mu_pub_connect (the same returns). */
MU_EXPORT MU_NODISCARD int mu_sub_bind(mu_sub_t *self, const char *endpoint);
MU_EXPORT MU_NODISCARD int mu_sub_connect(mu_sub_t *self, const char *endpoint);
MU_EXPORT const char *mu_sub_endpoint(const mu_sub_t *self);

/*  Subscribes to prefix (size bytes, up to MU_PUBSUB_MAX_TOPIC). The
    subscriptions are counted: subscribing twice needs two unsubscribes;
    only the first subscribe and the last unsubscribe reach the publisher.
    Returns 0, MU_EINVAL (too long) or MU_ENOMEM. */
MU_EXPORT MU_NODISCARD int mu_sub_subscribe(mu_sub_t *self, const void *prefix, size_t size);

/*  Drops one subscription to prefix. Returns 0 or MU_ENOENT (not
    subscribed). */
MU_EXPORT MU_NODISCARD int mu_sub_unsubscribe(mu_sub_t *self, const void *prefix, size_t size);

/*  Receives the next message, waiting up to timeout_ms (-1 forever, 0 not
    at all). Messages it drops (malformed, duplicates) do not hold it past
    a timeout > 0; with 0 it reads until the queue is empty. Returns 0,
    MU_EAGAIN, MU_ETIMEDOUT or MU_EINTR. */
MU_EXPORT MU_NODISCARD int mu_sub_recv(mu_sub_t *self, mu_sub_msg_t *msg, int timeout_ms);

/*  Copies the counters into *stats; the caller sets stats->size first.
    Returns 0, or MU_EINVAL when stats->size is smaller than the first
    version of mu_sub_stats_t. */
MU_EXPORT MU_NODISCARD int mu_sub_stats(const mu_sub_t *self, mu_sub_stats_t *stats);

/*  The underlying libzmq socket (void *, not a czmq zsock_t: for zmq_poll,
    zpoller or zloop, which take either) and its ZMQ_FD (edge-triggered:
    after a wake-up call mu_sub_recv with timeout 0 until MU_EAGAIN). Do
    not receive on it directly. */
MU_EXPORT void *mu_sub_zsock(mu_sub_t *self);
MU_EXPORT int mu_sub_fd(mu_sub_t *self);

/* ---- proxy ------------------------------------------------------------- */

/*  The proxy's two sides: upstream is an XSUB (towards publishers),
    downstream an XPUB (towards subscribers). */
typedef enum { MU_PROXY_UPSTREAM = 1, MU_PROXY_DOWNSTREAM = 2 } mu_proxy_side_t;

typedef struct {
    size_t size;            /* set by the caller: sizeof (mu_proxy_stats_t) */
    uint64_t messages;      /* messages forwarded downstream */
    uint64_t bytes;         /* bytes (all frames) forwarded downstream */
    uint64_t subscribes;    /* subscribe messages forwarded upstream */
    uint64_t unsubscribes;  /* unsubscribe messages from downstream */
    uint64_t auth_failures; /* CURVE handshakes refused on both sides' binds */
} mu_proxy_stats_t;

/*  Creates a proxy (not running). Its downstream side closes a
    subscriber's connection on a frame over 512 bytes, as mu_pub does.
    Returns NULL with errno as mu_pub_new. */
MU_EXPORT MU_NODISCARD mu_proxy_t *mu_proxy_new(void);

/*  Stops the thread (if started), closes both sides, frees; sets *self_p
    to NULL; accepts NULL. */
MU_EXPORT void mu_proxy_destroy(mu_proxy_t **self_p);

/*  High-water mark of both sides (0 = none), before bind/connect. Returns
    0 or MU_EINVAL. */
MU_EXPORT MU_NODISCARD int mu_proxy_set_hwm(mu_proxy_t *self, int hwm);

/*  CURVE for one side (side is a value of the enum, asserted), as
    mu_pub_set_curve / mu_pub_set_curve_secret. Before start. */
MU_EXPORT MU_NODISCARD int mu_proxy_set_curve(mu_proxy_t *self, mu_proxy_side_t side,
                                              const mu_keys_t *server_keys, const mu_allow_t *allow,
                                              const mu_keys_t *client_keys,
                                              const uint8_t *server_public);
MU_EXPORT MU_NODISCARD int mu_proxy_set_curve_secret(mu_proxy_t *self, mu_proxy_side_t side,
                                                     const void *secret, size_t size);

/*  Binds / connects one side, before mu_proxy_start. Returns as
    mu_pub_bind / mu_pub_connect; MU_EINVAL after start. */
MU_EXPORT MU_NODISCARD int mu_proxy_bind(mu_proxy_t *self, mu_proxy_side_t side,
                                         const char *endpoint);
MU_EXPORT MU_NODISCARD int mu_proxy_connect(mu_proxy_t *self, mu_proxy_side_t side,
                                            const char *endpoint);

/*  The last endpoint bound on side ("" when none). */
MU_EXPORT const char *mu_proxy_endpoint(const mu_proxy_t *self, mu_proxy_side_t side);

/*  Starts forwarding in a thread of the proxy's own. Returns 0,
    MU_EINVAL (already started), MU_ENOMEM (no thread) or, with a
    WebSocket front (which opens four sockets here), -EMFILE (libzmq
    refused one: its ZMQ_MAX_SOCKETS or the process's open-file limit;
    nothing is left open and start may be called again). */
MU_EXPORT MU_NODISCARD int mu_proxy_start(mu_proxy_t *self);

/*  Copies the counters (readable while running). Returns 0 or MU_EINVAL. */
MU_EXPORT MU_NODISCARD int mu_proxy_stats(const mu_proxy_t *self, mu_proxy_stats_t *stats);


/* ---- the proxy's WebSocket front ---------------------------------------- */

/*  A WebSocket front (mu_proxy_set_ws) lets browsers and ws clients use the
    proxy as ZeroMQ subscribers do, with JSON control messages (doc/pubsub.md,
    "WebSocket"):
      {"subscribe": "prefix"}          reply {"subscribed": "prefix"}
      {"unsubscribe": "prefix"}        reply {"unsubscribed": "prefix"}
      {"publish": "topic", "data": V}  (allow_publish only) no reply; V is
                                       published as its compact JSON text
      a binary frame [1 byte topic length][topic][payload]: a publish
    Anything wrong gets {"error": "...", "code": "MU_E..."} to that client
    only, and the connection stays open; a frame over max_message closes
    it (close code 1009). A message from upstream whose topic is UTF-8 and
    whose payload is one JSON text goes to each subscribed client as a
    text frame {"topic": "t", "data": <payload verbatim>}; any other as a
    binary frame [1 byte topic length][topic][payload]. The clients'
    prefixes join the ZeroMQ subscribers' in the union forwarded upstream,
    reference-counted: the last unsubscribe of a prefix, a ws client's or
    a ZeroMQ subscriber's, or a client's disconnect, unsubscribes upstream.
    The front reads the trailer as mu_sub does: a last-value replay reaches
    a client once (a client adding a prefix the front holds already gets
    the last replayed values the front kept), and messages lost on the way
    to the front are counted (missed). The front runs in a thread of its own; a slow client is dropped from
    (its oldest messages) or disconnected, by setting, and never slows the
    others or the ZeroMQ side. */

/*  What the front does with a client whose send queue would go over
    queue_max. */
typedef enum {
    MU_PROXY_WS_DISCONNECT = 0, /* close it (close code 1008), counted in slow (default) */
    MU_PROXY_WS_DROP_OLDEST = 1 /* drop its oldest queued messages, counted in dropped */
} mu_proxy_ws_overflow_t;

/*  Defaults of mu_proxy_ws_t (used for 0). */
#define MU_PROXY_WS_MAX_MESSAGE (1024u * 1024) /* bytes of one frame, either way */
#define MU_PROXY_WS_QUEUE_MAX (1024u * 1024)   /* bytes queued per client */
#define MU_PROXY_WS_MAX_CLIENTS 4096
#define MU_PROXY_WS_MAX_PREFIXES 1024 /* prefixes one client may hold at once */
/* Bytes of the distinct prefixes all clients hold together (each counted
   once, as its size + 1); a subscribe to a new prefix over it gets
   MU_ENOSPC. libzmq keeps a trie node (some 32 bytes) per prefix byte in
   each socket on the way, so this bounds the front's cost at some 100 MiB
   however many clients subscribe to whatever. Not a setting. */
#define MU_PROXY_WS_MAX_PREFIX_BYTES (1024u * 1024)
#define MU_PROXY_WS_PING_INTERVAL_MS 20000
#define MU_PROXY_WS_PING_TIMEOUT_MS 10000

/*  The front's settings. Zero-initialise, then set what differs; strings
    are copied by mu_proxy_set_ws. */
typedef struct {
    const char *host;                /* address to listen on; NULL: "127.0.0.1" */
    int port;                        /* 0: an ephemeral port (the return of mu_proxy_set_ws) */
    const char *cert_file;           /* wss://: certificate chain (PEM), with key_file; */
    const char *key_file;            /*   both NULL: plain ws:// */
    const char *origin;              /* the Origin a client's handshake must carry exactly
                              (e.g. "https://app.example"); NULL: any or none */
    size_t max_message;              /* largest frame either way, at most
                              MU_PUBSUB_MAX_MESSAGE; 0: MU_PROXY_WS_MAX_MESSAGE */
    size_t queue_max;                /* bytes queued per client; 0: MU_PROXY_WS_QUEUE_MAX */
    mu_proxy_ws_overflow_t overflow; /* a client over queue_max */
    int ping_interval_ms;            /* idle time before a ping; 0: default, -1: no pings */
    int ping_timeout_ms;             /* no pong within this: closed; 0: default */
    bool allow_publish;              /* clients may publish (else MU_EACCES to them) */
    int max_clients;                 /* clients at once (more are refused); 0: default */
    int max_prefixes;                /* prefixes per client (more: MU_ENOSPC to it); 0: default;
                                        all clients: MU_PROXY_WS_MAX_PREFIX_BYTES */
} mu_proxy_ws_t;

/*  The front's counters (mu_proxy_ws_stats); set size first. */
typedef struct {
    size_t size;             /* set by the caller: sizeof (mu_proxy_ws_stats_t) */
    uint64_t clients;        /* connected now */
    uint64_t accepted;       /* clients that completed the handshake */
    uint64_t refused;        /* refused: over max_clients */
    uint64_t refused_origin; /* refused: wrong or missing Origin (HTTP 403) */
    uint64_t messages_in;    /* frames received from clients */
    uint64_t messages_out;   /* frames written to clients */
    uint64_t bytes_out;      /* bytes of messages_out */
    uint64_t forwarded;      /* messages from upstream sent to at least one client */
    uint64_t too_large;      /* messages from upstream too large for max_message (or
                                a binary frame's topic over 255 bytes): not sent */
    uint64_t dropped;        /* DROP_OLDEST: messages dropped from slow clients' queues */
    uint64_t slow;           /* DISCONNECT: clients closed for a full queue */
    uint64_t oversized;      /* clients closed for a frame over max_message (1009) */
    uint64_t ping_timeouts;  /* clients closed for no pong */
    uint64_t subscribes;     /* subscribe commands accepted */
    uint64_t unsubscribes;   /* unsubscribe commands accepted */
    uint64_t publishes;      /* client messages published upstream */
    uint64_t errors;         /* error replies sent (every kind, malformed included) */
    uint64_t malformed;      /* of errors: not JSON, not an object, a bad binary frame */
    uint64_t denied;         /* of errors: publishes refused (allow_publish off) */
    uint64_t missed;         /* messages lost between the proxy and the front (gaps in
                                the topics' sequences) */
    uint64_t duplicates;     /* last-value replays the front had delivered already:
                                not sent again */
    uint64_t accept_failures; /* bursts of accepts failing for want of descriptors or
                                 memory: the listening socket rested meanwhile */
} mu_proxy_ws_stats_t;

/*  Adds a WebSocket front (listening when this returns; clients are
    served once the proxy starts), before mu_proxy_start, at most once.
    Returns the port listened on (> 0), or MU_EINVAL (after start, a second
    front, a bad setting: a key without certificate, an unreadable cert or
    key file, max_message over MU_PUBSUB_MAX_MESSAGE), MU_EADDRINUSE,
    MU_ENOMEM or MU_EIO (libwebsockets refused); mu_last_error() says
    which. */
MU_EXPORT MU_NODISCARD int mu_proxy_set_ws(mu_proxy_t *self, const mu_proxy_ws_t *ws);

/*  The WebSocket front's port, or 0 without a front. */
MU_EXPORT int mu_proxy_ws_port(const mu_proxy_t *self);

/*  Copies the front's counters (all 0 without a front; readable while
    running). Returns 0 or MU_EINVAL (size below the first version). */
MU_EXPORT MU_NODISCARD int mu_proxy_ws_stats(const mu_proxy_t *self, mu_proxy_ws_stats_t *stats);

#ifdef __cplusplus
}
#endif
#endif
