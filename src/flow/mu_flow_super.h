/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_super.h — private: the supervisor process (mu_flow_super.c). Never installed. */
#ifndef MU_FLOW_SUPER_H_INCLUDED
#define MU_FLOW_SUPER_H_INCLUDED

#include "flow/mu_flow_int.h"

/*  The supervisor's main; never returns. ctl is its end to the caller. */
void mu__flow_supervise(mu_flow_t *flow, int ctl) __attribute__((noreturn));

#endif
