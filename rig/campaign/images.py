"""Images for a run: made for the target's package format, or the user's own, checked before anything starts.

A resumed or replayed run reuses the packages already in its firmware directory:
the same bytes, so the same blocks are cut. How a package is made and checked is
the format's (rig.packages: MCUboot images by default, a file the user gives, or
the target's own packaging command); the names below are the MCUboot ones the
rest of the rig and its tests use.
"""

from __future__ import annotations

from pathlib import Path

from rig.mcuboot.imgtool_helpers import keygen
from rig.packages import CaseImages, package_format
from rig.packages.mcuboot import TLV_ALLOWANCE, UNSIGNED_TLVS, accept_image, given_images, make_images, max_payload

__all__ = ["TLV_ALLOWANCE", "UNSIGNED_TLVS", "accept_image", "given_images", "make_images", "max_payload",
           "per_run_test_key", "run_images"]


def per_run_test_key(directory: Path) -> Path:
    """The run's own signing key for the virtual board (a TEST key, made per run, never committed)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "TEST-ONLY-signing-key.pem"
    return path if path.is_file() else keygen(path)


def run_images(target: dict, target_file: Path, layout, firmware: Path, size: int, base: Path | None = None,
               new: Path | None = None, reuse: bool = False, key: Path | None = None) -> CaseImages:
    """The run's base and new packages in the served directory: the user's pair (checked), or made for the target."""
    fmt = package_format(target, target_file, layout)
    if base is not None and new is not None:
        return fmt.given_pair(Path(base), Path(new), firmware)
    return fmt.make_pair(firmware, size, "1.0.0", "1.1.0", reuse=reuse, key=key)
