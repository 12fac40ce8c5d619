/* SPDX-License-Identifier: MPL-2.0
   Copyright (c) 2026 the mutil authors */
/*  mu_pack.h — structured messages in MessagePack.

    Writing. A mu_pack_t appends values to a growing buffer with msgpack-c's
    packer, always in the shortest wire form. Arrays and maps are written as a
    header that announces the number of items (mu_pack_array) or key/value
    pairs (mu_pack_map), followed by that many values (pairs: key, then
    value). The writer counts what the headers announced: mu_pack_data refuses
    to hand out a message whose arrays or maps are not yet filled. Errors are
    sticky: after a failed call every later call returns the same code and
    writes nothing, so a sequence of calls can be checked once, at
    mu_pack_data. A writer belongs to one thread at a time.

    Reading. mu_unpack decodes bytes from anywhere, including an untrusted
    peer, into a tree of values (mu_unpacked_t) that the caller walks with the
    accessors below. It checks every declared length against the bytes that
    are left before it allocates anything and enforces the limits of
    mu_unpack_limits_t. The tree is one allocation that holds copies of the
    str/bin/ext payloads (each followed by a NUL byte), so it never refers to
    the caller's buffer: the input may be freed or reused as soon as
    mu_unpack returns. A decoded tree is never modified, so several threads
    may read it at once. Design and memory figures: doc/pack.md.

    Wire types. Every MessagePack format is accepted: nil, false, true, all
    integer forms (positive and negative fixint, uint8..64, int8..64), float32
    and float64, fixstr/str8/16/32, bin8/16/32, fixarray/array16/32,
    fixmap/map16/32, and the extension formats fixext1..16/ext8/16/32, which
    are exposed as MU_PACK_EXT values (a signed type byte and the payload; the
    timestamp extension, type -1, is not interpreted). The byte 0xc1, never
    used by MessagePack, is MU_EPROTO. Strings are handed out as received:
    their UTF-8 is not checked. Integers are one type, MU_PACK_INT, whatever
    the wire form (a non-negative value sent as int8..64 reads like the same
    value sent as uint); float32 and float64 are both MU_PACK_FLOAT.

    Errors of mu_unpack: MU_EPROTO for malformed or truncated input, for a
    declared length or count larger than what is left of the input, and for
    bytes left after the one top-level value (unless the caller asks for the
    number of bytes used, see mu_unpack); MU_ELIMIT when the input goes past
    a limit; MU_ENOMEM. Accessors return
    MU_ETYPE when the value has another type than the accessor reads, or when
    an integer does not fit the C type requested (UINT64_MAX read as int64_t,
    -1 read as uint64_t). Caller bugs (a NULL writer, tree, value or output
    pointer where one is required) are assertions, not codes.

    A failing append and a failing mu_unpack also record their code and a
    message for the calling thread (mu_last_code, mu_last_error); accessors
    only return their code (a miss is an ordinary answer for them). */
#ifndef MU_PACK_H_INCLUDED
#define MU_PACK_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mu_defs.h"
#include "mu_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*  ---- writing ------------------------------------------------------------ */

typedef struct mu_pack_t mu_pack_t;

/*  Creates an empty writer. Returns NULL with errno ENOMEM on failure.
    Destroy with mu_pack_destroy. */
MU_EXPORT MU_NODISCARD mu_pack_t *mu_pack_new(void);

/*  Destroys the writer and its buffer and sets *self_p to NULL; accepts NULL
    and *self_p NULL. Pointers from mu_pack_data become invalid. */
MU_EXPORT void mu_pack_destroy(mu_pack_t **self_p);

/*  Each of the following appends one value to self (not NULL, asserted) and
    returns 0, or MU_ENOMEM, MU_EINVAL (a NULL pointer with a length > 0) or
    MU_EMSGSIZE (a str, bin or ext longer than MessagePack allows, 2^32 - 1
    bytes). On failure nothing is appended and the error stays (see
    mu_pack_data) until mu_pack_reset. Because errors are sticky, these
    results may be ignored and the sequence checked once at mu_pack_data
    (which is MU_NODISCARD); that is why the appends are not MU_NODISCARD. */

/*  Appends nil. */
MU_EXPORT int mu_pack_nil(mu_pack_t *self);

/*  Appends true or false. */
MU_EXPORT int mu_pack_bool(mu_pack_t *self, bool value);

/*  Appends a signed integer in its shortest form (INT64_MIN..INT64_MAX). */
MU_EXPORT int mu_pack_int(mu_pack_t *self, int64_t value);

/*  Appends an unsigned integer in its shortest form (0..UINT64_MAX). */
MU_EXPORT int mu_pack_uint(mu_pack_t *self, uint64_t value);

/*  Appends a float32. */
MU_EXPORT int mu_pack_float(mu_pack_t *self, float value);

/*  Appends a float64. */
MU_EXPORT int mu_pack_double(mu_pack_t *self, double value);

/*  Appends a str of len bytes copied from str (which may be NULL when len
    is 0). The bytes should be UTF-8; they are not checked. */
MU_EXPORT int mu_pack_str(mu_pack_t *self, const char *str, size_t len);

/*  Appends the NUL-terminated string str as a str; MU_EINVAL if str is NULL. */
MU_EXPORT int mu_pack_cstr(mu_pack_t *self, const char *str);

/*  Appends a bin of len bytes copied from data (NULL allowed when len is 0). */
MU_EXPORT int mu_pack_bin(mu_pack_t *self, const void *data, size_t len);

/*  Appends an extension value: an application-defined type (0..127; negative
    types are reserved by MessagePack, -1 is the timestamp) and len bytes
    copied from data (NULL allowed when len is 0). */
MU_EXPORT int mu_pack_ext(mu_pack_t *self, int8_t type, const void *data, size_t len);

/*  Appends the header of an array of count items; the next count values
    appended are its items. */
MU_EXPORT int mu_pack_array(mu_pack_t *self, uint32_t count);

/*  Appends the header of a map of count pairs; the next 2 * count values
    appended are its keys and values, alternately (key first). Keys may be of
    any type, but mu_unpacked_get finds only str keys. */
MU_EXPORT int mu_pack_map(mu_pack_t *self, uint32_t count);

/*  Returns the bytes written since creation or the last reset and stores
    their number in *size_p (size_p may be NULL). The pointer stays valid
    until the next append, reset or destroy; the writer keeps ownership. The
    buffer may hold several top-level values one after another. Returns NULL
    (with *size_p 0) and sets errno when an append has failed since the last
    reset (errno is the positive form of that call's code: ENOMEM, EINVAL,
    EMSGSIZE) or when an array or map still waits for items (EINVAL; append
    them and call again). With nothing written, returns a valid pointer and
    size 0. */
MU_EXPORT MU_NODISCARD const void *mu_pack_data(const mu_pack_t *self, size_t *size_p);

/*  Empties the writer and clears a sticky error, keeping the allocated
    buffer for the next message. Accepts NULL. */
MU_EXPORT void mu_pack_reset(mu_pack_t *self);

/*  ---- reading ------------------------------------------------------------ */

/*  Type of a decoded value. */
typedef enum {
    MU_PACK_NONE = 0, /* only from mu_unpacked_type(NULL) */
    MU_PACK_NIL = 1,
    MU_PACK_BOOL = 2,
    MU_PACK_INT = 3,   /* signed or unsigned, any width */
    MU_PACK_FLOAT = 4, /* float32 or float64 */
    MU_PACK_STR = 5,
    MU_PACK_BIN = 6,
    MU_PACK_ARRAY = 7,
    MU_PACK_MAP = 8,
    MU_PACK_EXT = 9
} mu_pack_type_t;

/*  One decoded value. The one mu_unpack returns is the root: it owns the
    whole tree and is freed with mu_unpacked_destroy. The values reached from
    it through accessors are const views into the same tree, valid until the
    root is destroyed; never destroy them. */
typedef struct mu_unpacked_t mu_unpacked_t;

#define MU_UNPACK_MAX_SIZE_DEFAULT (64u * 1024 * 1024)  /* input bytes */
#define MU_UNPACK_MAX_DEPTH_DEFAULT 64u                 /* nested arrays/maps */
#define MU_UNPACK_MAX_COUNT_DEFAULT (1024u * 1024)      /* items of one array, pairs of one map */
#define MU_UNPACK_MAX_BYTES_DEFAULT (64u * 1024 * 1024) /* bytes of one str, bin or ext */
#define MU_UNPACK_MAX_VALUES_DEFAULT (4u * 1024 * 1024) /* values in one message */

/*  Limits for mu_unpack. A field left 0 takes its default; SIZE_MAX lifts a
    limit (the input length still bounds everything). Going past any limit is
    MU_ELIMIT. Initialise with designated initialisers so that unnamed fields
    are 0:  mu_unpack_limits_t limits = { .max_depth = 8 };
      max_size    input bytes (with used_p, bytes of the first value)
      max_depth   arrays and maps nested in one another: a scalar has depth 0,
                  [] and [1] depth 1, [[]] depth 2
      max_count   items of one array, or pairs of one map
      max_bytes   payload bytes of one str, bin or ext
      max_values  values in the whole message, counting every array, map,
                  key, item and scalar (the tree takes 16 bytes per value) */
typedef struct {
    size_t max_size;
    size_t max_depth;
    size_t max_count;
    size_t max_bytes;
    size_t max_values;
} mu_unpack_limits_t;

/*  Decodes one MessagePack value from the size bytes at data, within limits
    (NULL: all defaults), and stores the root of the decoded tree in *root_p.

    used_p NULL: the input must be exactly one value; bytes after it are
    MU_EPROTO, and an input longer than max_size is MU_ELIMIT. used_p not
    NULL: decoding stops after the first complete value and *used_p gets the
    number of bytes it took, so a buffer of several values is read by calling
    again at data + *used_p; only the first value must fit in max_size.

    Returns 0, or MU_EPROTO (malformed, truncated, 0xc1, a length or count
    larger than the rest of the input, trailing bytes), MU_ELIMIT (a limit
    was exceeded), MU_ENOMEM. root_p NULL, or data NULL with size > 0, is
    asserted. On failure *root_p is NULL and *used_p is 0. Nothing is
    allocated for a declared length before the bytes behind it are known to
    be there. The caller owns the tree: free it with mu_unpacked_destroy. */
MU_EXPORT MU_NODISCARD int mu_unpack(const void *data, size_t size,
                                     const mu_unpack_limits_t *limits, mu_unpacked_t **root_p,
                                     size_t *used_p);

/*  Frees a tree returned by mu_unpack and sets *root_p to NULL; accepts NULL
    and *root_p NULL. Every value and pointer taken from the tree becomes
    invalid. */
MU_EXPORT void mu_unpacked_destroy(mu_unpacked_t **root_p);

/*  Returns the type of a value, or MU_PACK_NONE for NULL. */
MU_EXPORT mu_pack_type_t mu_unpacked_type(const mu_unpacked_t *value);

/*  The accessors below return 0 and fill their outputs, or MU_ETYPE
    (another type, or an integer out of the range of the C type). value and
    the required output pointers must not be NULL (asserted). On failure
    outputs are left unchanged. */

/*  Reads a bool into *out. */
MU_EXPORT MU_NODISCARD int mu_unpacked_bool(const mu_unpacked_t *value, bool *out);

/*  Reads an integer that fits int64_t into *out (MU_ETYPE above INT64_MAX). */
MU_EXPORT MU_NODISCARD int mu_unpacked_int(const mu_unpacked_t *value, int64_t *out);

/*  Reads a non-negative integer into *out (MU_ETYPE for a negative one). */
MU_EXPORT MU_NODISCARD int mu_unpacked_uint(const mu_unpacked_t *value, uint64_t *out);

/*  Reads a float32 or float64 into *out. Integers are MU_ETYPE: convert
    them yourself if your protocol allows either. */
MU_EXPORT MU_NODISCARD int mu_unpacked_double(const mu_unpacked_t *value, double *out);

/*  Points *str_p at the bytes of a str and stores their number in *len_p
    (len_p may be NULL). The bytes are followed by a NUL, so *str_p is a C
    string when the str holds no NUL itself; never NULL, even when empty.
    Valid until the tree is destroyed. */
MU_EXPORT MU_NODISCARD int mu_unpacked_str(const mu_unpacked_t *value, const char **str_p,
                                           size_t *len_p);

/*  Points *data_p at the bytes of a bin and stores their number in *len_p
    (len_p may be NULL); never NULL, even when empty. Valid until the tree is
    destroyed. */
MU_EXPORT MU_NODISCARD int mu_unpacked_bin(const mu_unpacked_t *value, const void **data_p,
                                           size_t *len_p);

/*  Reads an extension value: *type_p gets its type byte, *data_p its
    payload and *len_p the payload length (type_p and len_p may be NULL);
    never NULL, even when empty. Valid until the tree is destroyed. */
MU_EXPORT MU_NODISCARD int mu_unpacked_ext(const mu_unpacked_t *value, int8_t *type_p,
                                           const void **data_p, size_t *len_p);

/*  Stores the number of items of an array in *count_p. */
MU_EXPORT MU_NODISCARD int mu_unpacked_array(const mu_unpacked_t *value, size_t *count_p);

/*  Stores the number of key/value pairs of a map in *count_p. */
MU_EXPORT MU_NODISCARD int mu_unpacked_map(const mu_unpacked_t *value, size_t *count_p);

/*  Points *item_p at item index (from 0) of an array. Returns MU_ENOENT when
    index is not below the item count. */
MU_EXPORT MU_NODISCARD int mu_unpacked_at(const mu_unpacked_t *array, size_t index,
                                          const mu_unpacked_t **item_p);

/*  Points *key_p and *value_p at pair index (from 0) of a map, in wire
    order; either pointer may be NULL. Returns MU_ENOENT when index is not
    below the pair count. */
MU_EXPORT MU_NODISCARD int mu_unpacked_entry(const mu_unpacked_t *map, size_t index,
                                             const mu_unpacked_t **key_p,
                                             const mu_unpacked_t **value_p);

/*  Finds the value of the first pair of a map whose key is a str equal to
    the NUL-terminated key, and points *value_p at it. Keys of other types
    are skipped; when a peer sends a key twice, the first one wins. Returns
    MU_ENOENT when there is no such key. Linear in the size of the map. */
MU_EXPORT MU_NODISCARD int mu_unpacked_get(const mu_unpacked_t *map, const char *key,
                                           const mu_unpacked_t **value_p);

#ifdef __cplusplus
}
#endif
#endif
