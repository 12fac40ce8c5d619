/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_flow_seen.c — a bounded window of ids: the last MU__SEEN_IDS
    distinct ids in arrival order (a ring), indexed by an open-addressing
    table twice that size (linear probing; an id leaving the ring is
    removed by shifting its followers back, so no tombstones build up).
    Fixed memory whatever the ids are: a peer cannot grow it. */
#include "flow/mu_flow_seen.h"

#include <stdlib.h>
#include <sys/random.h>

#define SLOTS (2 * MU__SEEN_IDS) /* a power of two */
#define EMPTY 0                  /* id 0 is stored as ZERO */
#define ZERO UINT64_MAX

struct mu__seen_t {
    uint64_t seed; /* random: a peer cannot choose ids that share one probe chain */
    uint64_t ring[MU__SEEN_IDS];
    size_t next, count;
    uint64_t table[SLOTS];
};

static size_t
home(const mu__seen_t *self, uint64_t id)
{
    id ^= self->seed;
    id ^= id >> 31;
    id *= 0x9e3779b97f4a7c15ULL;
    return (size_t) (id >> 40) & (SLOTS - 1);
}

mu__seen_t *
mu__seen_new(void)
{
    mu__seen_t *self = calloc(1, sizeof(mu__seen_t));
    if (self && getrandom(&self->seed, sizeof self->seed, 0) != (ssize_t) sizeof self->seed)
        self->seed = (uint64_t) (uintptr_t) self
                     ^ 0x5bd1e9955bd1e995ULL; /* no entropy: still varies */
    return self;
}

void
mu__seen_free(mu__seen_t **seen_p)
{
    if (seen_p) {
        free(*seen_p);
        *seen_p = NULL;
    }
}

/*  The slot of id, or of the empty slot where it would go. */
static size_t
find(const mu__seen_t *self, uint64_t id)
{
    size_t i = home(self, id);
    while (self->table[i] != EMPTY && self->table[i] != id)
        i = (i + 1) & (SLOTS - 1);
    return i;
}

/*  Removes the id in slot i, moving back the ids probed past it. */
static void
remove_at(mu__seen_t *self, size_t i)
{
    size_t j = i;
    for (;;) {
        j = (j + 1) & (SLOTS - 1);
        if (self->table[j] == EMPTY)
            break;
        size_t k = home(self, self->table[j]);
        /* The id in j may move to i only if its home is not in (i, j]. */
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays)
            continue;
        self->table[i] = self->table[j];
        i = j;
    }
    self->table[i] = EMPTY;
}

bool
mu__seen_add(mu__seen_t *self, uint64_t id)
{
    if (id == EMPTY)
        id = ZERO;
    size_t i = find(self, id);
    if (self->table[i] == id)
        return true;
    if (self->count == MU__SEEN_IDS) { /* forget the oldest */
        remove_at(self, find(self, self->ring[self->next]));
        self->count--;
        i = find(self, id);
    }
    self->table[i] = id;
    self->ring[self->next] = id;
    self->next = (self->next + 1) % MU__SEEN_IDS;
    self->count++;
    return false;
}
