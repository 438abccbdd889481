"""The rig's server alone in a process, for the serving-cost bench: prints `ready PORT`, stops at stdin EOF.

A separate process (not a thread of the bench) so that the bench's own Python
does not share the server's interpreter lock, as libcoap's server does not.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from rig.lwm2m.dtls.psk import PskStore
from rig.lwm2m.server import Lwm2mServer
from rig.netutil import free_udp_pair
from rig.timeline import Timeline


async def serve(firmware_dir: Path, psk_specs: list[str]) -> None:
    server = Lwm2mServer(Timeline(), firmware_dir, port=free_udp_pair(), psk_store=PskStore.parse(psk_specs) if psk_specs else None)
    await server.start()
    print(f"ready {server.port}", flush=True)
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(None, sys.stdin.read)
    finally:
        await server.stop()


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(serve(Path(args[0]), args[1:]))
