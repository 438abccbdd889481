"""The one place the virtual board's MCU calls the bootloader and the MCUboot trailer code.

Keeping every call into rig.sim.bootloader and rig.sim.bootutil here means the rest of
the client deals in one small record (RunningImage / SlotImage) and the boundary
to the flash/bootloader pieces is a single file to read. Like a real device it
uses only its own MCUboot code, never the rig's checker.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from rig.sim.bootutil import public
from rig.sim.bootutil.area import Area
from rig.sim.bootutil.image import validate
from rig.sim.bootutil.trailer import Geometry
from rig.sim.defects import IMAGE_MARKERS
from rig.flash_layout import FlashLayout
from rig.sim import bootloader, power_loss
from rig.sim.flash import Flash
from rig.sim.timed_flash import TimedFlash

Log = Callable[[str], None]


@dataclass
class SlotImage:
    version: str
    hash: str | None  # hex of the image's hash TLV
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
    geo = Geometry(layout)
    fa = public.slot_area(flash, layout, slot)
    primary = Area(flash, layout.partition("primary"), layout.sector_size)
    verdict = validate(fa, geo.app_max_size(primary))
    if verdict.version is None:
        return None
    hdr = verdict.header
    payload = fa.read(hdr.hdr_size, min(hdr.img_size, max(0, fa.size - hdr.hdr_size)))
    return SlotImage(
        version=verdict.version,
        hash=verdict.hash_value.hex() if verdict.hash_value else None,
        valid=verdict.ok,
        payload=payload,
    )


def behaviours_of(payload: bytes) -> set[str]:
    return {name for name, marker in IMAGE_MARKERS.items() if marker in payload}


def boot_flash(config: dict[str, Any], log: Log) -> tuple[Any, Any, dict[str, Any], RunningImage | None]:
    """Open the flash file, run the bootloader; the booted image (None: nothing bootable)."""

    target_path = Path(config["target"])
    target = tomllib.loads(target_path.read_text(encoding="utf-8"))
    layout = FlashLayout.from_target(target, str(target_path))
    flash: Any = power_loss.wrap(Flash(layout, path=Path(config["flash"])), config)
    if config.get("erase_ms"):
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
    return not public.running_unconfirmed(flash, layout)


def confirm(flash: Any, layout: Any, log: Log) -> None:
    if public.set_confirmed(flash, layout):
        log("[app] image confirmed")


def mark_pending(flash: Any, layout: Any, permanent: bool, log: Log) -> None:
    public.set_pending(flash, layout, permanent=permanent)
    log(f"[app] secondary marked pending ({'permanent' if permanent else 'test'} swap)")


def trailer_size(layout: Any, slot: str) -> int:
    return Geometry(layout).trailer_sz()
