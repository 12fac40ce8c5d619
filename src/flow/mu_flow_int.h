/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_int.h — private declarations of mu_flow (definition, supervisor,
    runners, edges). Never installed. */
#ifndef MU_FLOW_INT_H_INCLUDED
#define MU_FLOW_INT_H_INCLUDED

#include "base/mu_internal.h"
#include "net/mu_zap.h"
#include <stdbool.h>
#include <sys/types.h>
#include <czmq.h>
#include <unistd.h>
#include <zmq.h>

#define MU__FLOW_NAME 32
#define MU__FLOW_MAX_RUNNERS 256
#define MU__FLOW_HIST 128          /* latency histogram buckets */
#define MU__FLOW_STATS_MS 100      /* runner → supervisor stats period */
#define MU__REL_WINDOW 4096        /* unacknowledged messages per sender */
#define MU__ACK_BATCH 64           /* ids per acknowledgement message */

typedef enum {
    MU__ST_WORKER,
    MU__ST_SOURCE,
    MU__ST_FD_SOURCE,
    MU__ST_EDGE
} mu__stage_kind_t;

/*  An in-process handler declared for a worker stage (mu_flow_add_inproc). */
typedef struct {
    char event[64];
    mu_flow_mode_t mode;
    mu_flow_inproc_fn *fn;
    void *arg;
    size_t queue_max;
} mu__inproc_def_t;

typedef struct {
    char name[MU__FLOW_NAME];
    mu__stage_kind_t kind;
    int n;                          /* runners */
    mu_flow_startup_fn *startup;
    mu_flow_handler_fn *handler;
    mu_flow_source_fn *source;
    void *arg;
    int *fds;                       /* fd source: n descriptors */
    mu_flow_edge_t *edges;          /* edge stage: n edges */
    int *listen_fds;                /* edge stage: bound sockets (-1: connect) */
    int *ports;
    mu_flow_link_t link;            /* link into this stage */
    mu_flow_filter_fn *filter;
    mu_flow_key_fn *key;
    void *link_arg;
    bool drop;
    bool reliable;                  /* at-least-once on the link into it */
    char host[64];                  /* pinned input endpoints: tcp://host:port+i */
    int base_port;                  /* 0: ipc:// in the flow's directory */
    bool remote;                    /* run by another process, not here */
    mu_flow_teardown_fn *teardown;  /* worker stage: drain hook, or NULL */
    mu__inproc_def_t *inproc;       /* worker stage: in-process handlers */
    int ninproc;
} mu__stage_t;

struct mu_flow_t {
    char name[MU__FLOW_NAME];
    mu__stage_t *stages;
    int nstages;
    int max_restarts, window_ms, drain_ms;
    char dir[64];                   /* ipc:// endpoints live here */
    bool started, ended;
    pid_t super_pid;
    int ctl;                        /* socket pair end to the supervisor */
    int end_rc;
    char error[256];
    mu_flow_stats_t *stats;          /* last snapshot */
    size_t nstats;
    bool curve;                     /* CURVE on pinned links */
    uint8_t curve_server_pub[32], curve_server_sec[32];
    uint8_t curve_client_pub[32], curve_client_sec[32];
};

/* ---- control messages (SOCK_SEQPACKET) ------------------------------------ */

/*  Runner → supervisor statistics. */
typedef struct {
    char type;                      /* 'S' */
    uint64_t in, out, errors, drops, redelivered;
    uint64_t clients_idle, clients_slow; /* edges: clients closed */
    uint64_t clients;               /* edges: connected now (not a sum) */
    uint32_t hist[MU__FLOW_HIST];
} mu__runner_stats_t;

/*  Supervisor → caller statistics: 'T', 3 bytes padding, uint32 count, then
    count mu_flow_stats_t rows. */
#define MU__FLOW_STATS_HDR 8

/*  Caller → supervisor. */
typedef struct {
    char type;                      /* 'S' stop, 'T' stats request */
    int timeout_ms;
} mu__caller_req_t;

/*  Supervisor → caller end notice. */
typedef struct {
    char type;                      /* 'F' */
    int rc;
    char error[256];
} mu__flow_end_t;

/* ---- a runner process ------------------------------------------------------ */

typedef struct mu__runner_t mu__runner_t;
typedef struct mu__rel_t mu__rel_t;
typedef struct mu__inproc_t mu__inproc_t;
typedef struct mu__outbox_t mu__outbox_t;

struct mu_flow_emit_t {
    mu__runner_t *runner;
    int to_clients;                 /* 0: downstream; 1: the edge's clients */
    void *edge;                     /* edge state for to_clients */
    mu__outbox_t *outbox;           /* a thread handler's: queue to the runner */
};

struct mu__runner_t {
    mu_flow_t *flow;
    mu__stage_t *st;
    int stage, index;
    void *zctx;
    void *pull;                     /* input from the previous stage, or NULL */
    void **push;                    /* one per runner of the next stage */
    int npush;
    bool *dead_down;                /* downstream runner gone during a drain */
    mu__stage_t *next;
    int ctl;
    mu__runner_stats_t stats;
    int64_t last_stats_ms;
    int rr;
    int n_up, neos;
    bool *eos;                      /* end-of-stream seen per upstream runner */
    bool drain_req, exit_req;
    void *state;
    mu__rel_t *rel;                 /* at-least-once sender state, or NULL */
    void **ack_push;                /* at-least-once receiver: per upstream runner */
    uint64_t (*acks)[MU__ACK_BATCH]; /* ids to acknowledge, per upstream runner */
    int *nacks;
    mu__inproc_t *inproc;           /* worker with in-process handlers, or NULL */
    /*  The runner's service hook for the layers below it (links,
        reliable, in-process handlers) while they wait: reads control
        messages, takes acks, sends statistics; MU_EINTR when told to
        exit (mu__runner_service). */
    int (*service)(mu__runner_t *r);
    mu__zap_t *zap;                 /* ZAP handler of zctx (CURVE server), or NULL */
    mu__zap_domain_t *zap_domain;   /* its domain: the flow's client key */
    uint64_t zap_refused_seen;      /* refusals counted into stats so far */
};

/* ---- links (mu_flow_links.c): below the runner core ------------------------- */

/*  Sends the acknowledgements gathered so far (at-least-once receivers). */
void mu__runner_flush_acks(mu__runner_t *r);

/*  Balanced send of m (consumed) over the live downstream runners;
    *target_p gets the runner. 0, 1 (dropped on a dropping stage),
    MU_EINTR. */
int mu__runner_send_balanced(mu__runner_t *r, zmq_msg_t *m, int *target_p);

/*  Sends the end-of-stream marker to every downstream runner (behind what
    was sent before). 0 or MU_EINTR. */
int mu__links_send_eos(mu__runner_t *r);

/* ---- at-least-once (mu_flow_reliable.c): below the links ------------------- */

/*  What reliability needs from above, given at set-up (it calls nothing
    of the runner or the links by name): a balanced send and a wait for
    acknowledgements (or control; MU_EINTR when told to exit). */
typedef struct {
    int (*send_balanced)(mu__runner_t *r, zmq_msg_t *m, int *target_p);
    int (*wait_acks)(mu__runner_t *r);
} mu__rel_port_t;

int mu__rel_setup(mu__runner_t *r, void *ack_pull, const mu__rel_port_t *port);
void *mu__rel_ack_socket(const mu__runner_t *r);
size_t mu__rel_unacked(const mu__runner_t *r);
void mu__rel_take_acks(mu__runner_t *r);
void mu__rel_dead(mu__runner_t *r, int target);
int mu__rel_redeliver(mu__runner_t *r);
int mu__rel_send(mu__runner_t *r, const void *data, size_t size);
bool mu__rel_parse(const void *msg, size_t size, int *sender_p, uint64_t *id_p);
size_t mu__rel_header(void);

/* in-process handlers of a worker runner (mu_flow_bus.c) */

/*  The send in-process handlers' outputs take (the links' mu__runner_send,
    given by the worker loop: this part calls nothing above it by name). */
typedef int mu__inproc_send_fn(mu__runner_t *r, const void *data, size_t size);

/*  Creates the runner's bus with the stage's handlers, its output queue and
    that queue's eventfd; outputs go out with send. 0 (also with no handler
    declared), MU_ENOMEM, or -errno. */
int mu__inproc_start(mu__runner_t *r, mu__inproc_send_fn *send);

/*  The eventfd readable when thread handlers queued outputs; -1 without. */
int mu__inproc_fd(const mu__runner_t *r);

/*  Sends downstream what thread handlers queued (runner thread only).
    0, or MU_EINTR when told to exit. */
int mu__inproc_flush(mu__runner_t *r);

/*  Waits until every thread handler is idle with nothing queued, sending
    their outputs meanwhile. 0, or MU_EINTR when told to exit. */
int mu__inproc_drain(mu__runner_t *r);

/*  Handler errors since the last call. */
uint64_t mu__inproc_take_errors(mu__runner_t *r);

/*  Stops the threads and frees the runner's bus (after a drain). */
void mu__inproc_stop(mu__runner_t *r);

/*  Queues a thread handler's output for the runner thread (waits while
    full). 0, MU_EPIPE (last stage), MU_ENOMEM. */
int mu__outbox_put(mu__outbox_t *ob, const void *data, size_t size);

/*  Sends one message downstream with the link's routing; waits for room
    (unless the stage drops). 0, MU_EPIPE (no next stage), MU_EINTR (told to
    exit), MU_ENOMEM. */
int mu__runner_send(mu__runner_t *r, const void *data, size_t size);

/* ---- the runner core (mu_flow_runner.c) ----------------------------------- */

/*  Creates the runner's context and sockets (exits the process when it
    cannot); sets r->service. */
void mu__runner_setup(mu__runner_t *r);

/*  The service hook: control, acks, statistics; MU_EINTR when told to exit. */
int mu__runner_service(mu__runner_t *r);

/*  Waits for acknowledgements (or control); MU_EINTR when told to exit. */
int mu__runner_wait_acks(mu__runner_t *r);

/*  Reads pending control messages from the supervisor (never waits). */
void mu__runner_ctl(mu__runner_t *r);

/*  Sends statistics when the period has passed. */
void mu__runner_tick(mu__runner_t *r);

/*  Handles one message from the pull socket (data or end of stream). For
    data: counts it and calls fn(r, payload, size, ctx), timing it. */
typedef int mu__runner_deliver_fn(mu__runner_t *r, const void *data, size_t size, void *ctx);
void mu__runner_take(mu__runner_t *r, const void *msg, size_t size, mu__runner_deliver_fn *fn,
                     void *ctx);

/*  True when every upstream runner has ended. */
bool mu__runner_input_done(const mu__runner_t *r);

/*  Ends the runner: end-of-stream behind the last message on every
    downstream socket, 'd' to the supervisor, then waits for 'X' and exits. */
void mu__runner_finish(mu__runner_t *r) __attribute__((noreturn));

/*  Logs through czmq's zsys_<level> (error, warning, info, debug) with the
    runner's identity: "mu_flow flow/stage/index (pid N): message". */
#define mu__rlog(level, r, fmt, ...)                                                      \
    zsys_##level("mu_flow %s/%s/%d (pid %d): " fmt, (r)->flow->name, (r)->st->name,     \
                 (r)->index, (int) getpid(), ##__VA_ARGS__)

/*  In a process the flow forked: czmq's logging without czmq's SIGINT and
    SIGTERM handlers (the flow's processes set their own). */
void mu__flow_log_setup(void);

/*  CURVE on pinned links (mu_flow_curve.c): makes socket (of r->zctx) a
    server, starting libmutil's ZAP handler of r->zctx (r->zap, net/mu_zap.h)
    on first use, or a client; 0, MU_ENOMEM or MU_EINVAL (also when r->zap
    serves another context or process: never a CURVE server without a live
    handler). Before bind or connect. mu__curve_refused returns the
    handshakes r's handler refused since the last call. */
int mu__curve_server(mu__runner_t *r, void *socket);
int mu__curve_client(mu__runner_t *r, void *socket);
uint64_t mu__curve_refused(mu__runner_t *r);

/* ---- an edge client's outbound queue (mu_flow_msgq.c) ----------------------- */

typedef struct mu__msg_t mu__msg_t;

/*  A FIFO of message copies. bytes counts each message's payload plus
    MU__MSGQ_OVERHEAD (what a queued message costs beside its payload).
    Zero-initialised: empty. */
typedef struct {
    mu__msg_t *head, *tail;
    size_t bytes;
    size_t count;
} mu__msgq_t;

#define MU__MSGQ_OVERHEAD 32

/*  Appends a copy of data. 0 or MU_ENOMEM (nothing queued). */
int mu__msgq_push(mu__msgq_t *q, const void *data, size_t size);

/*  The oldest message, valid until it is popped; false when empty. */
bool mu__msgq_peek(const mu__msgq_t *q, const void **data_p, size_t *size_p);

/*  Removes the oldest message (the queue must not be empty). */
void mu__msgq_pop(mu__msgq_t *q);

/*  Drops the oldest messages until bytes <= max_bytes; returns how many. */
size_t mu__msgq_trim(mu__msgq_t *q, size_t max_bytes);

/*  Drops everything. */
void mu__msgq_clear(mu__msgq_t *q);

/*  The edge runner's loop (mu_flow_edge.c); never returns. */
void mu__flow_edge_main(mu__runner_t *r) __attribute__((noreturn));

/*  A TCP client's pipe as an edge sets it up (TCP_NODELAY, max_frame, no
    waiting, no linger); owns fd once it returns a pipe, else NULL (fd is
    left open). */
mu_pipe_t *mu__edge_pipe_new(int fd, uint32_t max_frame);

/*  Called per whole frame a client sent (data valid during the call); a
    non-zero return stops the reading and is returned. */
typedef int mu__edge_frame_fn(void *ctx, const void *data, size_t size);

/*  The edge's frame reader: hands fn every whole frame the client pipe p
    holds or can read now. Returns MU_EAGAIN (more bytes needed), fn's
    non-zero return, or the pipe's end of the stream or error (MU_ECLOSED
    after whole frames, MU_ETRUNCATED, MU_EPROTO for a frame over the
    maximum, ...): then the client is done. (Exposed for the fuzz target.) */
int mu__edge_read_frames(mu_pipe_t *p, mu__edge_frame_fn *fn, void *ctx);

/*  Sends to the clients of the edge (emitter with to_clients). */
int mu__flow_edge_emit(void *edge, const void *data, size_t size);

/* ---- helpers shared by the parts ---------------------------------------- */

/*  CLOCK_MONOTONIC in nanoseconds (handler latencies). */
int64_t mu__flow_now_ns(void);

/*  Histogram bucket of a latency in nanoseconds, and a bucket's middle. */
int mu__flow_bucket(uint64_t ns);
double mu__flow_bucket_us(int bucket);

/*  Percentile q (0..1) of a histogram, microseconds; 0 when empty. */
double mu__flow_percentile(const uint32_t *hist, double q);

/*  ipc endpoint of runner index of stage into buf. */
void mu__flow_endpoint(const mu_flow_t *flow, int stage, int index, char *buf, size_t cap);

/*  Names the process "flow/stage/index" (PR_SET_NAME and the argv area). */
void mu__flow_set_title(const char *title);

/*  Removes the flow's endpoint directory and what is in it. */
void mu__flow_remove_dir(const char *dir);

/*  Sends sig to the calling process when its parent dies (PR_SET_PDEATHSIG),
    then _exits at once if the parent is already not parent_pid. */
void mu__flow_die_with_parent(pid_t parent_pid, int sig);

/*  The supervisor's main; never returns. ctl is its end to the caller. */
void mu__flow_supervise(mu_flow_t *flow, int ctl) __attribute__((noreturn));

/*  A runner process's main; never returns. ctl is its end to the
    supervisor. */
void mu__flow_runner_main(mu_flow_t *flow, int stage, int index, int ctl)
    __attribute__((noreturn));

#endif
