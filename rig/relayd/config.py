"""The relay service's file: where it listens and its outlets, each a power backend of the rig file's kinds.

```toml
[relayd]
host = "0.0.0.0"
port = 8280

[outlets.0]
name = "k64f-1"
safe_state = "off"
power = { backend = "gpio", pin = 17, active_low = true, pin_factory = "lgpio", min_off = 1.0, power_good_pin = 27 }
```

Outlet options are checked by the rig file's own schema (rig.config_schema), so
a typo fails with one line naming the file and the key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rig.backend_config import BackendConfig, check_backend
from rig.errors import RigError
from rig.power.registry import power_class

DEFAULT_PORT = 8280


@dataclass(frozen=True)
class OutletConfig:
    index: int
    name: str
    safe_state: str
    power: BackendConfig


@dataclass(frozen=True)
class RelaydConfig:
    host: str
    port: int
    outlets: list[OutletConfig]


def load_relayd_config(path: Path) -> RelaydConfig:
    src = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RigError(f"relay service file {path} not found (see hardware/relayd.example.toml)") from None
    except tomllib.TOMLDecodeError as exc:
        raise RigError(f"{src}: not valid TOML: {exc}") from None
    service = data.get("relayd", {})
    if not isinstance(service, dict):
        raise RigError(f"{src}: [relayd] must be a table (host, port)")
    port = service.get("port", DEFAULT_PORT)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < 65536:
        raise RigError(f"{src}: relayd.port: must be a TCP port 0..65535, got {port!r}")
    host = service.get("host", "0.0.0.0")
    if not isinstance(host, str) or not host:
        raise RigError(f"{src}: relayd.host: must be an address to listen on, got {host!r}")
    outlets = data.get("outlets")
    if not isinstance(outlets, dict) or not outlets:
        raise RigError(f"{src}: no [outlets.N] tables; see hardware/relayd.example.toml")
    return RelaydConfig(host, port, [_outlet(key, raw, src) for key, raw in outlets.items()])


def _outlet(key: str, raw: Any, src: str) -> OutletConfig:
    where = f"outlets.{key}"
    if not key.isdigit():
        raise RigError(f"{src}: [{where}]: outlets are numbered (labgrid's index): [outlets.0], [outlets.1], ...")
    if not isinstance(raw, dict):
        raise RigError(f"{src}: {where}: must be a table (name, safe_state, power)")
    for name in raw:
        if name not in ("name", "safe_state", "power"):
            raise RigError(f"{src}: {where}.{name}: unknown key; known: name, power, safe_state")
    safe = raw.get("safe_state", "off")
    if safe not in ("off", "on"):
        raise RigError(f"{src}: {where}.safe_state: must be \"off\" or \"on\", got {safe!r}")
    if "power" not in raw:
        raise RigError(f"{src}: {where}.power: missing; e.g. {{ backend = \"gpio\", pin = 17 }}")
    power = check_backend("power", raw["power"], f"{where}.power", src, None)
    assert power is not None
    if not power_class(power.backend).drives_supply:
        raise RigError(f"{src}: {where}.power.backend: an outlet switches power itself; {power.backend!r} cannot")
    return OutletConfig(int(key), str(raw.get("name") or f"outlet-{key}"), safe, power)
