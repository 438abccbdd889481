"""Each defect switched on shows the symptom it names, and the correct board does not (a defect that changes nothing calibrates nothing)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from rig.lwm2m.server import Lwm2mServer
from rig.netutil import free_port
from rig.timeline import Timeline
from sim_board import make_image, start_board

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

EP = "defectboard"


async def _read(server: Lwm2mServer, path: str):
    response = await server.read(EP, path)
    assert response.ok, f"{path}: {response.code_text}"
    return response.value


async def _observe(tmp_path, defect: str | None) -> dict:
    """Push 2.0.0 over 1.0.0 and Execute; plus Execute in Idle, a corrupt push and a refused pull."""
    v1 = make_image(tmp_path, "1.0.0", seed=1)
    v2 = make_image(tmp_path, "2.0.0", seed=2)
    corrupt = tmp_path / "corrupt.bin"
    data = bytearray(make_image(tmp_path, "3.0.0", seed=3).read_bytes())
    data[0x400] ^= 0xFF  # a payload byte: header intact, hash wrong
    corrupt.write_bytes(bytes(data))
    server = Lwm2mServer(Timeline(), tmp_path, port=free_port(socket.SOCK_DGRAM))
    await server.start()
    extra = ["--defect", defect] if defect else []
    board = start_board(tmp_path / "board", "--server", f"coap://127.0.0.1:{server.port}", "--endpoint", EP,
                        *extra, image=v1)
    seen: dict = {}
    try:
        await server.wait_registration(EP, 15, after=0)
        seen["execute_in_idle"] = (await server.execute(EP, "/5/0/2")).code_text
        if seen["execute_in_idle"] != "4.05":
            await server.wait_registration(EP, 15)
        await server.push_firmware(EP, corrupt, block_size=1024)
        seen["after_corrupt"] = (await _read(server, "/5/0/3"), await _read(server, "/5/0/5"))
        assert (await server.write(EP, "/5/0/1", "")).ok
        dead = f"coap://127.0.0.1:{free_port(socket.SOCK_DGRAM)}/fw/none.bin"  # nobody listens: connection lost
        assert (await server.write(EP, "/5/0/1", dead)).ok
        for _ in range(100):
            if await _read(server, "/5/0/3") == 0:
                break
            await asyncio.sleep(0.1)
        seen["after_dead_uri"] = await _read(server, "/5/0/5")
        await server.push_firmware(EP, v2, block_size=1024)
        mark = len(server.timeline)
        await server.execute(EP, "/5/0/2")
        await server.wait_registration(EP, 15, after=mark)
        seen["version"] = await _read(server, "/3/0/3")
        seen["result"] = await _read(server, "/5/0/5")
        seen["primary"] = board.slot_image("primary").version
    finally:
        board.stop()
        await server.stop()
    return seen


def test_sim_correct_board_baseline(tmp_path):
    seen = asyncio.run(_observe(tmp_path, None))
    assert seen == {"execute_in_idle": "4.05", "after_corrupt": (0, 5), "after_dead_uri": 4,
                    "version": "2.0.0+0", "result": 1, "primary": "2.0.0+0"}


@pytest.mark.parametrize("defect, key, symptom", [
    ("state-not-persisted", "result", 0),
    ("version-not-updated", "version", "1.0.0+0"),
    ("integrity-skipped", "after_corrupt", (2, 0)),
    ("wrong-result-on-failed-download", "after_dead_uri", 8),
])
def test_sim_defect_shows_its_symptom(tmp_path, defect, key, symptom):
    seen = asyncio.run(_observe(tmp_path, defect))
    assert seen[key] == symptom, seen
