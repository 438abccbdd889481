"""Interop with a real Mbed TLS client (python-mbedtls, x86_64 only; skipped where absent):
every suite, a request, then a server-initiated Read over the same session."""

from __future__ import annotations

import asyncio
import socket

import aiocoap
import pytest
from aiocoap import Code

from dtls_test_site import KEYS, rig_server

tls = pytest.importorskip("mbedtls.tls", reason="python-mbedtls is not installed (x86_64 wheels only; test-only)")

SUITES = ["TLS-PSK-WITH-AES-128-CCM-8", "TLS-PSK-WITH-AES-128-CCM", "TLS-PSK-WITH-AES-128-GCM-SHA256", "TLS-PSK-WITH-AES-128-CBC-SHA256"]


def _retry(call, *args):
    while True:
        try:
            return call(*args)
        except (tls.WantReadError, tls.WantWriteError):
            continue


def _coap(code: Code, path: list[str], mid: int, query: tuple[str, ...] = ()) -> bytes:
    msg = aiocoap.Message(code=code, uri_path=path, uri_query=list(query))
    msg.mtype, msg.mid, msg.token = aiocoap.CON, mid, b"\x07"
    return msg.encode()


@pytest.mark.parametrize("suite", SUITES)
def test_dtls_mbedtls_client_each_suite_then_server_initiated_read(suite: str) -> None:
    async def main() -> None:
        async with rig_server() as server:
            conf = tls.DTLSConfiguration(pre_shared_key=("dev1", KEYS[b"dev1"]), ciphers=[suite], validate_certificates=False)
            sock = tls.ClientContext(conf).wrap_socket(socket.socket(socket.AF_INET, socket.SOCK_DGRAM), server_hostname=None)
            sock.settimeout(5)

            def board() -> tuple[bytes, aiocoap.Message]:
                sock.connect(("127.0.0.1", server.coaps_port))
                _retry(sock.do_handshake)
                sock.send(_coap(Code.GET, ["hello"], 1))
                hello = aiocoap.Message.decode(_retry(sock.recv, 2048)).payload
                sock.send(_coap(Code.POST, ["rd"], 2, ("ep=dev1",)))
                assert aiocoap.Message.decode(_retry(sock.recv, 2048)).code == Code.CREATED
                request = aiocoap.Message.decode(_retry(sock.recv, 2048))
                answer = aiocoap.Message(code=Code.CONTENT, payload=b"read over mbedtls")
                answer.mtype, answer.mid, answer.token = aiocoap.ACK, request.mid, request.token
                sock.send(answer.encode())
                return hello, request

            task = asyncio.ensure_future(asyncio.to_thread(board))
            await asyncio.wait_for(server.registrations.arrived.wait(), 10)
            read = aiocoap.Message(code=Code.GET, uri_path=["5", "0", "3"])
            read.remote = server.registrations.remotes["dev1"]
            response = await asyncio.wait_for(server.context.request(read).response, 10)
            hello, request = await asyncio.wait_for(task, 10)
            sock.close()
            assert hello == b"hello dev1"
            assert request.opt.uri_path == ("5", "0", "3")
            assert response.payload == b"read over mbedtls"
            engine = server.coaps.engine
            assert engine is not None
            [peer] = engine.peers()
            assert engine.identity(peer) == b"dev1"

    asyncio.run(main())
