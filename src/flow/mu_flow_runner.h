/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_runner.h — private: the core of a runner process
    (mu_flow_runner.c). Never installed. */
#ifndef MU_FLOW_RUNNER_H_INCLUDED
#define MU_FLOW_RUNNER_H_INCLUDED

#include "flow/mu_flow_int.h"

/* ---- the runner core (mu_flow_runner.c) ----------------------------------- */

/*  Creates the runner's context and sockets (exits the process when it
    cannot); sets r->service. */
void mu__runner_setup(mu__runner_t *r);

/*  The service hook: control, acks, statistics; MU_EINTR when told to exit. */
int mu__runner_service(mu__runner_t *r);

/*  Waits for acknowledgements (or control); MU_EINTR when told to exit. */
int mu__runner_wait_acks(mu__runner_t *r);

/*  Reads pending control messages from the supervisor (never waits). */
void mu__runner_ctl(mu__runner_t *r);

/*  Sends statistics when the period has passed. */
void mu__runner_tick(mu__runner_t *r);

/*  Handles one message from the pull socket (data, a framed part of a
    batch, or end of stream). For each data message: counts it and calls
    fn(r, payload, size, ctx), timing it. Returns how many messages that
    was for the caller's bound on one input batch: a framed part's count,
    else 1. */
typedef int mu__runner_deliver_fn(mu__runner_t *r, const void *data, size_t size, void *ctx);
int mu__runner_take(mu__runner_t *r, const void *msg, size_t size, mu__runner_deliver_fn *fn,
                    void *ctx);

/*  mu__runner_take that stops between the records of a framed part when
    stop(ctx) is true (asked before each record; the part is checked
    first): *resume then gets the offset of its first record not taken,
    else 0. With *resume > 0 on entry, takes the rest of that part (msg,
    size as before) from there. Lets an outbound edge stop reading when
    its last client leaves in the middle of a part. */
typedef bool mu__runner_stop_fn(void *ctx);
int mu__runner_take_until(mu__runner_t *r, const void *msg, size_t size, size_t *resume,
                          mu__runner_stop_fn *stop, mu__runner_deliver_fn *fn, void *ctx);

/*  Logs how many malformed inputs were dropped without a line of their
    own (the once-a-second limit) once their interval is over at now (ms),
    or, with all, whatever is left (the runner's end). Called by
    mu__runner_tick. */
void mu__runner_log_due(mu__runner_t *r, int64_t now, bool all);

/*  Receives the next input message into m (initialised): 0, or -1 when
    none is queued (never waits). From a local link m points into the
    link's read buffer (no copy): its bytes are valid until the next
    mu__runner_recv, whether that returns 0 or -1 (m is then empty), so a
    caller takes (or moves aside and finishes) one message before it
    receives the next, as every caller does. */
int mu__runner_recv(mu__runner_t *r, zmq_msg_t *m);

/*  zmq_poll for the runner's loops: with the input socket as the only
    ZeroMQ socket among items and its last receive empty, one poll(2) on
    its ZMQ_FD, saving zmq_poll's extra passes (the input item's ZMQ_POLLIN
    then means "try a receive"). With local links (mu_flow_ulink.c), an
    input item (socket r->pull) stands for the link's receiver (ready at
    once when its last receive left records), and the sockets of the
    outputs with queued bytes are waited on too (and their connection
    attempts: the timeout is cut to the next one due), then written
    (mu__runner_flush_links). Returns the number of items ready, or -1. */
int mu__runner_poll(mu__runner_t *r, zmq_pollitem_t *items, int n, long timeout_ms);

/*  A socket a worker polls besides its input: at-least-once acks, or the
    multi-host output (credit); NULL: none. */
void *mu__runner_aux_socket(const mu__runner_t *r);

/*  True when every upstream runner has ended. */
bool mu__runner_input_done(const mu__runner_t *r);

/*  Ends the runner: end-of-stream behind the last message on every
    downstream socket, 'd' to the supervisor, then waits for 'X' and exits. */
void mu__runner_finish(mu__runner_t *r) __attribute__((noreturn));

#endif
