# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.sigv4: AWS Signature Version 4 (mu_sigv4.h, doc/sigv4.md).

    sig = mutil.sigv4.sign('GET', '/', headers={'Host': 'example.amazonaws.com'},
                           region='us-east-1', service='s3',
                           access_key=AK, secret_key=SK)
    headers.update(sig.add_headers)          # X-Amz-Date, token, content hash
    headers['Authorization'] = sig.authorization
    url = base + '/?' + mutil.sigv4.sign(..., presign=3600).query

Errors: mutil.InvalidError (ValueError) naming the bad field.
"""
import collections

from ._lib import check, ffi, lib, to_bytes, to_cstr

Signature = collections.namedtuple(
    'Signature', 'canonical_request string_to_sign signed_headers scope payload_hash '
    'authorization query amz_date signature add_headers')


def _text(p):
    return None if p == ffi.NULL else ffi.string(p).decode('utf-8')


def sign(method, path='/', query='', headers=(), payload=b'', *, region, service, access_key,
         secret_key, session_token=None, time=0, payload_hash=None, s3=False,
         no_normalize=False, content_sha256=False, token_unsigned=False, presign=None):
    """Signs a request; returns a Signature. headers: a dict or (name,
    value) pairs, all signed. time: Unix seconds (0: now). presign: seconds
    (1..604800) for the query form (Signature.query), else the
    Authorization form. s3 sets no_normalize and content_sha256."""
    keep = []

    def c(text, what):
        if text is None:
            return ffi.NULL
        b = ffi.new('char[]', to_cstr(text, what))
        keep.append(b)
        return b

    pairs = list(headers.items() if isinstance(headers, dict) else headers)
    harr = ffi.new('mu_sigv4_header_t[]', max(len(pairs), 1))
    for i, (name, value) in enumerate(pairs):
        harr[i].name = c(name, 'header name')
        harr[i].value = c(value, 'header value')
    body = bytes(to_bytes(payload, 'payload'))
    req = ffi.new('mu_sigv4_request_t *')
    req.method, req.path, req.query = c(method, 'method'), c(path, 'path'), c(query, 'query')
    req.headers, req.n_headers = harr, len(pairs)
    req.payload, req.payload_len = (ffi.from_buffer(body) if body else ffi.NULL), len(body)
    req.payload_hash = c(payload_hash, 'payload_hash')
    req.region, req.service = c(region, 'region'), c(service, 'service')
    req.access_key, req.secret_key = c(access_key, 'access_key'), c(secret_key, 'secret_key')
    req.session_token = c(session_token, 'session_token')
    req.time = int(time)
    req.flags = ((lib.MU_SIGV4_NO_NORMALIZE if no_normalize or s3 else 0)
                 | (lib.MU_SIGV4_CONTENT_SHA256 if content_sha256 or s3 else 0)
                 | (lib.MU_SIGV4_TOKEN_UNSIGNED if token_unsigned else 0))
    out = ffi.new('mu_sigv4_t *')
    if presign is None:
        check(lib.mu_sigv4_sign(req, out))
    else:
        check(lib.mu_sigv4_presign(req, int(presign), out))
    try:
        add = {}
        if out.add_date != ffi.NULL:
            add['X-Amz-Date'] = _text(out.add_date)
        if out.add_token != ffi.NULL:
            add['X-Amz-Security-Token'] = _text(out.add_token)
        if out.add_content_sha256 != ffi.NULL:
            add['x-amz-content-sha256'] = _text(out.add_content_sha256)
        return Signature(_text(out.canonical_request), _text(out.string_to_sign),
                         _text(out.signed_headers), _text(out.scope), _text(out.payload_hash),
                         _text(out.authorization), _text(out.query),
                         ffi.string(out.amz_date).decode(), ffi.string(out.signature).decode(),
                         add)
    finally:
        lib.mu_sigv4_clear(out)
