"""Images for a run on the virtual board: base and new, made with imgtool for the target's layout."""

from __future__ import annotations

from pathlib import Path

from rig.campaign.case import CaseImages
from rig.flash_layout import FlashLayout
from rig.mcuboot.imgtool_helpers import make_payload, sign_image


def make_images(directory: Path, layout: FlashLayout, size: int, base_version: str = "1.0.0", new_version: str = "1.1.0") -> CaseImages:
    directory.mkdir(parents=True, exist_ok=True)
    base = sign_image(directory / f"base-{base_version}.bin", layout, base_version, make_payload(size, 1), slot="primary")
    new = sign_image(directory / f"update-{new_version}.bin", layout, new_version, make_payload(size, 2), slot="primary")
    return CaseImages(base, base_version, new, new_version)
