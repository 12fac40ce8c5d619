/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_pack_interop.c — mu_pack and msgpack-c read each other's bytes. */
#include "pack_cases.h"

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

int
main(void)
{
    mu_test_start(60);
    MU_RUN(test_interop_from_msgpack_c);
    MU_RUN(test_interop_to_msgpack_c);
    MU_DONE();
}
