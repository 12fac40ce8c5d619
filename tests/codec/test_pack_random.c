/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_pack_random.c — mu_pack's decoder on random bytes and random
    mutations of valid messages, and random trees round-tripped. */
#include "pack_cases.h"

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
    MU_RUN(test_random_bytes);
    MU_RUN(test_random_mutations);
    MU_RUN(test_random_trees);
    MU_DONE();
}
