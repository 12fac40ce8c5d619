/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_curve.c — CURVE on the pinned (tcp://) links of a split flow.

    A runner whose input is pinned makes its PULL socket a CURVE server with
    the flow's server keypair; runners sending to a pinned stage are CURVE
    clients with the flow's client keypair. Links over ipc:// stay plain.

    ZAP: each runner has its own ZeroMQ context, so its handshakes are
    answered by libmutil's ZAP handler instance of that context
    (net/mu_zap.h, mu__zap_new_for), started on first use with one domain
    whose allow-list is the flow's client key: everything else is refused,
    counted (an error of the runner) and logged, rate-limited, with the
    runner's identity. Fail closed: no CURVE server socket is made unless
    r->zap serves r->zctx in this process (libzmq 4.3.4 lets every CURVE
    client in when no handler answers); a runner may be a fork of another
    flow's runner (a flow started by a handler), whose handler is not its
    own. */
#include "flow/mu_flow_int.h"
#include "flow/mu_flow_curve.h"
#include "net/mu_zap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*  Starts the ZAP handler of r's context with the flow's allow-list of
    one key (r->zap, r->zap_domain). 0, MU_ENOMEM or MU_EINVAL. */
static int
zap_start(mu__runner_t *r)
{
    char label[128];
    snprintf(label, sizeof label, "mu_flow %s/%s/%d (pid %d)", r->flow->name, r->st->name, r->index,
             (int) getpid());
    mu_allow_t *allow = mu_allow_new();
    const mu_flow_t *f = r->flow;
    bool ok = allow != NULL;
    if (ok && f->curve)
        ok = mu_allow_add(allow, f->curve_client_pub) == 0;
    for (int h = 0; ok && !f->curve && h < f->nhosts; h++) /* per-host keys */
        ok = mu_allow_add(allow, f->hosts[h].pub) == 0;
    if (!ok) {
        mu_allow_destroy(&allow);
        return MU_ENOMEM;
    }
    int rc = 0;
    mu__zap_t *zap = mu__zap_new_for(r->zctx, label);
    mu__zap_domain_t *domain = zap ? mu__zap_add_domain(zap, allow) : NULL;
    if (!zap)
        rc = errno == ENOMEM ? MU_ENOMEM : MU_EINVAL;
    else if (!domain)
        rc = MU_ENOMEM; /* the handler stays, serving no domain: refuses all */
    mu_allow_destroy(&allow);
    if (zap) {
        r->zap = zap;
        r->zap_domain = domain;
    }
    return rc;
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
    if (!mu__zap_serves(r->zap, r->zctx) || !r->zap_domain) {
        mu__rlog(error, r, "refusing a CURVE server socket: no ZAP handler runs for its context");
        return MU_EINVAL;
    }
    const char *domain = mu__zap_domain_name(r->zap_domain);
    int one = 1;
    const mu_flow_t *f = r->flow;
    if (zmq_setsockopt(socket, ZMQ_CURVE_SERVER, &one, sizeof one) != 0
        || zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY,
                          f->curve ? f->curve_server_sec : f->hosts[f->self_host].sec, 32)
               != 0
        || zmq_setsockopt(socket, ZMQ_ZAP_DOMAIN, domain, strlen(domain)) != 0)
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

int
mu__curve_client_to(mu__runner_t *r, void *socket, const uint8_t *server_public)
{
    const mu_flow_t *f = r->flow;
    const uint8_t *pub = f->curve ? f->curve_client_pub : f->hosts[f->self_host].pub;
    const uint8_t *sec = f->curve ? f->curve_client_sec : f->hosts[f->self_host].sec;
    if (zmq_setsockopt(socket, ZMQ_CURVE_SERVERKEY, server_public, 32) != 0
        || zmq_setsockopt(socket, ZMQ_CURVE_PUBLICKEY, pub, 32) != 0
        || zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, sec, 32) != 0)
        return MU_EINVAL;
    return 0;
}

uint64_t
mu__curve_refused(mu__runner_t *r)
{
    if (!r->zap_domain)
        return 0;
    uint64_t total = mu__zap_failures(r->zap_domain);
    uint64_t d = total - r->zap_refused_seen;
    r->zap_refused_seen = total;
    return d;
}
