/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_pack.c — tests of mu_pack: the writer (basics, errors, counts)
    and round trips of every type through the bounded decoder and its
    accessors, containers, nesting and lookup. Interoperability with
    msgpack-c is in test_pack_interop.c, malformed and hostile input in
    test_pack_hostile.c, random input in test_pack_random.c. */
#include "pack_cases.h"

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
    MU_DONE();
}
