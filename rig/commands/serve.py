"""`rig serve`: the LwM2M server and firmware server in the foreground, for the bench and for interop checks.

An endpoint given a key with --psk is served only over coaps with its own
identity; --allow-nosec names the ones a bench also lets in over plain CoAP.
--bootstrap adds the rig's bootstrap server (port+100, coaps port+101), which gives
a device an account on this server; requests to a device that registered in queue
mode are held until it is awake (--awake-time after each message it sends).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from rig.errors import RigError
from rig.event_lines import describe
from rig.timeline import Event, Timeline


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("serve", help="run the LwM2M and firmware server in the foreground")
    p.add_argument("--firmware", required=True, type=Path, metavar="DIR", help="directory served under /fw/")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=5683, help="coap port; coaps listens on port+1 (default 5683)")
    p.add_argument("--psk", action="append", default=[], metavar="ENDPOINT:IDENTITY:HEXKEY",
                   help="pre-shared key of one endpoint; enables coaps on port+1, and that endpoint may then register, "
                        "update, de-register and Send only over coaps with IDENTITY (repeatable)")
    p.add_argument("--allow-nosec", action="append", default=[], metavar="ENDPOINT",
                   help="let this endpoint (one with a --psk) register over plain CoAP too (repeatable)")
    p.add_argument("--bootstrap", action="store_true",
                   help="also run a bootstrap server that writes each device an account on this server (NoSec, or "
                        "its --psk over coaps)")
    p.add_argument("--bootstrap-port", type=int, metavar="PORT",
                   help="bootstrap server's coap port; coaps on PORT+1 (default: --port + 100, i.e. 5783)")
    p.add_argument("--bootstrap-lifetime", type=int, default=None, metavar="S",
                   help="registration lifetime written into bootstrapped devices (default 300)")
    p.add_argument("--awake-time", type=float, default=None, metavar="S",
                   help="how long a queue-mode device listens after each message it sends: requests wait for it "
                        "(default 93, CoAP's MAX_TRANSMIT_WAIT)")
    p.add_argument("--timeline", type=Path, metavar="FILE", help="save the timeline as JSON lines on exit")
    p.set_defaults(func=run)


def _psk_store(specs: list[str]):
    if not specs:
        return None
    from rig.lwm2m.dtls.psk import PskStore  # noqa: PLC0415 -- start-up cost: loaded only when the command runs

    return PskStore.parse(specs)


def _print_event(event: Event) -> None:
    line = describe(event)
    if line:
        print(line, flush=True)


def run(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65535:
        raise RigError(f"--port {args.port}: must be 1..65534 (coaps uses port+1)")
    if (args.bootstrap_port is not None or args.bootstrap_lifetime is not None) and not args.bootstrap:
        raise RigError("--bootstrap-port and --bootstrap-lifetime are for the bootstrap server: give --bootstrap too")
    if args.bootstrap_port is not None and not 0 < args.bootstrap_port < 65535:
        raise RigError(f"--bootstrap-port {args.bootstrap_port}: must be 1..65534 (coaps uses port+1)")
    if args.bootstrap_lifetime is not None and args.bootstrap_lifetime <= 0:
        raise RigError(f"--bootstrap-lifetime {args.bootstrap_lifetime}: must be > 0 seconds")
    if args.awake_time is not None and args.awake_time <= 0:
        raise RigError(f"--awake-time {args.awake_time}: must be > 0 seconds")
    timeline = Timeline()
    timeline.subscribe(_print_event)
    try:
        asyncio.run(_serve(args, timeline))
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        if args.timeline:
            timeline.save(args.timeline)
    return 0


async def _serve(args: argparse.Namespace, timeline: Timeline) -> None:
    from rig.lwm2m.server import Lwm2mServer  # noqa: PLC0415 -- start-up cost: loaded only when the command runs

    server = Lwm2mServer(timeline, args.firmware, host=args.host, port=args.port, psk_store=_psk_store(args.psk),
                         allow_nosec=args.allow_nosec, awake_time=args.awake_time)
    await server.start()
    bootstrap = None
    try:
        coaps = f", coaps://{args.host}:{args.port + 1}" if args.psk else ""
        print(f"serving LwM2M on coap://{args.host}:{args.port}{coaps}, firmware from {server.store.directory}", flush=True)
        if args.bootstrap:
            from rig.lwm2m.bootstrap_account import DEFAULT_LIFETIME  # noqa: PLC0415 -- start-up cost: loaded only when the command runs
            from rig.lwm2m.bootstrap_server import BootstrapServer, rig_account  # noqa: PLC0415 -- start-up cost: loaded only when the command runs

            port = args.bootstrap_port or args.port + 100
            accounts = rig_account(args.host, args.port, server.psk_store, args.bootstrap_lifetime or DEFAULT_LIFETIME)
            bootstrap = BootstrapServer(timeline, accounts, host=args.host, port=port, psk_store=server.psk_store,
                                        binding=server.binding)
            await bootstrap.start()
            coaps = f", coaps://{args.host}:{port + 1}" if args.psk else ""
            print(f"bootstrap server on coap://{args.host}:{port}{coaps}", flush=True)
        await asyncio.Event().wait()
    finally:
        if bootstrap is not None:
            await bootstrap.stop()
        await server.stop()
