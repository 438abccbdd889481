"""A planned power loss at flash operation N, inside the MCU process of the virtual board.

The supervisor passes the cut in the MCU's config ("cut": {"flash_op", "torn", "seed"}).
Flash.plan_cut makes op N the one power dies in (half-done when torn); this proxy
catches that PowerCut where it happens, tells the supervisor on the console pipe
with a marker line the supervisor never forwards, and stops the whole process
group: nothing after op N runs, not even an exception handler of the application.
The supervisor then switches power off (SIGKILL), exactly as a relay would.
Counting starts at this process's reset, so op N is the same op an in-process
run of the same boot with Flash.plan_cut(N) dies in.
"""

from __future__ import annotations

import json
import os
import signal
from typing import Any

from rig.sim.flash import PowerCut

CUT_MARK = "\x00rig-power-cut "  # a console line starting with this is for the supervisor, not the UART


def cut_line(cut: PowerCut) -> bytes:
    data = {"flash_op": cut.at_op, "torn": cut.torn, "kind": cut.kind, "offset": cut.offset, "length": cut.length}
    return (CUT_MARK + json.dumps(data, separators=(",", ":")) + "\n").encode()


def parse_cut_line(line: bytes) -> dict[str, Any] | None:
    """The cut a marker line reports, or None for an ordinary console line."""
    text = line.decode("utf-8", "replace")
    if not text.startswith(CUT_MARK):
        return None
    try:
        data = json.loads(text[len(CUT_MARK):])
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


class CutAtOp:
    """Flash proxy: erase/program pass through until the planned op, where the MCU loses power."""

    def __init__(self, flash: Any, flash_op: int, torn: bool = False, seed: int = 0) -> None:
        self._flash = flash
        flash.plan_cut(int(flash_op), bool(torn), int(seed))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._flash, name)

    def erase(self, offset: int, length: int) -> None:
        try:
            self._flash.erase(offset, length)
        except PowerCut as cut:
            self._lose_power(cut)

    def program(self, offset: int, data: bytes) -> None:
        try:
            self._flash.program(offset, data)
        except PowerCut as cut:
            self._lose_power(cut)

    def _lose_power(self, cut: PowerCut) -> None:
        self._flash.flush()  # MAP_SHARED: already in the page cache; flush only makes the file current sooner
        os.write(1, cut_line(cut))
        try:
            os.killpg(os.getpgrp(), signal.SIGSTOP)  # every thread stops here; the supervisor's SIGKILL ends us
        finally:
            os._exit(1)  # resumed by someone else: a dead core never runs on


def wrap(flash: Any, config: dict[str, Any]) -> Any:
    """`flash`, or a CutAtOp around it when the supervisor armed a cut for this MCU start."""
    cut = config.get("cut")
    if not cut:
        return flash
    return CutAtOp(flash, cut["flash_op"], cut.get("torn", False), cut.get("seed", 0))
