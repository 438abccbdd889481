"""MCUboot's "swap using scratch" upgrade, step for step, over the flash model.

The sequence of flash operations follows boot/bootutil/src/swap_scratch.c,
swap_misc.c and loader.c (boot_prepare_image_for_update, boot_swap_image,
swap_run, boot_swap_sectors): sectors are swapped from the end of the image
towards its start through the scratch area, in three states per step, each
recorded by a status entry in the primary trailer (in scratch while the
trailer sector itself is being swapped); the swap type travels in swap_info so
a resumed swap knows what it was doing. Layout of every byte is MCUboot's, so
`rig inspect` and imgtool read the result.

One deliberate difference, for torn writes: flags (image_ok, copy_done) are
decoded tolerantly — any non-erased value counts as set (MCUboot reads a torn
0x01 as "bad" and, after a torn copy_done, never reverts an unconfirmed image).
The "strict-flags" variant restores MCUboot's exact reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from rig.flash_layout import FlashLayout, Partition
from rig.mcuboot.image import IMAGE_HEADER, IMAGE_MAGIC, ImageInfo, read_image
from rig.mcuboot.swap_decision import status_source, table_swap
from rig.mcuboot.trailer import (
    FLAG_SET, GOOD, SET, SWAP_FAIL, SWAP_NAMES, SWAP_NONE, SWAP_PERM, SWAP_REVERT, SWAP_TEST, UNSET,
    Trailer, TrailerLayout, boot_magic, read_trailer_tail,
)
from rig.sim.flash import Flash

UPGRADES = (SWAP_TEST, SWAP_PERM, SWAP_REVERT)
COPY_CHUNK = 1024  # boot_copy_region's buffer: one program op per chunk


class BootPanic(Exception):
    """MCUboot would assert/panic here (e.g. no valid swap_size to resume with)."""


@dataclass
class BootStatus:
    """struct boot_status: idx and state count from 1 (BOOT_STATUS_IDX_0 / STATE_0)."""

    idx: int = 1
    state: int = 1
    swap_type: int = SWAP_NONE
    swap_size: int = 0
    use_scratch: bool = False

    def is_reset(self) -> bool:
        return self.idx == 1 and self.state == 1


@dataclass
class BootResult:
    image: ImageInfo | None  # None: nothing bootable
    swap: str  # none | test | perm | revert | fail
    reason: str
    resumed: bool = False


class Area:
    """A partition addressed from 0, like a flash_area."""

    __slots__ = ("flash", "off", "size", "name")

    def __init__(self, flash: Flash, part: Partition) -> None:
        self.flash, self.off, self.size, self.name = flash, part.offset, part.size, part.name

    def read(self, off: int, length: int) -> bytes:
        return self.flash.read(self.off + off, length)

    def erase(self, off: int, length: int) -> None:
        self.flash.erase(self.off + off, length)

    def program(self, off: int, data: bytes) -> None:
        self.flash.program(self.off + off, data)


class ScratchBootloader:
    """One boot: finish or start a swap as the trailers say, then validate and pick the primary image."""

    name = "mcuboot"
    tolerant_flags = True

    def __init__(self, flash: Flash, layout: FlashLayout, log: Callable[[str], None],
                 public_key: bytes | None = None, downgrade_prevention: bool = False) -> None:
        """public_key: the PEM key images must be signed with (MCUboot built with a signature type); None checks
        the hash only. downgrade_prevention: MCUBOOT_DOWNGRADE_PREVENTION, a lower version is never swapped in."""
        self.flash, self.layout, self.log = flash, layout, log
        self.public_key, self.downgrade_prevention = public_key, downgrade_prevention
        self.primary = Area(flash, layout.partition("primary"))
        self.secondary = Area(flash, layout.partition("secondary"))
        self.scratch = Area(flash, layout.partition("scratch"))
        self.sector = layout.sector_size
        self.slot_tl = TrailerLayout.for_slot(layout, self.primary.size)
        self.scratch_tl = TrailerLayout.for_scratch(layout, self.scratch.size)
        self.erased = layout.erased_value

    # -- reading state ------------------------------------------------------
    def trailer(self, area: Area) -> Trailer:
        tl = self.scratch_tl if area is self.scratch else self.slot_tl
        return read_trailer_tail(area.read(tl.status_off, tl.size), tl, self.tolerant_flags)

    def _log_state(self, label: str, t: Trailer) -> None:
        self.log(f"{label}: magic={t.magic}, swap_type=0x{t.swap_type:x}, copy_done=0x{t.raw_copy_done:x}, "
                 f"image_ok=0x{t.raw_image_ok:x}")

    def read_status(self, bs: BootStatus) -> str:
        """swap_read_status: find an interrupted swap's status and swap type."""
        primary, scratch = self.trailer(self.primary), self.trailer(self.scratch)
        self._log_state("Primary image", primary)
        self._log_state("Scratch", scratch)
        source = status_source(primary, scratch)
        self.log(f"Boot source: {'primary slot' if source == 'primary' else source}")
        if source == "none":
            return source
        trailer = primary if source == "primary" else scratch
        if trailer.status.found:
            bs.idx, bs.state = trailer.status.idx, trailer.status.state
            if trailer.status.inconsistent:
                self.log("Detected inconsistent status!")
        bs.swap_type = trailer.swap_type
        return source

    def image_size(self, area: Area) -> int:
        """boot_read_image_size: header + payload + TLV areas, 0 without an image header."""
        head = area.read(0, IMAGE_HEADER.size)
        magic, _, hdr_size, prot, img_size = IMAGE_HEADER.unpack(head)[:5]
        if magic != IMAGE_MAGIC:
            return 0
        off = hdr_size + img_size
        info = area.read(off, 4)
        tlv_magic, total = int.from_bytes(info[:2], "little"), int.from_bytes(info[2:], "little")
        if tlv_magic == 0x6908:
            off += total
            info = area.read(off, 4)
            tlv_magic, total = int.from_bytes(info[:2], "little"), int.from_bytes(info[2:], "little")
        if tlv_magic != 0x6907:
            raise BootPanic(f"image in the {area.name} slot has no TLV info at 0x{off:x}")
        return off + total

    def validate(self, area: Area) -> ImageInfo:
        return read_image(area.read(0, area.size), self.layout, public_key=self.public_key, trailer_size=self.slot_tl.size)

    def downgrade(self, candidate: ImageInfo) -> str | None:
        """Why `candidate` would be a downgrade of the primary image (None: it is not)."""
        if not self.downgrade_prevention or candidate.version_tuple is None:
            return None
        current = read_image(self.primary.read(0, self.primary.size), self.layout, trailer_size=self.slot_tl.size)
        if current.version_tuple is not None and candidate.version_tuple[:3] < current.version_tuple[:3]:
            return f"version {candidate.version} is lower than the running {current.version}"
        return None

    def validate_secondary(self, revert: bool = False) -> str:
        """boot_validate_slot(secondary): "ok", "erased" (trailer wiped) or "invalid" (slot erased)."""
        head = self.secondary.read(0, 4)
        if head == bytes([self.erased]) * 4:
            self.erase_trailer_sectors(self.secondary)
            return "erased"
        info = self.validate(self.secondary)
        lower = self.downgrade(info) if info.intact and not revert else None  # a revert brings the old one back
        if info.intact and lower is None:
            return "ok"
        self.log(f"Image in the secondary slot is not valid! ({lower or f'{info.state}: {info.problem}'})")
        self.secondary.erase(0, self.secondary.size)
        return "invalid"

    # -- the boot -----------------------------------------------------------
    def boot(self) -> BootResult:
        self.log("Starting bootloader")
        bs = BootStatus()
        self.read_status(bs)
        resumed = False
        if not bs.is_reset():
            resumed = True
            self.log(f"Resuming an interrupted swap ({SWAP_NAMES.get(bs.swap_type, '?')}) "
                     f"at idx {bs.idx} state {bs.state}")
            swap = bs.swap_type
            self.finish_update(bs)
            reason = f"resumed an interrupted {SWAP_NAMES.get(swap, '?')} swap"
        else:
            swap, reason = self.decide(bs)
            if swap in UPGRADES:
                bs.swap_type = swap
                self.finish_update(bs)
        result_swap = SWAP_NAMES.get(swap, "none")
        image = self.validate(self.primary)
        if not image.intact:
            self.log(f"Image in the primary slot is not valid! ({image.state}: {image.problem})")
            self.log("Unable to find bootable image")
            return BootResult(None, result_swap, f"{reason}; primary image {image.state}", resumed)
        major, minor, rev, _ = image.version_tuple
        self.log(f"Bootloader chainload address offset: 0x{self.primary.off:x}")
        self.log(f"Image version: v{major}.{minor}.{rev}")
        self.log("Jumping to the first image slot")
        return BootResult(image, result_swap, reason, resumed)

    def decide(self, bs: BootStatus) -> tuple[int, str]:
        """No swap to resume: boot_validated_swap_type, or the swap_type left in a fresh trailer."""
        if bs.swap_type == SWAP_NONE:
            swap, _ = table_swap(self.trailer(self.primary), self.trailer(self.secondary))
            self.log(f"Swap type: {SWAP_NAMES[swap]}")
            reason = f"swap table: {SWAP_NAMES[swap]}"
        else:
            swap = bs.swap_type
            self.log(f"Swap type: {SWAP_NAMES[swap]} (from an initialised trailer)")
            reason = f"restarting {SWAP_NAMES[swap]} swap from its trailer"
        if swap not in UPGRADES:
            return swap, reason
        verdict = self.validate_secondary(revert=swap == SWAP_REVERT)
        if verdict == "ok":
            return swap, reason
        if verdict == "erased":
            return SWAP_NONE, f"{reason}, but the secondary slot is empty"
        return SWAP_FAIL, f"{reason}, but the secondary image is invalid: refused and erased"

    def finish_update(self, bs: BootStatus) -> None:
        """boot_perform_update / boot_complete_partial_swap: swap, then image_ok and copy_done."""
        self.swap_image(bs)
        if bs.swap_type in (SWAP_REVERT, SWAP_PERM):
            if self.trailer(self.primary).image_ok == UNSET:
                self.write_flag(self.primary, self.slot_tl.image_ok_off)
        if bs.swap_type in UPGRADES and self.trailer(self.primary).copy_done == UNSET:
            self.write_flag(self.primary, self.slot_tl.copy_done_off)

    def swap_image(self, bs: BootStatus) -> None:
        if bs.is_reset():
            bs.swap_size = max(self.image_size(self.primary), self.image_size(self.secondary))
        else:
            bs.swap_size = self.read_swap_size()
        self.swap_run(bs)

    def read_swap_size(self) -> int:
        """boot_read_swap_size: from the first of scratch, primary whose magic is good."""
        for area in (self.scratch, self.primary):
            t = self.trailer(area)
            if t.magic == GOOD and t.swap_size is not None:
                return t.swap_size
        raise BootPanic("resuming a swap but no trailer holds a swap_size")

    # -- the swap -----------------------------------------------------------
    def swap_run(self, bs: BootStatus) -> None:
        self.log("Starting swap using scratch algorithm.")
        last = max(0, -(-bs.swap_size // self.sector) - 1)
        if (last + 1) * self.sector > self.primary.size:
            raise BootPanic(f"swap_size 0x{bs.swap_size:x} is larger than the slot")
        swap_idx = 0
        while last >= 0:
            first = last
            while first - 1 >= 0 and (last - first + 2) * self.sector <= self.scratch.size:
                first -= 1
            if swap_idx >= bs.idx - 1:
                self.swap_sectors(first, (last - first + 1) * self.sector, bs)
            last = first - 1
            swap_idx += 1

    def swap_sectors(self, idx: int, size: int, bs: BootStatus) -> None:
        """boot_swap_sectors: three states, each finished by a status entry."""
        img_off = idx * self.sector
        trailer_sz = self.slot_tl.size
        last_sector_off = self.primary.size - -(-trailer_sz // self.sector) * self.sector
        copy_sz = size - trailer_sz if img_off + size > last_sector_off else size
        bs.use_scratch = bs.idx == 1 and copy_sz != size
        if bs.state == 1:
            self.scratch.erase(0, self.scratch.size)
            if bs.idx == 1:
                self.status_init(self.scratch, bs)
                if not bs.use_scratch:
                    self.erase_trailer_sectors(self.primary)
                    self.status_init(self.primary, bs)
                    self.scratch.erase(0, self.scratch.size)
            self.commit(bs, lambda: self.copy_region(self.secondary, self.scratch, img_off, 0, copy_sz))
            bs.state = 2
        if bs.state == 2:
            def secondary_from_primary() -> None:
                self.secondary.erase(img_off, size)
                self.copy_region(self.primary, self.secondary, img_off, img_off, copy_sz)
                if bs.idx == 1 and not bs.use_scratch:
                    self.erase_trailer_sectors(self.secondary)
            self.commit(bs, secondary_from_primary)
            bs.state = 3
        if bs.state == 3:
            def primary_from_scratch() -> None:
                self.primary.erase(img_off, size)
                self.copy_region(self.scratch, self.primary, 0, img_off, copy_sz)
                if bs.use_scratch:
                    self.move_trailer_from_scratch(img_off + copy_sz, bs)
            erase_scratch = bs.use_scratch
            primary_from_scratch()
            bs.use_scratch = False
            self.write_status(bs)
            bs.idx += 1
            bs.state = 1
            if erase_scratch:
                self.scratch.erase(0, self.scratch.size)

    def commit(self, bs: BootStatus, work: Callable[[], None]) -> None:
        """Do a step's data work, then record it: the order that makes resuming safe."""
        work()
        self.write_status(bs)

    def move_trailer_from_scratch(self, status_dst: int, bs: BootStatus) -> None:
        """The last sector was swapped: rebuild the primary trailer from the one kept in scratch."""
        count = 2 * self.layout.write_size  # (BOOT_STATUS_STATE_COUNT - 1) entries
        self.copy_region(self.scratch, self.primary, self.scratch_tl.status_off, status_dst, count)
        state = self.trailer(self.scratch)
        if state.image_ok == SET:
            self.write_flag(self.primary, self.slot_tl.image_ok_off)
        if state.swap_type != SWAP_NONE:
            self.primary.program(self.slot_tl.swap_info_off, self.slot_tl.field(bytes([state.swap_type])))
        self.primary.program(self.slot_tl.swap_size_off, self.slot_tl.field(bs.swap_size.to_bytes(4, "little")))
        self.write_magic(self.primary)

    # -- flash primitives (bootutil) ----------------------------------------
    def status_init(self, area: Area, bs: BootStatus) -> None:
        """swap_status_init: swap_info, image_ok (from secondary), swap_size, then magic last."""
        tl = self.scratch_tl if area is self.scratch else self.slot_tl
        secondary_ok = self.trailer(self.secondary).image_ok
        if bs.swap_type != SWAP_NONE:
            area.program(tl.swap_info_off, tl.field(bytes([bs.swap_type])))
        if secondary_ok == SET:
            self.write_flag(area, tl.image_ok_off)
        area.program(tl.swap_size_off, tl.field(bs.swap_size.to_bytes(4, "little")))
        self.write_magic(area)

    def write_magic(self, area: Area) -> None:
        tl = self.scratch_tl if area is self.scratch else self.slot_tl
        area.program(tl.magic_write_off, bytes([self.erased]) * (tl.magic_field - 16) + boot_magic(tl.max_align))

    def write_flag(self, area: Area, off: int) -> None:
        area.program(off, self.slot_tl.field(bytes([FLAG_SET])))

    def write_status(self, bs: BootStatus) -> None:
        area, tl = (self.scratch, self.scratch_tl) if bs.use_scratch else (self.primary, self.slot_tl)
        area.program(tl.status_entry_off(bs.idx, bs.state), tl.field(bytes([bs.state])))

    def erase_trailer_sectors(self, area: Area) -> None:
        span = -(-self.slot_tl.size // self.sector) * self.sector
        area.erase(area.size - span, span)

    def copy_region(self, src: Area, dst: Area, off_src: int, off_dst: int, size: int) -> None:
        done = 0
        while done < size:
            n = min(COPY_CHUNK, size - done)
            dst.program(off_dst + done, src.read(off_src + done, n))
            done += n
