# SPDX-License-Identifier: MPL-2.0
# Copyright (c) 2026 the mutil authors
"""asyncio variants: the same classes whose blocking methods are coroutines
(`await client.request(...)`, `async for msg in sock`, `await pipe.recv()`),
driven by the running loop through each object's pollable fd."""

# -- pipes, server, client (helper conn)

# -- smart socket (helper socket)

# -- dataflow (helper flow)
from .flow import AsyncFlow as Flow  # noqa: F401,E402

# -- services, entrypoint (helper store)

