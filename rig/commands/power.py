"""`rig power on|off|cycle`: switch a place's power by hand at the bench.

On backends whose state outlives the command (uhubctl/PDU command, the virtual
board's supervisor, manual) the board stays as switched when the command ends.
A GPIO relay or a host process exists only while the rig drives it, so there
`on` and `cycle` hold the power until Ctrl-C (or --hold S) and then apply the
place's safe state.
"""

from __future__ import annotations

import argparse
import threading

from rig.commands.place_args import add_place_options, place_from_args, work_dir_of
from rig.errors import RigError
from rig.place.power_policy import stays_on_after
from rig.timeline import Timeline


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("power", help="switch a place's power: on, off, cycle", description=__doc__)
    p.add_argument("action", choices=("on", "off", "cycle"))
    p.add_argument("--off-time", type=float, default=1.0, metavar="S", help="off time of a cycle (default 1 s)")
    p.add_argument("--hold", type=float, metavar="S",
                   help="on a relay or process: keep the power on S seconds, then the safe state (default: until Ctrl-C)")
    add_place_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rig.place.bench import open_bench  # noqa: PLC0415 -- start-up cost: loaded only when the command runs

    if args.off_time < 0:
        raise RigError(f"--off-time {args.off_time}: must be >= 0 seconds")
    place = place_from_args(args)
    with open_bench(place, Timeline(), work_dir_of(place, args), console=False) as bench:
        power = bench.power
        if args.action == "off":
            power.off()
        elif args.action == "on":
            power.on()
        else:
            power.cycle(args.off_time)
        print(f"{place.name}: power {'on' if power.is_on() else 'off'} ({power.backend})", flush=True)
        if args.action != "off":
            if stays_on_after(power):
                bench.keep_power = True
            else:
                print(f"{place.name}: {power.backend} power holds only while rig runs; "
                      f"{'holding ' + format(args.hold, 'g') + ' s' if args.hold is not None else 'Ctrl-C to release'}"
                      f" (then safe state {place.safe_state})", flush=True)
                threading.Event().wait(args.hold)  # until Ctrl-C, or the --hold time
    return 0
