"""Where pyocd finds running virtual boards: a registry of supervisors in a well-known directory.

A USB probe is found by enumerating the bus; a virtual board has no bus, so each
running supervisor leaves a small JSON file (unique id, control port, pid) in a
per-user runtime directory and removes it on exit. `pyocd list` then shows every
board without configuration. A supervisor killed with SIGKILL cannot clean up,
so `list_boards()` asks each entry's control port who it is and forgets entries
nobody answers for.

Boards can also be named explicitly with RIG_SIM_BOARDS=dir1:dir2 (board
directories holding the supervisor's board.json), which needs no registration.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rig.sim.control import SupervisorClient, SupervisorError

REGISTRY_ENV = "RIG_SIM_REGISTRY"  # overrides the registry directory (tests, several users' rigs)
BOARDS_ENV = "RIG_SIM_BOARDS"  # colon-separated board directories with a board.json
PROBE_TIMEOUT = 1.0  # seconds to wait for a supervisor's answer while listing


@dataclass(frozen=True)
class BoardEntry:
    """One reachable virtual board, as a probe needs it."""

    unique_id: str
    control_port: int
    host: str = "127.0.0.1"
    target: str = ""
    pid: int | None = None
    source: Path | None = None  # the registry file or board.json it came from


def registry_dir() -> Path:
    """$RIG_SIM_REGISTRY, else $XDG_RUNTIME_DIR/rig-sim, else <tmp>/rig-sim-<uid>."""
    if os.environ.get(REGISTRY_ENV):
        return Path(os.environ[REGISTRY_ENV])
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / "rig-sim"
    return Path(tempfile.gettempdir()) / f"rig-sim-{os.getuid()}"


def register_board(unique_id: str, control_port: int, *, target: str = "", directory: Path | None = None,
                   pid: int | None = None, host: str = "127.0.0.1", registry: Path | None = None) -> Path:
    """Announce a running supervisor; returns the entry's path (pass it to `unregister` on exit)."""
    folder = registry or registry_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{unique_id}.json"
    record = {"unique_id": unique_id, "control_port": control_port, "host": host, "target": target,
              "pid": os.getpid() if pid is None else pid, "directory": str(directory) if directory else None}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record) + "\n")
    tmp.replace(path)  # a lister never sees half a file
    return path


def unregister(entry: Path | str) -> None:
    """Remove a registration by its path or unique id (missing is fine: exit paths may race)."""
    path = Path(entry) if isinstance(entry, Path) or str(entry).endswith(".json") else registry_dir() / f"{entry}.json"
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _entry_from(path: Path, data: dict) -> BoardEntry | None:
    try:
        return BoardEntry(unique_id=str(data["unique_id"]), control_port=int(data["control_port"]),
                          host=str(data.get("host") or "127.0.0.1"), target=str(data.get("target") or ""),
                          pid=data.get("pid"), source=path)
    except (KeyError, TypeError, ValueError):
        return None


def _read(path: Path) -> BoardEntry | None:
    try:
        return _entry_from(path, json.loads(path.read_text()))
    except (OSError, ValueError):
        return None


def _pid_alive(pid: int | None) -> bool:
    if not isinstance(pid, int):
        return True  # unknown: let the port decide
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_board(entry: BoardEntry) -> BoardEntry | None:
    """The entry with its target filled in if its supervisor answers with the same unique id, else None."""
    if not _pid_alive(entry.pid):
        return None
    try:
        with SupervisorClient(entry.control_port, entry.host, timeout=PROBE_TIMEOUT) as client:
            info = client.info()
    except (SupervisorError, OSError, KeyError, TypeError):
        return None
    if info.unique_id != entry.unique_id:
        return None  # the port now belongs to another board
    return BoardEntry(entry.unique_id, entry.control_port, entry.host, info.target, entry.pid, entry.source)


def _candidates() -> list[tuple[BoardEntry, bool]]:
    """(entry, owned) pairs: registry files are ours to delete when stale, board.json files are not."""
    found: list[tuple[BoardEntry, bool]] = []
    folder = registry_dir()
    if folder.is_dir():
        for path in sorted(folder.glob("*.json")):
            entry = _read(path)
            if entry is not None:
                found.append((entry, True))
    for directory in filter(None, os.environ.get(BOARDS_ENV, "").split(os.pathsep)):
        path = Path(directory) / "board.json"
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        entry = _entry_from(path, data)
        if entry is not None:
            found.append((entry, False))
    return found


def list_boards() -> list[BoardEntry]:
    """Every virtual board that answers now, each once; stale registry entries are deleted."""
    boards: dict[str, BoardEntry] = {}
    for entry, owned in _candidates():
        if entry.unique_id in boards:
            continue
        live = check_board(entry)
        if live is not None:
            boards[live.unique_id] = live
        elif owned and entry.source is not None and not _pid_alive(entry.pid if entry.pid is not None else -1):
            unregister(entry.source)  # its supervisor died without cleaning up
    return list(boards.values())


def find_board(unique_id: str) -> BoardEntry | None:
    """The live board with exactly this unique id."""
    for entry in list_boards():
        if entry.unique_id == unique_id:
            return entry
    return None
