/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_services.h — ready-made services around mutil objects: a mu_server
    or a mu_socket whose events a handler takes, and a mu_flow that runs
    while the entrypoint runs.

    Each constructor returns a mu_service_def_t for mu_entrypoint_add_def or
    mu_run. The server and socket services are forever services
    (mu_service.h): their start() marks them ready, then receives on the
    service's own thread and calls the handler for each event until the
    stop event; the object is then the caller's again (the service does
    not destroy it). Configure and bind/connect the object before the run;
    while the service runs, only its thread may use it (the handler may
    reply, push, send). The flow service starts the flow, is ready once
    mu_flow_start returned, drains it (mu_flow_stop with the flow's drain
    timeout) when stopped; a flow that fails by itself (mu_flow_wait's
    error) fails the service and the run, one that ends cleanly by itself
    (its sources ran dry) just ends the service. */
#ifndef MU_SERVICES_H_INCLUDED
#define MU_SERVICES_H_INCLUDED

#include "mu_defs.h"
#include "mu_error.h"
#include "mu_flow.h"
#include "mu_server.h"
#include "mu_service.h"
#include "mu_socket.h"

#ifdef __cplusplus
extern "C" {
#endif

/*  Takes one server event (owned by the service: destroyed after the
    call). Returns 0, or a negative code that fails the service (and the
    run). */
typedef int(mu_server_handler_fn)(void *arg, mu_server_t *server, mu_event_t *event);

/*  A server service's settings, kept by the caller while it runs. */
typedef struct {
    mu_server_t *server;            /* bound */
    mu_server_handler_fn *on_event; /* not NULL */
    void *arg;
    int poll_ms; /* stop event check period; 0: 100 ms */
} mu_server_service_t;

/*  Returns a service definition named name (not copied) running cfg. */
MU_EXPORT mu_service_def_t mu_server_service(mu_server_service_t *cfg, const char *name);

/*  Takes one socket message or event (msg valid during the call). Returns 0,
    or a negative code that fails the service (and the run). */
typedef int(mu_socket_handler_fn)(void *arg, mu_socket_t *socket, const mu_socket_msg_t *msg);

/*  A socket service's settings, kept by the caller while it runs. The
    service also does the socket's periodic work (mu_socket_tick). */
typedef struct {
    mu_socket_t *socket;              /* bound or connected */
    mu_socket_handler_fn *on_message; /* not NULL */
    void *arg;
    int poll_ms; /* stop event check period; 0: 100 ms */
} mu_socket_service_t;

/*  Returns a service definition named name (not copied) running cfg. */
MU_EXPORT mu_service_def_t mu_socket_service(mu_socket_service_t *cfg, const char *name);

/*  Returns a service definition named name (not copied) that starts flow
    (configured, not started) and drains it when stopped. The flow stays
    the caller's (destroy it after the run). */
MU_EXPORT mu_service_def_t mu_flow_service(mu_flow_t *flow, const char *name);

#ifdef __cplusplus
}
#endif
#endif
