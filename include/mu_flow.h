/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow.h — multi-stage, multi-process dataflow.

    A flow is an ordered list of stages, each run by one or more forked
    runner processes under a supervisor process: worker stages (a startup
    hook, then a handler per message), source stages (a function called in
    a loop, or inherited descriptors read as mu_pipe frames), and edge
    stages (TCP clients send or receive mu_pipe frames; WebSocket clients,
    browsers included, messages). The link into a stage
    routes what the previous stage emits: balanced, broadcast (with
    filters) or keyed, optionally at-least-once. A flow can be split over
    processes and hosts (mu_flow_set_local, mu_flow_set_endpoint), with
    CURVE on the pinned links (mu_flow_set_curve), or its stages spread
    over hosts, each host running its share of a stage's runners
    (mu_flow_add_host and the settings after it).

    Delivery: back-pressure by default; drops only on stages set to drop
    (counted), and, while draining, at an outbound edge without clients.
    Supervision: a runner that dies is restarted with backoff; more than
    max_restarts restarts of a stage within window_ms fail the flow.
    Draining (mu_flow_stop, SIGINT/SIGTERM to the supervisor, or the end
    of every source) finishes every message a source accepted, stage by
    stage, within a deadline.

    Errors: a failing call returns a negative MU_E* code and records its
    detail for the calling thread (mu_last_error, mu_last_code); the
    end of a failed flow (mu_flow_wait, mu_flow_stop, mu_flow_run) records
    why it failed (e.g. the stage over its restart limit). Caller bugs
    (NULL self or required pointers, a bad enum value) are assertions.

    Forking: mu_flow_start forks; only the calling thread lives on in the
    children, which use their own ZeroMQ contexts (never czmq's). Function
    pointers and args are used in the children through the copy fork
    makes. The flow's processes log with mu_log (mu_log.h), module "flow",
    so its level, format, identity and destination apply to them (the
    messages name the flow, stage, index and pid); a forked process logs
    unbuffered.

    Threads: a flow object belongs to one thread. Design notes, the edge
    client policy in detail and the drain protocol: doc/flow.md; wire
    formats: doc/wire.md. The in-process event bus is in mu_bus.h. */
#ifndef MU_FLOW_H_INCLUDED
#define MU_FLOW_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "mu_defs.h"
#include "mu_error.h"
#include "mu_keys.h"
#include "mu_bus.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mu_flow_t mu_flow_t;

/*  Where a handler or hook sends its outputs (downstream, or to the clients
    of an outbound edge). Valid only during the call that received it. */
typedef struct mu_flow_emit_t mu_flow_emit_t;

/*  Routing of the link into a stage from the previous stage. */
typedef enum {
    MU_FLOW_BALANCE = 0,   /* each message to one runner with room */
    MU_FLOW_BROADCAST = 1, /* each message to every runner its filter accepts */
    MU_FLOW_KEYED = 2      /* key function → runner key % runners */
} mu_flow_link_t;

/*  Return value of a source function that has more to produce. */
#define MU_FLOW_MORE 1

/*  Called once per worker process before any message, with the process's
    runner index (0..n-1). May set *state_p, handed to every handler call.
    A non-zero return makes the process exit with failure (the supervisor
    counts that as a crash and restarts it). */
typedef int mu_flow_startup_fn(void *arg, int index, void **state_p);

/*  Called once per worker process during a drain (doc/flow.md, Teardown) with
    the state startup set (or the stage's arg without startup); emits with
    out. A negative return is counted as an error; the drain goes on. */
typedef int mu_flow_teardown_fn(void *state, mu_flow_emit_t *out);

/*  Timer hook of a worker stage (mu_flow_set_timer): called every interval
    in each runner process, also while no input arrives, on the runner's
    thread (never while the handler runs), with the handler's state; emits
    with out (time-based aggregates). Not called once the input has ended:
    the teardown hook is the last call. A negative return is counted as an
    error. */
typedef int mu_flow_timer_fn(void *state, mu_flow_emit_t *out);

/*  Called per message. data is valid during the call only. Emits 0..n
    messages with mu_flow_emit. Returns 0, or a negative code: the message
    is counted as an error and processing continues. */
typedef int mu_flow_handler_fn(void *state, const void *data, size_t size, mu_flow_emit_t *out);

/*  A source: called in a loop in its process; emits messages; returns
    MU_FLOW_MORE to be called again, 0 when it has nothing more (the source
    is then done and the flow drains once every source is), or a negative
    code (counted as an error; the source is done). Between calls, a drain
    request ends the loop. */
typedef int mu_flow_source_fn(void *arg, int index, mu_flow_emit_t *out);

/*  Filter on a broadcast link: true when runner `index` of the stage takes
    the message. */
typedef bool mu_flow_filter_fn(void *arg, int index, const void *data, size_t size);

/*  Key of a message on a keyed link. */
typedef uint64_t mu_flow_key_fn(void *arg, const void *data, size_t size);

/*  Filter of one edge runner on a broadcast link: true when it takes data. */
typedef bool mu_flow_edge_filter_fn(void *arg, const void *data, size_t size);

/*  Edge hooks: what to do with a frame from a client (emits downstream) or
    from upstream (emits to the edge's clients). NULL forwards as is.
    Return 0, or a negative code (counted as an error). */
typedef int mu_flow_forward_fn(void *arg, const void *data, size_t size, mu_flow_emit_t *out);

/*  What an outbound edge does with a client whose queue is over queue_max. */
typedef enum {
    MU_FLOW_EDGE_DISCONNECT = 0, /* close the client (default; clients_slow) */
    MU_FLOW_EDGE_DROP_OLDEST = 1 /* drop its oldest queued messages (drops) */
} mu_flow_edge_overflow_t;

/*  How an edge talks to its clients. */
typedef enum {
    MU_FLOW_EDGE_TCP = 0, /* mu_pipe frames over TCP (default) */
    MU_FLOW_EDGE_WS = 1   /* WebSocket (ws:// or wss://): one message per frame */
} mu_flow_edge_transport_t;

/*  Defaults of the client settings of mu_flow_edge_t (used for 0). */
#define MU_FLOW_EDGE_MAX_CLIENTS 256
#define MU_FLOW_EDGE_IDLE_TIMEOUT_MS 60000
#define MU_FLOW_EDGE_QUEUE_MAX (1024u * 1024)

/*  One edge (a runner of an edge stage), TCP or WebSocket. Zero-initialise
    it, so that every setting left out takes its default. Strings are not
    copied: they must stay valid until mu_flow_start returns. The ws_
    settings apply to WebSocket edges only (MU_EINVAL on a TCP edge). */
typedef struct {
    const char *host;                   /* address to listen on or connect to ("127.0.0.1") */
    int port;                           /* 0 with listen: an ephemeral port (mu_flow_edge_port) */
    bool listen;                        /* listen for clients, else connect to host:port */
    mu_flow_forward_fn *from_client;    /* client → downstream; NULL: as is */
    mu_flow_forward_fn *from_internal;  /* upstream → clients; NULL: as is */
    mu_flow_edge_filter_fn *filter;     /* broadcast link into this edge; NULL: all */
    void *arg;                          /* handed to the three hooks */
    uint32_t max_frame;                 /* largest frame from or to a client; 0: 1 MiB */
    int max_clients;                    /* listening edge: clients at once, 1..65536;
                                    0: MU_FLOW_EDGE_MAX_CLIENTS */
    int idle_timeout_ms;                /* listening edge: an idle client is closed
                                    after this long; 0: MU_FLOW_EDGE_IDLE_TIMEOUT_MS,
                                    -1: never */
    size_t queue_max;                   /* bytes queued per client (payload plus a
                                    small per-message overhead); 0:
                                    MU_FLOW_EDGE_QUEUE_MAX */
    mu_flow_edge_overflow_t overflow;   /* a client over queue_max */
    mu_flow_edge_transport_t transport; /* MU_FLOW_EDGE_TCP (default) or MU_FLOW_EDGE_WS */
    const char *ws_path;                /* connect: request path ("/..."); NULL: "/" */
    const char *ws_origin;              /* listen: the Origin a client must send
                                           (exactly), NULL: any; connect: the Origin
                                           sent, NULL: none */
    const char *ws_cert_file;           /* listen: wss:// with this PEM certificate
                                           (and ws_key_file; both or neither) */
    const char *ws_key_file;            /* listen: its PEM private key */
    bool ws_tls;                        /* connect: wss:// */
    const char *ws_ca_file;             /* connect, ws_tls: PEM CAs that verify the
                                           server; NULL: the system's */
    bool ws_tls_insecure;               /* connect, ws_tls: accept any certificate */
    bool ws_binary;                     /* to clients: every message as a binary
                                           frame; false: a text frame when it is
                                           valid UTF-8, else binary */
    int ws_ping_interval_ms;            /* idle time before a ping (a client that
                                           answers none within 10 s is closed);
                                           0: 20000, -1: no pings */
    mu_flow_startup_fn *startup;        /* once per edge runner process, before
                                           any client: (arg, runner index,
                                           &state); from_client and
                                           from_internal then get that state
                                           instead of arg (filter keeps arg).
                                           Non-zero: the process exits with
                                           failure (a crash, restarted). NULL:
                                           none */
} mu_flow_edge_t;

/*  One row of statistics: a runner (index >= 0) or a stage total
    (index -1, listed before its runners). The caller sets size (sizeof
    the struct) in the first row it passes; fields past that size are not
    written, so the struct can grow. */
typedef struct {
    size_t size; /* set by the caller: sizeof(mu_flow_stats_t) */
    char stage[32];
    int index;            /* runner index, or -1 for the stage total */
    pid_t pid;            /* current process (0 when not running; 0 for totals) */
    uint64_t in;          /* messages received (from upstream, clients or the source) */
    uint64_t out;         /* messages emitted (each broadcast copy counts) */
    uint64_t errors;      /* handler/hook errors, bad client frames, failed
                             starts of the runner, bursts of accepts failing
                             for want of descriptors (an edge) */
    uint64_t restarts;    /* restarts of this runner (or the stage) */
    uint64_t drops;       /* messages dropped on a stage set to drop; on an
                           edge: dropped from a slow client's queue
                           (MU_FLOW_EDGE_DROP_OLDEST), or reaching an
                           outbound edge without clients while draining */
    uint64_t redelivered; /* at-least-once: messages sent again after the
                           receiving runner died */
    int64_t queue;        /* stage total: messages sent by the previous stage and
                           not yet received here (lost ones after a crash
                           included); 0 for runners */
    double p50_us;        /* handler latency percentiles, microseconds */
    double p99_us;
    uint64_t clients_idle; /* edge clients closed as idle: timed out, or the
                              one idle longest, closed to make room over
                              max_clients */
    uint64_t clients_slow; /* edge clients disconnected for a full queue
                              (MU_FLOW_EDGE_DISCONNECT) */
    uint64_t clients;      /* edges: clients connected now (0 when not running) */
    /* Multi-host flows (mu_flow_add_host); 0 otherwise. Rows describe this
       host's runners; a stage total sums this host's runners, except
       live_runners. */
    uint64_t duplicates;    /* at-least-once across hosts: on a receiving
                               runner, copies it handled whose origin it
                               had handled already (within its window of
                               65536 ids); on a sender, messages
                               acknowledged by two runners after a
                               redelivery (mu_flow_set_at_least_once) */
    uint64_t hosts_lost;    /* peer runners (on any host, downstream or
                               upstream) declared lost: silent past the
                               heartbeat timeout, connection closed, or
                               restarted */
    uint64_t hosts_joined;  /* peer runners that joined or rejoined */
    uint64_t auth_failures; /* CURVE handshakes refused (this side refused a
                               peer, or a peer refused this side), and
                               hellos refused for another wire protocol
                               version (doc/wire.md), either side */
    int64_t live_runners;   /* stage total: the stage's runners, on every host,
                               that this host's senders see alive; -1 unknown */
    char pipeline[32];      /* the stage's pipeline (mu_flow_add_pipeline); the
                               flow's name in a flow without named pipelines */
} mu_flow_stats_t;

/*  Creates an empty flow named name (not NULL; copied; at most 31 bytes
    used in titles). Returns NULL with errno EINVAL for "", ENOMEM. */
MU_EXPORT MU_NODISCARD mu_flow_t *mu_flow_new(const char *name);

/*  Destroys the flow; a running flow is killed first (SIGKILL to the
    supervisor, whose runners follow it). Accepts NULL and *self_p NULL. */
MU_EXPORT void mu_flow_destroy(mu_flow_t **self_p);

/*  Appends a worker stage of n processes. startup may be NULL; name and
    handler must not be (asserted). Returns 0, MU_EINVAL (empty or
    duplicate name, n < 1 or > 256, flow already started), MU_ENOMEM. */
MU_EXPORT MU_NODISCARD int mu_flow_add_worker_stage(mu_flow_t *self, const char *name, int n,
                                                    mu_flow_startup_fn *startup,
                                                    mu_flow_handler_fn *handler, void *arg);

/*  Sets (or with NULL removes) the teardown hook of worker stage `name`.
    Returns 0 or MU_EINVAL (unknown stage, not a worker stage, started). */
MU_EXPORT MU_NODISCARD int mu_flow_set_teardown(mu_flow_t *self, const char *name,
                                                mu_flow_teardown_fn *teardown);

/*  Sets (or with NULL removes) the timer hook of worker stage `name`,
    called every interval_ms (1..3600000) in each of its runners. The
    first call comes one interval after the runner started; a call that
    comes late (a long handler) is not repeated for the intervals missed.
    Returns 0 or MU_EINVAL (unknown stage, not a worker stage, started, an
    interval out of range). */
MU_EXPORT MU_NODISCARD int mu_flow_set_timer(mu_flow_t *self, const char *name, int interval_ms,
                                             mu_flow_timer_fn *timer);

/*  Appends a source stage of n runners calling fn. Only the first stage can
    be a source. name and fn must not be NULL (asserted). Returns 0,
    MU_EINVAL (as above, or not the first stage). */
MU_EXPORT MU_NODISCARD int mu_flow_add_source(mu_flow_t *self, const char *name, int n,
                                              mu_flow_source_fn *fn, void *arg);

/*  Appends a source stage with one runner per descriptor in fds[0..n),
    each reading mu_pipe frames (4-byte prefix) until EOF. The flow owns the
    descriptors from now on (closed in the calling process by mu_flow_start).
    A source ends at EOF, which comes only once every write end is closed:
    the calling process must not hold write ends when it calls mu_flow_start
    (the flow's processes would inherit them). Returns 0, MU_EINVAL (n < 1,
    a descriptor not open, not the first stage). */
MU_EXPORT MU_NODISCARD int mu_flow_add_fd_source(mu_flow_t *self, const char *name, const int *fds,
                                                 int n);

/*  Sets the length prefix of the frames of an fd-source stage or a TCP
    edge stage: bytes (1..8) little-endian, default 4 (mu_pipe frames).
    Both ends must agree. A frame longer than the prefix can express is
    refused: an edge's emit to clients returns MU_EMSGSIZE (counted as an
    error), and a client or descriptor announcing more than max_frame (or
    than the prefix allows) is a bad frame (as with max_frame). Returns 0
    or MU_EINVAL (unknown stage, not an fd source or an edge stage, an edge
    stage with a WebSocket edge, bytes out of 1..8, started). */
MU_EXPORT MU_NODISCARD int mu_flow_set_frame_header(mu_flow_t *self, const char *name, int bytes);

/*  Adds an edge runner (TCP or WebSocket) to the edge stage `name`: the
    last stage when it has that name and is an edge stage, else a new stage
    appended. The edge is copied, with its defaults filled in. name and
    edge must not be NULL (asserted). Returns 0, MU_EINVAL (no host, port
    out of range, max_clients out of 0..65536, idle_timeout_ms < -1, an
    unknown overflow or transport, a stage of that name that is not the
    last edge stage; ws_ settings on a TCP edge, listen settings
    (certificate, key) on a connecting WebSocket edge or connect settings
    (path, TLS, CA) on a listening one, a key without a certificate or the
    reverse, a certificate, key or CA file that cannot be read, a path not
    starting with '/', ws_ping_interval_ms < -1), MU_ENOMEM. */
MU_EXPORT MU_NODISCARD int mu_flow_add_edge(mu_flow_t *self, const char *name,
                                            const mu_flow_edge_t *edge);

/*  Sets the link into stage `name` (not the first stage). filter (broadcast,
    may be NULL: edges use their own filter, others take all) or key (keyed,
    required: asserted, like a valid kind) with arg. Returns 0 or MU_EINVAL
    (unknown or first stage, started). */
MU_EXPORT MU_NODISCARD int mu_flow_set_link(mu_flow_t *self, const char *name, mu_flow_link_t kind,
                                            mu_flow_filter_fn *filter, mu_flow_key_fn *key,
                                            void *arg);

/*  Lets stage `name` drop (and count) a message when every target is full,
    instead of waiting. A target (a link between two runners of one host)
    is full when it holds at most about 2000 messages: up to 1000 queued on
    each side (the sender's and the receiver's; fewer when the sender sends
    messages of over 1 KiB or one at a time, down to about 62 a side),
    plus what the kernel's socket
    buffer between them holds (bounded in bytes: some hundreds of KiB, so
    thousands of small messages more; doc/flow.md, "Delivery"). A link
    between hosts (mu_flow_add_host) is full when its credit window (32
    messages per sender and receiver) is used. The same bound makes a
    stage that does not drop wait. Returns 0 or MU_EINVAL (unknown stage). */
MU_EXPORT MU_NODISCARD int mu_flow_set_drop(mu_flow_t *self, const char *name, bool drop);

/*  At-least-once delivery on the (balanced) link into stage `name`: the
    previous stage's runners number each message and keep a copy until a
    runner of this stage acknowledges it, which it does when its handler
    returned (after the handler's own emits were accepted). When a runner of
    this stage dies, its unacknowledged messages are sent again to the
    stage's runners; a message it had handled but not yet acknowledged then
    comes twice (duplicates are possible, losses on this link are not). The
    guarantee is per link: outputs a runner emitted before it died may be
    lost on its own downstream link. Up to 4096 messages per sender wait
    for acknowledgement; beyond that the sender waits. In a multi-host
    flow the same holds across hosts: a downstream runner declared lost
    (killed, cut off, silent past the heartbeat timeout) has its
    unacknowledged messages sent to the other live runners. Idempotence:
    a handler may thus see a message twice (it handled it, but its
    acknowledgement did not reach the sender before it was declared
    lost): make a second handling harmless (idempotent writes, or a check
    on an id the message carries). A second handling is never suppressed.
    Across hosts every message of an at-least-once link carries an origin
    id (a message emitted while handling an at-least-once message derives
    its origin from that message's, so two runners handling the same
    message emit the same origins), and each runner of an at-least-once
    stage counts in mu_flow_stats_t.duplicates the copies it handles
    whose origin it had already handled, among the last 65536 it handled
    (older ones are forgotten and not counted: bounded memory). So an
    at-least-once stage downstream of the one where a runner was lost
    counts exactly the copies that reach the same runner of it (all of
    them when it has one runner, e.g. a sink); links that are not
    at-least-once carry no origin and count nothing. Returns 0 or
    MU_EINVAL (unknown or first stage, started). mu_flow_start returns
    MU_EINVAL when the link into such a stage is not MU_FLOW_BALANCE. */
MU_EXPORT MU_NODISCARD int mu_flow_set_at_least_once(mu_flow_t *self, const char *name, bool on);

/*  Pins the input endpoints of stage `name`: its runner i binds
    tcp://host:(base_port + i) instead of an ipc:// path in a private
    directory, so runners in other processes or on other hosts reach it.
    Every process of a split flow makes the same definition and pins every
    stage that meets another process's stage. Returns 0 or MU_EINVAL
    (unknown stage, no host, base_port < 1 or base_port + runners - 1 >
    65535, started). */
MU_EXPORT MU_NODISCARD int mu_flow_set_endpoint(mu_flow_t *self, const char *name, const char *host,
                                                int base_port);

/*  Says whether this process runs stage `name` (default: every stage).
    A flow can thus be split over processes or hosts, each running some
    stages of one definition. A process's stages that feed a stage run
    elsewhere cannot know when it has all its input, so they stay up after
    their own input ended until mu_flow_stop (or SIGINT/SIGTERM); stages fed
    from elsewhere drain when every upstream runner has sent its end of
    stream (for stages spread over hosts that end by themselves, see
    mu_flow_add_host). mu_flow_start returns MU_EINVAL when no stage is local, or when
    a link between a local and a remote stage is not pinned, or is
    at-least-once. Returns 0 or MU_EINVAL (unknown stage, started). */
MU_EXPORT MU_NODISCARD int mu_flow_set_local(mu_flow_t *self, const char *name, bool local);

/*  Secures the pinned (tcp://) links with CURVE: the pinned stages' input
    sockets are CURVE servers with the server keypair and accept only the
    client keypair's public key (each runner runs libmutil's ZAP handler on
    its own context; a refused handshake is counted as an error of that
    runner and logged as a warning with mu_log (mu_log.h), at most one line a second, the
    others counted in a "N more refused handshakes" line; the peer's
    address is escaped); senders to them are CURVE clients with the client
    keypair. Every process of a split flow sets the same keys
    (mu_keys_from_secret derives both from one shared passphrase). Keys are
    copied (secrets wiped on destroy). Links over ipc:// stay plain. server
    and client must not be NULL (asserted). Returns 0 or MU_EINVAL
    (public-only keys, started). */
MU_EXPORT MU_NODISCARD int mu_flow_set_curve(mu_flow_t *self, const mu_keys_t *server,
                                             const mu_keys_t *client);

/* ---- multi-host flows ----------------------------------------------------------

    A flow may name its hosts (mu_flow_add_host). Every host runs the same
    definition and says which host it is (mu_flow_set_self); each stage
    has runners on one or more hosts (mu_flow_set_runners_on), and a host
    runs only its own runners. Links between stages then go over TCP to
    the hosts' addresses: a downstream runner connects to every upstream
    runner on every host and grants it credit; an upstream runner sends
    each message to a live peer with credit (balanced), or to the runner
    a key maps to over the live runners (keyed: rendezvous hashing on
    (host, runner index), so only a lost host's keys move), or to every
    peer (broadcast). A host listed in the definition may start late, or
    restart: its runners join and receive work as soon as they connect.
    Every link carries heartbeats both ways; a peer silent past the
    heartbeat timeout is lost (logged, counted in hosts_lost) and rejoins
    when it comes back. On an at-least-once link, a lost peer's
    unacknowledged messages go to the remaining runners.

    Completion: a downstream runner's input ends when every upstream runner
    on every host has sent its end of stream or is lost; so when every
    source ended and every stage drained, each host's part ends by itself
    (except a host whose outbound edge holds a message no client has
    taken yet: it runs until a client takes it or the flow is stopped).

    At-least-once (mu_flow_set_at_least_once) works across hosts; its
    idempotence contract is there. CURVE: mu_flow_set_curve (one shared
    pair) or mu_flow_set_host_keys (a pair per host).

    Ports: host h's runners listen on consecutive ports from its base_port,
    stage by stage in definition order, runner by runner (a stage with r
    runners on h takes r ports). Details: doc/flow.md. mu_flow_set_local
    and mu_flow_set_endpoint do not mix with hosts (mu_flow_start returns
    MU_EINVAL). */

/*  Adds host `name` (1..63 bytes, unique) to the flow: its runners bind
    and are reached at address (an IPv4 address or a name, 1..63 bytes),
    on ports from base_port (1..65535) up. Strings are copied. At most 64
    hosts. Returns 0 or MU_EINVAL (bad or taken name, bad address or port,
    too many hosts, started). name and address must not be NULL
    (asserted). */
MU_EXPORT MU_NODISCARD int mu_flow_add_host(mu_flow_t *self, const char *name, const char *address,
                                            int base_port);

/*  Says that this process is host `host` (added with mu_flow_add_host): it
    runs that host's runners only. Required by mu_flow_start when hosts
    are added. host must not be NULL (asserted). Returns 0 or MU_EINVAL
    (unknown host, started). */
MU_EXPORT MU_NODISCARD int mu_flow_set_self(mu_flow_t *self, const char *host);

/*  Places `runners` (0..256; 0: none) runners of stage `stage` on host
    `host`, replacing an earlier setting for that pair. A stage's runners
    are then numbered host by host in the order the hosts were added. A
    stage with no placement runs its runners on the first host added.
    A fd-source or edge stage cannot be spread: its runners are all on one
    host, with runners equal to the stage's count (or 0). stage and host
    must not be NULL (asserted). Returns 0 or MU_EINVAL (unknown stage or
    host, runners out of range, a fd-source or edge stage with another
    count, started). The total of a stage over the hosts must be 1..256
    (mu_flow_start checks: MU_EINVAL). */
MU_EXPORT MU_NODISCARD int mu_flow_set_runners_on(mu_flow_t *self, const char *stage,
                                                  const char *host, int runners);

/*  Heartbeats on the links between runners of a multi-host flow: each
    side sends one after interval_ms without other traffic, and declares
    a peer lost after timeout_ms without anything from it (defaults 1000
    and 3000). Heartbeats go on while a handler or source runs, however
    long (a thread of the runner sends them), so a slow handler does not
    make its runner look lost; a frozen or unreachable process does.
    Returns 0 or MU_EINVAL (interval_ms < 10 or > 60000,
    timeout_ms <= interval_ms or > 3600000, started). */
MU_EXPORT MU_NODISCARD int mu_flow_set_heartbeat(mu_flow_t *self, int interval_ms, int timeout_ms);

/*  What a multi-host flow does when a stage (after the first) has had no
    live runner anywhere, as its senders see it, for deadline_ms: with
    fail, the flow fails (mu_flow_wait: MU_ECANCELED, the detail naming
    the stage); without, it keeps waiting, logging a warning naming the
    stage every 5 s (live_runners 0 in the stage's statistics). Defaults:
    30000 ms, fail. Returns 0 or MU_EINVAL (deadline_ms < 1, started). */
MU_EXPORT MU_NODISCARD int mu_flow_set_stage_deadline(mu_flow_t *self, int deadline_ms, bool fail);

/*  Per-host CURVE keys (instead of mu_flow_set_curve's shared pair): the
    keypair of host `host`. For this process's host (mu_flow_set_self) the
    secret is needed; for the others their public key is enough (e.g.
    mu_keys_new_public_txt from their certificate's Z85 text). Each host's
    links then take only the hosts whose public keys were given: the
    allow-list. Keys are copied (secrets wiped on destroy). mu_flow_start
    returns MU_EINVAL when some host has no key, this host's key has no
    secret, or mu_flow_set_curve was also called. host and keys must not be
    NULL (asserted). Returns 0 or MU_EINVAL (unknown host, started). A
    refused handshake is logged and counted in auth_failures on both
    sides. */
MU_EXPORT MU_NODISCARD int mu_flow_set_host_keys(mu_flow_t *self, const char *host,
                                                 const mu_keys_t *keys);

/* ---- several pipelines in one flow ------------------------------------------

    A flow may hold several named pipelines, each a chain of stages from
    its own source (or inbound edge) to its own last stage, all run by the
    flow's one supervisor. mu_flow_add_pipeline starts a pipeline: the
    stages added after it belong to it, up to the next
    mu_flow_add_pipeline. Links run only within a pipeline: the first stage
    of each pipeline takes no input (a source, an fd source or an edge),
    and its last stage emits nothing downstream (MU_EPIPE). Stage names
    stay unique over the whole flow.

    Each pipeline ends by itself: when its sources end it drains and
    finishes while the others keep running. A pipeline that fails (a stage
    over its restart limit, its drain deadline expired) stops only itself
    by default; MU_FLOW_PIPELINE_FAIL_FLOW makes its failure stop every
    pipeline (killed, each then failed with MU_ECANCELED) and end the flow
    at once. mu_flow_stop and SIGINT/SIGTERM drain every pipeline still
    running. mu_flow_wait returns when every pipeline ended: 0 when every
    one finished, else the code of the first pipeline that failed, its
    detail naming the pipeline. Statistics rows carry their stage's
    pipeline; mu_flow_pipeline_state tells how one pipeline stands.

    A flow without mu_flow_add_pipeline is one implicit pipeline named
    after the flow, and behaves as it always did. Named pipelines do not
    mix with multi-host flows (mu_flow_add_host) or split flows
    (mu_flow_set_local, mu_flow_set_endpoint): mu_flow_start returns
    MU_EINVAL. */

/*  What a failing pipeline does to the others. */
typedef enum {
    MU_FLOW_PIPELINE_ISOLATE = 0,  /* stops only itself (default) */
    MU_FLOW_PIPELINE_FAIL_FLOW = 1 /* stops every pipeline: the flow fails */
} mu_flow_pipeline_policy_t;

/*  Starts pipeline `name` (1..31 bytes, unique in the flow; copied): the
    stages added from now on belong to it. At most 64 pipelines. Returns 0,
    MU_EINVAL (empty, too long or taken name; stages were added before the
    first pipeline; the previous pipeline has no stage; too many
    pipelines; started), MU_ENOMEM. name must not be NULL (asserted). */
MU_EXPORT MU_NODISCARD int mu_flow_add_pipeline(mu_flow_t *self, const char *name);

/*  Sets the failure policy of pipeline `name` (default
    MU_FLOW_PIPELINE_ISOLATE). policy must be valid (asserted). Returns 0 or
    MU_EINVAL (unknown pipeline, started). */
MU_EXPORT MU_NODISCARD int mu_flow_set_pipeline_policy(mu_flow_t *self, const char *name,
                                                       mu_flow_pipeline_policy_t policy);

/*  Restart intensity: more than max_restarts restarts of one stage within
    window_ms fail the flow (defaults 5 in 5000 ms). Returns 0 or MU_EINVAL
    (max_restarts < 0, window_ms < 1, flow started). */
MU_EXPORT MU_NODISCARD int mu_flow_set_restart_limit(mu_flow_t *self, int max_restarts,
                                                     int window_ms);

/*  Drain deadline used for SIGINT/SIGTERM and the end of the sources, in ms
    (default 10000). Returns 0 or MU_EINVAL (< 1, started). */
MU_EXPORT MU_NODISCARD int mu_flow_set_drain_timeout(mu_flow_t *self, int timeout_ms);

/*  Starts the flow: binds the listening edges, forks the supervisor and
    returns once the listening WebSocket edges listen (or their pipeline or
    the flow ended: mu_flow_pipeline_state, mu_flow_wait say why). Returns 0, MU_EINVAL (no stage; the first stage is a worker
    stage; an at-least-once link that is not balanced; a split flow with no
    local stage or a local/remote link that is unpinned or at-least-once; a
    bad edge address; hosts added without mu_flow_set_self, this host
    running no runner, mixed with
    mu_flow_set_local/mu_flow_set_endpoint, a stage with 0 or over 256
    runners over the hosts, an edge or fd-source stage on several hosts, a
    host's ports over 65535, per-host keys missing for a host or without
    this host's secret, or with mu_flow_set_curve; already started),
    MU_ENOMEM, -errno of bind/listen (e.g. -EADDRINUSE), mkdtemp or fork.
    A multi-host runner that cannot bind its port exits (restarted with
    backoff, then the restart limit fails the flow). */
MU_EXPORT MU_NODISCARD int mu_flow_start(mu_flow_t *self);

/*  Waits until every runner of this process's flow (its stages; with hosts
    or mu_flow_set_local, this process's share) has been set up once:
    linked to the runners downstream, its startup hook returned, an edge
    listening or connecting. mu_flow_start returns before that, and what is
    sent to the flow meanwhile waits (it is not lost): a caller that times
    its first messages, or a test, waits here first. timeout_ms -1 without
    limit, 0 checks without waiting, > 0 at most that long. Returns 0 once
    every runner was ready (a restarted runner counts once), or when the
    flow finished before; while not: MU_EAGAIN (timeout 0) or MU_ETIMEDOUT;
    the failed end's code (as mu_flow_wait) when the flow failed first;
    MU_EINVAL: not started. The runners of a named pipeline that ended are
    not waited for: when one failed with runners never ready, its code
    (e.g. MU_ELIMIT; "pipeline NAME failed before its runners were ready",
    mu_flow_pipeline_state says why). */
MU_EXPORT MU_NODISCARD int mu_flow_wait_ready(mu_flow_t *self, int timeout_ms);

/*  The TCP port edge `index` of stage `name` (TCP or WebSocket) listens on
    (after mu_flow_start for port 0). Returns the port, or MU_EINVAL (unknown stage/edge, not a
    listening edge, not started). */
MU_EXPORT MU_NODISCARD int mu_flow_edge_port(const mu_flow_t *self, const char *name, int index);

/*  Waits for the flow to end: timeout_ms -1 without limit, 0 checks
    without waiting, > 0 at most that long. Returns 0 when it finished
    (ended after a complete drain). While it still runs: MU_EAGAIN
    (timeout 0) or MU_ETIMEDOUT (the timeout expired); MU_ETIMEDOUT means
    nothing else. A failed end returns its code, recording why
    (mu_last_error): MU_ECANCELED (a drain whose deadline expired, work
    left unfinished; or, multi-host, a stage without a live runner past
    its deadline: mu_flow_set_stage_deadline), MU_ELIMIT (a stage exceeded its restart intensity:
    runners that ended, or could not be started)
    or MU_EIO (the supervisor died). MU_EINVAL: not started. Once it
    returned the end, later calls return the same (and record the same
    detail). mu_flow_state tells the same without the overloaded codes.
    With named pipelines (mu_flow_add_pipeline) the flow ends when every
    pipeline ended: 0 when each finished, else the code of the first that
    failed (its detail names the pipeline). */
MU_EXPORT MU_NODISCARD int mu_flow_wait(mu_flow_t *self, int timeout_ms);

/*  What a flow is doing: not started, running, finished (a complete
    drain: mu_flow_wait returns 0) or failed (mu_flow_wait returns the
    failure's code). */
typedef enum {
    MU_FLOW_IDLE = 0,     /* not started */
    MU_FLOW_RUNNING = 1,  /* started and not ended */
    MU_FLOW_FINISHED = 2, /* ended after a complete drain */
    MU_FLOW_FAILED = 3    /* ended otherwise: *code_p says how */
} mu_flow_state_t;

/*  The flow's state, checking for its end without waiting. code_p may be
    NULL; else *code_p is set to 0, except for MU_FLOW_FAILED: the failed
    end's code, as mu_flow_wait returns it (MU_ECANCELED, MU_ELIMIT,
    MU_EIO), with its detail recorded (mu_last_error). Never fails. */
MU_EXPORT mu_flow_state_t mu_flow_state(mu_flow_t *self, int *code_p);

/*  How pipeline `name` stands (the flow's name for a flow without named
    pipelines): *state_p gets MU_FLOW_IDLE (not started), MU_FLOW_RUNNING,
    MU_FLOW_FINISHED (drained completely) or MU_FLOW_FAILED; code_p may be
    NULL, else it gets 0, or for MU_FLOW_FAILED the pipeline's failure code
    (MU_ELIMIT, MU_ECANCELED, MU_EIO), its detail then recorded
    (mu_last_error). Asks the supervisor while the flow runs (figures at
    most about 100 ms old). Returns 0, MU_EINVAL (unknown pipeline),
    MU_ETIMEDOUT (the supervisor did not answer within 1 s). name and
    state_p must not be NULL (asserted). */
MU_EXPORT MU_NODISCARD int mu_flow_pipeline_state(mu_flow_t *self, const char *name,
                                                  mu_flow_state_t *state_p, int *code_p);

/*  Asks the flow to drain within timeout_ms (-1: the drain timeout) and
    waits for the end: returns what mu_flow_wait returns. */
MU_EXPORT MU_NODISCARD int mu_flow_stop(mu_flow_t *self, int timeout_ms);

/*  mu_flow_start, then mu_flow_wait(-1). A SIGINT/SIGTERM the calling
    process receives meanwhile is passed on to the supervisor (drain); the
    previous handlers are restored afterwards. Returns as mu_flow_wait or
    as mu_flow_start. */
MU_EXPORT MU_NODISCARD int mu_flow_run(mu_flow_t *self);

/*  The supervisor's pid (0 before start). */
MU_EXPORT pid_t mu_flow_pid(const mu_flow_t *self);

/*  Copies up to cap statistics rows into rows (stage totals and runners, in
    stage order) and sets *n_p to the number available. rows[0].size says
    the size of each row (sizeof(mu_flow_stats_t) of the caller's version);
    rows may be NULL with cap 0 to count. Figures are at most about 100 ms
    old; after the end, the final figures. Returns 0, MU_EINVAL (not
    started, or rows[0].size smaller than the first version), MU_ETIMEDOUT
    (the supervisor did not answer within 1 s). */
MU_EXPORT MU_NODISCARD int mu_flow_stats(mu_flow_t *self, mu_flow_stats_t *rows, size_t cap,
                                         size_t *n_p);

/*  Emits one message (copied) to the emitter's destination. Waits while the
    destination is full (unless the stage drops). Downstream of a worker or
    an edge, messages leave in small batches (doc/flow.md, "Latency"): when
    the call that emitted them returns, unless more input is queued; then
    when the runner next waits, after 50 us, or after a later call that
    took 25 us or more (so at most one later handler call holds them). A
    source's messages leave at once. From a thread in-process handler's
    emitter (mu_flow_add_inproc) the copy goes to the runner's output
    queue, waiting while it is full. Returns 0, MU_EPIPE (the last stage:
    nothing downstream), MU_EINTR (the flow is being stopped hard),
    MU_EMSGSIZE (64 MiB or more into a stage on a local link: doc/flow.md,
    "Local links"), MU_ENOMEM. data may be NULL only with size 0
    (asserted). */
MU_EXPORT MU_NODISCARD int mu_flow_emit(mu_flow_emit_t *out, const void *data, size_t size);

/* ---- in-process stages inside a worker stage -------------------------------- */

/*  A handler declared in the flow definition: like mu_flow_event_fn, plus
    out, which emits downstream (as the worker's handler does) and is valid
    during the call only. A negative return is counted as an error of the
    runner. */
typedef int mu_flow_inproc_fn(void *arg, const char *event, const void *data, size_t size,
                              mu_flow_emit_t *out);

/*  Subscribes fn(arg, ...) to event (at most 63 bytes; "*": every event) on
    the bus every runner of worker stage `stage` owns, in mode (queue_max:
    the thread subscription's queue, 0: 1024), as mu_flow_bus_on does.
    Handlers run in the runner's process, so no message crosses a process:
      - an inline handler runs in the runner's thread, inside
        mu_flow_emit_event; its emits go downstream at once;
      - a thread handler runs on a thread of its own, one call at a time in
        emit order. A ZeroMQ socket belongs to one thread, so its emits are
        copied to a bounded queue (1024 messages per runner) that the
        runner's thread sends downstream; a thread handler waits while that
        queue is full, and mu_flow_emit_event waits while the handler's own
        queue is full (sending queued outputs meanwhile): back-pressure,
        never a drop. A thread handler's out cannot emit events
        (mu_flow_emit_event returns MU_EINVAL there).
    During a drain the runner waits for every thread handler to finish
    what is queued and sends all its outputs (before and after the
    teardown hook), before its end of stream. Thread handlers' outputs are
    sent after the handler call that caused them returned, so an
    at-least-once link out of the stage does not cover them until then.
    event and fn must not be NULL, mode must be valid (asserted). Returns
    0, MU_EINVAL (unknown or non-worker stage; empty or long event;
    started), MU_ENOMEM. A runner whose bus cannot
    be set up (threads) exits with failure: a crash for the supervisor. */
MU_EXPORT MU_NODISCARD int mu_flow_add_inproc(mu_flow_t *self, const char *stage, const char *event,
                                              mu_flow_mode_t mode, mu_flow_inproc_fn *fn, void *arg,
                                              size_t queue_max);

/*  Emits a named event (data copied for thread handlers) to the in-process
    handlers of the runner out belongs to: usable from a worker stage's
    handler and teardown hook and from inline in-process handlers. Returns
    the number of handlers reached (0: none subscribed), the first negative
    code of an inline handler, MU_ENOMEM, MU_EINTR (the flow is being
    stopped hard while waiting for room), or MU_EINVAL (an emitter not of a
    worker stage, or a thread handler's emitter). event must not be NULL,
    data may be NULL only with size 0 (asserted). */
MU_EXPORT MU_NODISCARD int mu_flow_emit_event(mu_flow_emit_t *out, const char *event,
                                              const void *data, size_t size);

#ifdef __cplusplus
}
#endif
#endif
