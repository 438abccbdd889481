"""NOR flash over a file (the virtual board) or a bytearray (in-process sweeps).

Power-cut robustness is decided by what flash holds when power goes, so the
model keeps NOR's rules: erase a whole sector to the erased value, programming
only moves bits away from it, a programmed word may not be programmed again
unless the target allows it, and every erase of a sector or program call is
one numbered operation. A planned cut lands on operation N: either N never
happens ("whole") or it stops half way ("torn": part of a sector erased, some
of a write's bits programmed, chosen by a seed) — the torn case is where real
boards brick and MCUboot's own simulator does not look.

File-backed flash is an mmap (MAP_SHARED): every completed write is in the
page cache at once, so a SIGKILLed MCU process loses nothing it wrote, the
way a powered-off chip keeps what it programmed.
"""

from __future__ import annotations

import mmap
import random
from dataclasses import dataclass, field
from pathlib import Path

from rig.errors import RigError
from rig.flash_layout import FlashLayout

_SUBSET_ERASE = bytes(0xFF if b < 128 else 0x00 for b in range(256))


class PowerCut(Exception):
    """Raised by the flash op at which a planned cut lands."""

    def __init__(self, at_op: int, torn: bool, kind: str, offset: int, length: int) -> None:
        super().__init__(f"power cut at flash op {at_op} ({'torn' if torn else 'whole'} {kind} "
                         f"0x{offset:x}+0x{length:x})")
        self.at_op = at_op
        self.torn = torn
        self.kind = kind
        self.offset = offset
        self.length = length


class FlashError(Exception):
    """A flash rule was broken (misaligned op, programming a programmed word): a bug in the caller."""


@dataclass(frozen=True)
class FlashOp:
    """One numbered operation, kept in Flash.journal when a caller wants to know what op N was."""

    index: int
    kind: str  # "erase" | "program"
    offset: int
    length: int
    data: bytes = field(default=b"", repr=False)  # what a program op wrote (lets a sweep replay op N alone)


class Flash:
    """A NOR flash chip; offsets are relative to the flash base of the layout."""

    def __init__(self, layout: FlashLayout, backing: bytearray | None = None, path: Path | None = None) -> None:
        if backing is not None and path is not None:
            raise ValueError("Flash takes a backing bytearray or a path, not both")
        self.layout = layout
        self.ops = 0
        self.journal: list[FlashOp] | None = None
        self._erased_value = layout.erased_value
        self._erased_sector = bytes([layout.erased_value]) * layout.sector_size
        self._erased_run: dict[int, bytes] = {}
        self._cut_at: int | None = None
        self._cut_torn = False
        self._cut_seed = 0
        self._file = None
        if path is not None:
            self._buf = self._open_file(Path(path))
        else:
            if backing is None:
                backing = bytearray(self._erased_sector * (layout.size // layout.sector_size))
            if len(backing) != layout.size:
                raise ValueError(f"backing is {len(backing)} bytes, the layout's flash is {layout.size}")
            self._buf = backing
        self._view = memoryview(self._buf)

    def _open_file(self, path: Path) -> mmap.mmap:
        size = self.layout.size
        if not path.exists():
            path.write_bytes(self._erased_sector * (size // self.layout.sector_size))
        actual = path.stat().st_size
        if actual != size:
            raise RigError(f"flash file {path} is {actual} bytes; the target's flash is {size} (0x{size:x}) bytes")
        self._file = open(path, "r+b")
        return mmap.mmap(self._file.fileno(), size)

    # -- reading -------------------------------------------------------------
    def read(self, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0 or offset + length > self.layout.size:
            raise FlashError(f"read 0x{offset:x}+0x{length:x} is outside the flash (0x{self.layout.size:x})")
        return bytes(self._view[offset:offset + length])

    def snapshot(self) -> bytes:
        """The whole chip, for restoring later (sweeps restore a snapshot before each cut)."""
        return bytes(self._buf)

    def restore(self, image: bytes) -> None:
        if len(image) != self.layout.size:
            raise ValueError("snapshot size does not match the flash")
        self._buf[:] = image

    # -- cuts ---------------------------------------------------------------
    def plan_cut(self, at_op: int, torn: bool = False, seed: int = 0) -> None:
        """Make operation number `at_op` (counted in self.ops) the one power dies in."""
        self._cut_at = at_op
        self._cut_torn = torn
        self._cut_seed = seed

    def cancel_cut(self) -> None:
        self._cut_at = None

    # -- writing ------------------------------------------------------------
    def erase(self, offset: int, length: int) -> None:
        """Erase whole sectors; each sector is one operation (a cut can fall between them)."""
        sector = self.layout.sector_size
        if offset % sector or length % sector or offset < 0 or offset + length > self.layout.size:
            raise FlashError(f"erase 0x{offset:x}+0x{length:x} is not whole sectors of 0x{sector:x} inside the flash")
        for start in range(offset, offset + length, sector):
            index = self._begin("erase", start, sector)
            if index == self._cut_at:
                self._cut_at = None
                if self._cut_torn:
                    self._torn_erase(start, sector, index)
                raise PowerCut(index, self._cut_torn, "erase", start, sector)
            self._buf[start:start + sector] = self._erased_sector

    def program(self, offset: int, data: bytes) -> None:
        """Program data at a write_size-aligned offset: one operation, bits only move away from erased."""
        length = len(data)
        align = self.layout.write_size
        end = offset + length
        if offset % align or length % align or offset < 0 or end > self.layout.size:
            raise FlashError(f"program 0x{offset:x}+0x{length:x} is not aligned to the write size {align} "
                             f"or is outside the flash")
        old = self._buf[offset:end]
        erased = self._erased_run.get(length)
        if erased is None:
            erased = self._erased_run[length] = bytes([self._erased_value]) * length
        if old == erased:
            target = data
        elif self.layout.rewrite_allowed:
            target = self._combine(old, data)
        else:
            raise FlashError(f"program 0x{offset:x}+0x{length:x} over programmed words; "
                             f"this flash does not allow rewriting (erase first)")
        index = self.ops
        self.ops = index + 1
        if self.journal is not None:
            self.journal.append(FlashOp(index, "program", offset, length, bytes(data)))
        if index == self._cut_at:
            self._cut_at = None
            if self._cut_torn:
                self._buf[offset:end] = self._partial(bytes(old), bytes(target), index)
            raise PowerCut(index, self._cut_torn, "program", offset, length)
        self._buf[offset:end] = target

    def replay(self, op: FlashOp) -> None:
        """Perform a journalled op again (as op number self.ops): lets a sweep cut op N without re-running 0..N-1."""
        if op.kind == "erase":
            self.erase(op.offset, op.length)
        else:
            self.program(op.offset, op.data)

    def flush(self) -> None:
        """Persist to the file (file-backed); a no-op for a bytearray."""
        if isinstance(self._buf, mmap.mmap):
            self._buf.flush()

    def close(self) -> None:
        if isinstance(self._buf, mmap.mmap):
            self._view.release()
            self._buf.flush()
            self._buf.close()
        if self._file is not None:
            self._file.close()
            self._file = None

    # -- internals ----------------------------------------------------------
    def _begin(self, kind: str, offset: int, length: int) -> int:
        index = self.ops
        self.ops = index + 1
        if self.journal is not None:
            self.journal.append(FlashOp(index, kind, offset, length))
        return index

    def _combine(self, old: bytes, data: bytes) -> bytes:
        """What NOR programming yields over already programmed bits."""
        n = len(old)
        a, b = int.from_bytes(old, "little"), int.from_bytes(data, "little")
        value = a & b if self._erased_value == 0xFF else a | b
        return value.to_bytes(n, "little")

    def _rng(self, index: int) -> random.Random:
        return random.Random(self._cut_seed * 1_000_003 + index)

    def _torn_erase(self, start: int, length: int, index: int) -> None:
        """Part of the sector reaches the erased value: a prefix, or a seeded subset of bytes."""
        rng = self._rng(index)
        old = bytes(self._buf[start:start + length])
        if rng.random() < 0.5:
            cut = rng.randrange(length)
            self._buf[start:start + cut] = self._erased_sector[:cut]
            return
        mask = int.from_bytes(rng.randbytes(length).translate(_SUBSET_ERASE), "little")
        value = int.from_bytes(old, "little")
        value = value | mask if self._erased_value == 0xFF else value & ~mask
        self._buf[start:start + length] = value.to_bytes(length, "little")

    def _partial(self, old: bytes, target: bytes, index: int) -> bytes:
        """A seeded subset of the bits the write would change have changed."""
        rng = self._rng(index)
        n = len(old)
        a, t = int.from_bytes(old, "little"), int.from_bytes(target, "little")
        chosen = int.from_bytes(rng.randbytes(n), "little")
        changing = a ^ t
        return (a ^ (changing & chosen)).to_bytes(n, "little")
