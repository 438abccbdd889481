"""`rig dump REGION -o FILE`: read a partition (or ADDR:LEN) through the place's probe into a file."""

from __future__ import annotations

import argparse
from pathlib import Path

from rig.commands.place_args import add_place_options, place_from_args, work_dir_of
from rig.errors import RigError
from rig.timeline import Timeline


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("dump", help="read a partition or address range to a file", description=__doc__)
    p.add_argument("region", help="partition name (primary, secondary, scratch, settings, boot) or ADDR:LEN")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE", help="file to write")
    add_place_options(p)
    p.set_defaults(func=run)


def region_range(region: str, layout: object) -> tuple[int, int]:
    """(absolute address, length) of a partition name or "ADDR:LEN" (hex or decimal)."""
    if ":" in region:
        addr_text, _, len_text = region.partition(":")
        try:
            addr, length = int(addr_text, 0), int(len_text, 0)
        except ValueError:
            raise RigError(f"region {region!r}: ADDR:LEN must be numbers, e.g. 0x50000:0x1000") from None
        if addr < 0 or length <= 0:
            raise RigError(f"region {region!r}: address must be >= 0 and length > 0")
        return addr, length
    parts = layout.partitions  # type: ignore[attr-defined]
    if region not in parts:
        raise RigError(f"region {region!r}: not a partition of this target ({', '.join(parts)}) nor ADDR:LEN")
    part = parts[region]
    return layout.base + part.offset, part.size  # type: ignore[attr-defined]


def run(args: argparse.Namespace) -> int:
    from rig.place.bench import open_bench  # noqa: PLC0415 -- start-up cost: loaded only when the command runs

    place = place_from_args(args)
    if place.probe is None:
        raise RigError(f"place {place.name} has no probe; add [places.{place.name}.probe] to {place.source}")
    address, length = region_range(args.region, place.layout)
    if args.output.parent and not args.output.parent.exists():
        raise RigError(f"-o {args.output}: directory {args.output.parent} does not exist")
    with open_bench(place, Timeline(), work_dir_of(place, args), console=False) as bench:
        bench.power_for_probe()
        bench.probe.read(address, length, args.output)
    print(f"{place.name}: 0x{address:x}+0x{length:x} ({length} bytes) -> {args.output}")
    return 0
