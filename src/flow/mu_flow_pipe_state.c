/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_pipe_state.c — how one pipeline of a flow stands
    (mu_flow_pipeline_state): asks the supervisor through mu_flow_stats,
    then reads the pipeline's end it reported. Above mu_flow.c, as
    mu_flow_run.c is. The contract is in include/mu_flow.h. */
#include "flow/mu_flow_int.h"
#include "flow/mu_flow_pipes.h"

#include <stdio.h>

int
mu_flow_pipeline_state(mu_flow_t *self, const char *name, mu_flow_state_t *state_p, int *code_p)
{
    assert(self);
    assert(name);
    assert(state_p);
    *state_p = MU_FLOW_IDLE;
    if (code_p)
        *code_p = 0;
    int p = mu__flow_pipe_find(self, name);
    if (p < 0)
        return mu__fail(MU_EINVAL, "flow '%s': no pipeline '%s'", self->name, name);
    if (!self->started)
        return 0;
    size_t n;
    int rc = mu_flow_stats(self, NULL, 0, &n); /* asks the supervisor (or reads its end) */
    if (rc != 0)
        return rc;
    mu__pipe_end_t end = { .state = MU_FLOW_RUNNING };
    if (self->pipe_ends && p < self->npipe_ends)
        end = self->pipe_ends[p];
    if (end.state == MU_FLOW_RUNNING && self->ended) { /* the supervisor died */
        end.state = self->end_rc == 0 ? MU_FLOW_FINISHED : MU_FLOW_FAILED;
        end.rc = self->end_rc;
        snprintf(end.error, sizeof end.error, "%s", self->error);
    }
    *state_p = (mu_flow_state_t) end.state;
    if (*state_p == MU_FLOW_FAILED && code_p)
        *code_p = mu__fail(end.rc, "flow '%s': %s", self->name,
                           end.error[0] ? end.error : mu_strerror(end.rc));
    return 0;
}
