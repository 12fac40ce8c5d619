# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""MessagePack values as Python objects, through libmutil's own codec
(mu_pack / mu_unpack), so Python and C agree on every byte and untrusted
input meets the same bounded reader.

Python -> MessagePack: None, bool, int (-2**63 .. 2**64-1), float (float64),
str (UTF-8), bytes/bytearray/memoryview (bin), list/tuple (array), dict
(map), Ext (extension). MessagePack -> Python: the same, arrays as lists;
a str that is not valid UTF-8 is decoded with 'surrogateescape' (nothing is
lost: encoding it again gives the same bytes); an array or map used as a map
key becomes a tuple (or a tuple of pairs) so it can be a dict key.

JSON <-> MessagePack (json_to_packb, packb_to_json) goes through libmutil's
mu_json, with the mapping of mu_json.h and doc/json.md (bin as
{"$bin": base64}, ext as {"$ext": type, "data": base64}).
"""
from collections import namedtuple

from ._lib import check, ffi, lib, take_malloced, to_bytes

Ext = namedtuple('Ext', 'type data')
Ext.__doc__ = 'A MessagePack extension value: type (-128..127) and data (bytes).'

_INT64_MIN, _UINT64_MAX = -2**63, 2**64 - 1
_MAX_NESTING = 512  # Python recursion guard for packb


def _pack_value(w, value, depth):
    if depth > _MAX_NESTING:
        raise ValueError('packb: nesting deeper than %d' % _MAX_NESTING)
    if value is None:
        lib.mu_pack_nil(w)
    elif value is True or value is False:
        lib.mu_pack_bool(w, value)
    elif isinstance(value, int):
        if value < 0:
            if value < _INT64_MIN:
                raise OverflowError('packb: %d is below -2**63' % value)
            lib.mu_pack_int(w, value)
        else:
            if value > _UINT64_MAX:
                raise OverflowError('packb: %d is above 2**64-1' % value)
            lib.mu_pack_uint(w, value)
    elif isinstance(value, float):
        lib.mu_pack_double(w, value)
    elif isinstance(value, str):
        data = value.encode('utf-8', 'surrogateescape')
        lib.mu_pack_str(w, data, len(data))
    elif isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        lib.mu_pack_bin(w, data, len(data))
    elif isinstance(value, Ext):
        if not -128 <= value.type <= 127:
            raise ValueError('packb: Ext type must be -128..127')
        data = bytes(value.data)
        lib.mu_pack_ext(w, value.type, data, len(data))
    elif isinstance(value, (list, tuple)):
        lib.mu_pack_array(w, len(value))
        for item in value:
            _pack_value(w, item, depth + 1)
    elif isinstance(value, dict):
        lib.mu_pack_map(w, len(value))
        for key, item in value.items():
            _pack_value(w, key, depth + 1)
            _pack_value(w, item, depth + 1)
    else:
        raise TypeError('packb: cannot encode %s' % type(value).__name__)


def packb(value):
    """Encodes value as MessagePack bytes (shortest forms). Raises TypeError
    for a type it cannot encode, OverflowError for an int out of range,
    mutil.ProtocolError for a str/bin over 4 GiB."""
    w = ffi.gc(lib.mu_pack_new(), lambda p: lib.mu_pack_destroy(ffi.new('mu_pack_t **', p)))
    if w == ffi.NULL:
        raise MemoryError('mu_pack_new')
    _pack_value(w, value, 0)
    size = ffi.new('size_t *')
    data = lib.mu_pack_data(w, size)
    if data == ffi.NULL:
        check(-ffi.errno)
    return ffi.unpack(ffi.cast('const char *', data), size[0])


def _hashable(value):
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple((_hashable(k), _hashable(v)) for k, v in value.items())
    return value


def _unpack_value(v):
    kind = lib.mu_unpacked_type(v)
    if kind == lib.MU_PACK_NIL:
        return None
    if kind == lib.MU_PACK_BOOL:
        out = ffi.new('bool *')
        check(lib.mu_unpacked_bool(v, out))
        return bool(out[0])
    if kind == lib.MU_PACK_INT:
        out = ffi.new('int64_t *')
        if lib.mu_unpacked_int(v, out) == 0:
            return out[0]
        big = ffi.new('uint64_t *')
        check(lib.mu_unpacked_uint(v, big))
        return big[0]
    if kind == lib.MU_PACK_FLOAT:
        out = ffi.new('double *')
        check(lib.mu_unpacked_double(v, out))
        return out[0]
    if kind in (lib.MU_PACK_STR, lib.MU_PACK_BIN, lib.MU_PACK_EXT):
        return _unpack_bytes(v, kind)
    count = ffi.new('size_t *')
    item = ffi.new('const mu_unpacked_t **')
    if kind == lib.MU_PACK_ARRAY:
        check(lib.mu_unpacked_array(v, count))
        out = []
        for i in range(count[0]):
            check(lib.mu_unpacked_at(v, i, item))
            out.append(_unpack_value(item[0]))
        return out
    check(lib.mu_unpacked_map(v, count))
    key = ffi.new('const mu_unpacked_t **')
    out = {}
    for i in range(count[0]):
        check(lib.mu_unpacked_entry(v, i, key, item))
        out[_hashable(_unpack_value(key[0]))] = _unpack_value(item[0])
    return out


def _unpack_bytes(v, kind):
    ptr = ffi.new('const void **')
    size = ffi.new('size_t *')
    if kind == lib.MU_PACK_STR:
        check(lib.mu_unpacked_str(v, ffi.cast('const char **', ptr), size))
        return ffi.unpack(ffi.cast('const char *', ptr[0]), size[0]).decode(
            'utf-8', 'surrogateescape')
    if kind == lib.MU_PACK_BIN:
        check(lib.mu_unpacked_bin(v, ptr, size))
        return ffi.unpack(ffi.cast('const char *', ptr[0]), size[0])
    ext_type = ffi.new('int8_t *')
    check(lib.mu_unpacked_ext(v, ext_type, ptr, size))
    return Ext(ext_type[0], ffi.unpack(ffi.cast('const char *', ptr[0]), size[0]))


def unpackb(data, *, max_depth=0, max_count=0, max_bytes=0, max_values=0, max_size=0):
    """Decodes exactly one MessagePack value from data (bytes-like). Limits
    as in mu_unpack_limits_t (0: the C default). Raises mutil.ProtocolError
    for malformed, truncated or trailing input and for input over a limit."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError('unpackb: data must be bytes-like, not %s' % type(data).__name__)
    data = to_bytes(data)
    limits = ffi.new('mu_unpack_limits_t *', {
        'max_size': max_size, 'max_depth': max_depth, 'max_count': max_count,
        'max_bytes': max_bytes, 'max_values': max_values})
    root = ffi.new('mu_unpacked_t **')
    check(lib.mu_unpack(data, len(data), limits, root, ffi.NULL))
    try:
        return _unpack_value(root[0])
    finally:
        lib.mu_unpacked_destroy(root)


def _limits(max_depth, max_count, max_bytes, max_values, max_size):
    return ffi.new('mu_unpack_limits_t *', {
        'max_size': max_size, 'max_depth': max_depth, 'max_count': max_count,
        'max_bytes': max_bytes, 'max_values': max_values})


def json_to_packb(text, *, max_depth=0, max_count=0, max_bytes=0, max_values=0, max_size=0):
    """Converts one JSON text (str, or bytes-like holding UTF-8) to MessagePack
    bytes with libmutil's mu_json_to_pack: strict RFC 8259 JSON; integers
    must fit int64, {"$bin": base64} gives a bin, {"$ext": type, "data":
    base64} an ext. Limits as in mu_unpack_limits_t (0: the C default).
    Raises mutil.ProtocolError for malformed JSON (the message says the line
    and column), a duplicate key, NaN, an integer beyond int64 or input over
    a limit; mutil.InvalidError for a malformed "$bin" / "$ext" object."""
    data = to_bytes(text, 'text')
    w = ffi.gc(lib.mu_pack_new(), lambda p: lib.mu_pack_destroy(ffi.new('mu_pack_t **', p)))
    if w == ffi.NULL:
        raise MemoryError('mu_pack_new')
    check(lib.mu_json_to_pack(data, len(data),
                              _limits(max_depth, max_count, max_bytes, max_values, max_size), w))
    size = ffi.new('size_t *')
    out = lib.mu_pack_data(w, size)
    if out == ffi.NULL:
        check(-ffi.errno)
    return ffi.unpack(ffi.cast('const char *', out), size[0])


def packb_to_json(data, *, int_keys=False, max_depth=0, max_count=0, max_bytes=0,
                  max_values=0, max_size=0):
    """Converts one MessagePack value (bytes-like) to compact JSON text (str)
    with libmutil's mu_json_from_pack. int_keys writes integer map keys as
    their decimal text (MU_JSON_INT_KEYS); otherwise only str keys have a
    JSON form. Raises mutil.ProtocolError for malformed MessagePack or input
    over a limit, mutil.InvalidError for a value without a JSON form (a str
    that is not UTF-8, NaN or an infinity, a key that is not a str, two
    keys of the same text, a map shaped like {"$bin"} or {"$ext", "data"})."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError('packb_to_json: data must be bytes-like, not %s' % type(data).__name__)
    data = to_bytes(data)
    out = ffi.new('char **')
    size = ffi.new('size_t *')
    check(lib.mu_json_from_pack(data, len(data),
                                _limits(max_depth, max_count, max_bytes, max_values, max_size),
                                lib.MU_JSON_INT_KEYS if int_keys else 0, out, size))
    return take_malloced(out[0], size[0]).decode('utf-8')
