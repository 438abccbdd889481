"""MCUboot images and trailers: decode slot dumps, predict the next swap, check image files, the app-side writes.

Used on every dump the rig looks at (virtual flash file, SWD read of a real board,
a file taken home with `rig dump`) and on every image a user gives it. This is the
checker: the virtual board (rig.sim) never imports it.
"""

from rig.mcuboot.app import SlotWriter, TrailerError, mark_confirmed, mark_pending
from rig.mcuboot.image import IMAGE_MAGIC, ImageInfo, Tlv, read_image
from rig.mcuboot.image_file import ImageFile, check_image_file
from rig.mcuboot.limits import SlotLimit, max_image_size, slot_limit
from rig.mcuboot.slots import SlotsReport, inspect_slots, read_slot_image
from rig.mcuboot.swap_decision import NextBoot, next_boot, status_source, table_swap
from rig.mcuboot.trailer import Trailer, TrailerLayout, boot_magic, read_trailer

__all__ = [
    "IMAGE_MAGIC", "ImageFile", "ImageInfo", "NextBoot", "SlotLimit", "SlotWriter", "SlotsReport", "Tlv", "Trailer",
    "TrailerError", "TrailerLayout", "boot_magic", "check_image_file", "inspect_slots", "mark_confirmed",
    "mark_pending", "max_image_size", "next_boot", "read_image", "read_slot_image", "read_trailer", "slot_limit",
    "status_source", "table_swap",
]
