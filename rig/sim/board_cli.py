"""Command line of the virtual board (`rig sim`, `python -m rig.sim.board_cli`): options -> BoardConfig -> run.

Kept apart from the supervisor so that file holds only what outlives a power cut.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

from rig.errors import RigError
from rig.sim import defects
from rig.sim.app.deferral import DEFAULT_POLICY, POLICIES
from rig.sim.board_config import BoardConfig
from rig.sim.supervisor import Supervisor
from rig.target_files import find_target, shipped


def ready_lines(sup: Supervisor) -> list[str]:
    """What `rig sim` prints when the board is up: the console URL and the debug-port id."""
    return [
        f"console: socket://127.0.0.1:{sup.console_port}",
        f"debug-port: {sup.unique_id} (control 127.0.0.1:{sup.control_port})",
        f"control: 127.0.0.1:{sup.control_port}",
        f"flash: {sup.flash_path}",
    ]


async def run(config: BoardConfig, ready: Any = None) -> None:
    """Run a board until SIGTERM/SIGINT; `ready(supervisor)` is called once the ports are bound."""
    sup = Supervisor(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await sup.start()
    try:
        if ready is not None:
            ready(sup)  # board.json and the probe registry entry exist by now (Supervisor.start)
        await stop.wait()
    finally:
        await sup.stop()


def print_ready(sup: Supervisor) -> None:
    for line in ready_lines(sup):
        print(line)
    sys.stdout.flush()


def seconds(text: str) -> float:
    """'10', '10s', '1.5s', '2m' -> seconds (argparse type)."""
    t = text.strip().lower()
    scale = 60.0 if t.endswith("m") else 1.0
    try:
        value = float(t.rstrip("sm")) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time like 10s or 2m") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be more than 0 s")
    return value


def add_board_options(parser: Any) -> None:
    """The `rig sim` board options (also `python -m rig.sim.board_cli`)."""
    parser.add_argument("--server", help="LwM2M server URI the client registers with (coap://HOST:PORT)")
    parser.add_argument("--endpoint", default="rig-virtual", help="LwM2M endpoint name (default rig-virtual)")
    parser.add_argument("--psk", metavar="IDENTITY:HEXKEY", help="DTLS PSK for a coaps server")
    parser.add_argument("--defect", action="append", default=[], metavar="NAME", help="switch on a field defect (repeatable)")
    parser.add_argument("--dir", type=Path, help="board directory: flash.bin, console.log, board-id (default ./virtual-board)")
    parser.add_argument("--target", type=Path, help="target file (default targets/virtual.toml)")
    parser.add_argument("--image", type=Path, help="factory image programmed into the primary slot of a new flash file")
    parser.add_argument("--console-port", type=int, default=0, help="console TCP port (default: any free)")
    parser.add_argument("--control-port", type=int, default=0, help="control/debug TCP port (default: any free)")
    parser.add_argument("--block-size", type=int, default=512, help="Block2 size of pull downloads (16..1024)")
    parser.add_argument("--erase-ms", type=float, default=0.0, help="simulated sector erase time in ms (default 0)")
    parser.add_argument("--lifetime", type=seconds, default=60, metavar="S",
                        help="registration lifetime (default 60s); the board sends an Update after 3/4 of it")
    parser.add_argument("--queue-mode", action="store_true",
                        help="register in queue mode (Q): the radio sleeps between wake-ups and drops what arrives "
                             "then; it wakes at each registration Update")
    parser.add_argument("--awake", type=seconds, default=None, metavar="S",
                        help="queue mode: how long the radio listens after each message sent (default: the target's "
                             "MAX_TRANSMIT_WAIT, 3.5 s for targets/virtual.toml)")
    parser.add_argument("--bootstrap-server", metavar="URI",
                        help="bootstrap first (coap:// or coaps:// with --psk), at every boot, and register with the "
                             "server account it writes (instead of --server)")
    parser.add_argument("--bootstrap-format", choices=("tlv", "senml-cbor"), default="tlv",
                        help="the format the Bootstrap-Request asks the writes in (default tlv; senml-cbor: pct=112)")
    parser.add_argument("--image-key", type=Path, metavar="PEM",
                        help="the bootloader boots and swaps in only images signed with this key (public or private PEM)")
    parser.add_argument("--downgrade-prevention", action="store_true",
                        help="the bootloader refuses to swap in a lower version (MCUBOOT_DOWNGRADE_PREVENTION)")
    parser.add_argument("--fetch-timeout", type=float, default=None,
                        help="seconds the client waits for a block of a pull before 'connection lost' (default: the"
                             " EXCHANGE_LIFETIME of the target file's [coap] transmission parameters)")
    parser.add_argument("--deferral", choices=tuple(POLICIES), default=DEFAULT_POLICY,
                        help="which updates the board's user defers when Update is executed (Update Result 11, while "
                             "the Maximum Defer Period /5/0/13 is above 0): never, optional (Severity 2, the default) "
                             "or non-critical (Severity 1 and 2); critical updates never")
    parser.add_argument("--off", action="store_true", help="start with the target unpowered")
    parser.add_argument("--no-zygote", action="store_true", help="start each MCU process as a fresh interpreter")
    parser.add_argument("--list-defects", action="store_true", help="list the defects, one line each, and exit")


def default_target() -> Path:
    return shipped("virtual")  # the checkout's targets/, or the wheel's rig.targets


def config_from_args(args: Any) -> BoardConfig:
    if args.block_size not in (16, 32, 64, 128, 256, 512, 1024):
        raise RigError(f"--block-size {args.block_size} must be a power of two from 16 to 1024")
    if args.psk is not None:
        identity, sep, key = args.psk.rpartition(":")  # an identity may hold ':'; a hex key cannot
        try:
            bytes.fromhex(key)
        except ValueError:
            sep = ""
        if not sep or not identity or not key:
            raise RigError(f"--psk {args.psk!r} must be IDENTITY:HEXKEY")
    if args.server is not None and not args.server.startswith(("coap://", "coaps://")):
        raise RigError(f"--server {args.server!r} must be a coap:// or coaps:// URI")
    if args.bootstrap_server is not None:
        if not args.bootstrap_server.startswith(("coap://", "coaps://")):
            raise RigError(f"--bootstrap-server {args.bootstrap_server!r} must be a coap:// or coaps:// URI")
        if args.server is not None:
            raise RigError("give --server or --bootstrap-server, not both (the bootstrap server names the server)")
        if args.bootstrap_server.startswith("coaps://") and args.psk is None:
            raise RigError(f"--bootstrap-server {args.bootstrap_server}: coaps needs --psk IDENTITY:HEXKEY")
    if args.awake is not None and not args.queue_mode:
        raise RigError("--awake is the awake time of queue mode: give --queue-mode too")
    if args.image_key is not None and not args.image_key.is_file():
        raise RigError(f"--image-key {args.image_key}: no such file")
    if args.image is not None and not args.image.is_file():
        raise RigError(f"--image {args.image}: no such file")
    target = find_target(args.target) if args.target else default_target()
    if not target.is_file():
        raise RigError(f"target file {target} not found (use --target)")
    return BoardConfig(
        directory=args.dir or Path("virtual-board"), target_path=target, server=args.server,
        endpoint=args.endpoint, psk=args.psk, defects=defects.validate(args.defect),
        console_port=args.console_port, control_port=args.control_port, image=args.image,
        zygote=not args.no_zygote, power_on=not args.off, lifetime=max(1, round(args.lifetime)),
        block_size=args.block_size, queue_mode=args.queue_mode, awake=args.awake,
        bootstrap_server=args.bootstrap_server, bootstrap_format=args.bootstrap_format,
        erase_ms=args.erase_ms, fetch_timeout=args.fetch_timeout,
        image_key=args.image_key.resolve() if args.image_key else None, downgrade_prevention=args.downgrade_prevention,
        deferral=args.deferral,
    )


def run_board(args: Any) -> int:
    """`rig sim`: list defects, or run one virtual board until interrupted."""
    if args.list_defects:
        for line in defects.describe():
            print(line)
        return 0
    config = config_from_args(args)
    asyncio.run(run(config, print_ready))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rig.sim.board_cli",
                                     description="The virtual board: supervisor of a simulated MCU with MCUboot and an LwM2M client")
    add_board_options(parser)
    args = parser.parse_args(argv)
    try:
        return run_board(args)
    except RigError as exc:
        print(f"virtual board: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # `python -m rig.sim.board_cli`: the same options as `rig sim`
    sys.exit(main())
