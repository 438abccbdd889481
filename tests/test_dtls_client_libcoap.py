"""Interop: the device-side coaps client against libcoap's OpenSSL server (`coap-server-openssl -k KEY -h HINT`).

The file is PUT over plain coap with libcoap's own client, then fetched over coaps by ours
(Block2, each AEAD PSK suite; libcoap enables no CBC suite), so both ends of the check are someone else's code.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess

import aiocoap
import pytest

from peers import need
from aiocoap import Code, Message
from aiocoap.optiontypes import BlockOption
from aiocoap.resource import Site

from rig.lwm2m.dtls.client_handshake import ClientConfig
from rig.lwm2m.dtls.client_transport import create_coaps_client_context
from rig.lwm2m.dtls.suites import (
    SUITES,
    TLS_PSK_WITH_AES_128_CBC_SHA256,
    TLS_PSK_WITH_AES_128_CCM,
    TLS_PSK_WITH_AES_128_CCM_8,
    TLS_PSK_WITH_AES_128_GCM_SHA256,
)
from rig.netutil import free_udp_pair
from server_harness import run

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

SERVER = shutil.which("coap-server-openssl")
CLIENT = shutil.which("coap-client-openssl")


@pytest.fixture(autouse=True)
def _libcoap():
    need("coap-server-openssl", "coap-client-openssl")

KEY = b"rig-interop-key!"


@pytest.fixture(scope="module")
def libcoap_server(tmp_path_factory):
    """coap-server-openssl on a free port pair, holding a random file at /example_data (PUT by coap-client)."""
    port = free_udp_pair()
    data = os.urandom(20_000)
    path = tmp_path_factory.mktemp("libcoap") / "data.bin"
    path.write_bytes(data)
    proc = subprocess.Popen([SERVER, "-A", "127.0.0.1", "-p", str(port), "-k", KEY.decode(), "-h", "rig-hint", "-d", "4"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # a CON PUT is retransmitted until the server is up, so this also waits for it to listen
        subprocess.run([CLIENT, "-m", "put", "-b", "1024", "-f", str(path), f"coap://127.0.0.1:{port}/example_data"],
                       check=True, capture_output=True, timeout=30)
        yield port + 1, data
    finally:
        proc.kill()
        proc.wait(10)


async def fetch(port: int, key: bytes, suites: tuple[int, ...], szx: int | None = None,
                handshake_timeout: float = 20.0) -> tuple[Message, list]:
    events: list = []
    config = ClientConfig(suites=suites, handshake_timeout=handshake_timeout)
    ctx, _iface = await create_coaps_client_context(Site(), b"rig-device", key, config=config, on_event=events.append)
    try:
        request = Message(code=Code.GET, uri=f"coaps://127.0.0.1:{port}/example_data")
        if szx is not None:
            request.opt.block2 = BlockOption.BlockwiseTuple(0, False, szx)
        return await asyncio.wait_for(ctx.request(request).response, 40), events
    finally:
        await ctx.shutdown()


AEAD = [TLS_PSK_WITH_AES_128_CCM_8, TLS_PSK_WITH_AES_128_CCM, TLS_PSK_WITH_AES_128_GCM_SHA256]


@pytest.mark.parametrize("suite", AEAD, ids=[SUITES[s].name for s in AEAD])
def test_dtls_client_fetches_a_file_from_libcoap_openssl_on_each_aead_suite(libcoap_server, suite: int) -> None:
    port, data = libcoap_server
    response, events = run(lambda: fetch(port, KEY, (suite,)))
    assert response.code == Code.CONTENT and response.payload == data
    assert [(e.kind, e.suite) for e in events][0] == ("handshake-ok", SUITES[suite].name)


def test_dtls_client_fetches_from_libcoap_in_64_byte_blocks_offering_ccm8_first(libcoap_server) -> None:
    port, data = libcoap_server
    response, events = run(lambda: fetch(port, KEY, ClientConfig().suites, szx=2))
    assert response.payload == data and response.opt.block2 is not None and response.opt.block2.size_exponent == 2
    assert events[0].suite == "TLS_PSK_WITH_AES_128_CCM_8"


def test_dtls_client_wrong_key_against_libcoap_fails_with_a_reason(libcoap_server) -> None:
    """OpenSSL drops the unauthenticated Finished without an alert: the client's timeout names the likely cause."""
    port, _data = libcoap_server
    with pytest.raises(aiocoap.error.NetworkError) as failure:
        run(lambda: fetch(port, b"not-the-key-0000", ClientConfig().suites, handshake_timeout=3))
    reason = failure.value.args[0]
    assert "no server Finished" in reason and "wrong PSK" in reason, reason


def test_dtls_client_offering_only_cbc_to_libcoap_is_told_no_common_suite(libcoap_server) -> None:
    """libcoap's OpenSSL server enables AEAD PSK suites only; its handshake_failure alert becomes the reason."""
    port, _data = libcoap_server
    with pytest.raises(aiocoap.error.NetworkError) as failure:
        run(lambda: fetch(port, KEY, (TLS_PSK_WITH_AES_128_CBC_SHA256,)))
    assert "handshake_failure (no cipher suite in common)" in failure.value.args[0]
