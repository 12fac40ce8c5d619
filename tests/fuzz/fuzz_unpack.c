/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  fuzz_unpack.c — libFuzzer target for mu_unpack.

    Each input is decoded under four limit profiles (the defaults, tight
    limits, every limit lifted, and the first value only with used_p), and
    the answers must agree: a profile that succeeds gives the same tree as
    the lifted one; tight limits may add only MU_ELIMIT. Every tree that
    decodes is encoded again with mu_pack, decoded, and encoded once more:
    the two trees must hold the same values and the two encodings must be
    the same bytes. Any disagreement aborts, which libFuzzer reports. */
#include "mutil.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deeper trees are still decoded and compared by the library's limits, but
   not walked here (the walk is recursive). */
#define WALK_DEPTH_MAX 1000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
    fprintf(stderr, "fuzz_unpack: %s\n", what);
    abort();
}

/* ---- comparing two trees ------------------------------------------------ */

static bool same_value(const mu_unpacked_t *a, const mu_unpacked_t *b, int depth);

static bool
same_bytes(int rc_a, const void *a, size_t len_a, int rc_b, const void *b, size_t len_b)
{
    return rc_a == 0 && rc_b == 0 && len_a == len_b && memcmp(a, b, len_a) == 0
           && ((const char *) a)[len_a] == '\0' && ((const char *) b)[len_b] == '\0';
}

static bool
same_scalar(const mu_unpacked_t *a, const mu_unpacked_t *b)
{
    bool ba = false, bb = false;
    int64_t ia = 0, ib = 0;
    uint64_t ua = 0, ub = 0;
    double da = 0, db = 0;
    const void *pa = NULL, *pb = NULL;
    size_t la = 0, lb = 0;
    int8_t ta = 0, tb = 0;
    switch (mu_unpacked_type(a)) {
    case MU_PACK_NIL:
        return true;
    case MU_PACK_BOOL:
        return mu_unpacked_bool(a, &ba) == 0 && mu_unpacked_bool(b, &bb) == 0 && ba == bb;
    case MU_PACK_INT:
        if (mu_unpacked_uint(a, &ua) == 0)
            return mu_unpacked_uint(b, &ub) == 0 && ua == ub;
        return mu_unpacked_int(a, &ia) == 0 && mu_unpacked_int(b, &ib) == 0 && ia == ib;
    case MU_PACK_FLOAT:
        return mu_unpacked_double(a, &da) == 0 && mu_unpacked_double(b, &db) == 0
               && memcmp(&da, &db, sizeof da) == 0;
    case MU_PACK_STR: {
        const char *sa = NULL, *sb = NULL;
        int ra = mu_unpacked_str(a, &sa, &la), rb = mu_unpacked_str(b, &sb, &lb);
        return same_bytes(ra, sa, la, rb, sb, lb);
    }
    case MU_PACK_BIN: {
        int ra = mu_unpacked_bin(a, &pa, &la), rb = mu_unpacked_bin(b, &pb, &lb);
        return same_bytes(ra, pa, la, rb, pb, lb);
    }
    case MU_PACK_EXT: {
        int ra = mu_unpacked_ext(a, &ta, &pa, &la), rb = mu_unpacked_ext(b, &tb, &pb, &lb);
        return ta == tb && same_bytes(ra, pa, la, rb, pb, lb);
    }
    default:
        return false;
    }
}

static bool
same_container(const mu_unpacked_t *a, const mu_unpacked_t *b, int depth)
{
    bool is_map = mu_unpacked_type(a) == MU_PACK_MAP;
    size_t na = 0, nb = 0;
    int ra = is_map ? mu_unpacked_map(a, &na) : mu_unpacked_array(a, &na);
    int rb = is_map ? mu_unpacked_map(b, &nb) : mu_unpacked_array(b, &nb);
    if (ra != 0 || rb != 0 || na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        const mu_unpacked_t *ka = NULL, *kb = NULL, *va = NULL, *vb = NULL;
        if (is_map) {
            if (mu_unpacked_entry(a, i, &ka, &va) != 0 || mu_unpacked_entry(b, i, &kb, &vb) != 0
                || !same_value(ka, kb, depth + 1))
                return false;
        } else if (mu_unpacked_at(a, i, &va) != 0 || mu_unpacked_at(b, i, &vb) != 0) {
            return false;
        }
        if (!same_value(va, vb, depth + 1))
            return false;
    }
    return true;
}

static bool
same_value(const mu_unpacked_t *a, const mu_unpacked_t *b, int depth)
{
    if (mu_unpacked_type(a) != mu_unpacked_type(b))
        return false;
    mu_pack_type_t type = mu_unpacked_type(a);
    if (type == MU_PACK_ARRAY || type == MU_PACK_MAP)
        return depth >= WALK_DEPTH_MAX || same_container(a, b, depth);
    return same_scalar(a, b);
}

/* ---- encoding a tree again ---------------------------------------------- */

static int encode_value(mu_pack_t *pk, const mu_unpacked_t *v, int depth);

static int
encode_scalar(mu_pack_t *pk, const mu_unpacked_t *v)
{
    bool b;
    int64_t i;
    uint64_t u;
    double d;
    const char *s;
    const void *p;
    size_t len;
    int8_t type;
    switch (mu_unpacked_type(v)) {
    case MU_PACK_NIL:
        return mu_pack_nil(pk);
    case MU_PACK_BOOL:
        return mu_unpacked_bool(v, &b) ? -1 : mu_pack_bool(pk, b);
    case MU_PACK_INT:
        if (mu_unpacked_uint(v, &u) == 0)
            return mu_pack_uint(pk, u);
        return mu_unpacked_int(v, &i) ? -1 : mu_pack_int(pk, i);
    case MU_PACK_FLOAT:
        return mu_unpacked_double(v, &d) ? -1 : mu_pack_double(pk, d);
    case MU_PACK_STR:
        return mu_unpacked_str(v, &s, &len) ? -1 : mu_pack_str(pk, s, len);
    case MU_PACK_BIN:
        return mu_unpacked_bin(v, &p, &len) ? -1 : mu_pack_bin(pk, p, len);
    case MU_PACK_EXT:
        return mu_unpacked_ext(v, &type, &p, &len) ? -1 : mu_pack_ext(pk, type, p, len);
    default:
        return -1;
    }
}

static int
encode_container(mu_pack_t *pk, const mu_unpacked_t *v, int depth)
{
    bool is_map = mu_unpacked_type(v) == MU_PACK_MAP;
    size_t n = 0;
    int rc = is_map ? mu_unpacked_map(v, &n) : mu_unpacked_array(v, &n);
    if (rc == 0)
        rc = is_map ? mu_pack_map(pk, (uint32_t) n) : mu_pack_array(pk, (uint32_t) n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const mu_unpacked_t *key = NULL, *item = NULL;
        rc = is_map ? mu_unpacked_entry(v, i, &key, &item) : mu_unpacked_at(v, i, &item);
        if (rc == 0 && key)
            rc = encode_value(pk, key, depth + 1);
        if (rc == 0)
            rc = encode_value(pk, item, depth + 1);
    }
    return rc;
}

static int
encode_value(mu_pack_t *pk, const mu_unpacked_t *v, int depth)
{
    mu_pack_type_t type = mu_unpacked_type(v);
    if (type == MU_PACK_ARRAY || type == MU_PACK_MAP)
        return depth >= WALK_DEPTH_MAX ? 1 : encode_container(pk, v, depth);
    return encode_scalar(pk, v);
}

/* ---- the round trip ----------------------------------------------------- */

/* Encodes tree into a fresh writer; returns it, or NULL when the tree is
   too deep to walk here. Aborts when the library refuses its own values. */
static mu_pack_t *
encode_tree(const mu_unpacked_t *tree)
{
    mu_pack_t *pk = mu_pack_new();
    if (!pk)
        fail("mu_pack_new failed");
    int rc = encode_value(pk, tree, 0);
    if (rc == 1) {
        mu_pack_destroy(&pk);
        return NULL;
    }
    if (rc != 0)
        fail("mu_pack refused a value mu_unpack produced");
    return pk;
}

/* decode -> encode -> decode -> encode: same values, same bytes. limits
   are those the tree was decoded with; the size limit is lifted for the
   re-encoded form, which may be longer (float32 becomes float64). */
static void
check_round_trip(const mu_unpacked_t *tree, const mu_unpack_limits_t *limits)
{
    mu_pack_t *first = encode_tree(tree);
    if (!first)
        return;
    size_t size1 = 0;
    const void *bytes1 = mu_pack_data(first, &size1);
    if (!bytes1)
        fail("mu_pack_data refused a complete message");
    mu_unpack_limits_t again = *limits;
    again.max_size = SIZE_MAX;
    mu_unpacked_t *tree2 = NULL;
    if (mu_unpack(bytes1, size1, &again, &tree2, NULL) != 0)
        fail("re-encoded message does not decode under the same limits");
    if (!same_value(tree, tree2, 0))
        fail("decode -> encode -> decode changed a value");
    mu_pack_t *second = encode_tree(tree2);
    size_t size2 = 0;
    const void *bytes2 = second ? mu_pack_data(second, &size2) : NULL;
    if (!bytes2 || size1 != size2 || memcmp(bytes1, bytes2, size1) != 0)
        fail("encoding the same values twice gave different bytes");
    mu_pack_destroy(&second);
    mu_unpacked_destroy(&tree2);
    mu_pack_destroy(&first);
}

/* The limit profiles; 0 fields take the defaults. */
static const mu_unpack_limits_t lifted = { SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX };
static const mu_unpack_limits_t tight = {
    .max_size = 256, .max_depth = 3, .max_count = 8, .max_bytes = 16, .max_values = 40
};
static const mu_unpack_limits_t defaults = { 0 };

/* Decodes under one profile and checks it against the lifted answer. */
static void
check_profile(const uint8_t *data, size_t size, const mu_unpack_limits_t *limits, int lifted_rc,
              const mu_unpacked_t *lifted_tree)
{
    mu_unpacked_t *tree = NULL;
    int rc = mu_unpack(data, size, limits, &tree, NULL);
    if (rc == 0 && (lifted_rc != 0 || !same_value(tree, lifted_tree, 0)))
        fail("a profile accepted what lifted limits did not, or decoded it differently");
    if (rc != 0 && rc != MU_ELIMIT && rc != MU_ENOMEM && rc != lifted_rc)
        fail("limits changed the error to something other than MU_ELIMIT");
    if (rc != 0 && tree)
        fail("failure left a tree");
    if (rc == 0)
        check_round_trip(tree, limits ? limits : &defaults);
    mu_unpacked_destroy(&tree);
}

/* With used_p: the first value alone, which must decode the same again
   from exactly the bytes it used. */
static void
check_first_value(const uint8_t *data, size_t size, int lifted_rc)
{
    mu_unpacked_t *tree = NULL;
    size_t used = 0;
    int rc = mu_unpack(data, size, &lifted, &tree, &used);
    if (rc != 0) {
        if (used != 0 || tree)
            fail("failure with used_p left a tree or a count");
        if (lifted_rc == 0)
            fail("a whole message decoded, but not as a first value");
        return;
    }
    if (used == 0 || used > size || (lifted_rc == 0 && used != size))
        fail("used_p out of range");
    mu_unpacked_t *alone = NULL;
    if (mu_unpack(data, used, &lifted, &alone, NULL) != 0 || !same_value(tree, alone, 0))
        fail("the bytes used_p counted do not decode to the same value");
    mu_unpacked_destroy(&alone);
    mu_unpacked_destroy(&tree);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mu_unpacked_t *tree = NULL;
    int rc = mu_unpack(data, size, &lifted, &tree, NULL);
    if (rc != 0 && rc != MU_EPROTO && rc != MU_ENOMEM)
        fail("lifted limits gave an error other than MU_EPROTO");
    if (rc == 0)
        check_round_trip(tree, &lifted);
    check_profile(data, size, NULL, rc, tree);
    check_profile(data, size, &defaults, rc, tree);
    check_profile(data, size, &tight, rc, tree);
    check_first_value(data, size, rc);
    mu_unpacked_destroy(&tree);
    return 0;
}
