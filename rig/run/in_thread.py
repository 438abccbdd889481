"""A place driven from synchronous code (pytest tests): its event loop runs in a thread of its own.

Test functions stay plain `def`s and need no asyncio plugin: they hand fault
plans to `PlaceRunner.run`, which runs the case on the place's loop and blocks
until it ends. Results go into the same report.json/junit.xml a `rig run` writes,
so a pytest-driven night and a `rig run` night read the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path
from typing import Any, AsyncContextManager, Callable, Coroutine, TypeVar

from rig.errors import RigError
from rig.faults import FaultPlan
from rig.packages.base import CaseImages
from rig.place.session import PlaceSession
from rig.results import CaseResult
from rig.run.cut_plans import run_cut_plans
from rig.run.record import RunRecord

T = TypeVar("T")


class PlaceRunner:
    def __init__(self, open_session: Callable[[], AsyncContextManager[PlaceSession]], images: CaseImages,
                 record: RunRecord, mode: str = "pull", block_size: int = 512) -> None:
        self.images, self.record, self.mode, self.block_size = images, record, mode, block_size
        self._open = open_session
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="rig-place-loop", daemon=True)
        self._stack = contextlib.AsyncExitStack()
        self.session: PlaceSession | None = None

    def start(self, timeout: float = 60.0) -> "PlaceRunner":
        self._thread.start()
        self.session = self.call(self._stack.enter_async_context(self._open()), timeout)
        return self

    def call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run `coro` on the place's loop; a timeout cancels it there and is a RigError here."""
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise RigError(f"place operation did not finish within {timeout:g} s") from None

    def run(self, plan: FaultPlan, timeout: float = 300.0) -> CaseResult:
        """One case with `plan`; its result is written to report.json/junit.xml before this returns."""
        if self.session is None:
            raise RigError("the place is not open")
        self.record.results = [r for r in self.record.results if r.name != plan.name]
        self.call(run_cut_plans(self.session, [plan], self.images, self.record, self.mode, self.block_size), timeout)
        return self.record.results[-1]

    def close(self, timeout: float = 60.0) -> None:
        """Power to the safe state, board and server stopped, report written; safe to call twice."""
        try:
            if self._thread.is_alive():
                self.call(self._stack.aclose(), timeout)
        finally:
            self.record.finish()  # the session ended: the report is the whole of it
            if self._thread.is_alive():
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(timeout)
            self.session = None

    @property
    def report_dir(self) -> Path:
        return self.record.report_dir
