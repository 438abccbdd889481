"""Real flash takes time: a sector erase costs milliseconds, so a swap has a window a cut can land in.

The virtual board's MCU wraps its Flash in this when the board is given an erase time,
making "cut at a random instant during the swap" land inside the swap as it would on
a chip, instead of before or after a swap that the model finishes in a millisecond.
"""

from __future__ import annotations

import time
from typing import Any


class TimedFlash:
    def __init__(self, flash: Any, erase_s: float, program_s_per_kib: float = 0.0) -> None:
        self._flash = flash
        self._erase_s = erase_s
        self._program_s_per_kib = program_s_per_kib

    def __getattr__(self, name: str) -> Any:
        return getattr(self._flash, name)

    def erase(self, offset: int, length: int) -> None:
        sector = self._flash.layout.sector_size
        for start in range(offset, offset + length, sector):
            time.sleep(self._erase_s)  # the chip is busy; nothing else happens meanwhile
            self._flash.erase(start, sector)

    def program(self, offset: int, data: bytes) -> None:
        if self._program_s_per_kib:
            time.sleep(self._program_s_per_kib * len(data) / 1024)
        self._flash.program(offset, data)
