"""Deliberately wrong bootloaders, to prove that the power-cut sweep catches real bricking bugs.

Each one changes one ordering or one decision of the correct bootloader of a
swap mode; the sweep must fail on it at the flash operation where a real board
would be left with no good image or a lost revert. A variant is a mixin put in
front of the mode's bootloader class, so the same defect exists for every mode
where it makes sense (no-scratch-trailer is about the scratch trailer only).
"""

from __future__ import annotations

from typing import Callable

from rig.sim.bootloader_core import BootStatus, Loader
from rig.sim.bootloader_move import MoveBootloader
from rig.sim.bootloader_scratch import ScratchBootloader
from rig.sim.bootutil.area import Area
from rig.sim.bootutil.trailer import TYPE_NONE

MODES: dict[str, type[Loader]] = {"swap-scratch": ScratchBootloader, "swap-move": MoveBootloader}


class NoResume:
    """Ignores the swap status: after a cut it decides afresh from the trailers, as if nothing was under way."""

    name = "no-resume"

    def read_status(self, bs: BootStatus) -> str:
        self.log("Boot source: none (status ignored)")
        return "none"


class StatusBeforeData:
    """Records each step as done before doing it: a cut inside the copy leaves a half copy marked complete."""

    name = "status-before-data"

    def commit(self, bs: BootStatus, work: Callable[[], None]) -> None:
        self.write_status(bs)
        work()


class DoneBeforeData:
    """Writes copy_done (and so 'swap finished') into the primary trailer when the swap starts."""

    name = "done-before-data"

    def status_init(self, area: Area, bs: BootStatus) -> None:
        super().status_init(area, bs)
        if area is self.primary:
            self.geo.write_copy_done(self.primary)


class NoScratchTrailer:
    """Erases the primary trailer without first parking swap_type in scratch: a cut there forgets the swap."""

    name = "no-scratch-trailer"
    modes = ("swap-scratch",)

    def status_init(self, area: Area, bs: BootStatus) -> None:
        if area is getattr(self, "scratch", None) and bs.swap_type != TYPE_NONE:
            return
        super().status_init(area, bs)


class ScratchForwards:
    """MCUboot erasing the scratch that held the trailer step's status forwards: a whole cut leaves its trailer
    over erased data, and MCUboot's status source resumes from it (the rig's earlier bootloader did this)."""

    name = "scratch-forwards"
    modes = ("swap-scratch",)
    stale_scratch_moves_on = False

    def erase_scratch_status(self) -> None:
        self.scratch.erase_all(backwards=False)


class ExactScratchSource:
    """MCUboot's exact status source: a scratch whose trailer survived a torn erase is resumed from, data or not."""

    name = "exact-scratch-source"
    modes = ("swap-scratch",)
    stale_scratch_moves_on = False


class StrictFlags:
    """MCUboot's exact flag decoding: a torn 0x01 reads as 'bad' and after a torn copy_done nothing reverts."""

    name = "strict-flags"
    tolerant_flags = False


DEFECTIVE = (NoResume, StatusBeforeData, DoneBeforeData, NoScratchTrailer, ScratchForwards, ExactScratchSource,
             StrictFlags)
VARIANTS: tuple[str, ...] = ("mcuboot",) + tuple(cls.name for cls in DEFECTIVE)


def variant_class(variant: str, mode: str) -> type[Loader] | None:
    """The bootloader class for a variant name and swap mode; None when that pair does not exist."""
    base = MODES.get(mode)
    if base is None:
        return None
    if variant == "mcuboot":
        return base
    for mixin in DEFECTIVE:
        if mixin.name == variant and mode in getattr(mixin, "modes", MODES):
            return type(f"{mixin.__name__}{base.__name__}", (mixin, base), {})
    return None
