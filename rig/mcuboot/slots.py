"""Read both slots (and scratch) of a target through any reader and say what they hold.

One function serves the virtual board's flash, a real board's SWD probe and a
dump file alike: all it needs is `read(offset, length)` relative to the flash base.
The target's upgrade mode (mcuboot.mode) and sector count (mcuboot.max_sectors)
decide where the status is and what it means, and how large an image may be.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from rig.flash_layout import FlashLayout
from rig.mcuboot.image import ERASED, ImageInfo, read_image
from rig.mcuboot.limits import SlotLimit, fallback_magic_off, slot_limit
from rig.mcuboot.swap_decision import NextBoot, next_boot
from rig.mcuboot.trailer import UNSET, Trailer, TrailerLayout, decode_magic, read_trailer

Reader = Callable[[int, int], bytes]


@dataclass(frozen=True)
class SlotsReport:
    primary: ImageInfo
    secondary: ImageInfo
    primary_trailer: Trailer
    secondary_trailer: Trailer
    scratch_trailer: Trailer | None
    next_boot: NextBoot
    mode: str = "swap-scratch"
    max_sectors: int = 0
    limit: SlotLimit | None = None
    fallback_magic: str = UNSET  # swap-move: the fallback trailer's magic

    def describe(self) -> str:
        """'primary: 1.3.0+0 intact, ...; secondary: ...; next boot: ...' for people and failure messages."""
        lines = [f"primary: {self.primary.describe()}; trailer {self.primary_trailer.describe()}",
                 f"secondary: {self.secondary.describe()}; trailer {self.secondary_trailer.describe()}"]
        if self.scratch_trailer is not None:
            lines.append(f"scratch: trailer {self.scratch_trailer.describe()}")
        if self.mode == "swap-move":
            lines.append(f"fallback trailer: magic {self.fallback_magic}")
        lines.append(f"next boot: {self.next_boot.describe()}")
        return "\n".join(lines)


def slot_trailer_layout(layout: FlashLayout, slot: str = "primary") -> TrailerLayout:
    return TrailerLayout.for_slot(layout, layout.partition(slot).size)


def read_slot_image(read: Reader, layout: FlashLayout, slot: str, public_key: object | None = None) -> ImageInfo:
    part = layout.partition(slot)
    return read_image(read(part.offset, part.size), layout, public_key=public_key,
                      limit=slot_limit(layout, slot).image)


def inspect_slots(read: Reader, layout: FlashLayout, public_key: object | None = None,
                  tolerant: bool = False) -> SlotsReport:
    """Decode images and trailers; tolerant=True decodes flags like the rig's hardened bootloader."""
    primary_part, secondary_part = layout.partition("primary"), layout.partition("secondary")
    primary_bytes = read(primary_part.offset, primary_part.size)
    secondary_bytes = read(secondary_part.offset, secondary_part.size)
    p_limit, s_limit = slot_limit(layout, "primary"), slot_limit(layout, "secondary")
    primary = read_image(primary_bytes, layout, public_key, limit=p_limit.image)
    secondary = read_image(secondary_bytes, layout, public_key, limit=s_limit.image)
    p_tr = read_trailer(primary_bytes, slot_trailer_layout(layout, "primary"), tolerant)
    s_tr = read_trailer(secondary_bytes, slot_trailer_layout(layout, "secondary"), tolerant)
    scratch_tr = None
    if layout.mcuboot_mode == "swap-scratch" and "scratch" in layout.partitions:
        sp = layout.partition("scratch")
        scratch_tr = read_trailer(read(sp.offset, sp.size), TrailerLayout.for_scratch(layout, sp.size), tolerant)
    fallback = UNSET
    off = fallback_magic_off(layout)
    if off is not None and off >= 0:
        fallback = decode_magic(bytes(primary_bytes[off:off + 16]), layout.max_align, layout.erased_value)
    decision = next_boot(p_tr, s_tr, scratch_tr, secondary.intact, secondary.state == ERASED,
                         layout.mcuboot_mode, fallback)
    return SlotsReport(primary, secondary, p_tr, s_tr, scratch_tr, decision, layout.mcuboot_mode,
                       layout.max_sectors, p_limit, fallback)
