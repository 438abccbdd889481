"""Where a download goes on the virtual board, and what the device decides about it at the end.

Two package modes, chosen on the board's command line: "mcuboot" (the package is
an MCUboot image, stored into the secondary slot as it arrives) and "vendor" (a
VPK1 container, rig.sim.app.vendor_package: its header is kept in the settings,
its payload, an MCUboot image, goes to the slot). Both stream into the slot with
the same SlotWriter, and both say where a resumed pull may start again: at a
package offset whose slot offset begins a sector, so nothing already erased is
trusted. Offsets here are package offsets (bytes of the package as served).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from rig.sim.app import image, vendor_package as vpk
from rig.sim.app.slot_writer import SlotWriter

R_INTEGRITY, R_UNSUPPORTED_TYPE = 5, 6
MODES = ("mcuboot", "vendor")


@dataclass(frozen=True)
class Stored:
    """What the device concluded about a whole download: `result` set means refused (5 or 6)."""

    length: int
    result: int | None = None
    reason: str = ""
    version: str | None = None
    hash: str | None = None


class McubootSink:
    """The package is the image: byte N of the package is byte N of the secondary slot."""

    mode = "mcuboot"

    def __init__(self, flash: Any, layout: Any, writer: SlotWriter, saved: dict[str, Any]) -> None:
        self.flash, self.layout, self.writer = flash, layout, writer

    def resume_at(self, received: int) -> int:
        sector = self.layout.sector_size
        return (received // sector) * sector

    def begin(self, at: int) -> None:
        self.writer.begin(at)

    def keep_position(self, received: int) -> None:
        """The resume-from-zero-keeping-bytes defect: go on writing after what is stored, whatever comes."""
        self.writer.pos = received

    def write(self, offset: int, data: bytes) -> None:
        self.writer.write(offset, data)

    def finish(self, skip_checks: bool) -> Stored:
        length = self.writer.finish()
        info = image.slot_image(self.flash, self.layout, "secondary")
        if not skip_checks and info is None:
            return Stored(length, R_UNSUPPORTED_TYPE, "not an MCUboot image (no header magic): unsupported package type")
        if not skip_checks and not info.valid:
            return Stored(length, R_INTEGRITY, "integrity check failed")
        return Stored(length, version=info.version if info else None, hash=info.hash if info else None)


class VendorSink:
    """VPK1 packages: the 64-byte header is kept (in the settings, so a resumed pull still has it), the payload
    is written from slot offset 0."""

    mode = "vendor"

    def __init__(self, flash: Any, layout: Any, writer: SlotWriter, saved: dict[str, Any]) -> None:
        self.flash, self.layout, self.writer = flash, layout, writer
        self.saved = saved  # the firmware object's persisted values: "pkg_header" (hex) lives there
        self.header = bytearray(bytes.fromhex(saved.get("pkg_header") or ""))

    def resume_at(self, received: int) -> int:
        if received <= vpk.HEADER_SIZE or len(self.header) < vpk.HEADER_SIZE:
            return 0
        sector = self.layout.sector_size
        return vpk.HEADER_SIZE + ((received - vpk.HEADER_SIZE) // sector) * sector

    def begin(self, at: int) -> None:
        if at == 0:
            self.header = bytearray()
            self.saved["pkg_header"] = None
        self.writer.begin(max(0, at - vpk.HEADER_SIZE))

    def keep_position(self, received: int) -> None:
        self.writer.pos = max(0, received - vpk.HEADER_SIZE)

    def write(self, offset: int, data: bytes) -> None:
        if offset < vpk.HEADER_SIZE:
            take = data[: vpk.HEADER_SIZE - offset]
            self.header[offset: offset + len(take)] = take
            data, offset = data[len(take):], offset + len(take)
            if len(self.header) == vpk.HEADER_SIZE:
                self.saved["pkg_header"] = bytes(self.header).hex()
        if data:
            self.writer.write(offset - vpk.HEADER_SIZE, data)

    def finish(self, skip_checks: bool) -> Stored:
        length = self.writer.finish()
        info = image.slot_image(self.flash, self.layout, "secondary")
        header = None
        try:
            header = vpk.parse_header(bytes(self.header))
            vpk.check_payload(header, self.flash.read(self.layout.partition("secondary").offset, length))
            if info is None or not info.valid:
                raise vpk.PackageError(R_INTEGRITY, "the payload is not an intact image for this board")
        except vpk.PackageError as exc:
            if not skip_checks:
                return Stored(length, exc.result, str(exc))
        return Stored(length, version=header.version if header else None, hash=info.hash if info else None)


def make_sink(mode: str, flash: Any, layout: Any, writer: SlotWriter, saved: dict[str, Any]) -> McubootSink | VendorSink:
    sinks: dict[str, Callable[..., Any]] = {"mcuboot": McubootSink, "vendor": VendorSink}
    if mode not in sinks:
        raise ValueError(f"package mode {mode!r}: one of {', '.join(MODES)}")
    return sinks[mode](flash, layout, writer, saved)
