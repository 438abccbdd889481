"""`rig inspect`: what the board holds and will do next, read through its probe.

Per slot: the image version, whether header/hash hold, and the trailer (magic,
image_ok, copy_done, swap_info); the swap the bootloader will do at the next
reset; the settings area; and, with --wait S, Object 5 State and Update Result
once the device registers with the rig's server.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path
from typing import Any, Callable

from rig.commands.place_args import add_place_options, place_from_args, work_dir_of
from rig.config import Place
from rig.errors import RigError
from rig.flash_layout import FlashLayout
from rig.lwm2m import events as lwm2m
from rig.lwm2m.object5 import PKG_VERSION_PATH, RESULT_NAMES, RESULT_PATH, STATE_NAMES, STATE_PATH
from rig.place.power_policy import power_for_server
from rig.probe.base import Probe
from rig.timeline import Timeline


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("inspect", help="slots, trailers, next swap, settings and Object 5 of a place",
                              description=__doc__)
    p.add_argument("--wait", type=float, default=0.0, metavar="S",
                   help="wait up to S seconds for the device to register and read Object 5 (default 0: flash only)")
    add_place_options(p, server=True)
    p.set_defaults(func=run)


def probe_reader(probe: Probe, base: int) -> Callable[[int, int], bytes]:
    """read(offset, length) relative to the flash base, through any probe backend."""
    def read(offset: int, length: int) -> bytes:
        return probe.read_bytes(base + offset, length)
    return read


def flash_report(probe: Probe, layout: FlashLayout) -> list[str]:
    """Slots, trailers and the next swap (decoded by rig.mcuboot, MCUboot's public formats), and the settings area."""
    from rig.mcuboot import inspect_slots  # noqa: PLC0415 -- start-up cost: loaded only when the command runs

    read = probe_reader(probe, layout.base)
    report = inspect_slots(read, layout, tolerant=False)
    auto = " (auto: the slot's sectors)" if layout.max_sectors == layout.auto_max_sectors() else ""
    lines = [f"mcuboot: {layout.mcuboot_mode}, status for {layout.max_sectors} sectors{auto}, "
             f"images up to 0x{report.limit.image:x} bytes"]
    for slot, info, trailer in (("primary", report.primary, report.primary_trailer),
                                ("secondary", report.secondary, report.secondary_trailer)):
        lines.append(f"{slot}: {info.describe()}")
        lines.append(f"  trailer: magic {trailer.magic}, image_ok {trailer.image_ok}, copy_done {trailer.copy_done},"
                     f" swap_info 0x{trailer.raw_swap_info:02x} (swap type {trailer.swap_type_name},"
                     f" image {trailer.image_num}), status {trailer.status.describe()}")
    if report.scratch_trailer is not None:
        st = report.scratch_trailer
        lines.append(f"scratch: trailer magic {st.magic}, status {st.status.describe()}")
    if report.mode == "swap-move":
        lines.append(f"fallback trailer: magic {report.fallback_magic}")
    lines.append(f"next boot: {report.next_boot.describe()}")
    lines.append(settings_line(probe, layout))
    return lines


def settings_line(probe: Probe, layout: FlashLayout) -> str:
    """How much of the settings area is written, and what it holds when the device's own side can say: its record
    format is the firmware's own, so the rig asks the probe's device (the virtual board describes itself) and
    decodes nothing itself."""
    if "settings" not in layout.partitions:
        return "settings: no settings partition in this target"
    part = layout.partition("settings")
    raw = probe.read_bytes(layout.base + part.offset, part.size)
    if raw == bytes([layout.erased_value]) * len(raw):
        return f"settings: erased ({part.size} bytes)"
    used = len(raw.rstrip(bytes([layout.erased_value])))
    values = probe.device_settings(layout.base + part.offset, part.size, layout)
    shown = ", ".join(f"{k}={v}" for k, v in sorted(values.items())) if values else "in the firmware's own format"
    return f"settings: {used} of {part.size} bytes written; {shown}"


async def object5_report(session: Any, wait: float) -> list[str]:
    try:
        await session.server.wait_registration(session.endpoint, wait, after=0)
    except Exception:  # noqa: BLE001 - the server's timeout error; the report says so
        return [f"object 5: {session.endpoint} did not register within {wait:g} s"]
    lines = []
    for path, label, names in ((STATE_PATH, "State", STATE_NAMES), (RESULT_PATH, "Update Result", RESULT_NAMES),
                               (PKG_VERSION_PATH, "PkgVersion", None), (lwm2m.FIRMWARE_VERSION_PATH, "Firmware Version", None)):
        response = await session.server.read(session.endpoint, path)
        value = response.value if response.ok else f"({response.code_text})"
        named = f" ({names[value]})" if names and value in names else ""
        lines.append(f"{label} {path}: {value!r}{named}" if names is None else f"{label} {path}: {value}{named}")
    return [f"object 5 of {session.endpoint}:"] + ["  " + line for line in lines]


def run(args: argparse.Namespace) -> int:
    from rig.place.bench import open_bench  # noqa: PLC0415 -- start-up cost: loaded only when the command runs

    if args.wait < 0:
        raise RigError(f"--wait {args.wait}: must be >= 0 seconds")
    place = place_from_args(args)
    if place.probe is None:
        raise RigError(f"place {place.name} has no probe; add [places.{place.name}.probe] to {place.source}")
    work = work_dir_of(place, args)
    print(f"place {place.name} (target {place.target_name}, {place.kind})")
    if args.wait == 0:
        with open_bench(place, Timeline(), work, console=False) as bench:
            bench.power_for_probe()
            lines = flash_report(bench.probe, place.layout)
        print("\n".join(lines))
        return 0
    return asyncio.run(_with_server(args, place, work))


async def _with_server(args: argparse.Namespace, place: Place, work: Path) -> int:
    from rig.place.open import open_place  # noqa: PLC0415 -- start-up cost: aiocoap loads only for commands that serve

    with tempfile.TemporaryDirectory() as firmware_dir:
        async with open_place(place, Timeline(), work, Path(firmware_dir), keep_power=True) as session:
            assert session.probe is not None
            if not session.power.runs_device:  # a host process is read before it boots: a swap would be under way
                power_for_server(session.power)  # a relay-powered board is off while no rig drives it
            print("\n".join(await asyncio.to_thread(flash_report, session.probe, place.layout)), flush=True)
            if session.power.runs_device:
                session.power.on()
            print("\n".join(await object5_report(session, args.wait)))
    return 0
