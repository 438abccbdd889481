"""The options every bench command shares: which place (--place/--rig/--target/--sim-dir) and where to serve."""

from __future__ import annotations

import argparse
from pathlib import Path

from dataclasses import replace

from rig.config import Lwm2mIdentity, Place
from rig.errors import RigError
from rig.place.resolve import attach_sim, read_board_json, resolve_place
from rig.target_security import parse_psk

DEFAULT_WORK_DIR = Path("rig-work")


def add_place_options(parser: argparse.ArgumentParser, server: bool = False) -> None:
    group = parser.add_argument_group("place")
    group.add_argument("--place", metavar="NAME", help="a place of the rig file")
    group.add_argument("--rig", type=Path, metavar="FILE", help="rig file (default $RIG_FILE or ./rig.toml)")
    group.add_argument("--target", type=Path, metavar="FILE",
                       help="target file for a place without a rig file (default targets/virtual.toml)")
    group.add_argument("--sim-dir", type=Path, metavar="DIR",
                       help="the virtual board run by `rig sim --dir DIR` (virtual targets)")
    group.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR, metavar="DIR",
                       help="logs and host-process flash of --target places (default ./rig-work)")
    add_psk_option(group)
    # A `rig sim` board that bootstraps fills these in (_server_of_sim); commands without a server have neither.
    parser.set_defaults(serves=server, bootstrap_port=None, bootstrap_lifetime=None, host=None, port=None)
    if server:
        add_server_options(group)


def add_server_options(group: argparse._ActionsContainer, host: str | None = "127.0.0.1") -> None:
    """--host and --port of the rig's LwM2M server (`host` None: the place decides, see Place.server_host_default)."""
    group.add_argument("--host", default=host,
                       help="address the LwM2M server listens on and puts in firmware URIs (default "
                            f"{host or '127.0.0.1 for a host process, 0.0.0.0 for a board'})")
    group.add_argument("--port", type=int, metavar="PORT",
                       help="LwM2M server port the device registers with; coaps is PORT+1 "
                            "(default 5683; a free one for process targets)")


def add_psk_option(group: argparse._ActionsContainer) -> None:
    group.add_argument("--psk", metavar="IDENTITY:HEXKEY",
                       help="the DTLS PSK of the device (a --target place; a rig-file place has its own in the rig file)")


def with_psk(place: Place, text: str | None) -> Place:
    """The place with the key of --psk IDENTITY:HEXKEY (the server expects it; a process client gets it through
    {psk_identity}, {psk_key_hex}, {psk_key_file})."""
    if text is None:
        return place
    identity, key = parse_psk(text)
    return replace(place, lwm2m=Lwm2mIdentity(place.lwm2m.endpoint, identity, key))


def place_from_args(args: argparse.Namespace) -> Place:
    target = args.target
    if args.sim_dir is not None and target is None and args.place is None:
        target = read_board_json(args.sim_dir).get("target_file")  # the board's own target (virtual.toml if none)
        target = Path(target) if target else None
    place = resolve_place(args.place, args.rig, target, args.work_dir)
    if args.sim_dir is not None:
        place = attach_sim(place, args.sim_dir)
        _server_of_sim(args)
    place = with_psk(place, args.psk)
    if args.port is not None and not 0 < args.port < 65535:
        raise RigError(f"--port {args.port}: must be 1..65534 (coaps uses PORT+1)")
    return place


def _server_of_sim(args: argparse.Namespace) -> None:
    """A `rig sim` board knows the server it was started for (board.json): serve there unless told otherwise. A board
    that bootstraps knows only its bootstrap server: the rig's bootstrap server listens there, and the LwM2M server
    on --port (default 5683), with the lifetime the board was started with."""
    if not args.serves:
        return
    info = read_board_json(args.sim_dir)
    found = _host_port(info.get("bootstrap_server"))
    if found is not None:
        args.bootstrap_port = found[1]
        args.bootstrap_lifetime = info.get("lifetime") if isinstance(info.get("lifetime"), int) else None
        if found[0] and args.host == "127.0.0.1":
            args.host = found[0]
        return
    found = _host_port(info.get("server"))
    if found is not None and args.port is None:
        args.host, args.port = found


def _host_port(uri: object) -> tuple[str, int] | None:
    """(host, coap port) of a coap:// or coaps:// URI (coaps: port - 1); None when it is not one."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(str(uri or ""))
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("coap", "coaps") or not parts.hostname or not port:
        return None
    return parts.hostname, port - 1 if parts.scheme == "coaps" else port


def work_dir_of(place: Place, args: argparse.Namespace) -> Path:
    """Where this command's logs go: the place's working directory."""
    path = Path(place.work_dir or args.work_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path
