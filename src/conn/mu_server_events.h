/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_server_events.h — private: the event objects of mu_server and their
    queue (src/conn/mu_server_events.c). Never installed. */
#ifndef MU_SERVER_EVENTS_H_INCLUDED
#define MU_SERVER_EVENTS_H_INCLUDED

#include "base/mu_internal.h"
#include "mu_server.h"

/*  A FIFO of events; zero-initialise it. */
typedef struct {
    mu_event_t *head, *tail;
} mu__events_t;

/*  Answers a request the application destroyed unanswered (owner: the
    server that made it). */
typedef void mu__event_drop_fn(void *owner, mu_event_t *request);

/*  Makes an event with a copy of data (size bytes, NUL-terminated).
    on_drop(owner, event) answers a request the application drops. NULL
    when out of memory. */
mu_event_t *mu__event_new(void *owner, mu__event_drop_fn *on_drop, mu_event_kind_t kind,
                          uint64_t peer, uint64_t id, const void *data, size_t size, int last);

/*  Appends event (NULL — an allocation that failed — is ignored). */
void mu__events_push(mu__events_t *queue, mu_event_t *event);

/*  Takes the oldest event, or NULL. */
mu_event_t *mu__events_pop(mu__events_t *queue);

/*  Destroys every queued event without answering requests (the server is
    going away). */
void mu__events_clear(mu__events_t *queue);

/*  1 when event is a request of owner that has not been answered. */
int mu__event_answerable(const mu_event_t *event, const void *owner);

/*  Marks a request answered. */
void mu__event_set_answered(mu_event_t *event);

#endif
