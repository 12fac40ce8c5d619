/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_worker.h — private: a runner process's entry (mu_flow_worker.c). Never installed. */
#ifndef MU_FLOW_WORKER_H_INCLUDED
#define MU_FLOW_WORKER_H_INCLUDED

#include "flow/mu_flow_int.h"

/*  A runner process's main; never returns. ctl is its end to the
    supervisor. */
void mu__flow_runner_main(mu_flow_t *flow, int stage, int index, int ctl) __attribute__((noreturn));

#endif
