/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_ws_queue.c — the WebSocket endpoint's shared messages (refcounted,
    made once with LWS_PRE headroom), each client's bounded send queue with
    its overflow policy, and the client table keyed by id. No locking here:
    the callers hold the endpoint's lock. */
#include "base/mu_internal.h"
#include "net/mu_ws_int.h"
#include <stdlib.h>
#include <string.h>

/* ---- shared messages ---------------------------------------------------- */

mu__ws_msg_t *
mu__ws_msg_new(const void *data, size_t size, bool binary)
{
    assert(data || size == 0);
    if (size > SIZE_MAX - sizeof(mu__ws_msg_t) - LWS_PRE - 1)
        return mu__fail_null(MU_ENOMEM, "WebSocket message of %zu bytes", size);
    mu__ws_msg_t *msg = malloc(sizeof *msg + LWS_PRE + size + 1);
    if (!msg)
        return mu__fail_null(MU_ENOMEM, "WebSocket message of %zu bytes", size);
    atomic_init(&msg->refs, 1);
    atomic_init(&msg->writer, NULL);
    msg->size = size;
    msg->binary = binary;
    if (size)
        memcpy(mu__ws_msg_data(msg), data, size);
    mu__ws_msg_data(msg)[size] = 0;
    return msg;
}

mu__ws_msg_t *
mu__ws_msg_ref(mu__ws_msg_t *msg)
{
    atomic_fetch_add_explicit(&msg->refs, 1, memory_order_relaxed);
    return msg;
}

void
mu__ws_msg_unref(mu__ws_msg_t **msg_p)
{
    assert(msg_p);
    mu__ws_msg_t *msg = *msg_p;
    *msg_p = NULL;
    if (msg && atomic_fetch_sub_explicit(&msg->refs, 1, memory_order_acq_rel) == 1)
        free(msg);
}

/* ---- a client's send queue ---------------------------------------------- */

mu__ws_client_t *
mu__ws_client_new(uint64_t id)
{
    mu__ws_client_t *client = calloc(1, sizeof *client);
    if (client)
        client->id = id;
    return client;
}

void
mu__ws_client_free(mu__ws_client_t *client)
{
    if (!client)
        return;
    mu__ws_client_clear(client);
    mu__ring_free(&client->queue);
    free(client->rx);
    free(client);
}

/*  The i-th oldest queued reference. */
static mu__ws_msg_t **
slot(const mu__ws_client_t *client, size_t i)
{
    return mu__ring_at(&client->queue, i);
}

/*  Makes room for one more reference (8 at first, then twice as many).
    Returns 0 or MU_ENOMEM. */
static int
grow(mu__ws_client_t *client)
{
    mu__ring_t *q = &client->queue;
    if (q->items && !mu__ring_full(q))
        return 0;
    int rc = q->items ? mu__ring_resize(q, 2 * q->cap)
                      : mu__ring_init(q, 8, sizeof(mu__ws_msg_t *));
    if (rc != 0)
        return mu__fail(MU_ENOMEM, "send queue of WebSocket client %llu",
                        (unsigned long long) client->id);
    return 0;
}

void
mu__ws_client_pop(mu__ws_client_t *client)
{
    assert(client->queue.count > 0);
    mu__ws_msg_t **oldest = slot(client, 0);
    client->queued -= (*oldest)->size;
    mu__ws_msg_unref(oldest);
    mu__ring_pop(&client->queue, NULL);
    client->head_sent = 0;
    client->head_seq++;
}

mu__ws_msg_t *
mu__ws_client_oldest(const mu__ws_client_t *client)
{
    assert(client->queue.count > 0);
    return *slot(client, 0);
}

void
mu__ws_dirty_add(mu__ws_client_t **head_p, mu__ws_client_t *client)
{
    if (client->dirty)
        return;
    client->dirty = true;
    client->dirty_prev = NULL;
    client->dirty_next = *head_p;
    if (*head_p)
        (*head_p)->dirty_prev = client;
    *head_p = client;
}

void
mu__ws_dirty_remove(mu__ws_client_t **head_p, mu__ws_client_t *client)
{
    if (!client->dirty)
        return;
    if (client->dirty_prev)
        client->dirty_prev->dirty_next = client->dirty_next;
    else
        *head_p = client->dirty_next;
    if (client->dirty_next)
        client->dirty_next->dirty_prev = client->dirty_prev;
    client->dirty = false;
    client->dirty_prev = client->dirty_next = NULL;
}

void
mu__ws_client_clear(mu__ws_client_t *client)
{
    while (client->queue.count > 0)
        mu__ws_client_pop(client);
}

/*  Removes the i-th oldest message (i > 0, or 0 when none of it was
    written), keeping the order of the others: the older ones move up one
    place and the ring drops its head. */
static void
drop_at(mu__ws_client_t *client, size_t i)
{
    if (i == 0) {
        mu__ws_client_pop(client);
        return;
    }
    mu__ws_msg_t **victim = slot(client, i);
    client->queued -= (*victim)->size;
    mu__ws_msg_unref(victim);
    for (size_t j = i; j > 0; j--)
        *slot(client, j) = *slot(client, j - 1);
    mu__ring_pop(&client->queue, NULL);
}

/*  DROP_OLDEST: drops the oldest messages until size more bytes fit, never
    one that is being or partly written (its frames are on the wire). */
static void
drop_oldest(mu__ws_client_t *client, size_t size, size_t queue_max, mu__ws_stats_t *stats)
{
    size_t first = client->head_sent > 0 || client->head_busy ? 1 : 0;
    while (client->queue.count > first && client->queued + size > queue_max) {
        drop_at(client, first);
        stats->dropped++;
    }
}

int
mu__ws_client_queue(mu__ws_client_t *client, mu__ws_msg_t *msg, size_t queue_max,
                    mu__ws_overflow_t overflow, mu__ws_stats_t *stats)
{
    /* An empty queue takes any message (up to max_message), so a
       queue_max below max_message never refuses a lone message. */
    if (client->queue.count > 0 && client->queued + msg->size > queue_max) {
        if (overflow == MU__WS_DISCONNECT) {
            mu__ws_client_clear(client);
            client->slow = client->closing = true;
            client->close_code = 1008;
            client->reason_len = (size_t) snprintf(client->reason, sizeof client->reason,
                                                   "send queue over %zu bytes", queue_max);
            stats->slow++;
            return mu__fail(MU_EPIPE, "WebSocket client %llu: send queue over %zu bytes, closed",
                            (unsigned long long) client->id, queue_max);
        }
        drop_oldest(client, msg->size, queue_max, stats);
    }
    if (grow(client) < 0)
        return MU_ENOMEM;
    mu__ws_msg_t *ref = mu__ws_msg_ref(msg);
    mu__ring_push(&client->queue, &ref);
    client->queued += msg->size;
    return 0;
}

/* ---- the client table --------------------------------------------------- */

int
mu__ws_table_init(mu__ws_table_t *table)
{
    table->nbuckets = 64;
    table->count = 0;
    table->buckets = calloc(table->nbuckets, sizeof *table->buckets);
    return table->buckets ? 0 : mu__fail(MU_ENOMEM, "WebSocket client table");
}

void
mu__ws_table_free(mu__ws_table_t *table)
{
    for (size_t b = 0; table->buckets && b < table->nbuckets; b++)
        while (table->buckets[b]) {
            mu__ws_client_t *client = table->buckets[b];
            table->buckets[b] = client->next;
            mu__ws_client_free(client);
        }
    free(table->buckets);
    table->buckets = NULL;
    table->count = 0;
}

void
mu__ws_table_each(const mu__ws_table_t *table, void (*fn)(mu__ws_client_t *, void *), void *arg)
{
    for (size_t b = 0; b < table->nbuckets; b++)
        for (mu__ws_client_t *client = table->buckets[b]; client; client = client->next)
            fn(client, arg);
}

static size_t
bucket_of(uint64_t id, size_t nbuckets)
{
    return (size_t) ((id * 0x9E3779B97F4A7C15ull) >> 32) & (nbuckets - 1);
}

mu__ws_client_t *
mu__ws_table_find(const mu__ws_table_t *table, uint64_t id)
{
    mu__ws_client_t *client = table->buckets[bucket_of(id, table->nbuckets)];
    while (client && client->id != id)
        client = client->next;
    return client;
}

static int
rehash(mu__ws_table_t *table)
{
    size_t nbuckets = table->nbuckets * 2;
    mu__ws_client_t **buckets = calloc(nbuckets, sizeof *buckets);
    if (!buckets)
        return mu__fail(MU_ENOMEM, "WebSocket client table of %zu buckets", nbuckets);
    for (size_t b = 0; b < table->nbuckets; b++)
        while (table->buckets[b]) {
            mu__ws_client_t *client = table->buckets[b];
            table->buckets[b] = client->next;
            size_t to = bucket_of(client->id, nbuckets);
            client->next = buckets[to];
            buckets[to] = client;
        }
    free(table->buckets);
    table->buckets = buckets;
    table->nbuckets = nbuckets;
    return 0;
}

int
mu__ws_table_add(mu__ws_table_t *table, mu__ws_client_t *client)
{
    if (table->count >= table->nbuckets && rehash(table) < 0)
        return MU_ENOMEM;
    size_t b = bucket_of(client->id, table->nbuckets);
    client->next = table->buckets[b];
    table->buckets[b] = client;
    table->count++;
    return 0;
}

void
mu__ws_table_remove(mu__ws_table_t *table, mu__ws_client_t *client)
{
    mu__ws_client_t **link = &table->buckets[bucket_of(client->id, table->nbuckets)];
    while (*link && *link != client)
        link = &(*link)->next;
    if (*link) {
        *link = client->next;
        table->count--;
    }
    client->next = NULL;
}
