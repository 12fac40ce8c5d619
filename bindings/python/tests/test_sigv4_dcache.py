# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.sigv4 against AWS's published SigV4 test suite (get-vanilla,
post-x-www-form-urlencoded, a session token, the presigned form), and
mutil.DCache: set/get/delete, persistence, the size cap, a corrupt file, a
refused fetch."""
import socket

import pytest

import mutil

CREDS = dict(region='us-east-1', service='service', access_key='AKIDEXAMPLE',
             secret_key='wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', time=1440938160)
HOST = {'Host': 'example.amazonaws.com'}


def test_sigv4_get_vanilla():
    sig = mutil.sigv4.sign('GET', '/', headers=HOST, **CREDS)
    assert sig.signature == '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'
    assert sig.add_headers == {'X-Amz-Date': '20150830T123600Z'}
    assert sig.signed_headers == 'host;x-amz-date'
    assert sig.authorization.startswith(
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ')
    assert sig.canonical_request.splitlines()[:2] == ['GET', '/']


def test_sigv4_post_form_and_token_and_presign():
    sig = mutil.sigv4.sign('POST', '/', headers=[
        ('Content-Type', 'application/x-www-form-urlencoded'), ('Host', 'example.amazonaws.com'),
        ('X-Amz-Date', '20150830T123600Z')], payload=b'Param1=value1', **CREDS)
    assert sig.signature == 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a'
    assert sig.add_headers == {}
    token = '6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267'
    sig = mutil.sigv4.sign('GET', '/', headers=HOST, session_token=token, **CREDS)
    assert sig.signature == '07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8'
    assert sig.add_headers['X-Amz-Security-Token'] == token
    sig = mutil.sigv4.sign('GET', '/', headers=HOST, presign=3600, **CREDS)
    assert sig.signature == 'e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d'
    assert sig.query.endswith('&X-Amz-Signature=' + sig.signature) and sig.authorization is None


def test_sigv4_errors():
    with pytest.raises(mutil.InvalidError, match='region'):
        mutil.sigv4.sign('GET', '/', headers=HOST, **dict(CREDS, region='a/b'))
    with pytest.raises(mutil.InvalidError, match='path'):
        mutil.sigv4.sign('GET', 'relative', **CREDS)


def test_dcache_set_get_persist_cap(tmp_path):
    path = str(tmp_path / 'c.db')
    with mutil.DCache(path, max_bytes=40) as cache:
        for k in 'abcd':
            cache.set(k, b'123456789', ttl=600)
        assert cache.get('a') == b'123456789'           # a: most recent
        cache.set('e', '123456789')                     # evicts b
        assert cache.get('b') is None and cache.get('b', 0) == 0
        cache.delete('e')
        with pytest.raises(KeyError):
            cache.delete('e')
        st = cache.stats()
        assert (st['count'], st['bytes'], st['evictions'], st['max_bytes']) == (3, 30, 1, 40)
        assert cache.purge_expired() == 0
        with pytest.raises(mutil.WouldBlock):
            mutil.DCache(path)                          # the lock
        with pytest.raises(ValueError):
            cache.set('x', b'', ttl=0)
    with mutil.DCache(path) as cache:
        assert cache.get(b'c') == b'123456789' and cache.stats()['max_bytes'] == 40


def test_dcache_corrupt_and_fetch_refused(tmp_path):
    bad = tmp_path / 'bad.db'
    bad.write_bytes(b'J' * 4096)
    with pytest.raises(mutil.CorruptError):
        mutil.DCache(str(bad))
    if not mutil.DCache.can_fetch():
        pytest.skip('libmutil built without libcurl')
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    with mutil.DCache(str(tmp_path / 'f.db')) as cache:
        with pytest.raises(mutil.ConnectionError):
            cache.fetch('http://127.0.0.1:%d/x' % port, ttl=60)
        assert cache.stats()['count'] == 0
