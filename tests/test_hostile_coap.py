"""Hostile CoAP against the running server: hand-made datagrams on a raw UDP socket.

Each bad datagram must be answered (an error, a reset) or dropped, the server's
state must stay bounded, and a well-behaved client must still register and be
read afterwards. "Dropped" is proved without sleeping: every bad datagram is
followed by a CoAP ping from the same socket, and the server answers in order,
so once the ping's reset is in, everything the bad datagram caused is in too.
"""

from __future__ import annotations

import asyncio
import random
import socket
import string
import struct

import aiocoap
from aiocoap import Code
from aiocoap.optiontypes import BlockOption

from dtls_test_client import DtlsTestClient, UdpLink
from lwm2m_test_client import Lwm2mTestClient
from rig.lwm2m.dtls.psk import PskStore
from rig.lwm2m.bounded_body import MAX_ASSEMBLIES, MAX_BODY, Block1Bodies
from rig.lwm2m.limits import EVENTS_PER_SECOND
from server_harness import run, running_server

CON, ACK, RST = 0, 2, 3
FILE = bytes(range(256)) * 20  # 5120 bytes: 5 blocks of 1024, 20 of 256


def header(mid: int, code: int = 1, token: bytes = b"\x5a", mtype: int = CON) -> bytes:
    return bytes([0x40 | mtype << 4 | len(token), code]) + struct.pack(">H", mid) + token


def message(code: Code, path: tuple[str, ...], mid: int, query: tuple[str, ...] = (), payload: bytes = b"",
            block1: tuple[int, bool, int] | None = None, block2: tuple[int, bool, int] | None = None,
            token: bytes = b"\x42") -> bytes:
    msg = aiocoap.Message(code=code, uri_path=path, uri_query=query, payload=payload)
    if block1 is not None:
        msg.opt.block1 = BlockOption.BlockwiseTuple(*block1)
    if block2 is not None:
        msg.opt.block2 = BlockOption.BlockwiseTuple(*block2)
    msg.mtype, msg.mid, msg.token = aiocoap.CON, mid, token
    return msg.encode()


class RawPeer:
    """A blocking UDP socket that sends raw bytes and collects what comes back, up to a ping's reset."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(20.0)
        self.server = ("127.0.0.1", port)
        self._ping_mid = 0xF000

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, self.server)

    def recv(self) -> bytes:
        return self.sock.recvfrom(65536)[0]

    def exchange(self, data: bytes) -> list[bytes]:
        """Send `data` then a ping; every datagram that arrives before the ping's reset answers `data`."""
        self._ping_mid += 1
        self.send(data)
        self.send(header(self._ping_mid, code=0, token=b""))
        replies = []
        while True:
            reply = self.recv()
            if len(reply) >= 4 and reply[0] >> 4 & 3 == RST and struct.unpack(">H", reply[2:4])[0] == self._ping_mid:
                return replies
            replies.append(reply)

    def request(self, data: bytes) -> aiocoap.Message:
        """Send a well-formed CON request and return the decoded answer (piggybacked)."""
        self.send(data)
        return aiocoap.Message.decode(self.recv())


MALFORMED = {
    "two bytes": b"\x40\x01",
    "version 2": b"\x80\x01\x00\x01",
    "token length 9 (reserved)": b"\x49\x01\x00\x02" + b"T" * 9,
    "Uri-Path says 4 bytes, has 2": header(3) + b"\xb4fw",
    "option delta nibble 15 without payload marker": header(4) + b"\xf1x",
    "option length nibble 15": header(5) + b"\xbfxxxx",
    "extended delta 13 missing its byte": header(6) + b"\xd0",
    "extended length 14 with one byte": header(7) + b"\xbe\x01",
    "payload marker with no payload": header(8) + b"\xb2fw\xff",
    "option numbers past 65535": header(9) + b"\xe0\xff\xff" * 3,
    "Uri-Path not UTF-8": header(10) + b"\xb2fw\x03\xff\xfe\xfd",
    "Block2 option of 4 bytes, number past 2**20": header(11) + b"\xb2fw\x07img.bin" + b"\xc4\x01\x00\x00\x16",
    "Block2 number past the end in 3 bytes": header(16) + b"\xb2fw\x07img.bin" + b"\xc3\xff\xff\xf6",
    "Uri-Query not UTF-8 on /rd": header(12, code=2) + b"\xb2rd\x43\xff\x00\xfe",
    "Content-Format of 3 bytes on /rd": header(13, code=2) + b"\xb2rd\x13\x01\x02\x03\xff</3/0>",
    "response code sent to the server": header(14, code=0x45) + b"\xffhello",
    "ACK for nothing": header(15, code=0x44, mtype=ACK),
}


class LoopErrors:
    """Exceptions that reached the event loop's handler: only aiocoap's known decode gap may be there.

    aiocoap 0.4.17 lets UnicodeDecodeError (a non-UTF-8 string option) and
    ValueError (a 4-byte block option) out of Message.decode instead of its
    UnparsableMessage; the datagram is dropped and serving goes on, but anything
    else reaching the loop would be a rig bug.
    """

    def __init__(self) -> None:
        self.seen: list[BaseException | None] = []

    def __enter__(self) -> "LoopErrors":
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda _loop, ctx: self.seen.append(ctx.get("exception")))
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.get_running_loop().set_exception_handler(None)
        for error in self.seen:
            assert isinstance(error, ValueError), f"unexpected exception in the event loop: {error!r}"
            frames = []
            tb = error.__traceback__
            while tb is not None:
                frames.append(tb.tb_frame.f_code.co_name)
                tb = tb.tb_next
            assert "decode" in frames, f"{error!r} did not come from decoding a message: {frames}"


def _check_answers(name: str, replies: list[bytes]) -> None:
    for raw in replies:
        msg = aiocoap.Message.decode(raw)
        assert msg.mtype == aiocoap.RST or msg.code.is_response() and not msg.code.is_successful(), (name, msg)
        assert not (msg.code.is_response() and msg.code.class_ == 5), f"{name}: server error {msg.code}"


async def _legit_client_is_served(server, name: str = "legit") -> None:
    client = Lwm2mTestClient(name, server.port)
    try:
        await client.start()
        reg = await server.wait_registration(name, 10, after=0)
        assert reg.objects[5] == "1.1"
        response = await server.read(name, "/5/0/3")
        assert response.ok and response.value == 0
    finally:
        await client.stop()


def test_malformed_datagrams_are_answered_or_dropped_and_a_client_is_still_served(tmp_path):
    (tmp_path / "img.bin").write_bytes(FILE)

    async def body():
        async with running_server(tmp_path) as server:
            peer = RawPeer(server.port)
            try:
                with LoopErrors():
                    for name, data in MALFORMED.items():
                        replies = await asyncio.to_thread(peer.exchange, data)
                        _check_answers(name, replies)
            finally:
                peer.close()
            assert not server.timeline.events("block2")  # nothing malformed was served a block
            await _legit_client_is_served(server)

    run(body)


def test_bad_block2_numbers_get_4_02_and_szx_7_gets_1024_byte_blocks(tmp_path):
    (tmp_path / "img.bin").write_bytes(FILE)

    async def body():
        async with running_server(tmp_path) as server:
            peer = RawPeer(server.port)

            def ask(num: int, szx: int, mid: int) -> aiocoap.Message:
                return peer.request(message(Code.GET, ("fw", "img.bin"), mid, block2=(num, False, szx)))

            try:
                assert (await asyncio.to_thread(ask, 5, 6, 1)).code == Code.BAD_OPTION  # 5 * 1024 == end
                assert (await asyncio.to_thread(ask, 20, 4, 2)).code == Code.BAD_OPTION
                assert (await asyncio.to_thread(ask, (1 << 20) - 1, 0, 3)).code == Code.BAD_OPTION
                last = await asyncio.to_thread(ask, 19, 4, 4)
                assert last.code == Code.CONTENT and last.payload == FILE[19 * 256:] and not last.opt.block2.more
                bert = await asyncio.to_thread(ask, 1, 7, 5)
                assert bert.code == Code.CONTENT and bert.payload == FILE[1024:2048]
                assert bert.opt.block2.size_exponent == 6 and bert.opt.block2.more
            finally:
                peer.close()
            await _legit_client_is_served(server)

    run(body)


def test_block1_that_never_ends_is_refused_at_the_body_limit_and_open_bodies_are_bounded(tmp_path):
    async def body():
        async with running_server(tmp_path) as server:
            spool = server.context.serversite._resources[("rd",)]._bodies
            peer = RawPeer(server.port)
            try:
                def endless() -> tuple[int, aiocoap.Message]:
                    num = 0
                    while True:  # the server must stop this, not the test
                        answer = peer.request(message(Code.POST, ("rd",), 100 + num, ("ep=endless",),
                                                      b"<" * 1024, block1=(num, True, 6)))
                        if answer.code != Code.CONTINUE:
                            return num, answer
                        num += 1

                def bad_numbers() -> list[Code]:
                    return [peer.request(message(Code.POST, ("rd",), 50, ("ep=late",), b"<" * 1024, block1=(5, True, 6))).code,
                            peer.request(message(Code.POST, ("rd",), 51, ("ep=bert",), b"</5>", block1=(0, False, 7))).code,
                            peer.request(message(Code.POST, ("rd",), 52, ("ep=short",), b"<" * 100, block1=(0, True, 6))).code]

                assert await asyncio.to_thread(bad_numbers) == [Code.REQUEST_ENTITY_INCOMPLETE, Code.CREATED, Code.BAD_REQUEST]
                num, answer = await asyncio.to_thread(endless)
                assert answer.code == Code.REQUEST_ENTITY_TOO_LARGE and answer.opt.size1 == MAX_BODY
                assert num == MAX_BODY // 1024 and len(spool) == 0

                def many_open() -> list[Code]:
                    return [peer.request(message(Code.POST, ("rd",), 2000 + i, (f"ep=open-{i}",), b"<" * 1024,
                                                 block1=(0, True, 6))).code for i in range(MAX_ASSEMBLIES + 20)]

                assert set(await asyncio.to_thread(many_open)) == {Code.CONTINUE}
                assert len(spool) == MAX_ASSEMBLIES
                late = await asyncio.to_thread(peer.request, message(Code.POST, ("rd",), 3000, ("ep=open-0",), b"<" * 1024,
                                                                    block1=(1, True, 6)))
                assert late.code == Code.REQUEST_ENTITY_INCOMPLETE  # the oldest was dropped for a newer one
            finally:
                peer.close()
            await _legit_client_is_served(server)
            assert server.registry.table.by_name("endless") is None

    run(body)


def test_block1_bodies_expire_and_a_block_wise_registration_still_works():
    clock = [0.0]
    bodies = Block1Bodies(max_body=4096, timeout=5.0, clock=lambda: clock[0])
    remote = object()

    def block(num: int, more: bool, payload: bytes, ep: str = "a") -> aiocoap.Message:
        msg = aiocoap.Message(code=Code.POST, uri_path=("rd",), uri_query=(f"ep={ep}",), payload=payload)
        msg.opt.block1 = BlockOption.BlockwiseTuple(num, more, 4)
        msg.remote = remote
        return msg

    assert bodies.feed(block(0, True, b"x" * 256)).code == Code.CONTINUE
    clock[0] = 6.0
    assert bodies.feed(block(0, True, b"y" * 256, ep="b")).code == Code.CONTINUE
    assert len(bodies) == 1  # "a" expired when "b" came
    assert bodies.feed(block(1, True, b"x" * 256)).code == Code.REQUEST_ENTITY_INCOMPLETE
    assert bodies.feed(block(1, True, b"y" * 100, ep="b")).code == Code.BAD_REQUEST  # a short middle block
    assert bodies.feed(block(0, True, b"z" * 256, ep="c")).code == Code.CONTINUE
    assert bodies.feed(block(1, False, b"</5>", ep="c")) == b"z" * 256 + b"</5>"
    assert len(bodies) == 0


def test_registration_flood_with_random_names_is_bounded_and_a_client_is_still_served(tmp_path):
    rng = random.Random(7)
    names = ["".join(rng.choices(string.ascii_letters + string.digits, k=rng.randint(1, 60))) for _ in range(300)]

    async def body():
        async with running_server(tmp_path, max_endpoints=32) as server:
            peer = RawPeer(server.port)
            try:
                def flood() -> list[Code]:
                    return [peer.request(message(Code.POST, ("rd",), i, (f"ep={name}", "lt=3600"), b"</3/0>,</5/0>")).code
                            for i, name in enumerate(names)]

                t0 = server.timeline.now()
                codes = await asyncio.to_thread(flood)
                took = server.timeline.now() - t0
            finally:
                peer.close()
            assert codes.count(Code.CREATED) == 32 and codes.count(Code.SERVICE_UNAVAILABLE) == len(names) - 32
            assert len(server.registry.table) == 32 and len(server.registry._expiry) == 32
            refused = server.timeline.events("register-refused")
            assert len(refused) <= EVENTS_PER_SECOND * (took + 1) + 1  # refusals are rate-limited, not one event per packet
            # every refusal is accounted for: recorded, counted in a later record, or still pending (load decides which)
            counted = sum(e.data.get("suppressed", 0) for e in refused)
            assert len(refused) + counted + server.registry.refusals.suppressed == len(names) - 32
            # the table is full: a new name is refused, but after one de-registers, a device gets in
            full = Lwm2mTestClient("legit", server.port)
            try:
                await full.start()
                assert full.location is None
            finally:
                await full.stop()
            victim = server.registry.table.all()[0]
            server.registry.drop(victim.location)
            await _legit_client_is_served(server)

    run(body)


KEYS = PskStore.parse(["dev-a:id-a:00112233445566778899aabbccddeeff", "dev-b:id-b:ffeeddccbbaa99887766554433221100"])


def test_dtls_registration_under_another_endpoints_name_is_forbidden_and_others_still_served(tmp_path):
    async def body():
        async with running_server(tmp_path, psk_store=KEYS) as server:
            def as_dev_b_with_a_key() -> aiocoap.Message:
                client = DtlsTestClient(UdpLink(("127.0.0.1", server.port + 1)), b"id-a", KEYS.key_for_identity(b"id-a"))
                client.handshake()
                client.send(message(Code.POST, ("rd",), 1, ("ep=dev-b", "lt=60"), b"</5>;ver=1.1"))
                return aiocoap.Message.decode(client.recv())

            def malformed_then_own_name() -> aiocoap.Message:
                client = DtlsTestClient(UdpLink(("127.0.0.1", server.port + 1)), b"id-a", KEYS.key_for_identity(b"id-a"))
                client.handshake()
                for name in ("two bytes", "Uri-Path says 4 bytes, has 2", "Uri-Path not UTF-8", "Block2 option of 4 bytes, number past 2**20"):
                    client.send(MALFORMED[name])
                client.send(message(Code.POST, ("rd",), 2, ("ep=dev-a", "lt=60"), b"</5>;ver=1.1"))
                while True:  # answers to the malformed ones that parsed (a 4.04 for /fw/img.bin) come first
                    answer = aiocoap.Message.decode(client.recv())
                    if answer.mid == 2:
                        return answer

            with LoopErrors():
                for _ in range(3):
                    assert (await asyncio.to_thread(as_dev_b_with_a_key)).code == Code.FORBIDDEN
                assert server.registry.table.by_name("dev-b") is None
                created = await asyncio.to_thread(malformed_then_own_name)
            assert created.code == Code.CREATED and server.registry.table.by_name("dev-a").psk_identity == b"id-a"
            await _legit_client_is_served(server)

    run(body)
