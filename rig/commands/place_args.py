"""The options every command on a place shares: which place (--place/--rig/--target/--sim-dir), where to serve.

The bench commands and `rig run` take them from here, so one option names one
place everywhere, and where the rig's server listens (--host/--port, or where a
`rig sim` board expects it) travels with the resolved place into rig.place.open.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from rig.config import Lwm2mIdentity, Place
from rig.errors import RigError
from rig.place.resolve import attach_sim, read_board_json, resolve_place
from rig.target_security import parse_psk

DEFAULT_WORK_DIR = Path("rig-work")
LOCAL_HOST = "127.0.0.1"


def add_place_options(parser: argparse.ArgumentParser, server: bool = False, host: str | None = LOCAL_HOST,
                      work_dir: Path | None = DEFAULT_WORK_DIR) -> None:
    """`server`: the command runs the rig's LwM2M server (--host, --port); `host` is --host's default (None: the
    place decides, 0.0.0.0 for a board on the bench LAN); `work_dir` is --work-dir's (None: the command decides)."""
    group = parser.add_argument_group("place")
    group.add_argument("--place", metavar="NAME", help="a place of the rig file")
    group.add_argument("--rig", type=Path, metavar="FILE", help="rig file (default $RIG_FILE or ./rig.toml)")
    group.add_argument("--target", type=Path, metavar="FILE",
                       help="target file, or the name of one `rig targets` lists, for a place without a rig file "
                            "(default targets/virtual.toml)")
    group.add_argument("--sim-dir", type=Path, metavar="DIR",
                       help="the virtual board run by `rig sim --dir DIR` (virtual targets)")
    group.add_argument("--work-dir", type=Path, default=work_dir, metavar="DIR",
                       help="logs and host-process flash of --target places "
                            f"(default {'./' + str(work_dir) if work_dir else 'REPORT_DIR/place'})")
    add_psk_option(group)
    parser.set_defaults(serves=server, host=None, port=None)  # commands without a server have neither
    if server:
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
    """The place the options name, with --psk and (for a command with a server) where its server listens."""
    target = args.target
    if args.sim_dir is not None and target is None and args.place is None:
        target = read_board_json(args.sim_dir).get("target_file")  # the board's own target (virtual.toml if none)
        target = Path(target) if target else None
    place = resolve_place(args.place, args.rig, target, args.work_dir)
    if args.sim_dir is not None:
        place = attach_sim(place, args.sim_dir)
    place = with_psk(place, args.psk)
    return served_at(place, args)


def served_at(place: Place, args: argparse.Namespace) -> Place:
    """Where the command's server listens: --host/--port, or where a `rig sim` board expects it (board.json). A
    board that bootstraps knows only its bootstrap server: the rig's bootstrap server listens there, and the
    LwM2M server on --port (default 5683), with the lifetime the board was started with."""
    if args.port is not None and not 0 < args.port < 65535:
        raise RigError(f"--port {args.port}: must be 1..65534 (coaps uses PORT+1)")
    if not args.serves:
        return place
    host, port, bootstrap_port, lifetime = args.host, args.port, None, None
    if args.sim_dir is not None:
        info = read_board_json(args.sim_dir)
        found = _host_port(info.get("bootstrap_server"))
        if found is not None:
            bootstrap_port = found[1]
            lifetime = info.get("lifetime") if isinstance(info.get("lifetime"), int) else None
            if found[0] and host in (None, LOCAL_HOST):
                host = found[0]
        else:
            found = _host_port(info.get("server"))
            if found is not None and port is None:
                host, port = found
    return replace(place, server_host=host, server_port=port or place.server_port, bootstrap_port=bootstrap_port,
                   bootstrap_lifetime=lifetime)


def _host_port(uri: object) -> tuple[str, int] | None:
    """(host, coap port) of a coap:// or coaps:// URI (coaps: port - 1); None when it is not one."""
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
