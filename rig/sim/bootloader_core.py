"""What every MCUboot swap mode does around the swap itself: loader.c, over the virtual flash.

One boot is context_boot_go for one image: boot_prepare_image_for_update reads
the status (swap_read_status), resumes an interrupted swap
(boot_complete_partial_swap) or decides a new one (boot_validated_swap_type, or
the swap type a freshly set-up trailer holds, checked with boot_validate_slot),
then the switch on the swap type performs it (boot_perform_update), marks a
failed one (BOOT_SWAP_TYPE_FAIL: image_ok on the primary) or panics on a type no
case knows. Finally the primary image is validated and "booted". The swap
itself (swap_run) and where the status lives (swap_status_source) belong to the
mode: bootloader_scratch.py (swap_scratch.c) and bootloader_move.py (swap_move.c).

One deliberate difference, for torn writes: flags (image_ok, copy_done) are
decoded tolerantly, any non-erased value counts as set (MCUboot reads a torn
0x01 as "bad" and, after a torn copy_done, never reverts an unconfirmed image).
The "strict-flags" variant restores MCUboot's exact reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from rig.sim.bootutil.area import Area
from rig.sim.bootutil.image import F_NON_BOOTABLE, IMAGE_MAGIC, Header, Verdict, read_image_size, validate
from rig.sim.bootutil.trailer import (
    FLAG_SET, FLAG_UNSET, MAGIC_GOOD, MAGIC_UNSET, TYPE_FAIL, TYPE_NONE, TYPE_PERM, TYPE_REVERT, TYPE_TEST,
    Geometry, SwapState, is_upgrade, type_word,
)

COPY_CHUNK = 1024  # boot_copy_region's buffer: one program op per chunk


class BootPanic(Exception):
    """MCUboot would assert or panic here (and loop forever): nothing boots."""


@dataclass
class BootStatus:
    """struct boot_status after boot_status_reset: idx and state count from 1 (BOOT_STATUS_IDX_0 / STATE_0)."""

    idx: int = 1
    state: int = 1
    op: str = "move"  # BOOT_STATUS_OP_MOVE / _SWAP (swap-move only; reset sets "move")
    swap_type: int = TYPE_NONE
    swap_size: int = 0
    use_scratch: bool = False
    source: str = "none"

    def is_reset(self) -> bool:
        """boot_status_is_reset."""
        return self.op == "move" and self.idx == 1 and self.state == 1


@dataclass
class BootResult:
    image: Verdict | None  # the primary image that runs; None: nothing bootable
    swap: str  # none | test | perm | revert | fail | panic (or 0x.. for a raw swap type resumed)
    reason: str
    resumed: bool = False


class Loader:
    """One boot of one image pair; subclasses give swap_status_source, status reading and swap_run."""

    name = "mcuboot"
    mode = ""
    tolerant_flags = True

    def __init__(self, flash: Any, layout: Any, log: Callable[[str], None], public_key: bytes | None = None,
                 downgrade_prevention: bool = False) -> None:
        """public_key: the PEM key images must be signed with (MCUboot built with a signature type); None checks
        the hash only. downgrade_prevention: MCUBOOT_DOWNGRADE_PREVENTION, a lower version is never swapped in."""
        self.flash, self.layout, self.log = flash, layout, log
        self.public_key, self.downgrade_prevention = public_key, downgrade_prevention
        self.geo = Geometry(layout)
        self.sector = layout.sector_size
        self.primary = Area(flash, layout.partition("primary"), self.sector)
        self.secondary = Area(flash, layout.partition("secondary"), self.sector)
        self.erased = layout.erased_value

    # -- reading state ------------------------------------------------------
    def swap_state(self, fa: Area) -> SwapState:
        return self.geo.read_swap_state(fa, self.tolerant_flags)

    def log_state(self, label: str, st: SwapState) -> None:
        magic = {MAGIC_GOOD: "good", MAGIC_UNSET: "unset"}.get(st.magic, "bad")
        self.log(f"{label}: magic={magic}, swap_type=0x{st.swap_type:x}, copy_done=0x{st.copy_done:x}, "
                 f"image_ok=0x{st.image_ok:x}")

    def max_image_size(self) -> int:
        return self.geo.app_max_size(self.primary)

    def slot_verdict(self, fa: Area) -> Verdict:
        return validate(fa, self.max_image_size(), self.public_key)

    def image_size(self, fa: Area) -> int:
        """boot_read_image_size when the header magic is there, else 0 (boot_swap_image)."""
        hdr = Header.read(fa)
        if hdr.magic != IMAGE_MAGIC:
            return 0
        size = read_image_size(fa, hdr)
        if size is None:
            raise BootPanic(f"image in the {fa.name} slot has no readable TLV area (boot_read_image_size)")
        return size

    # -- mode hooks ---------------------------------------------------------
    def slots_compatible(self) -> str:
        """boot_slots_compatible: "" when a swap is possible, else why not."""
        if max(self.primary.num_sectors, self.secondary.num_sectors) > self.geo.max_img_sectors:
            return "more sectors than allowed"
        return ""

    def read_status(self, bs: BootStatus) -> str:
        raise NotImplementedError

    def swap_run(self, bs: BootStatus, copy_size: int) -> None:
        raise NotImplementedError

    def write_status(self, bs: BootStatus) -> None:
        raise NotImplementedError

    def find_status_area(self) -> Area | None:
        """boot_find_status: the first area (scratch, then primary) whose trailer magic is good."""
        return self.primary if self.geo.read_magic(self.primary) == MAGIC_GOOD else None

    # -- the boot (context_boot_go) ------------------------------------------
    def boot(self) -> BootResult:
        self.log("Starting bootloader")
        bs = BootStatus()
        swap, reason, resumed = TYPE_NONE, "no swap", False
        incompatible = self.slots_compatible()
        if incompatible:
            self.log(f"Cannot upgrade: {incompatible}")
            reason = f"slots not compatible ({incompatible})"
        else:
            self.read_status(bs)
            if not bs.is_reset():
                resumed, swap = True, bs.swap_type
                self.log(f"Resuming an interrupted swap ({type_word(swap)}) at "
                         f"{bs.op + ' ' if self.mode == 'swap-move' else ''}idx {bs.idx} state {bs.state}")
                self.finish(bs)
                reason = f"resumed an interrupted {type_word(swap)} swap"
            else:
                swap, reason = self.decide(bs)
                bs.swap_type = swap
                if is_upgrade(swap):
                    self.finish(bs)
                elif swap == TYPE_FAIL:
                    self.set_image_ok()  # "pretend we just reverted back to primary slot"
                elif swap != TYPE_NONE:
                    raise BootPanic(f"swap type 0x{swap:x} matches no case")
        image = self.slot_verdict(self.primary)
        if not image.ok:
            self.log(f"Image in the primary slot is not valid! ({image.reason})")
            self.log("Unable to find bootable image")
            return BootResult(None, type_word(swap), f"{reason}; primary image invalid ({image.reason})", resumed)
        major, minor, rev, _ = image.header.ver
        self.log(f"Bootloader chainload address offset: 0x{self.primary.off:x}")
        self.log(f"Image version: v{major}.{minor}.{rev}")
        self.log("Jumping to the first image slot")
        return BootResult(image, type_word(swap), reason, resumed)

    def decide(self, bs: BootStatus) -> tuple[int, str]:
        """No swap to resume: boot_validated_swap_type, or the swap type an initialised trailer holds."""
        if bs.swap_type == TYPE_NONE:
            swap = self.table_swap_type()
            self.log(f"Swap type: {type_word(swap)}")
            if not is_upgrade(swap):
                return swap, f"swap table: {type_word(swap)}"
            if self.validate_secondary(revert=swap == TYPE_REVERT):
                return swap, f"swap table: {type_word(swap)}"
            return TYPE_NONE, f"swap table asked for {type_word(swap)}, but the secondary slot holds no valid image"
        swap = bs.swap_type
        self.log(f"Swap type: {type_word(swap)} (from a trailer set up for a swap)")
        if not self.validate_secondary(revert=swap == TYPE_REVERT):
            return TYPE_FAIL, f"trailer set up for a {type_word(swap)} swap, secondary image invalid: marked failed"
        return swap, f"restarting {type_word(swap)} swap from its trailer"

    def table_swap_type(self) -> int:
        """boot_swap_type_multi: the three rows of boot_swap_tables, in order."""
        pri, sec = self.swap_state(self.primary), self.swap_state(self.secondary)
        if sec.magic == MAGIC_GOOD and sec.image_ok == FLAG_UNSET:
            return TYPE_TEST
        if sec.magic == MAGIC_GOOD and sec.image_ok == FLAG_SET:
            return TYPE_PERM
        if (pri.magic == MAGIC_GOOD and sec.magic == MAGIC_UNSET and pri.image_ok == FLAG_UNSET
                and pri.copy_done == FLAG_SET):
            return TYPE_REVERT
        return TYPE_NONE

    def validate_secondary(self, revert: bool = False) -> bool:
        """boot_validate_slot(secondary): an erased header leaves the trailer erased; an invalid image, the slot."""
        hdr = Header.read(self.secondary)
        if hdr.magic == int.from_bytes(bytes([self.erased]) * 4, "little") or hdr.flags & F_NON_BOOTABLE:
            self.geo.erase_trailer_sectors(self.secondary)
            return False
        verdict = self.slot_verdict(self.secondary)
        lower = self.downgrade(verdict) if verdict.ok and not revert else None
        if verdict.ok and lower is None:
            return True
        self.log(f"Image in the secondary slot is not valid! ({lower or verdict.reason})")
        self.secondary.erase_all()
        return False

    def downgrade(self, candidate: Verdict) -> str | None:
        """Why `candidate` would be a downgrade of the primary image (None: it is not)."""
        if not self.downgrade_prevention or candidate.header is None:
            return None
        current = Header.read(self.primary)
        if current.magic == IMAGE_MAGIC and candidate.header.ver[:3] < current.ver[:3]:
            return f"version {candidate.version} is lower than the running {current.version}"
        return None

    def finish(self, bs: BootStatus) -> None:
        """boot_perform_update / boot_complete_partial_swap: swap, then image_ok (revert, perm) and copy_done."""
        self.swap_image(bs)
        if bs.swap_type in (TYPE_REVERT, TYPE_PERM):
            self.set_image_ok()
        if is_upgrade(bs.swap_type) and self.swap_state(self.primary).copy_done == FLAG_UNSET:
            self.geo.write_copy_done(self.primary)

    def set_image_ok(self) -> None:
        """swap_set_image_ok: image_ok on the primary unless already there."""
        if self.swap_state(self.primary).image_ok == FLAG_UNSET:
            self.geo.write_image_ok(self.primary)

    def swap_image(self, bs: BootStatus) -> None:
        """boot_swap_image: the size to swap (the larger image, or the one saved in the trailer), then swap_run."""
        if bs.is_reset():
            bs.swap_size = max(self.image_size(self.primary), self.image_size(self.secondary))
        else:
            fa = self.find_status_area()
            if fa is None:
                raise BootPanic("resuming a swap but no trailer with a good magic holds the swap size")
            bs.swap_size = self.geo.read_swap_size(fa)
        self.swap_run(bs, bs.swap_size)

    # -- shared steps (swap_misc.c, loader.c) ----------------------------------
    def status_init(self, fa: Area, bs: BootStatus) -> None:
        """swap_status_init: swap_info, image_ok (copied from the secondary), swap_size, then the magic."""
        secondary = self.swap_state(self.secondary)
        if bs.swap_type != TYPE_NONE:
            self.geo.write_swap_info(fa, bs.swap_type)
        if secondary.image_ok == FLAG_SET:
            self.geo.write_image_ok(fa)
        self.geo.write_swap_size(fa, bs.swap_size)
        self.geo.write_magic(fa)

    def commit(self, bs: BootStatus, work: Callable[[], None]) -> None:
        """Do a step's data work, then record it: the order that makes resuming safe."""
        work()
        self.write_status(bs)

    def copy_region(self, src: Area, dst: Area, off_src: int, off_dst: int, size: int) -> None:
        """boot_copy_region: 1 KiB at a time."""
        done = 0
        while done < size:
            n = min(COPY_CHUNK, size - done)
            dst.program(off_dst + done, src.read(off_src + done, n))
            done += n
