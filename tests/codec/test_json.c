/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  test_json.c — tests of mu_json: every row of the mapping both ways,
    round trips, every error code and the detail that says where, limits,
    depth bombs, invalid UTF-8, numbers beyond 64 bits, and values written
    by mu_pack. */
#include "mu_test.h"
#include <mutil.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers --------------------------------------------------------------------- */

/*  Converts the NUL-terminated JSON into a fresh writer's bytes, as hex in
    hex (cap bytes). Returns mu_json_to_pack's code. The JSON is copied to
    an exact-size heap buffer so that ASan sees a read past its end. */
static int
to_hex(const char *json, const mu_unpack_limits_t *limits, char *hex, size_t cap)
{
    size_t len = strlen(json);
    char *copy = malloc(len ? len : 1);
    if (!copy)
        abort();
    memcpy(copy, json, len);
    mu_pack_t *pack = mu_pack_new();
    if (!pack)
        abort();
    int rc = mu_json_to_pack(copy, len, limits, pack);
    free(copy);
    hex[0] = '\0';
    size_t size = 0;
    const uint8_t *bytes = mu_pack_data(pack, &size);
    if (rc == 0 && bytes)
        for (size_t i = 0; i < size && 2 * i + 2 < cap; i++)
            snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
    if (rc != 0 && size != 0)
        rc = 12345; /* a failure must leave the writer empty */
    mu_pack_destroy(&pack);
    return rc;
}

/*  Converts the JSON to MessagePack and back; *out gets the JSON written
    (free it). Returns the first failing code. */
static int
round_trip(const char *json, unsigned flags, char **out)
{
    *out = NULL;
    mu_pack_t *pack = mu_pack_new();
    if (!pack)
        abort();
    int rc = mu_json_to_pack(json, strlen(json), NULL, pack);
    size_t size = 0;
    const void *bytes = rc == 0 ? mu_pack_data(pack, &size) : NULL;
    if (rc == 0)
        rc = mu_json_from_pack(bytes, size, NULL, flags, out, NULL);
    mu_pack_destroy(&pack);
    return rc;
}

/*  Writes what pack holds as JSON; *out gets it (free it). */
static int
pack_to_json(mu_pack_t *pack, unsigned flags, char **out)
{
    size_t size = 0;
    const void *bytes = mu_pack_data(pack, &size);
    if (!bytes)
        return 12345;
    return mu_json_from_pack(bytes, size, NULL, flags, out, NULL);
}

/*  Tells whether pack's value is written as want (NULL: fails with code);
    empties pack. */
static bool
writes(mu_pack_t *pack, unsigned flags, const char *want, int code)
{
    char *json = NULL;
    int rc = pack_to_json(pack, flags, &json);
    mu_pack_reset(pack);
    bool good = want ? rc == 0 && strcmp(json, want) == 0 : rc == code && json == NULL;
    if (!good)
        printf("# rc %d, wrote %s\n", rc, json ? json : "nothing");
    free(json);
    return good;
}

#define CHECK_WRITES(pack, flags, want, code) MU_CHECK(writes(pack, flags, want, code))

/*  Checks that JSON converts to the hex bytes want. */
#define CHECK_PACKS(json, want)                                    \
    do {                                                           \
        char hex_[512];                                            \
        MU_CHECK_EQ(to_hex(json, NULL, hex_, sizeof hex_), 0);     \
        if (strcmp(hex_, want) != 0)                               \
            printf("# %s -> %s, expected %s\n", json, hex_, want); \
        MU_CHECK(strcmp(hex_, want) == 0);                         \
    } while (0)

/*  Checks that JSON fails with code (limits may be NULL) and that the
    thread's last error holds detail. */
#define CHECK_REFUSES(json, limits, code, detail)                     \
    do {                                                              \
        char hex_[64];                                                \
        MU_CHECK_EQ(to_hex(json, limits, hex_, sizeof hex_), code);   \
        MU_CHECK_EQ(mu_last_code(), code);                            \
        if (!strstr(mu_last_error(), detail))                         \
            printf("# %s: last error '%s'\n", json, mu_last_error()); \
        MU_CHECK(strstr(mu_last_error(), detail));                    \
    } while (0)

/*  Checks that JSON goes to MessagePack and back to exactly want. */
#define CHECK_ROUND(json, want)                     \
    do {                                            \
        char *out_ = NULL;                          \
        MU_CHECK_EQ(round_trip(json, 0, &out_), 0); \
        bool same_ = strcmp(out_, want) == 0;       \
        if (!same_)                                 \
            printf("# %s -> %s\n", json, out_);     \
        free(out_);                                 \
        MU_CHECK(same_);                            \
    } while (0)

/* ---- JSON -> MessagePack ----------------------------------------------------------- */

static void
test_to_pack_scalars(void)
{
    CHECK_PACKS("null", "c0");
    CHECK_PACKS(" true ", "c3");
    CHECK_PACKS("\tfalse\n", "c2");
    CHECK_PACKS("0", "00");
    CHECK_PACKS("-0", "00");
    CHECK_PACKS("127", "7f");
    CHECK_PACKS("128", "cc80");
    CHECK_PACKS("-32", "e0");
    CHECK_PACKS("-33", "d0df");
    CHECK_PACKS("65536", "ce00010000");
    CHECK_PACKS("9223372036854775807", "cf7fffffffffffffff");
    CHECK_PACKS("-9223372036854775808", "d38000000000000000");
    CHECK_PACKS("1.5", "cb3ff8000000000000");
    CHECK_PACKS("1.0", "cb3ff0000000000000");
    CHECK_PACKS("1e2", "cb4059000000000000");
    CHECK_PACKS("-0.0", "cb8000000000000000");
    CHECK_PACKS("\"\"", "a0");
    CHECK_PACKS("\"a\\\"\\\\\\/\\n\"", "a561225c2f0a");
    CHECK_PACKS("\"\\u00e9\\u20ac\\ud83d\\ude00\"", "a9c3a9e282acf09f9880");
    CHECK_PACKS("\"nul\\u0000in\"", "a66e756c00696e");
}

static void
test_to_pack_containers(void)
{
    CHECK_PACKS("[]", "90");
    CHECK_PACKS("{}", "80");
    CHECK_PACKS("[1,[2,[]],{\"a\":null}]", "93019202"
                                           "90"
                                           "81a161c0");
    /* members in document order, not sorted */
    CHECK_PACKS("{\"b\":1,\"a\":2,\"c\":3}", "83a16201a16102a16303");
    /* 16 items take an array16 header */
    CHECK_PACKS("[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]", "dc001000000000000000000000000000000000");
}

static void
test_to_pack_bin_ext(void)
{
    CHECK_PACKS("{\"$bin\":\"\"}", "c400");
    CHECK_PACKS("{\"$bin\":\"AP8=\"}", "c40200ff");
    CHECK_PACKS("{\"$bin\":\"AAEC\"}", "c403000102");
    CHECK_PACKS("{\"$bin\":\"AA==\"}", "c40100");
    CHECK_PACKS("{\"$ext\":5,\"data\":\"AQ==\"}", "d40501");
    CHECK_PACKS("{\"data\":\"AQID\",\"$ext\":-128}", "c70380010203");
    CHECK_PACKS("{\"$ext\":127,\"data\":\"\"}", "c7007f");
    /* not the reserved shapes: ordinary maps */
    CHECK_PACKS("{\"$bin\":\"\",\"x\":1}", "82a42462696ea0a17801");
    CHECK_PACKS("{\"$ext\":1}", "81a42465787401");
    CHECK_PACKS("{\"$bi\":1}", "81a3246269"
                               "01");
}

/*  Every reserved object that is not as the mapping shows is MU_ETYPE,
    named by its path. */
static void
test_to_pack_reserved_errors(void)
{
    CHECK_REFUSES("{\"$bin\":5}", NULL, MU_ETYPE, "\"$bin\" needs a base64 string at \"\"");
    CHECK_REFUSES("{\"$bin\":\"abc\"}", NULL, MU_ETYPE, "base64");
    CHECK_REFUSES("{\"$bin\":\"AB==\"}", NULL, MU_ETYPE, "base64"); /* bits after the byte */
    CHECK_REFUSES("{\"$bin\":\"AP8\"}", NULL, MU_ETYPE, "base64");  /* no padding */
    CHECK_REFUSES("{\"$bin\":\"A P8=\"}", NULL, MU_ETYPE, "base64");
    CHECK_REFUSES("{\"$bin\":\"AP-_\"}", NULL, MU_ETYPE, "base64"); /* url alphabet */
    CHECK_REFUSES("{\"$bin\":\"====\"}", NULL, MU_ETYPE, "base64");
    CHECK_REFUSES("{\"$ext\":128,\"data\":\"\"}", NULL, MU_ETYPE, "-128..127");
    CHECK_REFUSES("{\"$ext\":-129,\"data\":\"\"}", NULL, MU_ETYPE, "-128..127");
    CHECK_REFUSES("{\"$ext\":1.0,\"data\":\"\"}", NULL, MU_ETYPE, "-128..127");
    CHECK_REFUSES("{\"$ext\":\"1\",\"data\":\"\"}", NULL, MU_ETYPE, "-128..127");
    CHECK_REFUSES("{\"$ext\":1,\"data\":[]}", NULL, MU_ETYPE, "-128..127");
    CHECK_REFUSES("{\"a\":[0,{\"b/c~\":{\"$bin\":null}}]}", NULL, MU_ETYPE, "at \"/a/1/b~1c~0\"");
}

static void
test_to_pack_malformed(void)
{
    CHECK_REFUSES("", NULL, MU_EPROTO, "line 1");
    CHECK_REFUSES("   ", NULL, MU_EPROTO, "JSON line");
    CHECK_REFUSES("{\n  \"a\": ,\n}", NULL, MU_EPROTO, "line 2, column 8");
    CHECK_REFUSES("[1,]", NULL, MU_EPROTO, "column 4");
    CHECK_REFUSES("1 2", NULL, MU_EPROTO, "end of file expected");
    CHECK_REFUSES("{'a':1}", NULL, MU_EPROTO, "JSON line 1");
    CHECK_REFUSES("01", NULL, MU_EPROTO, "JSON line 1");
    CHECK_REFUSES("[1 2]", NULL, MU_EPROTO, "JSON line 1");
    CHECK_REFUSES("\"tab\there\"", NULL, MU_EPROTO, "control character");
    CHECK_REFUSES("\"unterminated", NULL, MU_EPROTO, "JSON line 1");
    CHECK_REFUSES("{\"a\":1,\"a\":2}", NULL, MU_EPROTO, "duplicate object key");
    CHECK_REFUSES("NaN", NULL, MU_EPROTO, "JSON line 1");
    CHECK_REFUSES("[Infinity]", NULL, MU_EPROTO, "JSON line 1");
    CHECK_REFUSES("-Infinity", NULL, MU_EPROTO, "JSON line 1");
    CHECK_REFUSES("{\"a\\u0000\":1}", NULL, MU_EPROTO, "NUL byte in object key");
    CHECK_REFUSES("// comment\n1", NULL, MU_EPROTO, "JSON line 1");
    /* malformed UTF-8 and escapes of lone surrogates */
    CHECK_REFUSES("\"\xc0\x80\"", NULL, MU_EPROTO, "unable to decode byte");
    CHECK_REFUSES("\"\xed\xa0\x80\"", NULL, MU_EPROTO, "unable to decode byte");
    CHECK_REFUSES("\"\xff\"", NULL, MU_EPROTO, "unable to decode byte");
    CHECK_REFUSES("\"\xe2\x82\"", NULL, MU_EPROTO, "unable to decode byte");
    /* the input jansson quotes in its message is escaped (a bidirectional control) */
    CHECK_REFUSES("\"abc\xe2\x80\xae", NULL, MU_EPROTO, "premature end of input");
    MU_CHECK(strstr(mu_last_error(), "\xe2\x80\xae") == NULL);
    CHECK_REFUSES("[\"\\ud800\"]", NULL, MU_EPROTO, "nicode");
    CHECK_REFUSES("\"\\ude00x\"", NULL, MU_EPROTO, "nicode");
    /* a NULL text of size 0 is no value */
    mu_pack_t *pack = mu_pack_new();
    MU_CHECK(pack);
    MU_CHECK_EQ(mu_json_to_pack(NULL, 0, NULL, pack), MU_EPROTO);
    mu_pack_destroy(&pack);
}

static void
test_to_pack_numbers_beyond_64_bits(void)
{
    CHECK_REFUSES("9223372036854775808", NULL, MU_ELIMIT, "too big integer");
    CHECK_REFUSES("18446744073709551615", NULL, MU_ELIMIT, "too big integer");
    CHECK_REFUSES("[-9223372036854775809]", NULL, MU_ELIMIT, "too big negative integer");
    CHECK_REFUSES("123456789012345678901234567890", NULL, MU_ELIMIT, "line 1");
    CHECK_REFUSES("1e400", NULL, MU_ELIMIT, "real number overflow");
    CHECK_REFUSES("-1e309", NULL, MU_ELIMIT, "real number overflow");
    /* a real with many digits is rounded to the nearest double */
    CHECK_PACKS("123456789012345678901234567890.0", "cb45f8ee90ff6c373e");
    CHECK_PACKS("1e-400", "cb0000000000000000"); /* underflow: zero */
}

static void
test_to_pack_limits(void)
{
    mu_unpack_limits_t size4 = { .max_size = 4 };
    CHECK_REFUSES("12345", &size4, MU_ELIMIT, "over max_size 4");
    char hex[64];
    MU_CHECK_EQ(to_hex("1234", &size4, hex, sizeof hex), 0);

    mu_unpack_limits_t depth2 = { .max_depth = 2 };
    CHECK_REFUSES("[[[]]]", &depth2, MU_ELIMIT, "nesting deeper than max_depth at \"/0/0\"");
    CHECK_REFUSES("{\"a\":{\"b\":{}}}", &depth2, MU_ELIMIT, "at \"/a/b\"");
    MU_CHECK_EQ(to_hex("[[1],{\"a\":1}]", &depth2, hex, sizeof hex), 0);
    /* a reserved object is a scalar: no depth */
    mu_unpack_limits_t depth1 = { .max_depth = 1 };
    MU_CHECK_EQ(to_hex("[{\"$bin\":\"\"}]", &depth1, hex, sizeof hex), 0);

    mu_unpack_limits_t count2 = { .max_count = 2 };
    CHECK_REFUSES("[1,2,3]", &count2, MU_ELIMIT, "an array over max_count");
    CHECK_REFUSES("[{\"a\":1,\"b\":2,\"c\":3}]", &count2, MU_ELIMIT,
                  "an object over max_count at \"/0\"");
    MU_CHECK_EQ(to_hex("[[1,2],{\"a\":1,\"b\":2}]", &count2, hex, sizeof hex), 0);

    mu_unpack_limits_t bytes3 = { .max_bytes = 3 };
    CHECK_REFUSES("\"abcd\"", &bytes3, MU_ELIMIT, "a string over max_bytes");
    CHECK_REFUSES("{\"abcd\":1}", &bytes3, MU_ELIMIT, "a string over max_bytes at \"/abcd\"");
    CHECK_REFUSES("{\"$bin\":\"AAAAAA==\"}", &bytes3, MU_ELIMIT, "payload over max_bytes");
    MU_CHECK_EQ(to_hex("[\"abc\",{\"$bin\":\"AAAA\"}]", &bytes3, hex, sizeof hex), 0);

    /* values: the array, its 2 items; a map counts its keys too */
    mu_unpack_limits_t values3 = { .max_values = 3 };
    MU_CHECK_EQ(to_hex("[1,2]", &values3, hex, sizeof hex), 0);
    CHECK_REFUSES("[1,2,3]", &values3, MU_ELIMIT, "more values than max_values");
    CHECK_REFUSES("{\"a\":1,\"b\":2}", &values3, MU_ELIMIT, "max_values");
    MU_CHECK_EQ(to_hex("{\"a\":1}", &values3, hex, sizeof hex), 0);
}

/*  Nesting far deeper than any limit: jansson stops at its own depth, ours
    is checked without recursion; lifted limits still work. */
static void
test_to_pack_depth_bombs(void)
{
    size_t n = 100000;
    char *bomb = malloc(2 * n + 1);
    MU_CHECK(bomb);
    memset(bomb, '[', n);
    memset(bomb + n, ']', n);
    bomb[2 * n] = '\0';
    char hex[64];
    int rc = to_hex(bomb, NULL, hex, sizeof hex);
    MU_CHECK_EQ(rc, MU_ELIMIT);
    MU_CHECK(strstr(mu_last_error(), "depth"));
    /* 2000 levels: within jansson's 2048, over our default 64 */
    size_t m = 2000;
    memmove(bomb + m, bomb + n, m);
    bomb[2 * m] = '\0';
    MU_CHECK_EQ(to_hex(bomb, NULL, hex, sizeof hex), MU_ELIMIT);
    mu_unpack_limits_t lifted = { .max_depth = SIZE_MAX };
    mu_pack_t *pack = mu_pack_new();
    MU_CHECK(pack);
    MU_CHECK_EQ(mu_json_to_pack(bomb, 2 * m, &lifted, pack), 0);
    size_t size = 0;
    const uint8_t *bytes = mu_pack_data(pack, &size);
    MU_CHECK(bytes && size == m && bytes[0] == 0x91 && bytes[m - 1] == 0x90);
    /* and back, with lifted limits: the writer does not recurse either */
    char *json = NULL;
    MU_CHECK_EQ(mu_json_from_pack(bytes, size, &lifted, 0, &json, &size), 0);
    MU_CHECK_EQ(size, 2 * m);
    MU_CHECK(memcmp(json, bomb, size) == 0);
    free(json);
    mu_pack_destroy(&pack);
    free(bomb);
}

/*  A failure appends nothing; values go into an open array; a writer that
    has failed stays failed. */
static void
test_to_pack_writer_state(void)
{
    mu_pack_t *pack = mu_pack_new();
    MU_CHECK(pack);
    MU_CHECK_EQ(mu_pack_array(pack, 3), 0);
    MU_CHECK_EQ(mu_json_to_pack("1", 1, NULL, pack), 0);
    MU_CHECK_EQ(mu_json_to_pack("[1,{\"$bin\":7}]", 14, NULL, pack), MU_ETYPE);
    MU_CHECK_EQ(mu_json_to_pack("[1,", 3, NULL, pack), MU_EPROTO);
    MU_CHECK_EQ(mu_json_to_pack("{\"k\":\"v\"}", 9, NULL, pack), 0);
    MU_CHECK_EQ(mu_json_to_pack("null", 4, NULL, pack), 0);
    CHECK_WRITES(pack, 0, "[1,{\"k\":\"v\"},null]", 0);
    MU_CHECK_EQ(mu_pack_str(pack, NULL, 1), MU_EINVAL); /* sticky */
    MU_CHECK_EQ(mu_json_to_pack("1", 1, NULL, pack), MU_EINVAL);
    mu_pack_destroy(&pack);
}

/* ---- MessagePack -> JSON ------------------------------------------------------------- */

static void
test_from_pack_scalars(void)
{
    mu_pack_t *p = mu_pack_new();
    MU_CHECK(p);
    mu_pack_nil(p);
    CHECK_WRITES(p, 0, "null", 0);
    mu_pack_bool(p, true);
    CHECK_WRITES(p, 0, "true", 0);
    mu_pack_bool(p, false);
    CHECK_WRITES(p, 0, "false", 0);
    mu_pack_int(p, INT64_MIN);
    CHECK_WRITES(p, 0, "-9223372036854775808", 0);
    mu_pack_uint(p, UINT64_MAX);
    CHECK_WRITES(p, 0, "18446744073709551615", 0);
    mu_pack_int(p, -1);
    CHECK_WRITES(p, 0, "-1", 0);
    mu_pack_double(p, 0.1);
    CHECK_WRITES(p, 0, "0.1", 0);
    mu_pack_double(p, 1.0 / 3);
    CHECK_WRITES(p, 0, "0.3333333333333333", 0);
    mu_pack_double(p, 2.0);
    CHECK_WRITES(p, 0, "2.0", 0);
    mu_pack_double(p, -0.0);
    CHECK_WRITES(p, 0, "-0.0", 0);
    mu_pack_double(p, 1e300);
    CHECK_WRITES(p, 0, "1e+300", 0);
    mu_pack_double(p, 1e21);
    CHECK_WRITES(p, 0, "1e+21", 0);
    mu_pack_float(p, 0.1f);
    CHECK_WRITES(p, 0, "0.1", 0);
    mu_pack_float(p, 16777216.0f);
    CHECK_WRITES(p, 0, "16777216.0", 0);
    mu_pack_float(p, 3.4028235e38f);
    CHECK_WRITES(p, 0, "3.4028235e+38", 0);
    mu_pack_str(p, "a\"\\/\n\r\t\b\f\x01\x1f\x7f\xc3\xa9\xf0\x9f\x98\x80", 18);
    CHECK_WRITES(p, 0, "\"a\\\"\\\\/\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\xc3\xa9\xf0\x9f\x98\x80\"",
                 0);
    mu_pack_str(p, "nul\0in", 6);
    CHECK_WRITES(p, 0, "\"nul\\u0000in\"", 0);
    mu_pack_str(p, "", 0);
    CHECK_WRITES(p, 0, "\"\"", 0);
    mu_pack_destroy(&p);
}

static void
test_from_pack_containers_bin_ext(void)
{
    mu_pack_t *p = mu_pack_new();
    MU_CHECK(p);
    mu_pack_array(p, 0);
    CHECK_WRITES(p, 0, "[]", 0);
    mu_pack_map(p, 0);
    CHECK_WRITES(p, 0, "{}", 0);
    mu_pack_map(p, 2);
    mu_pack_cstr(p, "z");
    mu_pack_array(p, 2);
    mu_pack_int(p, 1);
    mu_pack_map(p, 1);
    mu_pack_cstr(p, "in");
    mu_pack_nil(p);
    mu_pack_cstr(p, "a");
    mu_pack_bin(p, "\x00\xff", 2);
    CHECK_WRITES(p, 0, "{\"z\":[1,{\"in\":null}],\"a\":{\"$bin\":\"AP8=\"}}", 0);
    mu_pack_bin(p, NULL, 0);
    CHECK_WRITES(p, 0, "{\"$bin\":\"\"}", 0);
    mu_pack_ext(p, -1, "\x01\x02\x03\x04", 4);
    CHECK_WRITES(p, 0, "{\"$ext\":-1,\"data\":\"AQIDBA==\"}", 0);
    mu_pack_ext(p, 127, NULL, 0);
    CHECK_WRITES(p, 0, "{\"$ext\":127,\"data\":\"\"}", 0);
    mu_pack_destroy(&p);
}

/*  Values without a JSON form are MU_ETYPE, named by their path. */
static void
test_from_pack_errors(void)
{
    mu_pack_t *p = mu_pack_new();
    MU_CHECK(p);
    mu_pack_double(p, NAN);
    CHECK_WRITES(p, 0, NULL, MU_ETYPE);
    MU_CHECK(strstr(mu_last_error(), "NaN or an infinity at \"\""));
    mu_pack_array(p, 2);
    mu_pack_nil(p);
    mu_pack_float(p, -INFINITY);
    CHECK_WRITES(p, 0, NULL, MU_ETYPE);
    MU_CHECK(strstr(mu_last_error(), "at \"/1\""));
    static const char *const bad_utf8[] = { "\xc0\x80",         "\xed\xa0\x80", "\xe2\x82",
                                            "\xf4\x90\x80\x80", "\xff",         "a\x80",
                                            "\xf0\x8f\xbf\xbf" };
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof *bad_utf8; i++) {
        mu_pack_map(p, 1);
        mu_pack_cstr(p, "k/~");
        mu_pack_cstr(p, bad_utf8[i]);
        CHECK_WRITES(p, 0, NULL, MU_ETYPE);
        MU_CHECK(strstr(mu_last_error(), "a str that is not UTF-8 at \"/k~1~0\""));
    }
    mu_pack_map(p, 1);
    mu_pack_cstr(p, "\xc3");
    mu_pack_nil(p);
    CHECK_WRITES(p, 0, NULL, MU_ETYPE);
    /* a key with a NUL byte: jansson reads none back (found by fuzz_json) */
    mu_pack_map(p, 1);
    mu_pack_str(p, "a\0", 2);
    mu_pack_nil(p);
    CHECK_WRITES(p, 0, NULL, MU_ETYPE);
    MU_CHECK(strstr(mu_last_error(), "NUL byte"));
    /* keys */
    mu_pack_map(p, 1);
    mu_pack_int(p, 7);
    mu_pack_nil(p);
    CHECK_WRITES(p, 0, NULL, MU_ETYPE);
    MU_CHECK(strstr(mu_last_error(), "a map key that is not a str"));
    mu_pack_map(p, 2);
    mu_pack_int(p, 7);
    mu_pack_nil(p);
    mu_pack_uint(p, UINT64_MAX);
    mu_pack_int(p, -2);
    CHECK_WRITES(p, MU_JSON_INT_KEYS, "{\"7\":null,\"18446744073709551615\":-2}", 0);
    mu_pack_map(p, 1);
    mu_pack_bool(p, true);
    mu_pack_nil(p);
    CHECK_WRITES(p, MU_JSON_INT_KEYS, NULL, MU_ETYPE);
    mu_pack_map(p, 2);
    mu_pack_int(p, 1);
    mu_pack_nil(p);
    mu_pack_cstr(p, "1");
    mu_pack_nil(p);
    CHECK_WRITES(p, MU_JSON_INT_KEYS, NULL, MU_ETYPE);
    MU_CHECK(strstr(mu_last_error(), "two keys of the same text"));
    mu_pack_map(p, 3);
    mu_pack_cstr(p, "b");
    mu_pack_nil(p);
    mu_pack_cstr(p, "a");
    mu_pack_nil(p);
    mu_pack_cstr(p, "b");
    mu_pack_nil(p);
    CHECK_WRITES(p, 0, NULL, MU_ETYPE);
    MU_CHECK(strstr(mu_last_error(), "two keys of the same text"));
    /* reserved shapes */
    mu_pack_map(p, 1);
    mu_pack_cstr(p, "$bin");
    mu_pack_cstr(p, "AA==");
    CHECK_WRITES(p, 0, NULL, MU_ETYPE);
    MU_CHECK(strstr(mu_last_error(), "reserved shape"));
    mu_pack_array(p, 1);
    mu_pack_map(p, 2);
    mu_pack_cstr(p, "data");
    mu_pack_nil(p);
    mu_pack_cstr(p, "$ext");
    mu_pack_nil(p);
    CHECK_WRITES(p, 0, NULL, MU_ETYPE);
    MU_CHECK(strstr(mu_last_error(), "reserved shape"));
    mu_pack_map(p, 2);
    mu_pack_cstr(p, "$bin");
    mu_pack_nil(p);
    mu_pack_cstr(p, "$ext");
    mu_pack_nil(p);
    CHECK_WRITES(p, 0, "{\"$bin\":null,\"$ext\":null}", 0);
    /* unknown flags */
    mu_pack_nil(p);
    CHECK_WRITES(p, 0x80, NULL, MU_EINVAL);
    mu_pack_destroy(&p);
}

/*  Bad MessagePack: mu_unpack's codes, its limits apply. */
static void
test_from_pack_bad_input(void)
{
    char *json = (char *) 1;
    size_t size = 99;
    MU_CHECK_EQ(mu_json_from_pack("\xc1", 1, NULL, 0, &json, &size), MU_EPROTO);
    MU_CHECK(json == NULL && size == 0);
    MU_CHECK_EQ(mu_json_from_pack("\x92\x01", 2, NULL, 0, &json, NULL), MU_EPROTO);
    MU_CHECK_EQ(mu_json_from_pack("\x01\x02", 2, NULL, 0, &json, NULL), MU_EPROTO);
    MU_CHECK_EQ(mu_json_from_pack(NULL, 0, NULL, 0, &json, NULL), MU_EPROTO);
    MU_CHECK_EQ(mu_json_from_pack("\xdb\xff\xff\xff\xff", 5, NULL, 0, &json, NULL), MU_EPROTO);
    mu_unpack_limits_t depth1 = { .max_depth = 1 };
    MU_CHECK_EQ(mu_json_from_pack("\x91\x91\x01", 3, &depth1, 0, &json, NULL), MU_ELIMIT);
    MU_CHECK(json == NULL);
    /* a MessagePack depth bomb under the default limits */
    size_t n = 100000;
    uint8_t *bomb = malloc(n + 1);
    MU_CHECK(bomb);
    memset(bomb, 0x91, n);
    bomb[n] = 0xc0;
    MU_CHECK_EQ(mu_json_from_pack(bomb, n + 1, NULL, 0, &json, NULL), MU_ELIMIT);
    free(bomb);
}

/*  mu_json_from_unpacked writes any value of a tree. */
static void
test_from_unpacked(void)
{
    mu_unpacked_t *root = NULL;
    /* {"a": [1, "x"]} */
    MU_CHECK_EQ(mu_unpack("\x81\xa1"
                          "a"
                          "\x92\x01\xa1"
                          "x",
                          7, NULL, &root, NULL),
                0);
    const mu_unpacked_t *a = NULL;
    MU_CHECK_EQ(mu_unpacked_get(root, "a", &a), 0);
    char *json = NULL;
    size_t size = 0;
    MU_CHECK_EQ(mu_json_from_unpacked(a, 0, &json, &size), 0);
    MU_CHECK(strcmp(json, "[1,\"x\"]") == 0 && size == 7);
    free(json);
    MU_CHECK_EQ(mu_json_from_unpacked(root, 0, &json, NULL), 0);
    MU_CHECK(strcmp(json, "{\"a\":[1,\"x\"]}") == 0);
    free(json);
    mu_unpacked_destroy(&root);
}

/* ---- both ways -------------------------------------------------------------------- */

static void
test_round_trips(void)
{
    CHECK_ROUND("null", "null");
    CHECK_ROUND(" [ true , false ] ", "[true,false]");
    CHECK_ROUND("-0", "0");
    CHECK_ROUND("1E2", "100.0");
    CHECK_ROUND("0.1", "0.1");
    CHECK_ROUND("1e-7", "1e-07");
    CHECK_ROUND("5e-324", "4.94065645841247e-324");
    CHECK_ROUND("1.7976931348623157e308", "1.7976931348623157e+308");
    CHECK_ROUND("-9223372036854775808", "-9223372036854775808");
    CHECK_ROUND("\"\\u00e9\\/\\u001F\"", "\"\xc3\xa9/\\u001f\"");
    CHECK_ROUND("{\"$bin\":\"AP8=\"}", "{\"$bin\":\"AP8=\"}");
    CHECK_ROUND("{\"data\":\"AQ==\",\"$ext\":-3}", "{\"$ext\":-3,\"data\":\"AQ==\"}");
    CHECK_ROUND("{\"b\":{\"$bin\":\"\"},\"a\":[{},[],\"\"]}",
                "{\"b\":{\"$bin\":\"\"},\"a\":[{},[],\"\"]}");
    /* one way: a uint above int64, MU_JSON_INT_KEYS */
    char *out = NULL;
    MU_CHECK_EQ(round_trip("18446744073709551615", 0, &out), MU_ELIMIT);
}

/*  Random trees written with mu_pack (every type with a JSON form but
    float32) go to JSON and back to the same bytes. */
static uint64_t s_rng = 0x9e3779b97f4a7c15u;

static uint64_t
rnd(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

static void
random_value(mu_pack_t *p, int depth, unsigned *serial)
{
    static const char *const words[] = { "",       "a",    "\xc3\xa9t\xc3\xa9", "q\"b\\",
                                         "\n\x01", "$bin", "\xf0\x9f\x98\x80",  "data" };
    unsigned kind = (unsigned) (rnd() % (depth > 4 ? 7 : 9));
    switch (kind) {
    case 0:
        mu_pack_nil(p);
        break;
    case 1:
        mu_pack_bool(p, rnd() & 1);
        break;
    case 2:
        mu_pack_int(p, (int64_t) rnd() >> (rnd() % 64));
        break;
    case 3: {
        double d;
        uint64_t bits = rnd();
        memcpy(&d, &bits, sizeof d);
        mu_pack_double(p, isfinite(d) ? d : 0.5);
        break;
    }
    case 4:
        mu_pack_cstr(p, words[rnd() % 8]);
        break;
    case 5: {
        uint8_t bytes[9];
        size_t n = rnd() % 10;
        for (size_t i = 0; i < n; i++)
            bytes[i] = (uint8_t) rnd();
        mu_pack_bin(p, bytes, n);
        break;
    }
    case 6:
        mu_pack_ext(p, (int8_t) rnd(), "xyz", rnd() % 4);
        break;
    case 7: {
        uint32_t n = (uint32_t) (rnd() % 5);
        mu_pack_array(p, n);
        for (uint32_t i = 0; i < n; i++)
            random_value(p, depth + 1, serial);
        break;
    }
    default: {
        uint32_t n = (uint32_t) (rnd() % 5);
        mu_pack_map(p, n);
        for (uint32_t i = 0; i < n; i++) {
            char key[16];
            snprintf(key, sizeof key, "k%u", (*serial)++);
            mu_pack_cstr(p, key);
            random_value(p, depth + 1, serial);
        }
        break;
    }
    }
}

static void
test_random_round_trips(void)
{
    mu_pack_t *p = mu_pack_new(), *back = mu_pack_new();
    MU_CHECK(p && back);
    for (int i = 0; i < 2000; i++) {
        unsigned serial = 0;
        mu_pack_reset(p);
        mu_pack_reset(back);
        random_value(p, 0, &serial);
        size_t size = 0, json_size = 0, size2 = 0;
        const void *bytes = mu_pack_data(p, &size);
        MU_CHECK(bytes);
        char *json = NULL;
        MU_CHECK_EQ(mu_json_from_pack(bytes, size, NULL, 0, &json, &json_size), 0);
        MU_CHECK_EQ(strlen(json), json_size);
        int rc = mu_json_to_pack(json, json_size, NULL, back);
        if (rc != 0)
            printf("# %s: %s\n", json, mu_last_error());
        free(json);
        MU_CHECK_EQ(rc, 0);
        const void *bytes2 = mu_pack_data(back, &size2);
        MU_CHECK(bytes2 && size2 == size && memcmp(bytes, bytes2, size) == 0);
    }
    mu_pack_destroy(&p);
    mu_pack_destroy(&back);
}

static void
s_child_null_writer(const char *arg, int fd)
{
    (void) arg;
    (void) fd;
    if (mu_json_to_pack("1", 1, NULL, NULL) == 0)
        _exit(0);
}

static void
s_child_null_output(const char *arg, int fd)
{
    (void) arg;
    (void) fd;
    if (mu_json_from_pack("\xc0", 1, NULL, 0, NULL, NULL) == 0)
        _exit(0);
}

static void
test_caller_bug_asserts(void)
{
    MU_CHECK(mu_test_child_aborts(s_child_null_writer, NULL));
    MU_CHECK(mu_test_child_aborts(s_child_null_output, NULL));
}

int
main(void)
{
    mu_test_start(60);
    MU_RUN(test_to_pack_scalars);
    MU_RUN(test_to_pack_containers);
    MU_RUN(test_to_pack_bin_ext);
    MU_RUN(test_to_pack_reserved_errors);
    MU_RUN(test_to_pack_malformed);
    MU_RUN(test_to_pack_numbers_beyond_64_bits);
    MU_RUN(test_to_pack_limits);
    MU_RUN(test_to_pack_depth_bombs);
    MU_RUN(test_to_pack_writer_state);
    MU_RUN(test_from_pack_scalars);
    MU_RUN(test_from_pack_containers_bin_ext);
    MU_RUN(test_from_pack_errors);
    MU_RUN(test_from_pack_bad_input);
    MU_RUN(test_from_unpacked);
    MU_RUN(test_round_trips);
    MU_RUN(test_random_round_trips);
    MU_RUN(test_caller_bug_asserts);
    MU_DONE();
}
