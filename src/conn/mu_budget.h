/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_budget.h — private: the byte budgets of the file data a server has
    handed to libzmq (src/conn/mu_budget.c). Never installed.

    A frame made with mu__budget_frame_init is counted against its peer's
    account and the server's from the moment it is allocated until libzmq
    lets go of it (its free callback, on libzmq's I/O thread: the bytes
    were written to the connection, handed to the CURVE encoder, or the
    connection dropped them). This is what the server really holds,
    whatever credit the peer grants. mu__budget_admit says whether one
    more frame fits; when it does not, the next release writes the
    budget's eventfd, which the server polls, so a waiting transfer
    resumes as soon as bytes drain. The accounts are reference-counted:
    frames still queued in libzmq keep theirs alive after their peer left
    or their server was destroyed. */
#ifndef MU_BUDGET_H_INCLUDED
#define MU_BUDGET_H_INCLUDED

#include "base/mu_internal.h"
#include <zmq.h>

typedef struct mu__budget_t mu__budget_t;           /* the server's account */
typedef struct mu__budget_peer_t mu__budget_peer_t; /* one peer's */

/*  Makes a server account with its limits (both > 0). Returns NULL with
    errno set (ENOMEM, or eventfd's error). */
mu__budget_t *mu__budget_new(size_t per_peer, size_t per_server);

/*  Changes the limits (both > 0); frames already counted stay counted. */
void mu__budget_set(mu__budget_t *self, size_t per_peer, size_t per_server);

/*  Drops the server's reference; the account goes when no peer account
    (and so no frame) holds it any more. Accepts NULL and *self_p NULL. */
void mu__budget_release(mu__budget_t **self_p);

/*  The eventfd that becomes readable when bytes drain while a transfer
    waits (poll it for POLLIN), and the call that empties it. */
int mu__budget_fd(const mu__budget_t *self);
void mu__budget_woken(mu__budget_t *self);

/*  Makes a peer's account below server. NULL when out of memory. */
mu__budget_peer_t *mu__budget_peer_new(mu__budget_t *server);

/*  Drops the peer's reference (see mu__budget_release). */
void mu__budget_peer_release(mu__budget_peer_t **self_p);

/*  Bytes of the peer's frames libzmq (or a transfer) holds now. */
size_t mu__budget_peer_queued(const mu__budget_peer_t *self);

/*  True when a frame of bytes fits both the peer's and the server's
    budget. An account that holds nothing takes one frame of any size, so
    a chunk larger than a budget still moves (one at a time). When false,
    the next frame that drains wakes the server's eventfd. */
bool mu__budget_admit(mu__budget_peer_t *self, size_t bytes);

/*  Initialises msg as a protocol frame (as mu__frame_init) counted against
    the peer's account until libzmq frees it. Returns the payload room or
    NULL (out of memory; msg is then empty). Does not check the budget:
    call mu__budget_admit first. */
uint8_t *mu__budget_frame_init(mu__budget_peer_t *self, zmq_msg_t *msg, int kind, uint64_t id,
                               size_t size);

#endif
