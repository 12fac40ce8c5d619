/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_services.c — mu_server, mu_socket and mu_flow as services. The
    contract is in include/mu_services.h. */
#include "base/mu_internal.h"
#include "mu_services.h"
#include <poll.h>

#define POLL_MS 100

static int
period(int poll_ms)
{
    return poll_ms > 0 ? poll_ms : POLL_MS;
}

/*  A receive error that ends the service (MU_EINTR is a signal: go on,
    the entrypoint decides). */
static bool
fatal(int rc)
{
    return rc < 0 && rc != MU_ETIMEDOUT && rc != MU_EAGAIN && rc != MU_EINTR;
}

static int
server_start(void *arg, mu_service_t *svc)
{
    mu_server_service_t *cfg = arg;
    mu_service_ready(svc);
    while (!mu_service_stopping(svc)) {
        mu_event_t *event = NULL;
        int rc = mu_server_recv(cfg->server, &event, period(cfg->poll_ms));
        if (rc == 0) {
            rc = cfg->on_event(cfg->arg, cfg->server, event);
            mu_event_destroy(&event);
            if (rc < 0)
                return rc;
        } else if (fatal(rc)) {
            return rc;
        }
    }
    return 0;
}

static const mu_service_ops_t s_server_ops = { server_start, NULL };

mu_service_def_t
mu_server_service(mu_server_service_t *cfg, const char *name)
{
    assert(cfg && cfg->server && cfg->on_event && name);
    return (mu_service_def_t) { name, &s_server_ops, cfg };
}

static int
socket_start(void *arg, mu_service_t *svc)
{
    mu_socket_service_t *cfg = arg;
    mu_service_ready(svc);
    while (!mu_service_stopping(svc)) {
        int due = mu_socket_tick(cfg->socket);
        int wait = period(cfg->poll_ms);
        mu_socket_msg_t msg;
        int rc = mu_socket_recv(cfg->socket, &msg, due < wait ? due : wait);
        if (rc == 0) {
            rc = cfg->on_message(cfg->arg, cfg->socket, &msg);
            if (rc < 0)
                return rc;
        } else if (fatal(rc)) {
            return rc;
        }
    }
    return 0;
}

static const mu_service_ops_t s_socket_ops = { socket_start, NULL };

mu_service_def_t
mu_socket_service(mu_socket_service_t *cfg, const char *name)
{
    assert(cfg && cfg->socket && cfg->on_message && name);
    return (mu_service_def_t) { name, &s_socket_ops, cfg };
}

/*  Starts the flow, then watches both the stop event and the flow's end. */
static int
flow_start(void *arg, mu_service_t *svc)
{
    mu_flow_t *flow = arg;
    int rc = mu_flow_start(flow);
    if (rc < 0)
        return rc;
    mu_service_ready(svc);
    for (;;) {
        rc = mu_service_wait_stop(svc, POLL_MS);
        if (rc == 0)
            return mu_flow_stop(flow, -1);
        if (rc != MU_ETIMEDOUT)
            return rc;
        rc = mu_flow_wait(flow, 0);
        if (rc != MU_EAGAIN) /* it ended by itself: done, or failed */
            return rc;
    }
}

static const mu_service_ops_t s_flow_ops = { flow_start, NULL };

mu_service_def_t
mu_flow_service(mu_flow_t *flow, const char *name)
{
    assert(flow && name);
    return (mu_service_def_t) { name, &s_flow_ops, flow };
}
