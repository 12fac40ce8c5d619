/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_msgq.h — private: an edge client's outbound queue
    (mu_flow_msgq.c). Never installed. */
#ifndef MU_FLOW_MSGQ_H_INCLUDED
#define MU_FLOW_MSGQ_H_INCLUDED

#include "flow/mu_flow_int.h"

/* ---- an edge client's outbound queue (mu_flow_msgq.c) ----------------------- */

typedef struct mu__msg_t mu__msg_t;

/*  A FIFO of message copies. bytes counts each message's payload plus
    MU__MSGQ_OVERHEAD (what a queued message costs beside its payload).
    Zero-initialised: empty. */
typedef struct {
    mu__msg_t *head, *tail;
    size_t bytes;
    size_t count;
} mu__msgq_t;

#define MU__MSGQ_OVERHEAD 32

/*  Appends a copy of data. 0 or MU_ENOMEM (nothing queued). */
int mu__msgq_push(mu__msgq_t *q, const void *data, size_t size);

/*  The oldest message, valid until it is popped; false when empty. */
bool mu__msgq_peek(const mu__msgq_t *q, const void **data_p, size_t *size_p);

/*  Removes the oldest message (the queue must not be empty). */
void mu__msgq_pop(mu__msgq_t *q);

/*  Drops the oldest messages until bytes <= max_bytes; returns how many. */
size_t mu__msgq_trim(mu__msgq_t *q, size_t max_bytes);

/*  Drops everything. */
void mu__msgq_clear(mu__msgq_t *q);

#endif
