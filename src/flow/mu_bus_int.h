/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_bus_int.h — private: the hook a flow runner sets on its bus. Never
    installed. */
#ifndef MU_BUS_INT_H_INCLUDED
#define MU_BUS_INT_H_INCLUDED

#include "mu_bus.h"

/*  Called (without locks) about every millisecond while an emit waits for
    room in a thread subscription's queue; a non-zero return ends the wait
    and is what the emit returns. A flow runner sends what its thread
    handlers queued, which they may be waiting on. */
typedef int mu__bus_wait_fn(void *arg);

/*  Sets the wait hook (before the first emit). */
void mu__bus_set_wait_hook(mu_flow_bus_t *bus, mu__bus_wait_fn *fn, void *arg);

#endif
