/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_run.c — mu_flow_run: start, then wait with SIGINT/SIGTERM passed on
    to the supervisor. The contract is in include/mu_flow.h. */
#include "flow/mu_flow_int.h"

#include <assert.h>
#include <signal.h>
#include <sys/types.h>

/* ---- run with signals passed on -------------------------------------------------- */

static volatile pid_t run_super_pid;

static void
forward_signal(int sig)
{
    (void) sig;
    if (run_super_pid > 0)
        kill(run_super_pid, SIGTERM);
}

int
mu_flow_run(mu_flow_t *self)
{
    assert(self);
    int rc = mu_flow_start(self);
    if (rc != 0)
        return rc;
    struct sigaction sa = { .sa_handler = forward_signal }, old_int, old_term;
    sigemptyset(&sa.sa_mask);
    run_super_pid = self->super_pid;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    rc = mu_flow_wait(self, -1);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    run_super_pid = 0;
    return rc;
}
