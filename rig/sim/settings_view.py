"""The virtual board describing its own settings area to whoever reads its flash.

The settings record format (rig.sim.app.settings) is the virtual firmware's
private business: the rig's checker never decodes it. The virtual board's probe
backend asks this module instead, as a vendor tool would decode its own
firmware's storage, so `rig inspect` can still show what the board keeps.
"""

from __future__ import annotations

from typing import Any

from rig.sim.app.settings import SettingsStore


class _Snapshot:
    """Read-only flash over bytes dumped from the settings partition at `offset`."""

    def __init__(self, raw: bytes, offset: int) -> None:
        self._raw, self._offset = raw, offset

    def read(self, offset: int, length: int) -> bytes:
        return self._raw[offset - self._offset:offset - self._offset + length]

    def erase(self, offset: int, length: int) -> None:
        raise PermissionError("a settings snapshot is read-only")

    def program(self, offset: int, data: bytes) -> None:
        raise PermissionError("a settings snapshot is read-only")


def settings_values(raw: bytes, offset: int, sector_size: int, write_size: int, erased_value: int) -> dict[str, Any] | None:
    """The newest intact settings record in `raw` (the partition read at flash offset `offset`), None when these
    bytes are not in the virtual firmware's record format."""
    try:
        values = SettingsStore(_Snapshot(raw, offset), offset, len(raw), sector_size, write_size, erased_value).values
    except Exception:  # noqa: BLE001 - another firmware's bytes: not ours to describe
        return None
    return dict(values) or None
