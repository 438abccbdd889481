"""Measure, from a baseline case's timeline, how long the swap window after Execute lasts.

Cuts "over the swap" are spread over what this board really takes, not over a
guess, so they land inside the bootloader's work on any board speed.
"""

from __future__ import annotations

import re

from rig.timeline import Event

_JUMP = re.compile(r"jumping to image \S+ \(.*?(\d+) flash ops\)")


def swap_window_ms(events: list[Event], endpoint: str, default: float = 500.0) -> float:
    executed: float | None = None
    for event in events:
        d = event.data
        if event.kind == "request" and d.get("op") == "execute" and d.get("path") == "/5/0/2" and str(d.get("code", "")).startswith("2."):
            executed = event.t
        elif event.kind == "register" and d.get("endpoint") == endpoint and executed is not None:
            return max(10.0, (event.t - executed) * 1000.0)
    return default


def swap_flash_ops(events: list[Event], endpoint: str) -> int | None:
    """Flash operations of the boot after the first successful Execute (the swap), from the boot's console line.

    The virtual board's bootloader says how many ops it did before jumping to the
    application; None when the timeline has no such boot (a board that does not say).
    """
    executed = False
    for event in events:
        d = event.data
        if event.kind == "request" and d.get("op") == "execute" and d.get("path") == "/5/0/2" \
                and str(d.get("code", "")).startswith("2.") and d.get("endpoint", endpoint) == endpoint:
            executed = True
        elif executed and event.kind == "console":
            match = _JUMP.search(str(d.get("line", "")))
            if match:
                return int(match.group(1))
    return None


def measure_baseline(params: dict, events: list[Event], endpoint: str) -> None:
    """Put the swap window and the flash ops of one swap into a run's params, unless they are there already
    (a resumed run keeps what its baseline measured)."""
    if "swap_window_ms" not in params:
        params["swap_window_ms"] = round(swap_window_ms(events, endpoint), 1)
    if "swap_flash_ops" not in params:
        params["swap_flash_ops"] = swap_flash_ops(events, endpoint)


def blocks_of(size: int, block_size: int) -> int:
    return max(1, -(-size // block_size))
