"""coaps on a real aiocoap server context: libcoap's OpenSSL and GnuTLS clients, registration with
identity check, a server-initiated request over the client's session, a rebooted client, wrong keys."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import socket
import time
from pathlib import Path

import aiocoap
import pytest

from peers import need
from aiocoap import Code

from rig.errors import RigError
from rig.lwm2m.dtls.handshake import HandshakeConfig
from rig.lwm2m.dtls.transport import attach_coaps
from rig.timeline import Timeline
from dtls_test_client import ClientError, DtlsTestClient, UdpLink
from dtls_test_site import KEYS, PAYLOAD, STORE, rig_server

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset



@pytest.fixture(autouse=True)
def _libcoap_clients():
    need("coap-client-openssl", "coap-client-gnutls")


async def coap_client(binary: str, uri: str, identity: bytes, key: bytes, *args: str, timeout: float = 60.0) -> tuple[int, str]:
    """Run a libcoap client; `-B` (give up after) is kept just under our own timeout, since on expiry it exits 0 with partial output."""
    proc = await asyncio.create_subprocess_exec(binary, "-u", identity.decode(), "-k", key.decode(), "-B", str(int(timeout) - 2), *args, uri,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode or 0, out.decode(errors="replace")


def coap(code: Code, path: list[str], mid: int, query: list[str] = (), payload: bytes = b"", mtype=aiocoap.CON, token: bytes = b"\x42") -> bytes:
    msg = aiocoap.Message(code=code, uri_path=path, uri_query=list(query), payload=payload)
    msg.mtype, msg.mid, msg.token = mtype, mid, token
    return msg.encode()


def register(client: DtlsTestClient, ep: str, mid: int) -> aiocoap.Message:
    client.send(coap(Code.POST, ["rd"], mid, [f"ep={ep}", "lt=60"], b"</1/0>,</3/0>,</5/0>"))
    return aiocoap.Message.decode(client.recv())


def test_dtls_transport_libcoap_clients_fetch_1mib(tmp_path: Path) -> None:
    async def main() -> None:
        async with rig_server() as server:
            uri = f"coaps://127.0.0.1:{server.coaps_port}/fw"
            jobs = []
            for binary in ("coap-client-openssl", "coap-client-gnutls"):
                for block in (1024, 64):
                    out = tmp_path / f"{binary}-{block}.bin"
                    jobs.append((out, coap_client(binary, uri, b"dev1", KEYS[b"dev1"], "-b", str(block), "-o", str(out))))
            results = await asyncio.gather(*(job for _, job in jobs))
            for (out, _), (rc, text) in zip(jobs, results):
                assert rc == 0, text[-500:]
                assert out.stat().st_size == len(PAYLOAD), out.name
                assert hashlib.sha256(out.read_bytes()).hexdigest() == hashlib.sha256(PAYLOAD).hexdigest(), out.name

    asyncio.run(main())


def test_dtls_transport_registration_identity_check_and_plain_coap_alongside() -> None:
    async def main() -> None:
        async with rig_server() as server:
            base = f"coaps://127.0.0.1:{server.coaps_port}"
            rc, text = await coap_client("coap-client-gnutls", f"{base}/rd?ep=dev1", b"dev1", KEYS[b"dev1"], "-m", "post", "-e", "</5/0>")
            assert rc == 0 and "4." not in text, text
            remote = server.registrations.remotes["dev1"]
            assert remote.psk_identity == b"dev1" and remote.scheme == "coaps" and remote.is_multicast is False
            assert remote.hostinfo.startswith("127.0.0.1:") and remote.uri_base.startswith("coaps://127.0.0.1:")
            # dev2's identity registering as dev1: 4.03
            rc, text = await coap_client("coap-client-openssl", f"{base}/rd?ep=dev1", b"dev2", KEYS[b"dev2"], "-m", "post", "-e", "</5/0>")
            assert "4.03" in text, text
            assert server.registrations.count == 1
            # the same site still answers plain coap on the coap port
            rc, text = await coap_client("coap-client-openssl", f"coap://127.0.0.1:{server.coap_port}/hello", b"x", b"y")
            assert "hello plain" in text

    asyncio.run(main())


def test_dtls_transport_wrong_key_or_identity_gets_nothing(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    timeline = Timeline()

    async def main() -> None:
        async with rig_server(timeline=timeline) as server:
            uri = f"coaps://127.0.0.1:{server.coaps_port}/hello"
            attempts = [(b"dev1", b"not-the-key", tmp_path / "a.txt"), (b"stranger", KEYS[b"dev1"], tmp_path / "b.txt")]
            # libcoap keeps waiting after the alert until -B expires: run both at once, briefly
            await asyncio.gather(*(coap_client("coap-client-openssl", uri, i, k, "-o", str(out), timeout=5) for i, k, out in attempts))
            for *_, out in attempts:
                assert not out.exists() or out.read_bytes() == b""
            assert server.coaps.engine is not None and server.coaps.engine.peers() == []

    with caplog.at_level(logging.WARNING, logger="rig.dtls"):
        asyncio.run(main())
    reasons = [e.data["reason"] for e in timeline.events("dtls") if e.data["event"] == "handshake-failed"]
    assert any("wrong key" in r or "bad Finished" in r for r in reasons), reasons
    assert any("unknown PSK identity b'stranger'" in r for r in reasons), reasons
    assert not [e for e in timeline.events("dtls") if e.data["event"] == "handshake-ok"]
    assert sum("handshake with 127.0.0.1:" in r.getMessage() for r in caplog.records) >= 2


def test_dtls_transport_server_initiated_read_over_the_clients_session() -> None:
    async def main() -> None:
        async with rig_server() as server:
            client = DtlsTestClient(UdpLink(("127.0.0.1", server.coaps_port)), b"dev1", KEYS[b"dev1"])  # 0xFE00 hello, mbedtls-style

            def board() -> aiocoap.Message:
                client.handshake()
                assert register(client, "dev1", mid=7).code == Code.CREATED
                request = aiocoap.Message.decode(client.recv())  # the server's Read
                answer = aiocoap.Message(code=Code.CONTENT, payload=b"Object 3 of dev1")
                answer.mtype, answer.mid, answer.token = aiocoap.ACK, request.mid, request.token
                client.send(answer.encode())
                by_uri = aiocoap.Message.decode(client.recv())  # the second Read, addressed by coaps:// URI
                answer = aiocoap.Message(code=Code.CONTENT, payload=b"by uri")
                answer.mtype, answer.mid, answer.token = aiocoap.ACK, by_uri.mid, by_uri.token
                client.send(answer.encode())
                return request

            board_task = asyncio.ensure_future(asyncio.to_thread(board))
            await asyncio.wait_for(server.registrations.arrived.wait(), 10)
            remote = server.registrations.remotes["dev1"]
            read = aiocoap.Message(code=Code.GET, uri_path=["3", "0"])
            read.remote = remote
            response = await asyncio.wait_for(server.context.request(read).response, 10)
            by_uri = aiocoap.Message(code=Code.GET, uri=f"coaps://{remote.hostinfo}/3/0/0")
            second = await asyncio.wait_for(server.context.request(by_uri).response, 10)
            assert second.payload == b"by uri" and second.remote == remote
            request = await asyncio.wait_for(board_task, 10)
            client.close()
            assert request.opt.uri_path == ("3", "0") and request.code == Code.GET
            assert response.code == Code.CONTENT and response.payload == b"Object 3 of dev1"
            assert response.remote == remote

    asyncio.run(main())


def test_dtls_transport_rebooted_client_same_port_registers_again_within_a_second() -> None:
    timeline = Timeline()

    async def main() -> None:
        async with rig_server(timeline=timeline) as server:
            link = UdpLink(("127.0.0.1", server.coaps_port))
            port = link.local_port
            first = DtlsTestClient(link, b"dev1", KEYS[b"dev1"])
            await asyncio.to_thread(lambda: register((first.handshake(), first)[1], "dev1", mid=1))
            old_remote = server.registrations.remotes["dev1"]
            first.close()  # power cut: no close_notify, the server still holds the session

            def reboot() -> float:
                started = time.monotonic()
                again = DtlsTestClient(UdpLink(("127.0.0.1", server.coaps_port), bind_port=port), b"dev1", KEYS[b"dev1"])
                again.handshake()
                ack = register(again, "dev1", mid=1)  # same message ID as before the reboot: must not be taken as a duplicate
                assert ack.code == Code.CREATED
                elapsed = time.monotonic() - started
                again.close()
                return elapsed

            elapsed = await asyncio.to_thread(reboot)
            assert elapsed < 1.0
            assert server.registrations.count == 2
            assert server.registrations.remotes["dev1"] == old_remote, "a reconnect from the same port is the same remote"
            oks = [e for e in timeline.events("dtls") if e.data["event"] == "handshake-ok"]
            assert [e.data["replaced"] for e in oks] == [False, True]

    asyncio.run(main())


def test_dtls_transport_retransmits_a_dropped_flight() -> None:
    async def main() -> None:
        async with rig_server(config=HandshakeConfig(retransmit_initial=0.2)) as server:
            client = DtlsTestClient(UdpLink(("127.0.0.1", server.coaps_port), timeout=3.0), b"dev2", KEYS[b"dev2"],
                                    drop_incoming=lambda index, _data: index == 1)
            started = time.monotonic()
            await asyncio.to_thread(client.handshake)  # the test client never retransmits: only the server's timer helps
            assert 0.15 < time.monotonic() - started < 2.0
            assert (await asyncio.to_thread(register, client, "dev2", 3)).code == Code.CREATED
            client.close()
            with pytest.raises(ClientError):
                silent = DtlsTestClient(UdpLink(("127.0.0.1", server.coaps_port), timeout=0.3), b"dev2", KEYS[b"dev2"],
                                        drop_incoming=lambda index, _data: index >= 1)
                await asyncio.to_thread(silent.handshake)
            silent.close()

    asyncio.run(main())


def test_dtls_transport_close_is_idempotent_and_safe_after_context_shutdown(free_udp_port: int) -> None:
    async def main() -> None:
        context = await aiocoap.Context.create_server_context(None, bind=("127.0.0.1", free_udp_port))
        coaps = await attach_coaps(context, "127.0.0.1", free_udp_port + 1, STORE)
        await context.shutdown()
        await coaps.close()
        await coaps.close()
        assert coaps.engine is None
        with pytest.raises(RigError, match="cannot bind coaps"):
            other = await aiocoap.Context.create_server_context(None, bind=("127.0.0.1", 0))
            try:
                busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                busy.bind(("127.0.0.1", 0))
                try:
                    await attach_coaps(other, "127.0.0.1", busy.getsockname()[1], STORE)
                finally:
                    busy.close()
            finally:
                await other.shutdown()

    asyncio.run(main())


def test_dtls_transport_survives_an_engine_error_and_keeps_its_timer() -> None:
    """An exception out of the engine costs that datagram only: nothing reaches the loop's handler, and the
    retransmission timer the datagram armed is still set (the client here never retransmits on its own)."""
    from rig.lwm2m.dtls.pyengine import PyDtlsServerEngine as create_engine

    class Faulty:
        def __init__(self, engine) -> None:
            self._engine, self.datagrams, self.raised = engine, 0, False

        def receive(self, peer, datagram: bytes) -> None:
            self._engine.receive(peer, datagram)  # the state changes (a handshake starts), then a bug strikes
            self.datagrams += 1
            if self.datagrams == 2:  # the ClientHello with the cookie
                self.raised = True
                raise RuntimeError("engine bug")

        def __getattr__(self, name: str):
            return getattr(self._engine, name)

    seen: list[object] = []

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: seen.append(ctx.get("exception")))
        factory = lambda *a, **kw: Faulty(create_engine(*a, **kw))  # noqa: E731
        async with rig_server(engine_factory=factory, config=HandshakeConfig(retransmit_initial=0.2)) as server:
            client = DtlsTestClient(UdpLink(("127.0.0.1", server.coaps_port), timeout=3.0), b"dev2", KEYS[b"dev2"],
                                    drop_incoming=lambda index, _data: index == 1)
            await asyncio.to_thread(client.handshake)  # its cookie ClientHello raised; the flight came by the timer
            assert (await asyncio.to_thread(register, client, "dev2", 3)).code == Code.CREATED
            assert server.coaps.engine.raised
            client.close()

    asyncio.run(main())
    assert seen == []
