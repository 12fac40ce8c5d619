/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_proxy_ws_index.c — the WebSocket front's subscriptions: for each
    client the prefixes it holds, for each prefix the clients holding it
    (an array; each holding knows its slot, so removal is a swap with the
    last), and how many prefixes there are of each length. A topic is
    matched by one map lookup per length that some prefix has, up to the
    topic's length; a client holding several prefixes of one topic is
    called once (a per-match stamp). Contract: net/mu_proxy_ws_int.h. */
#include "net/mu_proxy_ws_int.h"
#include "net/mu_pubsub_int.h"
#include <stdlib.h>

typedef struct holder holder_t;

typedef struct {
    holder_t **holders; /* the clients holding this prefix */
    size_t count, cap;
    size_t size;
    uint8_t bytes[]; /* the prefix */
} prefix_t;

typedef struct {
    uint64_t id;
    uint64_t stamp; /* the last match that called it */
    zhashx_t *held; /* prefix key -> holder_t */
} client_t;

struct holder {
    client_t *client;
    prefix_t *prefix;
    size_t slot; /* in prefix->holders */
};

struct mu__pws_index_t {
    zhashx_t *prefixes; /* prefix key -> prefix_t */
    zhashx_t *clients;  /* 8-byte id key -> client_t */
    uint32_t by_length[MU_PUBSUB_MAX_TOPIC + 1];
    size_t max_prefixes;
    size_t bytes, max_bytes; /* of the distinct prefixes: size + 1 each */
    uint64_t stamp;
};

static void
client_free(void **item)
{
    client_t *c = *item;
    if (c) {
        zhashx_destroy(&c->held);
        free(c);
    }
    *item = NULL;
}

static void
prefix_free(void **item)
{
    prefix_t *p = *item;
    if (p) {
        free(p->holders);
        free(p);
    }
    *item = NULL;
}

mu__pws_index_t *
mu__pws_index_new(size_t max_prefixes, size_t max_bytes)
{
    mu__pws_index_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->max_prefixes = max_prefixes;
    self->max_bytes = max_bytes;
    self->prefixes = mu__ps_map_new();
    self->clients = mu__ps_map_new();
    if (!self->prefixes || !self->clients) {
        mu__pws_index_destroy(&self);
        return NULL;
    }
    zhashx_set_destructor(self->prefixes, prefix_free);
    zhashx_set_destructor(self->clients, client_free);
    return self;
}

void
mu__pws_index_destroy(mu__pws_index_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mu__pws_index_t *self = *self_p;
    *self_p = NULL;
    if (self->clients)
        for (client_t *c = zhashx_first(self->clients); c; c = zhashx_first(self->clients))
            mu__pws_index_remove(self, c->id, NULL, NULL);
    zhashx_destroy(&self->clients);
    zhashx_destroy(&self->prefixes);
    free(self);
}

static client_t *
find_client(mu__pws_index_t *self, uint64_t id)
{
    MU__PS_KEY_BUF(key);
    mu__ps_key_set(key, &id, sizeof id, NULL, 0);
    return zhashx_lookup(self->clients, key);
}

int
mu__pws_index_add(mu__pws_index_t *self, uint64_t id)
{
    client_t *c = calloc(1, sizeof *c);
    if (c)
        c->held = mu__ps_map_new();
    if (!c || !c->held) {
        client_free((void **) &c);
        return MU_ENOMEM;
    }
    zhashx_set_destructor(c->held, NULL); /* holders are freed by unhold */
    c->id = id;
    MU__PS_KEY_BUF(key);
    mu__ps_key_set(key, &id, sizeof id, NULL, 0);
    if (zhashx_insert(self->clients, key, c) != 0) {
        client_free((void **) &c);
        return MU_ENOMEM; /* or a duplicate id: the endpoint never reuses one */
    }
    return 0;
}

/* The prefix entry for bytes, made when missing (NULL: no memory). */
static prefix_t *
prefix_get(mu__pws_index_t *self, const mu__ps_key_t *key)
{
    prefix_t *p = zhashx_lookup(self->prefixes, key);
    if (p)
        return p;
    p = calloc(1, sizeof *p + key->size);
    if (!p)
        return NULL;
    p->size = key->size;
    memcpy(p->bytes, key->bytes, key->size);
    if (zhashx_insert(self->prefixes, key, p) != 0) {
        free(p);
        return NULL;
    }
    self->by_length[key->size]++;
    self->bytes += key->size + 1;
    return p;
}

/* Drops prefix entry p (no holder left). */
static void
prefix_drop(mu__pws_index_t *self, prefix_t *p)
{
    MU__PS_KEY_BUF(key);
    mu__ps_key_set(key, p->bytes, p->size, NULL, 0);
    self->by_length[p->size]--;
    self->bytes -= p->size + 1;
    zhashx_delete(self->prefixes, key);
}

/* Takes holder h out of its prefix, dropping the prefix when it was the
   last; frees h. */
static void
unhold(mu__pws_index_t *self, holder_t *h)
{
    prefix_t *p = h->prefix;
    holder_t *last = p->holders[--p->count];
    p->holders[h->slot] = last;
    last->slot = h->slot;
    if (p->count == 0)
        prefix_drop(self, p);
    free(h);
}

int
mu__pws_index_subscribe(mu__pws_index_t *self, uint64_t id, const void *prefix, size_t size)
{
    assert(size <= MU_PUBSUB_MAX_TOPIC);
    client_t *c = find_client(self, id);
    if (!c)
        return MU_ENOENT;
    MU__PS_KEY_BUF(key);
    mu__ps_key_set(key, prefix, size, NULL, 0);
    if (zhashx_lookup(c->held, key))
        return 0;
    if (zhashx_size(c->held) >= self->max_prefixes)
        return MU_ENOSPC;
    if (self->bytes + size + 1 > self->max_bytes && !zhashx_lookup(self->prefixes, key))
        return MU_ELIMIT;
    prefix_t *p = prefix_get(self, key);
    holder_t *h = p ? calloc(1, sizeof *h) : NULL;
    if (h && p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 4;
        holder_t **grown = realloc(p->holders, cap * sizeof *grown);
        if (grown) {
            p->holders = grown;
            p->cap = cap;
        } else {
            free(h);
            h = NULL;
        }
    }
    if (!h || zhashx_insert(c->held, key, h) != 0) {
        free(h);
        if (p && p->count == 0)
            prefix_drop(self, p);
        return MU_ENOMEM;
    }
    h->client = c;
    h->prefix = p;
    h->slot = p->count;
    p->holders[p->count++] = h;
    return 1;
}

int
mu__pws_index_unsubscribe(mu__pws_index_t *self, uint64_t id, const void *prefix, size_t size)
{
    client_t *c = find_client(self, id);
    if (!c || size > MU_PUBSUB_MAX_TOPIC)
        return MU_ENOENT;
    MU__PS_KEY_BUF(key);
    mu__ps_key_set(key, prefix, size, NULL, 0);
    holder_t *h = zhashx_lookup(c->held, key);
    if (!h)
        return MU_ENOENT;
    zhashx_delete(c->held, key);
    unhold(self, h);
    return 0;
}

void
mu__pws_index_remove(mu__pws_index_t *self, uint64_t id, mu__pws_prefix_fn *fn, void *arg)
{
    client_t *c = find_client(self, id);
    if (!c)
        return;
    for (holder_t *h = zhashx_first(c->held); h; h = zhashx_next(c->held)) {
        uint8_t prefix[MU_PUBSUB_MAX_TOPIC];
        size_t size = h->prefix->size;
        memcpy(prefix, h->prefix->bytes, size);
        unhold(self, h);
        if (fn)
            fn(arg, prefix, size);
    }
    MU__PS_KEY_BUF(key);
    mu__ps_key_set(key, &id, sizeof id, NULL, 0);
    zhashx_delete(self->clients, key);
}

bool
mu__pws_index_held(mu__pws_index_t *self, const void *prefix, size_t size)
{
    if (size > MU_PUBSUB_MAX_TOPIC)
        return false;
    MU__PS_KEY_BUF(key);
    mu__ps_key_set(key, prefix, size, NULL, 0);
    return zhashx_lookup(self->prefixes, key) != NULL;
}

size_t
mu__pws_index_match(mu__pws_index_t *self, const void *topic, size_t size, mu__pws_client_fn *fn,
                    void *arg)
{
    uint64_t stamp = ++self->stamp;
    size_t calls = 0;
    size_t longest = size < MU_PUBSUB_MAX_TOPIC ? size : MU_PUBSUB_MAX_TOPIC;
    MU__PS_KEY_BUF(key);
    for (size_t len = 0; len <= longest; len++) {
        if (self->by_length[len] == 0)
            continue;
        mu__ps_key_set(key, topic, len, NULL, 0);
        prefix_t *p = zhashx_lookup(self->prefixes, key);
        for (size_t i = 0; p && i < p->count; i++) {
            client_t *c = p->holders[i]->client;
            if (c->stamp == stamp)
                continue;
            c->stamp = stamp;
            calls++;
            fn(arg, c->id);
        }
    }
    return calls;
}
