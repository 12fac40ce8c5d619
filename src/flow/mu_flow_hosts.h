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

/*  Port of runner k (0..) of stage s on host h. */
int mu__flow_port_of(const mu_flow_t *self, int s, int h, int k);

/*  Keeps this host's part of a multi-host flow (no-op without hosts):
    every stage gets its placement, its global count and first index
    (gn, gfirst), and n becomes this host's runners (remote when none);
    fd sources placed elsewhere are closed. At mu_flow_start, after the
    checks. 0 or MU_ENOMEM. */
int mu__flow_hosts_localize(mu_flow_t *self);

#endif
