"""Drive one Object 5 update through the server: observe, push or pull, wait for states, Execute.

Notifications are best effort (pmin, lost datagrams), so every wait also polls
State when a notification is overdue; every step lands in the timeline. A device
in queue mode may be asleep when a wait begins: every wait on it is longer by the
lifetime it registered with (by then it must have woken to send an Update), so a
sleeping device is never taken for a stuck one.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from rig.lwm2m import events as lwm2m
from rig.lwm2m.object5 import PACKAGE_URI_PATH, RESULT_PATH, STATE_PATH, UPDATE_PATH
from rig.place.session import PlaceSession


class UpdateDriver:
    def __init__(self, session: PlaceSession, poll_interval: float = 1.0) -> None:
        self.s = session
        self.poll_interval = poll_interval

    @property
    def endpoint(self) -> str:
        return self.s.endpoint

    async def observe(self) -> None:
        """Observe State and Update Result (again after every registration: a reboot drops observations)."""
        server = self.s.server
        await server.write_attributes(self.endpoint, STATE_PATH, pmin=0, pmax=30)
        await server.observe(self.endpoint, STATE_PATH)
        await server.observe(self.endpoint, RESULT_PATH)

    async def read_state(self) -> tuple[int | None, int | None]:
        state = await self.s.server.read(self.endpoint, STATE_PATH)
        result = await self.s.server.read(self.endpoint, RESULT_PATH)
        return (state.value if state.ok else None, result.value if result.ok else None)

    async def wait_state(self, wanted: set[int], timeout: float, stop: asyncio.Event | None = None) -> int | None:
        """Wait until State is in `wanted` (notification or poll); None on timeout or when `stop` is set."""
        tl = self.s.timeline
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout + self.s.sleep_allowance()
        start = len(tl)

        def hit(event) -> bool:
            if stop is not None and stop.is_set():
                return True
            return lwm2m.of(event, self.endpoint) and lwm2m.values(event).get(lwm2m.STATE) in wanted

        while loop.time() < deadline:
            if stop is not None and stop.is_set():
                return None
            wait = min(self.poll_interval, deadline - loop.time())
            event = await tl.wait_for_async(hit, wait, start)
            if stop is not None and stop.is_set():
                return None
            if event is not None:
                return lwm2m.values(event)[lwm2m.STATE]
            start = len(tl)
            if self.s.server.registry.table.by_name(self.endpoint) is None:
                continue
            state, _ = await self.read_state()
            if state in wanted:
                return state
        return None

    def _offer(self, image: Path, mode: str) -> None:
        """Say which package goes out, so the verdict knows whether the device was handed a good one."""
        self.s.timeline.append("package", endpoint=self.endpoint, file=image.name, mode=mode)

    async def push(self, image: Path, block_size: int):
        self._offer(image, "push")
        return await self.s.server.push_firmware(self.endpoint, image, block_size=block_size, request_timeout=10.0)

    async def pull(self, image: Path) -> bool:
        uri = self.s.server.firmware_uri(image.name, scheme=self.s.pull_scheme, endpoint=self.endpoint)
        self._offer(image, "pull")
        response = await self.s.server.write(self.endpoint, PACKAGE_URI_PATH, uri)
        return response.ok

    async def execute(self) -> str:
        response = await self.s.server.execute(self.endpoint, UPDATE_PATH)
        return response.code_text

    async def wait_registration(self, after: int, timeout: float) -> bool:
        event = await self.s.timeline.wait_for_async(
            lambda e: lwm2m.is_registration(e, self.endpoint), timeout, after
        )
        return event is not None
