"""Measure, from a baseline case's timeline, how long the swap window after Execute lasts.

Cuts "over the swap" are spread over what this board really takes, not over a
guess, so they land inside the bootloader's work on any board speed.
"""

from __future__ import annotations

from rig.timeline import Event


def swap_window_ms(events: list[Event], endpoint: str, default: float = 500.0) -> float:
    executed: float | None = None
    for event in events:
        d = event.data
        if event.kind == "request" and d.get("op") == "execute" and d.get("path") == "/5/0/2" and str(d.get("code", "")).startswith("2."):
            executed = event.t
        elif event.kind == "register" and d.get("endpoint") == endpoint and executed is not None:
            return max(10.0, (event.t - executed) * 1000.0)
    return default


def blocks_of(size: int, block_size: int) -> int:
    return max(1, -(-size // block_size))
