/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_int.h — private types every part of mu_flow shares (the flow
    definition, control messages, the runner's state, the emitter), the
    runner's log macro and the helpers of mu_flow_util.c. The functions of
    each part are declared in its own header (mu_flow_<part>.h), which a
    file includes only when it calls that part. Never installed. */
#ifndef MU_FLOW_INT_H_INCLUDED
#define MU_FLOW_INT_H_INCLUDED

#include "base/mu_internal.h"
#include "base/mu_log_limit.h"
#include "mu_log.h"
#include "net/mu_zap.h"
#include <stdbool.h>
#include <sys/types.h>
#include <czmq.h>
#include <unistd.h>
#include <zmq.h>

#define MU__FLOW_NAME 32
#define MU__FLOW_MAX_RUNNERS 256
#define MU__FLOW_HIST 128     /* latency histogram buckets */
#define MU__FLOW_STATS_MS 100 /* runner → supervisor stats period */
#define MU__REL_WINDOW 4096   /* unacknowledged messages per sender */
#define MU__ACK_BATCH 64      /* ids per acknowledgement message */

#define MU__FLOW_MAX_HOSTS 64

/*  A host of a multi-host flow (mu_flow_add_host). */
typedef struct {
    char name[64];
    char address[64];
    int base_port;
    bool has_key, has_secret; /* mu_flow_set_host_keys */
    uint8_t pub[32], sec[32];
} mu__host_t;

typedef enum { MU__ST_WORKER, MU__ST_SOURCE, MU__ST_FD_SOURCE, MU__ST_EDGE } mu__stage_kind_t;

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
    int n; /* runners */
    mu_flow_startup_fn *startup;
    mu_flow_handler_fn *handler;
    mu_flow_source_fn *source;
    void *arg;
    int *fds;              /* fd source: n descriptors */
    mu_flow_edge_t *edges; /* edge stage: n edges */
    int *listen_fds;       /* edge stage: bound sockets (-1: connect) */
    int *ports;
    mu_flow_link_t link; /* link into this stage */
    mu_flow_filter_fn *filter;
    mu_flow_key_fn *key;
    void *link_arg;
    bool drop;
    bool reliable;                 /* at-least-once on the link into it */
    char host[64];                 /* pinned input endpoints: tcp://host:port+i */
    int base_port;                 /* 0: ipc:// in the flow's directory */
    bool remote;                   /* run by another process, not here */
    mu_flow_teardown_fn *teardown; /* worker stage: drain hook, or NULL */
    mu_flow_timer_fn *timer;       /* worker stage: timer hook, or NULL */
    int timer_ms;                  /* its interval */
    int header_bytes;              /* fd source, TCP edge: frame prefix; 0: 4 */
    mu__inproc_def_t *inproc;      /* worker stage: in-process handlers */
    int ninproc;
    int *on_host;   /* multi-host: runners per host (MU__FLOW_MAX_HOSTS), or NULL */
    int gn, gfirst; /* multi-host, once localised: runners on every host, and
                       the global index of this host's first (n: this host's) */
    int pipe;       /* its pipeline (index in mu_flow_t.pipes; 0 without) */
} mu__stage_t;

#define MU__FLOW_MAX_PIPES 64

/*  A named pipeline (mu_flow_add_pipeline): its stages are consecutive. */
typedef struct {
    char name[MU__FLOW_NAME];
    mu_flow_pipeline_policy_t policy;
} mu__pipe_t;

/*  Supervisor → caller, after the rows of a statistics message: how each
    pipeline stands (one per pipeline; one for a flow without pipelines). */
typedef struct {
    int32_t state; /* mu_flow_state_t */
    int32_t rc;
    char error[256];
} mu__pipe_end_t;

struct mu_flow_t {
    char name[MU__FLOW_NAME];
    mu__stage_t *stages;
    int nstages;
    int max_restarts, window_ms, drain_ms;
    char dir[64];           /* ipc:// endpoints live here */
    uint8_t link_token[16]; /* proven by runners on local links (mu_flow_ulink.h) */
    int dir_lock;           /* its lock file, held (flock) while the flow lives; -1 */
    bool started, ended;
    pid_t super_pid;
    int ctl; /* socket pair end to the supervisor */
    int end_rc;
    char error[256];
    mu_flow_stats_t *stats; /* last snapshot */
    size_t nstats;
    /* Which runners are set up (mu_flow_ready.c): a page shared with the
       supervisor and the runners (NULL before the start), and the eventfd
       its writers add to (-1). */
    uint8_t *ready_page;
    int ready_fd;
    bool curve;      /* CURVE on pinned links */
    uint8_t curve_server_pub[32], curve_server_sec[32];
    uint8_t curve_client_pub[32], curve_client_sec[32];
    /* multi-host (mu_flow_hosts.c) */
    mu__host_t *hosts; /* MU__FLOW_MAX_HOSTS slots once a host is added */
    int nhosts;
    int self_host; /* -1: not set */
    int hb_interval_ms, hb_timeout_ms;
    int stage_deadline_ms;
    bool stage_deadline_fail;
    bool pinned; /* mu_flow_set_local or mu_flow_set_endpoint was called */
    /* named pipelines (mu_flow_pipes.c); npipes 0: one implicit pipeline */
    mu__pipe_t *pipes;
    int npipes;
    mu__pipe_end_t *pipe_ends; /* caller: last reported, npipe_ends of them */
    int npipe_ends;
};

/*  The number of pipelines (1 without named ones) and the name of
    pipeline p (the flow's name without named ones). */
static inline int
mu__flow_npipes(const mu_flow_t *f)
{
    return f->npipes > 0 ? f->npipes : 1;
}

static inline const char *
mu__flow_pipe_name(const mu_flow_t *f, int p)
{
    return f->npipes > 0 ? f->pipes[p].name : f->name;
}

/*  Whether stage s is the first (no input link) or the last (no output
    link) stage of its pipeline. */
static inline bool
mu__flow_first(const mu_flow_t *f, int s)
{
    return s == 0 || f->stages[s].pipe != f->stages[s - 1].pipe;
}

static inline bool
mu__flow_last(const mu_flow_t *f, int s)
{
    return s == f->nstages - 1 || f->stages[s].pipe != f->stages[s + 1].pipe;
}

/* ---- control messages (SOCK_SEQPACKET) ------------------------------------ */

/*  Runner → supervisor statistics. */
typedef struct {
    char type; /* 'S' */
    uint64_t in, out, errors, drops, redelivered;
    uint64_t clients_idle, clients_slow; /* edges: clients closed */
    uint64_t clients;                    /* edges: connected now (not a sum) */
    uint64_t duplicates, peers_lost, peers_joined, auth_failures; /* multi-host */
    int64_t live_down; /* multi-host: live runners of the next stage, or -1 */
    uint32_t hist[MU__FLOW_HIST];
} mu__runner_stats_t;

/*  Supervisor → caller statistics: 'T', 1 byte padding, uint16 pipelines,
    uint32 count, then count mu_flow_stats_t rows, then one mu__pipe_end_t
    per pipeline. */
#define MU__FLOW_STATS_HDR 8

/*  Caller → supervisor. */
typedef struct {
    char type; /* 'S' stop, 'T' stats request */
    int timeout_ms;
} mu__caller_req_t;

/*  Supervisor → caller end notice. */
typedef struct {
    char type; /* 'F' */
    int rc;
    char error[256];
} mu__flow_end_t;

/* ---- a runner process ------------------------------------------------------ */

typedef struct mu__runner_t mu__runner_t;
typedef struct mu__rel_t mu__rel_t;
typedef struct mu__inproc_t mu__inproc_t;
typedef struct mu__outbox_t mu__outbox_t;
typedef struct mu__net_t mu__net_t;
typedef struct mu__ulink_in_t mu__ulink_in_t;
typedef struct mu__ulink_out_t mu__ulink_out_t;

struct mu_flow_emit_t {
    mu__runner_t *runner;
    int to_clients;       /* 0: downstream; 1: the edge's clients */
    void *edge;           /* edge state for to_clients */
    mu__outbox_t *outbox; /* a thread handler's: queue to the runner */
};

struct mu__runner_t {
    mu_flow_t *flow;
    mu__stage_t *st;
    int stage, index;
    void *zctx;
    /*  Input from the previous stage, or NULL: a ZeroMQ PULL socket, or
        on a local link (mu_flow_ulink.c) the receiver uin itself, which
        only mu__runner_recv and mu__runner_poll look into. */
    void *pull;
    mu__ulink_in_t *uin;    /* the local link input, or NULL */
    void **push;            /* one per runner of the next stage (ZeroMQ), or NULL */
    mu__ulink_out_t **uout; /* one per runner of the next stage on a local link, or NULL */
    int npush;
    bool *dead_down; /* downstream runner gone during a drain */
    mu__stage_t *next;
    int ctl;
    mu__runner_stats_t stats;
    int64_t last_stats_ms;
    int rr;          /* balanced link: the runner the current run goes to */
    int rr_run;      /* messages of that run so far (mu_flow_links.c) */
    int *parts;      /* per push socket: data parts of its open batch, 0: none */
    uint8_t **frame; /* per push socket: the open batch's framed parts after its first */
    size_t *framed;  /* bytes in frame[j] */
    int nopen;       /* push sockets with an open batch */
    bool in_batches; /* the input carries batches: framed parts are taken */
    int64_t open_ns; /* when the oldest open batch opened */
    int64_t held_ns; /* local links: when the oldest full batch held unwritten
                        opened (mu_flow_links.c), 0: none */
    int pull_fd;     /* the input socket's ZMQ_FD, when pull_fd_ok */
    bool pull_fd_ok;
    bool pull_idle; /* the last receive from the input socket found nothing */
    int n_up, neos;
    bool *eos; /* end-of-stream seen per upstream runner */
    bool drain_req, exit_req;
    void *state;
    mu__rel_t *rel;                  /* at-least-once sender state, or NULL */
    void **ack_push;                 /* at-least-once receiver: per upstream runner */
    uint64_t (*acks)[MU__ACK_BATCH]; /* ids to acknowledge, per upstream runner */
    int *nacks;
    mu__inproc_t *inproc; /* worker with in-process handlers, or NULL */
    /*  The runner's service hook for the layers below it (links,
        reliable, in-process handlers) while they wait: reads control
        messages, takes acks, sends statistics; MU_EINTR when told to
        exit (mu__runner_service). */
    int (*service)(mu__runner_t *r);
    mu__zap_t *zap;                /* ZAP handler of zctx (CURVE server), or NULL */
    mu__zap_domain_t *zap_domain;  /* its domain: the flow's client key */
    uint64_t zap_refused_seen;     /* refusals counted into stats so far */
    mu__net_t *net;                /* multi-host links (mu_flow_net.c), or NULL */
    mu__log_limit_t bad_input_log; /* "malformed ... dropped": one line a second */
};

/*  mu_log levels by name, for mu__rlog and the other flow log macros. */
#define MU__FLOW_LOG_error MU_LOG_ERROR
#define MU__FLOW_LOG_warning MU_LOG_WARNING
#define MU__FLOW_LOG_info MU_LOG_INFO
#define MU__FLOW_LOG_debug MU_LOG_DEBUG

/*  Logs through mu_log (module "flow") at level (error, warning, info,
    debug) with the runner's identity: "mu_flow flow/stage/index (pid N):
    message". */
#define mu__rlog(level, r, fmt, ...)                                                         \
    mu_log(MU__FLOW_LOG_##level, "flow", "mu_flow %s/%s/%d (pid %d): " fmt, (r)->flow->name, \
           (r)->st->name, (r)->index, (int) getpid(), ##__VA_ARGS__)

/*  In a process the flow forked: no czmq SIGINT and SIGTERM handlers (the
    flow's processes set their own). Logging goes through mu_log, which
    fork leaves unbuffered in the child (mu_log.h). */
void mu__flow_log_setup(void);

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

/*  In the supervisor just forked by parent_pid: blocks no signal (the
    thread that called mu_flow_start may block some, e.g. in a program that
    takes its signals on one thread; the supervisor and its runners need
    SIGINT, SIGTERM and SIGHUP to reach their handlers), then _exits at
    once if the parent is already gone. No parent-death signal: the kernel
    sends it when the thread that forked ends, and that thread may end
    before the flow; the supervisor sees the caller go by its control
    socket and getppid(). */
void mu__flow_supervisor_begin(pid_t parent_pid);

/*  Before mu_flow_start forks, in sanitizer (ASan) builds only: waits, at
    most MU__FLOW_QUIESCE_MS, until no other thread of the process is
    running, so that none holds an allocator lock at the fork (doc/flow.md,
    "Forking in sanitizer builds"). Does nothing in other builds. */
#define MU__FLOW_QUIESCE_MS 500
void mu__flow_fork_quiesce(void);

/* ---- which runners are set up (mu_flow_ready.c) ------------------------- */

/*  What the shared page says about the runners of this process's flow. */
typedef struct {
    int want;        /* runners of this process */
    int ready;       /* set up once (a restarted runner counts once) */
    int settled;     /* ready, or of a pipeline that ended */
    int ws_waiting;  /* listening WebSocket edges not ready, pipeline running */
    int failed_pipe; /* a failed pipeline with a runner never ready, or -1 */
    int failed_rc;   /* its code */
} mu__flow_ready_t;

/*  Before the supervisor is forked: the shared page and the eventfd.
    Returns 0 or the -errno of mmap or eventfd. */
int mu__flow_ready_open(mu_flow_t *self);

/*  Unmaps the page and closes the eventfd (mu_flow_destroy, a failed
    start). */
void mu__flow_ready_close(mu_flow_t *self);

/*  In a runner, once set up (linked downstream, startup hook done, a
    listening edge listening): says so to the caller. Never fails. */
void mu__flow_say_ready(const mu_flow_t *flow, int stage, int index);

/*  In the supervisor: pipeline `pipe` ended with rc (0: finished); its
    runners not ready are no longer waited for. */
void mu__flow_ready_pipe_ended(const mu_flow_t *flow, int pipe, int rc);

/*  Counts what the page says now into *out. */
void mu__flow_ready_count(const mu_flow_t *self, mu__flow_ready_t *out);

/*  mu_flow_start: waits until every listening WebSocket edge of this
    process is ready or its pipeline ended, or the supervisor sent
    something or went away (the flow ended, as mu_flow_wait will tell). */
void mu__flow_ready_wait_ws(mu_flow_t *self);

/*  Waits up to timeout_ms (-1: no limit) for a change on the page or for
    the supervisor's socket; returns whether the latter is readable. */
bool mu__flow_ready_wait(const mu_flow_t *self, int timeout_ms);

#endif
