"""The virtual board's Object 5 v1.1 features through its real CoAP interface: Severity and Maximum Defer Period
kept across a power cut, deferral (Downloaded / 11) and the install when the period ends or Severity turns
critical, the deadline kept across a cut, Last State Change Time; and the two defects that break them."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from rig.lwm2m.server import Lwm2mServer
from rig.netutil import free_port
from rig.timeline import Timeline
from sim_board import make_image, start_board

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

EP = "deferboard"
PERIOD = 2  # s


async def _value(server: Lwm2mServer, path: str):
    response = await server.read(EP, path)
    assert response.ok, f"{path}: {response.code_text}"
    return response.value


async def _pair(server: Lwm2mServer) -> tuple[int, int, int]:
    """(State, Update Result, Last State Change Time) from one Read of /5/0."""
    response = await server.read(EP, "/5/0")
    v = {p[2]: value for p, value in response.values.items() if len(p) == 3}
    return v[3], v[5], v[12]


async def _cycle(server: Lwm2mServer, board, off: float = 0.2) -> None:
    mark = len(server.timeline)
    with board.client as c:
        c.power_off()
        await asyncio.sleep(off)  # how long the power stays off is this test's input
        c.power_on()
    await server.wait_registration(EP, 15, after=mark)


async def _defer(server: Lwm2mServer, image, period: int) -> float:
    """Severity 2 (the board's user defers optional updates), the period, the package pushed, Execute: its time."""
    assert (await server.write(EP, "/5/0/11", 2)).code_text == "2.04"
    assert (await server.write(EP, "/5/0/13", period)).code_text == "2.04"
    assert (await server.push_firmware(EP, image, block_size=1024)).completed
    assert (await server.execute(EP, "/5/0/2")).code_text == "2.04"
    return time.monotonic()


def _run(tmp_path, scenario, *board_args: str):
    async def main():
        server = Lwm2mServer(Timeline(), tmp_path, port=free_port(socket.SOCK_DGRAM))
        await server.start()
        board = start_board(tmp_path / "board", "--server", f"coap://127.0.0.1:{server.port}", "--endpoint", EP,
                            *board_args, image=make_image(tmp_path, "1.0.0", seed=1))
        try:
            await server.wait_registration(EP, 15, after=0)
            return await scenario(server, board)
        finally:
            board.stop()
            await server.stop()

    return asyncio.run(main())


def test_settings_persist_deferral_ends_with_the_period_or_a_critical_severity(tmp_path):
    async def scenario(server, board):
        assert (await _value(server, "/5/0/11"), await _value(server, "/5/0/13")) == (1, 0)
        assert (await server.write(EP, "/5/0/11", 2)).code_text == "2.04"
        assert (await server.write(EP, "/5/0/13", 30)).code_text == "2.04"
        assert (await server.write(EP, "/5/0/11", 3)).code_text == "4.00"
        await _cycle(server, board)
        assert (await _value(server, "/5/0/11"), await _value(server, "/5/0/13")) == (2, 30)

        pushed = int(time.time())
        executed = await _defer(server, make_image(tmp_path, "2.0.0", seed=2), PERIOD)
        mark = len(server.timeline)
        state, result, lsct = await _pair(server)
        assert (state, result) == (2, 11)
        assert pushed <= lsct <= int(time.time())  # written when State changed during the push
        await asyncio.sleep(0.5)
        assert await _pair(server) == (2, 11, lsct)
        await server.wait_registration(EP, PERIOD + 5, after=mark)
        took = time.monotonic() - executed
        assert PERIOD - 0.5 <= took <= PERIOD + 3, took
        assert (await _value(server, "/3/0/3"), await _value(server, "/5/0/5")) == ("2.0.0+0", 1)

        await _defer(server, make_image(tmp_path, "3.0.0", seed=3), 60)
        assert (await _pair(server))[:2] == (2, 11)
        mark = len(server.timeline)
        assert (await server.write(EP, "/5/0/11", 0)).code_text == "2.04"  # raised to critical: installs now
        await server.wait_registration(EP, 10, after=mark)
        assert (await _value(server, "/3/0/3"), await _value(server, "/5/0/5")) == ("3.0.0+0", 1)

    _run(tmp_path, scenario)


def test_a_cut_keeps_the_deferral_and_its_deadline(tmp_path):
    async def scenario(server, board):
        period, off = 5, 2.0  # the deadline falls well after the boot; a restarted period ends after period + off
        executed = await _defer(server, make_image(tmp_path, "2.0.0", seed=2), period)
        before = await _pair(server)
        await _cycle(server, board, off)
        assert await _pair(server) == before  # Downloaded / 11, same Last State Change Time
        mark = len(server.timeline)
        await server.wait_registration(EP, period + 5, after=mark)
        took = time.monotonic() - executed
        assert took < period + off, f"installed {took:.1f} s after Execute: the period restarted at boot"
        assert (await _value(server, "/3/0/3"), await _value(server, "/5/0/5")) == ("2.0.0+0", 1)

    _run(tmp_path, scenario)


@pytest.mark.parametrize("args, symptom", [
    (("--deferral", "never"), "not-deferred"),
    (("--defect", "defer-forgotten-after-cut"), "idle-after-cut"),
    (("--defect", "lsct-not-updated"), "lsct-stays"),
])
def test_the_policy_switch_and_the_defects_show_their_symptom(tmp_path, args, symptom):
    async def scenario(server, board):
        idle = await _pair(server)
        mark = len(server.timeline)
        await _defer(server, make_image(tmp_path, "2.0.0", seed=2), 30)
        if symptom == "not-deferred":
            await server.wait_registration(EP, 10, after=mark)
            return
        deferred = await _pair(server)
        assert deferred[:2] == (2, 11)
        if symptom == "lsct-stays":
            assert deferred[2] == idle[2]  # stamped at boot, not when State changed
            return
        await _cycle(server, board)
        assert (await _pair(server))[:2] == (0, 0)

    _run(tmp_path, scenario, *args)

