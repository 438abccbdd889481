"""The device's own trailer code: bootutil_public.c / bootutil_misc.c / swap_misc.c, function for function.

Written apart from the rig's checker (rig.mcuboot) on purpose: the virtual board
is what the checker judges, so it must not share the checker's reading of MCUboot.
Every offset is counted from the end of an Area; BOOT_MAX_ALIGN is the target's
mcuboot.max_align, BOOT_WRITE_SZ its flash write size, BOOT_MAX_IMG_SECTORS its
mcuboot.max_sectors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rig.sim.bootutil.area import Area

MAGIC_8 = bytes.fromhex("77c295f360d2ef7f3552500f2cb67980")  # boot_img_magic, BOOT_MAX_ALIGN == 8
MAGIC_ALT_TAIL = bytes.fromhex("2de15d29410b8d77679c110f1f8a")  # after the u16 align for larger BOOT_MAX_ALIGN
MAGIC_SZ = 16

# BOOT_SWAP_TYPE_*, BOOT_MAGIC_*, BOOT_FLAG_*
TYPE_NONE, TYPE_TEST, TYPE_PERM, TYPE_REVERT, TYPE_FAIL, TYPE_PANIC = 1, 2, 3, 4, 5, 0xFF
MAGIC_GOOD, MAGIC_BAD, MAGIC_UNSET = 1, 2, 3
FLAG_SET, FLAG_BAD, FLAG_UNSET = 1, 2, 3
TYPE_WORDS = {TYPE_NONE: "none", TYPE_TEST: "test", TYPE_PERM: "perm", TYPE_REVERT: "revert", TYPE_FAIL: "fail",
              TYPE_PANIC: "panic"}


def type_word(swap_type: int) -> str:
    return TYPE_WORDS.get(swap_type, f"0x{swap_type:x}")


def is_upgrade(swap_type: int) -> bool:
    """BOOT_IS_UPGRADE."""
    return swap_type in (TYPE_TEST, TYPE_PERM, TYPE_REVERT)


@dataclass
class SwapState:
    """struct boot_swap_state."""

    magic: int
    swap_type: int
    copy_done: int
    image_ok: int
    image_num: int


class Geometry:
    """The numbers bootutil derives from the build: BOOT_MAX_ALIGN, BOOT_WRITE_SZ, BOOT_MAX_IMG_SECTORS."""

    def __init__(self, layout: Any) -> None:
        self.max_align = layout.max_align
        self.write_sz = layout.write_size
        self.max_img_sectors = layout.max_sectors
        self.erased = layout.erased_value
        self.mode = layout.mcuboot_mode
        if self.max_align == 8:
            self.magic = MAGIC_8
        else:
            self.magic = self.max_align.to_bytes(2, "little") + MAGIC_ALT_TAIL
        self.magic_align_sz = -(-MAGIC_SZ // self.max_align) * self.max_align  # BOOT_MAGIC_ALIGN_SIZE

    # -- sizes (bootutil_misc.c) ---------------------------------------------
    def trailer_info_sz(self) -> int:
        return self.max_align * 4 + self.magic_align_sz

    def trailer_sz(self) -> int:
        return self.max_img_sectors * 3 * self.write_sz + self.trailer_info_sz()

    def scratch_trailer_sz(self) -> int:
        return 3 * self.write_sz + self.trailer_info_sz()

    # -- offsets from the end of an area (bootutil_public.c) -----------------
    def magic_off(self, fa: Area) -> int:
        return fa.size - MAGIC_SZ

    def image_ok_off(self, fa: Area) -> int:
        return fa.size - self.magic_align_sz - self.max_align

    def copy_done_off(self, fa: Area) -> int:
        return self.image_ok_off(fa) - self.max_align

    def swap_info_off(self, fa: Area) -> int:
        return self.copy_done_off(fa) - self.max_align

    def swap_size_off(self, fa: Area) -> int:
        return self.swap_info_off(fa) - self.max_align

    def status_off(self, fa: Area, scratch: bool = False) -> int:
        return fa.size - (self.scratch_trailer_sz() if scratch else self.trailer_sz())

    def status_entries(self, scratch: bool = False) -> int:
        return 3 if scratch else 3 * self.max_img_sectors

    def first_trailer_sector(self, fa: Area) -> int:
        """boot_get_first_trailer_sector: the lowest sector holding part of the slot trailer."""
        return (fa.size - self.trailer_sz()) // fa.sector

    # -- reading -------------------------------------------------------------
    def is_erased(self, data: bytes) -> bool:
        return data == bytes([self.erased]) * len(data)

    def read_flag(self, fa: Area, off: int, tolerant: bool = False) -> int:
        """boot_read_flag: erased -> unset, 0x01 -> set, else bad (set for a tolerant reader)."""
        raw = fa.read(off, 1)
        if self.is_erased(raw):
            return FLAG_UNSET
        return FLAG_SET if raw[0] == 1 or tolerant else FLAG_BAD

    def read_magic(self, fa: Area, off: int | None = None) -> int:
        raw = fa.read(self.magic_off(fa) if off is None else off, MAGIC_SZ)
        if self.is_erased(raw):
            return MAGIC_UNSET
        return MAGIC_GOOD if raw == self.magic else MAGIC_BAD

    def read_swap_state(self, fa: Area, tolerant: bool = False) -> SwapState:
        """boot_read_swap_state: swap_type erased or above revert -> none (0 stays 0)."""
        info = fa.read(self.swap_info_off(fa), 1)
        swap_type, image_num = info[0] & 0x0F, info[0] >> 4
        if self.is_erased(info) or swap_type > TYPE_REVERT:
            swap_type, image_num = TYPE_NONE, 0
        return SwapState(self.read_magic(fa), swap_type, self.read_flag(fa, self.copy_done_off(fa), tolerant),
                         self.read_flag(fa, self.image_ok_off(fa), tolerant), image_num)

    def read_swap_info_type(self, fa: Area) -> int:
        """swap_read_status's reading of swap_info: the raw low nibble, none when erased."""
        info = fa.read(self.swap_info_off(fa), 1)
        return TYPE_NONE if self.is_erased(info) else info[0] & 0x0F

    def read_swap_size(self, fa: Area) -> int:
        return int.from_bytes(fa.read(self.swap_size_off(fa), 4), "little")

    def status_firsts(self, fa: Area, scratch: bool = False) -> bytes:
        """The first byte of every status entry of the area."""
        off, n = self.status_off(fa, scratch), self.status_entries(scratch)
        raw = fa.read(off, n * self.write_sz)
        return raw[::self.write_sz]

    # -- writing (boot_write_trailer and friends) -----------------------------
    def write_trailer(self, fa: Area, off: int, value: bytes) -> None:
        """boot_write_trailer: the value, padded with the erased value up to the write size."""
        n = -(-len(value) // self.write_sz) * self.write_sz
        fa.program(off, value + bytes([self.erased]) * (n - len(value)))

    def write_magic(self, fa: Area, off: int | None = None) -> None:
        """boot_write_magic (boot_write_magic_at_off): a BOOT_MAGIC_ALIGN_SIZE field ending with the magic."""
        start = (fa.size - self.magic_align_sz) if off is None else off
        fa.program(start, bytes([self.erased]) * (self.magic_align_sz - MAGIC_SZ) + self.magic)

    def write_image_ok(self, fa: Area) -> None:
        self.write_trailer(fa, self.image_ok_off(fa), bytes([FLAG_SET]))

    def write_copy_done(self, fa: Area) -> None:
        self.write_trailer(fa, self.copy_done_off(fa), bytes([FLAG_SET]))

    def write_swap_info(self, fa: Area, swap_type: int, image_num: int = 0) -> None:
        self.write_trailer(fa, self.swap_info_off(fa), bytes([(image_num << 4) | (swap_type & 0x0F)]))

    def write_swap_size(self, fa: Area, size: int) -> None:
        self.write_trailer(fa, self.swap_size_off(fa), size.to_bytes(4, "little"))

    def write_status_entry(self, fa: Area, off: int, state: int) -> None:
        """boot_write_status: one entry, its first byte the state."""
        self.write_trailer(fa, off, bytes([state]))

    def erase_trailer_sectors(self, fa: Area) -> None:
        """swap_erase_trailer_sectors / swap_scramble_trailer_sectors: trailer sectors, the last one first."""
        sector, total = fa.num_sectors - 1, 0
        while True:
            fa.erase_sector(sector)
            sector -= 1
            total += fa.sector
            if total >= self.trailer_sz():
                break

    # -- what a slot can take ------------------------------------------------
    def app_max_size(self, primary: Area) -> int:
        """bootutil_max_image_size for the swap modes: the largest image (header to TLV end) that is swapped.

        swap-move (swap_move.c app_max_size): the slot's sectors less the trailer's,
        one sector for the fallback trailer and one for moving the image up.
        swap-scratch: the image must end before the trailer (imgtool's check_trailer), and
        before its first sector when it spans several: boot_swap_sectors takes the trailer
        off the step holding that sector, right only if that step holds all of it.
        """
        trailer_sectors = -(-self.trailer_sz() // primary.sector)
        if self.mode == "swap-move":
            return max(0, primary.num_sectors - 2 - trailer_sectors) * primary.sector
        if trailer_sectors > 1:
            return primary.size - trailer_sectors * primary.sector
        return primary.size - self.trailer_sz()
