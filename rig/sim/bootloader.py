"""The virtual board's bootloader: MCUboot-compatible swap using scratch or swap using move, over the flash model.

`boot()` is one power-on: it resumes or starts a swap as the trailers ask,
refuses an invalid (bad hash, too large) secondary image, validates the primary
image and returns what would run, logging each decision in MCUboot's words
("Swap type: test", "Starting swap using move algorithm.", "Bootloader chainload
address offset: 0x10000", "Image version: v1.2.3") through `log`, which the
virtual board's console prints. The target file's mcuboot.mode picks the
algorithm. Everything it knows of MCUboot is its own (rig.sim.bootutil): it never
imports the rig's checker.
"""

from __future__ import annotations

from typing import Any, Callable

from rig.errors import RigError
from rig.sim.bootloader_core import BootPanic, BootResult, Loader
from rig.sim.bootloader_variants import MODES, VARIANTS, variant_class

__all__ = ["BootPanic", "BootResult", "VARIANTS", "boot", "bootloader_class"]


def bootloader_class(variant: str = "mcuboot", mode: str = "swap-scratch") -> type[Loader]:
    """The class for a variant and mode; RigError naming the known ones otherwise."""
    cls = variant_class(variant, mode)
    if cls is not None:
        return cls
    if mode not in MODES:
        raise RigError(f"the virtual bootloader implements mcuboot.mode {', '.join(MODES)}, not {mode}")
    raise RigError(f"unknown bootloader variant {variant!r} for {mode} (known: {', '.join(VARIANTS)})")


def boot(flash: Any, layout: Any, log: Callable[[str], None], variant: str = "mcuboot",
         public_key: bytes | None = None, downgrade_prevention: bool = False) -> BootResult:
    """One boot. A PowerCut planned on `flash` propagates out of here, as power loss would."""
    try:
        cls = bootloader_class(variant, layout.mcuboot_mode)
    except RigError as exc:
        raise RigError(f"{layout.source or 'target'}: {exc}") from None
    loader = cls(flash, layout, log, public_key, downgrade_prevention)
    try:
        return loader.boot()
    except BootPanic as exc:
        log(f"panic! {exc}")
        return BootResult(None, "panic", f"bootloader panic: {exc}")
