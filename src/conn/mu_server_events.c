/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_server_events.c — the events mu_server_recv hands to the
    application (include/mu_server.h) and the queue they wait in. An event
    and its payload are one allocation. */
#include "conn/mu_server_events.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct mu_event_t {
    mu_event_kind_t kind;
    uint64_t peer, id;
    int last;
    size_t size;
    void *owner; /* the server, for the auto-answer of a dropped request */
    mu__event_drop_fn *on_drop;
    bool answered;
    mu_event_t *next;
    uint8_t data[]; /* size bytes + NUL */
};

mu_event_t *
mu__event_new(void *owner, mu__event_drop_fn *on_drop, mu_event_kind_t kind, uint64_t peer,
              uint64_t id, const void *data, size_t size, int last)
{
    mu_event_t *event = malloc(sizeof *event + size + 1);
    if (!event)
        return NULL;
    *event = (mu_event_t) { .kind = kind,
                            .peer = peer,
                            .id = id,
                            .last = last,
                            .size = size,
                            .owner = owner,
                            .on_drop = on_drop };
    if (size)
        memcpy(event->data, data, size);
    event->data[size] = 0;
    return event;
}

void
mu__events_push(mu__events_t *queue, mu_event_t *event)
{
    if (!event)
        return; /* out of memory: the event is lost, nothing else to do */
    if (queue->tail)
        queue->tail->next = event;
    else
        queue->head = event;
    queue->tail = event;
}

mu_event_t *
mu__events_pop(mu__events_t *queue)
{
    mu_event_t *event = queue->head;
    if (event) {
        queue->head = event->next;
        if (!queue->head)
            queue->tail = NULL;
        event->next = NULL;
    }
    return event;
}

void
mu__events_clear(mu__events_t *queue)
{
    for (mu_event_t *event = mu__events_pop(queue); event; event = mu__events_pop(queue)) {
        event->answered = true; /* nobody left to answer through */
        mu_event_destroy(&event);
    }
}

int
mu__event_answerable(const mu_event_t *event, const void *owner)
{
    return event->kind == MU_SERVER_REQUEST && !event->answered && event->owner == owner;
}

void
mu__event_set_answered(mu_event_t *event)
{
    event->answered = true;
}

mu_event_kind_t
mu_event_kind(const mu_event_t *self)
{
    assert(self);
    return self->kind;
}

uint64_t
mu_event_peer(const mu_event_t *self)
{
    assert(self);
    return self->peer;
}

uint64_t
mu_event_id(const mu_event_t *self)
{
    assert(self);
    return self->id;
}

const void *
mu_event_data(const mu_event_t *self, size_t *size_p)
{
    assert(self);
    if (size_p)
        *size_p = self->size;
    return self->data;
}

int
mu_event_last(const mu_event_t *self)
{
    assert(self);
    return self->last;
}

void
mu_event_destroy(mu_event_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mu_event_t *self = *self_p;
    if (self->kind == MU_SERVER_REQUEST && !self->answered && self->on_drop)
        self->on_drop(self->owner, self);
    free(self);
    *self_p = NULL;
}
