"""The virtual board's bootloader: MCUboot-compatible swap using scratch, over the flash model.

`boot()` is one power-on: it resumes or starts a swap as the trailers ask,
refuses an invalid (bad hash, too large) secondary image, validates the primary
image and returns what would run, logging each decision in MCUboot's words
("Swap type: test", "Starting swap using scratch algorithm.", "Bootloader
chainload address offset: 0x10000", "Image version: v1.2.3") through `log` —
the virtual board's console prints them. The application side of the protocol
(mark_pending, mark_confirmed, SlotWriter) is re-exported from rig.mcuboot.
"""

from __future__ import annotations

from typing import Callable

from rig.errors import RigError
from rig.flash_layout import FlashLayout
from rig.mcuboot import ImageInfo, SlotWriter, mark_confirmed, mark_pending, read_image
from rig.sim.bootloader_scratch import BootPanic, BootResult, ScratchBootloader
from rig.sim.bootloader_variants import VARIANTS
from rig.sim.flash import Flash

__all__ = ["BootPanic", "BootResult", "ImageInfo", "SlotWriter", "VARIANTS", "boot", "bootloader_class",
           "mark_confirmed", "mark_pending", "read_image"]


def bootloader_class(variant: str = "mcuboot") -> type[ScratchBootloader]:
    try:
        return VARIANTS[variant]
    except KeyError:
        raise RigError(f"unknown bootloader variant {variant!r} (known: {', '.join(VARIANTS)})") from None


def boot(flash: Flash, layout: FlashLayout, log: Callable[[str], None], variant: str = "mcuboot",
         public_key: bytes | None = None, downgrade_prevention: bool = False) -> BootResult:
    """One boot. A PowerCut planned on `flash` propagates out of here, as power loss would."""
    if layout.mcuboot_mode != "swap-scratch":
        raise RigError(f"{layout.source or 'target'}: the virtual bootloader implements mcuboot.mode "
                       f"swap-scratch, not {layout.mcuboot_mode}")
    loader = bootloader_class(variant)(flash, layout, log, public_key, downgrade_prevention)
    try:
        return loader.boot()
    except BootPanic as exc:
        log(f"panic! {exc}")
        return BootResult(None, "none", f"bootloader panic: {exc}")
