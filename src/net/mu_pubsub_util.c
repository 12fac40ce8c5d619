/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_pubsub_util.c — the parts mu_pub, mu_sub and mu_proxy share
    (net/mu_pubsub_int.h). */
#include "net/mu_pubsub_int.h"
#include <stdlib.h>

int
mu__ps_side_set_curve(mu__ps_side_t *side, const mu_keys_t *server_keys, const mu_allow_t *allow,
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
mu__ps_side_set_secret(mu__ps_side_t *side, const void *secret, size_t size)
{
    mu_keys_t *srv = mu_keys_from_secret(secret, size, MU_KEYS_SERVER);
    mu_keys_t *cli = srv ? mu_keys_from_secret(secret, size, MU_KEYS_CLIENT) : NULL;
    mu_allow_t *allow = cli ? mu_allow_new() : NULL;
    int rc = allow ? 0 : (errno == EINVAL ? MU_EINVAL : MU_ENOMEM);
    if (rc == 0)
        rc = mu_allow_add(allow, mu_keys_public(cli));
    if (rc == 0)
        rc = mu__ps_side_set_curve(side, srv, allow, cli, mu_keys_public(srv));
    mu_keys_destroy(&srv);
    mu_keys_destroy(&cli);
    mu_allow_destroy(&allow);
    return rc;
}

void
mu__ps_side_fini(mu__ps_side_t *side)
{
    mu__zap_unregister(&side->zap);
    mu_keys_destroy(&side->srv_keys);
    mu_keys_destroy(&side->cli_keys);
    mu_allow_destroy(&side->allow);
}

uint64_t
mu__ps_side_failures(const mu__ps_side_t *side)
{
    return side->zap ? mu__zap_failures(side->zap) : 0;
}

int
mu__ps_bind(void *handle, mu__ps_side_t *side, const char *endpoint)
{
    if (mu__endpoint_check(endpoint, true) != 0)
        return mu__fail(MU_EINVAL, "bad endpoint '%s'", endpoint);
    if (side->srv_keys) {
        if (!side->zap && !(side->zap = mu__zap_register(side->allow)))
            return mu__fail(errno == ENOMEM ? MU_ENOMEM : MU_EINVAL, "ZAP handler for '%s'",
                            endpoint);
        int rc = mu__zap_setup_server(handle, side->srv_keys, side->zap);
        if (rc != 0)
            return rc;
    } else
        (void) zmq_setsockopt(handle, ZMQ_PLAIN_USERNAME, NULL, 0); /* NULL mechanism */
    if (zmq_bind(handle, endpoint) != 0)
        return mu__fail(errno == EADDRINUSE ? MU_EADDRINUSE : MU_EINVAL, "bind '%s': %s", endpoint,
                        zmq_strerror(errno));
    size_t len = sizeof side->endpoint;
    if (zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, side->endpoint, &len) != 0)
        side->endpoint[0] = 0;
    const char *colon = strncmp(side->endpoint, "tcp://", 6) == 0 ? strrchr(side->endpoint, ':')
                                                                  : NULL;
    return colon ? atoi(colon + 1) : 0;
}

int
mu__ps_connect(void *handle, mu__ps_side_t *side, const char *endpoint)
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

void
mu__ps_set_int(void *handle, int option, int value)
{
    int rc = zmq_setsockopt(handle, option, &value, sizeof value);
    assert(rc == 0);
    (void) rc;
}

zsock_t *
mu__ps_socket(int type)
{
    zsock_t *sock = zsock_new(type);
    if (!sock) {
        mu__fail(MU_EINVAL, "libzmq refused a socket of type %d", type);
        return NULL;
    }
    void *h = zsock_resolve(sock);
    mu__ps_set_int(h, ZMQ_LINGER, 200);
    mu__ps_set_int(h, ZMQ_RECONNECT_IVL, 100);
    mu__ps_set_int(h, ZMQ_RECONNECT_IVL_MAX, 5000);
    int64_t max = MU_PUBSUB_MAX_MESSAGE + MU_PUBSUB_MAX_TOPIC + MU__PS_TRAILER;
    zmq_setsockopt(h, ZMQ_MAXMSGSIZE, &max, sizeof max);
    return sock;
}

int
mu__ps_zmq_error(void)
{
    if (errno == EINTR || errno == ETERM)
        return MU_EINTR;
    if (errno == EAGAIN)
        return MU_EAGAIN;
    return -errno;
}

int
mu__ps_wait_readable(void *handle, int timeout_ms)
{
    int64_t deadline = mu__deadline_ms(timeout_ms);
    while (true) {
        zmq_pollitem_t item = { handle, 0, ZMQ_POLLIN, 0 };
        int left = mu__remaining_ms(deadline);
        int n = zmq_poll(&item, 1, left);
        if (n > 0)
            return 0;
        if (n < 0)
            return MU_EINTR; /* a signal, or the context ended */
        if (zsys_interrupted)
            return MU_EINTR;
        if (left == 0 || (deadline >= 0 && mu__remaining_ms(deadline) == 0))
            return mu__expired(timeout_ms);
    }
}

void
mu__ps_key_set(mu__ps_key_t *key, const void *a, size_t a_size, const void *b, size_t b_size)
{
    assert(a_size + b_size <= MU__PS_KEY_MAX);
    key->size = a_size + b_size;
    if (a_size)
        memcpy(key->bytes, a, a_size);
    if (b_size)
        memcpy(key->bytes + a_size, b, b_size);
}

static size_t
key_hash(const void *k)
{
    const mu__ps_key_t *key = k;
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < key->size; i++)
        h = (h ^ key->bytes[i]) * 1099511628211ull;
    return (size_t) h;
}

static int
key_compare(const void *a, const void *b)
{
    const mu__ps_key_t *x = a, *y = b;
    if (x->size != y->size)
        return x->size < y->size ? -1 : 1;
    return memcmp(x->bytes, y->bytes, x->size);
}

static void *
key_dup(const void *k)
{
    const mu__ps_key_t *key = k;
    size_t n = sizeof *key + key->size;
    mu__ps_key_t *copy = malloc(n);
    if (copy)
        memcpy(copy, key, n);
    return copy;
}

static void
key_free(void **k)
{
    free(*k);
    *k = NULL;
}

static void
item_free(void **item)
{
    free(*item);
    *item = NULL;
}

zhashx_t *
mu__ps_map_new(void)
{
    zhashx_t *map = zhashx_new();
    if (!map)
        return NULL;
    zhashx_set_key_hasher(map, key_hash);
    zhashx_set_key_comparator(map, key_compare);
    zhashx_set_key_duplicator(map, key_dup);
    zhashx_set_key_destructor(map, key_free);
    zhashx_set_destructor(map, item_free);
    return map;
}
