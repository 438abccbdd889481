"""The virtual board's MCU program as a plain Linux process: a small LwM2M client for host-process targets.

`python -m rig.sim.host_device --flash FILE --target FILE --server coap://H:P`
runs the bootloader (MCUboot swap using scratch over the flash file) and then
the LwM2M client, with no supervisor. A reboot the firmware asks for re-execs
this program in place (same pid, same stdout), and so does an image that crashes
when --watchdog is given (an MCU's watchdog resets it; without it the process ends
with the crash's status, as a Linux client does), so the process power's SIGKILL of
the process group is still the one way to cut it, and the console reader keeps
its pipe across reboots. The flash file is the working directory's "flash": it
survives every cut, as flash does, and the file probe reads and programs it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from rig.sim.app.deferral import DEFAULT_POLICY, POLICIES
from rig.sim.app.package_sink import MODES
from rig.errors import RigError
from rig.sim import mcu


WATCHDOG_RESET = 70  # the exit status of an image that crashed (rig.sim.app.client)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m rig.sim.host_device", description=__doc__.splitlines()[0])
    p.add_argument("--flash", type=Path, required=True, help="flash file (created erased if missing)")
    p.add_argument("--target", type=Path, required=True, help="target file with the flash layout and [lwm2m] profile")
    p.add_argument("--server", help="LwM2M server URI (coap://HOST:PORT); without it the client does not register")
    p.add_argument("--endpoint", default="rig-host", help="endpoint name (default rig-host)")
    p.add_argument("--lifetime", type=int, default=60, help="registration lifetime in seconds")
    p.add_argument("--block-size", type=int, default=512, help="Block2 size of pull downloads")
    p.add_argument("--defect", action="append", default=[], metavar="NAME", help="a virtual-board defect to switch on")
    p.add_argument("--package", default="mcuboot", choices=MODES,
                   help="what a download is: an MCUboot image (default) or a vendor VPK1 package (rig.sim.vendor_pack)")
    p.add_argument("--psk", metavar="IDENTITY:HEXKEY", help="DTLS PSK for a coaps server and coaps downloads")
    p.add_argument("--watchdog", action="store_true",
                   help="an image that crashes resets the device, which boots again (default: the process ends)")
    p.add_argument("--deferral", default=DEFAULT_POLICY, choices=tuple(POLICIES),
                   help="which updates the device's user defers (as `rig sim --deferral`)")
    p.add_argument("--queue-mode", action="store_true", help="register in queue mode and sleep between wake-ups")
    p.add_argument("--awake", type=float, default=None, help="queue mode: s awake after each message sent")
    p.add_argument("--bootstrap-server", help="bootstrap first (a target command may use {bootstrap_uri})")
    return p.parse_args(argv)


def config_of(args: argparse.Namespace) -> dict[str, Any]:
    """The same config dict the supervisor hands its MCU process."""
    return {
        "flash": str(args.flash), "target": str(args.target), "server": args.server, "endpoint": args.endpoint,
        "psk": args.psk or None, "defects": list(args.defect), "lifetime": args.lifetime, "block_size": args.block_size,
        "unique_id": f"host-{args.endpoint}", "erase_ms": 0, "deferral": args.deferral,
        "package": args.package,
        "queue_mode": args.queue_mode, "awake": args.awake, "bootstrap_server": args.bootstrap_server,
    }


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if not args.target.is_file():
        print(f"host device: error: target file {args.target} not found", file=sys.stderr)
        return 2
    try:
        code = mcu.main(config_of(args))
    except RigError as exc:  # e.g. a flash file of the wrong size
        print(f"host device: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # an image that crashed: with a watchdog the MCU resets and boots again
        if not (args.watchdog and exc.code == WATCHDOG_RESET):
            raise
        code = mcu.EXIT_REBOOT
    if code == mcu.EXIT_REBOOT:
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, "-m", "rig.sim.host_device", *argv])
    return code


if __name__ == "__main__":
    sys.exit(main())
