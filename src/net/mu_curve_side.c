/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_curve_side.c — CURVE keys of one libzmq socket, and its binds and
    connects with them (net/mu_curve_side.h). */
#include "net/mu_curve_side.h"
#include "net/mu_zsocket.h"
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

int
mu__curve_side_set(mu__curve_side_t *side, const mu_keys_t *server_keys, const mu_allow_t *allow,
                   const mu_keys_t *client_keys, const uint8_t *server_public)
{
    if ((server_keys && (!allow || !mu_keys_secret(server_keys)))
        || (client_keys && (!server_public || !mu_keys_secret(client_keys)))
        || (!server_keys && allow) || (!client_keys && server_public) || side->zap)
        return mu__fail(MU_EINVAL, side->zap
                                       ? "CURVE set after a CURVE bind"
                                       : "CURVE: a keypair without its secret, or half a pair");
    mu_keys_t *srv = server_keys ? mu_keys_dup(server_keys) : NULL;
    mu_keys_t *cli = client_keys ? mu_keys_dup(client_keys) : NULL;
    mu_allow_t *al = allow ? mu_allow_dup(allow) : NULL;
    if ((server_keys && (!srv || !al)) || (client_keys && !cli)) {
        mu_keys_destroy(&srv);
        mu_keys_destroy(&cli);
        mu_allow_destroy(&al);
        return mu__fail(MU_ENOMEM, "CURVE keys");
    }
    mu_keys_destroy(&side->srv_keys);
    mu_keys_destroy(&side->cli_keys);
    mu_allow_destroy(&side->allow);
    side->srv_keys = srv;
    side->cli_keys = cli;
    side->allow = al;
    if (server_public)
        memcpy(side->server_public, server_public, MU_KEY_BYTES);
    return 0;
}

int
mu__curve_side_set_secret(mu__curve_side_t *side, const void *secret, size_t size)
{
    mu_keys_t *srv = mu_keys_from_secret(secret, size, MU_KEYS_SERVER);
    mu_keys_t *cli = srv ? mu_keys_from_secret(secret, size, MU_KEYS_CLIENT) : NULL;
    mu_allow_t *allow = cli ? mu_allow_new() : NULL;
    int rc = allow ? 0 : (errno == EINVAL ? MU_EINVAL : MU_ENOMEM);
    if (rc == 0)
        rc = mu_allow_add(allow, mu_keys_public(cli));
    if (rc == 0)
        rc = mu__curve_side_set(side, srv, allow, cli, mu_keys_public(srv));
    mu_keys_destroy(&srv);
    mu_keys_destroy(&cli);
    mu_allow_destroy(&allow);
    return rc;
}

void
mu__curve_side_fini(mu__curve_side_t *side)
{
    mu__zap_unregister(&side->zap);
    mu_keys_destroy(&side->srv_keys);
    mu_keys_destroy(&side->cli_keys);
    mu_allow_destroy(&side->allow);
}

uint64_t
mu__curve_side_failures(const mu__curve_side_t *side)
{
    return side->zap ? mu__zap_failures(side->zap) : 0;
}

int
mu__curve_bind(void *handle, mu__curve_side_t *side, const char *endpoint)
{
    if (mu__endpoint_check(endpoint, true) != 0)
        return mu__fail(MU_EINVAL, "bad endpoint '%s'", endpoint);
    if (side->srv_keys) {
        if (!side->zap && !(side->zap = mu__zap_register(side->allow))) {
            int rc = errno == EMFILE       ? -EMFILE
                     : errno == ENOMEM     ? MU_ENOMEM
                     : errno == EADDRINUSE ? MU_EADDRINUSE
                                           : MU_EIO;
            return mu__fail(rc, "ZAP handler for '%s'%s", endpoint, mu__zsocket_why(rc));
        }
        int rc = mu__zap_setup_server(handle, side->srv_keys, side->zap);
        if (rc != 0)
            return rc;
    } else
        (void) zmq_setsockopt(handle, ZMQ_PLAIN_USERNAME, NULL, 0); /* NULL mechanism */
    if (mu__zsocket_bind(handle, endpoint) != 0)
        return mu__fail(mu__zsocket_attach_code(errno), "bind '%s': %s", endpoint,
                        zmq_strerror(errno));
    size_t len = sizeof side->endpoint;
    if (zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, side->endpoint, &len) != 0)
        side->endpoint[0] = 0;
    const char *colon = strncmp(side->endpoint, "tcp://", 6) == 0 ? strrchr(side->endpoint, ':')
                                                                  : NULL;
    return colon ? atoi(colon + 1) : 0;
}

int
mu__curve_connect(void *handle, mu__curve_side_t *side, const char *endpoint)
{
    if (mu__endpoint_check(endpoint, false) != 0)
        return mu__fail(MU_EINVAL, "bad endpoint '%s'", endpoint);
    if (side->cli_keys) {
        int rc = mu__zap_setup_client(handle, side->cli_keys, side->server_public);
        if (rc != 0)
            return rc;
    } else
        (void) zmq_setsockopt(handle, ZMQ_PLAIN_USERNAME, NULL, 0);
    if (zmq_connect(handle, endpoint) != 0)
        return mu__fail(MU_EINVAL, "connect '%s': %s", endpoint, zmq_strerror(errno));
    return 0;
}
