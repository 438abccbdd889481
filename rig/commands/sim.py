"""`rig sim`: the virtual board and its in-process tools.

`rig sim` alone will run the virtual board (its options join this parser);
`rig sim sweep-swap` cuts power at every flash operation of an MCUboot swap.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from rig.errors import RigError
from rig.target_files import shipped

DEFAULT_TARGET = shipped("virtual")


def parse_size(text: str) -> int:
    """'64K', '1M', '0x10000', '65536' -> bytes."""
    m = re.fullmatch(r"\s*(0x[0-9a-fA-F]+|\d+)\s*([kKmM]?)(i?[bB])?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (e.g. 64K, 1M, 0x10000)")
    value = int(m.group(1), 0) * {"": 1, "k": 1024, "m": 1024 * 1024}[m.group(2).lower()]
    if value <= 0:
        raise argparse.ArgumentTypeError(f"size {text!r} must be positive")
    return value


def sweep_size(text: str) -> int | str:
    return "max" if text.strip().lower() == "max" else parse_size(text)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sim", help="the virtual board and its in-process tools",
                                   description=__doc__)
    # -- virtual board options (rig sim with no sub-command runs the board) --
    from rig.sim.board_cli import add_board_options  # noqa: PLC0415 -- start-up cost: loaded only when the command runs

    add_board_options(parser)
    parser.set_defaults(func=run_board)
    sim_sub = parser.add_subparsers(dest="sim_command", metavar="SIM_COMMAND")

    sweep = sim_sub.add_parser("sweep-swap", help="cut power at every flash op of a test swap and of its revert",
                               description="Cut power at every flash operation of an MCUboot test swap and of "
                                           "the revert after it (swap-scratch or swap-move, as the target says; "
                                           "in one process, on flash snapshots), boot again, "
                                           "and check that an intact image runs and the trailers are consistent.")
    sweep.add_argument("--image-size", type=sweep_size, default=64 * 1024,
                       help="payload size of both images (64K), or 'max': the largest the target's slots swap")
    sweep.add_argument("--torn", action="store_true", help="tear the cut operation (partial erase / partial program)")
    sweep.add_argument("--seed", type=int, default=0, help="seed deciding which bytes/bits a torn op reaches")
    sweep.add_argument("--variant", default="mcuboot",
                       help="bootloader variant: mcuboot (correct) or a deliberately wrong one (no-resume, "
                            "status-before-data, done-before-data, no-scratch-trailer, scratch-forwards, "
                            "exact-scratch-source, strict-flags)")
    sweep.add_argument("--target", type=Path, default=DEFAULT_TARGET, help="target file with the flash layout")
    sweep.add_argument("--all", action="store_true", help="go on after the first failure and count them all")
    sweep.set_defaults(func=run_sweep)


def run_board(args: argparse.Namespace) -> int:
    """Run one virtual board until Ctrl-C; prints the console URL and the debug-port id when ready."""
    from rig.sim.board_cli import run_board as run  # noqa: PLC0415 -- start-up cost: loaded only when the command runs

    return run(args)


def run_sweep(args: argparse.Namespace) -> int:
    from rig.flash_layout import load_layout  # noqa: PLC0415 -- start-up cost: loaded only when the command runs
    from rig.sim.bootloader import bootloader_class  # noqa: PLC0415 -- start-up cost: loaded only when the command runs
    from rig.sim.sweep_swap import build_scenarios, sweep  # noqa: PLC0415 -- start-up cost: loaded only when the command runs

    from rig.campaign.images import UNSIGNED_TLVS, max_payload  # noqa: PLC0415 -- start-up cost: loaded only when the command runs

    layout = load_layout(args.target)
    bootloader_class(args.variant, layout.mcuboot_mode)  # RigError naming the known variants
    largest = max_payload(layout, UNSIGNED_TLVS)  # the sweep's images are unsigned
    if args.image_size == "max":
        args.image_size = largest
    if args.image_size > largest:
        raise RigError(f"--image-size {args.image_size} does not fit the slots of {args.target}: "
                       f"at most {largest} bytes of payload ({layout.mcuboot_mode}, {layout.max_sectors} sectors)")
    try:
        scenarios = build_scenarios(layout, args.image_size, variant=args.variant)
    except RuntimeError as exc:
        raise RigError(str(exc)) from None
    report = sweep(layout, scenarios, torn=args.torn, seed=args.seed, variant=args.variant,
                   stop_at_first=not args.all)
    ops = ", ".join(f"{name}: {n} cuts" for name, n in report.ops.items())
    kind = f"torn, seed {args.seed}" if args.torn else "whole"
    print(f"bootloader {args.variant}, image {args.image_size} bytes, {kind} ({ops})")
    print(f"{report.cuts} cuts, {report.recovered} recovered in {report.seconds:.2f} s ({report.rate:.0f} cuts/s)")
    if report.ok:
        return 0
    first = report.failures[0]
    print(f"FAILED: first failing op {first.op_index}; {len(report.failures)} failure(s) seen")
    print(first.describe())
    return 1
