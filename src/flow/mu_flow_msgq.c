/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_msgq.c — the outbound queue of an edge client: a FIFO of message
    copies that counts what it holds, so the edge can bound it and drop
    its oldest messages. */
#include "flow/mu_flow_int.h"
#include "flow/mu_flow_msgq.h"

#include <stdlib.h>
#include <string.h>

struct mu__msg_t {
    mu__msg_t *next;
    size_t size;
    unsigned char data[];
};

static size_t
cost(size_t size)
{
    return size + MU__MSGQ_OVERHEAD;
}

int
mu__msgq_push(mu__msgq_t *q, const void *data, size_t size)
{
    mu__msg_t *m = malloc(sizeof *m + size);
    if (!m)
        return MU_ENOMEM;
    m->next = NULL;
    m->size = size;
    if (size)
        memcpy(m->data, data, size);
    if (q->tail)
        q->tail->next = m;
    else
        q->head = m;
    q->tail = m;
    q->bytes += cost(size);
    q->count++;
    return 0;
}

bool
mu__msgq_peek(const mu__msgq_t *q, const void **data_p, size_t *size_p)
{
    if (!q->head)
        return false;
    *data_p = q->head->data;
    *size_p = q->head->size;
    return true;
}

void
mu__msgq_pop(mu__msgq_t *q)
{
    mu__msg_t *m = q->head;
    q->head = m->next;
    if (!q->head)
        q->tail = NULL;
    q->bytes -= cost(m->size);
    q->count--;
    free(m);
}

size_t
mu__msgq_trim(mu__msgq_t *q, size_t max_bytes)
{
    size_t dropped = 0;
    for (; q->head && q->bytes > max_bytes; dropped++)
        mu__msgq_pop(q);
    return dropped;
}

void
mu__msgq_clear(mu__msgq_t *q)
{
    (void) mu__msgq_trim(q, 0);
}
