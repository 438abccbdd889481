"""The virtual board over coaps to the rig's own server: register with its PSK, be read over the session, pull an
update from a coaps:// Package URI, come back with the new version; a board with the wrong key never registers."""

from __future__ import annotations

import asyncio

import pytest

from rig.lwm2m.dtls.psk import PskStore
from rig.lwm2m.server import Lwm2mServer
from rig.netutil import free_udp_pair
from rig.sim.launcher import start_virtual_board
from rig.timeline import Timeline
from server_harness import run
from sim_board import TARGET, make_image

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

EP = "vboard"
IDENTITY = "vboard-psk"
KEY = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
KEYS = PskStore.parse([f"{EP}:{IDENTITY}:{KEY}"])


async def value(server: Lwm2mServer, path: str):
    response = await server.read(EP, path)
    assert response.ok, f"read {path}: {response.code_text} {response.error}"
    return response.value


def dtls_events(timeline: Timeline, kind: str) -> list:
    return [e for e in timeline.events("dtls") if e.data["event"] == kind]


def test_sim_coaps_registers_and_pulls_an_update_over_dtls(tmp_path):
    fw_dir = tmp_path / "fw"
    fw_dir.mkdir()
    v1 = make_image(tmp_path, "1.0.0", seed=1)
    v2 = make_image(fw_dir, "2.0.0", seed=2)

    async def scenario() -> None:
        timeline = Timeline()
        server = Lwm2mServer(timeline, fw_dir, host="127.0.0.1", port=free_udp_pair(), psk_store=KEYS)
        await server.start()
        board = await asyncio.to_thread(
            start_virtual_board, tmp_path / "board", TARGET, server=f"coaps://127.0.0.1:{server.port + 1}",
            endpoint=EP, image=v1, extra=("--psk", f"{IDENTITY}:{KEY}", "--block-size", "512"))
        try:
            reg = await server.wait_registration(EP, 20, after=0)
            assert reg.psk_identity == IDENTITY.encode(), "registered over coaps with the board's identity"
            assert await value(server, "/3/0/3") == "1.0.0+0"

            assert (await server.write_attributes(EP, "/5/0/3", pmin=0, pmax=30)).ok
            response, _obs = await server.observe(EP, "/5/0/3")
            assert response.ok
            mark = len(timeline)
            uri = server.firmware_uri(v2.name, scheme="coaps")
            assert uri.startswith("coaps://")
            assert (await server.write(EP, "/5/0/1", uri)).ok
            downloaded = await timeline.wait_for_async(
                lambda e: e.kind == "notify" and 2 in e.data.get("values", {}).values(), 30, mark)
            assert downloaded is not None, f"no Downloaded; board console: {(tmp_path / 'board' / 'console.log').read_text()[-800:]}"
            assert await value(server, "/5/0/3") == 2 and await value(server, "/5/0/7") == "2.0.0+0"
            peer = timeline.events("register")[-1].data["peer"]
            blocks = timeline.events("block2")
            assert blocks and {e.data["peer"] for e in blocks} == {peer}, "the pull goes out of the registered socket"
            assert {e.data["peer"] for e in dtls_events(timeline, "handshake-ok")} == {peer}, "over its DTLS session"

            mark = len(timeline)
            assert (await server.execute(EP, "/5/0/2")).ok
            again = await server.wait_registration(EP, 20, after=mark)
            assert again.psk_identity == IDENTITY.encode()
            assert await value(server, "/3/0/3") == "2.0.0+0"
            assert await value(server, "/5/0/5") == 1
            assert any(e.kind == "dtls" and e.data["event"] == "handshake-ok" for e in timeline.events(since=mark)), \
                "the rebooted board handshakes again"
            console = (tmp_path / "board" / "console.log").read_text()
            assert "[dtls] session with" in console and "TLS_PSK_WITH_AES_128_CCM_8" in console
        finally:
            await asyncio.to_thread(board.stop)
            await server.stop()

    run(scenario, timeout=120)


def test_sim_coaps_board_with_the_wrong_key_never_registers(tmp_path):
    v1 = make_image(tmp_path, "1.0.0", seed=1)

    async def scenario() -> None:
        timeline = Timeline()
        server = Lwm2mServer(timeline, tmp_path, host="127.0.0.1", port=free_udp_pair(), psk_store=KEYS)
        await server.start()
        board = await asyncio.to_thread(
            start_virtual_board, tmp_path / "board", TARGET, server=f"coaps://127.0.0.1:{server.port + 1}",
            endpoint=EP, image=v1, extra=("--psk", f"{IDENTITY}:{'00' * 16}"))
        try:
            def refused(e) -> bool:
                return e.kind == "dtls" and e.data["event"] == "handshake-failed"

            mark = 0
            for attempt in (1, 2):  # the board retries; each attempt is refused for the same reason
                failed = await timeline.wait_for_async(refused, 30, mark)
                assert failed is not None, f"attempt {attempt}: no failed handshake logged"
                assert "wrong key" in failed.data["reason"] and failed.data["identity"] == IDENTITY
                mark = len(timeline)
            assert server.registry.table.by_name(EP) is None
            assert not timeline.events("register")
            console = (tmp_path / "board" / "console.log").read_text()
            assert "[dtls] handshake with" in console and "wrong PSK" in console
        finally:
            await asyncio.to_thread(board.stop)
            await server.stop()

    run(scenario, timeout=120)


def test_sim_coap_board_with_a_psk_pulls_a_coaps_package_on_its_own_socket(tmp_path):
    """Registered over plain coap, the board opens a DTLS download connection for a coaps:// Package URI.
    A keyed endpoint registers over plain coap only where the bench allows it (allow_nosec)."""
    fw_dir = tmp_path / "fw"
    fw_dir.mkdir()
    v1 = make_image(tmp_path, "1.0.0", seed=1)
    v2 = make_image(fw_dir, "2.0.0", seed=2)

    async def scenario() -> None:
        timeline = Timeline()
        server = Lwm2mServer(timeline, fw_dir, host="127.0.0.1", port=free_udp_pair(), psk_store=KEYS, allow_nosec=[EP])
        await server.start()
        board = await asyncio.to_thread(
            start_virtual_board, tmp_path / "board", TARGET, server=f"coap://127.0.0.1:{server.port}",
            endpoint=EP, image=v1, extra=("--psk", f"{IDENTITY}:{KEY}"))
        try:
            reg = await server.wait_registration(EP, 20, after=0)
            assert reg.psk_identity is None, "registered over plain coap"
            assert (await server.write(EP, "/5/0/1", "https://example.invalid/fw.bin")).ok
            assert await value(server, "/5/0/5") == 9, "https is not a protocol this board speaks"
            assert (await server.write(EP, "/5/0/1", "")).ok
            assert (await server.write_attributes(EP, "/5/0/3", pmin=0, pmax=30)).ok
            assert (await server.observe(EP, "/5/0/3"))[0].ok
            mark = len(timeline)
            assert (await server.write(EP, "/5/0/1", server.firmware_uri(v2.name, scheme="coaps"))).ok
            ok = await timeline.wait_for_async(lambda e: e.kind == "dtls" and e.data["event"] == "handshake-ok", 20, mark)
            assert ok is not None and ok.data["identity"] == IDENTITY
            downloaded = await timeline.wait_for_async(
                lambda e: e.kind == "notify" and 2 in e.data.get("values", {}).values(), 30, mark)
            assert downloaded is not None
            assert await value(server, "/5/0/3") == 2 and await value(server, "/5/0/7") == "2.0.0+0"
        finally:
            await asyncio.to_thread(board.stop)
            await server.stop()

    run(scenario, timeout=120)
