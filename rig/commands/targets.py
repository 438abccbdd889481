"""`rig targets`: the target files that come with the rig (the checkout's targets/, or the wheel's rig.targets).

Any of them can be given to --target by name (`--target host_sim`) or copied as a
start for your own board or client (`rig targets --path host_process`).
"""

from __future__ import annotations

import argparse

from rig.errors import RigError
from rig.target_files import list_targets, shipped, targets_dir


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("targets", help="list the target files that come with the rig", description=__doc__)
    p.add_argument("--path", metavar="NAME", help="print only the path of the target NAME (to copy it)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.path:
        path = shipped(args.path)
        if not path.is_file():
            names = ", ".join(e.path.stem for e in list_targets())
            raise RigError(f"no shipped target {args.path!r}; shipped: {names}")
        print(path)
        return 0
    entries = list_targets()
    print(f"target files in {targets_dir()} (give --target NAME or a path of your own):")
    width = max((len(e.path.stem) for e in entries), default=4)
    for e in entries:
        print(f"  {e.path.stem:<{width}}  {e.kind:<8} {e.description}")
    return 0
