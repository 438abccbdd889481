"""Power backends by the word in the rig file (`power.backend`).

Entries are "module:Class" strings so a backend's heavy imports (gpiozero) only
load when a place uses it; a backend added later is one more line here.
"""

from __future__ import annotations

from typing import Any

from rig.backends import backend_class, create_backend
from rig.power.base import PowerBase, PowerError

BACKENDS: dict[str, str] = {
    "gpio": "rig.power.gpio:GpioPower",
    "command": "rig.power.command:CommandPower",
    "process": "rig.power.process:ProcessPower",
    "manual": "rig.power.manual:ManualPower",
    "sim": "rig.power.sim:SimPower",
    "relay": "rig.power.relay:RelayPower",
}


def power_class(word: str) -> type[PowerBase]:
    return backend_class(BACKENDS, "power", word, PowerError)


def create_power(word: str, options: dict[str, Any], **common: Any) -> PowerBase:
    """Build backend `word` from its validated options plus name/safe_state/timeline."""
    return create_backend(BACKENDS, "power", word, PowerError, options, common)
