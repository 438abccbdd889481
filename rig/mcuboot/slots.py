"""Read both slots (and scratch) of a target through any reader and say what they hold.

One function serves the virtual board's flash, a real board's SWD probe and a
dump file alike: all it needs is `read(offset, length)` relative to the flash base.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from rig.flash_layout import FlashLayout
from rig.mcuboot.image import ERASED, ImageInfo, read_image
from rig.mcuboot.swap_decision import NextBoot, next_boot
from rig.mcuboot.trailer import Trailer, TrailerLayout, read_trailer

Reader = Callable[[int, int], bytes]


@dataclass(frozen=True)
class SlotsReport:
    primary: ImageInfo
    secondary: ImageInfo
    primary_trailer: Trailer
    secondary_trailer: Trailer
    scratch_trailer: Trailer | None
    next_boot: NextBoot

    def describe(self) -> str:
        """'primary: 1.3.0+0 intact, ...; secondary: ...; next boot: ...' for people and failure messages."""
        lines = [f"primary: {self.primary.describe()}; trailer {self.primary_trailer.describe()}",
                 f"secondary: {self.secondary.describe()}; trailer {self.secondary_trailer.describe()}"]
        if self.scratch_trailer is not None:
            lines.append(f"scratch: trailer {self.scratch_trailer.describe()}")
        lines.append(f"next boot: {self.next_boot.describe()}")
        return "\n".join(lines)


def slot_trailer_layout(layout: FlashLayout, slot: str = "primary") -> TrailerLayout:
    return TrailerLayout.for_slot(layout, layout.partition(slot).size)


def read_slot_image(read: Reader, layout: FlashLayout, slot: str, public_key: object | None = None) -> ImageInfo:
    part = layout.partition(slot)
    trailer = slot_trailer_layout(layout, slot).size
    return read_image(read(part.offset, part.size), layout, public_key=public_key, trailer_size=trailer)


def inspect_slots(read: Reader, layout: FlashLayout, public_key: object | None = None,
                  tolerant: bool = False) -> SlotsReport:
    """Decode images and trailers; tolerant=True decodes flags like the rig's hardened bootloader."""
    primary_part, secondary_part = layout.partition("primary"), layout.partition("secondary")
    primary_bytes = read(primary_part.offset, primary_part.size)
    secondary_bytes = read(secondary_part.offset, secondary_part.size)
    p_tl = TrailerLayout.for_slot(layout, primary_part.size)
    s_tl = TrailerLayout.for_slot(layout, secondary_part.size)
    primary = read_image(primary_bytes, layout, public_key, p_tl.size)
    secondary = read_image(secondary_bytes, layout, public_key, s_tl.size)
    p_tr = read_trailer(primary_bytes, p_tl, tolerant)
    s_tr = read_trailer(secondary_bytes, s_tl, tolerant)
    scratch_tr = None
    if layout.mcuboot_mode == "swap-scratch" and "scratch" in layout.partitions:
        sp = layout.partition("scratch")
        scratch_tr = read_trailer(read(sp.offset, sp.size), TrailerLayout.for_scratch(layout, sp.size), tolerant)
    decision = next_boot(p_tr, s_tr, scratch_tr, secondary.intact, secondary.state == ERASED)
    return SlotsReport(primary, secondary, p_tr, s_tr, scratch_tr, decision)
