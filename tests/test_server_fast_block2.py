"""Firmware blocks answered at the message layer (rig.lwm2m.fast_block2): same bytes and options as the
resource path, hooks still hold and drop blocks, errors and confinement unchanged, coap and coaps."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess

import aiocoap
import pytest

from peers import need
from aiocoap import Code
from aiocoap.numbers import ContentFormat
from aiocoap.numbers.types import ACK, CON, NON
from aiocoap.optiontypes import BlockOption

from rig.lwm2m.blocks import BlockAction
from rig.lwm2m.dtls.psk import PskStore
from server_harness import run, running_server

ODD_SIZE = 3001  # not a multiple of any block size: the last block is short
PSK_TEXT = "fast-block2-key!"
KEYS = PskStore.parse([f"fastdev:fastid:{PSK_TEXT.encode().hex()}"])


@pytest.fixture(scope="module")
def firmware_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("fastroot")
    served = root / "served"
    served.mkdir()
    (served / "odd.bin").write_bytes(os.urandom(ODD_SIZE))
    (served / "big.bin").write_bytes(os.urandom(256 * 1024))
    (root / "secret.txt").write_bytes(b"must never be served")
    os.symlink(root / "secret.txt", served / "link.bin")
    return served


def _get(port: int, path: str, num: int | None = None, szx: int = 6, **kwargs) -> aiocoap.Message:
    req = aiocoap.Message(code=Code.GET, uri=f"coap://127.0.0.1:{port}/fw/{path}", **kwargs)
    if num is not None:
        req.opt.block2 = BlockOption.BlockwiseTuple(num, False, szx)
    return req


async def _fetch_all(ctx: aiocoap.Context, port: int, path: str, szx: int) -> tuple[bytes, list[aiocoap.Message]]:
    data, answers, num = b"", [], 0
    while True:
        resp = await ctx.request(_get(port, path, num, szx), handle_blockwise=False).response
        answers.append(resp)
        data += resp.payload
        if not resp.opt.block2.more:
            return data, answers
        num += 1


@pytest.mark.parametrize("szx", range(7))  # 16 .. 1024-byte blocks
def test_every_block_size_exact_with_etag_size2_and_content_format(firmware_dir, szx):
    want = (firmware_dir / "odd.bin").read_bytes()
    etag = hashlib.sha256(want).digest()[:8]

    async def body():
        async with running_server(firmware_dir) as server:
            ctx = await aiocoap.Context.create_client_context()
            try:
                data, answers = await _fetch_all(ctx, server.port, "odd.bin", szx)
            finally:
                await ctx.shutdown()
            assert data == want
            assert server.fast_block2.answered == len(answers) == -(-ODD_SIZE // (16 << szx))
            for num, resp in enumerate(answers):
                assert resp.code == Code.CONTENT and resp.mtype is ACK
                assert resp.opt.block2.block_number == num and resp.opt.block2.size == 16 << szx
                assert resp.opt.etag == etag and resp.opt.content_format == ContentFormat.OCTETSTREAM
                assert resp.opt.size2 == (ODD_SIZE if num == 0 else None)
            done = server.timeline.events("transfer-done")
            assert len(done) == 1 and done[0].data["sha256"] == hashlib.sha256(want).hexdigest()
            assert [e.data["num"] for e in server.timeline.events("block2")] == list(range(len(answers)))

    run(body)


def test_fast_answers_equal_the_resource_path(firmware_dir):
    """The same requests answered three ways: fast, handed over by a hook that holds each block a moment,
    and by aiocoap alone (fast path taken out): the same messages."""

    async def body():
        async with running_server(firmware_dir) as server:
            ctx = await aiocoap.Context.create_client_context()
            try:
                cases = [("odd.bin", None, 6, {}), ("odd.bin", 2, 4, {}), ("odd.bin", 0, 6, {}), ("big.bin", None, 6, {}),
                         ("odd.bin", 1, 5, {"size2": 0}), ("odd.bin", 99, 6, {}), ("nothere.bin", 0, 6, {})]

                async def answers() -> list[tuple]:
                    got = []
                    for path, num, szx, opts in cases:
                        req = _get(server.port, path, num, szx)
                        for name, value in opts.items():
                            setattr(req.opt, name, value)
                        resp = await ctx.request(req, handle_blockwise=False).response
                        got.append((resp.code, resp.payload, sorted((o.number, o.encode()) for o in resp.opt.option_list())))
                    return got

                fast = await answers()
                assert (server.fast_block2.answered, server.fast_block2.held) == (len(cases), 0)

                async def hold_a_moment(block):
                    await asyncio.sleep(0)
                    return BlockAction.SEND

                remove = server.add_block_hook(hold_a_moment)
                handed_over = await answers()
                remove()
                assert server.fast_block2.held == len(cases) - 2  # the two errors are answered before any hook

                for tman in server.context.request_interfaces:
                    del tman.token_interface.dispatch_message  # aiocoap's own dispatch again
                answered = server.fast_block2.answered
                ordinary = await answers()
                assert server.fast_block2.answered == answered
                assert fast == handed_over == ordinary
            finally:
                await ctx.shutdown()

    run(body)


def test_a_hook_that_fails_gives_5_00_as_before(firmware_dir):
    async def body():
        async with running_server(firmware_dir) as server:
            async def broken(block):
                raise RuntimeError("hook bug")

            server.add_block_hook(broken)
            ctx = await aiocoap.Context.create_client_context()
            try:
                resp = await ctx.request(_get(server.port, "odd.bin", 0), handle_blockwise=False).response
                assert resp.code == Code.INTERNAL_SERVER_ERROR
                assert not server.timeline.events("block2")
            finally:
                await ctx.shutdown()

    run(body)


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr) -> None:
        self.queue.put_nowait(data)


def _raw_get(mtype, mid: int, token: bytes, num: int) -> bytes:
    req = aiocoap.Message(code=Code.GET, uri_path=("fw", "odd.bin"))
    req.mtype, req.mid, req.token = mtype, mid, token
    req.opt.block2 = BlockOption.BlockwiseTuple(num, False, 6)
    return req.encode()


def test_duplicate_con_is_answered_again_and_non_gets_non(firmware_dir):
    want = (firmware_dir / "odd.bin").read_bytes()

    async def body():
        async with running_server(firmware_dir) as server:
            loop = asyncio.get_running_loop()
            transport, proto = await loop.create_datagram_endpoint(_Datagrams, remote_addr=("127.0.0.1", server.port))
            try:
                for _ in range(2):  # a retransmission: same MID, same token
                    transport.sendto(_raw_get(CON, 0x1234, b"tk", 1))
                    resp = aiocoap.Message.decode(await asyncio.wait_for(proto.queue.get(), 10))
                    assert (resp.mtype, resp.mid, resp.token) == (ACK, 0x1234, b"tk")
                    assert resp.payload == want[1024:2048]
                transport.sendto(_raw_get(NON, 0x2222, b"nn", 2))
                resp = aiocoap.Message.decode(await asyncio.wait_for(proto.queue.get(), 10))
                assert resp.mtype is NON and resp.token == b"nn" and resp.payload == want[2048:3001]
                assert server.fast_block2.answered == 3
            finally:
                transport.close()

    run(body)


def test_held_block_does_not_stall_another_client_and_drop_never_answers(firmware_dir):
    want = (firmware_dir / "odd.bin").read_bytes()

    async def body():
        async with running_server(firmware_dir) as server:
            held, release = asyncio.Event(), asyncio.Event()

            async def hook(block):
                if block.resource == "big.bin" and block.num == 2:
                    held.set()
                    await release.wait()
                if block.resource == "odd.bin" and block.num == 1:
                    return BlockAction.DROP
                return BlockAction.SEND

            remove = server.add_block_hook(hook)
            a = await aiocoap.Context.create_client_context()
            b = await aiocoap.Context.create_client_context()
            loop = asyncio.get_running_loop()
            transport, proto = await loop.create_datagram_endpoint(_Datagrams, remote_addr=("127.0.0.1", server.port))
            try:
                pending = asyncio.ensure_future(a.request(_get(server.port, "big.bin", 2), handle_blockwise=False).response)
                await asyncio.wait_for(held.wait(), 10)
                other = await asyncio.wait_for(b.request(_get(server.port, "odd.bin", 2)).response, 10)
                assert other.payload == want[2048:] and not pending.done()

                transport.sendto(_raw_get(CON, 0x0101, b"d1", 1))  # dropped: never answered
                await server.timeline.wait_for_async(lambda e: e.kind == "block2-dropped", 10)
                transport.sendto(_raw_get(CON, 0x0102, b"d2", 0))
                while True:  # block 1 gets at most aiocoap's empty ACK (as before), never an answer
                    resp = aiocoap.Message.decode(await asyncio.wait_for(proto.queue.get(), 10))
                    if resp.mid == 0x0101:
                        assert resp.code == Code.EMPTY and resp.mtype is ACK and not resp.payload
                        continue
                    assert (resp.mid, resp.token, resp.payload) == (0x0102, b"d2", want[:1024])
                    break

                release.set()
                assert (await asyncio.wait_for(pending, 10)).opt.block2.block_number == 2
                # the held and the dropped block went to aiocoap's path; the two the hook let through did not
                assert (server.fast_block2.answered, server.fast_block2.held) == (2, 2)
                assert [e.data["num"] for e in server.timeline.events("block2-dropped")] == [1]
                remove()
            finally:
                transport.close()
                await a.shutdown()
                await b.shutdown()

    run(body)


def test_errors_and_confinement_as_before(firmware_dir):
    traversal = ["../secret.txt", "%2e%2e/secret.txt", "/etc/passwd", "..%2fsecret.txt", "link.bin", "./odd.bin"]

    async def body():
        async with running_server(firmware_dir) as server:
            ctx = await aiocoap.Context.create_client_context()
            try:
                missing = await ctx.request(_get(server.port, "nothere.bin", 0)).response
                assert missing.code == Code.NOT_FOUND
                beyond = await ctx.request(_get(server.port, "odd.bin", 3), handle_blockwise=False).response
                assert beyond.code == Code.BAD_OPTION
                empty = await ctx.request(aiocoap.Message(code=Code.GET, uri=f"coap://127.0.0.1:{server.port}/fw/")).response
                assert empty.code == Code.BAD_REQUEST
                for path in traversal:
                    resp = await ctx.request(_get(server.port, path)).response
                    assert resp.code in (Code.BAD_REQUEST, Code.NOT_FOUND), (path, resp.code)
                    assert b"never" not in resp.payload
                assert server.fast_block2.answered == 3 + len(traversal)
                assert server.timeline.events("fw-not-found") and server.timeline.events("fw-refused")
                post = await ctx.request(aiocoap.Message(code=Code.POST, uri=f"coap://127.0.0.1:{server.port}/fw/odd.bin")).response
                observed = _get(server.port, "odd.bin", observe=0)
                first = await ctx.request(observed, handle_blockwise=False).response
                assert post.code == Code.METHOD_NOT_ALLOWED and first.code == Code.CONTENT
                assert server.fast_block2.answered == 3 + len(traversal)  # POST and Observe: aiocoap's path
            finally:
                await ctx.shutdown()

    run(body)


def test_coaps_fetch_by_libcoap_takes_the_fast_path(firmware_dir, tmp_path):
    client = need("coap-client-openssl")
    out = tmp_path / "got.bin"

    async def body():
        async with running_server(firmware_dir, psk_store=KEYS) as server:
            proc = await asyncio.create_subprocess_exec(
                client, "-b", "256", "-u", "fastid", "-k", PSK_TEXT, "-o", str(out),
                f"coaps://127.0.0.1:{server.port + 1}/fw/big.bin", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )
            _, err = await asyncio.wait_for(proc.communicate(), 60)
            assert proc.returncode == 0, err
            assert server.fast_block2.answered == 1024
            assert len(server.timeline.events("transfer-done")) == 1

    run(body, timeout=90)
    assert out.read_bytes() == (firmware_dir / "big.bin").read_bytes()


def test_an_aiocoap_without_the_expected_internals_keeps_its_own_path(caplog):
    from rig.lwm2m.fast_block2 import FastBlock2

    class OtherManager:  # what a future aiocoap's message manager might look like
        def dispatch_message(self, message):
            return "ordinary"

    mman = OtherManager()
    original = mman.dispatch_message
    FastBlock2(resource=None).install(mman)  # type: ignore[arg-type]
    assert mman.dispatch_message == original and not hasattr(mman, "_rig_fast_block2")
    assert "ordinary path" in caplog.text
