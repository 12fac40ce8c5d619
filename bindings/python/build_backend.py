# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""An in-tree PEP 517 build backend with no requirements, so that
`pip install ./bindings/python` works offline: pip's isolated build would
otherwise download setuptools. The package is pure Python (cffi ABI mode),
so a wheel is a zip of mutil/ plus the dist-info files PEP 427 asks for."""
import base64
import hashlib
import os
import zipfile

NAME, VERSION = 'mutil', '0.1.0'
TAG = 'py3-none-any'
HERE = os.path.dirname(os.path.abspath(__file__))
METADATA = """Metadata-Version: 2.1
Name: {name}
Version: {version}
Summary: Python binding of libmutil: pipes, CURVE services, smart sockets, dataflow, stores
License: MPL-2.0
Requires-Python: >=3.9
Requires-Dist: cffi>=1.12
""".format(name=NAME, version=VERSION)
WHEEL = 'Wheel-Version: 1.0\nGenerator: mutil build_backend\nRoot-Is-Purelib: true\nTag: %s\n' % TAG


def _package_files():
    """(path in the wheel, path on disk) of every file of the package."""
    root = os.path.join(HERE, NAME)
    for sub in ('', 'cdef'):  # the modules, the generated declarations
        for name in sorted(os.listdir(os.path.join(root, sub))):
            if name.endswith(('.py', '.h', '.txt')):
                yield '/'.join(filter(None, (NAME, sub, name))), os.path.join(root, sub, name)


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
    return '%s,sha256=%s,%d' % (arcname, digest, len(data))


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    """PEP 517: writes mutil-VERSION-py3-none-any.whl into wheel_directory."""
    info = '%s-%s.dist-info' % (NAME, VERSION)
    filename = '%s-%s-%s.whl' % (NAME, VERSION, TAG)
    entries = [(arc, open(path, 'rb').read()) for arc, path in _package_files()]
    entries += [(info + '/METADATA', METADATA.encode()), (info + '/WHEEL', WHEEL.encode())]
    record = [_record_line(arc, data) for arc, data in entries] + [info + '/RECORD,,']
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), 'w',
                         zipfile.ZIP_DEFLATED) as wheel:
        for arc, data in entries:
            wheel.writestr(arc, data)
        wheel.writestr(info + '/RECORD', '\n'.join(record) + '\n')
    return filename


def get_requires_for_build_wheel(config_settings=None):
    """PEP 517: nothing to install before building."""
    return []
