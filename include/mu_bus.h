/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_bus.h — an in-process event bus: named events from processors to
    subscribed handlers, inline or on threads with bounded queues.

    A processor emits named events; handlers subscribe to a name (or "*"
    for every event) and run either inline — synchronously, in the emitting
    thread, before mu_flow_bus_emit returns — or on a thread of their own
    fed by a bounded queue (the emitter waits while that queue is full:
    back-pressure, never a drop). Handlers of one thread subscription run
    one at a time in emit order.

    Threads: subscribe (mu_flow_bus_on) before the first emit, from one
    thread; once subscriptions are made, any thread may emit, drain and
    read the statistics. Fork after destroying a bus, not while its threads
    run. A flow's worker stage can own one bus per runner
    (mu_flow_add_inproc in mu_flow.h). */
#ifndef MU_BUS_H_INCLUDED
#define MU_BUS_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include "mu_defs.h"
#include "mu_error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mu_flow_bus_t mu_flow_bus_t;

typedef enum {
    MU_FLOW_INLINE = 0, /* synchronous, in the emitter's thread */
    MU_FLOW_THREAD = 1  /* queued to the subscription's own thread */
} mu_flow_mode_t;

/*  An event handler: data (a copy for thread handlers) is valid during the
    call. A negative return is counted as an error. */
typedef int mu_flow_event_fn(void *arg, const char *event, const void *data, size_t size);

/*  Statistics of a bus (mu_flow_bus_stats). Set size = sizeof the struct. */
typedef struct {
    size_t size;        /* set by the caller: sizeof(mu_flow_bus_stats_t) */
    uint64_t delivered; /* handler calls finished */
    uint64_t errors;    /* of which returned a negative code */
} mu_flow_bus_stats_t;

/*  Creates a bus. Returns NULL with errno ENOMEM (mu_last_error says so). */
MU_EXPORT MU_NODISCARD mu_flow_bus_t *mu_flow_bus_new(void);

/*  Subscribes fn(arg, ...) to event (at most 63 bytes; "*": all events) in
    mode; queue_max bounds a thread subscription's queue (0: 1024). event
    and fn must not be NULL, mode must be a mu_flow_mode_t (asserted).
    Returns 0, MU_EINVAL (empty or long name, or the bus already emitted),
    MU_ENOMEM, or -errno of pthread_create. */
MU_EXPORT MU_NODISCARD int mu_flow_bus_on(mu_flow_bus_t *self, const char *event,
                                          mu_flow_mode_t mode, mu_flow_event_fn *fn, void *arg,
                                          size_t queue_max);

/*  Emits event (not NULL) with data (copied for thread handlers; NULL only
    with size 0): runs the inline handlers, queues for the thread ones,
    waiting while a queue is full. Returns the number of handlers the event
    reached (0: no subscriber), or the first negative code of an inline
    handler, or MU_ENOMEM. */
MU_EXPORT MU_NODISCARD int mu_flow_bus_emit(mu_flow_bus_t *self, const char *event,
                                            const void *data, size_t size);

/*  Waits until every thread subscription's queue is empty and its handler
    idle: timeout_ms -1 without limit, 0 checks without waiting, > 0 at most
    that long. Returns 0, MU_EAGAIN (timeout 0, not idle) or MU_ETIMEDOUT. */
MU_EXPORT MU_NODISCARD int mu_flow_bus_drain(mu_flow_bus_t *self, int timeout_ms);

/*  Fills the fields of *stats that fit in stats->size. Returns 0 or
    MU_EINVAL (size smaller than the first version of the struct). */
MU_EXPORT MU_NODISCARD int mu_flow_bus_stats(const mu_flow_bus_t *self, mu_flow_bus_stats_t *stats);

/*  Runs what is queued, stops the threads and frees the bus; accepts NULL
    and *self_p NULL, sets *self_p to NULL. */
MU_EXPORT void mu_flow_bus_destroy(mu_flow_bus_t **self_p);

#ifdef __cplusplus
}
#endif
#endif
