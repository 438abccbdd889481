"""The one place the virtual board's MCU calls the bootloader and the MCUboot trailer code.

Keeping every call into rig.sim.bootloader and rig.mcuboot here means the rest of
the client deals in one small record (RunningImage / SlotImage) and the boundary
to the flash/bootloader pieces is a single file to read.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from rig.sim.defects import IMAGE_MARKERS

Log = Callable[[str], None]


@dataclass
class SlotImage:
    version: str
    hash: str | None  # hex of the image's SHA-256 TLV
    valid: bool  # header, TLVs and hash check out
    payload: bytes = b""


@dataclass
class RunningImage:
    version: str
    hash: str | None
    confirmed: bool
    behaviours: set[str] = field(default_factory=set)
    swap: str = ""


def slot_image(flash: Any, layout: Any, slot: str) -> SlotImage | None:
    """The image in a slot, or None when there is no image header at all."""
    from rig.mcuboot.slots import read_slot_image

    info = read_slot_image(flash.read, layout, slot)
    if info.version is None:
        return None
    return SlotImage(
        version=str(info.version),
        hash=info.hash_tlv.hex() if info.hash_tlv else None,
        valid=info.intact,
        payload=bytes(info.payload),
    )


def behaviours_of(payload: bytes) -> set[str]:
    return {name for name, marker in IMAGE_MARKERS.items() if marker in payload}


def boot_flash(config: dict[str, Any], log: Log) -> tuple[Any, Any, dict[str, Any], RunningImage | None]:
    """Open the flash file, run the bootloader; the booted image (None: nothing bootable)."""
    from rig.flash_layout import FlashLayout
    from rig.sim import bootloader, power_loss
    from rig.sim.flash import Flash

    target_path = Path(config["target"])
    target = tomllib.loads(target_path.read_text(encoding="utf-8"))
    layout = FlashLayout.from_target(target, str(target_path))
    flash: Any = power_loss.wrap(Flash(layout, path=Path(config["flash"])), config)
    if config.get("erase_ms"):
        from rig.sim.timed_flash import TimedFlash

        flash = TimedFlash(flash, float(config["erase_ms"]) / 1000.0)
    kwargs: dict[str, Any] = {}
    if "swap-not-resumable" in config.get("defects", []):
        kwargs["variant"] = "no-resume"
    if config.get("image_key"):
        kwargs["public_key"] = Path(config["image_key"]).read_bytes()
    kwargs["downgrade_prevention"] = bool(config.get("downgrade_prevention"))
    result = bootloader.boot(flash, layout, log, **kwargs)
    if result.image is None:
        return flash, layout, target, None
    slot = slot_image(flash, layout, "primary")
    payload = slot.payload if slot else b""
    return flash, layout, target, RunningImage(
        version=str(result.image.version),
        hash=slot.hash if slot else None,
        confirmed=primary_confirmed(flash, layout),
        behaviours=behaviours_of(payload),
        swap=str(getattr(result, "swap", "")),
    )


def primary_confirmed(flash: Any, layout: Any) -> bool:
    """True unless the primary trailer asks for a revert (magic set, image_ok unset)."""
    from rig.mcuboot.trailer import GOOD, UNSET, TrailerLayout, read_trailer

    part = layout.partition("primary")
    trailer = read_trailer(flash.read(part.offset, part.size), TrailerLayout.for_slot(layout, part.size))
    return not (trailer.magic == GOOD and trailer.image_ok == UNSET)


def confirm(flash: Any, layout: Any, log: Log) -> None:
    from rig.mcuboot.app import mark_confirmed

    if primary_confirmed(flash, layout):
        return
    mark_confirmed(flash, layout)
    log("[app] image confirmed")


def mark_pending(flash: Any, layout: Any, permanent: bool, log: Log) -> None:
    from rig.mcuboot.app import mark_pending as pending

    pending(flash, layout, permanent=permanent)
    log(f"[app] secondary marked pending ({'permanent' if permanent else 'test'} swap)")


def trailer_size(layout: Any, slot: str) -> int:
    from rig.mcuboot.trailer import TrailerLayout

    return int(TrailerLayout.for_slot(layout, layout.partition(slot).size).size)
