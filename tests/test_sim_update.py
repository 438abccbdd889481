"""The virtual board updated through the rig's own LwM2M server: push, then pull, then a failing image reverts."""

from __future__ import annotations

import asyncio
import shutil
import socket

import pytest

from rig.lwm2m.server import Lwm2mServer
from rig.netutil import free_port
from rig.sim.defects import IMAGE_MARKERS
from rig.timeline import Timeline
from sim_board import make_image, start_board

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

EP = "vboard"


async def value(server: Lwm2mServer, path: str):
    response = await server.read(EP, path)
    assert response.ok, f"read {path}: {response.code_text} {response.error}"
    return response.value


async def execute_and_reboot(server: Lwm2mServer, timeline: Timeline) -> None:
    mark = len(timeline)
    response = await server.execute(EP, "/5/0/2")
    assert response.ok, response.code_text
    await server.wait_registration(EP, 15, after=mark)


async def wait_state(server: Lwm2mServer, timeline: Timeline, state: int, start: int, timeout: float = 15) -> None:
    """Wait for a State notification (observed with pmin 0), then confirm it with a read."""
    event = await timeline.wait_for_async(
        lambda e: e.kind == "notify" and state in e.data.get("values", {}).values(), timeout, start)
    assert event is not None, f"no notification of State {state}; events: {[e.kind for e in timeline.events()][-20:]}"
    assert await value(server, "/5/0/3") == state


def test_sim_push_then_pull_update_through_the_server(tmp_path):
    fw_dir = tmp_path / "fw"
    fw_dir.mkdir()
    v1 = make_image(tmp_path, "1.0.0", seed=1)
    v2 = make_image(tmp_path, "2.0.0", seed=2)
    v3 = make_image(fw_dir, "3.0.0", seed=3, size=48 * 1024)

    async def scenario() -> None:
        timeline = Timeline()
        server = Lwm2mServer(timeline, fw_dir, port=free_port(socket.SOCK_DGRAM))
        await server.start()
        board = start_board(tmp_path / "board", "--server", f"coap://127.0.0.1:{server.port}", "--endpoint", EP,
                            "--block-size", "512", image=v1)
        try:
            reg = await server.wait_registration(EP, 15, after=0)
            assert reg.objects.get(5) == "1.1" and reg.lwm2m_version == "1.1"
            assert await value(server, "/3/0/3") == "1.0.0+0"
            assert await value(server, "/5/0/3") == 0
            assert (await server.execute(EP, "/5/0/2")).code_text == "4.05"

            # push: Block1 to /5/0/0
            pushed = await server.push_firmware(EP, v2, block_size=256)
            assert getattr(pushed, "ok", True), pushed
            assert await value(server, "/5/0/3") == 2
            assert await value(server, "/5/0/7") == "2.0.0+0"
            await execute_and_reboot(server, timeline)
            assert await value(server, "/3/0/3") == "2.0.0+0"
            assert await value(server, "/5/0/5") == 1 and await value(server, "/5/0/3") == 0
            primary = board.slot_image("primary")
            assert primary.intact and primary.version == "2.0.0+0"

            # pull: Package URI, Block2 of 512, State observed
            assert (await server.write_attributes(EP, "/5/0/3", pmin=0, pmax=30)).ok
            response, _obs = await server.observe(EP, "/5/0/3")
            assert response.ok
            mark = len(timeline)
            assert (await server.write(EP, "/5/0/1", server.firmware_uri(v3.name))).ok
            await wait_state(server, timeline, 2, mark)
            blocks = [e for e in timeline.events("block2")[0:] if e.data.get("size") == 512 or e.data.get("num") is not None]
            assert blocks, "the pull must go through the server's Block2 resource"
            await execute_and_reboot(server, timeline)
            assert await value(server, "/3/0/3") == "3.0.0+0"
            assert await value(server, "/5/0/5") == 1
            assert board.slot_image("primary").version == "3.0.0+0"
            assert board.slot_image("secondary").version == "2.0.0+0", "swap keeps the old image for a revert"
        finally:
            board.stop()
            await server.stop()

    asyncio.run(scenario())


def test_sim_crashing_image_is_reverted_and_reported_as_failed(tmp_path):
    v1 = make_image(tmp_path, "1.0.0", seed=1)
    bad = make_image(tmp_path, "2.0.0", seed=2, marker=IMAGE_MARKERS["crash"])
    fw_dir = tmp_path / "fw"
    fw_dir.mkdir()

    async def scenario() -> None:
        timeline = Timeline()
        server = Lwm2mServer(timeline, fw_dir, port=free_port(socket.SOCK_DGRAM))
        await server.start()
        board = start_board(tmp_path / "board", "--server", f"coap://127.0.0.1:{server.port}", "--endpoint", EP,
                            image=v1)
        try:
            await server.wait_registration(EP, 15, after=0)
            await server.push_firmware(EP, bad, block_size=1024)
            assert await value(server, "/5/0/3") == 2
            await execute_and_reboot(server, timeline)
            assert await value(server, "/3/0/3") == "1.0.0+0"
            assert await value(server, "/5/0/5") == 8
            assert board.slot_image("primary").version == "1.0.0+0"
            log = (tmp_path / "board" / "console.log").read_text()
            assert "HardFault" in log
        finally:
            board.stop()
            await server.stop()

    asyncio.run(scenario())


_ = shutil  # (kept for local debugging of board dirs)
