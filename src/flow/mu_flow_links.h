/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_links.h — private: routing over the link into the next stage
    (mu_flow_links.c), below the runner core. Never installed. */
#ifndef MU_FLOW_LINKS_H_INCLUDED
#define MU_FLOW_LINKS_H_INCLUDED

#include "flow/mu_flow_int.h"

/* ---- links (mu_flow_links.c): below the runner core ------------------------- */

/*  Sends the acknowledgements gathered so far (at-least-once receivers). */
void mu__runner_flush_acks(mu__runner_t *r);

/*  Balanced send of m (consumed) over the live downstream runners;
    *target_p gets the runner. 0, 1 (dropped on a dropping stage),
    MU_EINTR. */
int mu__runner_send_balanced(mu__runner_t *r, zmq_msg_t *m, int *target_p);

/*  Sends the end-of-stream marker to every downstream runner (behind what
    was sent before). 0 or MU_EINTR. */
int mu__links_send_eos(mu__runner_t *r);

/*  Sends one message downstream with the link's routing; waits for room
    (unless the stage drops). 0, MU_EPIPE (no next stage), MU_EINTR (told to
    exit), MU_ENOMEM. */
int mu__runner_send(mu__runner_t *r, const void *data, size_t size);

#endif
