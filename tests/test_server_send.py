"""LwM2M Send (/dp): good SenML becomes an event; malformed TLV/SenML gets 4.00 and a log line."""

from __future__ import annotations

import logging

import aiocoap
import pytest
from aiocoap import Code

from lwm2m_test_client import Lwm2mTestClient
from server_harness import run, running_server

GOOD_SENML_JSON = b'[{"bn":"/5/0/","n":"3","v":1},{"n":"5","v":0}]'


async def _send(client: Lwm2mTestClient, payload: bytes, fmt: int) -> aiocoap.Message:
    req = aiocoap.Message(code=Code.POST, uri=f"{client.server}/dp", payload=payload, content_format=fmt)
    return await client.context.request(req).response


@pytest.mark.parametrize(
    "payload, fmt",
    [
        (b'[{"bn":"/5/0/","n":"3","v":', 110),  # truncated JSON
        (b'{"n":"3"}', 110),  # not an array
        (b'[{"n":"/5/0/3","vs":1}]', 110),  # string value of the wrong type
        (b"\x9f\xa1", 112),  # truncated CBOR
        (b"\xc8\x00\x14Open", 11542),  # TLV length overruns the payload
        (b"\xff", 11542),
    ],
)
def test_malformed_send_payloads_get_400_and_server_keeps_serving(tmp_path, caplog, payload, fmt):
    async def body():
        async with running_server(tmp_path) as server:
            client = Lwm2mTestClient("sender", server.port)
            await client.start()
            try:
                with caplog.at_level(logging.WARNING, logger="rig.lwm2m.send"):
                    bad = await _send(client, payload, fmt)
                assert bad.code == Code.BAD_REQUEST
                assert "malformed Send payload" in caplog.text
                good = await _send(client, GOOD_SENML_JSON, 110)
                assert good.code == Code.CHANGED
                assert server.timeline.events("send")[-1].data["values"] == {"5/0/3": 1, "5/0/5": 0}
            finally:
                await client.stop()

    run(body)


def test_send_from_unregistered_peer_is_refused(tmp_path):
    async def body():
        async with running_server(tmp_path) as server:
            ctx = await aiocoap.Context.create_client_context()
            try:
                req = aiocoap.Message(code=Code.POST, uri=f"coap://127.0.0.1:{server.port}/dp", payload=GOOD_SENML_JSON, content_format=110)
                assert (await ctx.request(req).response).code == Code.FORBIDDEN
            finally:
                await ctx.shutdown()

    run(body)


def test_block_wise_send_is_assembled_and_a_send_that_never_ends_is_cut_off(tmp_path):
    from aiocoap.optiontypes import BlockOption

    from rig.lwm2m.bounded_body import MAX_BODY

    async def body():
        async with running_server(tmp_path) as server:
            client = Lwm2mTestClient("sender", server.port)
            await client.start()
            try:
                half = len(GOOD_SENML_JSON) // 2
                first = aiocoap.Message(code=Code.POST, uri=f"{client.server}/dp", payload=GOOD_SENML_JSON[:16],
                                        content_format=110)
                first.opt.block1 = BlockOption.BlockwiseTuple(0, True, 0)  # 16-byte blocks
                assert (await client.context.request(first, handle_blockwise=False).response).code == Code.CONTINUE
                assert half  # the rest in one go: blockwise handled by aiocoap from here
                whole = aiocoap.Message(code=Code.POST, uri=f"{client.server}/dp", payload=GOOD_SENML_JSON, content_format=110)
                assert (await client.context.request(whole).response).code == Code.CHANGED
                endless = 0
                for num in range(MAX_BODY // 1024 + 2):
                    req = aiocoap.Message(code=Code.POST, uri=f"{client.server}/dp", payload=b"[" * 1024, content_format=110)
                    req.opt.block1 = BlockOption.BlockwiseTuple(num, True, 6)
                    answer = await client.context.request(req, handle_blockwise=False).response
                    endless = num
                    if answer.code != Code.CONTINUE:
                        break
                assert answer.code == Code.REQUEST_ENTITY_TOO_LARGE and endless * 1024 <= MAX_BODY
            finally:
                await client.stop()

    run(body)
