/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_json.h — JSON <-> MessagePack, so that JSON clients and the stages
    that speak MessagePack (mu_pack) meet.

    JSON -> MessagePack (mu_json_to_pack) parses one JSON text (RFC 8259,
    strict: jansson) and appends the value to a mu_pack_t writer.
    MessagePack -> JSON (mu_json_from_pack, mu_json_from_unpacked) writes
    one value as compact JSON text (no spaces, no newline). Neither recurses
    on the nesting of its input: both walk with a heap stack bounded by the
    depth limit. Why jansson, the comparison with json-c and the figures:
    doc/json.md.

    The mapping, both ways unless said:
      null                  nil
      true, false           bool
      integer (no '.', no exponent), -2^63 .. 2^63-1
                            int, shortest form; "-0" is the integer 0
      integer beyond int64  JSON -> MessagePack: MU_ELIMIT (jansson holds
                            integers as int64). MessagePack -> JSON: a uint
                            above 2^63-1 is written exactly (one way)
      number with '.' or exponent
                            float64; a number beyond the range of double is
                            MU_ELIMIT. Written back with at most 17
                            significant digits and always a '.' or an
                            exponent, so it reads back as the same float64.
                            A float32 is written with the fewest digits that
                            read back as the same float32 (and comes back
                            as a float64)
      NaN, Infinity         not JSON: MU_EPROTO in JSON text, MU_ETYPE for a
                            MessagePack float
      string                str. Must be valid UTF-8 both ways: malformed
                            UTF-8 in JSON is MU_EPROTO, a str that is not
                            UTF-8 is MU_ETYPE (use bin for bytes). \u0000 is
                            allowed in values, not in object keys (jansson)
      array                 array
      object                map, in document order. JSON -> MessagePack: a
                            key given twice is MU_EPROTO. MessagePack ->
                            JSON: keys must be str without NUL bytes
                            (MU_ETYPE otherwise; with MU_JSON_INT_KEYS
                            integer keys are written as their decimal text,
                            one way), and two keys with the same text are
                            MU_ETYPE
      {"$bin": "B64"}       bin: an object whose only key is "$bin" and
                            whose value is standard base64 with padding
                            (RFC 4648 section 4)
      {"$ext": T, "data": "B64"}
                            ext: an object with exactly these two keys, T
                            an integer -128..127
    The objects of the last two rows are reserved: in JSON, such an object
    whose values are not as shown is MU_ETYPE; a MessagePack map of that
    shape (one str key "$bin", or exactly the keys "$ext" and "data") is
    MU_ETYPE when written as JSON, since it would read back as bin or ext.
    With these rules every MessagePack value that has a JSON form reads back
    as the same value, except a uint above 2^63-1 (MU_ELIMIT), a float32 (a
    float64 then) and MU_JSON_INT_KEYS keys (str then).

    Limits. mu_json_to_pack takes mu_unpack_limits_t (mu_pack.h) with the
    same defaults: max_size the JSON text's bytes, max_depth nested arrays
    and objects (a reserved object counts as a scalar), max_count items of
    an array or members of an object, max_bytes the bytes of one string,
    or of one bin or ext payload after base64, max_values every value,
    keys included. jansson itself refuses nesting deeper than 2048
    (MU_ELIMIT, whatever max_depth says) and holds the whole parsed text in
    memory (several times the text's size) before the limits other than
    max_size are checked. mu_json_from_pack decodes
    with mu_unpack under the limits given.

    Errors: MU_EPROTO for JSON that is not well formed (mu_last_error() says
    where: line, column and byte offset, and what jansson found) and for
    MessagePack that mu_unpack refuses; MU_ELIMIT past a limit or for a
    number out of range; MU_ETYPE for a value that has no form on the other
    side (the detail names it by its JSON Pointer path, e.g. "/a/3");
    MU_ENOMEM. Caller bugs (NULL pointers where values are required) are
    assertions. Failures are recorded for mu_last_code / mu_last_error. */
#ifndef MU_JSON_H_INCLUDED
#define MU_JSON_H_INCLUDED

#include <stddef.h>
#include "mu_defs.h"
#include "mu_error.h"
#include "mu_pack.h"

#ifdef __cplusplus
extern "C" {
#endif

/*  Flags of mu_json_from_pack and mu_json_from_unpacked. */
#define MU_JSON_INT_KEYS 0x1u /* integer map keys written as their decimal text */

/*  Parses the JSON text of size bytes at json (NUL not needed; json may be
    NULL when size is 0, which is MU_EPROTO: no value) within limits (NULL:
    the defaults of mu_pack.h) and appends its value to out (not NULL). The
    text must hold exactly one JSON value of any type, with optional
    whitespace around it. Returns 0, or MU_EPROTO (not well-formed JSON,
    including malformed UTF-8, a duplicate key, NaN, nothing or something
    after the value), MU_ELIMIT (a limit; an integer beyond int64, a real
    beyond double), MU_ETYPE (a reserved "$bin" / "$ext" object that is not
    as mu_json.h's summary shows), MU_ENOMEM; or the sticky error out
    already had. On any failure but MU_ENOMEM nothing is appended to out;
    after MU_ENOMEM out holds the sticky error (see mu_pack_data). */
MU_EXPORT MU_NODISCARD int mu_json_to_pack(const char *json, size_t size,
                                           const mu_unpack_limits_t *limits, mu_pack_t *out);

/*  Decodes the one MessagePack value of size bytes at data with mu_unpack
    (limits: NULL for the defaults) and writes it as compact JSON text into
    a new buffer: *json_p gets it (NUL-terminated, free with free()) and
    *size_p its length without the NUL (size_p may be NULL). flags: 0 or
    MU_JSON_INT_KEYS. Returns 0, or MU_EPROTO (malformed MessagePack, as
    mu_unpack), MU_ELIMIT (mu_unpack's limits), MU_ETYPE (a value without a
    JSON form: a str that is not UTF-8, NaN or an infinity, a map key that
    is not a str or holds a NUL byte, keys with the same text, a map of a
    reserved shape),
    MU_EINVAL (unknown flags), MU_ENOMEM. On failure *json_p is NULL and
    *size_p 0. */
MU_EXPORT MU_NODISCARD int mu_json_from_pack(const void *data, size_t size,
                                             const mu_unpack_limits_t *limits, unsigned flags,
                                             char **json_p, size_t *size_p);

/*  Like mu_json_from_pack for a value already decoded (a root from
    mu_unpack or any value inside it). Returns 0, MU_ETYPE, MU_EINVAL or
    MU_ENOMEM as mu_json_from_pack. */
MU_EXPORT MU_NODISCARD int mu_json_from_unpacked(const mu_unpacked_t *value, unsigned flags,
                                                 char **json_p, size_t *size_p);

#ifdef __cplusplus
}
#endif
#endif
