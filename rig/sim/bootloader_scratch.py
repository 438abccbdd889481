"""MCUboot's "swap using scratch" upgrade, step for step, over the virtual flash (swap_scratch.c).

Sectors are swapped from the end of the image towards its start through the
scratch area (swap_run, boot_copy_sz), in three states per step, each recorded
by a status entry in the primary trailer, or in scratch while the sector that
holds the trailer is being swapped (use_scratch); the swap type travels in
swap_info so a resumed swap knows what it was doing. Erase order is MCUboot's:
the scratch is erased forwards before a step, the trailer sectors of a slot
last-first (swap_erase_trailer_sectors), and the scratch that held the status
of the trailer step backwards, its trailer first, so a cut in that erase never
leaves a good scratch magic over erased data. Byte layout is MCUboot's, so
`rig inspect` and imgtool read the result.

A deliberate difference, for torn erases (beside the tolerant flags of
bootloader_core.py): a torn erase of the scratch's trailer sector can erase the
step's data in it and keep its magic; MCUboot then resumes from that scratch
and copies the erased data into the primary slot (a brick). When the primary
slot's own status is already past that step, this bootloader takes it and moves
on. The "exact-scratch-source" variant restores MCUboot's reading.
"""

from __future__ import annotations

from rig.sim.bootloader_core import BootPanic, BootStatus, Loader
from rig.sim.bootutil.area import Area
from rig.sim.bootutil.trailer import FLAG_SET, FLAG_UNSET, MAGIC_GOOD, MAGIC_UNSET, TYPE_NONE


class ScratchBootloader(Loader):
    """swap-scratch: status in the primary trailer, or in the scratch trailer during the trailer step."""

    mode = "swap-scratch"
    stale_scratch_moves_on = True  # the deliberate hardening for torn erases; see the module docstring

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.scratch = Area(self.flash, self.layout.partition("scratch"), self.sector)

    def slots_compatible(self) -> str:
        if self.scratch.size < self.sector:
            return "not all sectors fit inside scratch"
        return super().slots_compatible()

    # -- status ---------------------------------------------------------------
    def status_source(self) -> str:
        """swap_status_source: boot_status_tables, row by row."""
        pri, scr = self.swap_state(self.primary), self.swap_state(self.scratch)
        self.log_state("Primary image", pri)
        self.log_state("Scratch", scr)
        if pri.magic == MAGIC_GOOD and scr.magic != MAGIC_GOOD and pri.copy_done == FLAG_SET:
            source = "none"
        elif pri.magic == MAGIC_GOOD and scr.magic != MAGIC_GOOD and pri.copy_done == FLAG_UNSET:
            source = "primary"
        elif scr.magic == MAGIC_GOOD:
            source = "scratch"
        elif pri.magic == MAGIC_UNSET and pri.copy_done == FLAG_UNSET:
            source = "primary"
        else:
            source = "none"
        self.log(f"Boot source: {'primary slot' if source == 'primary' else source}")
        return source

    def read_status(self, bs: BootStatus) -> str:
        """swap_read_status: the source, swap_read_status_bytes there, then swap_info's raw swap type."""
        bs.source = self.status_source()
        if bs.source == "none":
            return bs.source
        fa = self.scratch if bs.source == "scratch" else self.primary
        where = self.status_bytes(fa)
        if fa is self.scratch and self.stale_scratch_moves_on:
            pri = self.swap_state(self.primary)  # a swap under way whose primary trailer was rebuilt after step 1
            ahead = self.status_bytes(self.primary) if (pri.magic, pri.copy_done) == (MAGIC_GOOD, FLAG_UNSET) else None
            if ahead is not None and ahead[0] > 1:
                self.log("Scratch status is stale (the primary slot's status is past the trailer step): primary slot")
                fa, where, bs.source = self.primary, ahead, "primary"
        if where is not None:
            bs.idx, bs.state = where
        bs.swap_type = self.geo.read_swap_info_type(fa)
        return bs.source

    def status_bytes(self, fa: Area) -> tuple[int, int] | None:
        """swap_read_status_bytes (swap_scratch.c): (idx, state) where the swap stopped, None if none started."""
        firsts = self.geo.status_firsts(fa, scratch=fa is self.scratch)
        found, found_idx, invalid = False, 0, False
        for i, first in enumerate(firsts):
            if first == self.erased:
                if found and not found_idx:
                    found_idx = i
            elif not found:
                found = True
            elif found_idx:
                invalid = True
                break
        if invalid:
            self.log("Detected inconsistent status!")
        if not found:
            return None
        found_idx = found_idx or len(firsts)
        return found_idx // 3 + 1, found_idx % 3 + 1

    def write_status(self, bs: BootStatus) -> None:
        """boot_write_status: to scratch while use_scratch, else to the primary slot."""
        fa = self.scratch if bs.use_scratch else self.primary
        off = self.geo.status_off(fa, scratch=bs.use_scratch) + ((bs.idx - 1) * 3 + (bs.state - 1)) * self.geo.write_sz
        self.geo.write_status_entry(fa, off, bs.state)

    def find_status_area(self) -> Area | None:
        for fa in (self.scratch, self.primary):
            if self.geo.read_magic(fa) == MAGIC_GOOD:
                return fa
        return None

    # -- the swap -------------------------------------------------------------
    def swap_run(self, bs: BootStatus, copy_size: int) -> None:
        self.log("Starting swap using scratch algorithm.")
        last = max(0, -(-copy_size // self.sector) - 1)
        if last >= self.primary.num_sectors:
            raise BootPanic(f"swap_size 0x{copy_size:x} is larger than the slot")
        swap_idx = 0
        while last >= 0:
            first = last  # boot_copy_sz: as many sectors down from `last` as the scratch holds
            while first - 1 >= 0 and (last - first + 2) * self.sector <= self.scratch.size:
                first -= 1
            if swap_idx >= bs.idx - 1:
                self.swap_sectors(first, (last - first + 1) * self.sector, bs)
            last = first - 1
            swap_idx += 1

    def swap_sectors(self, idx: int, sz: int, bs: BootStatus) -> None:
        """boot_swap_sectors: three states, each finished by a status entry."""
        img_off = idx * self.sector
        trailer_sz = self.geo.trailer_sz()
        last_sector_off = self.primary.size - -(-trailer_sz // self.sector) * self.sector
        copy_sz = sz - trailer_sz if img_off + sz > last_sector_off else sz
        bs.use_scratch = bs.idx == 1 and copy_sz != sz
        if bs.state == 1:
            self.scratch.erase_all()
            if bs.idx == 1:
                self.status_init(self.scratch, bs)  # swap_type parked while the primary trailer is erased
                if not bs.use_scratch:
                    self.geo.erase_trailer_sectors(self.primary)
                    self.status_init(self.primary, bs)
                    self.scratch.erase_all()
            self.commit(bs, lambda: self.copy_region(self.secondary, self.scratch, img_off, 0, copy_sz))
            bs.state = 2
        if bs.state == 2:
            def secondary_from_primary() -> None:
                self.secondary.erase_region(img_off, sz)
                self.copy_region(self.primary, self.secondary, img_off, img_off, copy_sz)
                if bs.idx == 1 and not bs.use_scratch:
                    self.geo.erase_trailer_sectors(self.secondary)
            self.commit(bs, secondary_from_primary)
            bs.state = 3
        if bs.state == 3:
            self.primary.erase_region(img_off, sz)
            self.copy_region(self.scratch, self.primary, 0, img_off, copy_sz)
            if bs.use_scratch:
                self.trailer_from_scratch(img_off + copy_sz, bs)
            erase_scratch, bs.use_scratch = bs.use_scratch, False
            self.write_status(bs)
            bs.idx, bs.state = bs.idx + 1, 1
            if erase_scratch:
                self.erase_scratch_status()

    def erase_scratch_status(self) -> None:
        """The scratch held the trailer step's status: erase it backwards, its trailer first, so a cut never
        leaves a good scratch magic over erased data (which a resume would copy into the primary slot)."""
        self.scratch.erase_all(backwards=True)

    def trailer_from_scratch(self, status_dst: int, bs: BootStatus) -> None:
        """The trailer sector was swapped: rebuild the primary trailer from the one kept in scratch."""
        count = 2 * self.geo.write_sz  # (BOOT_STATUS_STATE_COUNT - 1) entries
        self.copy_region(self.scratch, self.primary, self.geo.status_off(self.scratch, scratch=True), status_dst, count)
        parked = self.swap_state(self.scratch)
        if parked.image_ok == FLAG_SET:
            self.geo.write_image_ok(self.primary)
        if parked.swap_type != TYPE_NONE:
            self.geo.write_swap_info(self.primary, parked.swap_type)
        self.geo.write_swap_size(self.primary, bs.swap_size)
        self.geo.write_magic(self.primary)
