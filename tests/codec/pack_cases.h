/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  pack_cases.h — what the test_pack* programs (test_pack,
    test_pack_interop, test_pack_hostile, test_pack_random) share: decoding
    from an exact-size heap copy (so that ASan sees any read past the end),
    walking a decoded tree, taking a writer's bytes, and a message with one
    of everything. */
#ifndef PACK_CASES_H_INCLUDED
#define PACK_CASES_H_INCLUDED

#include "mu_test.h"
#include <mutil.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <msgpack.h>

/*  Decodes from an exact-size heap copy, so that ASan sees any read past the
    end, and frees the copy before returning: the tree must not refer to it. */
int decode(const void *data, size_t size, const mu_unpack_limits_t *limits, mu_unpacked_t **root_p,
           size_t *used_p);

/*  Counts the values of a tree and checks that every accessor agrees with
    its type. Returns 0 when something is inconsistent. */
size_t walk(const mu_unpacked_t *v, unsigned depth);

/*  Packs one value with fill(), returns the bytes in a malloc'd buffer. */
uint8_t *take(mu_pack_t *pack, size_t *size_p);

/*  A message with one of everything, 4.4 KB long. */
uint8_t *rich_message(size_t *size_p);

#endif
