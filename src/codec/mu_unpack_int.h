/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_unpack_int.h — private entry points of the MessagePack reader. Never
    installed. */
#ifndef MU_UNPACK_INT_H_INCLUDED
#define MU_UNPACK_INT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include "mu_pack.h"

/*  Checks that the size bytes at data are exactly one MessagePack value
    within limits (NULL: the defaults), exactly as mu_unpack would, without
    building the tree: nothing is allocated unless limits->max_depth is above
    MU_UNPACK_MAX_DEPTH_DEFAULT. Returns 0, MU_EPROTO (malformed, truncated,
    trailing bytes, empty), MU_ELIMIT or MU_ENOMEM. data may be NULL only
    when size is 0 (asserted). */
int mu__unpack_check(const void *data, size_t size, const mu_unpack_limits_t *limits);

/*  Tells whether value is a MU_PACK_FLOAT that was sent as a float32 (the
    JSON writer prints those with float32 precision). */
bool mu__unpacked_is_float32(const mu_unpacked_t *value);

#endif
