"""MCUboot's image trailer: where each field sits at the end of a slot and what it says.

Layout (bootutil_public.c / bootutil_misc.c, imgtool's _trailer_size), from the
end of the area, with A = max_align and W = the write size:
    magic        last 16 bytes (in a field of align_up(16, A) bytes)
    image_ok     A bytes before that,  then copy_done, swap_info, swap_size (A each)
    swap status  max_sectors * 3 entries of W bytes for a slot, 3 entries for scratch,
                 each entry's first byte is the state (1..3) written after a swap step
For A <= 8 the magic is MCUboot's 16-byte constant; for larger A it is A as a
little-endian u16 followed by the 14-byte alternative magic.
Flags decode the way boot_read_flag does: erased -> unset, 0x01 -> set, anything
else -> bad. `tolerant` decoding (used by the rig's hardened bootloader) reads
any non-erased flag as set, because a flag is only ever written with 0x01 and a
torn write of it still means the writer got that far.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

BOOT_MAGIC = bytes([0x77, 0xC2, 0x95, 0xF3, 0x60, 0xD2, 0xEF, 0x7F,
                    0x35, 0x52, 0x50, 0x0F, 0x2C, 0xB6, 0x79, 0x80])
BOOT_MAGIC_ALT = bytes([0x2D, 0xE1, 0x5D, 0x29, 0x41, 0x0B, 0x8D, 0x77,
                        0x67, 0x9C, 0x11, 0x0F, 0x1F, 0x8A])
STATE_COUNT = 3  # BOOT_STATUS_STATE_COUNT (swap-scratch and swap-move alike)

SWAP_NONE, SWAP_TEST, SWAP_PERM, SWAP_REVERT, SWAP_FAIL, SWAP_PANIC = 1, 2, 3, 4, 5, 0xFF
SWAP_NAMES = {SWAP_NONE: "none", SWAP_TEST: "test", SWAP_PERM: "perm", SWAP_REVERT: "revert",
              SWAP_FAIL: "fail", SWAP_PANIC: "panic"}
FLAG_SET = 0x01

GOOD, UNSET, BAD = "good", "unset", "bad"  # magic and flag states ("set" for flags)
SET = "set"


def align_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align


def boot_magic(max_align: int) -> bytes:
    """The 16 magic bytes a trailer ends with for this max_align."""
    if max_align <= 8:
        return BOOT_MAGIC
    return struct.pack("<H", max_align) + BOOT_MAGIC_ALT


@dataclass(frozen=True)
class TrailerLayout:
    """Offsets of the trailer fields inside one area (a slot or the scratch area)."""

    area_size: int
    write_size: int
    max_align: int
    status_entries: int
    erased_value: int = 0xFF

    @classmethod
    def for_slot(cls, layout: object, area_size: int) -> "TrailerLayout":
        return cls(area_size, layout.write_size, layout.max_align, layout.max_sectors * STATE_COUNT,
                   layout.erased_value)

    @classmethod
    def for_scratch(cls, layout: object, area_size: int) -> "TrailerLayout":
        return cls(area_size, layout.write_size, layout.max_align, STATE_COUNT, layout.erased_value)

    @property
    def magic_field(self) -> int:
        return align_up(16, self.max_align)

    @property
    def magic_off(self) -> int:
        return self.area_size - 16

    @property
    def magic_write_off(self) -> int:
        """boot_write_magic programs a whole aligned field that ends with the magic."""
        return self.area_size - self.magic_field

    @property
    def image_ok_off(self) -> int:
        return self.area_size - self.magic_field - self.max_align

    @property
    def copy_done_off(self) -> int:
        return self.image_ok_off - self.max_align

    @property
    def swap_info_off(self) -> int:
        return self.copy_done_off - self.max_align

    @property
    def swap_size_off(self) -> int:
        return self.swap_info_off - self.max_align

    @property
    def info_size(self) -> int:
        return 4 * self.max_align + self.magic_field

    @property
    def size(self) -> int:
        """boot_trailer_sz: status area + info fields."""
        return self.status_entries * self.write_size + self.info_size

    @property
    def status_off(self) -> int:
        return self.area_size - self.size

    def status_entry_off(self, idx: int, state: int) -> int:
        """boot_status_internal_off: idx and state count from 1, like BOOT_STATUS_IDX_0/STATE_0."""
        return self.status_off + ((idx - 1) * STATE_COUNT + (state - 1)) * self.write_size

    def field(self, value: bytes) -> bytes:
        """A field value padded with the erased value to the write size (boot_write_trailer)."""
        size = max(self.write_size, align_up(len(value), self.write_size))
        return value + bytes([self.erased_value]) * (size - len(value))


@dataclass(frozen=True)
class SwapStatus:
    """swap_read_status_bytes: where an interrupted swap stopped (idx/state from 1), if it started."""

    found: bool
    idx: int = 1
    state: int = 1
    written: int = 0
    inconsistent: bool = False


@dataclass(frozen=True)
class Trailer:
    magic: str
    image_ok: str
    copy_done: str
    swap_type: int
    image_num: int
    swap_size: int | None
    status: SwapStatus
    raw_image_ok: int
    raw_copy_done: int
    raw_swap_info: int

    @property
    def swap_type_name(self) -> str:
        return SWAP_NAMES.get(self.swap_type, f"0x{self.swap_type:x}")

    def describe(self) -> str:
        size = "unset" if self.swap_size is None else f"0x{self.swap_size:x}"
        status = (f"idx {self.status.idx} state {self.status.state} ({self.status.written} entries"
                  f"{', inconsistent' if self.status.inconsistent else ''})") if self.status.found else "empty"
        return (f"magic={self.magic} swap_type={self.swap_type_name} copy_done={self.copy_done}"
                f"(0x{self.raw_copy_done:02x}) image_ok={self.image_ok}(0x{self.raw_image_ok:02x}) "
                f"swap_size={size} status={status}")


def decode_flag(raw: int, erased: int, tolerant: bool = False) -> str:
    if raw == erased:
        return UNSET
    if raw == FLAG_SET or tolerant:
        return SET
    return BAD


def decode_magic(raw: bytes, max_align: int, erased: int) -> str:
    if raw == boot_magic(max_align):
        return GOOD
    if raw == bytes([erased]) * len(raw):
        return UNSET
    return BAD


def read_status(area: bytes, tl: TrailerLayout) -> SwapStatus:
    """The first byte of each status entry, scanned like swap_read_status_bytes."""
    firsts = bytes(area[tl.status_off:tl.status_off + tl.status_entries * tl.write_size:tl.write_size])
    erased = tl.erased_value
    stripped = firsts.lstrip(bytes([erased]))
    if not stripped:
        return SwapStatus(False)
    # MCUboot: the first non-erased entry marks "found"; the first erased entry after it is
    # where the swap stopped; any written entry after that makes the status inconsistent.
    first = len(firsts) - len(stripped)
    gap = firsts.find(bytes([erased]), first)
    if gap < 0:
        gap = len(firsts)
        inconsistent = False
    else:
        inconsistent = firsts[gap:].strip(bytes([erased])) != b""
    written = gap - first
    return SwapStatus(True, gap // STATE_COUNT + 1, gap % STATE_COUNT + 1, written, inconsistent)


def read_trailer(area: bytes, tl: TrailerLayout, tolerant: bool = False) -> Trailer:
    """Decode the trailer at the end of `area` (the bytes of a whole slot or scratch area)."""
    erased = tl.erased_value
    magic = decode_magic(bytes(area[tl.magic_off:tl.magic_off + 16]), tl.max_align, erased)
    raw_ok, raw_done, raw_info = area[tl.image_ok_off], area[tl.copy_done_off], area[tl.swap_info_off]
    swap_type, image_num = raw_info & 0x0F, raw_info >> 4
    if raw_info == erased or swap_type > SWAP_REVERT:
        swap_type, image_num = SWAP_NONE, 0
    size_bytes = bytes(area[tl.swap_size_off:tl.swap_size_off + 4])
    swap_size = None if size_bytes == bytes([erased]) * 4 else struct.unpack("<I", size_bytes)[0]
    return Trailer(
        magic=magic,
        image_ok=decode_flag(raw_ok, erased, tolerant),
        copy_done=decode_flag(raw_done, erased, tolerant),
        swap_type=swap_type,
        image_num=image_num,
        swap_size=swap_size,
        status=read_status(area, tl),
        raw_image_ok=raw_ok,
        raw_copy_done=raw_done,
        raw_swap_info=raw_info,
    )


class _TailWindow:
    """The last bytes of an area addressed with offsets of the whole area."""

    def __init__(self, tail: bytes, base: int) -> None:
        self.tail, self.base = tail, base

    def __getitem__(self, key):
        if isinstance(key, slice):
            stop = None if key.stop is None else key.stop - self.base
            return self.tail[slice((key.start or 0) - self.base, stop, key.step)]
        return self.tail[key - self.base]


def read_trailer_tail(tail: bytes, tl: TrailerLayout, tolerant: bool = False) -> Trailer:
    """read_trailer on just the last tl.size bytes of an area (no need to read a whole slot)."""
    if len(tail) != tl.size:
        raise ValueError(f"trailer tail is {len(tail)} bytes, the layout's trailer is {tl.size}")
    return read_trailer(_TailWindow(tail, tl.status_off), tl, tolerant)
