/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_pipes.h — private: named pipelines of a flow definition
    (mu_flow_pipes.c): the current pipeline, checks at start, the
    pipelines' ends as the caller learns them. Never installed. */
#ifndef MU_FLOW_PIPES_H_INCLUDED
#define MU_FLOW_PIPES_H_INCLUDED

#include "flow/mu_flow_int.h"

/*  The index of pipeline name (the flow's name without named ones), or -1. */
int mu__flow_pipe_find(const mu_flow_t *self, const char *name);

/*  The pipeline a stage added now belongs to. */
int mu__flow_pipe_current(const mu_flow_t *self);

/*  Whether a stage added now would be the first of its pipeline. */
bool mu__flow_pipe_starts(const mu_flow_t *self);

/*  Checks the pipelines at start: 0 (none, or valid) or MU_EINVAL with the
    detail recorded. */
int mu__flow_pipes_check(const mu_flow_t *self);

/*  Frees the pipelines and their ends. */
void mu__flow_pipes_free(mu_flow_t *self);

/*  Takes the pipelines' ends that follow the rows of a statistics message
    (data, size bytes; np of them). */
void mu__flow_pipes_take(mu_flow_t *self, const char *data, size_t size, int np);

#endif
