"""Measure, from a baseline case's timeline, what the board really does: the swap window after Execute, the
flash operations of a swap, and the block size of the download.

Cuts "over the swap" are spread over what this board really takes, not over a
guess, so they land inside the bootloader's work on any board speed. In a pull
the client chooses the Block2 size (a client may ask for 1024-byte blocks where
the rig would have served 512), so download cuts are numbered in the blocks the
client actually asked for.
"""

from __future__ import annotations

import re

from rig.lwm2m import events as lwm2m
from rig.timeline import Event

_JUMP = re.compile(r"jumping to image \S+ \(.*?(\d+) flash ops\)")


def swap_window_ms(events: list[Event], endpoint: str, default: float = 500.0) -> float:
    executed: float | None = None
    for event in events:
        if lwm2m.executed_update(event):
            executed = event.t
        elif lwm2m.is_registration(event, endpoint) and executed is not None:
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
        if lwm2m.executed_update(event) and d.get("endpoint", endpoint) == endpoint:
            executed = True
        elif executed and event.kind == "console":
            match = _JUMP.search(str(d.get("line", "")))
            if match:
                return int(match.group(1))
    return None


def download_block_size(events: list[Event], file: str) -> int | None:
    """The Block2 size the client asked for when it pulled `file` (the last one: a client may start larger and
    renegotiate down, RFC 7959 section 2.4); None when it never pulled that file."""
    sizes = [int(e.data["size"]) for e in events if e.kind == "block2" and e.data.get("file") == file
             and isinstance(e.data.get("size"), int)]
    return sizes[-1] if sizes else None


def measure_baseline(params: dict, events: list[Event], endpoint: str, mode: str = "push", new_file: str = "",
                     block_size: int = 512) -> None:
    """Put the swap window, the flash ops of one swap and the download's block size into a run's params, unless
    they are there already (a resumed run keeps what its baseline measured). In a push the rig's own
    block size is the one; in a pull the one the client asked for (the rig's as a fallback, noted)."""
    if "swap_window_ms" not in params:
        params["swap_window_ms"] = round(swap_window_ms(events, endpoint), 1)
    if "swap_flash_ops" not in params:
        params["swap_flash_ops"] = swap_flash_ops(events, endpoint)
    if "download_block_size" not in params:
        asked = download_block_size(events, new_file) if mode == "pull" else None
        params["download_block_size"] = asked or block_size
        params["download_block_size_from"] = "client" if asked else "rig"


def blocks_of(size: int, block_size: int) -> int:
    return max(1, -(-size // block_size))
