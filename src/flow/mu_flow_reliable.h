/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_reliable.h — private: at-least-once delivery (mu_flow_reliable.c),
    below the links; it reaches up only through mu__rel_port_t. Never
    installed. */
#ifndef MU_FLOW_RELIABLE_H_INCLUDED
#define MU_FLOW_RELIABLE_H_INCLUDED

#include "flow/mu_flow_int.h"

/* ---- at-least-once (mu_flow_reliable.c): below the links ------------------- */

/*  What reliability needs from above, given at set-up (it calls nothing
    of the runner or the links by name): a balanced send and a wait for
    acknowledgements (or control; MU_EINTR when told to exit). */
typedef struct {
    int (*send_balanced)(mu__runner_t *r, zmq_msg_t *m, int *target_p);
    int (*wait_acks)(mu__runner_t *r);
} mu__rel_port_t;

int mu__rel_setup(mu__runner_t *r, void *ack_pull, const mu__rel_port_t *port);
void *mu__rel_ack_socket(const mu__runner_t *r);
size_t mu__rel_unacked(const mu__runner_t *r);
void mu__rel_take_acks(mu__runner_t *r);
void mu__rel_dead(mu__runner_t *r, int target);
int mu__rel_redeliver(mu__runner_t *r);
int mu__rel_send(mu__runner_t *r, const void *data, size_t size);
bool mu__rel_parse(const void *msg, size_t size, int *sender_p, uint64_t *id_p);
size_t mu__rel_header(void);

#endif
