"""The bad packages of a run's conformance cases, made for the target's package format (rig.packages).

`make_negative_images` keeps the MCUboot maker's old name and shape (a dict by kind) for the
tests that decode them; a run asks `run_negatives`, which also says why a kind is missing.
"""

from __future__ import annotations

from pathlib import Path

from rig.flash_layout import FlashLayout
from rig.packages import NegativeImage, NegativeSet, package_format
from rig.packages.mcuboot_negatives import lower_version, make_negatives, read_back

__all__ = ["NegativeImage", "lower_version", "make_negative_images", "read_back", "run_negatives"]


def make_negative_images(directory: Path, layout: FlashLayout, size: int, base_version: str, new_version: str,
                         key: Path | None = None) -> dict[str, NegativeImage]:
    """The MCUboot bad packages by kind (corrupt, truncated, wrong-type, too-large, wrong-key, downgrade, ...)."""
    return make_negatives(directory, layout, size, base_version, new_version, key).made


def run_negatives(target: dict, target_file: Path, layout: FlashLayout, directory: Path, size: int,
                  base_version: str, new_version: str, key: Path | None = None) -> NegativeSet:
    return package_format(target, target_file, layout).negatives(directory, size, base_version, new_version, key)
