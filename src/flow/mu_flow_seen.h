/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_seen.h — private: a bounded window of the message ids a
    receiving runner handled (mu_flow_seen.c), to count the copies it
    handles twice (at-least-once across hosts, doc/flow.md). Never
    installed. */
#ifndef MU_FLOW_SEEN_H_INCLUDED
#define MU_FLOW_SEEN_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MU__SEEN_IDS 65536 /* ids remembered per receiving runner */

typedef struct mu__seen_t mu__seen_t;

/*  A window of the last MU__SEEN_IDS distinct ids (about 1.5 MiB); NULL
    when out of memory. */
mu__seen_t *mu__seen_new(void);

/*  Frees the window; *seen_p becomes NULL (no-op when it is NULL). */
void mu__seen_free(mu__seen_t **seen_p);

/*  True when id is in the window; else adds it, forgetting the oldest id
    once the window is full. Constant time on average. */
bool mu__seen_add(mu__seen_t *self, uint64_t id);

#endif
