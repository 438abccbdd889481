"""How large an image a target's MCUboot swaps, per upgrade mode (bootutil_max_image_size).

- swap-scratch: the image (header + payload + TLV areas) must end before the slot
  trailer (imgtool's check_trailer). When the trailer spans more than one sector it
  must end before the trailer's first sector: swap_scratch.c boot_swap_sectors
  takes the trailer off the step that holds that sector, which is only right when
  the step holds the whole trailer (the rig's bound; imgtool alone would allow more).
- swap-move (swap_move.c app_max_size, MCUboot 2.2 and later): the primary slot's
  sectors less the trailer's, less one for the fallback trailer and one for moving
  the image up: (sectors - 2 - trailer sectors) * sector size.
The trailer's size depends on mcuboot.max_sectors (BOOT_MAX_IMG_SECTORS), so a
wrong sector count moves both limits.
"""

from __future__ import annotations

from dataclasses import dataclass

from rig.flash_layout import FlashLayout
from rig.mcuboot.trailer import TrailerLayout


@dataclass(frozen=True)
class SlotLimit:
    """What a slot can take: `image` bytes of image, and why that many."""

    slot: str
    slot_size: int
    trailer_size: int
    image: int
    why: str


def slot_limit(layout: FlashLayout, slot: str = "primary") -> SlotLimit:
    part = layout.partition(slot)
    trailer = TrailerLayout.for_slot(layout, part.size).size
    if layout.mcuboot_mode == "swap-move":
        primary = layout.partition("primary")
        sector = layout.sector_size
        trailer_sectors = -(-TrailerLayout.for_slot(layout, primary.size).size // sector)
        sectors = max(0, primary.size // sector - 2 - trailer_sectors)
        why = (f"swap-move: {primary.size // sector} sectors less {trailer_sectors} for the trailer, "
               f"1 for the fallback trailer and 1 to move the image")
        return SlotLimit(slot, part.size, trailer, min(sectors * sector, part.size - trailer), why)
    why = f"{layout.mcuboot_mode}: the slot less its 0x{trailer:x}-byte trailer ({layout.max_sectors} sectors)"
    if trailer <= layout.sector_size:
        return SlotLimit(slot, part.size, trailer, part.size - trailer, why)
    sectors = -(-trailer // layout.sector_size)
    return SlotLimit(slot, part.size, trailer, part.size - sectors * layout.sector_size,
                     why + f", which spans {sectors} sectors")


def max_image_size(layout: FlashLayout, slot: str = "primary") -> int:
    return slot_limit(layout, slot).image


def fallback_magic_off(layout: FlashLayout) -> int | None:
    """swap-move: offset in the primary slot of the fallback trailer's 16 magic bytes (None for other modes)."""
    if layout.mcuboot_mode != "swap-move":
        return None
    primary = layout.partition("primary")
    trailer = TrailerLayout.for_slot(layout, primary.size).size
    first_trailer_sector = (primary.size - trailer) // layout.sector_size
    return first_trailer_sector * layout.sector_size - 16
