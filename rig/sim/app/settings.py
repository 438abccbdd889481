"""Object 5 state kept in the settings partition, surviving power cuts.

An append-only log of CRC-checked records over the partition's sectors, used as a
ring: a torn record (cut mid-program) fails its CRC and the previous one stands; a
full sector moves the log to the next sector, erased first. This is how small
devices keep settings on NOR flash (Zephyr's NVS/FCB work the same way).
"""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any, Protocol

MAGIC = b"RS01"
HEADER = struct.Struct(">4sIH")  # magic, sequence number, payload length


class FlashLike(Protocol):
    def read(self, offset: int, length: int) -> bytes: ...
    def erase(self, offset: int, length: int) -> None: ...
    def program(self, offset: int, data: bytes) -> None: ...


class SettingsStore:
    """Load the newest intact record; `save` appends a new one (a dict of JSON values)."""

    def __init__(self, flash: FlashLike, offset: int, size: int, sector_size: int,
                 write_size: int, erased_value: int) -> None:
        self._flash = flash
        self._offset = offset
        self._sector_size = sector_size
        self._sectors = max(1, size // sector_size)
        self._write_size = write_size
        self._erased = erased_value
        self._seq = 0
        self._sector = 0
        self._pos = 0  # next free byte inside the active sector
        self._needs_move = False
        self.values: dict[str, Any] = {}
        self._load()

    def _records(self, sector: int) -> tuple[list[tuple[int, dict[str, Any]]], int, bool]:
        """Intact records of one sector, the end of the last one, and whether garbage follows it."""
        base = self._offset + sector * self._sector_size
        raw = self._flash.read(base, self._sector_size)
        pos, found = 0, []
        while pos + HEADER.size + 4 <= len(raw):
            magic, seq, length = HEADER.unpack_from(raw, pos)
            if raw[pos:pos + HEADER.size] == bytes([self._erased]) * HEADER.size:
                return found, pos, False
            end = pos + HEADER.size + length + 4
            if magic != MAGIC or end > len(raw):
                return found, pos, True
            body = raw[pos:pos + HEADER.size + length]
            (crc,) = struct.unpack_from(">I", raw, pos + HEADER.size + length)
            if zlib.crc32(body) != crc:
                return found, pos, True
            try:
                found.append((seq, json.loads(raw[pos + HEADER.size:pos + HEADER.size + length])))
            except ValueError:
                return found, pos, True
            pos = self._aligned(end)
        return found, pos, False

    def _aligned(self, n: int) -> int:
        return -(-n // self._write_size) * self._write_size

    def _load(self) -> None:
        best_seq = -1
        for sector in range(self._sectors):
            records, end, garbage = self._records(sector)
            for seq, values in records:
                if seq > best_seq:
                    best_seq, self.values = seq, values
                    self._sector, self._pos, self._needs_move = sector, end, garbage
        if best_seq < 0:
            # Nothing valid: start at sector 0, erasing it if it holds anything.
            _, end, garbage = self._records(0)
            self._sector, self._pos, self._needs_move = 0, 0, bool(end or garbage)
            self._seq = 0
        else:
            self._seq = best_seq + 1

    def save(self, values: dict[str, Any]) -> None:
        payload = json.dumps(values, sort_keys=True, separators=(",", ":")).encode()
        body = HEADER.pack(MAGIC, self._seq, len(payload)) + payload
        record = body + struct.pack(">I", zlib.crc32(body))
        padded = record + bytes([self._erased]) * (self._aligned(len(record)) - len(record))
        if len(padded) > self._sector_size:
            raise ValueError(f"settings record of {len(padded)} bytes exceeds a sector")
        if self._needs_move or self._pos + len(padded) > self._sector_size:
            self._sector = (self._sector + 1) % self._sectors if self._needs_move or self._pos else self._sector
            self._flash.erase(self._offset + self._sector * self._sector_size, self._sector_size)
            self._pos, self._needs_move = 0, False
        self._flash.program(self._offset + self._sector * self._sector_size + self._pos, padded)
        self._pos += len(padded)
        self._seq += 1
        self.values = dict(values)
