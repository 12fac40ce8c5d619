/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_pubsub_util.c — the parts mu_pub, mu_sub and mu_proxy share
    (net/mu_pubsub_int.h). */
#include "net/mu_pubsub_int.h"
#include <stdlib.h>

void
mu__ps_set_int(void *handle, int option, int value)
{
    int rc = zmq_setsockopt(handle, option, &value, sizeof value);
    assert(rc == 0);
    (void) rc;
}

void *
mu__ps_socket(int type, const char *what)
{
    void *h = mu__zsocket_open(type, what);
    if (!h)
        return NULL;
    mu__ps_set_int(h, ZMQ_LINGER, 200);
    mu__ps_set_int(h, ZMQ_RECONNECT_IVL, 100);
    mu__ps_set_int(h, ZMQ_RECONNECT_IVL_MAX, 5000);
    int64_t max = MU_PUBSUB_MAX_MESSAGE + MU_PUBSUB_MAX_TOPIC + MU__PS_TRAILER;
    zmq_setsockopt(h, ZMQ_MAXMSGSIZE, &max, sizeof max);
    return h;
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
