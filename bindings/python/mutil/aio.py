# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""asyncio variants: the same classes whose blocking methods are coroutines
(`await client.request(...)`, `async for msg in sock`, `await pipe.recv()`),
driven by the running loop through each object's pollable fd."""

# -- pipes, server, client (helper conn)

# -- smart socket (helper socket)
from .socket import AsyncSocket as Socket  # noqa: F401,E402

# -- dataflow (helper flow)

# -- services, entrypoint (helper store)

