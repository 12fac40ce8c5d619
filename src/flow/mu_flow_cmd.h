/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_cmd.h — external commands as flow handlers and sources (flow
    files, doc/flow.md "External commands"). Never installed. */
#ifndef MU_FLOW_CMD_H_INCLUDED
#define MU_FLOW_CMD_H_INCLUDED

#include "mu_flow.h"
#include <stdint.h>

/*  One command stage's definition; strings stay valid in the runners
    (they live in the conf the flow was made from). */
typedef struct {
    const char *command;             /* run with /bin/sh -c */
    const char *dir;                 /* working directory */
    const char *flow, *stage, *host; /* for MUFLOW_* (host may be NULL) */
    int timeout_ms;                  /* per input; 0: none */
    uint32_t max_frame;              /* largest frame it may write */
} mu__cmd_def_t;

/*  Worker stage hooks: arg is a mu__cmd_def_t. */
int mu__cmd_startup(void *arg, int index, void **state_p);
int mu__cmd_handler(void *state, const void *data, size_t size, mu_flow_emit_t *out);
int mu__cmd_teardown(void *state, mu_flow_emit_t *out);

/*  Source function: arg is a mu__cmd_def_t. */
int mu__cmd_source(void *arg, int index, mu_flow_emit_t *out);

#endif
