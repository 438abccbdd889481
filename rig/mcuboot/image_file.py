"""Is this file a signed image the target can take? The file is not the slot.

imgtool and Zephyr write a signed image as header + payload + TLVs and nothing
more (zephyr.signed.bin, `imgtool sign` without --pad), or padded to the whole
slot with a trailer that marks it pending (--pad) or confirmed (--confirm). Both
are checked the same way: the image is decoded as it would lie at the start of
the slot, its size is held against what the target's MCUboot swaps
(rig.mcuboot.limits), a trailer it carries must sit at the end of this target's
slot and be written for its max_align, and a package to be downloaded must be
unpadded (a device stores a download before its trailer). `problem` says in one
line what is wrong, "" when nothing is.
"""

from __future__ import annotations

from dataclasses import dataclass

from rig.flash_layout import FlashLayout
from rig.mcuboot.image import BAD_HASH, BAD_SIGNATURE, IMAGE_HEADER, IMAGE_MAGIC, INTACT, ImageInfo, read_image
from rig.mcuboot.limits import SlotLimit, slot_limit
from rig.mcuboot.trailer import GOOD, SET, Trailer, TrailerLayout, magic_max_align, read_trailer

FLASH, DOWNLOAD = "flash", "download"  # what the file is for: programmed into a slot, or served to the device


@dataclass(frozen=True)
class ImageFile:
    info: ImageInfo
    size: int  # bytes in the file
    limit: SlotLimit
    trailer: Trailer | None = None  # decoded when the file carries one (padded to the slot)
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem

    @property
    def version(self) -> str | None:
        return self.info.version

    @property
    def padded(self) -> bool:
        return self.trailer is not None

    def describe(self) -> str:
        """'MCUboot image 1.0.0+0, intact, 0x77c6 bytes, unpadded' ('padded, pending'/'padded, confirmed')."""
        if self.info.version is None:
            return "not an MCUboot image"
        kind = "unpadded"
        if self.trailer is not None:
            kind = "padded, " + ("confirmed" if self.trailer.image_ok == SET else "pending")
        size = self.info.total_size or self.size
        return f"MCUboot image {self.info.version}, {self.info.state}, 0x{size:x} bytes, {kind}"


def check_image_file(data: bytes, layout: FlashLayout, slot: str = "secondary", purpose: str = DOWNLOAD,
                     public_key: object | None = None, intact: bool = True) -> ImageFile:
    """Decode `data` (a file's bytes) as the image for `slot` of this target, for `purpose` (flash or download).

    intact=False accepts an image whose hash or signature is wrong (a package the device must refuse):
    only its shape and size are held against the slot.
    """
    limit = slot_limit(layout, slot)
    slot_size = limit.slot_size
    erased = bytes([layout.erased_value])
    laid = bytes(data[:slot_size]) + erased * max(0, slot_size - len(data))
    info = read_image(laid, layout, public_key=public_key, limit=slot_size)
    trailer = None
    if len(data) == slot_size and magic_max_align(bytes(data[-16:])) is not None:
        trailer = read_trailer(laid, TrailerLayout.for_slot(layout, slot_size))
    problem = _problem(bytes(data), info, trailer, limit, layout, slot, purpose, intact)
    return ImageFile(info, len(data), limit, trailer, problem)


def _problem(data: bytes, info: ImageInfo, trailer: Trailer | None, limit: SlotLimit, layout: FlashLayout,
             slot: str, purpose: str, intact: bool) -> str:
    size, slot_size = len(data), limit.slot_size
    if size < IMAGE_HEADER.size or int.from_bytes(data[:4], "little") != IMAGE_MAGIC:
        return _not_an_image(data)
    if size > slot_size:
        return f"file of 0x{size:x} bytes is larger than the {slot} slot (0x{slot_size:x})"
    end = info.hdr_size + info.img_size
    if info.total_size == 0:
        if end + 4 > size:
            return (f"truncated: the header puts the TLV area at 0x{end:x}, the file ends at 0x{size:x} "
                    f"({info.state}: {info.problem})")
        return f"not an intact MCUboot image ({info.state}: {info.problem})"
    if info.total_size > limit.image:
        return (f"image of 0x{info.total_size:x} bytes does not fit the {slot} slot: it takes at most "
                f"0x{limit.image:x} ({limit.why})")
    tail_magic = magic_max_align(data[-16:]) if size > info.total_size else None
    if size == slot_size and tail_magic is not None and tail_magic != layout.max_align:
        return (f"its trailer magic is written for --max-align {tail_magic}, the target's mcuboot.max_align is "
                f"{layout.max_align}: sign with --max-align {layout.max_align}")
    if tail_magic is not None and size != slot_size:
        return (f"padded for a slot of 0x{size:x} bytes, the target's {slot} slot is 0x{slot_size:x}: its trailer "
                f"would not be where MCUboot reads it (sign with --slot-size 0x{slot_size:x}, or without --pad)")
    if trailer is None and size > slot_size - limit.trailer_size:
        return (f"file of 0x{size:x} bytes reaches into the {slot} slot's trailer "
                f"(from 0x{slot_size - limit.trailer_size:x}) and ends in no trailer magic")
    if trailer is not None and purpose == DOWNLOAD:
        return (f"padded to the whole {slot} slot (imgtool --pad/--confirm, 0x{size:x} bytes): a device stores a "
                f"download before its trailer and refuses it as too large; sign without --pad")
    if trailer is not None and trailer.magic != GOOD:
        return f"its trailer is not MCUboot's for this target ({trailer.describe()})"
    if info.state != INTACT and (intact or info.state not in (BAD_HASH, BAD_SIGNATURE)):
        return f"not an intact MCUboot image ({info.state}: {info.problem})"
    return ""


def _not_an_image(data: bytes) -> str:
    if data[:4] == b"\x7fELF":
        return "an ELF file, not a signed MCUboot image (sign the .bin with imgtool, or give zephyr.signed.bin)"
    if data[:1] == b":":
        return "an Intel HEX file: give the signed .bin (rig flash takes .hex at its own addresses)"
    if len(data) < IMAGE_HEADER.size:
        return f"not an MCUboot image: {len(data)} bytes, shorter than an image header"
    return (f"not an MCUboot image: header magic 0x{int.from_bytes(data[:4], 'little'):08x}, "
            f"expected 0x{IMAGE_MAGIC:08x} (was it signed with imgtool?)")
