"""Console backends by the word in the rig file (`console.backend`); "module:Class" so imports stay lazy."""

from __future__ import annotations

import importlib
from typing import Any

from rig.console.base import ConsoleBase, ConsoleError

BACKENDS: dict[str, str] = {
    "serial": "rig.console.serial:SerialConsole",
    "process": "rig.console.process:ProcessConsole",
    "sim": "rig.console.serial:SerialConsole",
}


def console_class(word: str) -> type[ConsoleBase]:
    if word not in BACKENDS:
        raise ConsoleError(f"unknown console backend {word!r}; known: {', '.join(sorted(BACKENDS))}")
    module, _, cls = BACKENDS[word].partition(":")
    return getattr(importlib.import_module(module), cls)


def create_console(word: str, options: dict[str, Any], **common: Any) -> ConsoleBase:
    """Build backend `word` from its validated options plus name/timeline/log_path (and power for "process")."""
    cls = console_class(word)
    try:
        return cls(**options, **common)
    except TypeError as exc:
        raise ConsoleError(f"console backend {word!r}: {exc}") from exc
