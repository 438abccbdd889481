"""`rig console`: a place's console lines on stdout (and in a log file) until Ctrl-C or --timeout.

A host-process target only has output while it runs, so for it the console powers
it on first (and the safe state applies when the command ends).
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from rig.commands.place_args import add_place_options, place_from_args, work_dir_of
from rig.errors import RigError
from rig.console.base import Console, ConsoleError
from rig.timeline import Event, Timeline


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("console", help="stream a place's console to stdout", description=__doc__)
    p.add_argument("--timeout", type=float, metavar="S", help="stop after S seconds (default: until Ctrl-C)")
    p.add_argument("--log", type=Path, metavar="FILE", help="log file (default WORK_DIR/console.log)")
    add_place_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rig.place.bench import open_bench  # noqa: PLC0415 -- start-up cost: loaded only when the command runs

    if args.timeout is not None and args.timeout <= 0:
        raise RigError(f"--timeout {args.timeout}: must be > 0 seconds")
    place = place_from_args(args)
    if place.console is None:
        raise RigError(f"place {place.name} has no console; add [places.{place.name}.console] to {place.source}")
    timeline = Timeline()
    gone = threading.Event()

    def show(event: Event) -> None:
        if event.kind == "console":
            sys.stdout.write(event.data["line"] + "\n")
            sys.stdout.flush()

    timeline.subscribe(show)
    log = args.log or work_dir_of(place, args) / "console.log"
    with open_bench(place, timeline, work_dir_of(place, args), log_path=log) as bench:
        console = bench.console
        bench.keep_power = True  # a console only listens: the board stays as it was (a process target stops)
        try:  # from the first line on, Ctrl-C is how a console session normally ends
            print(f"# console {console.describe} of {place.name}; log {log}", file=sys.stderr, flush=True)
            if bench.power.runs_device:  # a host process prints only while it runs
                bench.power.on()
            watcher = threading.Thread(target=_watch, args=(console, gone), daemon=True)
            watcher.start()
            gone.wait(args.timeout)
        except KeyboardInterrupt:
            pass
        if console.error is not None:
            raise ConsoleError(f"console {console.describe} of {place.name} is gone: {console.error} (log {log})")
    return 0


def _watch(console: Console, gone: threading.Event) -> None:
    """Wake the main thread when the port vanishes (expect on a never-matching pattern ends with ConsoleClosed)."""
    while True:
        try:
            console.expect(r"(?!x)x", 3600.0)
        except ConsoleError:
            if console.error is not None or console.closed:
                gone.set()
                return
