/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  pack_message.c — build a message with mu_pack, decode it with limits as if
    it came from an untrusted peer, and read its fields.

    Message: {"op": "put", "key": "a", "value": [1, 2.5, true, nil, <bin>]}

    Build: cc pack_message.c $(pkg-config --cflags --libs libmutil) */
#include <mutil.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/*  Encodes the message; returns 0 or a negative MU_E* code. The bytes are
    copied into buf (of capacity cap) and their number stored in *size_p. */
static int
encode(unsigned char *buf, size_t cap, size_t *size_p)
{
    static const unsigned char blob[] = { 0xde, 0xad, 0xbe, 0xef };
    mu_pack_t *pack = mu_pack_new();
    if (!pack)
        return MU_ENOMEM;
    /* Append calls keep their first error (sticky), so checking once at
       mu_pack_data is enough. */
    mu_pack_map(pack, 3);
    mu_pack_cstr(pack, "op");
    mu_pack_cstr(pack, "put");
    mu_pack_cstr(pack, "key");
    mu_pack_cstr(pack, "a");
    mu_pack_cstr(pack, "value");
    mu_pack_array(pack, 5);
    mu_pack_int(pack, 1);
    mu_pack_double(pack, 2.5);
    mu_pack_bool(pack, true);
    mu_pack_nil(pack);
    mu_pack_bin(pack, blob, sizeof blob);

    size_t size;
    const void *data = mu_pack_data(pack, &size);
    int rc = 0;
    if (!data)
        rc = -errno;
    else if (size > cap)
        rc = MU_EMSGSIZE;
    else {
        memcpy(buf, data, size);
        *size_p = size;
    }
    mu_pack_destroy(&pack);
    return rc;
}

/*  Prints one item of the "value" array. */
static int
print_item(size_t index, const mu_unpacked_t *item)
{
    int64_t i;
    double d;
    bool b;
    const void *bytes;
    size_t len;
    printf("  value[%zu] = ", index);
    switch (mu_unpacked_type(item)) {
    case MU_PACK_NIL:
        printf("nil\n");
        return 0;
    case MU_PACK_INT:
        if (mu_unpacked_int(item, &i) != 0)
            return MU_ETYPE; /* an unsigned value above INT64_MAX */
        printf("%lld (int)\n", (long long) i);
        return 0;
    case MU_PACK_FLOAT:
        if (mu_unpacked_double(item, &d) != 0)
            return MU_ETYPE;
        printf("%g (float)\n", d);
        return 0;
    case MU_PACK_BOOL:
        if (mu_unpacked_bool(item, &b) != 0)
            return MU_ETYPE;
        printf("%s (bool)\n", b ? "true" : "false");
        return 0;
    case MU_PACK_BIN:
        if (mu_unpacked_bin(item, &bytes, &len) != 0)
            return MU_ETYPE;
        printf("bin of %zu bytes:", len);
        for (size_t k = 0; k < len; k++)
            printf(" %02x", ((const unsigned char *) bytes)[k]);
        printf("\n");
        return 0;
    default:
        printf("(type %d, not expected here)\n", (int) mu_unpacked_type(item));
        return MU_ETYPE;
    }
}

/*  Decodes bytes from a peer and prints the fields. */
static int
handle(const void *data, size_t size)
{
    /* Tight limits for a small request; unnamed fields keep their defaults. */
    mu_unpack_limits_t limits = { .max_size = 4096, .max_depth = 4, .max_count = 64 };
    mu_unpacked_t *msg = NULL;
    int rc = mu_unpack(data, size, &limits, &msg, NULL);
    if (rc != 0)
        return rc;

    const mu_unpacked_t *op, *key, *value, *item;
    const char *op_str, *key_str;
    size_t key_len, count;
    if ((rc = mu_unpacked_get(msg, "op", &op)) != 0
        || (rc = mu_unpacked_str(op, &op_str, NULL)) != 0
        || (rc = mu_unpacked_get(msg, "key", &key)) != 0
        || (rc = mu_unpacked_str(key, &key_str, &key_len)) != 0
        || (rc = mu_unpacked_get(msg, "value", &value)) != 0
        || (rc = mu_unpacked_array(value, &count)) != 0)
        goto done;

    /* str bytes are NUL-terminated, so %s works when they hold no NUL */
    printf("op    = %s\n", op_str);
    printf("key   = %.*s\n", (int) key_len, key_str);
    printf("value = array of %zu items\n", count);
    for (size_t k = 0; k < count; k++) {
        if ((rc = mu_unpacked_at(value, k, &item)) != 0 || (rc = print_item(k, item)) != 0)
            goto done;
    }
done:
    mu_unpacked_destroy(&msg);
    return rc;
}

int
main(void)
{
    unsigned char buf[256];
    size_t size = 0;
    int rc = encode(buf, sizeof buf, &size);
    if (rc != 0) {
        fprintf(stderr, "encode: %s\n", mu_strerror(rc));
        return 1;
    }
    printf("encoded %zu bytes:", size);
    for (size_t k = 0; k < size; k++)
        printf(" %02x", buf[k]);
    printf("\n");

    rc = handle(buf, size);
    if (rc != 0) {
        fprintf(stderr, "decode: %s (%s)\n", mu_strerror(rc), mu_errname(rc));
        return 1;
    }

    /* What a peer's broken message looks like: the same bytes, cut short. */
    rc = handle(buf, size - 1);
    printf("truncated message -> %s\n", mu_errname(rc));
    return rc == MU_EPROTO ? 0 : 1;
}
