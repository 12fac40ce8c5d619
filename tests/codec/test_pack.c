/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_pack.c — tests of mu_pack: writer, bounded decoder, accessors,
    interoperability with msgpack-c, malformed and hostile input. */
#include "mu_test.h"
#include <mutil.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <msgpack.h>

/*  Decodes from an exact-size heap copy, so that ASan sees any read past the
    end, and frees the copy before returning: the tree must not refer to it. */
static int
decode(const void *data, size_t size, const mu_unpack_limits_t *limits, mu_unpacked_t **root_p,
       size_t *used_p)
{
    void *copy = malloc(size ? size : 1);
    if (!copy)
        abort();
    if (size)
        memcpy(copy, data, size);
    int rc = mu_unpack(copy, size, limits, root_p, used_p);
    memset(copy, 0xc1, size);
    free(copy);
    return rc;
}

/*  Checks that pack holds want_size bytes starting with first and decodes
    them into *root_p (NULL when a check fails: the case is marked failed). */
static void
decode_packed(mu_pack_t *pack, size_t want_size, uint8_t first, mu_unpacked_t **root_p)
{
    *root_p = NULL;
    size_t size;
    const uint8_t *bytes = mu_pack_data(pack, &size);
    MU_CHECK(bytes);
    MU_CHECK_EQ(size, want_size);
    MU_CHECK_EQ(bytes[0], first);
    MU_CHECK_EQ(decode(bytes, size, NULL, root_p, NULL), 0);
}

/*  Counts the values of a tree and checks that every accessor agrees with
    its type. Returns 0 when something is inconsistent. */
static size_t
walk(const mu_unpacked_t *v, unsigned depth)
{
    bool b;
    int64_t i;
    uint64_t u;
    double d;
    const char *s;
    const void *p;
    int8_t t;
    size_t n, len;
    mu_pack_type_t type = mu_unpacked_type(v);
    int is_int = (mu_unpacked_int(v, &i) == 0) | (mu_unpacked_uint(v, &u) == 0);
    if ((type == MU_PACK_INT) != is_int)
        return 0;
    if ((type == MU_PACK_BOOL) != (mu_unpacked_bool(v, &b) == 0))
        return 0;
    if ((type == MU_PACK_FLOAT) != (mu_unpacked_double(v, &d) == 0))
        return 0;
    if ((type == MU_PACK_STR) != (mu_unpacked_str(v, &s, &len) == 0))
        return 0;
    if (type == MU_PACK_STR && (s == NULL || s[len] != '\0'))
        return 0;
    if ((type == MU_PACK_BIN) != (mu_unpacked_bin(v, &p, &len) == 0))
        return 0;
    if ((type == MU_PACK_EXT) != (mu_unpacked_ext(v, &t, &p, &len) == 0))
        return 0;
    if ((type == MU_PACK_ARRAY) != (mu_unpacked_array(v, &n) == 0))
        return 0;
    if (type == MU_PACK_ARRAY) {
        size_t total = 1;
        for (size_t k = 0; k < n; k++) {
            const mu_unpacked_t *item;
            if (mu_unpacked_at(v, k, &item) != 0)
                return 0;
            size_t sub = walk(item, depth + 1);
            if (!sub)
                return 0;
            total += sub;
        }
        const mu_unpacked_t *past = NULL;
        if (mu_unpacked_at(v, n, &past) != MU_ENOENT || past != NULL)
            return 0;
        return total;
    }
    if ((type == MU_PACK_MAP) != (mu_unpacked_map(v, &n) == 0))
        return 0;
    if (type == MU_PACK_MAP) {
        size_t total = 1;
        for (size_t k = 0; k < n; k++) {
            const mu_unpacked_t *key, *val;
            if (mu_unpacked_entry(v, k, &key, &val) != 0)
                return 0;
            size_t a = walk(key, depth + 1), c = walk(val, depth + 1);
            if (!a || !c)
                return 0;
            total += a + c;
        }
        if (mu_unpacked_entry(v, n, NULL, NULL) != MU_ENOENT)
            return 0;
        return total;
    }
    return type == MU_PACK_NONE ? 0 : 1;
}

/*  Packs one value with fill(), returns the bytes in a malloc'd buffer. */
static uint8_t *
take(mu_pack_t *pack, size_t *size_p)
{
    size_t size;
    const void *data = mu_pack_data(pack, &size);
    if (!data)
        return NULL;
    uint8_t *copy = malloc(size ? size : 1);
    if (copy && size)
        memcpy(copy, data, size);
    *size_p = size;
    return copy;
}

/*  ---- writer basics ------------------------------------------------------ */

static void
test_writer_basics(void)
{
    mu_pack_t *pack = mu_pack_new();
    MU_CHECK(pack);
    size_t size = 99;
    const void *data = mu_pack_data(pack, &size);
    MU_CHECK(data != NULL);
    MU_CHECK_EQ(size, 0);
    MU_CHECK_EQ(mu_pack_nil(pack), 0);
    MU_CHECK_EQ(mu_pack_bool(pack, true), 0);
    MU_CHECK_EQ(mu_pack_bool(pack, false), 0);
    data = mu_pack_data(pack, &size);
    MU_CHECK(data);
    MU_CHECK_EQ(size, 3);
    MU_CHECK(memcmp(data, "\xc0\xc3\xc2", 3) == 0);
    mu_pack_reset(pack);
    data = mu_pack_data(pack, &size);
    MU_CHECK(data);
    MU_CHECK_EQ(size, 0);
    /* NULL is accepted by reset and destroy (a NULL writer elsewhere is
       asserted: see test_caller_bug_asserts) */
    mu_pack_reset(NULL);
    mu_pack_destroy(&pack);
    MU_CHECK(pack == NULL);
    mu_pack_destroy(&pack);
    mu_pack_destroy(NULL);
}

static void
test_writer_errors(void)
{
    mu_pack_t *pack = mu_pack_new();
    MU_CHECK(pack);
    size_t size;
    /* a NULL pointer with a length is a caller error, and it is sticky */
    MU_CHECK_EQ(mu_pack_str(pack, NULL, 1), MU_EINVAL);
    MU_CHECK_EQ(mu_pack_nil(pack), MU_EINVAL);
    errno = 0;
    MU_CHECK(mu_pack_data(pack, &size) == NULL);
    MU_CHECK_EQ(errno, EINVAL);
    mu_pack_reset(pack);
    MU_CHECK_EQ(mu_pack_cstr(pack, NULL), MU_EINVAL);
    mu_pack_reset(pack);
    MU_CHECK_EQ(mu_pack_bin(pack, NULL, 3), MU_EINVAL);
    mu_pack_reset(pack);
    MU_CHECK_EQ(mu_pack_ext(pack, 1, NULL, 3), MU_EINVAL);
    mu_pack_reset(pack);
    /* NULL with length 0 is an empty value */
    MU_CHECK_EQ(mu_pack_str(pack, NULL, 0), 0);
    MU_CHECK_EQ(mu_pack_bin(pack, NULL, 0), 0);
    MU_CHECK_EQ(mu_pack_ext(pack, 7, NULL, 0), 0);
    const uint8_t *bytes = mu_pack_data(pack, &size);
    MU_CHECK(bytes);
    MU_CHECK_EQ(size, 1 + 2 + 3);
    MU_CHECK(memcmp(bytes, "\xa0\xc4\x00\xc7\x00\x07", 6) == 0);
    mu_pack_reset(pack);
#if SIZE_MAX > UINT32_MAX
    /* longer than MessagePack can express: refused before reading the data */
    static const char small[4] = "abc";
    MU_CHECK_EQ(mu_pack_int(pack, 5), 0);
    MU_CHECK_EQ(mu_pack_str(pack, small, (size_t) UINT32_MAX + 1), MU_EMSGSIZE);
    MU_CHECK_EQ(mu_pack_int(pack, 6), MU_EMSGSIZE);
    errno = 0;
    MU_CHECK(mu_pack_data(pack, &size) == NULL);
    MU_CHECK_EQ(errno, EMSGSIZE);
    MU_CHECK_EQ(size, 0);
    mu_pack_reset(pack);
    MU_CHECK_EQ(mu_pack_bin(pack, small, (size_t) UINT32_MAX + 1), MU_EMSGSIZE);
    mu_pack_reset(pack);
    MU_CHECK_EQ(mu_pack_ext(pack, 1, small, (size_t) UINT32_MAX + 1), MU_EMSGSIZE);
    mu_pack_reset(pack);
#endif
    /* after reset the writer works again, with nothing of before */
    MU_CHECK_EQ(mu_pack_int(pack, 7), 0);
    bytes = mu_pack_data(pack, &size);
    MU_CHECK(bytes);
    MU_CHECK_EQ(size, 1);
    MU_CHECK_EQ(bytes[0], 7);
    mu_pack_destroy(&pack);
}

/*  Arrays and maps must be filled before the message is handed out. */
static void
test_writer_counts(void)
{
    mu_pack_t *pack = mu_pack_new();
    MU_CHECK(pack);
    size_t size;
    MU_CHECK_EQ(mu_pack_map(pack, 2), 0);
    MU_CHECK_EQ(mu_pack_cstr(pack, "k"), 0);
    MU_CHECK_EQ(mu_pack_array(pack, 2), 0);
    MU_CHECK_EQ(mu_pack_int(pack, 1), 0);
    errno = 0;
    MU_CHECK(mu_pack_data(pack, &size) == NULL); /* array owes 1, map 2 */
    MU_CHECK_EQ(errno, EINVAL);
    MU_CHECK_EQ(mu_pack_int(pack, 2), 0);
    MU_CHECK_EQ(mu_pack_cstr(pack, "e"), 0);
    MU_CHECK(mu_pack_data(pack, &size) == NULL); /* map owes its last value */
    MU_CHECK_EQ(mu_pack_array(pack, 0), 0);
    const uint8_t *bytes = mu_pack_data(pack, &size);
    MU_CHECK(bytes);
    MU_CHECK_EQ(size, 9);
    MU_CHECK(memcmp(bytes,
                    "\x82\xa1k\x92\x01\x02\xa1"
                    "e\x90",
                    9)
             == 0);
    /* several top-level values in one buffer, read back with used_p */
    MU_CHECK_EQ(mu_pack_cstr(pack, "next"), 0);
    MU_CHECK_EQ(mu_pack_uint(pack, 300), 0);
    bytes = mu_pack_data(pack, &size);
    MU_CHECK(bytes);
    MU_CHECK_EQ(size, 9 + 5 + 3);
    mu_unpacked_t *root = NULL;
    size_t used = 0, offset = 0;
    MU_CHECK_EQ(mu_unpack(bytes, size, NULL, &root, &used), 0);
    MU_CHECK_EQ(used, 9);
    MU_CHECK_EQ(mu_unpacked_type(root), MU_PACK_MAP);
    mu_unpacked_destroy(&root);
    offset += used;
    MU_CHECK_EQ(mu_unpack(bytes + offset, size - offset, NULL, &root, &used), 0);
    MU_CHECK_EQ(used, 5);
    const char *s;
    MU_CHECK_EQ(mu_unpacked_str(root, &s, NULL), 0);
    MU_CHECK(strcmp(s, "next") == 0);
    mu_unpacked_destroy(&root);
    offset += used;
    MU_CHECK_EQ(mu_unpack(bytes + offset, size - offset, NULL, &root, &used), 0);
    MU_CHECK_EQ(used, 3);
    uint64_t u;
    MU_CHECK_EQ(mu_unpacked_uint(root, &u), 0);
    MU_CHECK_EQ(u, 300);
    mu_unpacked_destroy(&root);
    MU_CHECK(root == NULL);
    mu_pack_destroy(&pack);
}

/*  ---- round trips -------------------------------------------------------- */

static void
test_roundtrip_nil_bool(void)
{
    static const uint8_t nil[] = { 0xc0 }, yes[] = { 0xc3 }, no[] = { 0xc2 };
    mu_unpacked_t *root;
    bool b = false;
    MU_CHECK_EQ(decode(nil, 1, NULL, &root, NULL), 0);
    MU_CHECK_EQ(mu_unpacked_type(root), MU_PACK_NIL);
    mu_unpacked_destroy(&root);
    MU_CHECK_EQ(decode(yes, 1, NULL, &root, NULL), 0);
    MU_CHECK_EQ(mu_unpacked_type(root), MU_PACK_BOOL);
    MU_CHECK_EQ(mu_unpacked_bool(root, &b), 0);
    MU_CHECK(b == true);
    mu_unpacked_destroy(&root);
    MU_CHECK_EQ(decode(no, 1, NULL, &root, NULL), 0);
    MU_CHECK_EQ(mu_unpacked_bool(root, &b), 0);
    MU_CHECK(b == false);
    mu_unpacked_destroy(&root);
}

static void
test_roundtrip_ints(void)
{
    static const struct {
        int64_t value;
        size_t size;   /* shortest encoding */
        uint8_t first; /* its first byte */
    } cases[] = {
        { 0, 1, 0x00 },
        { 1, 1, 0x01 },
        { 127, 1, 0x7f },
        { 128, 2, 0xcc },
        { 255, 2, 0xcc },
        { 256, 3, 0xcd },
        { 65535, 3, 0xcd },
        { 65536, 5, 0xce },
        { 4294967295LL, 5, 0xce },
        { 4294967296LL, 9, 0xcf },
        { INT64_MAX, 9, 0xcf },
        { -1, 1, 0xff },
        { -32, 1, 0xe0 },
        { -33, 2, 0xd0 },
        { -128, 2, 0xd0 },
        { -129, 3, 0xd1 },
        { -32768, 3, 0xd1 },
        { -32769, 5, 0xd2 },
        { INT32_MIN, 5, 0xd2 },
        { (int64_t) INT32_MIN - 1, 9, 0xd3 },
        { INT64_MIN, 9, 0xd3 },
        { INT64_MIN + 1, 9, 0xd3 },
    };
    mu_pack_t *pack = mu_pack_new();
    MU_CHECK(pack);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        mu_pack_reset(pack);
        MU_CHECK_EQ(mu_pack_int(pack, cases[c].value), 0);
        mu_unpacked_t *root;
        decode_packed(pack, cases[c].size, cases[c].first, &root);
        MU_CHECK(root);
        MU_CHECK_EQ(mu_unpacked_type(root), MU_PACK_INT);
        int64_t i = 0;
        uint64_t u = 0;
        MU_CHECK_EQ(mu_unpacked_int(root, &i), 0);
        MU_CHECK(i == cases[c].value);
        if (cases[c].value >= 0) {
            MU_CHECK_EQ(mu_unpacked_uint(root, &u), 0);
            MU_CHECK(u == (uint64_t) cases[c].value);
        } else {
            u = 42;
            MU_CHECK_EQ(mu_unpacked_uint(root, &u), MU_ETYPE);
            MU_CHECK(u == 42); /* left unchanged */
        }
        mu_unpacked_destroy(&root);
    }
    /* unsigned above INT64_MAX */
    static const uint64_t big[] = { (uint64_t) INT64_MAX + 1, UINT64_MAX - 1, UINT64_MAX };
    for (size_t c = 0; c < sizeof big / sizeof big[0]; c++) {
        mu_pack_reset(pack);
        MU_CHECK_EQ(mu_pack_uint(pack, big[c]), 0);
        mu_unpacked_t *root;
        decode_packed(pack, 9, 0xcf, &root);
        MU_CHECK(root);
        uint64_t u = 0;
        int64_t i = 7;
        MU_CHECK_EQ(mu_unpacked_uint(root, &u), 0);
        MU_CHECK(u == big[c]);
        MU_CHECK_EQ(mu_unpacked_int(root, &i), MU_ETYPE); /* does not fit int64_t */
        MU_CHECK_EQ(i, 7);
        mu_unpacked_destroy(&root);
    }
    mu_pack_destroy(&pack);
}

/*  Wire forms msgpack-c's packer does not choose, written by hand. */
static void
test_decode_int_forms(void)
{
    static const struct {
        uint8_t bytes[9];
        size_t size;
        int negative;
        int64_t i;
        uint64_t u;
    } cases[] = {
        { { 0xd0, 0x05 }, 2, 0, 0, 5 },
        { { 0xd0, 0x80 }, 2, 1, -128, 0 },
        { { 0xd0, 0x7f }, 2, 0, 0, 127 },
        { { 0xd1, 0x00, 0x80 }, 3, 0, 0, 128 },
        { { 0xd1, 0xff, 0xff }, 3, 1, -1, 0 },
        { { 0xd2, 0x80, 0, 0, 0 }, 5, 1, INT32_MIN, 0 },
        { { 0xd2, 0x7f, 0xff, 0xff, 0xff }, 5, 0, 0, INT32_MAX },
        { { 0xd3, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 9, 0, 0, INT64_MAX },
        { { 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0 }, 9, 1, INT64_MIN, 0 },
        { { 0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe }, 9, 1, -2, 0 },
        { { 0xcc, 0x00 }, 2, 0, 0, 0 },
        { { 0xcd, 0x00, 0x01 }, 3, 0, 0, 1 },
        { { 0xce, 0xff, 0xff, 0xff, 0xff }, 5, 0, 0, UINT32_MAX },
        { { 0xcf, 0, 0, 0, 0, 0, 0, 0, 3 }, 9, 0, 0, 3 },
        { { 0xe0 }, 1, 1, -32, 0 },
        { { 0xff }, 1, 1, -1, 0 },
        { { 0x7f }, 1, 0, 0, 127 },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        mu_unpacked_t *root;
        MU_CHECK_EQ(decode(cases[c].bytes, cases[c].size, NULL, &root, NULL), 0);
        MU_CHECK_EQ(mu_unpacked_type(root), MU_PACK_INT);
        int64_t i;
        uint64_t u;
        if (cases[c].negative) {
            MU_CHECK_EQ(mu_unpacked_int(root, &i), 0);
            MU_CHECK(i == cases[c].i);
            MU_CHECK_EQ(mu_unpacked_uint(root, &u), MU_ETYPE);
        } else {
            MU_CHECK_EQ(mu_unpacked_uint(root, &u), 0);
            MU_CHECK(u == cases[c].u);
            MU_CHECK_EQ(mu_unpacked_int(root, &i), 0);
            MU_CHECK(i == (int64_t) cases[c].u);
        }
        mu_unpacked_destroy(&root);
    }
}

static void
test_roundtrip_floats(void)
{
    mu_pack_t *pack = mu_pack_new();
    MU_CHECK(pack);
    static const double doubles[] = { 0.0, -0.0, 3.141592653589793, -1e300, 5e-324, 1.0 / 3.0 };
    for (size_t c = 0; c < sizeof doubles / sizeof doubles[0]; c++) {
        mu_pack_reset(pack);
        MU_CHECK_EQ(mu_pack_double(pack, doubles[c]), 0);
        mu_unpacked_t *root;
        decode_packed(pack, 9, 0xcb, &root);
        MU_CHECK(root);
        MU_CHECK_EQ(mu_unpacked_type(root), MU_PACK_FLOAT);
        double d;
        MU_CHECK_EQ(mu_unpacked_double(root, &d), 0);
        MU_CHECK(memcmp(&d, &doubles[c], sizeof d) == 0); /* bit for bit, -0.0 too */
        mu_unpacked_destroy(&root);
    }
    static const float floats[] = { 2.5f, -0.0f, 1e-45f, 3.4e38f, 0.1f };
    for (size_t c = 0; c < sizeof floats / sizeof floats[0]; c++) {
        mu_pack_reset(pack);
        MU_CHECK_EQ(mu_pack_float(pack, floats[c]), 0);
        mu_unpacked_t *root;
        decode_packed(pack, 5, 0xca, &root);
        MU_CHECK(root);
        double d;
        MU_CHECK_EQ(mu_unpacked_double(root, &d), 0);
        MU_CHECK(d == (double) floats[c]);
        MU_CHECK(!signbit(d) == !signbit(floats[c]));
        mu_unpacked_destroy(&root);
    }
    /* infinities and NaN */
    mu_pack_reset(pack);
    MU_CHECK_EQ(mu_pack_array(pack, 3), 0);
    MU_CHECK_EQ(mu_pack_double(pack, INFINITY), 0);
    MU_CHECK_EQ(mu_pack_float(pack, -INFINITY), 0);
    MU_CHECK_EQ(mu_pack_double(pack, NAN), 0);
    size_t size;
    const uint8_t *bytes = mu_pack_data(pack, &size);
    MU_CHECK(bytes);
    mu_unpacked_t *root;
    MU_CHECK_EQ(decode(bytes, size, NULL, &root, NULL), 0);
    const mu_unpacked_t *item;
    double d;
    MU_CHECK_EQ(mu_unpacked_at(root, 0, &item), 0);
    MU_CHECK_EQ(mu_unpacked_double(item, &d), 0);
    MU_CHECK(isinf(d) && d > 0);
    MU_CHECK_EQ(mu_unpacked_at(root, 1, &item), 0);
    MU_CHECK_EQ(mu_unpacked_double(item, &d), 0);
    MU_CHECK(isinf(d) && d < 0);
    MU_CHECK_EQ(mu_unpacked_at(root, 2, &item), 0);
    MU_CHECK_EQ(mu_unpacked_double(item, &d), 0);
    MU_CHECK(isnan(d));
    mu_unpacked_destroy(&root);
    mu_pack_destroy(&pack);
}

static void
test_roundtrip_str_bin(void)
{
    static const struct {
        size_t len;
        uint8_t str_first, bin_first;
        size_t header; /* header bytes of str (bin has one more up to 255) */
    } cases[] = {
        { 0, 0xa0, 0xc4, 1 },     { 1, 0xa1, 0xc4, 1 },     { 31, 0xbf, 0xc4, 1 },
        { 32, 0xd9, 0xc4, 2 },    { 255, 0xd9, 0xc4, 2 },   { 256, 0xda, 0xc5, 3 },
        { 65535, 0xda, 0xc5, 3 }, { 65536, 0xdb, 0xc6, 5 }, { 70000, 0xdb, 0xc6, 5 },
    };
    size_t max = 70000;
    char *text = malloc(max);
    MU_CHECK(text);
    for (size_t k = 0; k < max; k++)
        text[k] = (char) ('a' + k % 26);
    mu_pack_t *pack = mu_pack_new();
    MU_CHECK(pack);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t len = cases[c].len, size;
        mu_pack_reset(pack);
        MU_CHECK_EQ(mu_pack_str(pack, text, len), 0);
        const uint8_t *bytes = mu_pack_data(pack, &size);
        MU_CHECK(bytes);
        MU_CHECK_EQ(bytes[0], cases[c].str_first);
        MU_CHECK_EQ(size, cases[c].header + len);
        mu_unpacked_t *root;
        MU_CHECK_EQ(decode(bytes, size, NULL, &root, NULL), 0);
        MU_CHECK_EQ(mu_unpacked_type(root), MU_PACK_STR);
        const char *s = NULL;
        size_t got = 1234567;
        MU_CHECK_EQ(mu_unpacked_str(root, &s, &got), 0);
        MU_CHECK(s != NULL);
        MU_CHECK_EQ(got, len);
        MU_CHECK(memcmp(s, text, len) == 0);
        MU_CHECK_EQ(s[len], '\0');
        mu_unpacked_destroy(&root);

        mu_pack_reset(pack);
        MU_CHECK_EQ(mu_pack_bin(pack, text, len), 0);
        bytes = mu_pack_data(pack, &size);
        MU_CHECK(bytes);
        MU_CHECK_EQ(bytes[0], cases[c].bin_first);
        MU_CHECK_EQ(size, (len < 256 ? 2 : cases[c].header) + len);
        MU_CHECK_EQ(decode(bytes, size, NULL, &root, NULL), 0);
        MU_CHECK_EQ(mu_unpacked_type(root), MU_PACK_BIN);
        const void *p = NULL;
        MU_CHECK_EQ(mu_unpacked_bin(root, &p, &got), 0);
        MU_CHECK(p != NULL);
        MU_CHECK_EQ(got, len);
        MU_CHECK(memcmp(p, text, len) == 0);
        mu_unpacked_destroy(&root);
    }
    /* a str holding a NUL, and the length is what counts */
    mu_pack_reset(pack);
    MU_CHECK_EQ(mu_pack_str(pack, "a\0b", 3), 0);
    size_t size, got;
    const uint8_t *bytes = mu_pack_data(pack, &size);
    MU_CHECK(bytes);
    mu_unpacked_t *root;
    MU_CHECK_EQ(decode(bytes, size, NULL, &root, NULL), 0);
    const char *s;
    MU_CHECK_EQ(mu_unpacked_str(root, &s, &got), 0);
    MU_CHECK_EQ(got, 3);
    MU_CHECK(memcmp(s, "a\0b", 4) == 0);
    mu_unpacked_destroy(&root);
    /* strings are handed out as received, UTF-8 or not */
    static const uint8_t not_utf8[] = { 0xa2, 0xff, 0xfe };
    MU_CHECK_EQ(decode(not_utf8, sizeof not_utf8, NULL, &root, NULL), 0);
    MU_CHECK_EQ(mu_unpacked_str(root, &s, &got), 0);
    MU_CHECK_EQ(got, 2);
    MU_CHECK_EQ((uint8_t) s[0], 0xff);
    mu_unpacked_destroy(&root);
    mu_pack_destroy(&pack);
    free(text);
}

static void
test_roundtrip_ext(void)
{
    static const struct {
        size_t len;
        uint8_t first;
        size_t header;
    } cases[] = {
        { 0, 0xc7, 3 },   { 1, 0xd4, 2 },   { 2, 0xd5, 2 },     { 3, 0xc7, 3 },
        { 4, 0xd6, 2 },   { 8, 0xd7, 2 },   { 16, 0xd8, 2 },    { 17, 0xc7, 3 },
        { 255, 0xc7, 3 }, { 256, 0xc8, 4 }, { 65536, 0xc9, 6 },
    };
    static const int8_t types[] = { 0, 1, 127, -1, -128 };
    uint8_t *payload = malloc(65536);
    MU_CHECK(payload);
    for (size_t k = 0; k < 65536; k++)
        payload[k] = (uint8_t) (k * 7 + 3);
    mu_pack_t *pack = mu_pack_new();
    MU_CHECK(pack);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
            size_t size;
            mu_pack_reset(pack);
            MU_CHECK_EQ(mu_pack_ext(pack, types[t], payload, cases[c].len), 0);
            const uint8_t *bytes = mu_pack_data(pack, &size);
            MU_CHECK(bytes);
            MU_CHECK_EQ(bytes[0], cases[c].first);
            MU_CHECK_EQ(size, cases[c].header + cases[c].len);
            mu_unpacked_t *root;
            MU_CHECK_EQ(decode(bytes, size, NULL, &root, NULL), 0);
            MU_CHECK_EQ(mu_unpacked_type(root), MU_PACK_EXT);
            int8_t type = 99;
            const void *data = NULL;
            size_t len = 1234567;
            MU_CHECK_EQ(mu_unpacked_ext(root, &type, &data, &len), 0);
            MU_CHECK_EQ(type, types[t]);
            MU_CHECK(data != NULL);
            MU_CHECK_EQ(len, cases[c].len);
            MU_CHECK(memcmp(data, payload, len) == 0);
            MU_CHECK_EQ(mu_unpacked_ext(root, NULL, &data, NULL), 0);
            mu_unpacked_destroy(&root);
        }
    }
    mu_pack_destroy(&pack);
    free(payload);
}

static void
test_containers(void)
{
    mu_pack_t *pack = mu_pack_new();
    MU_CHECK(pack);
    /* sizes around each header form: fix, 16-bit, 32-bit */
    static const struct {
        uint32_t n;
        uint8_t array_first, map_first;
    } cases[] = {
        { 0, 0x90, 0x80 },  { 1, 0x91, 0x81 },     { 15, 0x9f, 0x8f },
        { 16, 0xdc, 0xde }, { 65535, 0xdc, 0xde }, { 65536, 0xdd, 0xdf },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint32_t n = cases[c].n;
        size_t size, count;
        mu_pack_reset(pack);
        MU_CHECK_EQ(mu_pack_array(pack, n), 0);
        for (uint32_t k = 0; k < n; k++)
            MU_CHECK_EQ(mu_pack_uint(pack, k), 0);
        const uint8_t *bytes = mu_pack_data(pack, &size);
        MU_CHECK(bytes);
        MU_CHECK_EQ(bytes[0], cases[c].array_first);
        mu_unpacked_t *root;
        MU_CHECK_EQ(decode(bytes, size, NULL, &root, NULL), 0);
        MU_CHECK_EQ(mu_unpacked_array(root, &count), 0);
        MU_CHECK_EQ(count, n);
        for (uint32_t k = 0; k < n; k++) {
            const mu_unpacked_t *item;
            uint64_t u;
            MU_CHECK_EQ(mu_unpacked_at(root, k, &item), 0);
            MU_CHECK_EQ(mu_unpacked_uint(item, &u), 0);
            MU_CHECK_EQ(u, k);
        }
        const mu_unpacked_t *item = NULL;
        MU_CHECK_EQ(mu_unpacked_at(root, n, &item), MU_ENOENT);
        MU_CHECK(item == NULL);
        MU_CHECK_EQ(mu_unpacked_at(root, SIZE_MAX, &item), MU_ENOENT);
        mu_unpacked_destroy(&root);

        mu_pack_reset(pack);
        MU_CHECK_EQ(mu_pack_map(pack, n), 0);
        for (uint32_t k = 0; k < n; k++) {
            char key[16];
            snprintf(key, sizeof key, "k%u", (unsigned) k);
            MU_CHECK_EQ(mu_pack_cstr(pack, key), 0);
            MU_CHECK_EQ(mu_pack_int(pack, -(int64_t) k), 0);
        }
        bytes = mu_pack_data(pack, &size);
        MU_CHECK(bytes);
        MU_CHECK_EQ(bytes[0], cases[c].map_first);
        MU_CHECK_EQ(decode(bytes, size, NULL, &root, NULL), 0);
        MU_CHECK_EQ(mu_unpacked_map(root, &count), 0);
        MU_CHECK_EQ(count, n);
        for (uint32_t k = 0; k < n; k += (n > 100 ? 997 : 1)) {
            const mu_unpacked_t *key, *value, *found;
            char want[16];
            const char *s;
            int64_t i;
            snprintf(want, sizeof want, "k%u", (unsigned) k);
            MU_CHECK_EQ(mu_unpacked_entry(root, k, &key, &value), 0);
            MU_CHECK_EQ(mu_unpacked_str(key, &s, NULL), 0);
            MU_CHECK(strcmp(s, want) == 0);
            MU_CHECK_EQ(mu_unpacked_int(value, &i), 0);
            MU_CHECK_EQ(i, -(int64_t) k);
            MU_CHECK_EQ(mu_unpacked_get(root, want, &found), 0);
            MU_CHECK(found == value);
        }
        MU_CHECK_EQ(mu_unpacked_entry(root, n, NULL, NULL), MU_ENOENT);
        MU_CHECK_EQ(mu_unpacked_get(root, "missing", &item), MU_ENOENT);
        mu_unpacked_destroy(&root);
    }
    mu_pack_destroy(&pack);
}

/*  {"a": [1, {"b": []}], "c": {}, 5: "int key", "a": "second a", "": nil} */
static void
test_nested_and_lookup(void)
{
    mu_pack_t *pack = mu_pack_new();
    MU_CHECK(pack);
    MU_CHECK_EQ(mu_pack_map(pack, 5), 0);
    MU_CHECK_EQ(mu_pack_cstr(pack, "a"), 0);
    MU_CHECK_EQ(mu_pack_array(pack, 2), 0);
    MU_CHECK_EQ(mu_pack_int(pack, 1), 0);
    MU_CHECK_EQ(mu_pack_map(pack, 1), 0);
    MU_CHECK_EQ(mu_pack_cstr(pack, "b"), 0);
    MU_CHECK_EQ(mu_pack_array(pack, 0), 0);
    MU_CHECK_EQ(mu_pack_cstr(pack, "c"), 0);
    MU_CHECK_EQ(mu_pack_map(pack, 0), 0);
    MU_CHECK_EQ(mu_pack_int(pack, 5), 0);
    MU_CHECK_EQ(mu_pack_cstr(pack, "int key"), 0);
    MU_CHECK_EQ(mu_pack_cstr(pack, "a"), 0);
    MU_CHECK_EQ(mu_pack_cstr(pack, "second a"), 0);
    MU_CHECK_EQ(mu_pack_cstr(pack, ""), 0);
    MU_CHECK_EQ(mu_pack_nil(pack), 0);
    size_t size, n;
    const void *bytes = mu_pack_data(pack, &size);
    MU_CHECK(bytes);
    mu_unpacked_t *root;
    MU_CHECK_EQ(decode(bytes, size, NULL, &root, NULL), 0);
    MU_CHECK_EQ(walk(root, 0), 15);
    const mu_unpacked_t *a, *inner, *b, *c, *v;
    int64_t i;
    MU_CHECK_EQ(mu_unpacked_get(root, "a", &a), 0); /* the first "a" wins */
    MU_CHECK_EQ(mu_unpacked_array(a, &n), 0);
    MU_CHECK_EQ(n, 2);
    MU_CHECK_EQ(mu_unpacked_at(a, 0, &v), 0);
    MU_CHECK_EQ(mu_unpacked_int(v, &i), 0);
    MU_CHECK_EQ(i, 1);
    MU_CHECK_EQ(mu_unpacked_at(a, 1, &inner), 0);
    MU_CHECK_EQ(mu_unpacked_get(inner, "b", &b), 0);
    MU_CHECK_EQ(mu_unpacked_array(b, &n), 0);
    MU_CHECK_EQ(n, 0);
    MU_CHECK_EQ(mu_unpacked_at(b, 0, &v), MU_ENOENT);
    MU_CHECK_EQ(mu_unpacked_get(root, "c", &c), 0);
    MU_CHECK_EQ(mu_unpacked_map(c, &n), 0);
    MU_CHECK_EQ(n, 0);
    MU_CHECK_EQ(mu_unpacked_get(c, "x", &v), MU_ENOENT);
    MU_CHECK_EQ(mu_unpacked_entry(c, 0, &v, &v), MU_ENOENT);
    MU_CHECK_EQ(mu_unpacked_get(root, "", &v), 0);
    MU_CHECK_EQ(mu_unpacked_type(v), MU_PACK_NIL);
    MU_CHECK_EQ(mu_unpacked_get(root, "int key", &v), MU_ENOENT); /* a value, not a key */
    MU_CHECK_EQ(mu_unpacked_get(root, "5", &v), MU_ENOENT);       /* int keys are skipped */
    const mu_unpacked_t *key;
    MU_CHECK_EQ(mu_unpacked_entry(root, 2, &key, &v), 0);
    MU_CHECK_EQ(mu_unpacked_int(key, &i), 0);
    MU_CHECK_EQ(i, 5);
    MU_CHECK_EQ(mu_unpacked_entry(root, 3, NULL, &v), 0);
    const char *s;
    MU_CHECK_EQ(mu_unpacked_str(v, &s, NULL), 0);
    MU_CHECK(strcmp(s, "second a") == 0);
    MU_CHECK_EQ(mu_unpacked_get(a, "a", &v), MU_ETYPE);
    mu_unpacked_destroy(&root);
    mu_pack_destroy(&pack);
}

/*  ---- interoperability with msgpack-c ------------------------------------ */

static void
test_interop_from_msgpack_c(void)
{
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 10);
    msgpack_pack_str_with_body(&pk, "nil", 3);
    msgpack_pack_nil(&pk);
    msgpack_pack_str_with_body(&pk, "t", 1);
    msgpack_pack_true(&pk);
    msgpack_pack_str_with_body(&pk, "i", 1);
    msgpack_pack_int64(&pk, -123456789012LL);
    msgpack_pack_str_with_body(&pk, "u", 1);
    msgpack_pack_uint64(&pk, UINT64_MAX);
    msgpack_pack_str_with_body(&pk, "f", 1);
    msgpack_pack_float(&pk, 1.5f);
    msgpack_pack_str_with_body(&pk, "d", 1);
    msgpack_pack_double(&pk, -2.25);
    msgpack_pack_str_with_body(&pk, "s", 1);
    msgpack_pack_str_with_body(&pk, "hello", 5);
    msgpack_pack_str_with_body(&pk, "b", 1);
    msgpack_pack_bin_with_body(&pk, "\x00\x01\x02", 3);
    msgpack_pack_str_with_body(&pk, "a", 1);
    msgpack_pack_array(&pk, 3);
    msgpack_pack_fix_int8(&pk, 1); /* non-shortest forms */
    msgpack_pack_fix_uint32(&pk, 2);
    msgpack_pack_fix_int64(&pk, -3);
    msgpack_pack_str_with_body(&pk, "e", 1);
    msgpack_pack_ext_with_body(&pk, "\xaa\xbb\xcc\xdd", 4, 42);

    mu_unpacked_t *root;
    MU_CHECK_EQ(decode(sbuf.data, sbuf.size, NULL, &root, NULL), 0);
    size_t n;
    MU_CHECK_EQ(mu_unpacked_map(root, &n), 0);
    MU_CHECK_EQ(n, 10);
    const mu_unpacked_t *v, *item;
    bool b;
    int64_t i;
    uint64_t u;
    double d;
    const char *s;
    const void *p;
    int8_t type;
    MU_CHECK_EQ(mu_unpacked_get(root, "nil", &v), 0);
    MU_CHECK_EQ(mu_unpacked_type(v), MU_PACK_NIL);
    MU_CHECK_EQ(mu_unpacked_get(root, "t", &v), 0);
    MU_CHECK_EQ(mu_unpacked_bool(v, &b), 0);
    MU_CHECK(b);
    MU_CHECK_EQ(mu_unpacked_get(root, "i", &v), 0);
    MU_CHECK_EQ(mu_unpacked_int(v, &i), 0);
    MU_CHECK(i == -123456789012LL);
    MU_CHECK_EQ(mu_unpacked_get(root, "u", &v), 0);
    MU_CHECK_EQ(mu_unpacked_uint(v, &u), 0);
    MU_CHECK(u == UINT64_MAX);
    MU_CHECK_EQ(mu_unpacked_get(root, "f", &v), 0);
    MU_CHECK_EQ(mu_unpacked_double(v, &d), 0);
    MU_CHECK(d == 1.5);
    MU_CHECK_EQ(mu_unpacked_get(root, "d", &v), 0);
    MU_CHECK_EQ(mu_unpacked_double(v, &d), 0);
    MU_CHECK(d == -2.25);
    MU_CHECK_EQ(mu_unpacked_get(root, "s", &v), 0);
    MU_CHECK_EQ(mu_unpacked_str(v, &s, &n), 0);
    MU_CHECK(n == 5 && strcmp(s, "hello") == 0);
    MU_CHECK_EQ(mu_unpacked_get(root, "b", &v), 0);
    MU_CHECK_EQ(mu_unpacked_bin(v, &p, &n), 0);
    MU_CHECK(n == 3 && memcmp(p, "\x00\x01\x02", 3) == 0);
    MU_CHECK_EQ(mu_unpacked_get(root, "a", &v), 0);
    MU_CHECK_EQ(mu_unpacked_array(v, &n), 0);
    MU_CHECK_EQ(n, 3);
    MU_CHECK_EQ(mu_unpacked_at(v, 0, &item), 0);
    MU_CHECK_EQ(mu_unpacked_uint(item, &u), 0);
    MU_CHECK_EQ(u, 1);
    MU_CHECK_EQ(mu_unpacked_at(v, 1, &item), 0);
    MU_CHECK_EQ(mu_unpacked_int(item, &i), 0);
    MU_CHECK_EQ(i, 2);
    MU_CHECK_EQ(mu_unpacked_at(v, 2, &item), 0);
    MU_CHECK_EQ(mu_unpacked_int(item, &i), 0);
    MU_CHECK_EQ(i, -3);
    MU_CHECK_EQ(mu_unpacked_get(root, "e", &v), 0);
    MU_CHECK_EQ(mu_unpacked_ext(v, &type, &p, &n), 0);
    MU_CHECK_EQ(type, 42);
    MU_CHECK(n == 4 && memcmp(p, "\xaa\xbb\xcc\xdd", 4) == 0);
    mu_unpacked_destroy(&root);
    msgpack_sbuffer_destroy(&sbuf);
}

static void
test_interop_to_msgpack_c(void)
{
    mu_pack_t *pack = mu_pack_new();
    MU_CHECK(pack);
    MU_CHECK_EQ(mu_pack_array(pack, 9), 0);
    MU_CHECK_EQ(mu_pack_nil(pack), 0);
    MU_CHECK_EQ(mu_pack_bool(pack, false), 0);
    MU_CHECK_EQ(mu_pack_int(pack, INT64_MIN), 0);
    MU_CHECK_EQ(mu_pack_uint(pack, UINT64_MAX), 0);
    MU_CHECK_EQ(mu_pack_double(pack, 0.125), 0);
    MU_CHECK_EQ(mu_pack_cstr(pack, "héllo"), 0);
    MU_CHECK_EQ(mu_pack_bin(pack, "\xff\x00", 2), 0);
    MU_CHECK_EQ(mu_pack_map(pack, 1), 0);
    MU_CHECK_EQ(mu_pack_cstr(pack, "k"), 0);
    MU_CHECK_EQ(mu_pack_int(pack, -5), 0);
    MU_CHECK_EQ(mu_pack_ext(pack, -1, "\0\0\0\1", 4), 0);
    size_t size;
    const char *bytes = mu_pack_data(pack, &size);
    MU_CHECK(bytes);

    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    size_t off = 0;
    MU_CHECK_EQ(msgpack_unpack_next(&result, bytes, size, &off), MSGPACK_UNPACK_SUCCESS);
    MU_CHECK_EQ(off, size);
    msgpack_object o = result.data;
    MU_CHECK_EQ(o.type, MSGPACK_OBJECT_ARRAY);
    MU_CHECK_EQ(o.via.array.size, 9);
    msgpack_object *a = o.via.array.ptr;
    MU_CHECK_EQ(a[0].type, MSGPACK_OBJECT_NIL);
    MU_CHECK(a[1].type == MSGPACK_OBJECT_BOOLEAN && a[1].via.boolean == false);
    MU_CHECK(a[2].type == MSGPACK_OBJECT_NEGATIVE_INTEGER && a[2].via.i64 == INT64_MIN);
    MU_CHECK(a[3].type == MSGPACK_OBJECT_POSITIVE_INTEGER && a[3].via.u64 == UINT64_MAX);
    MU_CHECK(a[4].type == MSGPACK_OBJECT_FLOAT64 && a[4].via.f64 == 0.125);
    MU_CHECK(a[5].type == MSGPACK_OBJECT_STR && a[5].via.str.size == strlen("héllo"));
    MU_CHECK(memcmp(a[5].via.str.ptr, "héllo", a[5].via.str.size) == 0);
    MU_CHECK(a[6].type == MSGPACK_OBJECT_BIN && a[6].via.bin.size == 2);
    MU_CHECK(memcmp(a[6].via.bin.ptr, "\xff\x00", 2) == 0);
    MU_CHECK(a[7].type == MSGPACK_OBJECT_MAP && a[7].via.map.size == 1);
    MU_CHECK(a[7].via.map.ptr[0].key.type == MSGPACK_OBJECT_STR);
    MU_CHECK(a[7].via.map.ptr[0].val.via.i64 == -5);
    MU_CHECK(a[8].type == MSGPACK_OBJECT_EXT && a[8].via.ext.type == -1 && a[8].via.ext.size == 4);
    msgpack_unpacked_destroy(&result);
    mu_pack_destroy(&pack);
}

/*  ---- malformed and hostile input ---------------------------------------- */

/*  A message with one of everything, 4.4 KB long. */
static uint8_t *
rich_message(size_t *size_p)
{
    mu_pack_t *pack = mu_pack_new();
    if (!pack)
        return NULL;
    char big[300];
    memset(big, 'x', sizeof big);
    mu_pack_map(pack, 4);
    mu_pack_cstr(pack, "scalars");
    mu_pack_array(pack, 12);
    mu_pack_nil(pack);
    mu_pack_bool(pack, true);
    mu_pack_int(pack, -1);
    mu_pack_int(pack, -200);
    mu_pack_int(pack, INT64_MIN);
    mu_pack_uint(pack, 200);
    mu_pack_uint(pack, 70000);
    mu_pack_uint(pack, UINT64_MAX);
    mu_pack_float(pack, 1.5f);
    mu_pack_double(pack, 2.5);
    mu_pack_ext(pack, 3, "abcd", 4);
    mu_pack_ext(pack, 4, "abc", 3);
    mu_pack_cstr(pack, "bytes");
    mu_pack_array(pack, 5);
    mu_pack_str(pack, big, 40);
    mu_pack_str(pack, big, 300);
    mu_pack_bin(pack, big, 5);
    mu_pack_bin(pack, big, 0);
    /* over 4 KiB in all, so that both decoding paths are taken */
    char *large = calloc(1, 4000);
    mu_pack_bin(pack, large, large ? 4000 : 0);
    free(large);
    mu_pack_cstr(pack, "nested");
    mu_pack_array(pack, 2);
    mu_pack_map(pack, 1);
    mu_pack_cstr(pack, "k");
    mu_pack_array(pack, 0);
    mu_pack_map(pack, 0);
    mu_pack_cstr(pack, "last");
    mu_pack_uint(pack, 1);
    uint8_t *bytes = take(pack, size_p);
    mu_pack_destroy(&pack);
    return bytes;
}

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

/*  ---- randomised --------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/*  Random bytes, half of them from the interesting header bytes. */
static void
test_random_bytes(void)
{
    static const uint8_t interesting[] = { 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
                                           0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf,
                                           0xd0, 0xd3, 0xd4, 0xd8, 0xd9, 0xda, 0xdb, 0xdc,
                                           0xdd, 0xde, 0xdf, 0x80, 0x81, 0x8f, 0x90, 0x91,
                                           0x9f, 0xa0, 0xa1, 0xbf, 0x00, 0xff, 0x01, 0x02 };
    uint8_t buf[24];
    size_t ok = 0, proto = 0, limit = 0;
    mu_unpack_limits_t limits = { .max_depth = 4, .max_bytes = 8 };
    for (int iter = 0; iter < 100000; iter++) {
        size_t len = rng() % (sizeof buf + 1);
        for (size_t k = 0; k < len; k++) {
            uint64_t r = rng();
            buf[k] = (r & 1) ? interesting[(r >> 8) % sizeof interesting] : (uint8_t) (r >> 16);
        }
        mu_unpacked_t *root = NULL;
        size_t used = 0;
        int rc = decode(buf, len, (iter & 1) ? &limits : NULL, &root, (iter & 2) ? &used : NULL);
        if (rc == 0) {
            MU_CHECK(root);
            MU_CHECK(walk(root, 0) > 0);
            MU_CHECK(used <= len);
            MU_CHECK((iter & 2) ? used > 0 : used == 0);
            ok++;
        } else {
            MU_CHECK(rc == MU_EPROTO || rc == MU_ELIMIT);
            MU_CHECK(root == NULL);
            MU_CHECK_EQ(used, 0);
            if (rc == MU_EPROTO)
                proto++;
            else
                limit++;
        }
        mu_unpacked_destroy(&root);
    }
    printf("# random bytes: %zu decoded, %zu MU_EPROTO, %zu MU_ELIMIT\n", ok, proto, limit);
    MU_CHECK(ok > 1000 && proto > 1000 && limit > 100);
}

/*  Random changes to a valid message: flipped bits, changed bytes, cuts. */
static void
test_random_mutations(void)
{
    size_t size;
    uint8_t *msg = rich_message(&size);
    MU_CHECK(msg);
    uint8_t *buf = malloc(size);
    MU_CHECK(buf);
    size_t ok = 0;
    for (int iter = 0; iter < 30000; iter++) {
        memcpy(buf, msg, size);
        int changes = 1 + (int) (rng() % 3);
        for (int c = 0; c < changes; c++) {
            uint64_t r = rng();
            /* mostly in the headers: the 4000-byte bin sits near the end */
            size_t at = (size_t) (r % size);
            if (r % 4 == 1)
                at = (size_t) ((r >> 8) % 460);
            else if (r % 4 == 2)
                at = size - 1 - (size_t) ((r >> 8) % 40);
            if (r & (1ULL << 40))
                buf[at] ^= (uint8_t) (1u << ((r >> 32) % 8));
            else
                buf[at] = (uint8_t) (r >> 48);
        }
        size_t len = (rng() % 4 == 0) ? (size_t) (rng() % size) : size;
        mu_unpacked_t *root = NULL;
        size_t used = 0;
        int rc = decode(buf, len, NULL, &root, (iter & 1) ? &used : NULL);
        if (rc == 0) {
            MU_CHECK(walk(root, 0) > 0);
            ok++;
        } else
            MU_CHECK(rc == MU_EPROTO || rc == MU_ELIMIT);
        mu_unpacked_destroy(&root);
    }
    printf("# mutations: %zu of 30000 still decoded\n", ok);
    MU_CHECK(ok > 0);
    free(buf);
    free(msg);
}

/*  Writes the value v again with the writer (no floats in these trees). */
static int
repack(mu_pack_t *pack, const mu_unpacked_t *v)
{
    size_t n;
    int64_t i;
    uint64_t u;
    bool b;
    const char *s;
    const void *p;
    int8_t t;
    switch (mu_unpacked_type(v)) {
    case MU_PACK_NIL:
        return mu_pack_nil(pack);
    case MU_PACK_BOOL:
        return mu_unpacked_bool(v, &b) ? -1 : mu_pack_bool(pack, b);
    case MU_PACK_INT:
        if (mu_unpacked_uint(v, &u) == 0)
            return mu_pack_uint(pack, u);
        return mu_unpacked_int(v, &i) ? -1 : mu_pack_int(pack, i);
    case MU_PACK_STR:
        return mu_unpacked_str(v, &s, &n) ? -1 : mu_pack_str(pack, s, n);
    case MU_PACK_BIN:
        return mu_unpacked_bin(v, &p, &n) ? -1 : mu_pack_bin(pack, p, n);
    case MU_PACK_EXT:
        return mu_unpacked_ext(v, &t, &p, &n) ? -1 : mu_pack_ext(pack, t, p, n);
    case MU_PACK_ARRAY:
        if (mu_unpacked_array(v, &n) || mu_pack_array(pack, (uint32_t) n))
            return -1;
        for (size_t k = 0; k < n; k++) {
            const mu_unpacked_t *item;
            if (mu_unpacked_at(v, k, &item) || repack(pack, item))
                return -1;
        }
        return 0;
    case MU_PACK_MAP:
        if (mu_unpacked_map(v, &n) || mu_pack_map(pack, (uint32_t) n))
            return -1;
        for (size_t k = 0; k < n; k++) {
            const mu_unpacked_t *key, *val;
            if (mu_unpacked_entry(v, k, &key, &val) || repack(pack, key) || repack(pack, val))
                return -1;
        }
        return 0;
    default:
        return -1;
    }
}

/*  Writes a random tree of at most `budget` values. */
static void
random_tree(mu_pack_t *pack, int depth, int *budget)
{
    static const char bytes[] =
        "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz";
    (*budget)--;
    uint64_t r = rng();
    int kind = (int) (r % (depth < 6 && *budget > 0 ? 9 : 7));
    size_t len = (size_t) ((r >> 8) % 40);
    switch (kind) {
    case 0:
        mu_pack_nil(pack);
        break;
    case 1:
        mu_pack_bool(pack, r & 256);
        break;
    case 2:
        mu_pack_int(pack, (int64_t) rng() >> ((r >> 16) % 64));
        break;
    case 3:
        mu_pack_uint(pack, rng() >> ((r >> 16) % 64));
        break;
    case 4:
        mu_pack_str(pack, bytes, len);
        break;
    case 5:
        mu_pack_bin(pack, bytes, len);
        break;
    case 6:
        mu_pack_ext(pack, (int8_t) (r >> 24), bytes, len);
        break;
    case 7: {
        uint32_t n = (uint32_t) ((r >> 32) % 20);
        mu_pack_array(pack, n);
        for (uint32_t k = 0; k < n; k++)
            random_tree(pack, depth + 1, budget);
        break;
    }
    default: {
        uint32_t n = (uint32_t) ((r >> 32) % 10);
        mu_pack_map(pack, n);
        for (uint32_t k = 0; k < n; k++) {
            random_tree(pack, depth + 1, budget);
            random_tree(pack, depth + 1, budget);
        }
        break;
    }
    }
}

/*  Random trees survive writer -> decoder -> writer byte for byte. */
static void
test_random_trees(void)
{
    mu_pack_t *pack = mu_pack_new(), *again = mu_pack_new();
    MU_CHECK(pack && again);
    for (int iter = 0; iter < 2000; iter++) {
        mu_pack_reset(pack);
        mu_pack_reset(again);
        int budget = 200;
        random_tree(pack, 0, &budget);
        size_t size, size2;
        const void *bytes = mu_pack_data(pack, &size);
        MU_CHECK(bytes);
        mu_unpacked_t *root;
        MU_CHECK_EQ(decode(bytes, size, NULL, &root, NULL), 0);
        MU_CHECK(walk(root, 0) > 0);
        MU_CHECK_EQ(repack(again, root), 0);
        mu_unpacked_destroy(&root);
        const void *bytes2 = mu_pack_data(again, &size2);
        MU_CHECK(bytes2);
        MU_CHECK_EQ(size2, size);
        MU_CHECK(memcmp(bytes, bytes2, size) == 0);
    }
    mu_pack_destroy(&pack);
    mu_pack_destroy(&again);
}

int
main(void)
{
    mu_test_start(60);
    MU_RUN(test_writer_basics);
    MU_RUN(test_writer_errors);
    MU_RUN(test_writer_counts);
    MU_RUN(test_roundtrip_nil_bool);
    MU_RUN(test_roundtrip_ints);
    MU_RUN(test_decode_int_forms);
    MU_RUN(test_roundtrip_floats);
    MU_RUN(test_roundtrip_str_bin);
    MU_RUN(test_roundtrip_ext);
    MU_RUN(test_containers);
    MU_RUN(test_nested_and_lookup);
    MU_RUN(test_interop_from_msgpack_c);
    MU_RUN(test_interop_to_msgpack_c);
    MU_RUN(test_truncated_prefixes);
    MU_RUN(test_trailing_bytes);
    MU_RUN(test_deep_nesting);
    MU_RUN(test_huge_declared_lengths);
    MU_RUN(test_reserved_byte);
    MU_RUN(test_wrong_types);
    MU_RUN(test_limits);
    MU_RUN(test_caller_bug_asserts);
    MU_RUN(test_random_bytes);
    MU_RUN(test_random_mutations);
    MU_RUN(test_random_trees);
    MU_DONE();
}
