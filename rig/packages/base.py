"""What every package format gives the rest of the rig: the base/new pair, the bad packages, a package's version.

A format (rig.packages.mcuboot, .file, .command) is chosen by the target's
`[package] format`; campaigns, conformance cases and `rig update` only see these
records and the PackageFormat protocol, never which format made them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class CaseImages:
    """The packages of a run. base_flash: what a known start programs into the primary slot (None: the base
    package itself, as for MCUboot images); program_base False: nothing is programmed (the target's
    reset_command puts its base back)."""

    base: Path
    base_version: str
    new: Path
    new_version: str
    base_flash: Path | None = None
    program_base: bool = True

    @property
    def flash_form(self) -> Path | None:
        """The file a known start programs into the primary slot, or None."""
        if not self.program_base:
            return None
        return self.base_flash or self.base


@dataclass(frozen=True)
class NegativeImage:
    """A bad package. expected_result: the Update Result a correct target ends with.

    decoded_state: what the rig's MCUboot decoder says about it in the secondary slot ("" when the format is
    not MCUboot: the rig cannot look inside); marker: the image behaviour marker it carries; version: the version
    it claims (None when it has none).
    """

    name: str
    path: Path
    why: str
    expected_result: int
    decoded_state: str = ""
    version: str | None = None
    marker: bytes | None = None
    verify_key: Path | None = None


@dataclass
class NegativeSet:
    """The bad packages made for a target, by kind, and why each kind that is not there could not be made."""

    made: dict[str, NegativeImage] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)

    def add(self, image: NegativeImage) -> None:
        self.made[image.name] = image

    def lack(self, kind: str, why: str) -> None:
        self.missing.setdefault(kind, why)


@dataclass(frozen=True)
class Accepted:
    """A package the user gave, checked as far as the format allows: its version and a note for the user."""

    path: Path
    version: str
    note: str = ""


class PackageFormat(Protocol):
    name: str

    def make_pair(self, directory: Path, size: int, base_version: str, new_version: str, reuse: bool = False,
                  key: Path | None = None) -> CaseImages: ...

    def given_pair(self, base: Path, new: Path, firmware: Path) -> CaseImages: ...

    def accept(self, path: Path, what: str) -> Accepted: ...

    def negatives(self, directory: Path, size: int, base_version: str, new_version: str,
                  key: Path | None = None) -> NegativeSet: ...
