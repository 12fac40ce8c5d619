/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_ws_events.c — the WebSocket endpoint's inbound event queue: the
    service thread appends (a client opened, a whole message, a client
    closed), the owner takes them out (mu__ws_recv). An eventfd is readable
    exactly while events wait. The data bytes waiting are counted against
    event_max: past it the service thread pauses reading, and the owner's
    pop reports when the queue is back below half, to resume. */
#include "base/mu_internal.h"
#include "base/mu_sync.h"
#include "net/mu_ws_int.h"
#include "mu_log.h"
#include <czmq.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

/*  What an event counts against event_max besides its data: OPEN and
    CLOSED events are bounded too. */
#define EVENT_COST 64

int
mu__ws_events_init(mu__ws_events_t *events, size_t max)
{
    *events = (mu__ws_events_t) { .fd = -1, .max = max };
    events->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (events->fd < 0)
        return mu__fail(-errno, "WebSocket endpoint: eventfd");
    pthread_mutex_init(&events->lock, NULL);
    return 0;
}

void
mu__ws_events_free(mu__ws_events_t *events)
{
    if (events->fd < 0)
        return;
    while (events->head) {
        mu__ws_ev_t *ev = events->head;
        events->head = ev->next;
        free(ev);
    }
    free(events->last);
    events->last = NULL;
    close(events->fd);
    events->fd = -1;
    pthread_mutex_destroy(&events->lock);
}

mu__ws_ev_t *
mu__ws_ev_new(mu__ws_kind_t kind, uint64_t client, size_t cap)
{
    mu__ws_ev_t *ev = malloc(sizeof *ev + cap + 1);
    if (!ev)
        return NULL;
    *ev = (mu__ws_ev_t) { .kind = kind, .client = client, .cap = cap };
    return ev;
}

mu__ws_ev_t *
mu__ws_ev_grow(mu__ws_ev_t *ev, size_t cap)
{
    if (cap <= ev->cap)
        return ev;
    mu__ws_ev_t *bigger = realloc(ev, sizeof *ev + cap + 1);
    if (!bigger)
        return NULL;
    bigger->cap = cap;
    return bigger;
}

bool
mu__ws_events_push(mu__ws_events_t *events, mu__ws_ev_t *ev)
{
    ev->next = NULL;
    ev->data[ev->size] = 0;
    pthread_mutex_lock(&events->lock);
    if (events->tail)
        events->tail->next = ev;
    else
        events->head = ev;
    events->tail = ev;
    events->bytes += ev->size + EVENT_COST;
    bool full = events->bytes > events->max;
    if (full)
        events->paused = true;
    mu__level_fd_sync(events->fd, &events->raised, true);
    pthread_mutex_unlock(&events->lock);
    return full;
}

bool
mu__ws_events_note(mu__ws_events_t *events, mu__ws_kind_t kind, uint64_t client)
{
    mu__ws_ev_t *ev = mu__ws_ev_new(kind, client, 0);
    if (!ev) {
        mu_log(MU_LOG_ERROR, "net", "mu_ws: out of memory: event %d of client %llu lost",
               (int) kind, (unsigned long long) client);
        return false;
    }
    mu__ws_events_push(events, ev);
    return true;
}

bool
mu__ws_events_full(mu__ws_events_t *events)
{
    pthread_mutex_lock(&events->lock);
    bool full = events->bytes > events->max;
    pthread_mutex_unlock(&events->lock);
    return full;
}

int
mu__ws_events_pop(mu__ws_events_t *events, mu__ws_event_t *out, bool *resume_p)
{
    *resume_p = false;
    pthread_mutex_lock(&events->lock);
    free(events->last);
    events->last = NULL;
    mu__ws_ev_t *ev = events->head;
    if (ev) {
        events->head = ev->next;
        if (!events->head)
            events->tail = NULL;
        events->bytes -= ev->size + EVENT_COST;
        events->last = ev;
        *out = (mu__ws_event_t) { .kind = ev->kind,
                                  .client = ev->client,
                                  .data = ev->data,
                                  .size = ev->size };
    }
    if (events->paused && events->bytes < events->max / 2) {
        events->paused = false;
        *resume_p = true;
    }
    mu__level_fd_sync(events->fd, &events->raised, events->head != NULL);
    pthread_mutex_unlock(&events->lock);
    return ev ? 0 : MU_EAGAIN;
}
