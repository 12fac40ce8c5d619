# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""asyncio variants: the same classes whose blocking methods are coroutines
(`await client.request(...)`, `async for msg in sock`, `await pipe.recv()`),
driven by the running loop through each object's pollable fd."""

# -- pipes, server, client (helper conn)
from .pipe import AsyncPipe as Pipe  # noqa: F401,E402
from .server import AsyncServer as Server  # noqa: F401,E402
from .client import AsyncClient as Client  # noqa: F401,E402

# -- smart socket (helper socket)
from .socket import AsyncSocket as Socket  # noqa: F401,E402

# -- dataflow (helper flow)
from .flow import AsyncFlow as Flow  # noqa: F401,E402

# -- services, entrypoint (helper store)
from .service import AsyncEntrypoint as Entrypoint, aio_run as run  # noqa: F401,E402
from .producer import AsyncProducer as Producer  # noqa: F401,E402
from .pool import AsyncPool as Pool  # noqa: F401,E402

# -- topic pub/sub (helper pubsub)
from .pubsub import AsyncPublisher as Publisher, AsyncSubscriber as Subscriber  # noqa: F401,E402
from .pubsub import Proxy  # noqa: F401,E402
