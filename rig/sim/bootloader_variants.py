"""Deliberately wrong bootloaders, to prove that the power-cut sweep catches real bricking bugs.

Each one changes one ordering or one decision of the correct swap-using-scratch
bootloader; the sweep must fail on it at the flash operation where a real board
would be left with no good image or a lost revert.
"""

from __future__ import annotations

from typing import Callable

from rig.mcuboot.trailer import SWAP_NONE
from rig.sim.bootloader_scratch import Area, BootStatus, ScratchBootloader


class NoResume(ScratchBootloader):
    """Ignores the swap status: after a cut it decides afresh from the trailers, as if nothing was under way."""

    name = "no-resume"

    def read_status(self, bs: BootStatus) -> str:
        self.log("Boot source: none (status ignored)")
        return "none"


class StatusBeforeData(ScratchBootloader):
    """Records each step as done before doing it: a cut inside the copy leaves a half copy marked complete."""

    name = "status-before-data"

    def commit(self, bs: BootStatus, work: Callable[[], None]) -> None:
        self.write_status(bs)
        work()


class DoneBeforeData(ScratchBootloader):
    """Writes copy_done (and so 'swap finished') into the primary trailer when the swap starts."""

    name = "done-before-data"

    def status_init(self, area: Area, bs: BootStatus) -> None:
        super().status_init(area, bs)
        if area is self.primary:
            self.write_flag(self.primary, self.slot_tl.copy_done_off)


class NoScratchTrailer(ScratchBootloader):
    """Erases the primary trailer without first parking swap_type in scratch: a cut there forgets the swap."""

    name = "no-scratch-trailer"

    def status_init(self, area: Area, bs: BootStatus) -> None:
        if area is self.scratch and bs.swap_type != SWAP_NONE:
            return
        super().status_init(area, bs)


class StrictFlags(ScratchBootloader):
    """MCUboot's exact flag decoding: a torn 0x01 reads as 'bad' and after a torn copy_done nothing reverts."""

    name = "strict-flags"
    tolerant_flags = False


VARIANTS: dict[str, type[ScratchBootloader]] = {
    cls.name: cls for cls in (ScratchBootloader, NoResume, StatusBeforeData, DoneBeforeData, NoScratchTrailer,
                              StrictFlags)
}
