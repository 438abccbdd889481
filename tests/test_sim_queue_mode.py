"""The virtual board in queue mode (a real supervisor and MCU process) against the rig's real server and campaign.

Between wake-ups its socket stays open but it answers nothing (datagrams are dropped
as by a sleeping modem); it wakes at its Update timer; notifications it owes while
asleep go out when it wakes; and an update started while it sleeps completes
(conformance 771 in queue mode), with the held request in the timeline and the report.
"""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import pytest

import aiocoap
from aiocoap import Code

from rig.campaign.spec import CampaignSpec
from rig.run.campaign import run_campaign
from rig.lwm2m.server import Lwm2mServer
from rig.netutil import free_port
from rig.timeline import Timeline
from sim_board import TARGET, make_image, start_board

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

EP = "sleeper"
AWAKE, LIFETIME = 0.6, 3  # the board wakes every 2.25 s and listens 0.6 s


def test_the_board_sleeps_between_updates_and_notifies_when_it_wakes(tmp_path):
    async def scenario() -> None:
        timeline = Timeline()
        server = Lwm2mServer(timeline, tmp_path, port=free_port(socket.SOCK_DGRAM), awake_time=AWAKE)
        await server.start()
        board = start_board(tmp_path / "board", "--server", f"coap://127.0.0.1:{server.port}", "--endpoint", EP,
                            "--queue-mode", "--awake", str(AWAKE), "--lifetime", str(LIFETIME),
                            image=make_image(tmp_path, "1.0.0"))
        client = await aiocoap.Context.create_client_context()
        try:
            reg = await server.wait_registration(EP, 15, after=0)
            assert reg.queue_mode
            await server.write_attributes(EP, "/5/0/3", pmin=0, pmax=1)
            await server.observe(EP, "/5/0/3")
            slept = await timeline.wait_for_async(lambda e: e.kind == "asleep", 5, 0)
            assert slept is not None
            await _console_says(tmp_path / "board" / "console.log", "[radio] asleep until", 2.0)
            # Straight to its socket, past the server's hold: a sleeping board does not answer.
            direct = aiocoap.Message(code=Code.GET, uri=f"coap://{reg.peer}/5/0/3")
            try:
                answer = await asyncio.wait_for(client.request(direct).response, 1.0)
            except asyncio.TimeoutError:
                answer = None
            assert answer is None, "the board answered while asleep"
            woke = await timeline.wait_for_async(lambda e: e.kind == "update", 2 * LIFETIME, len(timeline))
            assert woke is not None
            note = await timeline.wait_for_async(lambda e: e.kind == "notify" and not e.data["first"], 2, len(timeline) - 3)
            assert note is not None and note.t - woke.t < AWAKE, "the pmax notification owed while asleep comes at the wake-up"
            sleeps = [e.t for e in timeline.events() if e.kind == "asleep"]
            late = [e for e in timeline.events() if e.kind == "notify" and not e.data["first"]
                    and any(s < e.t < s + 1.0 for s in sleeps) and not _awake_at(timeline, e.t)]
            assert not late, f"notifications while asleep: {late}"
        finally:
            await client.shutdown()
            board.stop()
            await server.stop()
        console = (tmp_path / "board" / "console.log").read_text()
        assert "dropped GET /5/0/3" in console and "[radio] asleep until the next registration update" in console

    asyncio.run(asyncio.wait_for(scenario(), 60))


async def _console_says(log: Path, text: str, timeout: float) -> None:
    """Wait (bounded) until the board's console log holds `text`: the board's own word that its radio is off."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while text not in log.read_text(errors="replace"):
        assert loop.time() < deadline, f"{text!r} not in {log} within {timeout} s"
        await asyncio.sleep(0.02)  # polling a file another process writes; the deadline bounds it


def _awake_at(timeline: Timeline, t: float) -> bool:
    """The server's view: was the board awake at `t` (the last awake/asleep before it says)?"""
    state = False
    for e in timeline.events():
        if e.t > t:
            break
        if e.kind in ("awake", "asleep"):
            state = e.kind == "awake"
    return state


def test_771_in_queue_mode_on_the_virtual_board(tmp_path):
    spec = CampaignSpec(suite="conformance", target_file=str(TARGET), keyword="771-pull-update-queue-mode",
                        sim_queue_mode=True, image_size=16 * 1024)
    record = asyncio.run(asyncio.wait_for(run_campaign(spec, tmp_path / "run"), 120))
    [result] = record.results
    assert result.outcome == "pass", result.message
    assert "sent after the device's wake-up" in result.message
    events = [json.loads(line) for line in (tmp_path / "run" / result.timeline_file).read_text().splitlines()]
    kinds = [e["kind"] for e in events]
    held = next(i for i, e in enumerate(events) if e["kind"] == "request-held" and e["data"]["path"] == "/5/0/1")
    assert events[held]["data"]["asleep"] and "asleep" in kinds[:held], "the Package URI waited: the board slept"
    assert held < kinds.index("update", held) < kinds.index("request-sent", held), "and went out after it woke"
    html = (tmp_path / "run" / "report.html").read_text()
    assert "held" in html and "sent" in html and "queue mode: device awake" in html
