/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_conf.h — a flow defined by a file (JSON): hosts, keys, stages
    whose handlers are external commands (mu_pipe frames on stdin/stdout)
    or functions of a shared library. `mutil flow run FILE --host NAME`
    runs one; the format's reference is doc/flow.md ("Flow files").

    Threads: a conf object belongs to one thread. */
#ifndef MU_FLOW_CONF_H_INCLUDED
#define MU_FLOW_CONF_H_INCLUDED

#include "mu_defs.h"
#include "mu_error.h"
#include "mu_flow.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mu_flow_conf_t mu_flow_conf_t;

/*  Reads the flow file at path and builds its flow for host `host` (one
    of the file's hosts; NULL when it lists none): the stages, links, settings and keys it lists, with their handlers
    (shared libraries are loaded now, commands are run by the runners).
    Returns the conf, which owns the flow (not started: mu_flow_start it
    through mu_flow_conf_flow), or NULL with mu_last_code() MU_EINVAL (a
    syntax error, an unknown or wrong key or value, a setting the flow
    refuses, an unknown host, a library or symbol that cannot be loaded, a
    key file that cannot be read), -errno of reading the file (MU_ENOENT,
    MU_EACCES...) or MU_ENOMEM, and mu_last_error() saying where:
    "FILE:LINE:COLUMN: ..." for a syntax error, "FILE: KEY.PATH: ..."
    otherwise. path must not be NULL (asserted). */
MU_EXPORT MU_NODISCARD mu_flow_conf_t *mu_flow_conf_load(const char *path, const char *host);

/*  The conf's flow (owned by the conf; valid until mu_flow_conf_destroy). */
MU_EXPORT mu_flow_t *mu_flow_conf_flow(const mu_flow_conf_t *self);

/*  Destroys the conf and its flow (a running flow is killed first, as
    mu_flow_destroy does). Accepts NULL and *self_p NULL. */
MU_EXPORT void mu_flow_conf_destroy(mu_flow_conf_t **self_p);

#ifdef __cplusplus
}
#endif
#endif
