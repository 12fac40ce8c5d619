/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_dir.h — the flow's private directory (ipc:// endpoints): where it
    is made, its lock, and the reaping of stale ones. Never installed. */
#ifndef MU_FLOW_DIR_H_INCLUDED
#define MU_FLOW_DIR_H_INCLUDED

#include "flow/mu_flow_int.h"

/*  Removes the stale flow directories in the base directory, then makes
    self->dir there and holds its lock (self->dir_lock, inherited by every
    process of the flow). Returns 0 or a negative code (recorded). */
int mu__flow_make_dir(mu_flow_t *self);

/*  Removes self->dir (when made) and drops this process's hold of its lock. */
void mu__flow_drop_dir(mu_flow_t *self);

/*  The base directory: $XDG_RUNTIME_DIR, else $TMPDIR, else /tmp (the first
    that is an absolute path to a directory we may write to and short
    enough for ipc:// paths). */
const char *mu__flow_dir_base(void);

#endif
