"""What the running application does to the trailers: request a swap, confirm itself, store a download.

These mirror boot_set_pending_multi / boot_set_confirmed_multi (bootutil_public.c)
so the virtual board's LwM2M client leaves the same bytes a Zephyr app would,
including their write order: a power cut between two of these writes is one of
the cases the rig checks.
"""

from __future__ import annotations

from typing import Protocol

from rig.errors import RigError
from rig.flash_layout import FlashLayout
from rig.mcuboot.trailer import (
    BAD, FLAG_SET, GOOD, SWAP_PERM, SWAP_TEST, UNSET, TrailerLayout, boot_magic, read_trailer_tail,
)
from rig.mcuboot.limits import max_image_size


class FlashLike(Protocol):
    def read(self, offset: int, length: int) -> bytes: ...
    def erase(self, offset: int, length: int) -> None: ...
    def program(self, offset: int, data: bytes) -> None: ...


class TrailerError(RigError):
    """A trailer is in a state the requested action cannot proceed from."""


def _slot(flash: FlashLike, layout: FlashLayout, name: str):
    part = layout.partition(name)
    tl = TrailerLayout.for_slot(layout, part.size)
    trailer = read_trailer_tail(flash.read(part.offset + tl.status_off, tl.size), tl)
    return part, tl, trailer


def write_magic(flash: FlashLike, part_offset: int, tl: TrailerLayout) -> None:
    field = bytes([tl.erased_value]) * (tl.magic_field - 16) + boot_magic(tl.max_align)
    flash.program(part_offset + tl.magic_write_off, field)


def write_flag(flash: FlashLike, part_offset: int, tl: TrailerLayout, off: int) -> None:
    flash.program(part_offset + off, tl.field(bytes([FLAG_SET])))


def mark_pending(flash: FlashLike, layout: FlashLayout, permanent: bool = False) -> None:
    """Ask for a test swap (or a permanent one) of the image in the secondary slot on the next boot."""
    part, tl, trailer = _slot(flash, layout, "secondary")
    if trailer.magic == GOOD:
        return  # swap already scheduled
    if trailer.magic == BAD:
        flash.erase(part.offset, part.size)
        raise TrailerError("secondary slot trailer is corrupt (bad magic); the slot was erased, download again")
    write_magic(flash, part.offset, tl)
    if permanent:
        write_flag(flash, part.offset, tl, tl.image_ok_off)
    swap = SWAP_PERM if permanent else SWAP_TEST
    flash.program(part.offset + tl.swap_info_off, tl.field(bytes([swap])))


def mark_confirmed(flash: FlashLike, layout: FlashLayout) -> None:
    """Confirm the running image (image_ok in the primary trailer) so the bootloader keeps it."""
    part, tl, trailer = _slot(flash, layout, "primary")
    if trailer.magic == UNSET:
        return  # nothing asked for a revert: already confirmed
    if trailer.magic == BAD:
        raise TrailerError("primary slot trailer has a bad magic; cannot confirm the running image")
    if trailer.image_ok != UNSET:
        return
    write_flag(flash, part.offset, tl, tl.image_ok_off)


class SlotWriter:
    """Stores a downloaded image in a slot: erase what it needs, then program chunks as they arrive.

    Chunks may be any size; a tail shorter than the write size waits for the next chunk
    and is padded with the erased value by finish(). start_offset lets a resumed download
    continue where a power cut stopped it (it must be a multiple of the write size).
    """

    def __init__(self, flash: FlashLike, layout: FlashLayout, slot: str = "secondary", start_offset: int = 0) -> None:
        self.flash, self.layout = flash, layout
        self.part = layout.partition(slot)
        self.tl = TrailerLayout.for_slot(layout, self.part.size)
        if start_offset % layout.write_size:
            raise TrailerError(f"resume offset {start_offset} is not a multiple of the write size {layout.write_size}")
        self.offset = start_offset
        self._pending = b""

    @property
    def capacity(self) -> int:
        """Largest image the slot takes (rig.mcuboot.limits: the trailer, and for swap-move two sectors more)."""

        return min(self.part.size - self.tl.size, max_image_size(self.layout, self.part.name))

    def erase(self, image_size: int | None = None) -> None:
        """Erase sectors for image_size bytes (whole slot when None) and the trailer sectors."""
        sector = self.layout.sector_size
        if image_size is not None and image_size > self.capacity:
            raise TrailerError(f"image of {image_size} bytes does not fit the {self.part.name} slot "
                               f"(room for {self.capacity} bytes before the trailer)")
        span = self.part.size if image_size is None else -(-image_size // sector) * sector
        self.flash.erase(self.part.offset, span)
        trailer_start = (self.part.size - self.tl.size) // sector * sector
        if span < trailer_start:
            self.flash.erase(self.part.offset + trailer_start, self.part.size - trailer_start)

    def write(self, data: bytes) -> None:
        data = self._pending + bytes(data)
        usable = len(data) // self.layout.write_size * self.layout.write_size
        if self.offset + len(data) > self.capacity:
            raise TrailerError(f"image grows past {self.capacity} bytes, the room in the {self.part.name} slot")
        if usable:
            self.flash.program(self.part.offset + self.offset, data[:usable])
            self.offset += usable
        self._pending = data[usable:]

    def finish(self) -> int:
        """Program the padded tail; returns the number of bytes stored."""
        if self._pending:
            pad = self.layout.write_size - len(self._pending)
            self.flash.program(self.part.offset + self.offset,
                               self._pending + bytes([self.layout.erased_value]) * pad)
            self.offset += len(self._pending)
            self._pending = b""
        return self.offset
