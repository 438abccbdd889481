"""The MCU process of the virtual board: the bootloader, then the application of the image it chose.

Started by the supervisor on power-on (forked from the zygote, or as
`python -m rig.sim.mcu CONFIG_JSON`), killed on a cut. Its stdout is the board's
UART. It exits only to reset: the application returns EXIT_REBOOT when it wants a
reboot, and the supervisor starts the next MCU process, which boots again.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from typing import Any

from rig.sim.app import client as app_client
from rig.sim.app.image import boot_flash

EXIT_REBOOT = 3


def console(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(config: dict[str, Any]) -> int:
    started = time.monotonic()
    console(f"*** rig virtual board {config.get('unique_id', '')}: power-on reset ***")
    flash, layout, target, booted = boot_flash(config, lambda s: console(f"[boot] {s}"))
    if booted is None:
        console("[boot] no bootable image: halted")
        while True:  # a bricked MCU spins in the bootloader; only a cut ends this process
            signal.pause()
    # The op count lets a sweep spread flash-op cuts over exactly this boot's swap (rig.campaign.measure).
    elapsed = (time.monotonic() - started) * 1000
    console(f"[boot] jumping to image {booted.version} ({elapsed:.0f} ms after reset, {flash.ops} flash ops)")
    asyncio.run(app_client.run(config, flash, layout, target, booted, console))
    return EXIT_REBOOT


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
