"""Packages that are MCUboot images (the default format): made with imgtool for the target's slots, or the
user's own, checked the way the target's MCUboot will see them (rig.mcuboot.image_file).

Signed images as imgtool and Zephyr write them, unpadded or padded, and a one-line
error naming the file and what is wrong when they do not fit. A known start
programs the base image itself into the primary slot.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from rig.errors import RigError
from rig.flash_layout import FlashLayout
from rig.mcuboot.image_file import DOWNLOAD, FLASH, ImageFile, check_image_file
from rig.mcuboot.imgtool_helpers import make_payload, sign_image
from rig.mcuboot.limits import max_image_size
from rig.package_spec import PackageSpec
from rig.packages.base import Accepted, CaseImages, NegativeSet
from rig.packages.mcuboot_negatives import make_negatives

TLV_ALLOWANCE = 256  # TLV areas of a signed image (hash, key hash, an EC/Ed25519 signature, info) fit in this
UNSIGNED_TLVS = 40  # an unsigned image's TLV area: info (4) + SHA256 TLV (4 + 32)


def max_payload(layout: FlashLayout, tlv_size: int = TLV_ALLOWANCE) -> int:
    """The largest payload whose signed image (header + payload + TLVs of tlv_size bytes) the slots swap."""
    return min(max_image_size(layout, "primary"), max_image_size(layout, "secondary")) - layout.header_size - tlv_size


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


def accept_image(path: Path, layout: FlashLayout, what: str, slot: str = "secondary", purpose: str = DOWNLOAD,
                 public_key: object | None = None, intact: bool = True) -> ImageFile:
    """The checked image in `path`, or RigError "<what> <path>: <what is wrong>" in one line.

    intact=False (rig update, rig flash) lets through an image with a bad hash or signature:
    a package the device must refuse is a test, not a mistake.
    """
    if not path.is_file():
        raise RigError(f"{what} {path}: no such file")
    checked = check_image_file(path.read_bytes(), layout, slot, purpose, public_key, intact)
    if not checked.ok:
        raise RigError(f"{what} {path}: {checked.problem}")
    return checked


def given_images(base: Path, new: Path, firmware: Path, layout: FlashLayout) -> CaseImages:
    """The user's own signed images (a real board boots only real firmware), copied into the served directory.

    The base image is programmed into the primary slot; the new one is downloaded into the secondary.
    """
    versions = [accept_image(base, layout, "--base-image", "primary", FLASH).version,
                accept_image(new, layout, "--new-image", "secondary", DOWNLOAD).version]
    return serve_pair(base, new, versions, firmware)


def serve_pair(base: Path, new: Path, versions: list[str], firmware: Path, **extra: object) -> CaseImages:
    """Copy a checked pair into the served directory (different versions, or the update would be invisible)."""
    if versions[0] == versions[1]:
        raise RigError(f"--base-image and --new-image are both version {versions[0]}: the update would be invisible")
    firmware.mkdir(parents=True, exist_ok=True)
    served = []
    for path in (base, new):
        target = firmware / path.name
        if target.resolve() != path.resolve():
            shutil.copyfile(path, target)
        served.append(target)
    return CaseImages(served[0], versions[0], served[1], versions[1], **extra)  # type: ignore[arg-type]


class McubootFormat:
    """The default format: a package is a signed MCUboot image for the secondary slot."""

    name = "mcuboot"

    def __init__(self, layout: FlashLayout, spec: PackageSpec, max_package_size: int | str | None = None) -> None:
        self.layout, self.spec, self.max_package_size = layout, spec, max_package_size

    def make_pair(self, directory: Path, size: int, base_version: str, new_version: str, reuse: bool = False,
                  key: Path | None = None) -> CaseImages:
        return make_images(directory, self.layout, size, base_version, new_version, reuse, key)

    def given_pair(self, base: Path, new: Path, firmware: Path) -> CaseImages:
        return given_images(base, new, firmware, self.layout)

    def accept(self, path: Path, what: str) -> Accepted:
        checked = accept_image(path, self.layout, what, "secondary", intact=False)  # as the device stores it
        note = "" if checked.info.state == "intact" else \
            f"{path} is {checked.info.state}; a correct device refuses it"
        return Accepted(path, checked.version, note)

    def negatives(self, directory: Path, size: int, base_version: str, new_version: str,
                  key: Path | None = None) -> NegativeSet:
        return make_negatives(directory, self.layout, size, base_version, new_version, key, self.spec,
                              self.max_package_size)
