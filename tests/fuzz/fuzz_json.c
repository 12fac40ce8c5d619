/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  fuzz_json.c — libFuzzer target for mu_json (JSON -> MessagePack -> JSON).

    Each input is read twice. As JSON text: mu_json_to_pack under the
    default and tight limits (tight may only refuse more, with MU_ELIMIT);
    whatever it accepts must be MessagePack that mu_unpack accepts, must have
    a JSON form (mu_json_from_pack succeeds), and that JSON must convert back
    to the same bytes, and write again as the same text. As MessagePack:
    mu_json_from_pack; whatever JSON it writes must convert back (but for a
    uint above INT64_MAX, which mu_json writes one way), and the
    bytes of that must write the same JSON again. Any disagreement aborts,
    which libFuzzer reports. */
#include "mutil.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what)
{
    fprintf(stderr, "fuzz_json: %s (%s)\n", what, mu_last_error());
    abort();
}

/*  JSON text -> MessagePack in pack (reset first). Returns the code. */
static int
to_pack(mu_pack_t *pack, const char *json, size_t len, const mu_unpack_limits_t *limits,
        const void **bytes_p, size_t *size_p)
{
    mu_pack_reset(pack);
    int rc = mu_json_to_pack(json, len, limits, pack);
    *bytes_p = mu_pack_data(pack, size_p);
    if (rc == 0 && *bytes_p == NULL)
        fail("mu_json_to_pack succeeded but the writer has no value");
    if (rc != 0 && *size_p != 0)
        fail("mu_json_to_pack failed but appended");
    return rc;
}

/*  Checks that the MessagePack at bytes writes as JSON, that the JSON
    converts back to MessagePack that writes as the same JSON, and (when
    same_bytes) that it is the same MessagePack. */
static void
check_fixed_point(mu_pack_t *pack, const void *bytes, size_t size, bool same_bytes)
{
    char *json = NULL, *json2 = NULL;
    size_t len = 0, len2 = 0, size2 = 0;
    if (mu_json_from_pack(bytes, size, NULL, 0, &json, &len) != 0)
        fail("a value from mu_json_to_pack has no JSON form");
    if (strlen(json) != len)
        fail("the JSON length is wrong");
    const void *bytes2 = NULL;
    if (to_pack(pack, json, len, NULL, &bytes2, &size2) != 0)
        fail("JSON written by mu_json_from_pack is refused");
    if (same_bytes && (size2 != size || memcmp(bytes, bytes2, size) != 0))
        fail("JSON -> MessagePack -> JSON -> MessagePack changed the bytes");
    if (mu_json_from_pack(bytes2, size2, NULL, 0, &json2, &len2) != 0)
        fail("the second conversion has no JSON form");
    if (len2 != len || memcmp(json, json2, len) != 0)
        fail("the JSON text is not a fixed point");
    free(json);
    free(json2);
}

static void
as_json(mu_pack_t *pack, const char *json, size_t len)
{
    static const mu_unpack_limits_t tight = { .max_size = 256,
                                              .max_depth = 4,
                                              .max_count = 8,
                                              .max_bytes = 16,
                                              .max_values = 32 };
    const void *bytes = NULL;
    size_t size = 0;
    int rc_tight = to_pack(pack, json, len, &tight, &bytes, &size);
    int rc = to_pack(pack, json, len, NULL, &bytes, &size);
    if (rc_tight == 0 && rc != 0)
        fail("the tight limits accepted what the defaults refused");
    if (rc == 0 && rc_tight != 0 && rc_tight != MU_ELIMIT)
        fail("the tight limits refused with another code than MU_ELIMIT");
    if (rc != 0)
        return;
    mu_unpacked_t *root = NULL;
    if (mu_unpack(bytes, size, NULL, &root, NULL) != 0)
        fail("mu_unpack refuses what mu_json_to_pack wrote");
    mu_unpacked_destroy(&root);
    void *copy = malloc(size);
    if (!copy)
        abort();
    memcpy(copy, bytes, size);
    check_fixed_point(pack, copy, size, true);
    free(copy);
}

static void
as_msgpack(mu_pack_t *pack, const uint8_t *data, size_t size)
{
    char *json = NULL;
    size_t len = 0, size2 = 0;
    if (mu_json_from_pack(data, size, NULL, 0, &json, &len) != 0)
        return;
    const void *bytes = NULL;
    int rc = to_pack(pack, json, len, NULL, &bytes, &size2);
    if (rc == MU_ELIMIT && strstr(mu_last_error(), "too big integer")) {
        free(json); /* a uint above INT64_MAX: written exactly, one way (mu_json.h) */
        return;
    }
    if (rc != 0)
        fail("JSON written from MessagePack is refused");
    void *copy = malloc(size2);
    if (!copy)
        abort();
    memcpy(copy, bytes, size2);
    check_fixed_point(pack, copy, size2, true);
    free(copy);
    free(json);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mu_pack_t *pack = mu_pack_new();
    if (!pack)
        return 0;
    as_json(pack, (const char *) data, size);
    as_msgpack(pack, data, size);
    mu_pack_destroy(&pack);
    return 0;
}
