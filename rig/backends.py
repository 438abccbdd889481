"""Backends by the word in a place's file: one loader for power, console and probe.

Entries are "module:Class" strings so a backend's heavy imports (gpiozero, pyocd)
only load when a place uses it; each kind keeps its own table and error type.
"""

from __future__ import annotations

import importlib
from typing import Any


def backend_class(table: dict[str, str], kind: str, word: str, error: type[Exception]) -> type:
    if word not in table:
        raise error(f"unknown {kind} backend {word!r}; known: {', '.join(sorted(table))}")
    module, _, cls = table[word].partition(":")
    return getattr(importlib.import_module(module), cls)


def create_backend(table: dict[str, str], kind: str, word: str, error: type[Exception], options: dict[str, Any],
                   common: dict[str, Any]) -> Any:
    """Build backend `word` from its validated options plus the common keywords (name, timeline, ...)."""
    cls = backend_class(table, kind, word, error)
    try:
        return cls(**options, **common)
    except TypeError as exc:
        raise error(f"{kind} backend {word!r}: {exc}") from exc
