"""Registration interface against the running server: real UDP on loopback."""

from __future__ import annotations

import asyncio
import subprocess

import aiocoap
import pytest

from peers import need
from aiocoap import Code

from lwm2m_test_client import Lwm2mTestClient
from server_harness import run, running_server

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset


def test_register_update_deregister_records_versions(tmp_path):
    async def body():
        async with running_server(tmp_path) as server:
            client = Lwm2mTestClient("dev-1", server.port)
            await client.start()
            try:
                reg = await server.wait_registration("dev-1", 5, after=0)
                assert reg.objects[5] == "1.1"
                assert reg.object_version(3) == "1.0"
                assert reg.lwm2m_version == "1.1"
                assert reg.lifetime == 60
                assert client.location == f"rd/{reg.location}"
                assert (await client.update()).code == Code.CHANGED
                assert (await client.deregister()).code == Code.DELETED
                assert server.registry.table.by_name("dev-1") is None
                kinds = [e.kind for e in server.timeline.events()]
                assert kinds.index("register") < kinds.index("update") < kinds.index("deregister")
            finally:
                await client.stop()

    run(body)


def test_reregister_after_reboot_replaces_entry_and_moves_address(tmp_path):
    async def body():
        async with running_server(tmp_path) as server:
            first = Lwm2mTestClient("dev-2", server.port)
            await first.start()
            old = await server.wait_registration("dev-2", 5, after=0)
            await first.stop()
            second = Lwm2mTestClient("dev-2", server.port)
            await second.start()
            try:
                new = server.registration("dev-2")
                assert new.location != old.location
                assert new.remote != old.remote
                assert server.registry.table.by_location(old.location) is None
                assert len(server.registry.table) == 1
            finally:
                await second.stop()

    run(body)


def test_lifetime_expiry_removes_endpoint(tmp_path):
    async def body():
        async with running_server(tmp_path) as server:
            client = Lwm2mTestClient("short", server.port)
            await client.start(lifetime=1)
            try:
                event = await server.timeline.wait_for_async(lambda e: e.kind == "expire", timeout=5)
                assert event is not None and event.data["endpoint"] == "short"
                assert server.registry.table.by_name("short") is None
            finally:
                await client.stop()

    run(body)


@pytest.mark.parametrize(
    "query, reason",
    [
        ("lt=60", "without 'ep'"),
        ("ep=a&ep=b", "given twice"),
        ("ep=x&lt=abc", "lifetime"),
        ("ep=x&lt=0", "out of range"),
        ("ep=x&lwm2m=one", "MAJOR.MINOR"),
        ("ep=x&b=XYZ!", "binding"),
        ("ep=", "no value"),
    ],
)
def test_malformed_registration_query_gets_400_and_server_keeps_serving(tmp_path, query, reason):
    async def body():
        async with running_server(tmp_path) as server:
            ctx = await aiocoap.Context.create_client_context()
            try:
                bad = aiocoap.Message(code=Code.POST, uri=f"coap://127.0.0.1:{server.port}/rd?{query}", payload=b"</3/0>")
                response = await ctx.request(bad).response
                assert response.code == Code.BAD_REQUEST
                refused = server.timeline.events("register-refused")
                assert refused and reason in refused[-1].data["reason"]
                good = aiocoap.Message(code=Code.POST, uri=f"coap://127.0.0.1:{server.port}/rd?ep=ok", payload=b"</3/0>")
                assert (await ctx.request(good).response).code == Code.CREATED
            finally:
                await ctx.shutdown()

    run(body)


@pytest.mark.parametrize("links", [b"</3/0", b"</3/0>;ver=\"1.1", b"</3/0>;ver=", b"\xff\xfe", b"</a/b>,</5>;ver=x.y.z"])
def test_malformed_link_format_gets_400(tmp_path, links):
    async def body():
        async with running_server(tmp_path) as server:
            ctx = await aiocoap.Context.create_client_context()
            try:
                bad = aiocoap.Message(code=Code.POST, uri=f"coap://127.0.0.1:{server.port}/rd?ep=x", payload=links, content_format=40)
                response = await ctx.request(bad).response
                assert response.code == Code.BAD_REQUEST, response.payload
                assert "link-format" in server.timeline.events("register-refused")[-1].data["reason"]
            finally:
                await ctx.shutdown()

    run(body)


def test_libcoap_client_registers(tmp_path):
    client = need("coap-client-openssl")

    async def body():
        async with running_server(tmp_path) as server:
            proc = await asyncio.create_subprocess_exec(
                client, "-m", "post", "-t", "40", "-e", "</1/0>,</3/0>,</5>;ver=1.1",
                f"coap://127.0.0.1:{server.port}/rd?ep=libcoap&lt=300&lwm2m=1.1&b=U",
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )
            await asyncio.wait_for(proc.communicate(), 20)
            reg = server.registration("libcoap")
            assert reg.objects == {1: None, 3: None, 5: "1.1"}
            assert reg.lifetime == 300

    run(body)
