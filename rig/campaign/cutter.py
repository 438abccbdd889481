"""Carry out a fault plan: cut the power at the exact moment it names, inject network faults.

Block cuts hold the block in the server's hook until the power is off, so the
device never sees block N: the cut is exact. State and console cuts fire from
timeline events; timed cuts from the event loop's timer after Execute.
"""

from __future__ import annotations

import asyncio
import re
from typing import Callable

from rig.campaign.phase import phase_at
from rig.campaign.session import PlaceSession
from rig.faults import FaultPlan
from rig.lwm2m.blocks import BlockAction, BlockEvent
from rig.timeline import Event


class Cutter:
    def __init__(self, session: PlaceSession, plan: FaultPlan, since: int) -> None:
        self.s = session
        self.plan = plan
        self.since = since
        self.done = asyncio.Event()
        self.phase: str | None = None
        self.cut_t: float | None = None
        self.blocks_total: int | None = None
        self._loop = asyncio.get_running_loop()
        self._undo: list[Callable[[], None]] = []
        self._cutting = False

    def arm(self) -> None:
        cut = self.plan.cut
        self._undo.append(self.s.server.add_block_hook(self._block_hook))
        if cut is not None and cut.kind in ("state", "console"):
            pattern = re.compile(cut.pattern) if cut.kind == "console" and cut.pattern else None
            self._undo.append(self.s.timeline.subscribe(lambda e: self._on_event(e, pattern)))

    def disarm(self) -> None:
        for undo in self._undo:
            undo()
        self._undo.clear()

    def executed(self) -> None:
        """Called when Execute was answered: starts the timer of an after-execute cut."""
        cut = self.plan.cut
        if cut is not None and cut.kind == "after-execute":
            self._loop.call_later((cut.delay_ms or 0) / 1000.0, self._fire, "after-execute")

    def _on_event(self, event: Event, pattern: re.Pattern[str] | None) -> None:
        cut = self.plan.cut
        if self._cutting or cut is None:
            return
        if cut.kind == "state" and event.data.get("endpoint") == self.s.endpoint:
            if (event.data.get("values") or {}).get("5/0/3") == cut.state and event.kind in ("notify", "request"):
                self._loop.call_soon_threadsafe(self._fire, f"state {cut.state}")
        elif cut.kind == "console" and event.kind == "console" and pattern and pattern.search(event.data.get("line", "")):
            self._loop.call_soon_threadsafe(self._fire, f"console /{cut.pattern}/")

    def _fire(self, why: str) -> None:
        if not self._cutting:
            self._cutting = True
            self._loop.create_task(self.cut(why))

    async def cut(self, why: str) -> None:
        self._cutting = True
        if self.done.is_set():
            return
        t = self.s.timeline.now()
        self.phase = phase_at(self.s.timeline.events(), self.s.endpoint, t, self.since)
        await asyncio.to_thread(self.s.power.off)
        self.cut_t = t
        self.s.timeline.append("cut", why=why, phase=self.phase, plan=self.plan.name)
        self.done.set()

    async def _block_hook(self, block: BlockEvent) -> BlockAction:
        self.blocks_total = block.blocks_total
        for fault in self.plan.network:
            if fault.block == block.num and fault.kind == "drop-block":
                self.s.timeline.append("net-fault", kind="drop-block", num=block.num)
                return BlockAction.DROP
            if fault.block == block.num and fault.kind == "delay-block":
                self.s.timeline.append("net-fault", kind="delay-block", num=block.num, delay_ms=fault.delay_ms)
                await asyncio.sleep(fault.delay_ms / 1000.0)
        cut = self.plan.cut
        if cut is not None and cut.kind == "block" and cut.block == block.num and not self._cutting:
            self._cutting = True
            await self.cut(f"block {block.num}")
            return BlockAction.DROP
        return BlockAction.SEND
