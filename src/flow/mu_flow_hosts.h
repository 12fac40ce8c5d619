/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_hosts.h — private: the multi-host part of a flow definition
    (mu_flow_hosts.c): defaults, checks at start, placement of runners on
    hosts. Never installed. */
#ifndef MU_FLOW_HOSTS_H_INCLUDED
#define MU_FLOW_HOSTS_H_INCLUDED

#include "flow/mu_flow_int.h"

/*  Sets the multi-host defaults of a new flow. */
void mu__flow_hosts_init(mu_flow_t *self);

/*  Frees the hosts (secrets wiped). */
void mu__flow_hosts_free(mu_flow_t *self);

/*  Checks the multi-host settings at start: 0 (none, or valid) or
    MU_EINVAL with the detail recorded. */
int mu__flow_hosts_check(const mu_flow_t *self);

/*  Runners of stage s on host h (the stage's count on the first host when
    it has no placement). */
int mu__flow_runners_on(const mu_flow_t *self, int s, int h);

#endif
