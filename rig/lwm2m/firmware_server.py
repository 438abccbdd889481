"""`GET /fw/<name>`: block-wise (Block2) firmware download with ETag and Size2.

The resource does its own block slicing (no aiocoap re-rendering per block) so a
hook can hold block N exactly and serving stays cheap; every block served is a
timeline event, and the last one also a "transfer-done" event.
"""

from __future__ import annotations

import asyncio
import logging

import aiocoap
from aiocoap import Code
from aiocoap.numbers import ContentFormat
from aiocoap.optiontypes import BlockOption
from aiocoap.resource import PathCapable, Resource

from rig.lwm2m.blocks import BlockAction, BlockEvent, BlockHooks
from rig.lwm2m.firmware_files import BadFirmwareName, FirmwareStore
from rig.timeline import Timeline

log = logging.getLogger("rig.lwm2m.fw")

DEFAULT_SZX = 6  # 1024 bytes
MAX_SZX = 6  # 1024; BERT (7) is for CoAP over TCP only


class FirmwareResource(Resource, PathCapable):
    def __init__(self, store: FirmwareStore, hooks: BlockHooks, timeline: Timeline) -> None:
        super().__init__()
        self.store = store
        self.hooks = hooks
        self.timeline = timeline

    async def needs_blockwise_assembly(self, request: aiocoap.Message) -> bool:
        return False

    async def render_get(self, request: aiocoap.Message) -> aiocoap.Message:
        peer = str(request.remote.hostinfo)
        try:
            entry = self.store.get(request.opt.uri_path)
        except BadFirmwareName as exc:
            log.warning("refused firmware request from %s: %s", peer, exc)
            self.timeline.append("fw-refused", peer=peer, path="/".join(request.opt.uri_path), reason=str(exc))
            return aiocoap.Message(code=Code.BAD_REQUEST, payload=str(exc).encode())
        if entry is None:
            self.timeline.append("fw-not-found", peer=peer, path="/".join(request.opt.uri_path))
            return aiocoap.Message(code=Code.NOT_FOUND)

        block2 = request.opt.block2
        szx = min(block2.size_exponent, MAX_SZX) if block2 is not None else DEFAULT_SZX
        num = block2.block_number if block2 is not None else 0
        size = 1 << (szx + 4)  # a BERT request (szx 7) is answered with 1024-byte blocks, same numbering
        offset = num * size
        total = len(entry.data)
        if offset > total or (offset == total and total > 0):
            return aiocoap.Message(code=Code.BAD_OPTION, payload=b"block number beyond end of file")
        chunk = entry.data[offset : offset + size]
        more = offset + len(chunk) < total
        event = BlockEvent("block2", entry.name, num, offset, size, total, more, peer)
        if await self.hooks.run(event) is BlockAction.DROP:
            self.timeline.append("block2-dropped", file=entry.name, num=num, offset=offset, size=size, peer=peer)
            await asyncio.Event().wait()  # never answer: the client sees a lost connection
        response = aiocoap.Message(code=Code.CONTENT, payload=chunk, content_format=ContentFormat.OCTETSTREAM)
        response.opt.etag = entry.etag
        if block2 is not None or total > size:
            response.opt.block2 = BlockOption.BlockwiseTuple(num, more, szx)
        if num == 0 or request.opt.size2 is not None:
            response.opt.size2 = total
        self.timeline.append(
            "block2", file=entry.name, num=num, offset=offset, size=size, total=total, more=more, peer=peer
        )
        if not more:
            self.timeline.append("transfer-done", direction="pull", file=entry.name, size=total, sha256=entry.sha256, peer=peer)
        return response
