"""The supervisor's console relay outlives a garbage collection (it was a task nobody referenced: collected mid-run,
the MCU's console pipe filled and its next log line failed a CoAP request with 5.00)."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess

import pytest

from rig.sim.board_config import BoardConfig
from rig.sim.spawn import McuProcess
from rig.sim.supervisor import Supervisor
from sim_board import TARGET

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset


class PipeSpawner:
    """An "MCU" whose console is a pipe the test writes into; its process is an idle child in its own group,
    so whatever the supervisor signals, it is only that child."""

    def __init__(self) -> None:
        self.write_fd = -1
        self.child: subprocess.Popen | None = None

    def start(self, config: dict) -> McuProcess:
        read_fd, self.write_fd = os.pipe()
        self.child = subprocess.Popen(["sleep", "60"], start_new_session=True)
        return McuProcess(pid=self.child.pid, console_fd=read_fd)


def test_console_relay_survives_garbage_collection(tmp_path) -> None:
    sup = Supervisor(BoardConfig(directory=tmp_path, target_path=TARGET, power_on=False))
    spawner = sup._spawner = PipeSpawner()

    async def main() -> bytes:
        sup.power = "on"
        sup._start_mcu()
        for _ in range(20):  # a few loop turns: the relay has connected the pipe and waits for a line
            await asyncio.sleep(0)
        for _ in range(3):
            gc.collect()
        os.write(spawner.write_fd, b"[app] after a collection\n")
        for _ in range(200):  # bounded: the line arrives within a few loop turns, or the relay is gone
            await asyncio.sleep(0.005)
            if b"after a collection" in (tmp_path / "console.log").read_bytes():
                break
        sup.power = "off"  # the relay then ends quietly when the pipe closes
        os.close(spawner.write_fd)
        await asyncio.sleep(0.01)
        return (tmp_path / "console.log").read_bytes()

    try:
        log = asyncio.run(main())
    finally:
        if spawner.child is not None:
            spawner.child.kill()
            spawner.child.wait()
    assert b"[app] after a collection" in log
