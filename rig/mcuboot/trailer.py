"""MCUboot's image trailer: where each field sits at the end of a slot and what it says.

Layout (bootutil_public.c boot_*_off, bootutil_misc.c boot_trailer_sz /
boot_status_off, imgtool's _trailer_size), from the end of the area, with
A = max_align (BOOT_MAX_ALIGN) and W = the write size (BOOT_WRITE_SZ):
    magic        last 16 bytes (in a field of align_up(16, A) bytes)
    image_ok     A bytes before that,  then copy_done, swap_info, swap_size (A each)
    swap status  max_sectors * 3 entries of W bytes for a slot, 3 entries for scratch,
                 each entry's first byte is the state written after a swap step
max_sectors is BOOT_MAX_IMG_SECTORS (the target's mcuboot.max_sectors; Zephyr's
automatic rule is the slot's own sector count). For A <= 8 the magic is MCUboot's
16-byte constant; for larger A it is A as a little-endian u16 followed by the
14-byte alternative magic.

The status entries mean different things per upgrade mode:
- swap-scratch (swap_scratch.c swap_read_status_bytes): 3 entries per swap step,
  scanned forwards; the first erased entry after a written one is where it stopped.
- swap-move (swap_move.c swap_read_status_bytes): max_sectors "move" entries (one
  per sector moved up) then 2 "swap" entries per sector; scanned backwards; the
  last written entry says where it stopped.
Flags decode the way boot_read_flag does: erased -> unset, 0x01 -> set, anything
else -> bad. `tolerant` decoding (the rig's hardened bootloader) reads any
non-erased flag as set. Nothing here raises on any byte pattern.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

BOOT_MAGIC = bytes([0x77, 0xC2, 0x95, 0xF3, 0x60, 0xD2, 0xEF, 0x7F,
                    0x35, 0x52, 0x50, 0x0F, 0x2C, 0xB6, 0x79, 0x80])
BOOT_MAGIC_ALT = bytes([0x2D, 0xE1, 0x5D, 0x29, 0x41, 0x0B, 0x8D, 0x77,
                        0x67, 0x9C, 0x11, 0x0F, 0x1F, 0x8A])
STATE_COUNT = 3  # BOOT_STATUS_STATE_COUNT (swap-move: 1 move + 2 swap states)
MOVE_STATE_COUNT, SWAP_STATE_COUNT = 1, 2  # swap_move.c BOOT_STATUS_MOVE/SWAP_STATE_COUNT

SWAP_NONE, SWAP_TEST, SWAP_PERM, SWAP_REVERT, SWAP_FAIL, SWAP_PANIC = 1, 2, 3, 4, 5, 0xFF
SWAP_NAMES = {SWAP_NONE: "none", SWAP_TEST: "test", SWAP_PERM: "perm", SWAP_REVERT: "revert",
              SWAP_FAIL: "fail", SWAP_PANIC: "panic"}
UPGRADES = (SWAP_TEST, SWAP_PERM, SWAP_REVERT)  # BOOT_IS_UPGRADE
FLAG_SET = 0x01

GOOD, UNSET, BAD = "good", "unset", "bad"  # magic and flag states ("set" for flags)
SET = "set"


def swap_name(swap_type: int) -> str:
    """"test", "revert", ... or "0x0" for a swap type no table names (never a KeyError)."""
    return SWAP_NAMES.get(swap_type, f"0x{swap_type:x}")


def align_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align


def boot_magic(max_align: int) -> bytes:
    """The 16 magic bytes a trailer ends with for this max_align."""
    if max_align <= 8:
        return BOOT_MAGIC
    return struct.pack("<H", max_align) + BOOT_MAGIC_ALT


def magic_max_align(raw: bytes) -> int | None:
    """Which max_align wrote these 16 magic bytes (8 for the classic magic), None if no magic."""
    if raw == BOOT_MAGIC:
        return 8
    if len(raw) == 16 and raw[2:] == BOOT_MAGIC_ALT:
        return struct.unpack("<H", raw[:2])[0]
    return None


@dataclass(frozen=True)
class TrailerLayout:
    """Offsets of the trailer fields inside one area (a slot or the scratch area)."""

    area_size: int
    write_size: int
    max_align: int
    status_entries: int
    erased_value: int = 0xFF
    mode: str = "swap-scratch"

    @classmethod
    def for_slot(cls, layout: object, area_size: int) -> "TrailerLayout":
        return cls(area_size, layout.write_size, layout.max_align, layout.max_sectors * STATE_COUNT,
                   layout.erased_value, getattr(layout, "mcuboot_mode", "swap-scratch"))

    @classmethod
    def for_scratch(cls, layout: object, area_size: int) -> "TrailerLayout":
        return cls(area_size, layout.write_size, layout.max_align, STATE_COUNT, layout.erased_value)

    @property
    def max_sectors(self) -> int:
        return self.status_entries // STATE_COUNT

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

    def status_entry_off(self, idx: int, state: int, op: str = "") -> int:
        """boot_status_internal_off (idx and state count from 1): swap_scratch.c, or swap_move.c for op move/swap."""
        if op == "move":
            return self.status_off + (idx - 1) * self.write_size
        if op == "swap":
            base = self.max_sectors * MOVE_STATE_COUNT
            return self.status_off + (base + (idx - 1) * SWAP_STATE_COUNT + (state - 1)) * self.write_size
        return self.status_off + ((idx - 1) * STATE_COUNT + (state - 1)) * self.write_size

    def field(self, value: bytes) -> bytes:
        """A field value padded with the erased value to the write size (boot_write_trailer)."""
        size = max(self.write_size, align_up(len(value), self.write_size))
        return value + bytes([self.erased_value]) * (size - len(value))


@dataclass(frozen=True)
class SwapStatus:
    """Where an interrupted swap stopped, if it started: idx and state count from 1.

    op: "" for swap-scratch, "move" or "swap" for swap-move. inconsistent: MCUboot
    logs "Detected inconsistent status!" (written entries after a gap; swap-scratch only).
    """

    found: bool
    idx: int = 1
    state: int = 1
    written: int = 0
    inconsistent: bool = False
    op: str = ""

    def describe(self) -> str:
        if not self.found:
            return "empty"
        op = f"{self.op} " if self.op else ""
        return (f"{op}idx {self.idx} state {self.state} ({self.written} entries"
                f"{', inconsistent' if self.inconsistent else ''})")


@dataclass(frozen=True)
class Trailer:
    magic: str
    image_ok: str
    copy_done: str
    swap_type: int  # boot_read_swap_state: erased or > revert -> none; 0 stays 0, as in MCUboot
    image_num: int
    swap_size: int | None
    status: SwapStatus
    raw_image_ok: int
    raw_copy_done: int
    raw_swap_info: int
    erased_value: int = 0xFF

    @property
    def swap_type_name(self) -> str:
        return swap_name(self.swap_type)

    @property
    def status_swap_type(self) -> int:
        """swap_read_status: the raw low nibble of swap_info (erased -> none), what a resumed swap runs as."""
        return SWAP_NONE if self.raw_swap_info == self.erased_value else self.raw_swap_info & 0x0F

    def describe(self) -> str:
        size = "unset" if self.swap_size is None else f"0x{self.swap_size:x}"
        return (f"magic={self.magic} swap_type={self.swap_type_name} copy_done={self.copy_done}"
                f"(0x{self.raw_copy_done:02x}) image_ok={self.image_ok}(0x{self.raw_image_ok:02x}) "
                f"swap_size={size} status={self.status.describe()}")


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


def _status_firsts(area: bytes, tl: TrailerLayout) -> bytes:
    return bytes(area[tl.status_off:tl.status_off + tl.status_entries * tl.write_size:tl.write_size])


def read_status(area: bytes, tl: TrailerLayout) -> SwapStatus:
    """swap_read_status_bytes of the area's upgrade mode (swap-move for a slot of a swap-move target)."""
    firsts = _status_firsts(area, tl)
    if tl.mode == "swap-move" and tl.status_entries > STATE_COUNT:
        return _read_status_move(firsts, tl)
    return _read_status_scratch(firsts, tl.erased_value)


def _read_status_scratch(firsts: bytes, erased: int) -> SwapStatus:
    """swap_scratch.c: first written entry = found; the first erased one after it is where the swap stopped."""
    stripped = firsts.lstrip(bytes([erased]))
    if not stripped:
        return SwapStatus(False)
    first = len(firsts) - len(stripped)
    gap = firsts.find(bytes([erased]), first)
    if gap < 0:
        gap, inconsistent = len(firsts), False
    else:
        inconsistent = firsts[gap:].strip(bytes([erased])) != b""
    return SwapStatus(True, gap // STATE_COUNT + 1, gap % STATE_COUNT + 1, gap - first, inconsistent)


def _read_status_move(firsts: bytes, tl: TrailerLayout) -> SwapStatus:
    """swap_move.c: the last written entry (scanning from the end) decides op, idx and state.

    MCUboot's own "inconsistent" count there compares read return codes and so never
    fires; this reports what MCUboot does (never inconsistent).
    """
    found_idx = len(firsts.rstrip(bytes([tl.erased_value])))  # 1-based index of the last written entry
    if found_idx == 0:
        return SwapStatus(False, op="")
    written = sum(1 for b in firsts[:found_idx] if b != tl.erased_value)
    move_entries = tl.max_sectors * MOVE_STATE_COUNT
    if found_idx < move_entries:
        return SwapStatus(True, found_idx // MOVE_STATE_COUNT + 1, found_idx % MOVE_STATE_COUNT + 1, written,
                          op="move")
    rest = found_idx - move_entries
    return SwapStatus(True, rest // SWAP_STATE_COUNT + 1, rest % SWAP_STATE_COUNT + 1, written, op="swap")


def read_trailer(area: bytes, tl: TrailerLayout, tolerant: bool = False) -> Trailer:
    """Decode the trailer at the end of `area` (the bytes of a whole slot or scratch area): boot_read_swap_state."""
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
        erased_value=erased,
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
