"""The rig's bootstrap server: what it writes (read back by the virtual board's own decoders), a real board
bootstrapping over coaps with its PSK, refusals, `rig serve --bootstrap` + `rig sim --bootstrap-server` + `rig
update`, and a campaign with cuts during bootstrap."""

from __future__ import annotations

import asyncio
import os

import aiocoap
import pytest
from aiocoap import Code

from cmd_helpers import make_image, rig, rig_background, sim_board
from rig.campaign.spec import CampaignSpec
from rig.run.campaign import run_campaign
from rig.lwm2m.bootstrap_account import ServerAccount
from rig.lwm2m.bootstrap_server import BootstrapServer, rig_account
from rig.lwm2m.dtls.psk import PskStore
from rig.lwm2m.server import Lwm2mServer
from rig.netutil import free_udp_pair
from rig.sim.app.bootstrap import _instances
from rig.sim.app.wire import SENML_CBOR, TLV
from rig.timeline import Timeline
from sim_board import TARGET, start_board

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

EP = "bs-board"


@pytest.mark.parametrize("content_format", [TLV, SENML_CBOR], ids=["tlv", "senml-cbor"])
def test_the_account_reads_back_with_the_boards_own_decoders(content_format):
    account = ServerAccount("coaps://192.0.2.7:5684", b"board-7", bytes(range(16)), lifetime=120)
    (sec_path, sec), (srv_path, srv) = account.writes(content_format)
    assert (sec_path, srv_path) == ("/0/1", "/1/0")
    assert _instances((0, 1), content_format, sec) == {1: {0: "coaps://192.0.2.7:5684", 1: False, 2: 0,
                                                           3: b"board-7", 4: b"", 5: bytes(range(16)), 10: 1}}
    assert _instances((1, 0), content_format, srv) == {0: {0: 1, 1: 120, 6: True, 7: "U"}}


def test_a_keyed_endpoint_bootstraps_only_over_coaps_and_bad_requests_are_refused(tmp_path):
    async def scenario() -> None:
        timeline = Timeline()
        store = PskStore.parse([f"{EP}:{EP}:{os.urandom(16).hex()}"])
        bs = BootstrapServer(timeline, rig_account("127.0.0.1", 5683, store), port=free_udp_pair(), psk_store=store)
        await bs.start()
        client = await aiocoap.Context.create_client_context()
        try:
            answers = []
            for query in (f"ep={EP}", "ep=open-one&pct=60", ""):
                request = aiocoap.Message(code=Code.POST, uri=f"{bs.uri}/bs" + (f"?{query}" if query else ""))
                answers.append((await asyncio.wait_for(client.request(request).response, 5)).code.dotted)
            assert answers == ["4.03", "4.00", "4.00"]
            refused = [e.data["reason"] for e in timeline.events("bootstrap-refused")]
            assert "must use coaps" in refused[0] and "pct=60" in refused[1] and "'ep'" in refused[2]
            assert not timeline.events("bootstrap-request")
        finally:
            await client.shutdown()
            await bs.stop()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_a_board_bootstraps_over_coaps_with_its_psk_then_registers_over_coaps(tmp_path):
    async def scenario() -> None:
        timeline = Timeline()
        key = os.urandom(16).hex()
        store = PskStore.parse([f"{EP}:{EP}:{key}"])
        server = Lwm2mServer(timeline, tmp_path, port=free_udp_pair(), psk_store=store)
        await server.start()
        bs = BootstrapServer(timeline, rig_account("127.0.0.1", server.port, store, lifetime=30), port=free_udp_pair(),
                             psk_store=store)
        await bs.start()
        board = start_board(tmp_path / "board", "--bootstrap-server", f"coaps://127.0.0.1:{bs.port + 1}", "--psk",
                            f"{EP}:{key}", "--endpoint", EP, "--bootstrap-format", "senml-cbor",
                            image=make_image(tmp_path, "1.0.0"))
        try:
            reg = await server.wait_registration(EP, 15, after=0)
            assert reg.psk_identity == EP.encode() and reg.lifetime == 30
            request = timeline.events("bootstrap-request")[0].data
            assert (request["security"], request["format"], request["server"]) == \
                ("psk", 112, f"coaps://127.0.0.1:{server.port + 1}")
            steps = [(e.data["step"], e.data["path"], e.data["code"]) for e in timeline.events()
                     if e.kind in ("bootstrap-step", "bootstrap-finish")]
            assert steps == [("delete", "/0", "2.02"), ("delete", "/1", "2.02"), ("write", "/0/1", "2.04"),
                             ("write", "/1/0", "2.04"), ("finish", "/bs", "2.04")]
            assert (await server.read(EP, "/3/0/3")).value == "1.0.0+0"
        finally:
            board.stop()
            await bs.stop()
            await server.stop()

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_rig_sim_bootstraps_through_rig_serve_and_rig_update_succeeds_on_it(tmp_path):
    """The bench flow: `rig serve --bootstrap`, a `rig sim --bootstrap-server` board, then `rig update --sim-dir`."""
    port = free_udp_pair()
    bs_port = free_udp_pair()
    serve = rig_background("serve", "--firmware", str(tmp_path), "--port", str(port), "--bootstrap",
                           "--bootstrap-port", str(bs_port), cwd=tmp_path)
    board = None
    try:
        serve.wait_line(f"bootstrap server on coap://127.0.0.1:{bs_port}")
        board = sim_board(tmp_path / "board", make_image(tmp_path, "1.0.0"), None,
                          "--bootstrap-server", f"coap://127.0.0.1:{bs_port}")
        serve.wait_line("bootstrap rig-virtual from")
        serve.wait_line("register rig-virtual from")
        serve.stop()
        done = rig("update", str(make_image(tmp_path, "2.0.0", seed=2)), "--sim-dir", str(board.directory),
                   "--port", str(port), "--cycle", "--wait", "30", cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"through the bootstrap server coap://127.0.0.1:{bs_port}" in done.stdout
        assert "updated: running '2.0.0+0'" in done.stdout
    finally:
        serve.stop()
        if board is not None:
            board.stop()


def test_a_campaign_cuts_during_the_bootstrap_after_execute(tmp_path):
    spec = CampaignSpec(suite="standard", target_file=str(TARGET), points=0, keyword="bootstrap", sim_bootstrap=True,
                        image_size=16 * 1024)
    record = asyncio.run(asyncio.wait_for(run_campaign(spec, tmp_path / "run"), 120))
    by_name = {r.name: r for r in record.results}
    assert set(by_name) == {"baseline-no-cut", "bootstrap-before-write", "bootstrap-before-finish",
                            "conf-bootstrap-then-update"}
    assert all(r.outcome == "pass" for r in record.results), [(r.name, r.message) for r in record.results]
    for name in ("bootstrap-before-write", "bootstrap-before-finish"):
        assert by_name[name].phase == "bootstrapping" and "(Bootstrapping)" in by_name[name].message
    assert record.complete and record.expected == 4
