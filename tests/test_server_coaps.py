"""The rig's own server over coaps: per-endpoint PSK, identity/endpoint check (4.03), DM over the session.

The client is the mbedtls-style raw DTLS test client (ClientHello record version 0xFE00),
driven from a thread because it is blocking.
"""

from __future__ import annotations

import asyncio

import aiocoap
from aiocoap import Code

from dtls_test_client import DtlsTestClient, UdpLink
from rig.lwm2m.dtls.psk import PskStore
from server_harness import run, running_server

KEYS = PskStore.parse(["dev-a:id-a:00112233445566778899aabbccddeeff", "dev-b:id-b:ffeeddccbbaa99887766554433221100"])


def _coap(code: Code, path: list[str], mid: int, query: list[str] = (), payload: bytes = b"") -> bytes:
    msg = aiocoap.Message(code=code, uri_path=path, uri_query=list(query), payload=payload)
    msg.mtype, msg.mid, msg.token = aiocoap.CON, mid, b"\x42"
    return msg.encode()


def test_coaps_registration_checks_identity_and_dm_uses_the_session(tmp_path):
    async def body():
        async with running_server(tmp_path, psk_store=KEYS) as server:
            coaps = ("127.0.0.1", server.port + 1)
            key_a = KEYS.key_for_identity(b"id-a")

            def as_wrong_endpoint() -> aiocoap.Message:
                client = DtlsTestClient(UdpLink(coaps), b"id-a", key_a)
                client.handshake()
                client.send(_coap(Code.POST, ["rd"], 1, ["ep=dev-b", "lt=60"], b"</5>;ver=1.1"))
                return aiocoap.Message.decode(client.recv())

            refused = await asyncio.to_thread(as_wrong_endpoint)
            assert refused.code == Code.FORBIDDEN
            assert server.registry.table.by_name("dev-b") is None

            client = DtlsTestClient(UdpLink(coaps), b"id-a", key_a)

            def board() -> aiocoap.Message:
                client.handshake()
                client.send(_coap(Code.POST, ["rd"], 2, ["ep=dev-a", "lt=60"], b"</3/0>,</5>;ver=1.1"))
                created = aiocoap.Message.decode(client.recv())
                read = aiocoap.Message.decode(client.recv())  # the server's Read over this session
                reply = aiocoap.Message(code=Code.CONTENT, payload=b"2", content_format=0)
                reply.mtype, reply.mid, reply.token = aiocoap.ACK, read.mid, read.token
                client.send(reply.encode())
                return created, read

            task = asyncio.ensure_future(asyncio.to_thread(board))
            reg = await server.wait_registration("dev-a", 10, after=0)
            assert reg.psk_identity == b"id-a" and reg.objects[5] == "1.1"
            response = await server.read("dev-a", "/5/0/3")
            created, read = await asyncio.wait_for(task, 10)
            assert created.code == Code.CREATED
            assert read.opt.uri_path == ("5", "0", "3")
            assert response.ok and response.value == 2

    run(body)
