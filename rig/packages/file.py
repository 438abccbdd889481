"""Packages the rig is given and sends as they are (`[package] format = "file"`): a raw binary, a tarball,
a delta, whatever the device takes. The rig cannot make them; it needs the pair (rig run --base-image
--new-image, rig update PKG), and learns each file's version from its name (package.version_from_name)
or from a command (package.version). Bad packages are the files the target names (package.negatives).
A known start programs nothing: the target's process.reset_command puts the base back ({base_package}).
"""

from __future__ import annotations

import re
from pathlib import Path

from rig.errors import RigError
from rig.package_spec import NEGATIVE_KINDS, PackageSpec
from rig.packages.base import Accepted, CaseImages, NegativeImage, NegativeSet
from rig.packages.command import WHY
from rig.packages.mcuboot import serve_pair
from rig.packages.mcuboot_negatives import NO_LIMIT
from rig.packages.tool import PackageTool


class FileFormat:
    name = "file"

    def __init__(self, spec: PackageSpec, target_file: Path, max_package_size: int | str | None = None) -> None:
        self.spec, self.max_package_size = spec, max_package_size
        self.target_file = Path(target_file).resolve()
        self.tool = PackageTool(spec.commands, target_file, spec.timeout)

    def version_of(self, path: Path, what: str) -> str:
        if self.spec.version_from_name:
            match = re.search(self.spec.version_from_name, Path(path).name)
            if match:
                return match.groupdict().get("version") or match.group(1)
        if self.tool.has("version"):
            return self.tool.version_of(path)
        how = f"its name does not match package.version_from_name {self.spec.version_from_name!r}" \
            if self.spec.version_from_name else "the target file has no package.version_from_name or package.version"
        raise RigError(f"{what} {path}: which version is it? {how}")

    def make_pair(self, directory: Path, size: int, base_version: str, new_version: str, reuse: bool = False,
                  key: Path | None = None) -> CaseImages:
        raise RigError(f"{self.target_file}: package.format = \"file\": the rig sends the packages it is given; "
                       "give --base-image and --new-image")

    def given_pair(self, base: Path, new: Path, firmware: Path) -> CaseImages:
        versions = [self.accept(base, "--base-image").version, self.accept(new, "--new-image").version]
        return serve_pair(base, new, versions, firmware, program_base=False)

    def accept(self, path: Path, what: str) -> Accepted:
        if not Path(path).is_file():
            raise RigError(f"{what} {path}: no such file")
        return Accepted(Path(path), self.version_of(path, what))

    def negatives(self, directory: Path, size: int, base_version: str, new_version: str,
                  key: Path | None = None) -> NegativeSet:
        out = NegativeSet()
        for kind in NEGATIVE_KINDS:
            given = self.spec.negative_files.get(kind)
            if given is None:
                out.lack(kind, NO_LIMIT if kind == "too-large" and self.max_package_size == "none" else
                         f"the target file names no {kind!r} package (package.negatives)")
                continue
            path = Path(given) if Path(given).is_absolute() else self.target_file.parent / given
            if not path.is_file():
                raise RigError(f"{self.target_file}: package.negatives.{kind}: no such file {path}")
            directory.mkdir(parents=True, exist_ok=True)
            served = directory / f"{kind}-{path.name}"
            served.write_bytes(path.read_bytes())
            result = {"corrupt": self.spec.integrity_result, "truncated": self.spec.integrity_result,
                      "wrong-type": self.spec.type_result, "too-large": 2}.get(kind, 8)
            version = None if kind == "wrong-type" else self._maybe_version(path)
            out.add(NegativeImage(kind, served, WHY.get(kind, "larger than the client stores"), result, version=version))
        return out

    def _maybe_version(self, path: Path) -> str | None:
        try:
            return self.version_of(path, "package")
        except RigError:
            return None
