"""Where the target files that come with the rig are: the checkout's targets/ folder, or rig.targets in a wheel.

The top-level targets/ folder is where users know them and copy them from; the
wheel carries the same files as the package data rig.targets (setup.py maps the
folder there), found with importlib.resources. A development checkout (an
editable install) has no rig/targets, so the folder beside the package is used.
A path the user gives always wins: these are only the defaults and the names
`rig targets` lists.
"""

from __future__ import annotations

import importlib.resources
import tomllib
from dataclasses import dataclass
from pathlib import Path

import rig


def targets_dir() -> Path:
    """The directory of the shipped target files."""
    packaged = Path(str(importlib.resources.files(rig) / "targets"))
    if packaged.is_dir():
        return packaged
    return Path(rig.__file__).resolve().parent.parent / "targets"


def shipped(name: str) -> Path:
    """The shipped target file called `name` ("virtual", "host_sim.toml")."""
    return targets_dir() / (name if name.endswith(".toml") else f"{name}.toml")


def find_target(given: Path) -> Path:
    """A --target as given: the path when it exists, else a shipped target of that name ("host_sim"), else the
    path as given (so the caller's "no such target file" names what the user typed)."""
    if Path(given).exists():
        return Path(given)
    if "/" not in str(given):
        candidate = shipped(str(given))
        if candidate.is_file():
            return candidate
    return Path(given)


@dataclass(frozen=True)
class TargetEntry:
    name: str
    kind: str
    description: str
    path: Path


def list_targets(directory: Path | None = None) -> list[TargetEntry]:
    """Every target file of a directory (the shipped ones by default), name-sorted; unreadable ones say so."""
    entries = []
    for path in sorted((directory or targets_dir()).glob("*.toml")):
        try:
            meta = tomllib.loads(path.read_text(encoding="utf-8")).get("target", {})
        except (OSError, tomllib.TOMLDecodeError) as exc:
            entries.append(TargetEntry(path.stem, "?", f"unreadable: {exc}", path))
            continue
        entries.append(TargetEntry(str(meta.get("name") or path.stem), str(meta.get("kind", "?")),
                                   str(meta.get("description", "")), path))
    return entries
