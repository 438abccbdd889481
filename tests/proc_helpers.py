"""Test support: the processes below a pid (read from /proc), and waiting until they are all gone."""

from __future__ import annotations

import os
import threading
import time


def descendants(root: int) -> set[int]:
    """Every process below `root` (the supervisor's zygote and MCU live in sessions of their own)."""
    parent_of = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    parent_of[int(pid)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, ppid in parent_of.items() if ppid in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return "Z" not in f.read().rsplit(")", 1)[1][:3]
    except OSError:
        return False


def all_gone(pids: set[int], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not [p for p in pids if _alive(p)]:
            return True
        threading.Event().wait(0.1)  # polling /proc: no event tells us another session's process exited
    return False


def survivors(pids: set[int]) -> list[str]:
    """The command lines of those still alive, for a failure message."""
    out = []
    for pid in pids:
        if _alive(pid):
            try:
                out.append(f"{pid}: " + open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode())
            except OSError:
                pass
    return out
