"""Package formats: what a firmware package is for a target, and how the rig makes, checks and breaks one.

`[package] format` in the target file picks one (rig.package_spec reads the table):
mcuboot (signed MCUboot images, the default), file (the user's files as they are),
command (the target's own packaging tool). Everything else in the rig goes through
`package_format(...)` and the PackageFormat protocol of rig.packages.base.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rig.flash_layout import FlashLayout
from rig.package_spec import PackageSpec
from rig.packages.base import Accepted, CaseImages, NegativeImage, NegativeSet, PackageFormat
from rig.packages.command import CommandFormat
from rig.packages.file import FileFormat
from rig.packages.mcuboot import McubootFormat

__all__ = ["Accepted", "CaseImages", "NegativeImage", "NegativeSet", "PackageFormat", "package_format"]


def package_format(target: dict[str, Any], target_file: Path, layout: FlashLayout) -> PackageFormat:
    """The format the target file declares, ready to make or check its packages."""
    spec = PackageSpec.from_target(target, str(target_file))
    limit = (target.get("lwm2m") or {}).get("max_package_size")
    if spec.format == "command":
        return CommandFormat(spec, Path(target_file), layout, limit)
    if spec.format == "file":
        return FileFormat(spec, Path(target_file), limit)

    return McubootFormat(layout, spec, limit)
