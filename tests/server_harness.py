"""Start the rig's server on a free loopback port for a test, and stop it whatever happens."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable, TypeVar

from rig.lwm2m.server import Lwm2mServer
from rig.netutil import free_udp_pair
from rig.timeline import Timeline

T = TypeVar("T")


@contextlib.asynccontextmanager
async def running_server(firmware_dir: Path, timeline: Timeline | None = None, **kwargs) -> AsyncIterator[Lwm2mServer]:
    server = Lwm2mServer(timeline or Timeline(), firmware_dir, host="127.0.0.1", port=free_udp_pair(), **kwargs)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def run(coro_fn: Callable[[], Awaitable[T]], timeout: float = 60.0) -> T:
    """Run one async test body with a hard bound, so a hang fails instead of stalling CI."""

    async def bounded() -> T:
        return await asyncio.wait_for(coro_fn(), timeout)

    return asyncio.run(bounded())
