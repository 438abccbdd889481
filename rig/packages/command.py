"""Packages a target's own tool builds (`[package] format = "command"`): from a payload and a version, the rig
asks the command the target file names for a package, for the broken ones the conformance cases need, for
the version of a package it is given, and for the bytes a known start programs into the primary slot.

The rig cannot look inside these packages: what makes one corrupt or of the wrong
type is the tool's business, and a kind the tool does not make is missing with
the reason (the case that needs it is then a skip that says so).
"""

from __future__ import annotations

from pathlib import Path

from rig.errors import RigError
from rig.flash_layout import FlashLayout
from rig.mcuboot.imgtool_helpers import make_payload
from rig.package_spec import PackageSpec
from rig.packages.base import Accepted, CaseImages, NegativeImage, NegativeSet
from rig.packages.mcuboot import serve_pair
from rig.packages.mcuboot_negatives import NO_LIMIT, lower_version
from rig.packages.tool import PackageTool

WHY = {
    "corrupt": "one byte changed after the package was sealed: its integrity check must fail",
    "truncated": "cut short: the package is incomplete",
    "wrong-type": "not a package of this device's type",
    "crash-on-boot": "installs, then crashes before confirming: the old version must come back",
    "never-confirm": "installs but never confirms itself: the next reset must bring the old version back",
    "wrong-key": "signed with a key the device does not trust",
    "downgrade": "a version lower than the running one",
}
NO_SIZE = ("the target file declares no lwm2m.max_package_size (the largest package this client stores), so the "
           "rig cannot make one too large for it")


class CommandFormat:
    name = "command"

    def __init__(self, spec: PackageSpec, target_file: Path, layout: FlashLayout,
                 max_package_size: int | str | None = None) -> None:
        self.spec, self.layout, self.max_package_size = spec, layout, max_package_size
        self.tool = PackageTool(spec.commands, target_file, spec.timeout)

    def results(self, kind: str) -> int:
        """The Update Result a correct device gives a bad package of this kind (the target's mapping)."""
        if kind in ("corrupt", "truncated"):
            return self.spec.integrity_result
        if kind == "wrong-type":
            return self.spec.type_result
        return 2 if kind == "too-large" else 8

    def _make(self, out: Path, version: str, payload: bytes, kind: str | None = None) -> Path:
        raw = out.with_suffix(".payload")
        raw.write_bytes(payload)
        if kind is None:
            self.tool.run("make", payload=raw.resolve(), version=version, output=out.resolve())
        else:
            self.tool.run("bad", kind=kind, payload=raw.resolve(), version=version, output=out.resolve())
        raw.unlink()
        if not out.is_file():
            raise RigError(f"{self.tool.target_file}: package.{'bad ' + kind if kind else 'make'} exited 0 but wrote "
                           f"no {out}")
        return out

    def _flash_of(self, package: Path, reuse: bool) -> Path | None:
        if not self.tool.has("flash"):
            return None
        out = package.with_suffix(".flash")
        if not (reuse and out.is_file()):
            self.tool.run("flash", package=package.resolve(), output=out.resolve())
        return out

    def make_pair(self, directory: Path, size: int, base_version: str, new_version: str, reuse: bool = False,
                  key: Path | None = None) -> CaseImages:
        directory.mkdir(parents=True, exist_ok=True)
        made = []
        for name, version, seed in (("base", base_version, 1), ("update", new_version, 2)):
            path = directory / f"{name}-{version}.pkg"
            if not (reuse and path.is_file()):
                self._make(path, version, make_payload(size, seed))
            made.append(path)
        flash = self._flash_of(made[0], reuse)
        return CaseImages(made[0], base_version, made[1], new_version, base_flash=flash, program_base=flash is not None)

    def given_pair(self, base: Path, new: Path, firmware: Path) -> CaseImages:
        versions = [self.accept(base, "--base-image").version, self.accept(new, "--new-image").version]
        pair = serve_pair(base, new, versions, firmware)
        flash = self._flash_of(pair.base, reuse=False)
        return CaseImages(pair.base, pair.base_version, pair.new, pair.new_version, base_flash=flash,
                          program_base=flash is not None)

    def accept(self, path: Path, what: str) -> Accepted:
        if not Path(path).is_file():
            raise RigError(f"{what} {path}: no such file")
        if not self.tool.has("version"):
            raise RigError(f"{what} {path}: {self.tool.target_file} names no package.version command, so the rig "
                           "cannot tell which version this package is")
        return Accepted(Path(path), self.tool.version_of(path))

    def negatives(self, directory: Path, size: int, base_version: str, new_version: str,
                  key: Path | None = None) -> NegativeSet:
        directory.mkdir(parents=True, exist_ok=True)
        out = NegativeSet()
        for seed, kind in enumerate(WHY, start=20):
            if kind not in self.spec.negatives:
                out.lack(kind, f"the target's package.bad does not make {kind!r} packages (package.negatives)"
                         if self.tool.has("bad") else "the target file names no package.bad command for bad packages")
                continue
            version = lower_version(base_version) if kind == "downgrade" else new_version
            path = self._make(directory / f"{kind}.pkg", version, make_payload(size, seed), kind)
            out.add(NegativeImage(kind, path, WHY[kind], self.results(kind),
                                  version=None if kind == "wrong-type" else version))
        self._too_large(out, directory, new_version)
        return out

    def _too_large(self, out: NegativeSet, directory: Path, version: str) -> None:
        limit = self.max_package_size
        if "too-large" in self.spec.negatives:
            path = self._make(directory / "too-large.pkg", version, make_payload(1024, 19), "too-large")
        elif limit == "none":
            out.lack("too-large", NO_LIMIT)
            return
        elif not isinstance(limit, int):
            out.lack("too-large", NO_SIZE)
            return
        else:
            payload = make_payload(limit + max(self.layout.sector_size, 4096), 19)
            path = self._make(directory / "too-large.pkg", version, payload)
        out.add(NegativeImage("too-large", path, f"larger than the {limit} bytes the client stores "
                              "(lwm2m.max_package_size)", 2, version=version))
