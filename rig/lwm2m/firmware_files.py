"""Firmware files held in memory with their ETag, confined to one directory.

Served blocks are slices of bytes read once per file version (keyed by mtime and
size), so serving costs no re-reading; and nothing outside the directory can
ever be named: path segments are checked before the file system is touched, and
the resolved path must still be inside the directory (symlinks included).

A download is hundreds of requests for one name: the full check (resolve, which
walks every path component) runs when a name is first asked for and on every
block 0; later blocks only re-stat the path resolved then, so a file replaced
between downloads is still picked up, at one system call per block.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from rig.errors import RigError


class BadFirmwareName(ValueError):
    """The requested name is not a plain file name (traversal, empty segment, control characters)."""


@dataclass(frozen=True)
class FirmwareFile:
    name: str
    data: bytes
    etag: bytes
    sha256: str


@dataclass(frozen=True)
class _Cached:
    path: Path  # resolved, checked to be inside the directory
    key: tuple[int, int]  # (mtime_ns, size) of the version in `entry`
    entry: FirmwareFile


class FirmwareStore:
    def __init__(self, directory: Path) -> None:
        directory = Path(directory)
        if not directory.is_dir():
            raise RigError(f"firmware directory {str(directory)!r} does not exist or is not a directory")
        self.directory = directory.resolve()
        self._cache: dict[tuple[str, ...], _Cached] = {}

    @staticmethod
    def check_segments(segments: tuple[str, ...] | list[str]) -> str:
        if not segments:
            raise BadFirmwareName("no file name")
        for seg in segments:
            if seg in ("", ".", "..") or "/" in seg or "\\" in seg or any(ord(c) < 0x20 for c in seg):
                raise BadFirmwareName(f"path segment {seg!r} is not allowed")
        return "/".join(segments)

    def get(self, segments: tuple[str, ...] | list[str], recheck: bool = True) -> FirmwareFile | None:
        """The file for these URI path segments, or None when it does not exist inside the directory.

        `recheck=False` (blocks after the first of a download) trusts the path
        resolved earlier for this name and only re-stats it.
        """
        cached = self._cache.get(tuple(segments))
        if cached is not None and not recheck:
            try:
                st = os.stat(cached.path, follow_symlinks=False)
            except OSError:
                st = None
            if st is not None and (st.st_mtime_ns, st.st_size) == cached.key:
                return cached.entry
        return self._load(segments)

    def _load(self, segments: tuple[str, ...] | list[str]) -> FirmwareFile | None:
        name = self.check_segments(segments)
        path = (self.directory / name).resolve()
        if self.directory not in path.parents:
            return None
        try:
            st = path.stat()
        except OSError:
            return None
        if not path.is_file():
            return None
        key = (st.st_mtime_ns, st.st_size)
        cached = self._cache.get(tuple(segments))
        if cached and cached.key == key and cached.path == path:
            return cached.entry
        with open(path, "rb", opener=lambda p, f: os.open(p, f | os.O_NOFOLLOW)) as src:
            data = src.read()
        digest = hashlib.sha256(data).digest()
        entry = FirmwareFile(name=name, data=data, etag=digest[:8], sha256=digest.hex())
        self._cache[tuple(segments)] = _Cached(path, key, entry)
        return entry
