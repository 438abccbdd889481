"""The rig's server against strangers on real sockets (issue 17): a flood of half-open handshakes leaves a
registered board's DTLS session answering device management; registrations hold their sessions; locations
are random; Send is bound like Update."""

from __future__ import annotations

import asyncio
import re

import aiocoap
from aiocoap import Code

from dtls_test_client import DtlsTestClient, UdpLink
from lwm2m_test_client import Lwm2mTestClient
from rig.lwm2m.dtls.psk import PskStore
from rig.lwm2m.limits import MAX_HALF_OPEN_HANDSHAKES
from server_harness import run, running_server

KEYS = PskStore.parse(["dev-a:id-a:00112233445566778899aabbccddeeff", "dev-b:id-b:ffeeddccbbaa99887766554433221100"])


def _coap(code: Code, path: list[str], mid: int, query: list[str] = (), payload: bytes = b"", fmt: int | None = None) -> bytes:
    msg = aiocoap.Message(code=code, uri_path=path, uri_query=list(query), payload=payload, content_format=fmt)
    msg.mtype, msg.mid, msg.token = aiocoap.CON, mid, bytes([mid & 0xFF])
    return msg.encode()


def _board(port: int, identity: bytes = b"id-a", endpoint: str = "dev-a") -> DtlsTestClient:
    client = DtlsTestClient(UdpLink(("127.0.0.1", port), timeout=30.0), identity, KEYS.key_for_identity(identity))
    client.handshake()
    client.send(_coap(Code.POST, ["rd"], 1, [f"ep={endpoint}", "lt=3600"], b"</3/0>,</5/0>"))
    assert aiocoap.Message.decode(client.recv()).code == Code.CREATED
    return client


def _answer_one_request(client: DtlsTestClient, payload: bytes) -> aiocoap.Message:
    request = aiocoap.Message.decode(client.recv())
    reply = aiocoap.Message(code=Code.CONTENT, payload=payload, content_format=0)
    reply.mtype, reply.mid, reply.token = aiocoap.ACK, request.mid, request.token
    client.send(reply.encode())
    return request


def _half_open(port: int, count: int) -> int:
    """`count` cookie-verified ClientHellos, each from its own socket (a distinct port), never finished."""
    links = [UdpLink(("127.0.0.1", port), timeout=10.0) for _ in range(count)]
    try:
        for link in links:
            DtlsTestClient(link, b"id-b", b"no key needed").start()
        return len({link.local_port for link in links})
    finally:
        for link in links:
            link.close()


def test_300_half_open_handshakes_leave_a_registered_board_answering_device_management(tmp_path):
    async def body():
        async with running_server(tmp_path, psk_store=KEYS) as server:
            coaps = server.port + 1
            board = await asyncio.to_thread(_board, coaps)
            reg = await server.wait_registration("dev-a", 10, after=0)
            answering = asyncio.ensure_future(asyncio.to_thread(_answer_one_request, board, b"still here"))
            ports = await asyncio.to_thread(_half_open, coaps, 300)
            assert ports == 300
            response = await server.read("dev-a", "/3/0/0")
            assert response.ok and response.value == "still here"
            request = await asyncio.wait_for(answering, 10)
            engine = server._coaps.engine
            assert len(engine.handshakes) <= MAX_HALF_OPEN_HANDSHAKES
            assert request.opt.uri_path == ("3", "0", "0")
            assert engine.identity(reg.remote.peer) == b"id-a"
            dtls = [e.data for e in server.timeline.events("dtls")]
            assert not [d for d in dtls if d["event"] == "closed"], "no session was pushed out"
            floods = [d for d in dtls if d["event"] == "handshake-flood"]
            assert floods and re.search(r"\d+ half-open handshakes pushed out", floods[0]["reason"])
            board.close()

    run(body, timeout=120)


def test_a_registration_holds_its_dtls_session_for_its_lifetime(tmp_path):
    async def body():
        async with running_server(tmp_path, psk_store=KEYS) as server:
            board = await asyncio.to_thread(_board, server.port + 1)
            reg = await server.wait_registration("dev-a", 10, after=0)
            session = server._coaps.engine.table.get(reg.remote.peer)
            now = asyncio.get_running_loop().time()
            assert now + 3590 < session.keep_until <= now + 3600, "held for the registration's lifetime (lt=3600)"
            await asyncio.to_thread(board.send, _coap(Code.DELETE, ["rd", reg.location], 2))
            assert aiocoap.Message.decode(await asyncio.to_thread(board.recv)).code == Code.DELETED
            assert session.keep_until == float("-inf"), "released when the registration ends"
            board.close()

    run(body)


def test_locations_are_random_and_send_is_bound_like_update(tmp_path):
    async def body():
        async with running_server(tmp_path, psk_store=KEYS) as server:
            plain = [Lwm2mTestClient(f"nosec-{i}", server.port) for i in range(2)]
            for client in plain:
                await client.start()
            locations = [server.registration(f"nosec-{i}").location for i in range(2)]
            assert all(re.fullmatch(r"[0-9a-f]{16}", loc) for loc in locations) and locations[0] != locations[1]
            board = await asyncio.to_thread(_board, server.port + 1)
            senml = b'[{"n":"/3/0/0","vs":"x"}]'

            def send(client: DtlsTestClient, mid: int) -> Code:
                client.send(_coap(Code.POST, ["dp"], mid, payload=senml, fmt=110))
                return aiocoap.Message.decode(client.recv()).code

            assert await asyncio.to_thread(send, board, 5) == Code.CHANGED
            stranger = await asyncio.to_thread(lambda: (c := DtlsTestClient(UdpLink(("127.0.0.1", server.port + 1)), b"id-b",
                                                                             KEYS.key_for_identity(b"id-b")), c.handshake(), c)[2])
            assert await asyncio.to_thread(send, stranger, 6) == Code.FORBIDDEN, "dev-b's session cannot Send as dev-a"
            refused = server.timeline.events("send-refused")
            assert refused and refused[-1].data["reason"] == "not registered"
            assert [e.data["endpoint"] for e in server.timeline.events("send")] == ["dev-a"]
            for client in plain:
                await client.stop()
            board.close()
            stranger.close()

    run(body)


def test_an_allowed_nosec_registration_can_move_to_coaps_and_back(tmp_path):
    """allow_nosec: the same endpoint registered over plain CoAP updates over coaps (aiocoap's UDP remote and a
    coaps remote are compared without error), and its coaps session is held from then on."""

    async def body():
        async with running_server(tmp_path, psk_store=KEYS, allow_nosec=["dev-a"]) as server:
            plain = Lwm2mTestClient("dev-a", server.port)
            await plain.start()
            reg = await server.wait_registration("dev-a", 10, after=0)

            def update_over_coaps() -> Code:
                client = DtlsTestClient(UdpLink(("127.0.0.1", server.port + 1)), b"id-a", KEYS.key_for_identity(b"id-a"))
                client.handshake()
                client.send(_coap(Code.POST, ["rd", reg.location], 9, ["lt=600"]))
                code = aiocoap.Message.decode(client.recv()).code
                client.close()
                return code

            assert await asyncio.to_thread(update_over_coaps) == Code.CHANGED
            assert server.registration("dev-a").psk_identity == b"id-a" and server.registration("dev-a").remote.scheme == "coaps"
            session = server._coaps.engine.table.get(server.registration("dev-a").remote.peer)
            assert session.keep_until > asyncio.get_running_loop().time() + 590
            await plain.stop()

    run(body)
