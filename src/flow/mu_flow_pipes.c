/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_pipes.c — several named pipelines in one flow: their
    definition, their checks at start, and their ends as the supervisor
    reports them (mu_flow_pipeline_state is in mu_flow_pipe_state.c). The
    contract is in include/mu_flow.h; design in doc/flow.md. */
#include "flow/mu_flow_int.h"
#include "flow/mu_flow_pipes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
mu__flow_pipe_current(const mu_flow_t *self)
{
    return self->npipes > 0 ? self->npipes - 1 : 0;
}

bool
mu__flow_pipe_starts(const mu_flow_t *self)
{
    return self->nstages == 0
           || self->stages[self->nstages - 1].pipe != mu__flow_pipe_current(self);
}

int
mu__flow_pipe_find(const mu_flow_t *self, const char *name)
{
    for (int p = 0; p < mu__flow_npipes(self); p++)
        if (strcmp(mu__flow_pipe_name(self, p), name) == 0)
            return p;
    return -1;
}

/*  Stages of pipeline p. */
static int
pipe_stages(const mu_flow_t *self, int p)
{
    int n = 0;
    for (int s = 0; s < self->nstages; s++)
        n += self->stages[s].pipe == p;
    return n;
}

int
mu_flow_add_pipeline(mu_flow_t *self, const char *name)
{
    assert(self);
    assert(name);
    const char *fn = self->name;
    if (self->started)
        return mu__fail(MU_EINVAL, "flow '%s': already started", fn);
    if (name[0] == '\0' || strlen(name) >= MU__FLOW_NAME)
        return mu__fail(MU_EINVAL, "flow '%s': pipeline name '%s' empty or over %d bytes", fn, name,
                        MU__FLOW_NAME - 1);
    if (self->npipes > 0 && mu__flow_pipe_find(self, name) >= 0)
        return mu__fail(MU_EINVAL, "flow '%s': pipeline '%s' added twice", fn, name);
    if (self->npipes == 0 && self->nstages > 0)
        return mu__fail(MU_EINVAL,
                        "flow '%s': pipeline '%s': stages were added before the first "
                        "pipeline (add every pipeline before its stages)",
                        fn, name);
    if (self->npipes > 0 && pipe_stages(self, self->npipes - 1) == 0)
        return mu__fail(MU_EINVAL, "flow '%s': pipeline '%s' has no stage", fn,
                        self->pipes[self->npipes - 1].name);
    if (self->npipes >= MU__FLOW_MAX_PIPES)
        return mu__fail(MU_EINVAL, "flow '%s': over %d pipelines", fn, MU__FLOW_MAX_PIPES);
    mu__pipe_t *grown = realloc(self->pipes, (size_t) (self->npipes + 1) * sizeof *grown);
    if (!grown)
        return mu__fail(MU_ENOMEM, "flow '%s': out of memory", fn);
    self->pipes = grown;
    mu__pipe_t *pipe = &grown[self->npipes++];
    memset(pipe, 0, sizeof *pipe);
    snprintf(pipe->name, sizeof pipe->name, "%s", name);
    pipe->policy = MU_FLOW_PIPELINE_ISOLATE;
    return 0;
}

int
mu_flow_set_pipeline_policy(mu_flow_t *self, const char *name, mu_flow_pipeline_policy_t policy)
{
    assert(self);
    assert(name);
    assert(policy == MU_FLOW_PIPELINE_ISOLATE || policy == MU_FLOW_PIPELINE_FAIL_FLOW);
    int p = self->npipes > 0 ? mu__flow_pipe_find(self, name) : -1;
    if (p < 0 || self->started)
        return mu__fail(MU_EINVAL, "flow '%s': no pipeline '%s', or started", self->name, name);
    self->pipes[p].policy = policy;
    return 0;
}

int
mu__flow_pipes_check(const mu_flow_t *self)
{
    if (self->npipes == 0)
        return 0;
    const char *fn = self->name;
    if (self->nhosts > 0 || self->pinned)
        return mu__fail(MU_EINVAL,
                        "flow '%s': named pipelines do not mix with hosts (mu_flow_add_host) "
                        "or split flows (mu_flow_set_local, mu_flow_set_endpoint)",
                        fn);
    for (int p = 0; p < self->npipes; p++)
        if (pipe_stages(self, p) == 0)
            return mu__fail(MU_EINVAL, "flow '%s': pipeline '%s' has no stage", fn,
                            self->pipes[p].name);
    return 0;
}

void
mu__flow_pipes_free(mu_flow_t *self)
{
    free(self->pipes);
    free(self->pipe_ends);
    self->pipes = NULL;
    self->pipe_ends = NULL;
    self->npipes = self->npipe_ends = 0;
}

void
mu__flow_pipes_take(mu_flow_t *self, const char *data, size_t size, int np)
{
    if (np != mu__flow_npipes(self) || size != (size_t) np * sizeof(mu__pipe_end_t))
        return;
    mu__pipe_end_t *ends = malloc(size);
    if (!ends)
        return;
    memcpy(ends, data, size);
    for (int p = 0; p < np; p++)
        ends[p].error[sizeof ends[p].error - 1] = '\0';
    free(self->pipe_ends);
    self->pipe_ends = ends;
    self->npipe_ends = np;
}
