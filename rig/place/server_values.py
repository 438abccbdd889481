"""What a place's device learns of the rig's server once it is up: its address, its URIs and the place's key.

A process target's command carries placeholders ({server_uri}, {psk_key_hex}, ...)
that only have values once the server listens; a place with a key makes the
server bind its endpoint to coaps. Both are decided here, for every way a place
is opened, so a key is never served on one path and forgotten on another.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from rig import placeholders
from rig.config import BackendConfig, Place
from rig.errors import RigError
from rig.target_security import write_key_file

if TYPE_CHECKING:  # typing only: the bench commands without a server (power, console, flash) never load aiocoap
    from rig.lwm2m.bootstrap_server import BootstrapServer


def runtime_values(place: Place, host: str, port: int, scheme: str = "coap",
                   bootstrap: BootstrapServer | None = None) -> dict[str, str]:
    """What a process target's placeholders take once the server is up: {server_host}, {server_port},
    {server_coaps_port} (also {coaps_port}), {server_uri}, {bootstrap_uri} (the rig's bootstrap server, when the
    place has one), and the place's key: {psk_identity}, {psk_key_hex}, {psk_key_file} (written 0600 into the
    working directory). The URIs are coaps:// when the server holds the place's key: a keyed endpoint registers
    over coaps (rig.lwm2m.endpoint_binding), coap:// otherwise."""
    keyed = serves_key(place, scheme)
    values = {"server_host": host, "server_port": str(port), "server_coaps_port": str(port + 1),
              "coaps_port": str(port + 1),
              "server_uri": f"coaps://{host}:{port + 1}" if keyed else f"coap://{host}:{port}"}
    if bootstrap is not None:
        values["bootstrap_uri"] = f"coaps://{host}:{bootstrap.port + 1}" if keyed else f"coap://{host}:{bootstrap.port}"
    if place.lwm2m.psk_key is not None:
        values["psk_identity"] = place.lwm2m.psk_identity or place.lwm2m.endpoint
        values["psk_key_hex"] = place.lwm2m.psk_key.hex()
        if _uses(place, "psk_key_file"):
            values["psk_key_file"] = str(write_key_file(Path(place.work_dir or "."), place.lwm2m.psk_key))
    return values


def _uses(place: Place, name: str) -> bool:
    texts = [*place.power.options.get("argv", []), *(place.power.options.get("env") or {}).values(),
             *place.reset_command]
    return any(name in placeholders.fields_of(str(t)) for t in texts)


def missing_key_reason(place: Place) -> dict[str, str]:
    why = (f"place {place.name} has no PSK: give --psk IDENTITY:HEXKEY (for a `rig sim` board, the key it was started "
           f"with), a [security] table in {place.target_file} (psk_key_file, psk_key_env or per_run_key = true), or "
           "places.NAME.lwm2m in the rig file")
    return {name: why for name in placeholders.KEYS}


def fill_server(place: Place, host: str, port: int, scheme: str = "coap",
                bootstrap: BootstrapServer | None = None) -> Place:
    """Fill what is known only now into a process target's argv, env and reset_command (runtime_values);
    a placeholder that still has no value (a key on a place without one) is a one-line RigError."""
    if not place.fills_server_into_command:
        return place
    values = runtime_values(place, host, port, scheme, bootstrap)
    why = {**missing_key_reason(place), "bootstrap_uri": f"{place.target_file} does not set lwm2m.bootstrap = true, so "
                                                          "the rig runs no bootstrap server for it"}
    opts = dict(place.power.options)
    where = f"{place.target_file}: process.command"
    try:
        opts["argv"] = [placeholders.fill_all(str(a), values, why) for a in opts.get("argv", [])]
        if opts.get("env"):
            opts["env"] = {k: placeholders.fill_all(v, values, why) for k, v in opts["env"].items()}
        reset = tuple(placeholders.fill(a, values) for a in place.reset_command)  # {base_package}: at a known start
    except RigError as exc:
        raise RigError(f"{where}: {exc}") from None
    return replace(place, power=BackendConfig(place.power.backend, opts), reset_command=reset)


def require_key(place: Place, scheme: str) -> None:
    """A coaps run or update needs a key on both sides: say so before anything starts, naming how to give one."""
    if scheme == "coaps" and not place.starts_own_board and place.lwm2m.psk_key is None:
        raise RigError(f"coaps: {missing_key_reason(place)['psk_key_hex']}; without one the device cannot reach "
                       "the rig's coaps server (and an Update Result 9 would be the rig's doing, not the device's)")


def serves_key(place: Place, scheme: str) -> bool:
    """Whether the rig's server holds the place's key (and so binds its endpoint to coaps). A key made per run
    serves coaps runs only: on a coap run its client registers without DTLS, as the virtual board does."""
    return place.lwm2m.psk_key is not None and not (place.lwm2m.per_run and scheme != "coaps")

