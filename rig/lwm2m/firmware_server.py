"""`GET /fw/<name>`: block-wise (Block2) firmware download with ETag and Size2.

The resource does its own block slicing (no aiocoap re-rendering per block) so a
hook can hold block N exactly and serving stays cheap; every block served is a
timeline event, and the last one also a "transfer-done" event.

Serving cost is per request, not per byte (bench/serving_cost.py): the resource
answers straight from `render_to_pipe` (no block-wise assembly negotiation, no
method lookup), later blocks skip the path re-resolution (FirmwareStore), and
FirmwareSite routes a request to its resource without aiocoap's deep copy of
every option of every request. Plain block GETs do not even get that far:
rig.lwm2m.fast_block2 answers them from `locate` and `block_response` at the
message layer, and hands a block a hook holds to `finish_held`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Awaitable

import aiocoap
from aiocoap import Code
from aiocoap.numbers import ContentFormat, OptionNumber
from aiocoap.options import Options
from aiocoap.optiontypes import BlockOption
from aiocoap.pipe import Pipe
from aiocoap.resource import PathCapable, Resource, Site

from rig.lwm2m.blocks import BlockAction, BlockEvent, BlockHooks
from rig.lwm2m.firmware_files import BadFirmwareName, FirmwareFile, FirmwareStore
from rig.timeline import Timeline

log = logging.getLogger("rig.lwm2m.fw")

DEFAULT_SZX = 6  # 1024 bytes
MAX_SZX = 6  # 1024; BERT (7) is for CoAP over TCP only
MAX_PEERS_CACHED = 1024
MAX_FILES_CACHED = 64
MAX_BLOCK_OPTIONS_CACHED = 8192  # a 1 MiB file in 128-byte blocks


class FirmwareResource(Resource, PathCapable):
    def __init__(self, store: FirmwareStore, hooks: BlockHooks, timeline: Timeline) -> None:
        super().__init__()
        self.store = store
        self.hooks = hooks
        self.timeline = timeline
        self._peers: dict[object, str] = {}  # remote -> "host:port": formatting an address costs more than a block
        self._held: dict[tuple[object, int], tuple[ServedBlock, Awaitable[BlockAction]]] = {}
        self._fixed_options: dict[bytes, tuple] = {}  # ETag -> (file version, its Content-Format, ETag, Size2 options)

    def _peer(self, remote: object) -> str:
        peer = self._peers.get(remote)
        if peer is None:
            if len(self._peers) >= MAX_PEERS_CACHED:
                self._peers.clear()
            peer = self._peers[remote] = str(remote.hostinfo)
        return peer

    async def needs_blockwise_assembly(self, request: aiocoap.Message) -> bool:
        return False

    async def render_to_pipe(self, pipe: Pipe) -> None:
        request = pipe.request
        if request.code != Code.GET:
            response = aiocoap.Message(code=Code.METHOD_NOT_ALLOWED)
        else:
            response = await self.render_get(request)
        if request.opt.no_response is not None:
            response.opt.no_response = request.opt.no_response
        pipe.add_response(response, is_last=True)

    async def render_get(self, request: aiocoap.Message) -> aiocoap.Message:
        held = self._held.pop((request.remote, request.mid), None) if self._held else None
        if held is not None:  # the fast path located it and started its hooks, which are holding it
            found, pending = held
            action = await pending
        else:
            found = self.locate(request, request.opt.uri_path)
            if isinstance(found, aiocoap.Message):
                return found
            action = await self.hooks.run(found.event())
        if action is BlockAction.DROP:
            self.dropped(found)
            await asyncio.Event().wait()  # never answer: the client sees a lost connection
        return self.block_response(request, found)

    def finish_held(self, request: aiocoap.Message, block: "ServedBlock", action: "Awaitable[BlockAction]") -> None:
        """Let this resource finish a block whose hooks the fast path started and which are holding it.

        The request then takes aiocoap's ordinary path (deduplication, an empty ACK while held, a task of
        its own) and render_get awaits `action` instead of running the hooks a second time. Keyed by
        (remote, message ID): unique while aiocoap handles the message.
        """
        self._held[(request.remote, request.mid)] = (block, action)

    def dropped(self, block: "ServedBlock") -> None:
        self.timeline.append("block2-dropped", file=block.entry.name, num=block.num, offset=block.offset,
                             size=block.size, peer=block.peer)

    def locate(self, request: aiocoap.Message, segments: tuple[str, ...]) -> "aiocoap.Message | ServedBlock":
        """The block a GET of `segments` (the path below /fw) asks for, or the error answer (its event appended).

        Synchronous on purpose: rig.lwm2m.fast_block2 answers from here without a task per request.
        """
        peer = self._peer(request.remote)
        block2 = request.opt.block2
        try:
            entry = self.store.get(segments, recheck=block2 is None or block2.block_number == 0)
        except BadFirmwareName as exc:
            log.warning("refused firmware request from %s: %s", peer, exc)
            self.timeline.append("fw-refused", peer=peer, path="/".join(segments), reason=str(exc))
            return aiocoap.Message(code=Code.BAD_REQUEST, payload=str(exc).encode())
        if entry is None:
            self.timeline.append("fw-not-found", peer=peer, path="/".join(segments))
            return aiocoap.Message(code=Code.NOT_FOUND)

        szx = min(block2.size_exponent, MAX_SZX) if block2 is not None else DEFAULT_SZX
        num = block2.block_number if block2 is not None else 0
        size = 1 << (szx + 4)  # a BERT request (szx 7) is answered with 1024-byte blocks, same numbering
        offset = num * size
        total = len(entry.data)
        if offset > total or (offset == total and total > 0):
            return aiocoap.Message(code=Code.BAD_OPTION, payload=b"block number beyond end of file")
        return ServedBlock(entry, num, szx, size, offset, offset + size < total, block2 is not None, peer)

    def block_response(self, request: aiocoap.Message, block: "ServedBlock", record: bool = True) -> aiocoap.Message:
        """The 2.05 carrying `block`; appends its events unless `record` is False (the caller calls `served`).

        Options are built once per file version (ETag, Content-Format, Size2, and each block's Block2, which
        every download of that version asks for again): creating an option object costs more than slicing
        the block.
        """
        entry, num, offset, size = block.entry, block.num, block.offset, block.size
        total = len(entry.data)
        fixed = self._fixed_options.get(entry.etag)
        if fixed is None or fixed[0] is not entry:
            if len(self._fixed_options) >= MAX_FILES_CACHED:
                self._fixed_options.clear()
            fixed = self._fixed_options[entry.etag] = (
                entry,
                OptionNumber.CONTENT_FORMAT.create_option(value=ContentFormat.OCTETSTREAM),
                OptionNumber.ETAG.create_option(value=entry.etag),
                OptionNumber.SIZE2.create_option(value=total),
                {},  # (block number, size exponent) -> Block2 option: the next download of this version reuses them
            )
        _, content_format, etag, size2, block2s = fixed
        response = aiocoap.Message(code=Code.CONTENT, payload=entry.data[offset : offset + size])
        opt = response.opt
        opt.add_option(content_format)
        opt.add_option(etag)
        if block.asked_blockwise or total > size:
            block2 = block2s.get((num, block.szx))
            if block2 is None:
                if len(block2s) >= MAX_BLOCK_OPTIONS_CACHED:
                    block2s.clear()
                value = BlockOption.BlockwiseTuple(num, block.more, block.szx)
                block2 = block2s[(num, block.szx)] = OptionNumber.BLOCK2.create_option(value=value)
            opt.add_option(block2)
        if num == 0 or request.opt.size2 is not None:
            opt.add_option(size2)
        if record:
            self.served(block)
        return response

    def served(self, block: "ServedBlock") -> None:
        """The "block2" event (and "transfer-done" after the last block) of a block answered."""
        entry = block.entry
        total = len(entry.data)
        self.timeline.append("block2", file=entry.name, num=block.num, offset=block.offset, size=block.size,
                             total=total, more=block.more, peer=block.peer)
        if not block.more:
            self.timeline.append("transfer-done", direction="pull", file=entry.name, size=total, sha256=entry.sha256,
                                 peer=block.peer)


@dataclass(slots=True)
class ServedBlock:
    """One block of a firmware file, located and checked, not yet answered (hooks may hold or drop it)."""

    entry: FirmwareFile
    num: int
    szx: int
    size: int
    offset: int
    more: bool
    asked_blockwise: bool  # the request had a Block2 option
    peer: str

    def event(self) -> BlockEvent:
        return BlockEvent("block2", self.entry.name, self.num, self.offset, self.size, len(self.entry.data),
                          self.more, self.peer)


class FirmwareSite(Site):
    """aiocoap's Site with routing that copies a request shallowly.

    Site deep-copies every option of every request to strip the resource's
    path (and renders the request URI eagerly): a third of the cost of serving
    a firmware block. Here the copy shares the option objects (which nothing
    mutates; only the Uri-Path entry is replaced) and the URI is computed only
    when someone asks for it.
    """

    def _find_child_and_pathstripped_message(self, request: aiocoap.Message):
        path = request.opt.uri_path
        if path in self._resources:
            return self._resources[path], _stripped(request, ())
        if not path:
            raise KeyError()
        for cut in range(len(path) - 1, 0, -1):
            res = self._subsites.get(path[:cut])
            if res is not None:
                remainder = path[cut:]
                return res, _stripped(request, () if remainder == ("",) else remainder)
        raise KeyError()


class _StrippedRequest(aiocoap.Message):
    """A routed request whose original URI is computed from the unstripped request on demand."""

    _unstripped: aiocoap.Message | None = None  # None on a copy() of this request (Message.copy builds a new one)

    def get_request_uri(self, *args, **kwargs) -> str:
        if self._unstripped is None:
            return super().get_request_uri(*args, **kwargs)
        return self._unstripped.get_request_uri(*args, **kwargs)


def _stripped(request: aiocoap.Message, uri_path: tuple[str, ...]) -> aiocoap.Message:
    new = _StrippedRequest.__new__(_StrippedRequest)
    new.__dict__.update(request.__dict__)
    opt = Options()
    opt._options = dict(request.opt._options)  # values are lists replaced (not mutated) by the setters
    opt.uri_path = uri_path
    new.opt = opt
    new._unstripped = getattr(request, "_unstripped", request)
    return new
