"""A flash_area for the virtual device: one partition addressed from 0, and bootutil's erase helpers.

MCUboot erases region by region, one hardware sector per flash_area_erase
(bootutil_misc.c boot_erase_region), forwards or backwards; the order decides
what a power cut in the middle leaves behind, so the device keeps it.
"""

from __future__ import annotations

from typing import Any


class Area:
    """struct flash_area: offset and size of a partition, and its sector size."""

    __slots__ = ("flash", "off", "size", "name", "sector")

    def __init__(self, flash: Any, part: Any, sector: int) -> None:
        self.flash, self.off, self.size, self.name, self.sector = flash, part.offset, part.size, part.name, sector

    @property
    def num_sectors(self) -> int:
        return self.size // self.sector

    def read(self, off: int, length: int) -> bytes:
        return self.flash.read(self.off + off, length)

    def program(self, off: int, data: bytes) -> None:
        self.flash.program(self.off + off, data)

    def erase_sector(self, index: int) -> None:
        self.flash.erase(self.off + index * self.sector, self.sector)

    def erase_region(self, off: int, size: int, backwards: bool = False) -> None:
        """boot_erase_region: every sector touching [off, off+size), one erase each, in the given order."""
        first, last = off // self.sector, (off + size - 1) // self.sector
        order = range(last, first - 1, -1) if backwards else range(first, last + 1)
        for index in order:
            self.erase_sector(index)

    def erase_all(self, backwards: bool = False) -> None:
        self.erase_region(0, self.size, backwards)
