"""labgrid resources of a place -> the rig's backends ("where it is" becomes "how to talk to it").

  NetworkSerialPort (protocol raw)      -> console serial socket://HOST:PORT
  NetworkSerialPort (protocol rfc2217)  -> console serial rfc2217://HOST:PORT?ign_set_control
                                           (ser2net 4.x refuses modem-control requests; labgrid's driver adds it too)
  NetworkPowerPort (model simplerest)   -> power relay URL (a `rig relayd` outlet: leases, confirmed switches)
  NetworkService (username "pyocd")     -> probe pyocd remote:HOST:PORT (the exporter's `pyocd server`)

Place tags say what the board is: target (a file in targets/), endpoint (its
LwM2M endpoint name), lwm2m_port (the server port its firmware registers with).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rig.backend_config import BackendConfig
from rig.errors import RigError

PYOCD_USER = "pyocd"  # rig/lab/exporter_plugin.py offers its pyocd server under this username


@dataclass(frozen=True)
class LabBackends:
    power: BackendConfig | None
    console: BackendConfig | None
    probe: BackendConfig | None


def resources_of(env: dict[str, Any], place: str) -> list[tuple[str, dict[str, Any]]]:
    """(class, params) of each resource in `labgrid-client env` output."""
    targets = env.get("targets") or {}
    target = targets.get(place) or (next(iter(targets.values())) if len(targets) == 1 else None)
    if not isinstance(target, dict):
        raise RigError(f"labgrid place {place}: labgrid-client env names no target {place!r}")
    found = []
    for entry in target.get("resources") or []:
        if isinstance(entry, dict) and len(entry) == 1:
            cls, params = next(iter(entry.items()))
            found.append((str(cls), dict(params or {})))
    return found


def map_resources(env: dict[str, Any], place: str, baudrate: int | None = None) -> LabBackends:
    console = power = probe = None
    for cls, params in resources_of(env, place):
        name = params.get("name", cls)
        if cls == "NetworkSerialPort":
            console = _one(console, _console(params, baudrate), place, "console", name)
        elif cls == "NetworkPowerPort":
            power = _one(power, _power(params, place), place, "power", name)
        elif cls == "NetworkService" and params.get("username") == PYOCD_USER:
            probe = _one(probe, BackendConfig("pyocd", {"unique_id": f"remote:{params['address']}:{params['port']}"}),
                         place, "probe", name)
    return LabBackends(power, console, probe)


def _one(have: BackendConfig | None, new: BackendConfig, place: str, what: str, name: str) -> BackendConfig:
    if have is not None:
        raise RigError(f"labgrid place {place}: two {what} resources (the second is {name!r}); "
                       "match one per place (labgrid-client -p PLACE del-match ...)")
    return new


def _console(params: dict[str, Any], baudrate: int | None) -> BackendConfig:
    host, port = params.get("host"), params.get("port")
    if params.get("protocol", "rfc2217") == "raw":
        url = f"socket://{host}:{port}"
    else:
        url = f"rfc2217://{host}:{port}?ign_set_control"
    options: dict[str, Any] = {"url": url}
    speed = params.get("speed") or baudrate
    if speed:
        options["baudrate"] = int(speed)
    return BackendConfig("serial", options)


def _power(params: dict[str, Any], place: str) -> BackendConfig:
    model = params.get("model")
    if model != "simplerest":
        raise RigError(f"labgrid place {place}: power model {model!r}: the rig switches simplerest power ports "
                       "(a `rig relayd` outlet, see hardware/README.md)")
    host = str(params.get("host", ""))
    try:
        url = host.format(index=int(params.get("index", 0)), value="").rstrip("/")
    except (KeyError, IndexError, ValueError) as exc:
        raise RigError(f"labgrid place {place}: power host {host!r} is not a simplerest URL template: {exc}") from None
    return BackendConfig("relay", {"url": url})


def tag_port(tags: dict[str, str], place: str) -> int | None:
    """The `lwm2m_port` tag: the UDP port the board's firmware registers with (None: the default 5683)."""
    text = tags.get("lwm2m_port")
    if text is None:
        return None
    if not text.isdigit() or not 0 < int(text) < 65535:
        raise RigError(f"labgrid place {place}: tag lwm2m_port={text}: must be a UDP port 1..65534")
    return int(text)
