/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  pack_cases.c — see pack_cases.h. */
#include "pack_cases.h"

int
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

size_t
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

uint8_t *
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

uint8_t *
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
