"""Streams a download into the secondary slot the way a device does: erase a sector as the data reaches it.

Progressive erase (not the whole slot up front) keeps a cut mid-download cheap and
is what Zephyr's flash_img and Anjay do. The trailer sectors are erased first, so
a stale "pending" mark from an earlier image can never make a partial one bootable.
The slot takes what the bootloader can swap (bootutil_max_image_size): the slot
less its trailer (swap-scratch), less also the fallback and move sectors (swap-move).
"""

from __future__ import annotations

from typing import Any

from rig.sim.bootutil.area import Area
from rig.sim.bootutil.trailer import Geometry


class SlotFull(Exception):
    """The package does not fit the slot: Update Result 2 (not enough flash)."""


class SlotWriter:
    def __init__(self, flash: Any, layout: Any, slot: str = "secondary", trailer_size: int | None = None) -> None:
        self._flash = flash
        self._layout = layout
        self.part = layout.partition(slot)
        self._sector = layout.sector_size
        geo = Geometry(layout)
        trailer_size = geo.trailer_sz() if trailer_size is None else trailer_size
        self._trailer_sectors = -(-trailer_size // self._sector)
        primary = Area(flash, layout.partition("primary"), self._sector)
        self.capacity = min(self.part.size - trailer_size, geo.app_max_size(primary))
        self.pos = 0
        self._tail = b""
        self._erased: set[int] = set()

    def begin(self, at: int = 0) -> None:
        """Start writing at `at` (0 for a fresh download, a sector boundary for a resumed one)."""
        if at % self._sector:
            raise ValueError(f"resume offset 0x{at:x} is not on a sector boundary")
        self.pos, self._tail, self._erased = at, b"", set()
        if at == 0:
            last = self.part.size // self._sector
            for sector in range(last - self._trailer_sectors, last):
                self._erase(sector)

    def _erase(self, sector: int) -> None:
        self._flash.erase(self.part.offset + sector * self._sector, self._sector)
        self._erased.add(sector)

    def write(self, offset: int, data: bytes) -> None:
        """Append `data`, which must start where the last write ended."""
        if offset != self.pos + len(self._tail):
            raise ValueError(f"write at 0x{offset:x}, expected 0x{self.pos + len(self._tail):x}")
        if offset + len(data) > self.capacity:
            raise SlotFull(f"package needs more than the slot's {self.capacity} bytes")
        data = self._tail + data
        unit = self._layout.write_size
        whole = len(data) - len(data) % unit
        self._program(data[:whole])
        self._tail = data[whole:]

    def finish(self) -> int:
        """Program the last partial word (padded with the erased value); returns the package length."""
        length = self.pos + len(self._tail)
        if self._tail:
            unit = self._layout.write_size
            pad = bytes([self._layout.erased_value]) * (-len(self._tail) % unit)
            tail, self._tail = self._tail + pad, b""
            self._program(tail)
        return length

    def _program(self, data: bytes) -> None:
        if not data:
            return
        first, last = self.pos // self._sector, (self.pos + len(data) - 1) // self._sector
        for sector in range(first, last + 1):
            if sector not in self._erased:
                self._erase(sector)
        self._flash.program(self.part.offset + self.pos, data)
        self.pos += len(data)
