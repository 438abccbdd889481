"""`rig relayd FILE`: the relay service on a lab Pi (labgrid's simplerest power model, leases, safe states).

Every outlet starts in its safe state and ends in it: on SIGTERM/Ctrl-C, when
its labgrid place is released, and when a rig run's lease runs out.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("relayd", help="the relay service of a lab Pi (power for labgrid places)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", type=Path, help="outlets and wiring (see hardware/relayd.example.toml)")
    p.add_argument("--host", help="address to listen on (default: the file's relayd.host, else 0.0.0.0)")
    p.add_argument("--port", type=int, help="TCP port (default: the file's relayd.port, else 8280; 0: any free)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rig.errors import RigError  # noqa: PLC0415 -- start-up cost: loaded only when the command runs
    from rig.power.registry import create_power  # noqa: PLC0415 -- start-up cost: loaded only when the command runs
    from rig.relayd.config import load_relayd_config  # noqa: PLC0415 -- start-up cost: loaded only when the command runs
    from rig.relayd.outlet import Outlet  # noqa: PLC0415 -- start-up cost: loaded only when the command runs
    from rig.relayd.server import RelayServer  # noqa: PLC0415 -- start-up cost: loaded only when the command runs

    config = load_relayd_config(args.config)
    outlets: list[Outlet] = []
    try:
        for oc in config.outlets:
            power = create_power(oc.power.backend, oc.power.options, name=oc.name, safe_state=oc.safe_state)
            outlets.append(Outlet(oc.index, oc.name, power, oc.safe_state))
            outlets[-1].release("service started")
        host = args.host or config.host
        port = config.port if args.port is None else args.port
        try:
            server = RelayServer((host, port), outlets)
        except OSError as exc:
            raise RigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    except BaseException:
        for outlet in outlets:
            outlet.close()
        raise
    names = ", ".join(f"{o.index}={o.name}" for o in outlets)
    print(f"relayd: listening on {server.url} (outlets {names})", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.close_outlets()
        server.server_close()
        print("relayd: stopped; every outlet in its safe state", file=sys.stderr, flush=True)
    return 0
