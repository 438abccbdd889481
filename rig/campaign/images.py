"""Images for a run on the virtual board: base and new, made with imgtool for the target's layout.

A resumed or replayed run reuses the images already in its firmware directory:
the same bytes, so the same blocks are cut.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from rig.campaign.case import CaseImages
from rig.errors import RigError
from rig.flash_layout import FlashLayout
from rig.mcuboot import read_image
from rig.mcuboot.imgtool_helpers import keygen, make_payload, sign_image
from rig.mcuboot.slots import slot_trailer_layout


TLV_ALLOWANCE = 256  # the protected/unprotected TLV areas of an unsigned image (hash, info) fit in this


def max_payload(layout: FlashLayout) -> int:
    """The largest payload whose signed image still fits the slot before its trailer."""
    slot = layout.partition("primary").size
    trailer = slot_trailer_layout(layout, "primary").size
    return slot - trailer - layout.header_size - TLV_ALLOWANCE


def make_images(directory: Path, layout: FlashLayout, size: int, base_version: str = "1.0.0", new_version: str = "1.1.0",
                reuse: bool = False, key: Path | None = None) -> CaseImages:
    """Base and new images of `size` payload bytes; signed with `key` (a PEM private key) when given."""
    limit = max_payload(layout)
    if size > limit:
        raise RigError(f"--image-size {size}: the target's slots take at most {limit} bytes ({limit // 1024}K) of payload")
    directory.mkdir(parents=True, exist_ok=True)
    base_path, new_path = directory / f"base-{base_version}.bin", directory / f"update-{new_version}.bin"
    if reuse and base_path.is_file() and new_path.is_file():
        return CaseImages(base_path, base_version, new_path, new_version)
    base = sign_image(base_path, layout, base_version, make_payload(size, 1), key=key, slot="primary")
    new = sign_image(new_path, layout, new_version, make_payload(size, 2), key=key, slot="primary")
    return CaseImages(base, base_version, new, new_version)


def per_run_test_key(directory: Path) -> Path:
    """The run's own signing key for the virtual board (a TEST key, made per run, never committed)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "TEST-ONLY-signing-key.pem"
    return path if path.is_file() else keygen(path)


def given_images(base: Path, new: Path, firmware: Path, layout: FlashLayout) -> CaseImages:
    """The user's own signed images (a real board boots only real firmware), copied into the served directory."""
    firmware.mkdir(parents=True, exist_ok=True)
    versions = []
    for what, path in (("--base-image", base), ("--new-image", new)):
        if not path.is_file():
            raise RigError(f"{what} {path}: no such file")
        info = read_image(path.read_bytes(), layout)
        if info.version is None or not info.intact:
            raise RigError(f"{what} {path}: not an intact MCUboot image ({info.problem or 'no header'})")
        versions.append(info.version)
    if versions[0] == versions[1]:
        raise RigError(f"--base-image and --new-image are both version {versions[0]}: the update would be invisible")
    served = []
    for path in (base, new):
        target = firmware / path.name
        if target.resolve() != path.resolve():
            shutil.copyfile(path, target)
        served.append(target)
    return CaseImages(served[0], versions[0], served[1], versions[1])
