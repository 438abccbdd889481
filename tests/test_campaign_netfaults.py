"""Network faults of a fault plan: restart the server mid-download, lose the device's DTLS session.

restart-server runs a whole case on the virtual board over coap: the server's sockets
close and reopen on the same ports while the device pulls, and the update still ends
with the new image. lose-dtls-session drops a real DTLS client's session at block N:
its old session gets no answer, a new handshake does.
"""

from __future__ import annotations

import asyncio

import pytest
from dataclasses import dataclass
from pathlib import Path

import aiocoap
from aiocoap import Code
from aiocoap.optiontypes import BlockOption

from dtls_test_client import ClientError, DtlsTestClient, UdpLink
from rig.campaign.case import CutPlanCase
from rig.campaign.cutter import Cutter
from rig.campaign.images import make_images
from rig.place.open import OwnBoard, open_place
from rig.place.resolve import self_started_board
from rig.config import load_target
from rig.faults import FaultPlan, NetworkFault
from rig.lwm2m.dtls.psk import PskStore
from rig.lwm2m.server import Lwm2mServer
from rig.run.case import run_case
from rig.timeline import Timeline
from server_harness import run, running_server

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

TARGET = Path(__file__).resolve().parents[1] / "targets" / "virtual.toml"
KEYS = PskStore.parse(["dev-a:id-a:00112233445566778899aabbccddeeff"])


@pytest.mark.parametrize("mode", ["pull", "push"])
def test_restart_server_mid_download_lets_the_case_finish(tmp_path, mode):
    async def body():
        target = load_target(TARGET)
        firmware = tmp_path / "firmware"
        images = await asyncio.to_thread(make_images, firmware, target.layout, 32 * 1024)
        timeline = Timeline()
        plan = FaultPlan("restart-server-block-10", None, network=(NetworkFault("restart-server", 10),))
        async with open_place(self_started_board(TARGET, tmp_path), timeline, tmp_path, firmware, base_image=images.base,
                              own_board=OwnBoard(board_args=())) as session:
            port = session.server.port
            result = await run_case(session, CutPlanCase(plan, images, mode, 512))
            assert session.server.port == port
        return result, timeline.events()

    result, events = run(body, timeout=120)
    assert result.outcome == "pass", (result.message, result.violations)
    assert result.booted_version.startswith("1.1.0") and result.update_result == 1
    kinds = [(e.kind, e.data.get("fault") or e.data.get("restart")) for e in events]
    fault = kinds.index(("net-fault", "restart-server"))
    assert kinds.index(("server-stop", True)) > fault and kinds.index(("server-start", True)) > fault
    done = kinds.index(("net-fault-done", "restart-server"))
    if mode == "pull":
        served_again = [e for e in events[done:] if e.kind == "block2" and e.data["num"] == 10]
        assert served_again, "block 10 was served by the restarted server"
    else:
        pushed_again = [e for e in events[done:] if e.kind == "block1" and e.data["num"] == 0]
        assert pushed_again, "the push started over on the restarted server"
    assert [e for e in events[done:] if e.kind == "transfer-done"]


def test_restart_keeps_coap_registrations_usable(tmp_path):
    """A registration made before the restart still reaches the device through the new socket."""

    async def body():
        async with running_server(tmp_path) as server:
            device_site = aiocoap.resource.Site()

            class Version(aiocoap.resource.Resource):
                async def render_get(self, request):
                    return aiocoap.Message(code=Code.CONTENT, payload=b"7", content_format=0)

            device_site.add_resource(["3", "0", "3"], Version())
            device = await aiocoap.Context.create_server_context(device_site, bind=("127.0.0.1", 0), transports=["udp6"])
            try:
                reg = aiocoap.Message(code=Code.POST, uri=f"coap://127.0.0.1:{server.port}/rd?ep=dev&lt=60",
                                      payload=b"</3/0>")
                assert (await device.request(reg).response).code == Code.CREATED
                await server.restart()
                answer = await server.read("dev", "/3/0/3")
                assert answer.ok and answer.value == "7", answer
                assert [e.kind for e in server.timeline.events()].count("register") == 1
            finally:
                await device.shutdown()

    run(body)


@dataclass
class _Session:
    """What the Cutter's block hook uses of a place session."""

    server: Lwm2mServer
    timeline: Timeline
    name: str = "dtls"
    endpoint: str = "dev-a"


def _block_get(name: str, num: int, mid: int) -> bytes:
    msg = aiocoap.Message(code=Code.GET, uri_path=["fw", name])
    msg.opt.block2 = BlockOption.BlockwiseTuple(num, False, 2)  # 64-byte blocks
    msg.mtype, msg.mid, msg.token = aiocoap.CON, mid, bytes([mid & 0xFF])
    return msg.encode()


def test_lose_dtls_session_forces_a_new_handshake(tmp_path):
    (tmp_path / "pkg.bin").write_bytes(bytes(range(256)) * 4)
    key = KEYS.key_for_identity(b"id-a")

    async def body():
        async with running_server(tmp_path, psk_store=KEYS) as server:
            coaps = ("127.0.0.1", server.port + 1)
            cutter = Cutter(_Session(server, server.timeline), FaultPlan("lose", None, network=(NetworkFault("lose-dtls-session", 2),)), 0)
            cutter.arm()
            old = DtlsTestClient(UdpLink(coaps, timeout=5.0), b"id-a", key)

            def first_blocks() -> list[bytes]:
                old.handshake()
                got = []
                for num in (0, 1):
                    old.send(_block_get("pkg.bin", num, 10 + num))
                    got.append(aiocoap.Message.decode(old.recv()).payload)
                old.send(_block_get("pkg.bin", 2, 12))  # the fault's block: never answered
                return got

            got = await asyncio.to_thread(first_blocks)
            assert got == [bytes(range(64)), bytes(range(64, 128))]
            done = await server.timeline.wait_for_async(lambda e: e.kind == "net-fault-done", 10)
            assert done is not None and done.data["sessions"] == 1
            assert server._coaps.engine.peers() == []

            def old_session_is_gone() -> bool:
                old.link.sock.settimeout(1.0)
                old.send(_block_get("pkg.bin", 2, 13))
                try:
                    old.recv()
                except ClientError:
                    return True
                return False

            assert await asyncio.to_thread(old_session_is_gone)

            def new_session() -> bytes:
                fresh = DtlsTestClient(UdpLink(coaps, timeout=5.0), b"id-a", key)
                fresh.handshake()
                fresh.send(_block_get("pkg.bin", 2, 14))
                return aiocoap.Message.decode(fresh.recv()).payload

            assert await asyncio.to_thread(new_session) == bytes(range(128, 192))
            cutter.disarm()

    run(body)
