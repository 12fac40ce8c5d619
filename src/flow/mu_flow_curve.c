/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_curve.c — CURVE on the pinned (tcp://) links of a split flow.

    A runner whose input is pinned makes its PULL socket a CURVE server with
    the flow's server keypair; runners sending to a pinned stage are CURVE
    clients with the flow's client keypair. Each runner has its own ZeroMQ
    context, so it runs its own ZAP handler: a thread answering on
    inproc://zeromq.zap.01 that accepts exactly the flow's client public key
    and refuses (status 400, logged, counted as an error of the runner)
    everything else. The refusal lines are rate-limited as the ZAP
    handler's (mu_log_limit.h): at most one a second, the others counted
    in a "N more" line. Links over ipc:// inside one process's flow are left
    plain.

    Invariant: no CURVE server socket exists in a context without a live
    ZAP handler of that same context, because libzmq 4.3.4 lets every CURVE
    client in when no handler answers. So the handler belongs to the
    runner (r->zap), names the context and the process it serves, and
    mu__curve_server refuses (MU_EINVAL: the runner then exits) a handler
    of another context or of another process: a forked process has none of
    its parent's threads, and a runner may be a fork of another flow's
    runner (a flow started by a handler). The thread lives as long as its
    context: it closes its socket and ends when the context is terminated
    (runners never do: they _exit). */
#include "flow/mu_flow_int.h"
#include "base/mu_escape.h"
#include "base/mu_log_limit.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct mu__flow_zap_t {
    mu__runner_t *r;
    void *zctx;             /* the context it serves */
    pid_t pid;              /* the process its thread runs in */
    void *rep;
    _Atomic uint64_t refused;
    mu__log_limit_t log;    /* the refusal lines (handler thread only) */
};

typedef mu__flow_zap_t zap_t;

/*  Logs the count of refusals not logged, when there are some. */
static void
log_suppressed(const zap_t *z, uint64_t count)
{
    if (count > 0)
        mu__runner_log(z->r, "%" PRIu64 " more CURVE handshakes refused, not logged (at most "
                       "one line per second)", count);
}

/*  Logs a refused handshake from the address frame (n parts), or counts
    it when its second already has its line. */
static void
log_refusal(zap_t *z, char parts[][256], const size_t *sizes, int n)
{
    uint64_t before = 0;
    if (!mu__log_limit_admit(&z->log, mu__now_ms(), &before))
        return;
    log_suppressed(z, before);
    char addr[64] = "?";
    if (n >= 4)
        mu__escape(addr, sizeof addr, parts[3], sizes[3]);
    mu__runner_log(z->r, "CURVE handshake refused from %s: unknown client key", addr);
}

/*  Waits for a request; meanwhile logs the count of the refusals not
    logged once their second is over. Returns 1 (a request waits), or -1
    (the context ends). */
static int
wait_request(zap_t *z)
{
    for (;;) {
        zmq_pollitem_t item = { z->rep, 0, ZMQ_POLLIN, 0 };
        int n = zmq_poll(&item, 1, mu__log_limit_wait_ms(&z->log, mu__now_ms()));
        if (n > 0)
            return 1;
        if (n < 0 && zmq_errno() != EINTR)
            return -1;
        bool waiting;
        log_suppressed(z, mu__log_limit_due(&z->log, mu__now_ms(), &waiting));
    }
}

/*  Receives one multipart request into parts (at most cap, each at most
    255 bytes kept); returns the part count or -1. */
static int
recv_request(void *rep, char parts[][256], size_t *sizes, int cap)
{
    int n = 0, more = 1;
    while (more) {
        char buf[256];
        int len = zmq_recv(rep, buf, sizeof buf, 0);
        if (len < 0)
            return -1;
        if (n < cap) {
            sizes[n] = (size_t) len < sizeof buf ? (size_t) len : sizeof buf;
            memcpy(parts[n], buf, sizes[n]);
            n++;
        }
        size_t sz = sizeof more;
        zmq_getsockopt(rep, ZMQ_RCVMORE, &more, &sz);
    }
    return n;
}

static void *
zap_main(void *arg)
{
    zap_t *z = arg;
    const mu_flow_t *f = z->r->flow;
    char parts[8][256];
    size_t sizes[8];
    for (;;) {
        int n = wait_request(z) < 0 ? -1 : recv_request(z->rep, parts, sizes, 8);
        if (n < 0) { /* the context ends: let its termination finish */
            zmq_close(z->rep);
            return NULL;
        }
        /* version, request id, domain, address, identity, mechanism, key */
        bool ok = n >= 7 && sizes[5] == 5 && memcmp(parts[5], "CURVE", 5) == 0
                  && sizes[6] == 32 && memcmp(parts[6], f->curve_client_pub, 32) == 0;
        if (!ok) {
            atomic_fetch_add(&z->refused, 1);
            log_refusal(z, parts, sizes, n);
        }
        zmq_send(z->rep, "1.0", 3, ZMQ_SNDMORE);
        zmq_send(z->rep, n >= 2 ? parts[1] : "", n >= 2 ? sizes[1] : 0, ZMQ_SNDMORE);
        zmq_send(z->rep, ok ? "200" : "400", 3, ZMQ_SNDMORE);
        zmq_send(z->rep, ok ? "OK" : "unknown key", ok ? 2 : 11, ZMQ_SNDMORE);
        zmq_send(z->rep, "", 0, ZMQ_SNDMORE);
        zmq_send(z->rep, "", 0, 0);
    }
}

/*  Starts the ZAP handler of r's context (r->zap). 0 or MU_EINVAL / MU_ENOMEM. */
static int
zap_start(mu__runner_t *r)
{
    zap_t *z = calloc(1, sizeof *z);
    if (!z)
        return MU_ENOMEM;
    z->r = r;
    z->zctx = r->zctx;
    z->pid = getpid();
    int linger = 0;
    z->rep = zmq_socket(r->zctx, ZMQ_REP);
    pthread_t tid;
    if (!z->rep || zmq_setsockopt(z->rep, ZMQ_LINGER, &linger, sizeof linger) != 0
        || zmq_bind(z->rep, "inproc://zeromq.zap.01") != 0) {
        mu__runner_log(r, "cannot start the ZAP handler: %s", zmq_strerror(zmq_errno()));
        if (z->rep)
            zmq_close(z->rep);
        free(z);
        return MU_EINVAL;
    }
    if (pthread_create(&tid, NULL, zap_main, z) != 0) {
        mu__runner_log(r, "cannot start the ZAP handler thread");
        zmq_close(z->rep);
        free(z);
        return MU_EINVAL;
    }
    pthread_detach(tid);
    r->zap = z;
    return 0;
}

int
mu__curve_server(mu__runner_t *r, void *socket)
{
    if (!r->zap) {
        int rc = zap_start(r);
        if (rc != 0)
            return rc;
    }
    /* Fail closed: a handler of another context or process answers none
       of this context's handshakes, and libzmq would let every key in. */
    if (r->zap->zctx != r->zctx || r->zap->pid != getpid()) {
        mu__runner_log(r, "refusing a CURVE server socket: no ZAP handler runs for its context");
        return MU_EINVAL;
    }
    int one = 1;
    const mu_flow_t *f = r->flow;
    if (zmq_setsockopt(socket, ZMQ_CURVE_SERVER, &one, sizeof one) != 0
        || zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, f->curve_server_sec, 32) != 0
        || zmq_setsockopt(socket, ZMQ_ZAP_DOMAIN, "mu-flow", 7) != 0)
        return MU_EINVAL;
    return 0;
}

int
mu__curve_client(mu__runner_t *r, void *socket)
{
    const mu_flow_t *f = r->flow;
    if (zmq_setsockopt(socket, ZMQ_CURVE_SERVERKEY, f->curve_server_pub, 32) != 0
        || zmq_setsockopt(socket, ZMQ_CURVE_PUBLICKEY, f->curve_client_pub, 32) != 0
        || zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, f->curve_client_sec, 32) != 0)
        return MU_EINVAL;
    return 0;
}

uint64_t
mu__curve_refused(mu__runner_t *r)
{
    return r->zap ? atomic_exchange(&r->zap->refused, 0) : 0;
}
