/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_pack_hostile.c — mu_pack's decoder on malformed and hostile input:
    truncated prefixes, trailing bytes, deep nesting, huge declared lengths,
    the reserved byte, wrong types, the limits, and caller bugs that
    assert. */
#include "pack_cases.h"

static void
test_truncated_prefixes(void)
{
    size_t size;
    uint8_t *msg = rich_message(&size);
    MU_CHECK(msg);
    MU_CHECK(size > 4096);
    mu_unpacked_t *root = NULL;
    size_t used = 1;
    MU_CHECK_EQ(decode(msg, size, NULL, &root, NULL), 0);
    MU_CHECK_EQ(walk(root, 0), 30);
    mu_unpacked_destroy(&root);
    for (size_t len = 0; len < size; len++) {
        MU_CHECK_EQ(decode(msg, len, NULL, &root, NULL), MU_EPROTO);
        MU_CHECK(root == NULL);
        MU_CHECK_EQ(decode(msg, len, NULL, &root, &used), MU_EPROTO);
        MU_CHECK(root == NULL);
        MU_CHECK_EQ(used, 0);
    }
    /* NULL with size 0 is empty input, not a caller error */
    MU_CHECK_EQ(mu_unpack(NULL, 0, NULL, &root, NULL), MU_EPROTO);
    free(msg);
}

static void
test_trailing_bytes(void)
{
    static const uint8_t two[] = { 0x92, 0x01, 0x02, 0xc0 };
    mu_unpacked_t *root = NULL;
    size_t used = 0;
    MU_CHECK_EQ(decode(two, sizeof two, NULL, &root, NULL), MU_EPROTO);
    MU_CHECK(root == NULL);
    MU_CHECK_EQ(decode(two, sizeof two, NULL, &root, &used), 0);
    MU_CHECK_EQ(used, 3);
    MU_CHECK_EQ(walk(root, 0), 3);
    mu_unpacked_destroy(&root);
    MU_CHECK_EQ(decode(two + 3, 1, NULL, &root, &used), 0);
    MU_CHECK_EQ(used, 1);
    MU_CHECK_EQ(mu_unpacked_type(root), MU_PACK_NIL);
    mu_unpacked_destroy(&root);
    /* trailing garbage, even 0xc1, is not looked at with used_p */
    static const uint8_t junk[] = { 0x05, 0xc1, 0xc1 };
    MU_CHECK_EQ(decode(junk, sizeof junk, NULL, &root, &used), 0);
    MU_CHECK_EQ(used, 1);
    mu_unpacked_destroy(&root);
    MU_CHECK_EQ(decode(junk, sizeof junk, NULL, &root, NULL), MU_EPROTO);
}

static void
test_deep_nesting(void)
{
    size_t depth = 10000;
    uint8_t *buf = malloc(depth + 1);
    MU_CHECK(buf);
    memset(buf, 0x91, depth); /* [[[[ ... nil ... ]]]] */
    buf[depth] = 0xc0;
    mu_unpacked_t *root = NULL;
    MU_CHECK_EQ(decode(buf, depth + 1, NULL, &root, NULL), MU_ELIMIT);
    MU_CHECK(root == NULL);
    for (size_t k = 0; k < depth; k += 2) { /* {nil: {nil: ...}} */
        buf[k] = 0x81;
        buf[k + 1] = 0xc0;
    }
    MU_CHECK_EQ(decode(buf, depth + 1, NULL, &root, NULL), MU_ELIMIT);
    /* the default depth, 64, exactly: allowed; 65: refused */
    memset(buf, 0x91, depth);
    buf[64] = 0xc0;
    MU_CHECK_EQ(decode(buf, 65, NULL, &root, NULL), 0);
    mu_unpacked_destroy(&root);
    buf[64] = 0x90; /* an empty array is a level too */
    MU_CHECK_EQ(decode(buf, 65, NULL, &root, NULL), MU_ELIMIT);
    buf[63] = 0x90;
    MU_CHECK_EQ(decode(buf, 64, NULL, &root, NULL), 0);
    mu_unpacked_destroy(&root);
    buf[64] = 0xc0;
    buf[63] = 0x91;
    mu_unpack_limits_t limits = { .max_depth = 10 };
    MU_CHECK_EQ(decode(buf + 54, 11, &limits, &root, NULL), 0);
    mu_unpacked_destroy(&root);
    MU_CHECK_EQ(decode(buf + 53, 12, &limits, &root, NULL), MU_ELIMIT);
    free(buf);

    /* lifting the limit: a million levels decode without recursion and the
       tree can be walked to the bottom */
    depth = 1000000;
    buf = malloc(depth + 1);
    MU_CHECK(buf);
    memset(buf, 0x91, depth);
    buf[depth] = 0x2a;
    limits = (mu_unpack_limits_t) { .max_depth = SIZE_MAX };
    MU_CHECK_EQ(decode(buf, depth + 1, &limits, &root, NULL), 0);
    const mu_unpacked_t *v = root;
    size_t levels = 0, n;
    while (mu_unpacked_type(v) == MU_PACK_ARRAY) {
        MU_CHECK_EQ(mu_unpacked_array(v, &n), 0);
        MU_CHECK_EQ(n, 1);
        MU_CHECK_EQ(mu_unpacked_at(v, 0, &v), 0);
        levels++;
    }
    MU_CHECK_EQ(levels, depth);
    uint64_t u;
    MU_CHECK_EQ(mu_unpacked_uint(v, &u), 0);
    MU_CHECK_EQ(u, 42);
    mu_unpacked_destroy(&root);
    limits.max_depth = depth - 1;
    MU_CHECK_EQ(decode(buf, depth + 1, &limits, &root, NULL), MU_ELIMIT);
    free(buf);
}

/*  Declared lengths of up to 4 GiB inside a 10-byte buffer are refused from
    the bytes that are left, before any allocation, even with every limit
    lifted. */
static void
test_huge_declared_lengths(void)
{
    static const uint8_t headers[][6] = {
        { 0xdb, 0xff, 0xff, 0xff, 0xff },       /* str32 */
        { 0xc6, 0xff, 0xff, 0xff, 0xff },       /* bin32 */
        { 0xc9, 0xff, 0xff, 0xff, 0xff, 0x01 }, /* ext32 */
        { 0xdd, 0xff, 0xff, 0xff, 0xff },       /* array32 */
        { 0xdf, 0xff, 0xff, 0xff, 0xff },       /* map32 */
        { 0xda, 0xff, 0xff },                   /* str16 */
        { 0xc5, 0xff, 0xff },                   /* bin16 */
        { 0xc8, 0xff, 0xff, 0x01 },             /* ext16 */
        { 0xdc, 0xff, 0xff },                   /* array16 */
        { 0xde, 0xff, 0xff },                   /* map16 */
        { 0xd9, 0xff },                         /* str8 */
        { 0xc4, 0xff },                         /* bin8 */
        { 0xc7, 0xff, 0x01 },                   /* ext8 */
        { 0xd8, 0x01 },                         /* fixext16 */
        { 0xbf },                               /* fixstr 31 */
        { 0x9f },                               /* fixarray 15 */
        { 0x8f },                               /* fixmap 15 */
        { 0xdd, 0x00, 0x00, 0x00, 0x06 },       /* array32 of 6: one byte short */
        { 0xdf, 0x00, 0x00, 0x00, 0x03 },       /* map32 of 3 pairs: one byte short */
    };
    mu_unpack_limits_t lifted = { SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX };
    for (size_t c = 0; c < sizeof headers / sizeof headers[0]; c++) {
        uint8_t buf[10];
        memset(buf, 0xc0, sizeof buf);
        memcpy(buf, headers[c], sizeof headers[c]);
        mu_unpacked_t *root = NULL;
        size_t used = 5;
        MU_CHECK_EQ(decode(buf, sizeof buf, &lifted, &root, NULL), MU_EPROTO);
        MU_CHECK(root == NULL);
        MU_CHECK_EQ(decode(buf, sizeof buf, &lifted, &root, &used), MU_EPROTO);
        MU_CHECK_EQ(used, 0);
        int rc = decode(buf, sizeof buf, NULL, &root, NULL);
        MU_CHECK(rc == MU_EPROTO || rc == MU_ELIMIT);
        MU_CHECK(root == NULL);
        /* nested one level down: the outer array owes one more item too */
        uint8_t nested[11];
        nested[0] = 0x92;
        memcpy(nested + 1, buf, sizeof buf);
        MU_CHECK_EQ(decode(nested, sizeof nested, &lifted, &root, NULL), MU_EPROTO);
    }
    /* counts that fit alone but not together: [[nil x 5], nil] in 8 bytes */
    static const uint8_t owed[] = { 0x92, 0x95, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0, 0xc0 };
    mu_unpacked_t *root;
    MU_CHECK_EQ(decode(owed, sizeof owed, &lifted, &root, NULL), 0);
    MU_CHECK_EQ(walk(root, 0), 8);
    mu_unpacked_destroy(&root);
    MU_CHECK_EQ(decode(owed, sizeof owed - 1, &lifted, &root, NULL), MU_EPROTO);
}

static void
test_reserved_byte(void)
{
    static const uint8_t alone[] = { 0xc1 };
    static const uint8_t in_array[] = { 0x93, 0x01, 0xc1, 0x02 };
    static const uint8_t as_key[] = { 0x81, 0xc1, 0xc0 };
    static const uint8_t as_value[] = { 0x81, 0xa1, 'k', 0xc1 };
    mu_unpacked_t *root = NULL;
    size_t used;
    MU_CHECK_EQ(decode(alone, sizeof alone, NULL, &root, NULL), MU_EPROTO);
    MU_CHECK_EQ(decode(alone, sizeof alone, NULL, &root, &used), MU_EPROTO);
    MU_CHECK_EQ(decode(in_array, sizeof in_array, NULL, &root, NULL), MU_EPROTO);
    MU_CHECK_EQ(decode(as_key, sizeof as_key, NULL, &root, NULL), MU_EPROTO);
    MU_CHECK_EQ(decode(as_value, sizeof as_value, NULL, &root, NULL), MU_EPROTO);
    MU_CHECK(root == NULL);
}

static void
test_wrong_types(void)
{
    /* [nil, true, 1, -1, 1.5, "s", bin "b", [], {}, ext 5 "e"] */
    static const uint8_t msg[] = { 0x9a, 0xc0, 0xc3, 0x01, 0xff, 0xca, 0x3f, 0xc0, 0x00, 0x00,
                                   0xa1, 's',  0xc4, 0x01, 'b',  0x90, 0x80, 0xd4, 0x05, 'e' };
    static const mu_pack_type_t types[] = { MU_PACK_NIL,   MU_PACK_BOOL, MU_PACK_INT, MU_PACK_INT,
                                            MU_PACK_FLOAT, MU_PACK_STR,  MU_PACK_BIN, MU_PACK_ARRAY,
                                            MU_PACK_MAP,   MU_PACK_EXT };
    mu_unpacked_t *root;
    MU_CHECK_EQ(decode(msg, sizeof msg, NULL, &root, NULL), 0);
    for (size_t k = 0; k < 10; k++) {
        const mu_unpacked_t *v, *w;
        bool b;
        int64_t i;
        uint64_t u;
        double d;
        const char *s;
        const void *p;
        size_t n;
        MU_CHECK_EQ(mu_unpacked_at(root, k, &v), 0);
        mu_pack_type_t t = types[k];
        MU_CHECK_EQ(mu_unpacked_type(v), t);
#define EXPECT(type, call) MU_CHECK_EQ(call, t == (type) ? 0 : MU_ETYPE)
        EXPECT(MU_PACK_BOOL, mu_unpacked_bool(v, &b));
        EXPECT(MU_PACK_FLOAT, mu_unpacked_double(v, &d));
        EXPECT(MU_PACK_STR, mu_unpacked_str(v, &s, &n));
        EXPECT(MU_PACK_BIN, mu_unpacked_bin(v, &p, &n));
        EXPECT(MU_PACK_EXT, mu_unpacked_ext(v, NULL, &p, NULL));
        EXPECT(MU_PACK_ARRAY, mu_unpacked_array(v, &n));
        EXPECT(MU_PACK_MAP, mu_unpacked_map(v, &n));
#undef EXPECT
        if (t != MU_PACK_INT) {
            MU_CHECK_EQ(mu_unpacked_int(v, &i), MU_ETYPE);
            MU_CHECK_EQ(mu_unpacked_uint(v, &u), MU_ETYPE);
        }
        if (t != MU_PACK_ARRAY)
            MU_CHECK_EQ(mu_unpacked_at(v, 0, &w), MU_ETYPE);
        if (t != MU_PACK_MAP) {
            MU_CHECK_EQ(mu_unpacked_entry(v, 0, &w, &w), MU_ETYPE);
            MU_CHECK_EQ(mu_unpacked_get(v, "k", &w), MU_ETYPE);
        }
    }
    MU_CHECK_EQ(mu_unpacked_type(NULL), MU_PACK_NONE);
    mu_unpacked_destroy(&root);
    mu_unpacked_destroy(&root);
    mu_unpacked_destroy(NULL);
}

/*  A caller bug (NULL writer, NULL output pointer) aborts: asserted. */
static void
s_child_null_writer(const char *arg, int fd)
{
    (void) arg;
    (void) fd;
    (void) mu_pack_nil(NULL);
}

static void
test_caller_bug_asserts(void)
{
    MU_CHECK(mu_test_child_aborts(s_child_null_writer, NULL)); /* SIGABRT */
}

static void
test_limits(void)
{
    mu_pack_t *pack = mu_pack_new();
    MU_CHECK(pack);
    mu_unpacked_t *root = NULL;
    size_t size, used;
    /* max_size: a 100-byte str message */
    char text[200];
    memset(text, 'q', sizeof text);
    MU_CHECK_EQ(mu_pack_str(pack, text, 98), 0);
    uint8_t *msg = take(pack, &size);
    MU_CHECK(msg);
    MU_CHECK_EQ(size, 100);
    mu_unpack_limits_t limits = { .max_size = 100 };
    MU_CHECK_EQ(decode(msg, size, &limits, &root, NULL), 0);
    mu_unpacked_destroy(&root);
    limits.max_size = 99;
    MU_CHECK_EQ(decode(msg, size, &limits, &root, NULL), MU_ELIMIT);
    MU_CHECK(root == NULL);
    /* with used_p only the first value counts */
    MU_CHECK_EQ(decode(msg, size, &limits, &root, &used), MU_ELIMIT);
    MU_CHECK_EQ(used, 0);
    free(msg);
    mu_pack_reset(pack);
    MU_CHECK_EQ(mu_pack_int(pack, 1), 0);
    MU_CHECK_EQ(mu_pack_str(pack, text, 150), 0);
    msg = take(pack, &size);
    MU_CHECK(msg);
    limits.max_size = 50;
    MU_CHECK_EQ(decode(msg, size, &limits, &root, NULL), MU_ELIMIT);
    MU_CHECK_EQ(decode(msg, size, &limits, &root, &used), 0);
    MU_CHECK_EQ(used, 1);
    mu_unpacked_destroy(&root);
    MU_CHECK_EQ(decode(msg + 1, size - 1, &limits, &root, &used), MU_ELIMIT);
    free(msg);

    /* max_count: items of an array, pairs of a map */
    mu_pack_reset(pack);
    MU_CHECK_EQ(mu_pack_array(pack, 10), 0);
    for (int k = 0; k < 10; k++)
        MU_CHECK_EQ(mu_pack_nil(pack), 0);
    msg = take(pack, &size);
    MU_CHECK(msg);
    limits = (mu_unpack_limits_t) { .max_count = 10 };
    MU_CHECK_EQ(decode(msg, size, &limits, &root, NULL), 0);
    mu_unpacked_destroy(&root);
    limits.max_count = 9;
    MU_CHECK_EQ(decode(msg, size, &limits, &root, NULL), MU_ELIMIT);
    free(msg);
    mu_pack_reset(pack);
    MU_CHECK_EQ(mu_pack_map(pack, 5), 0);
    for (int k = 0; k < 5; k++) {
        MU_CHECK_EQ(mu_pack_int(pack, k), 0);
        MU_CHECK_EQ(mu_pack_nil(pack), 0);
    }
    msg = take(pack, &size);
    MU_CHECK(msg);
    limits.max_count = 5;
    MU_CHECK_EQ(decode(msg, size, &limits, &root, NULL), 0);
    mu_unpacked_destroy(&root);
    limits.max_count = 4;
    MU_CHECK_EQ(decode(msg, size, &limits, &root, NULL), MU_ELIMIT);
    free(msg);

    /* max_bytes: str, bin and ext payloads */
    mu_pack_reset(pack);
    MU_CHECK_EQ(mu_pack_array(pack, 3), 0);
    MU_CHECK_EQ(mu_pack_str(pack, text, 20), 0);
    MU_CHECK_EQ(mu_pack_bin(pack, text, 20), 0);
    MU_CHECK_EQ(mu_pack_ext(pack, 9, text, 20), 0);
    msg = take(pack, &size);
    MU_CHECK(msg);
    limits = (mu_unpack_limits_t) { .max_bytes = 20 };
    MU_CHECK_EQ(decode(msg, size, &limits, &root, NULL), 0);
    mu_unpacked_destroy(&root);
    limits.max_bytes = 19;
    MU_CHECK_EQ(decode(msg, size, &limits, &root, NULL), MU_ELIMIT);
    free(msg);
    static const uint8_t one_bin[] = { 0xc4, 0x02, 'a', 'b' }, one_ext[] = { 0xd5, 0x01, 'a', 'b' };
    limits.max_bytes = 1;
    MU_CHECK_EQ(decode(one_bin, sizeof one_bin, &limits, &root, NULL), MU_ELIMIT);
    MU_CHECK_EQ(decode(one_ext, sizeof one_ext, &limits, &root, NULL), MU_ELIMIT);
    limits.max_bytes = 2;
    MU_CHECK_EQ(decode(one_ext, sizeof one_ext, &limits, &root, NULL), 0);
    mu_unpacked_destroy(&root);

    /* max_values: [1, [2, 3]] holds 5 values */
    static const uint8_t five[] = { 0x92, 0x01, 0x92, 0x02, 0x03 };
    limits = (mu_unpack_limits_t) { .max_values = 5 };
    MU_CHECK_EQ(decode(five, sizeof five, &limits, &root, NULL), 0);
    MU_CHECK_EQ(walk(root, 0), 5);
    mu_unpacked_destroy(&root);
    limits.max_values = 4;
    MU_CHECK_EQ(decode(five, sizeof five, &limits, &root, NULL), MU_ELIMIT);

    /* defaults: more than MU_UNPACK_MAX_COUNT_DEFAULT items, and more than
       MU_UNPACK_MAX_VALUES_DEFAULT values (in arrays under the count limit) */
    size_t items = MU_UNPACK_MAX_COUNT_DEFAULT + 1;
    msg = malloc(5 + items);
    MU_CHECK(msg);
    memcpy(msg, "\xdd\x00\x10\x00\x01", 5);
    memset(msg + 5, 0xc0, items);
    MU_CHECK_EQ(decode(msg, 5 + items, NULL, &root, NULL), MU_ELIMIT);
    MU_CHECK_EQ(decode(msg, 5 + items, &(mu_unpack_limits_t) { .max_count = items }, &root, NULL),
                0);
    MU_CHECK_EQ(mu_unpacked_array(root, &size), 0);
    MU_CHECK_EQ(size, items);
    mu_unpacked_destroy(&root);
    free(msg);
    size_t per = MU_UNPACK_MAX_COUNT_DEFAULT, arrays = 4; /* 4 Mi nils + 5 arrays */
    size_t total = 1 + arrays * (5 + per);
    msg = malloc(total);
    MU_CHECK(msg);
    msg[0] = 0x94;
    for (size_t k = 0; k < arrays; k++) {
        uint8_t *at = msg + 1 + k * (5 + per);
        memcpy(at, "\xdd\x00\x10\x00\x00", 5);
        memset(at + 5, 0xc0, per);
    }
    MU_CHECK_EQ(decode(msg, total, NULL, &root, NULL), MU_ELIMIT);
    free(msg);
    mu_pack_destroy(&pack);
}

int
main(void)
{
    mu_test_start(60);
    MU_RUN(test_truncated_prefixes);
    MU_RUN(test_trailing_bytes);
    MU_RUN(test_deep_nesting);
    MU_RUN(test_huge_declared_lengths);
    MU_RUN(test_reserved_byte);
    MU_RUN(test_wrong_types);
    MU_RUN(test_limits);
    MU_RUN(test_caller_bug_asserts);
    MU_DONE();
}
