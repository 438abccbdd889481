"""Power cuts at random instants (seeded) during a pull download and during the bootloader's swap.

Whatever the instant, the correct virtual board must come back, register, run an
intact old or new image, and report what happened: a resumed download reaches
Downloaded; after a swap cut the running image and Update Result agree (new: 1, old: 8).
"""

from __future__ import annotations

import asyncio
import random
import socket
import threading
import time

import pytest

from rig.lwm2m.server import Lwm2mServer
from rig.netutil import free_port
from rig.timeline import Timeline
from sim_board import Board, make_image, start_board

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

EP = "cutboard"
SEEDS = (1, 2, 3)


async def value(server: Lwm2mServer, path: str):
    response = await server.read(EP, path)
    assert response.ok, f"read {path}: {response.code_text} {response.error}"
    return response.value


async def wait_value(server: Lwm2mServer, path: str, want: int, timeout: float = 15) -> None:
    """Poll a resource until it has `want` (the device works on its own in between)."""
    deadline = asyncio.get_running_loop().time() + timeout
    last = None
    while asyncio.get_running_loop().time() < deadline:
        last = await value(server, path)
        if last == want:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path} stayed {last}, expected {want}")


def cut_after_console(board: Board, needle: str, delay: float) -> threading.Event:
    """Cut power `delay` seconds after the console shows `needle` (watched on the supervisor's event stream)."""
    done = threading.Event()
    client = board.client
    stream = client.events()

    def watch() -> None:
        for event in stream:
            if event.get("event") == "console" and needle in event.get("line", ""):
                time.sleep(delay)  # the fault's timing, chosen by the seed
                client.cut()
                done.set()
                return

    threading.Thread(target=watch, daemon=True).start()
    return done


def test_sim_cut_during_pull_download_resumes_and_keeps_the_old_image(tmp_path):
    fw_dir = tmp_path / "fw"
    fw_dir.mkdir()
    v1 = make_image(tmp_path, "1.0.0", seed=1)
    v2 = make_image(fw_dir, "2.0.0", seed=2, size=48 * 1024)

    async def scenario() -> None:
        timeline = Timeline()
        server = Lwm2mServer(timeline, fw_dir, port=free_port(socket.SOCK_DGRAM))
        await server.start()
        board = start_board(tmp_path / "board", "--server", f"coap://127.0.0.1:{server.port}", "--endpoint", EP,
                            "--block-size", "256", image=v1)
        try:
            await server.wait_registration(EP, 15, after=0)
            for seed in SEEDS:
                rng = random.Random(seed)
                at_block = rng.randrange(2, 180)
                mark = len(timeline)
                assert (await server.write(EP, "/5/0/1", server.firmware_uri(v2.name))).ok
                hit = await timeline.wait_for_async(
                    lambda e, at_block=at_block: e.kind == "block2" and e.data.get("num", -1) >= at_block, 15, mark)
                assert hit is not None, f"seed {seed}: download never reached block {at_block}"
                await asyncio.sleep(rng.uniform(0, 0.004))  # the cut's instant inside the block
                with board.client as c:
                    c.cut()
                    c.power_on()
                await server.wait_registration(EP, 15, after=mark)
                assert await value(server, "/3/0/3") == "1.0.0+0", f"seed {seed}"
                primary = board.slot_image("primary")
                assert primary.intact and primary.version == "1.0.0+0", f"seed {seed}: {primary.describe()}"
                await wait_value(server, "/5/0/3", 2)  # resumed (ETag checked) and completed
                secondary = board.slot_image("secondary")
                assert secondary.intact and secondary.version == "2.0.0+0", f"seed {seed}: {secondary.describe()}"
                after_cut = [e.data["num"] for e in timeline.events("block2")[0:] if e.t > hit.t]
                assert after_cut and min(after_cut) > 0, f"seed {seed}: the download resumed instead of restarting"
                assert (await server.write(EP, "/5/0/1", "")).ok  # back to Idle for the next seed
                assert await value(server, "/5/0/3") == 0
        finally:
            board.stop()
            await server.stop()

    asyncio.run(scenario())


def test_sim_cut_during_swap_comes_back_with_an_intact_old_or_new_image(tmp_path):
    images = [make_image(tmp_path, "1.0.0", seed=1), make_image(tmp_path, "2.0.0", seed=2)]

    async def scenario() -> None:
        timeline = Timeline()
        server = Lwm2mServer(timeline, tmp_path, port=free_port(socket.SOCK_DGRAM))
        await server.start()
        board = start_board(tmp_path / "board", "--server", f"coap://127.0.0.1:{server.port}", "--endpoint", EP,
                            "--erase-ms", "1", image=images[0])
        outcomes = []
        try:
            await server.wait_registration(EP, 15, after=0)
            running = "1.0.0+0"
            for seed in SEEDS:
                rng = random.Random(seed)
                new = images[1] if running == "1.0.0+0" else images[0]
                new_version = "2.0.0+0" if running == "1.0.0+0" else "1.0.0+0"
                await server.push_firmware(EP, new, block_size=1024)
                assert await value(server, "/5/0/3") == 2
                done = cut_after_console(board, "Starting swap", rng.uniform(0, 0.03))
                mark = len(timeline)
                assert (await server.execute(EP, "/5/0/2")).ok
                assert await asyncio.get_running_loop().run_in_executor(None, done.wait, 15), "swap never started"
                with board.client as c:
                    c.power_on()
                await server.wait_registration(EP, 15, after=mark)
                version = await value(server, "/3/0/3")
                assert version in (running, new_version), f"seed {seed}: runs {version}"
                primary = board.slot_image("primary")
                assert primary.intact and primary.version == version, f"seed {seed}: {primary.describe()}"
                result = await value(server, "/5/0/5")
                assert result == (1 if version == new_version else 8), f"seed {seed}: {version} with result {result}"
                outcomes.append(version == new_version)
                running = version
            log = (tmp_path / "board" / "console.log").read_text()
            resumed = log.count("Resuming an interrupted swap") + log.count("Boot source: scratch")
            assert resumed >= 1, "no cut landed inside a swap: the test did not test what it says"
        finally:
            board.stop()
            await server.stop()

    asyncio.run(scenario())
