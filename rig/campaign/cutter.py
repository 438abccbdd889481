"""Carry out a fault plan: cut the power at the exact moment it names, inject network faults.

Block cuts hold the block in the server's hook until the power is off, so the
device never sees block N: the cut is exact. State and console cuts fire from
timeline events; timed cuts from the event loop's timer after Execute. Flash-op
cuts are armed on the virtual board when Execute is answered and the board cuts
itself at that op of the reboot's swap; the rig notices (its console line, or the
power status) and switches its own power off so both agree. Bootstrap cuts hold
the rig's bootstrap server before a step of the first bootstrap after Execute
until the power is off, as block cuts hold block N. Network faults at
block N: drop or delay it, restart the server, or lose the DTLS session.

A nested plan's second cut (in the recovery boot) is carried out by a second
Cutter made with `recovery=True`: armed before the recovery's power-on (a flash
op of that boot) or timed from it (after-power-on); its cut is recorded with the
phase "recovering".
"""

from __future__ import annotations

import asyncio
import re
from typing import Callable

from rig.verdict.phase import phase_at
from rig.campaign.precise_timer import call_at_monotonic
from rig.place.session import PlaceSession
from rig.errors import RigError
from rig.faults import FaultPlan, NetworkFault
from rig.lwm2m import events as lwm2m
from rig.lwm2m.blocks import BlockAction, BlockEvent
from rig.lwm2m.bootstrap_server import BootstrapStep
from rig.power.base import FlashCut
from rig.timeline import Event

FIRST_BOOT_WRITES_WITHIN = 3.0  # s after the re-registration by which a new image has confirmed and stored its result


class Cutter:
    def __init__(self, session: PlaceSession, plan: FaultPlan, since: int, recovery: bool = False) -> None:
        self.s = session
        self.plan = plan
        self.since = since
        self.recovery = recovery  # the nested stage: the cut lands in the recovery boot
        self.done = asyncio.Event()
        self.phase: str | None = None
        self.cut_t: float | None = None
        self.blocks_total: int | None = None
        self._loop = asyncio.get_running_loop()
        self._undo: list[Callable[[], None]] = []
        self._cutting = False
        self._net_done: set[NetworkFault] = set()
        self._tasks: list[asyncio.Task] = []
        self._flash_armed = False
        self._restart: asyncio.Event | None = None  # set once a restart-server fault fired; done when it finished
        self._executed = False  # Execute Update was answered: the next bootstrap is the update's reboot's

    def arm(self) -> None:
        cut = self.plan.cut
        if cut is not None and cut.kind == "flash-op":
            if self.s.power.flash_cut() is None:
                raise RigError(f"plan {self.plan.name}: flash-op cuts need the virtual board "
                               f"(place {self.s.name} has {type(self.s.power).__name__} power)")
            self._undo.append(self.s.timeline.subscribe(self._on_board_cut))
        if cut is not None and cut.kind == "bootstrap":
            if self.s.bootstrap is None:
                raise RigError(f"plan {self.plan.name}: a cut during bootstrap needs a device that bootstraps through "
                               f"the rig (place {self.s.name}: target without lwm2m.bootstrap = true)")
            self._undo.append(self.s.bootstrap.add_hook(self._bootstrap_hook))
        self._undo.append(self.s.server.add_block_hook(self._block_hook))
        if cut is not None and cut.kind in ("state", "console"):
            pattern = re.compile(cut.pattern) if cut.kind == "console" and cut.pattern else None
            self._undo.append(self.s.timeline.subscribe(lambda e: self._on_event(e, pattern)))

    def disarm(self) -> None:
        for undo in self._undo:
            undo()
        self._undo.clear()
        for task in self._tasks:
            task.cancel()
        if self._flash_armed and not self.done.is_set():
            self._flash_armed = False
            try:
                self._flash_cut().disarm_flash_cut()  # an unused cut must not hit the next case's boot
            except RigError:
                pass

    def executed(self) -> None:
        """Called when Execute was answered: starts the timer of an after-execute cut, arms a flash-op cut."""
        cut = self.plan.cut
        self._executed = True
        if cut is not None and cut.kind == "after-execute":
            # Timed from the Execute answer itself (timeline and loop share time.monotonic), not from
            # whenever this coroutine resumed after it.
            answered = self._execute_answered_at()
            self._at(answered + (cut.delay_ms or 0) / 1000.0, "after-execute")
        elif cut is not None and cut.kind == "flash-op":
            # Blocking on purpose (one localhost round trip): the device reboots ~0.1 s after its answer,
            # and the cut must be armed before that reboot's MCU starts.
            self.arm_flash()

    def arm_flash(self) -> None:
        """Make the board's next MCU start lose power at the plan's flash operation (and watch for it)."""
        cut = self.plan.cut
        self._flash_cut().arm_flash_cut(cut.flash_op, cut.torn, self.plan.seed)
        self._flash_armed = True
        self._tasks.append(self._loop.create_task(self._poll_board_power()))

    def _flash_cut(self) -> FlashCut:
        cutter = self.s.power.flash_cut()
        if cutter is None:  # arm() refused the plan already; a flash-op stage on another place's power is a rig bug
            raise RigError(f"plan {self.plan.name}: place {self.s.name} has no flash-op cut")
        return cutter

    def powered_on(self, t: float) -> None:
        """Nested stage: the recovery boot was powered on at loop time `t`; starts an after-power-on cut's timer."""
        cut = self.plan.cut
        if cut is None or cut.kind != "after-power-on":
            return
        self._at(t + (cut.delay_ms or 0) / 1000.0, "after-power-on")

    def _at(self, when: float, why: str) -> None:
        if self.s.power.switches_fast:
            self._undo.append(call_at_monotonic(when, lambda: self._switch_from_timer(why)))
        else:
            self._undo.append(self._loop.call_at(when, self._fire, why).cancel)

    # --- flash-op cuts: the board cuts itself -------------------------

    def _on_board_cut(self, event: Event) -> None:
        if event.kind == "console" and "power cut at flash op" in event.data.get("line", ""):
            self._loop.call_soon_threadsafe(self._board_cut, event.t)

    async def _poll_board_power(self) -> None:
        """Fallback when no console reaches the timeline: the board's power status, until the case gives up."""
        deadline = self._loop.time() + self.s.update_timeout + self.s.boot_timeout
        while not self._cutting and self._loop.time() < deadline:
            await asyncio.sleep(0.25)  # a poll interval, not a synchronisation: the console line usually wins
            if self._cutting:
                return
            status = await asyncio.to_thread(self._flash_cut().flash_cut_status)
            if status.get("power") == "off" and (status.get("last_cut") or {}).get("flash_op") == self.plan.cut.flash_op:
                self._board_cut(self.s.timeline.now())
                return

    def _board_cut(self, t: float) -> None:
        if self._cutting or self.done.is_set() or not self._flash_armed:
            return
        self._cutting = True
        self._tasks.append(self._loop.create_task(self._after_board_cut(t)))

    async def _after_board_cut(self, t: float) -> None:
        cut = self.plan.cut
        self._flash_armed = False
        await asyncio.to_thread(self.s.power.off)  # the rig's relay follows the board: both say off
        self._record_cut(t, f"flash op {cut.flash_op}{' torn' if cut.torn else ''}")

    def _on_event(self, event: Event, pattern: re.Pattern[str] | None) -> None:
        cut = self.plan.cut
        if self._cutting or cut is None:
            return
        if cut.kind == "state" and event.data.get("endpoint") == self.s.endpoint:
            if lwm2m.state(event) == cut.state:
                self._loop.call_soon_threadsafe(self._fire, f"state {cut.state}")
        elif cut.kind == "console" and event.kind == "console" and pattern and pattern.search(event.data.get("line", "")):
            self._loop.call_soon_threadsafe(self._fire, f"console /{cut.pattern}/")

    def _execute_answered_at(self) -> float:
        for event in reversed(self.s.timeline.events(since=self.since)):
            if lwm2m.is_execute_update(event):
                return event.t
        return self._loop.time()

    def _switch_from_timer(self, why: str) -> None:
        """In the precise timer's thread, at the planned instant: switch first, bookkeeping on the loop after."""
        if self._cutting or self.done.is_set():
            return
        t = self.s.timeline.now()
        try:
            self.s.power.off()
        except Exception:  # the ordinary path retries it on the loop and reports what went wrong
            self._loop.call_soon_threadsafe(self._fire, why)
            return
        self._cutting = True
        self._loop.call_soon_threadsafe(self._record_cut, t, why)

    def _record_cut(self, t: float, why: str, downloading: bool = False) -> None:
        """The one bookkeeping of every cut kind: when, why, the phase the device had reached at `t`."""
        self.cut_t = t
        if self.recovery:
            self.phase = "recovering"
            self.s.timeline.append("cut", why=why, phase=self.phase, plan=self.plan.name, nested=True)
        else:
            self.phase = phase_at(self.s.timeline.events(since=self.since), self.s.endpoint, t)
            if downloading and self.phase == "idle":
                # It asked for a block: a download is under way, even when its State 1 notification is still in
                # flight (a block 0 request can overtake it) and no block was served yet.
                self.phase = "downloading"
            self.s.timeline.append("cut", why=why, phase=self.phase, plan=self.plan.name)
        self.done.set()

    def _fire(self, why: str) -> None:
        if not self._cutting:
            self._cutting = True
            self._loop.create_task(self.cut(why))

    async def cut(self, why: str, downloading: bool = False) -> None:
        self._cutting = True
        if self.done.is_set():
            return
        t = self.s.timeline.now()
        await asyncio.to_thread(self.s.power.off)
        self._record_cut(t, why, downloading)

    async def wait_pending(self) -> None:
        """After the board came back: a timed or flash-op cut still due lands now (in the new image's first
        moments, before it confirms itself) rather than silently not at all; bounded by when it can still come."""
        cut = self.plan.cut
        if cut is None or cut.kind not in ("after-execute", "after-power-on", "flash-op") or self.done.is_set():
            return
        wait = FIRST_BOOT_WRITES_WITHIN if cut.kind == "flash-op" else (cut.delay_ms or 0) / 1000.0 + 2.0
        try:
            await asyncio.wait_for(self.done.wait(), wait)
        except asyncio.TimeoutError:
            pass

    async def server_restarted(self, timeout: float = 10.0) -> bool:
        """Did a restart-server fault fire? Waits (bounded) for the restarted server to be up."""
        if self._restart is None:
            return False
        try:
            await asyncio.wait_for(self._restart.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    async def _bootstrap_hook(self, step: BootstrapStep) -> bool:
        """Before each step of a bootstrap: at the plan's step of the first bootstrap after Execute, cut (the step
        is held until the power is off, and never sent)."""
        cut = self.plan.cut
        if self._cutting or not self._executed or step.endpoint != self.s.endpoint or step.step != cut.step:
            return False
        self._cutting = True
        await self.cut(f"bootstrap, before {step.step} {step.path}")
        return True

    # --- network faults ----------------------------------------------

    async def _network_fault(self, fault: NetworkFault, block: BlockEvent) -> None:
        """Runs outside the block's request handler: a restart shuts down the context that handler lives in."""
        if fault.kind == "restart-server":
            await self.s.server.restart()
            self.s.timeline.append("net-fault-done", fault=fault.kind, num=block.num)
            self._restart.set()
        else:
            dropped = self.s.server.drop_dtls_sessions(block.peer)
            self.s.timeline.append("net-fault-done", fault=fault.kind, num=block.num, sessions=dropped)

    async def _block_hook(self, block: BlockEvent) -> BlockAction:
        self.blocks_total = block.blocks_total
        for fault in self.plan.network:
            if fault.block == block.num and fault.kind in ("restart-server", "lose-dtls-session") \
                    and fault not in self._net_done:
                self._net_done.add(fault)  # once: the device asks for block N again afterwards
                if fault.kind == "restart-server":
                    self._restart = asyncio.Event()
                self.s.timeline.append("net-fault", fault=fault.kind, num=block.num)
                self._tasks.append(self._loop.create_task(self._network_fault(fault, block)))
                return BlockAction.DROP
            if fault.block == block.num and fault.kind == "drop-block":
                self.s.timeline.append("net-fault", fault="drop-block", num=block.num)
                return BlockAction.DROP
            if fault.block == block.num and fault.kind == "delay-block":
                self.s.timeline.append("net-fault", fault="delay-block", num=block.num, delay_ms=fault.delay_ms)
                await asyncio.sleep(fault.delay_ms / 1000.0)
        cut = self.plan.cut
        if cut is not None and cut.kind == "block" and cut.block == block.num and not self._cutting:
            self._cutting = True
            await self.cut(f"block {block.num}", downloading=block.direction == "block2")  # pull: it asked
            return BlockAction.DROP
        return BlockAction.SEND
