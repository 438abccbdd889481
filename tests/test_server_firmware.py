"""Firmware download (Block2) from the rig: libcoap's client, exact bytes, and path confinement."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess

import aiocoap
import pytest

from peers import need
from aiocoap import Code
from aiocoap.optiontypes import BlockOption

from rig.lwm2m.blocks import BlockAction
from server_harness import run, running_server

pytestmark = pytest.mark.slow  # starts boards or processes, or takes seconds: not in the fast subset

ONE_MIB = 1024 * 1024


@pytest.fixture(scope="module")
def firmware_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("fwroot")
    served = root / "served"
    served.mkdir()
    (served / "big.bin").write_bytes(os.urandom(ONE_MIB))
    (served / "small.bin").write_bytes(b"tiny image")
    (root / "secret.txt").write_bytes(b"must never be served")
    os.symlink(root / "secret.txt", served / "link.bin")
    return served


@pytest.mark.parametrize("block", [1024, 64])
def test_libcoap_fetches_1mib_blockwise_exact(firmware_dir, tmp_path, block):
    client = need("coap-client-openssl")
    out = tmp_path / "got.bin"

    async def body():
        async with running_server(firmware_dir) as server:
            proc = await asyncio.create_subprocess_exec(
                client, "-b", str(block), "-o", str(out), f"coap://127.0.0.1:{server.port}/fw/big.bin",
                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            )
            _, err = await asyncio.wait_for(proc.communicate(), 120)
            assert proc.returncode == 0, err
            done = server.timeline.events("transfer-done")
            assert done and done[-1].data["size"] == ONE_MIB
            assert len(server.timeline.events("block2")) == ONE_MIB // block

    run(body, timeout=150)
    want = hashlib.sha256((firmware_dir / "big.bin").read_bytes()).hexdigest()
    assert hashlib.sha256(out.read_bytes()).hexdigest() == want


def test_block2_has_etag_size2_and_honours_requested_size(firmware_dir):
    async def body():
        async with running_server(firmware_dir) as server:
            ctx = await aiocoap.Context.create_client_context()
            try:
                req = aiocoap.Message(code=Code.GET, uri=f"coap://127.0.0.1:{server.port}/fw/big.bin")
                req.opt.block2 = BlockOption.BlockwiseTuple(3, False, 2)  # 64-byte blocks, number 3
                resp = await ctx.request(req, handle_blockwise=False).response
                data = (firmware_dir / "big.bin").read_bytes()
                assert resp.code == Code.CONTENT and resp.payload == data[192:256]
                assert resp.opt.block2.block_number == 3 and resp.opt.block2.more and resp.opt.block2.size == 64
                assert resp.opt.etag == hashlib.sha256(data).digest()[:8]
                beyond = aiocoap.Message(code=Code.GET, uri=f"coap://127.0.0.1:{server.port}/fw/small.bin")
                beyond.opt.block2 = BlockOption.BlockwiseTuple(5, False, 6)
                assert (await ctx.request(beyond, handle_blockwise=False).response).code == Code.BAD_OPTION
                whole = aiocoap.Message(code=Code.GET, uri=f"coap://127.0.0.1:{server.port}/fw/small.bin")
                small = await ctx.request(whole).response
                assert small.payload == b"tiny image" and small.opt.size2 == 10
            finally:
                await ctx.shutdown()

    run(body)


@pytest.mark.parametrize(
    "path",
    [
        ("..", "secret.txt"),
        ("%2e%2e", "secret.txt"),
        ("%2E%2E", "secret.txt"),
        ("", "etc", "passwd"),
        ("..%2fsecret.txt",),
        ("link.bin",),
        (".", "big.bin"),
        ("nothere.bin",),
    ],
)
def test_nothing_outside_the_directory_is_served(firmware_dir, path):
    async def body():
        async with running_server(firmware_dir) as server:
            ctx = await aiocoap.Context.create_client_context()
            try:
                uri = f"coap://127.0.0.1:{server.port}/fw/" + "/".join(path)
                resp = await ctx.request(aiocoap.Message(code=Code.GET, uri=uri)).response
                assert resp.code in (Code.BAD_REQUEST, Code.NOT_FOUND), (uri, resp.code)
                assert b"never" not in resp.payload
            finally:
                await ctx.shutdown()

    run(body)


def test_hook_holds_block_until_released(firmware_dir):
    async def body():
        async with running_server(firmware_dir) as server:
            held = asyncio.Event()
            release = asyncio.Event()

            async def hook(block):
                if block.direction == "block2" and block.num == 2:
                    held.set()
                    await release.wait()
                return BlockAction.SEND

            server.add_block_hook(hook)
            ctx = await aiocoap.Context.create_client_context()
            try:
                req = aiocoap.Message(code=Code.GET, uri=f"coap://127.0.0.1:{server.port}/fw/big.bin")
                req.opt.block2 = BlockOption.BlockwiseTuple(2, False, 6)
                pending = asyncio.ensure_future(ctx.request(req, handle_blockwise=False).response)
                await asyncio.wait_for(held.wait(), 5)
                assert not pending.done()
                assert not any(e.data["num"] == 2 for e in server.timeline.events("block2"))
                release.set()
                resp = await asyncio.wait_for(pending, 5)
                assert resp.opt.block2.block_number == 2
            finally:
                await ctx.shutdown()

    run(body)
