/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_curve.h — private: CURVE on pinned links (mu_flow_curve.c) over
    net/mu_zap. Never installed. */
#ifndef MU_FLOW_CURVE_H_INCLUDED
#define MU_FLOW_CURVE_H_INCLUDED

#include "flow/mu_flow_int.h"

/*  CURVE on pinned links (mu_flow_curve.c): makes socket (of r->zctx) a
    server, starting libmutil's ZAP handler of r->zctx (r->zap, net/mu_zap.h)
    on first use, or a client; 0, MU_ENOMEM or MU_EINVAL (also when r->zap
    serves another context or process: never a CURVE server without a live
    handler). Before bind or connect. mu__curve_refused returns the
    handshakes r's handler refused since the last call. */
int mu__curve_server(mu__runner_t *r, void *socket);
int mu__curve_client(mu__runner_t *r, void *socket);
uint64_t mu__curve_refused(mu__runner_t *r);

/*  Multi-host links: a CURVE client towards a server with that public key,
    with the flow's client pair (mu_flow_set_curve) or this host's pair
    (mu_flow_set_host_keys); before each connect. 0 or MU_EINVAL. */
int mu__curve_client_to(mu__runner_t *r, void *socket, const uint8_t *server_public);

#endif
