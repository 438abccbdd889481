"""`rig flash IMAGE`: program an image through the place's probe (a .bin into a slot, hex/elf at their addresses)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rig.commands.place_args import add_place_options, place_from_args, work_dir_of
from rig.errors import RigError
from rig.timeline import Timeline


def parse_int(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an address (e.g. 0x10000)") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("flash", help="program an image through the place's probe", description=__doc__)
    p.add_argument("image", type=Path, help="image file (.bin, .hex, .elf)")
    p.add_argument("--slot", choices=("primary", "secondary"), help="slot a .bin goes to (default primary)")
    p.add_argument("--address", type=parse_int, metavar="A", help="absolute address instead of a slot")
    p.add_argument("--reset", action="store_true", help="reset the target afterwards")
    add_place_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rig.campaign.images import accept_image  # noqa: PLC0415 -- start-up cost: loaded only when the command runs
    from rig.mcuboot.image_file import FLASH  # noqa: PLC0415 -- start-up cost: loaded only when the command runs
    from rig.place.bench import open_bench  # noqa: PLC0415 -- start-up cost: loaded only when the command runs
    from rig.probe.base import image_format  # noqa: PLC0415 -- start-up cost: loaded only when the command runs

    if not args.image.is_file():
        raise RigError(f"image {args.image}: no such file")
    if args.slot and args.address is not None:
        raise RigError("give --slot or --address, not both")
    place = place_from_args(args)
    if place.probe is None:
        raise RigError(f"place {place.name} has no probe; add [places.{place.name}.probe] to {place.source}")
    layout = place.layout
    fmt = image_format(args.image)
    address, where = args.address, f"0x{args.address:x}" if args.address is not None else ""
    version = ""
    if fmt == "bin" and address is None:
        slot_name = args.slot or "primary"
        slot = layout.partition(slot_name)
        size = args.image.stat().st_size
        if size > slot.size:
            raise RigError(f"image {args.image} ({size} bytes) does not fit slot {slot_name} ({slot.size} bytes)")
        try:
            checked = accept_image(args.image, layout, "image", slot_name, FLASH, intact=False)
        except RigError as exc:
            raise RigError(f"{exc} (--address A writes a file's bytes as they are)") from None
        address, where = layout.base + slot.offset, f"slot {slot_name} at 0x{layout.base + slot.offset:x}"
        version = f" ({checked.describe()})"
    elif fmt != "bin" and args.slot:
        raise RigError(f"--slot applies to .bin images; {args.image} is {fmt} and carries its own addresses")
    with open_bench(place, Timeline(), work_dir_of(place, args), console=False) as bench:
        bench.power_for_probe()
        bench.probe.program(args.image, address)
        if args.reset:
            bench.probe.reset()
    print(f"{place.name}: flashed {args.image}{version} to {where or 'its own addresses'}")
    return 0
