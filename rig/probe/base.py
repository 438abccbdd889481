"""The Probe protocol and what backends share: timeline events and partition-aware reads.

Addresses are absolute (in the MCU memory map, flash base included), as a debug
probe sees them; `read_partition` turns a partition name into that range.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from rig.errors import RigError
from rig.flash_layout import FlashLayout
from rig.timeline import Timeline


class ProbeError(RigError):
    """The probe is missing, busy, or an operation on the target failed."""


@runtime_checkable
class Probe(Protocol):
    """What the place and the campaign need from a probe; capabilities are plain attributes (see ProbeBase)."""

    name: str
    backend: str
    resets_target: bool
    unique_id: str | None

    def program(self, path: Path, address: int | None = None) -> None: ...

    def read(self, address: int, length: int, path: Path) -> None: ...

    def read_bytes(self, address: int, length: int) -> bytes: ...

    def device_settings(self, address: int, length: int, layout: FlashLayout) -> dict[str, Any] | None: ...

    def erase(self, address: int, length: int) -> None: ...

    def reset(self, halt: bool = False) -> None: ...

    def halt(self) -> None: ...

    def close(self) -> None: ...


class ProbeBase:
    backend = "base"
    resets_target = True  # False: reset() cannot restart the device (a file probe); the rig power-cycles instead
    takes_layout = False  # True: the backend is built with the target's flash layout (a file probe checks ranges)
    unique_id: str | None = None  # the debug probe's id where it has one (a pyocd probe, the virtual board's port)

    def __init__(self, *, name: str = "", timeline: Timeline | None = None) -> None:
        self.name = name
        self.timeline = timeline

    def _event(self, action: str, **data: Any) -> None:
        if self.timeline is not None:
            self.timeline.append("probe", place=self.name, backend=self.backend, action=action, **data)

    def __enter__(self) -> "ProbeBase":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the probe (subclasses with a connection override this)."""

    def read(self, address: int, length: int, path: Path) -> None:
        raise NotImplementedError

    def read_bytes(self, address: int, length: int) -> bytes:
        """`length` bytes at `address`; backends that read into memory anyway override this (no file in between)."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "region.bin"
            self.read(address, length, path)
            return path.read_bytes()

    def device_settings(self, address: int, length: int, layout: FlashLayout) -> dict[str, Any] | None:
        """The values the device's firmware keeps in its settings area, when this probe's device can say what its
        own record format holds (the virtual board can); None for any other firmware: its format is its own."""
        return None


def image_format(path: Path) -> str:
    """"bin", "hex" or "elf" from the file name, as pyocd's FileProgrammer decides too."""
    suffix = Path(path).suffix.lower()
    if suffix in (".hex", ".ihex"):
        return "hex"
    if suffix in (".elf", ".axf", ".out"):
        return "elf"
    return "bin"


def read_partition(probe: Probe, layout: FlashLayout, name: str, path: Path) -> None:
    """Dump partition `name` (e.g. "secondary") to `path`: `rig dump secondary -o s.bin`."""
    part = layout.partition(name)
    probe.read(layout.base + part.offset, part.size, path)
