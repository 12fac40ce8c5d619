/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_stats.c — the one stats shape: a struct whose first field is the
    size the caller set, filled as far as it reaches (mu_internal.h). */
#include "base/mu_internal.h"
#include <string.h>

int
mu__stats_fill(void *stats, const void *all, size_t all_size, size_t first_size)
{
    size_t size = *(const size_t *) stats;
    if (size < first_size)
        return mu__fail(MU_EINVAL, "stats size %zu, at least %zu expected", size, first_size);
    size_t n = size < all_size ? size : all_size;
    memcpy((uint8_t *) stats + sizeof(size_t), (const uint8_t *) all + sizeof(size_t),
           n - sizeof(size_t));
    return 0;
}
