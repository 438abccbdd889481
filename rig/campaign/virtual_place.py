"""Bring up the virtual board as a place: server, supervisor subprocess, sim power/probe, serial console."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import AsyncIterator

from rig.campaign.session import PlaceSession
from rig.config import load_target
from rig.console.serial import SerialConsole
from rig.lwm2m.profile import Profile
from rig.lwm2m.server import Lwm2mServer
from rig.netutil import free_udp_pair
from rig.power.sim import SimPower
from rig.probe.sim_probe import SimProbe
from rig.sim.launcher import start_virtual_board
from rig.timeline import Timeline

ENDPOINT = "rig-virtual"


@contextlib.asynccontextmanager
async def virtual_place(
    target_file: Path, work_dir: Path, firmware_dir: Path, base_image: Path, timeline: Timeline,
    defects: tuple[str, ...] = (), board_args: tuple[str, ...] = ("--erase-ms", "4"),
) -> AsyncIterator[PlaceSession]:
    target = load_target(target_file)
    profile = Profile.from_target(target.data, str(target_file))
    server = Lwm2mServer(timeline, firmware_dir, host="127.0.0.1", port=free_udp_pair(), request_timeout=5.0)
    await server.start()
    board = power = probe = console = None
    try:
        board = start_virtual_board(
            work_dir / "board", target_file, server=f"coap://127.0.0.1:{server.port}", endpoint=ENDPOINT,
            image=base_image, defects=defects, extra=board_args,
        )
        power = SimPower(board.control_port, name="virtual", safe_state="off", timeline=timeline)
        probe = SimProbe(board.control_port, name="virtual", timeline=timeline)
        console = SerialConsole(board.console_url, name="virtual", timeline=timeline, log_path=work_dir / "console.log")
        yield PlaceSession(
            name="virtual", endpoint=ENDPOINT, layout=target.layout, profile=profile,
            boot_timeout=min(target.boot_timeout, 15.0), power=power, probe=probe, console=console,
            server=server, timeline=timeline, download_timeout=60.0, update_timeout=30.0, board=board,
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
        await server.stop()
