"""One backend table of a place ([places.X.power] and the like): its registry word and its checked options.

Checked against rig.config_schema once, when the rig file or target is read, so a
typo fails with one line naming the file and key; the registries (rig.power.registry
...) build the live backend from it later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rig.config_schema import SCHEMA
from rig.errors import RigError
from importlib import import_module

LABGRID = "labgrid"  # the backend word of what a labgrid place gets from the coordinator once acquired


@dataclass(frozen=True)
class BackendConfig:
    """One backend of a place: the registry word and its validated keyword options."""

    backend: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def from_lab(self) -> bool:
        """A stand-in until a labgrid place is acquired: the coordinator's resources then say what it is."""
        return self.backend == LABGRID



def check_backend(kind: str, table: Any, where: str, src: str, default: str | None) -> BackendConfig | None:
    """Validate `[places.X.<kind>]` against the schema of its backend."""
    if table is None:
        return BackendConfig(default) if default else None
    if not isinstance(table, dict):
        raise RigError(f"{src}: {where}: must be a table with backend = \"...\"")
    options = dict(table)
    word = options.pop("backend", default)
    if word is None:
        raise RigError(f"{src}: {where}.backend: missing; one of {', '.join(SCHEMA[kind])}")
    keys = SCHEMA[kind].get(word)
    if keys is None:
        known = import_module(f"rig.{kind}.registry").BACKENDS
        if word not in known:
            raise RigError(f"{src}: {where}.backend: must be one of {', '.join(sorted(set(known) | set(SCHEMA[kind])))}, got {word!r}")
        return BackendConfig(word, options)  # registered later than the schema: passed through
    for key, value in options.items():
        if key not in keys:
            raise RigError(f"{src}: {where}.{key}: unknown key for backend {word!r}; known: {', '.join(keys)}")
        try:
            options[key] = keys[key].check(value)
        except ValueError as exc:
            raise RigError(f"{src}: {where}.{key}: {exc}, got {value!r}") from None
    for key, spec in keys.items():
        if spec.required and key not in options:
            raise RigError(f"{src}: {where}.{key}: missing (backend {word!r} needs it)")
    return BackendConfig(word, options)
