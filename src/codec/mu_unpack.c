/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_unpack.c — a bounded, non-recursive MessagePack decoder for untrusted
    input (see mu_pack.h), and the validate-only walk of mu_unpack_int.h.

    The decoder is one walker over the wire format that checks everything
    (formats, lengths against the bytes left, limits). Inputs over 4 KiB get
    two passes of it: the first only checks and counts the values and the
    payload bytes, allocating nothing but a stack of open arrays/maps when
    the depth limit is above 64; the second fills one block sized from those
    counts, the value nodes first, then the payload arena. Smaller inputs get
    one pass into a block sized for the worst case (16 bytes of node and one
    arena byte per input byte, at most 68 KiB). The items of an array (the keys and values
    of a map, alternately) sit next to each other, so element access is an
    index: when an array/map header is read, its item slots are reserved at
    the end of the nodes used so far. */
#include "base/mu_internal.h"
#include "codec/mu_unpack_int.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*  ---- decoded tree ------------------------------------------------------- */

#define S_FLAG_ROOT 1u     /* this node starts the allocation */
#define S_FLAG_NEGATIVE 2u /* MU_PACK_INT below zero: read as.i, else as.u */
#define S_FLAG_FLOAT32 4u  /* MU_PACK_FLOAT sent as float32 */

struct mu_unpacked_t {
    uint8_t type;    /* mu_pack_type_t */
    uint8_t flags;   /* S_FLAG_* */
    int8_t ext_type; /* MU_PACK_EXT: the type byte */
    uint8_t unused;
    uint32_t len; /* payload bytes; array items; map pairs */
    union {
        bool b;
        int64_t i;
        uint64_t u;
        double d;
        const char *bytes;          /* str/bin/ext payload, NUL after it */
        const mu_unpacked_t *items; /* array items; map key, value, key, ... */
    } as;
};

_Static_assert(sizeof(mu_unpacked_t) <= 16, "a decoded value takes 16 bytes, as documented");

/*  An array or map still being filled. */
typedef struct {
    uint64_t left; /* items not yet started */
    size_t next;   /* node index of the next item (when building) */
} s_frame_t;

typedef struct {
    const uint8_t *start;
    const uint8_t *end; /* end of what may be read */
    bool cut;           /* end was cut at max_size: running short is a limit */
    size_t max_depth, max_count, max_bytes, max_values;
    s_frame_t *stack; /* max_depth frames, or fewer when the input is shorter */
    size_t stack_cap;
    /* results of a successful walk */
    size_t used, values, arena;
} s_decoder_t;

/*  The input ended before the value did. */
static int
s_short(const s_decoder_t *d)
{
    return d->cut ? MU_ELIMIT : MU_EPROTO;
}

/*  Reads an unsigned big-endian integer of n bytes (1, 2, 4 or 8). */
static uint64_t
s_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/*  Sign-extends the low `bits` bits of raw (bits 8, 16, 32 or 64), without
    relying on implementation-defined conversions. */
static int64_t
s_signed(uint64_t raw, unsigned bits)
{
    if (bits < 64) {
        uint64_t sign = (uint64_t) 1 << (bits - 1);
        if (raw & sign)
            return (int64_t) (raw & (sign - 1)) - (int64_t) sign;
        return (int64_t) raw;
    }
    if (raw <= (uint64_t) INT64_MAX)
        return (int64_t) raw;
    return -(int64_t) (~raw) - 1;
}

/*  Stores an integer in a node, normalised: non-negative values as unsigned. */
static void
s_set_int(mu_unpacked_t *v, int64_t i)
{
    v->type = MU_PACK_INT;
    if (i < 0) {
        v->flags = S_FLAG_NEGATIVE;
        v->as.i = i;
    } else
        v->as.u = (uint64_t) i;
}

/*  Walks one value, checking everything, and stores in d->values, d->arena
    and d->used the number of values, arena bytes and input bytes it took.
    With nodes not NULL it also fills nodes[0..values) and the arena; on
    failure their content is garbage. Run twice on the same bytes, it takes
    the same decisions, so a second pass after a successful counting pass
    (nodes NULL) cannot fail.

    Bounds, whatever the input: every value takes at least one input byte,
    and an array/map header only reserves item slots for which input bytes
    remain (after one byte for each item already owed), so at most len
    nodes are used; a str/bin/ext of n bytes takes at least n + 1 input
    bytes and n + 1 arena bytes, so the arena needs at most len bytes. */
static int
s_walk(s_decoder_t *d, mu_unpacked_t *nodes, char *arena)
{
    const uint8_t *p = d->start;
    const uint8_t *const end = d->end;
    uint64_t pending = 0; /* items announced by open arrays/maps, not yet started */
    size_t depth = 0;
    size_t values = 0;
    size_t arena_used = 0;
    size_t bump = 1; /* next free node; node 0 is the root */

/*  Requires n more bytes, plus one for each pending item. */
#define S_NEED(n)                                     \
    do {                                              \
        uint64_t need_ = (uint64_t) (n);              \
        uint64_t room_ = (uint64_t) (end - p);        \
        if (room_ < need_ || room_ - need_ < pending) \
            return s_short(d);                        \
    } while (0)

    for (;;) {
        size_t slot = 0;
        if (depth > 0) {
            s_frame_t *top = &d->stack[depth - 1];
            top->left--;
            pending--;
            slot = top->next++;
        }
        if (++values > d->max_values)
            return MU_ELIMIT;
        S_NEED(1);
        uint8_t b = *p++;
        mu_unpacked_t v;
        memset(&v, 0, sizeof v);
        uint64_t n = 0; /* str/bin/ext bytes, or array/map count */
        bool is_bytes = false, is_map = false, is_container = false;
        size_t k;

        if (b <= 0x7f) {
            s_set_int(&v, b);
        } else if (b <= 0x8f) {
            is_container = is_map = true;
            n = b & 0x0f;
        } else if (b <= 0x9f) {
            is_container = true;
            n = b & 0x0f;
        } else if (b <= 0xbf) {
            v.type = MU_PACK_STR;
            is_bytes = true;
            n = b & 0x1f;
        } else if (b >= 0xe0) {
            s_set_int(&v, (int64_t) b - 256);
        } else {
            switch (b) {
            case 0xc0:
                v.type = MU_PACK_NIL;
                break;
            case 0xc2:
            case 0xc3:
                v.type = MU_PACK_BOOL;
                v.as.b = b == 0xc3;
                break;
            case 0xc4:
            case 0xc5:
            case 0xc6: /* bin 8/16/32 */
                k = (size_t) 1 << (b - 0xc4);
                S_NEED(k);
                n = s_be(p, k);
                p += k;
                v.type = MU_PACK_BIN;
                is_bytes = true;
                break;
            case 0xc7:
            case 0xc8:
            case 0xc9: /* ext 8/16/32: length, type */
                k = (size_t) 1 << (b - 0xc7);
                S_NEED(k + 1);
                n = s_be(p, k);
                p += k;
                v.ext_type = (int8_t) s_signed(*p++, 8);
                v.type = MU_PACK_EXT;
                is_bytes = true;
                break;
            case 0xca: { /* float 32 */
                S_NEED(4);
                uint32_t raw = (uint32_t) s_be(p, 4);
                float f;
                memcpy(&f, &raw, sizeof f);
                p += 4;
                v.type = MU_PACK_FLOAT;
                v.flags = S_FLAG_FLOAT32;
                v.as.d = f;
                break;
            }
            case 0xcb: { /* float 64 */
                S_NEED(8);
                uint64_t raw = s_be(p, 8);
                memcpy(&v.as.d, &raw, sizeof v.as.d);
                p += 8;
                v.type = MU_PACK_FLOAT;
                break;
            }
            case 0xcc:
            case 0xcd:
            case 0xce:
            case 0xcf: /* uint 8..64 */
                k = (size_t) 1 << (b - 0xcc);
                S_NEED(k);
                v.type = MU_PACK_INT;
                v.as.u = s_be(p, k);
                p += k;
                break;
            case 0xd0:
            case 0xd1:
            case 0xd2:
            case 0xd3: /* int 8..64 */
                k = (size_t) 1 << (b - 0xd0);
                S_NEED(k);
                s_set_int(&v, s_signed(s_be(p, k), (unsigned) (8 * k)));
                p += k;
                break;
            case 0xd4:
            case 0xd5:
            case 0xd6:
            case 0xd7:
            case 0xd8: /* fixext 1..16 */
                S_NEED(1);
                n = (uint64_t) 1 << (b - 0xd4);
                v.ext_type = (int8_t) s_signed(*p++, 8);
                v.type = MU_PACK_EXT;
                is_bytes = true;
                break;
            case 0xd9:
            case 0xda:
            case 0xdb: /* str 8/16/32 */
                k = (size_t) 1 << (b - 0xd9);
                S_NEED(k);
                n = s_be(p, k);
                p += k;
                v.type = MU_PACK_STR;
                is_bytes = true;
                break;
            case 0xdc:
            case 0xdd: /* array 16/32 */
                k = b == 0xdc ? 2 : 4;
                S_NEED(k);
                n = s_be(p, k);
                p += k;
                is_container = true;
                break;
            case 0xde:
            case 0xdf: /* map 16/32 */
                k = b == 0xde ? 2 : 4;
                S_NEED(k);
                n = s_be(p, k);
                p += k;
                is_container = is_map = true;
                break;
            default: /* 0xc1: never used */
                return MU_EPROTO;
            }
        }

        if (is_bytes) {
            S_NEED(n);
            if (n > d->max_bytes)
                return MU_ELIMIT;
            v.len = (uint32_t) n;
            if (arena) {
                char *copy = arena + arena_used;
                if (n > 0)
                    memcpy(copy, p, (size_t) n);
                copy[n] = '\0';
                v.as.bytes = copy;
            }
            p += n;
            arena_used += (size_t) n + 1;
        } else if (is_container) {
            uint64_t items = is_map ? 2 * n : n;
            if (depth >= d->max_depth || depth >= d->stack_cap)
                return MU_ELIMIT;
            S_NEED(items);
            if (n > d->max_count)
                return MU_ELIMIT;
            v.type = is_map ? MU_PACK_MAP : MU_PACK_ARRAY;
            v.len = (uint32_t) n;
            if (items > 0) {
                if (nodes)
                    v.as.items = nodes + bump;
                d->stack[depth].left = items;
                d->stack[depth].next = bump;
                depth++;
                bump += (size_t) items;
                pending += items;
                if (nodes)
                    nodes[slot] = v;
                continue; /* its items come next */
            }
        }
        if (nodes)
            nodes[slot] = v;
        /* this value is complete: close the arrays/maps it completes */
        while (depth > 0 && d->stack[depth - 1].left == 0)
            depth--;
        if (depth == 0)
            break;
    }
#undef S_NEED
    d->used = (size_t) (p - d->start);
    d->values = values;
    d->arena = arena_used;
    return 0;
}

/*  Inputs up to this size are decoded in one pass (see mu_unpack). */
#define S_ONE_PASS_MAX 4096u

/*  A limit from the caller's struct, or its default when 0. */
#define S_LIMIT(limits, field, fallback) \
    ((limits) && (limits)->field ? (limits)->field : (fallback))

/*  Sets up d for size bytes at data within limits (NULL: defaults); with
    prefix, only the first value must fit in max_size. The stack of open
    arrays/maps is `local` (MU_UNPACK_MAX_DEPTH_DEFAULT frames) when the depth
    limit allows, else allocated: free it with s_decoder_fini. Returns 0,
    MU_ELIMIT, MU_EPROTO (empty input) or MU_ENOMEM. */
static int
s_decoder_init(s_decoder_t *d, const void *data, size_t size, const mu_unpack_limits_t *limits,
               bool prefix, s_frame_t *local)
{
    memset(d, 0, sizeof *d);
    size_t max_size = S_LIMIT(limits, max_size, MU_UNPACK_MAX_SIZE_DEFAULT);
    d->max_depth = S_LIMIT(limits, max_depth, MU_UNPACK_MAX_DEPTH_DEFAULT);
    d->max_count = S_LIMIT(limits, max_count, MU_UNPACK_MAX_COUNT_DEFAULT);
    d->max_bytes = S_LIMIT(limits, max_bytes, MU_UNPACK_MAX_BYTES_DEFAULT);
    d->max_values = S_LIMIT(limits, max_values, MU_UNPACK_MAX_VALUES_DEFAULT);

    size_t len = size;
    if (size > max_size) {
        if (!prefix)
            return MU_ELIMIT;
        len = max_size;
        d->cut = true;
    }
    if (len == 0)
        return d->cut ? MU_ELIMIT : MU_EPROTO;
    d->start = data;
    d->end = d->start + len;

    /* Each open array/map took at least one input byte. */
    d->stack_cap = d->max_depth < len ? d->max_depth : len;
    if (d->stack_cap <= MU_UNPACK_MAX_DEPTH_DEFAULT)
        d->stack = local;
    else {
        d->stack = malloc(d->stack_cap * sizeof *d->stack);
        if (!d->stack)
            return MU_ENOMEM;
    }
    return 0;
}

static void
s_decoder_fini(s_decoder_t *d, const s_frame_t *local)
{
    if (d->stack != local)
        free(d->stack);
    d->stack = NULL;
}

int
mu__unpack_check(const void *data, size_t size, const mu_unpack_limits_t *limits)
{
    assert(data || size == 0);
    s_decoder_t d;
    s_frame_t local[MU_UNPACK_MAX_DEPTH_DEFAULT];
    int rc = s_decoder_init(&d, data, size, limits, false, local);
    if (rc == 0) {
        rc = s_walk(&d, NULL, NULL);
        if (rc == 0 && d.used != size)
            rc = MU_EPROTO; /* bytes after the value */
    }
    s_decoder_fini(&d, local);
    return rc;
}

/*  Decodes the checked-and-set-up input of d into a new tree. */
static int
s_build(s_decoder_t *d, size_t size, bool prefix, mu_unpacked_t **root_p)
{
    size_t len = (size_t) (d->end - d->start);
    int rc;
    mu_unpacked_t *nodes = NULL;
    if (len <= S_ONE_PASS_MAX) {
        /* Small input: one pass into a block sized for the worst case, at
           most len values and len arena bytes (see s_walk). */
        nodes = malloc(len * sizeof *nodes + len);
        if (!nodes)
            return MU_ENOMEM;
        rc = s_walk(d, nodes, (char *) (nodes + len));
        if (rc == 0 && !prefix && d->used != size)
            rc = MU_EPROTO; /* bytes after the value */
    } else {
        /* Large input: check and count first, then allocate exactly. */
        rc = s_walk(d, NULL, NULL);
        if (rc == 0 && !prefix && d->used != size)
            rc = MU_EPROTO;
        if (rc == 0) {
            /* values <= len and arena <= len, so this only overflows on 32-bit */
            if (d->values > (SIZE_MAX - d->arena) / sizeof *nodes)
                rc = MU_ENOMEM;
            else {
                nodes = malloc(d->values * sizeof *nodes + d->arena);
                if (!nodes)
                    rc = MU_ENOMEM;
            }
        }
        if (rc == 0) {
            rc = s_walk(d, nodes, (char *) (nodes + d->values));
            assert(rc == 0);
        }
    }
    if (rc != 0) {
        free(nodes);
        return rc;
    }
    nodes[0].flags |= S_FLAG_ROOT;
    *root_p = nodes;
    return 0;
}

int
mu_unpack(const void *data, size_t size, const mu_unpack_limits_t *limits, mu_unpacked_t **root_p,
          size_t *used_p)
{
    assert(root_p);
    assert(data || size == 0);
    if (used_p)
        *used_p = 0;
    *root_p = NULL;
    s_decoder_t d;
    s_frame_t local[MU_UNPACK_MAX_DEPTH_DEFAULT];
    int rc = s_decoder_init(&d, data, size, limits, used_p != NULL, local);
    if (rc == 0)
        rc = s_build(&d, size, used_p != NULL, root_p);
    s_decoder_fini(&d, local);
    if (rc != 0)
        return mu__fail(rc, "mu_unpack: %s", mu_strerror(rc));
    if (used_p)
        *used_p = d.used;
    return 0;
}

void
mu_unpacked_destroy(mu_unpacked_t **root_p)
{
    if (!root_p || !*root_p)
        return;
    /* Only the root owns memory; anything else is a caller bug. */
    assert((*root_p)->flags & S_FLAG_ROOT);
    if ((*root_p)->flags & S_FLAG_ROOT)
        free(*root_p);
    *root_p = NULL;
}

/*  ---- accessors ---------------------------------------------------------- */

mu_pack_type_t
mu_unpacked_type(const mu_unpacked_t *value)
{
    return value ? (mu_pack_type_t) value->type : MU_PACK_NONE;
}

/*  Common check of an accessor: value and out present, type as expected. */
static int
s_check(const mu_unpacked_t *value, const void *out, mu_pack_type_t type)
{
    assert(value && out);
    return value->type == type ? 0 : MU_ETYPE;
}

int
mu_unpacked_bool(const mu_unpacked_t *value, bool *out)
{
    int rc = s_check(value, out, MU_PACK_BOOL);
    if (rc == 0)
        *out = value->as.b;
    return rc;
}

int
mu_unpacked_int(const mu_unpacked_t *value, int64_t *out)
{
    int rc = s_check(value, out, MU_PACK_INT);
    if (rc)
        return rc;
    if (value->flags & S_FLAG_NEGATIVE)
        *out = value->as.i;
    else if (value->as.u <= (uint64_t) INT64_MAX)
        *out = (int64_t) value->as.u;
    else
        return MU_ETYPE;
    return 0;
}

int
mu_unpacked_uint(const mu_unpacked_t *value, uint64_t *out)
{
    int rc = s_check(value, out, MU_PACK_INT);
    if (rc)
        return rc;
    if (value->flags & S_FLAG_NEGATIVE)
        return MU_ETYPE;
    *out = value->as.u;
    return 0;
}

int
mu_unpacked_double(const mu_unpacked_t *value, double *out)
{
    int rc = s_check(value, out, MU_PACK_FLOAT);
    if (rc == 0)
        *out = value->as.d;
    return rc;
}

bool
mu__unpacked_is_float32(const mu_unpacked_t *value)
{
    return value && value->type == MU_PACK_FLOAT && (value->flags & S_FLAG_FLOAT32);
}

int
mu_unpacked_str(const mu_unpacked_t *value, const char **str_p, size_t *len_p)
{
    int rc = s_check(value, str_p, MU_PACK_STR);
    if (rc)
        return rc;
    *str_p = value->as.bytes;
    if (len_p)
        *len_p = value->len;
    return 0;
}

int
mu_unpacked_bin(const mu_unpacked_t *value, const void **data_p, size_t *len_p)
{
    int rc = s_check(value, data_p, MU_PACK_BIN);
    if (rc)
        return rc;
    *data_p = value->as.bytes;
    if (len_p)
        *len_p = value->len;
    return 0;
}

int
mu_unpacked_ext(const mu_unpacked_t *value, int8_t *type_p, const void **data_p, size_t *len_p)
{
    int rc = s_check(value, data_p, MU_PACK_EXT);
    if (rc)
        return rc;
    if (type_p)
        *type_p = value->ext_type;
    *data_p = value->as.bytes;
    if (len_p)
        *len_p = value->len;
    return 0;
}

int
mu_unpacked_array(const mu_unpacked_t *value, size_t *count_p)
{
    int rc = s_check(value, count_p, MU_PACK_ARRAY);
    if (rc == 0)
        *count_p = value->len;
    return rc;
}

int
mu_unpacked_map(const mu_unpacked_t *value, size_t *count_p)
{
    int rc = s_check(value, count_p, MU_PACK_MAP);
    if (rc == 0)
        *count_p = value->len;
    return rc;
}

int
mu_unpacked_at(const mu_unpacked_t *array, size_t index, const mu_unpacked_t **item_p)
{
    int rc = s_check(array, item_p, MU_PACK_ARRAY);
    if (rc)
        return rc;
    if (index >= array->len)
        return MU_ENOENT;
    *item_p = &array->as.items[index];
    return 0;
}

int
mu_unpacked_entry(const mu_unpacked_t *map, size_t index, const mu_unpacked_t **key_p,
                  const mu_unpacked_t **value_p)
{
    assert(map);
    if (map->type != MU_PACK_MAP)
        return MU_ETYPE;
    if (index >= map->len)
        return MU_ENOENT;
    if (key_p)
        *key_p = &map->as.items[2 * index];
    if (value_p)
        *value_p = &map->as.items[2 * index + 1];
    return 0;
}

int
mu_unpacked_get(const mu_unpacked_t *map, const char *key, const mu_unpacked_t **value_p)
{
    assert(key);
    int rc = s_check(map, value_p, MU_PACK_MAP);
    if (rc)
        return rc;
    size_t key_len = strlen(key);
    for (size_t i = 0; i < map->len; i++) {
        const mu_unpacked_t *k = &map->as.items[2 * i];
        if (k->type == MU_PACK_STR && k->len == key_len && memcmp(k->as.bytes, key, key_len) == 0) {
            *value_p = &map->as.items[2 * i + 1];
            return 0;
        }
    }
    return MU_ENOENT;
}
