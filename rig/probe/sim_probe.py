"""Probe of the virtual board through the supervisor's debug port (no pyocd needed).

The pyocd plugin reaches the same port through pyocd; this backend is the short
path the campaign uses for known starts and flash verdicts on the virtual board.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rig.flash_layout import FlashLayout
from rig.probe.base import ProbeBase, ProbeError, image_format
from rig.sim.control import SupervisorClient, SupervisorError
from rig.sim.settings_view import settings_values


class SimProbe(ProbeBase):
    backend = "sim"

    def __init__(self, control_port: int, host: str = "127.0.0.1", unique_id: str | None = None, **common: Any) -> None:
        super().__init__(**common)
        self._client = SupervisorClient(control_port, host)
        self.unique_id = unique_id  # the board's debug-port id, when the rig started the board and knows it

    def _call(self, what: str, fn, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (SupervisorError, OSError) as exc:
            raise ProbeError(f"virtual board probe: {what} failed: {exc}") from exc

    def program(self, path: Path, address: int | None = None) -> None:
        if image_format(path) != "bin":
            raise ProbeError(f"{path}: the virtual board's probe programs raw .bin images only")
        if address is None:
            raise ProbeError(f"{path}: a .bin image needs an address")
        data = Path(path).read_bytes()
        self.program_bytes(address, data)
        self._event("program", file=str(path), address=address, size=len(data))

    def program_bytes(self, address: int, data: bytes) -> None:
        info = self._call("info", self._client.info)
        # As a flash algorithm does: the last write unit is filled up with the erased value.
        data += bytes([info.erased_value]) * (-len(data) % info.write_size)
        sector = info.sector_size
        start = address - address % sector
        end = address + len(data)
        self._call("erase", self._client.erase, start, -(-(end - start) // sector) * sector)
        chunk = 32 * 1024
        for off in range(0, len(data), chunk):
            self._call("program", self._client.program, address + off, data[off : off + chunk])

    def read(self, address: int, length: int, path: Path) -> None:
        Path(path).write_bytes(self.read_bytes(address, length))
        self._event("read", address=address, length=length, file=str(path))

    def read_bytes(self, address: int, length: int) -> bytes:
        chunk = 64 * 1024
        end = address + length
        return b"".join(self._call("read", self._client.read, a, min(chunk, end - a)) for a in range(address, end, chunk))

    def device_settings(self, address: int, length: int, layout: FlashLayout) -> dict[str, Any] | None:
        """The virtual firmware's settings record, decoded by the virtual board's own code (rig.sim.settings_view)."""
        return settings_values(self.read_bytes(address, length), address - layout.base, layout.sector_size,
                               layout.write_size, layout.erased_value)

    def erase(self, address: int, length: int) -> None:
        self._call("erase", self._client.erase, address, length)
        self._event("erase", address=address, length=length)

    def reset(self, halt: bool = False) -> None:
        self._call("reset", self._client.reset, halt)
        self._event("reset", halt=halt)

    def halt(self) -> None:
        self._call("halt", self._client.halt)
        self._event("halt")

    def close(self) -> None:
        self._client.close()
