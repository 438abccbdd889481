"""One file lock per place, so two jobs (a nightly run and a developer's `rig power cycle`) never drive one board.

flock() locks die with their process, so a SIGKILLed job never leaves a stale
lock; the pid written into the file is only there to name the holder.
"""

from __future__ import annotations

import fcntl
import os
import re
from pathlib import Path
from types import TracebackType

from rig.errors import RigError

DEFAULT_LOCK_DIR = Path("/run/lock")


class PlaceBusy(RigError):
    """Another process holds the place."""


class PlaceLock:
    """`with PlaceLock("k64f-1"):` holds /run/lock/rig-place-k64f-1.lock for the block."""

    def __init__(self, place: str, lock_dir: Path = DEFAULT_LOCK_DIR) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", place):
            raise RigError(f"place name {place!r} may only use letters, digits, '.', '_' and '-'")
        self.place = place
        self.path = Path(lock_dir) / f"rig-place-{place}.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise RigError(
                f"cannot create lock {self.path}: {exc.strerror}; set [rig] lock_dir in the rig file to a writable directory"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise PlaceBusy(
                f"place {self.place} is in use by pid {holder} (lock {self.path}); wait for that job or stop it"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> "PlaceLock":
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()
