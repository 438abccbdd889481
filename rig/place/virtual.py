"""Bring up the virtual board as a place: server, supervisor subprocess, sim power/probe, serial console.

Opened only through rig.place.open (a virtual place no `rig sim` board is attached
to), which passes what such a board alone takes (rig.place.open.OwnBoard).

`queue_mode`: the board sleeps between wake-ups (QUEUE_AWAKE s awake after each message,
an Update every 3/4 of QUEUE_LIFETIME), short so a CI run does not sit through LwM2M's
93 s; the server is told the same awake time. `bootstrap`: the rig also runs its
bootstrap server and the board knows only that (`rig sim --bootstrap-server`).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import AsyncIterator

from rig.config import load_target
from rig.console.serial import SerialConsole
from rig.lwm2m.bootstrap_server import BootstrapServer, rig_account
from rig.lwm2m.device_modes import DeviceModes
from rig.lwm2m.profile import Profile
from rig.lwm2m.dtls.psk import PskStore
from rig.lwm2m.server import Lwm2mServer
from rig.lwm2m.start_state import StartState
from rig.lwm2m.transmission import CoapTiming
from rig.netutil import free_udp_pair
from rig.place.session import PlaceSession
from rig.power.sim import SimPower
from rig.probe.sim_probe import SimProbe
from rig.sim.launcher import start_virtual_board
from rig.timeline import Timeline
from rig.version_rule import VersionRule

ENDPOINT = "rig-virtual"
# 2 ms per sector erase makes a swap take real time (as on an MCU) so timed cuts land inside it.
# How long its client waits before "connection lost" comes from targets/virtual.toml's [coap] table.
BOARD_ARGS = ("--erase-ms", "2")
# The virtual board registers well under a second after power-on even on a loaded CI machine;
# waiting longer only makes a bricked case (which waits twice) slow.
VIRTUAL_BOOT_TIMEOUT = 6.0
QUEUE_AWAKE = 2.0  # s the board in queue mode listens after each message it sends
QUEUE_LIFETIME = 6  # s: it wakes for an Update every 4.5 s
LIFETIME = 60  # the board's default registration lifetime (rig sim --lifetime)


@contextlib.asynccontextmanager
async def virtual_place(
    target_file: Path, work_dir: Path, firmware_dir: Path, base_image: Path, timeline: Timeline,
    defects: tuple[str, ...] = (), board_args: tuple[str, ...] = BOARD_ARGS, scheme: str = "coap",
    image_key: Path | None = None, queue_mode: bool = False, bootstrap: bool = False,
) -> AsyncIterator[PlaceSession]:
    """`scheme` "coaps": the board registers and pulls over DTLS with a fresh per-run test PSK.
    `image_key`: its bootloader then trusts only images signed with that key and refuses downgrades."""
    target = load_target(target_file)
    profile = Profile.from_target(target.data, str(target_file))
    modes = DeviceModes.from_target(target.data, str(target_file))
    queue_mode, bootstrap = queue_mode or modes.queue_mode, bootstrap or modes.bootstrap
    awake = modes.awake_time or QUEUE_AWAKE
    lifetime = QUEUE_LIFETIME if queue_mode else LIFETIME
    psk_store, server_uri, extra = None, None, tuple(board_args)
    if image_key is not None:
        extra += ("--image-key", str(image_key), "--downgrade-prevention")
    if scheme == "coaps":
        key = os.urandom(16).hex()  # made per run, never stored: nothing to leak
        psk_store = PskStore.parse([f"{ENDPOINT}:{ENDPOINT}:{key}"])
        extra += ("--psk", f"{ENDPOINT}:{key}")
    if queue_mode:
        extra += ("--queue-mode", "--awake", f"{awake:g}", "--lifetime", str(lifetime))
    server = Lwm2mServer(timeline, firmware_dir, host="127.0.0.1", port=free_udp_pair(), request_timeout=5.0,
                         psk_store=psk_store, awake_time=awake)
    await server.start()
    server_uri = f"coaps://127.0.0.1:{server.port + 1}" if scheme == "coaps" else f"coap://127.0.0.1:{server.port}"
    board = power = probe = console = bs = None
    try:
        if bootstrap:
            bs = BootstrapServer(timeline, rig_account("127.0.0.1", server.port, psk_store, lifetime), port=free_udp_pair(),
                                 psk_store=psk_store)
            await bs.start()
            extra += ("--bootstrap-server", f"coaps://127.0.0.1:{bs.port + 1}" if scheme == "coaps" else bs.uri)
        board = start_virtual_board(
            work_dir / "board", target_file, server=None if bootstrap else server_uri, endpoint=ENDPOINT,
            image=base_image, defects=defects, extra=extra,
        )
        power = SimPower(board.control_port, name="virtual", safe_state="off", timeline=timeline)
        probe = SimProbe(board.control_port, name="virtual", timeline=timeline, unique_id=board.unique_id)
        console = SerialConsole(board.console_url, name="virtual", timeline=timeline, log_path=work_dir / "console.log")
        yield PlaceSession(
            name="virtual", endpoint=ENDPOINT, layout=target.layout, profile=profile,
            boot_timeout=min(target.boot_timeout, VIRTUAL_BOOT_TIMEOUT), power=power, probe=probe, console=console,
            server=server, timeline=timeline, download_timeout=10.0, update_timeout=10.0, board=board,
            pull_scheme=scheme, timing=CoapTiming.from_target(target.data, str(target_file)),
            start=StartState.from_target(target.data, str(target_file)),
            versions=VersionRule.from_target(target.data, str(target_file)), mcuboot_flash="mcuboot" in target.data,
            modes=DeviceModes(queue_mode, awake if queue_mode else None, bootstrap), bootstrap=bs,
        )
    finally:
        for closer in (power, probe, console):
            if closer is not None:
                try:
                    closer.close()
                except Exception:  # closing must go on for the others (and the board must stop)
                    pass
        if board is not None:
            board.stop()
        if bs is not None:
            await bs.stop()
        await server.stop()
