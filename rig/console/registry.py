"""Console backends by the word in the rig file (`console.backend`); "module:Class" so imports stay lazy."""

from __future__ import annotations

from typing import Any

from rig.backends import backend_class, create_backend
from rig.console.base import ConsoleBase, ConsoleError

BACKENDS: dict[str, str] = {
    "serial": "rig.console.serial:SerialConsole",
    "process": "rig.console.process:ProcessConsole",
    "sim": "rig.console.serial:SerialConsole",
    "rtt": "rig.console.rtt:RttConsole",
}


def console_class(word: str) -> type[ConsoleBase]:
    return backend_class(BACKENDS, "console", word, ConsoleError)


def create_console(word: str, options: dict[str, Any], **common: Any) -> ConsoleBase:
    """Build backend `word` from its validated options plus name/timeline/log_path (and power for "process")."""
    return create_backend(BACKENDS, "console", word, ConsoleError, options, common)
