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
from rig.errors import RigError
from rig.lwm2m import events as lwm2m
from rig.lwm2m.object5 import PKG_VERSION_PATH, RESULT_NAMES, RESULT_PATH, STATE_NAMES, STATE_PATH
from rig.timeline import Timeline


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("inspect", help="slots, trailers, next swap, settings and Object 5 of a place",
                              description=__doc__)
    p.add_argument("--wait", type=float, default=0.0, metavar="S",
                   help="wait up to S seconds for the device to register and read Object 5 (default 0: flash only)")
    add_place_options(p, server=True)
    p.set_defaults(func=run)


def probe_reader(probe: Any, base: int) -> Callable[[int, int], bytes]:
    """read(offset, length) relative to the flash base, through any probe backend."""
    def read(offset: int, length: int) -> bytes:
        if hasattr(probe, "read_bytes"):
            return probe.read_bytes(base + offset, length)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "region.bin"
            probe.read(base + offset, length, path)
            return path.read_bytes()
    return read


def flash_report(read: Callable[[int, int], bytes], layout: Any) -> list[str]:
    from rig.mcuboot import inspect_slots

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
    lines.append(settings_line(read, layout))
    return lines


def settings_line(read: Callable[[int, int], bytes], layout: Any) -> str:
    if "settings" not in layout.partitions:
        return "settings: no settings partition in this target"
    part = layout.partition("settings")
    raw = read(part.offset, part.size)
    erased = bytes([layout.erased_value]) * len(raw)
    if raw == erased:
        return f"settings: erased ({part.size} bytes)"
    used = len(raw.rstrip(bytes([layout.erased_value])))
    from rig.sim.app.settings import SettingsStore

    class Snapshot:  # read-only flash over the dumped bytes
        def read(self, offset: int, length: int) -> bytes:
            return raw[offset - part.offset:offset - part.offset + length]

    try:
        values = SettingsStore(Snapshot(), part.offset, part.size, layout.sector_size, layout.write_size,
                               layout.erased_value).values
    except Exception:  # noqa: BLE001 - another firmware's format: show only how much is used
        values = {}
    shown = ", ".join(f"{k}={v}" for k, v in sorted(values.items())) if values else "not in the rig's record format"
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
    from rig.place_session import open_bench

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
            lines = flash_report(probe_reader(bench.probe, place.layout.base), place.layout)
        print("\n".join(lines))
        return 0
    return asyncio.run(_with_server(args, place, work))


async def _with_server(args: argparse.Namespace, place: Any, work: Path) -> int:
    from rig.place_session import open_place_session

    with tempfile.TemporaryDirectory() as firmware_dir:
        async with open_place_session(place, Timeline(), work, Path(firmware_dir), server_host=args.host,
                                      server_port=args.port, keep_power=True,
                                      bootstrap_port=getattr(args, "bootstrap_port", None),
                                      bootstrap_lifetime=getattr(args, "bootstrap_lifetime", None)) as session:
            if place.power.backend not in ("manual", "process") and not session.power.is_on():
                session.power.on()  # a relay-powered board is off while no rig drives it
            read = probe_reader(session.probe, place.layout.base)
            print("\n".join(await asyncio.to_thread(flash_report, read, place.layout)), flush=True)
            if place.power.backend == "process":  # read before it boots: a swap would be under way
                session.power.on()
            print("\n".join(await object5_report(session, args.wait)))
    return 0
