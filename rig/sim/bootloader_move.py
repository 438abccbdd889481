"""MCUboot's "swap using move" upgrade, step for step, over the virtual flash (swap_move.c, MCUboot 2.2 and later).

No scratch: first every sector of the primary image moves up by one sector,
from the last to the first (boot_move_sector_up, one status entry each), then
the slots are swapped sector by sector from the start (boot_swap_sectors, two
states: secondary sector idx-1 -> primary idx-1, then primary idx (the old
sector idx-1, moved up) -> secondary idx-1). The status lives only in the
primary trailer: max_sectors "move" entries, then two "swap" entries per sector;
swap_read_status_bytes scans it from the end. The secondary trailer is erased
just before the last swap step. After an upgrade (not a revert) a fallback
trailer (a lone magic at the end of the sector below the trailer) is written, so
a revert cut while the primary trailer is being rewritten can still be resumed
(swap_status_source). The largest image is the slot less its trailer sectors,
the fallback sector and the sector the move needs (app_max_size).

Not modelled: the branches for an image that reaches the fallback or trailer
sectors (larger than app_max_size, refused by validation first), and the
image-header relocation checks of boot_read_image_header while resuming.
"""

from __future__ import annotations

from rig.sim.bootloader_core import BootPanic, BootStatus, Loader
from rig.sim.bootutil.trailer import FLAG_UNSET, MAGIC_GOOD, TYPE_REVERT


class MoveBootloader(Loader):
    """swap-move: status only in the primary trailer; a fallback trailer guards the start of a revert."""

    mode = "swap-move"

    def slots_compatible(self) -> str:
        n_pri, n_sec = self.primary.num_sectors, self.secondary.num_sectors
        usable = n_pri - 1 - -(-self.geo.trailer_sz() // self.sector)  # app_max_sectors
        if n_pri not in (n_sec, n_sec + 1) and usable != n_sec + 1:
            return "not a compatible amount of sectors"
        return super().slots_compatible()

    # -- the fallback trailer -----------------------------------------------------
    def fallback_sector(self) -> int:
        return self.geo.first_trailer_sector(self.primary) - 1

    def fallback_off(self) -> int:
        return (self.fallback_sector() + 1) * self.sector - self.geo.magic_align_sz

    def fallback_magic_good(self) -> bool:
        return self.geo.read_magic(self.primary, self.fallback_off() + self.geo.magic_align_sz - 16) == MAGIC_GOOD

    def write_fallback(self, need_erase: bool) -> None:
        if need_erase:
            self.primary.erase_sector(self.fallback_sector())
        self.geo.write_magic(self.primary, self.fallback_off())

    # -- status -----------------------------------------------------------------
    def status_source(self) -> str:
        """swap_status_source (swap_move.c)."""
        pri, sec = self.swap_state(self.primary), self.swap_state(self.secondary)
        self.log_state("Primary image", pri)
        self.log_state("Secondary image", sec)
        if pri.magic == MAGIC_GOOD and pri.copy_done == FLAG_UNSET:
            self.log("Boot source: primary slot")
            return "primary"
        if pri.magic != MAGIC_GOOD and sec.magic != MAGIC_GOOD and self.fallback_magic_good():
            self.log("Revert interrupted while the primary trailer was rewritten: restarting it (fallback trailer)")
            self.geo.erase_trailer_sectors(self.primary)
            self.geo.write_swap_info(self.primary, TYPE_REVERT)
            self.geo.write_magic(self.primary)
            return "primary"
        self.log("Boot source: none")
        return "none"

    def read_status(self, bs: BootStatus) -> str:
        """swap_read_status with swap_move.c's swap_read_status_bytes: the last written entry decides."""
        bs.source = self.status_source()
        if bs.source == "none":
            return bs.source
        firsts = self.geo.status_firsts(self.primary)
        found_idx = -1
        for i in range(len(firsts), 0, -1):
            if firsts[i - 1] != self.erased:
                found_idx = i
                break
        moves = self.geo.max_img_sectors
        if found_idx == -1:
            pass
        elif found_idx < moves:
            bs.op, bs.idx, bs.state = "move", found_idx + 1, 1
        else:
            bs.op, bs.idx, bs.state = "swap", (found_idx - moves) // 2 + 1, (found_idx - moves) % 2 + 1
        bs.swap_type = self.geo.read_swap_info_type(self.primary)
        return bs.source

    def write_status(self, bs: BootStatus) -> None:
        """boot_write_status with swap_move.c's boot_status_internal_off."""
        if bs.op == "move":
            entry = bs.idx - 1
        else:
            entry = self.geo.max_img_sectors + (bs.idx - 1) * 2 + (bs.state - 1)
        self.geo.write_status_entry(self.primary, self.geo.status_off(self.primary) + entry * self.geo.write_sz,
                                    bs.state)

    # -- the swap -----------------------------------------------------------------
    def swap_run(self, bs: BootStatus, copy_size: int) -> None:
        self.log("Starting swap using move algorithm.")
        last_idx = max(1, -(-copy_size // self.sector))  # find_last_idx
        if last_idx > self.fallback_sector() - 1:
            raise BootPanic(f"swap_size 0x{copy_size:x} leaves no sector to move the image up")
        if bs.op == "move":
            for idx in range(last_idx, 0, -1):
                if idx <= last_idx - bs.idx + 1:
                    self.move_sector_up(idx, bs)
            bs.idx = 1
        bs.op = "swap"
        for idx in range(1, last_idx + 1):
            if idx >= bs.idx:
                self.swap_sectors(idx, last_idx, bs)
        if last_idx <= self.fallback_sector() and bs.swap_type != TYPE_REVERT:
            self.write_fallback(need_erase=True)

    def move_sector_up(self, idx: int, bs: BootStatus) -> None:
        """boot_move_sector_up: sector idx-1 -> idx; the first move sets up the primary trailer."""
        if bs.idx == 1:
            self.geo.erase_trailer_sectors(self.primary)
            self.status_init(self.primary, bs)

        def move() -> None:
            self.primary.erase_sector(idx)
            self.copy_region(self.primary, self.primary, (idx - 1) * self.sector, idx * self.sector, self.sector)
        self.commit(bs, move)
        bs.idx += 1

    def swap_sectors(self, idx: int, last_idx: int, bs: BootStatus) -> None:
        """boot_swap_sectors: secondary idx-1 -> primary idx-1, then primary idx -> secondary idx-1."""
        off = (idx - 1) * self.sector
        if bs.state == 1:
            def new_in() -> None:
                self.primary.erase_sector(idx - 1)
                self.copy_region(self.secondary, self.primary, off, off, self.sector)
            self.commit(bs, new_in)
            bs.state = 2
        if bs.state == 2:
            def old_out() -> None:
                if idx == last_idx:
                    self.geo.erase_trailer_sectors(self.secondary)
                self.secondary.erase_sector(idx - 1)
                self.copy_region(self.primary, self.secondary, idx * self.sector, off, self.sector)
            self.commit(bs, old_out)
            bs.idx, bs.state = bs.idx + 1, 1
