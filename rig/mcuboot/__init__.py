"""MCUboot images and trailers: decode slot dumps, predict the next swap, and the app-side trailer writes.

Used on every dump the rig looks at (virtual flash file, SWD read of a real board,
a file taken home with `rig dump`).
"""

from rig.mcuboot.app import SlotWriter, TrailerError, mark_confirmed, mark_pending
from rig.mcuboot.image import IMAGE_MAGIC, ImageInfo, Tlv, read_image
from rig.mcuboot.slots import SlotsReport, inspect_slots, read_slot_image
from rig.mcuboot.swap_decision import NextBoot, next_boot, status_source, table_swap
from rig.mcuboot.trailer import Trailer, TrailerLayout, boot_magic, read_trailer

__all__ = [
    "IMAGE_MAGIC", "ImageInfo", "NextBoot", "SlotWriter", "SlotsReport", "Tlv", "Trailer", "TrailerError",
    "TrailerLayout", "boot_magic", "inspect_slots", "mark_confirmed", "mark_pending", "next_boot",
    "read_image", "read_slot_image", "read_trailer", "status_source", "table_swap",
]
