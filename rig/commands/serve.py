"""`rig serve`: the LwM2M server and firmware server in the foreground, for the bench and for interop checks.

An endpoint given a key with --psk is served only over coaps with its own
identity; --allow-nosec names the ones a bench also lets in over plain CoAP.
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
    p.add_argument("--timeline", type=Path, metavar="FILE", help="save the timeline as JSON lines on exit")
    p.set_defaults(func=run)


def _psk_store(specs: list[str]):
    if not specs:
        return None
    from rig.lwm2m.dtls.psk import PskStore

    return PskStore.parse(specs)


def _print_event(event: Event) -> None:
    line = describe(event)
    if line:
        print(line, flush=True)


def run(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65535:
        raise RigError(f"--port {args.port}: must be 1..65534 (coaps uses port+1)")
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
    from rig.lwm2m.server import Lwm2mServer

    server = Lwm2mServer(timeline, args.firmware, host=args.host, port=args.port, psk_store=_psk_store(args.psk),
                         allow_nosec=args.allow_nosec)
    await server.start()
    coaps = f", coaps://{args.host}:{args.port + 1}" if args.psk else ""
    print(f"serving LwM2M on coap://{args.host}:{args.port}{coaps}, firmware from {server.store.directory}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()
