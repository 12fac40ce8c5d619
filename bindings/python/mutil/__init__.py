# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""mutil: framed pipes, CURVE-authenticated services, smart sockets,
dataflow across processes, services, an LRU and a sharded store — libmutil
from Python. See bindings/python/README.md."""
from .errors import (AuthError, CanceledError, ClosedError, ConnectionError, CorruptError, Error,  # noqa: F401
                     ExistsError, InvalidError, NotFoundError, OSError, ProtocolError,
                     RemoteError, TimeoutError, WouldBlock)
from . import _lib as _binding
from .pack import packb, unpackb, Ext, json_to_packb, packb_to_json  # noqa: F401

# -- pipes, keys, server, client, files (helper conn)
from .pipe import Pipe  # noqa: F401,E402
from .keys import Allow, Keys, key_from_text, key_to_text, read_secret_file  # noqa: F401,E402
from .server import Event, Server  # noqa: F401,E402
from .client import Client, Message  # noqa: F401,E402

# -- smart socket (helper socket)
from .socket import (Socket, Message as SocketMessage, Mode as SocketMode,  # noqa: F401,E402
                     Policy as SocketPolicy, Event as SocketEvent)

# -- dataflow, bus (helper flow)
from .flow import Emitter, Flow, FlowFile, Link, Overflow, Transport  # noqa: F401,E402
from .bus import Bus, Mode  # noqa: F401,E402

# -- services, producer, pool, LRU, shard (helper store)
from .service import Service, Entrypoint  # noqa: F401,E402
from .producer import Producer  # noqa: F401,E402
from .pool import Pool, JobResult  # noqa: F401,E402
from .lru import LRU  # noqa: F401,E402
from .shard import Shard, Batch  # noqa: F401,E402

# -- topic pub/sub (helper pubsub)
from .pubsub import (Publisher, Subscriber, Proxy, Message as PubSubMessage,  # noqa: F401,E402
                     Side as ProxySide)


def version():
    """libmutil's version string, e.g. "0.1.0" (the loaded library's)."""
    return _binding.ffi.string(_binding.lib.mu_version_string()).decode()


__version__ = '0.1.0'
