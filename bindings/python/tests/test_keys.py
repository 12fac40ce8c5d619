# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil.Keys and mutil.Allow: generation, shared-secret derivation, raw
and Z85 keys, zcert files (with pyzmq's zmq.auth as the other side),
private secret files, allow-lists."""
import os
import stat

import pytest

import mutil
from mutil._lib import lib


def test_generate():
    keys = mutil.Keys.generate()
    assert len(keys.public) == 32 and len(keys.secret) == 32 and keys.has_secret
    assert len(keys.public_text) == 40
    assert mutil.key_from_text(keys.public_text) == keys.public
    assert mutil.key_to_text(keys.public) == keys.public_text
    assert mutil.Keys() != keys
    assert keys.public_text in repr(keys)


def test_from_secret_is_deterministic_per_role():
    server = mutil.Keys.from_secret('correct horse battery staple')
    again = mutil.Keys.from_secret(b'correct horse battery staple', 'server')
    client = mutil.Keys.from_secret('correct horse battery staple', role='client')
    assert server == again and server.public != client.public
    with pytest.raises(mutil.InvalidError):
        mutil.Keys.from_secret('short')
    with pytest.raises(ValueError):
        mutil.Keys.from_secret('long enough secret', role='neither')
    with pytest.raises(TypeError):
        mutil.Keys.from_secret(12345678)


def test_raw_and_text_keys():
    keys = mutil.Keys()
    same = mutil.Keys.from_bytes(keys.public, keys.secret)
    assert same == keys
    public = mutil.Keys.from_public(keys.public_text)
    assert public.public == keys.public and public.secret is None and not public.has_secret
    assert 'public only' in repr(public)
    assert keys.public_only() == public
    with pytest.raises(mutil.AuthError) as info:
        mutil.Keys.from_bytes(keys.public, mutil.Keys().secret)
    assert info.value.code == lib.MU_EMISMATCH
    with pytest.raises(mutil.InvalidError):
        mutil.Keys.from_bytes(b'too short')
    with pytest.raises(mutil.InvalidError):
        mutil.key_from_text('not z85 at all')
    with pytest.raises(TypeError):
        mutil.Keys.from_public(42)
    copy = keys.copy()
    keys.close()
    assert copy.public == same.public
    with pytest.raises(mutil.InvalidError):
        keys.public
    assert 'closed' in repr(keys)


def test_save_and_load(tmp_path):
    keys = mutil.Keys()
    path = tmp_path / 'server'
    keys.save(path)
    assert stat.S_IMODE(os.stat(str(path) + '_secret').st_mode) == 0o600
    assert mutil.Keys.load(path) == keys
    assert mutil.Keys.load(str(path) + '_secret') == keys
    public = mutil.Keys.load(path, public_only=True)
    assert public.public == keys.public and public.secret is None
    with pytest.raises(mutil.NotFoundError):
        mutil.Keys.load(tmp_path / 'missing')
    (tmp_path / 'junk').write_text('not a cert\n')
    with pytest.raises(mutil.InvalidError):
        mutil.Keys.load(tmp_path / 'junk')


def test_insecure_secret_file_is_refused(tmp_path):
    keys = mutil.Keys()
    path = tmp_path / 'cert'
    keys.save(path)
    os.chmod(str(path) + '_secret', 0o644)
    with pytest.raises(mutil.AuthError) as info:
        mutil.Keys.load(path)
    assert info.value.code == lib.MU_EINSECURE and str(path) in info.value.message
    assert mutil.Keys.load(path, allow_insecure=True) == keys
    assert mutil.Keys.load(path, public_only=True).public == keys.public


def test_pyzmq_reads_ours_and_we_read_pyzmq(tmp_path):
    zmq_auth = pytest.importorskip('zmq.auth')
    keys = mutil.Keys()
    keys.save(tmp_path / 'ours')
    public, secret = zmq_auth.load_certificate(str(tmp_path / 'ours_secret'))
    assert public.decode() == keys.public_text and secret == mutil.key_to_text(keys.secret).encode()
    pub_file, sec_file = zmq_auth.create_certificates(str(tmp_path), 'theirs')
    os.chmod(sec_file, 0o600)
    theirs = mutil.Keys.load(sec_file)
    assert theirs.public_text.encode() == zmq_auth.load_certificate(pub_file)[0]


def test_read_secret_file(tmp_path):
    path = tmp_path / 'secret'
    path.write_bytes(b'correct horse battery staple\r\n')
    os.chmod(path, 0o600)
    assert mutil.read_secret_file(path) == b'correct horse battery staple'
    derived = mutil.Keys.from_secret_file(path, 'client')
    assert derived == mutil.Keys.from_secret('correct horse battery staple', 'client')
    os.chmod(path, 0o640)
    with pytest.raises(mutil.AuthError) as info:
        mutil.read_secret_file(path)
    assert info.value.code == lib.MU_EINSECURE
    assert mutil.read_secret_file(path, allow_insecure=True) == b'correct horse battery staple'
    short = tmp_path / 'short'
    short.write_bytes(b'tiny\n')
    os.chmod(short, 0o600)
    with pytest.raises(mutil.InvalidError):
        mutil.read_secret_file(short)
    with pytest.raises(mutil.NotFoundError):
        mutil.read_secret_file(tmp_path / 'none')
    with pytest.raises(mutil.Error) as info:
        mutil.read_secret_file(tmp_path)
    assert info.value.code == lib.MU_EISDIR


def test_allow_list(tmp_path):
    a, b, c = mutil.Keys(), mutil.Keys(), mutil.Keys()
    allow = mutil.Allow([a, b.public])
    allow.add(a.public_text)  # twice is fine
    assert a in allow and b.public_text in allow and c not in allow
    assert len(allow) == 2 and not allow.is_any and '2 keys' in repr(allow)
    copy = allow.copy()
    copy.add(c)
    assert c in copy and c not in allow
    anyone = mutil.Allow.any()
    assert anyone.is_any and c in anyone and len(anyone) == 0
    with pytest.raises(mutil.InvalidError):
        allow.add(b'short')
    with pytest.raises(TypeError):
        allow.add(None)
    allow.close()
    with pytest.raises(mutil.InvalidError):
        a in allow


def test_allow_from_a_directory(tmp_path):
    keys = [mutil.Keys() for _ in range(3)]
    for i, k in enumerate(keys):
        k.save(tmp_path / ('client%d' % i))
    (tmp_path / 'readme').write_text('not a cert\n')
    allow = mutil.Allow()
    loaded, skipped = allow.load_dir(tmp_path)
    assert (loaded, skipped) == (3, 1)
    assert all(k in allow for k in keys) and len(mutil.Allow.from_dir(tmp_path)) == 3
    with pytest.raises(mutil.NotFoundError):
        allow.load_dir(tmp_path / 'missing')
