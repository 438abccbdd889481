"""Power backends by the word in the rig file (`power.backend`).

Entries are "module:Class" strings so a backend's heavy imports (gpiozero) only
load when a place uses it; a backend added later is one more line here.
"""

from __future__ import annotations

import importlib
from typing import Any

from rig.power.base import PowerBase, PowerError

BACKENDS: dict[str, str] = {
    "gpio": "rig.power.gpio:GpioPower",
    "command": "rig.power.command:CommandPower",
    "process": "rig.power.process:ProcessPower",
    "manual": "rig.power.manual:ManualPower",
    "sim": "rig.power.sim:SimPower",
}


def power_class(word: str) -> type[PowerBase]:
    if word not in BACKENDS:
        raise PowerError(f"unknown power backend {word!r}; known: {', '.join(sorted(BACKENDS))}")
    module, _, cls = BACKENDS[word].partition(":")
    return getattr(importlib.import_module(module), cls)


def create_power(word: str, options: dict[str, Any], **common: Any) -> PowerBase:
    """Build backend `word` from its validated options plus name/safe_state/timeline."""
    cls = power_class(word)
    try:
        return cls(**options, **common)
    except TypeError as exc:
        raise PowerError(f"power backend {word!r}: {exc}") from exc
