"""The device-side coaps transport on one socket against the rig's own server: register, be read over the same
session, fetch firmware by Block2, fail with the handshake's reason on a wrong key, and handshake again after the
server restarted and forgot the session."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys

import pytest

import aiocoap
from aiocoap import Code, Message
from aiocoap.resource import Resource, Site

from rig.lwm2m.dtls.client_transport import create_coaps_client_context
from rig.lwm2m.dtls.psk import PskStore
from rig.lwm2m.server import Lwm2mServer
from rig.netutil import default_sigint, free_udp_pair
from server_harness import run, running_server

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

KEY = bytes.fromhex("00112233445566778899aabbccddeeff")
KEYS = PskStore.parse(["dev-a:id-a:" + KEY.hex()])


class Manufacturer(Resource):
    async def render_get(self, request: Message) -> Message:
        return Message(code=Code.CONTENT, payload=b"rig", content_format=0)


def device_site() -> Site:
    site = Site()
    site.add_resource(["3", "0", "0"], Manufacturer())
    return site


async def register(ctx: aiocoap.Context, port: int) -> Message:
    request = Message(code=Code.POST, uri=f"coaps://127.0.0.1:{port}/rd?ep=dev-a&lt=60&lwm2m=1.1",
                      payload=b"</3/0>", content_format=40)
    return await asyncio.wait_for(ctx.request(request).response, 15)


def test_dtls_client_transport_registers_is_read_and_fetches_over_one_session(tmp_path):
    package = os.urandom(40_000)
    (tmp_path / "fw.bin").write_bytes(package)

    async def body() -> None:
        async with running_server(tmp_path, psk_store=KEYS) as server:
            events = []
            ctx, iface = await create_coaps_client_context(device_site(), b"id-a", KEY, on_event=events.append)
            try:
                created = await register(ctx, server.port + 1)
                assert created.code == Code.CREATED
                read = await server.read("dev-a", "/3/0/0")
                assert read.ok and read.value == "rig", read
                request = Message(code=Code.GET, uri=server.firmware_uri("fw.bin", scheme="coaps"))
                response = await asyncio.wait_for(ctx.request(request).response, 30)
                assert response.code == Code.CONTENT
                assert hashlib.sha256(response.payload).digest() == hashlib.sha256(package).digest()
                assert [e.kind for e in events] == ["handshake-ok"], "one session for all of it"
                assert len(iface.engines) == 1
            finally:
                await ctx.shutdown()

    run(body)


def test_dtls_client_transport_wrong_key_fails_the_request_with_the_reason(tmp_path):
    async def body() -> None:
        async with running_server(tmp_path, psk_store=KEYS) as server:
            timeline = server.timeline
            ctx, _iface = await create_coaps_client_context(device_site(), b"id-a", bytes(16))
            try:
                try:
                    await register(ctx, server.port + 1)
                except aiocoap.error.NetworkError as exc:
                    reason = exc.args[0]
                    assert "DTLS handshake" in reason and "wrong PSK" in reason, reason
                else:
                    raise AssertionError("registration with a wrong key must fail")
                failed = [e for e in timeline.events("dtls") if e.data["event"] == "handshake-failed"]
                assert failed and "wrong key" in failed[0].data["reason"]
            finally:
                await ctx.shutdown()

    run(body)


def test_dtls_client_transport_handshakes_again_after_the_server_closed_the_session(tmp_path):
    async def body() -> None:
        async with running_server(tmp_path, psk_store=KEYS) as server:
            timeline, port = server.timeline, server.port
            events = []
            ctx, _iface = await create_coaps_client_context(device_site(), b"id-a", KEY, on_event=events.append)
            try:
                assert (await register(ctx, port + 1)).code == Code.CREATED
                await server.stop()
                again = Lwm2mServer(timeline, tmp_path, host="127.0.0.1", port=port, psk_store=KEYS)
                await again.start()
                try:
                    mark = len(timeline)
                    assert (await register(ctx, port + 1)).code == Code.CREATED
                    await again.wait_registration("dev-a", 10, after=mark)
                    assert [e.kind for e in events] == ["handshake-ok", "closed", "handshake-ok"], events
                    assert "close_notify" in events[1].reason
                    assert (await again.read("dev-a", "/3/0/0")).value == "rig"
                finally:
                    await again.stop()
            finally:
                await ctx.shutdown()

    run(body)


def _serve(tmp_path, port: int) -> subprocess.Popen:
    """`rig serve` with coaps, as a subprocess that can be killed without a close_notify."""
    proc = subprocess.Popen([sys.executable, "-m", "rig.cli", "serve", "--firmware", str(tmp_path), "--port", str(port),
                             "--psk", "dev-a:id-a:" + KEY.hex()], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, preexec_fn=default_sigint)
    _line(proc, "serving LwM2M")
    return proc


def _line(proc: subprocess.Popen, needle: str) -> str:
    for line in proc.stdout:
        if needle in line:
            return line
    raise AssertionError(f"`rig serve` ended without printing {needle!r}")


def test_dtls_client_transport_handshakes_again_after_the_server_was_killed(tmp_path):
    """A killed server says nothing and its successor ignores the old session's records: the retransmission re-handshakes."""
    port = free_udp_pair()
    first = _serve(tmp_path, port)
    second = None

    async def body() -> None:
        nonlocal second
        events = []
        ctx, _iface = await create_coaps_client_context(device_site(), b"id-a", KEY, on_event=events.append)
        try:
            assert (await register(ctx, port + 1)).code == Code.CREATED
            first.kill()
            first.wait(10)
            second = await asyncio.to_thread(_serve, tmp_path, port)
            assert (await register(ctx, port + 1)).code == Code.CREATED
            assert [e.kind for e in events] == ["handshake-ok", "closed", "handshake-ok"], events
            assert "the server lost it" in events[1].reason
            assert "dev-a" in await asyncio.to_thread(_line, second, "register")
        finally:
            await ctx.shutdown()

    try:
        run(body)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(10)
