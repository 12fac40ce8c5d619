/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_inproc.h — private: a worker runner's in-process handlers
    (mu_flow_inproc.c); it reaches up only through its send function and
    r->service. Never installed. */
#ifndef MU_FLOW_INPROC_H_INCLUDED
#define MU_FLOW_INPROC_H_INCLUDED

#include "flow/mu_flow_int.h"

/* in-process handlers of a worker runner (mu_flow_bus.c) */

/*  The send in-process handlers' outputs take (the links' mu__runner_send,
    given by the worker loop: this part calls nothing above it by name). */
typedef int mu__inproc_send_fn(mu__runner_t *r, const void *data, size_t size);

/*  Creates the runner's bus with the stage's handlers, its output queue and
    that queue's eventfd; outputs go out with send. 0 (also with no handler
    declared), MU_ENOMEM, or -errno. */
int mu__inproc_start(mu__runner_t *r, mu__inproc_send_fn *send);

/*  The eventfd readable when thread handlers queued outputs; -1 without. */
int mu__inproc_fd(const mu__runner_t *r);

/*  Sends downstream what thread handlers queued (runner thread only).
    0, or MU_EINTR when told to exit. */
int mu__inproc_flush(mu__runner_t *r);

/*  Waits until every thread handler is idle with nothing queued, sending
    their outputs meanwhile. 0, or MU_EINTR when told to exit. */
int mu__inproc_drain(mu__runner_t *r);

/*  Handler errors since the last call. */
uint64_t mu__inproc_take_errors(mu__runner_t *r);

/*  Stops the threads and frees the runner's bus (after a drain). */
void mu__inproc_stop(mu__runner_t *r);

/*  Queues a thread handler's output for the runner thread (waits while
    full). 0, MU_EPIPE (last stage), MU_ENOMEM. */
int mu__outbox_put(mu__outbox_t *ob, const void *data, size_t size);

#endif
