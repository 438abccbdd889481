"""Bounded Block1 bodies: a client may send a POST body block-wise, but never without limit.

aiocoap's own spool grows a body for as long as a peer keeps sending blocks and
holds any number of them; a hostile or broken client would eat the rig's memory.
The registration interface and Send (/dp) assemble their bodies here instead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import aiocoap
from aiocoap import Code
from aiocoap.optiontypes import BlockOption
from aiocoap.resource import Resource

MAX_BODY = 32 * 1024  # a link list of ~2500 object instances; the table keeps each body, so it is bounded
MAX_ASSEMBLIES = 64  # Block1 bodies being assembled at once, across all peers
ASSEMBLY_TIMEOUT = 93.0  # RFC 7252 MAX_TRANSMIT_WAIT: a body not continued for this long is dropped


@dataclass
class _Assembly:
    body: bytearray
    expires: float


class Block1Bodies:
    """Bounded Block1 reassembly of Register/Update bodies.

    aiocoap's own spool grows a body for as long as a peer keeps sending blocks
    and holds any number of them: a Block1 that never ends would eat the rig's
    memory. Here a body is at most `max_body` bytes (4.13 beyond), at most
    `max_assemblies` are open (the oldest is dropped for a new one), and one not
    continued within `timeout` seconds is forgotten.
    """

    def __init__(self, max_body: int = MAX_BODY, max_assemblies: int = MAX_ASSEMBLIES,
                 timeout: float = ASSEMBLY_TIMEOUT, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_body = max_body
        self.max_assemblies = max_assemblies
        self.timeout = timeout
        self._clock = clock
        self._open: dict[tuple, _Assembly] = {}

    def __len__(self) -> int:
        return len(self._open)

    def _too_large(self) -> aiocoap.Message:
        answer = aiocoap.Message(code=Code.REQUEST_ENTITY_TOO_LARGE, payload=f"body larger than {self.max_body} bytes".encode())
        answer.opt.size1 = self.max_body
        return answer

    def feed(self, request: aiocoap.Message) -> bytes | aiocoap.Message:
        """The whole body once its last block is in, or the answer to send now (2.31, 4.00, 4.08, 4.13)."""
        block1 = request.opt.block1
        if block1 is None:
            return bytes(request.payload) if len(request.payload) <= self.max_body else self._too_large()
        now = self._clock()
        for key in [k for k, a in self._open.items() if a.expires < now]:
            del self._open[key]
        key = (request.remote, request.code, tuple(request.opt.uri_path), tuple(request.opt.uri_query))
        size = 1 << (min(block1.size_exponent, 6) + 4)
        if block1.more and len(request.payload) != size:
            self._open.pop(key, None)
            return aiocoap.Message(code=Code.BAD_REQUEST, payload=b"Block1 with more=1 must carry a whole block")
        if block1.block_number == 0:
            self._open.pop(key, None)
            if len(self._open) >= self.max_assemblies:
                del self._open[next(iter(self._open))]
            assembly = self._open[key] = _Assembly(bytearray(), now + self.timeout)
        else:
            assembly = self._open.get(key)
            if assembly is None or len(assembly.body) != block1.block_number * size:
                return aiocoap.Message(code=Code.REQUEST_ENTITY_INCOMPLETE, payload=b"Block1 out of sequence")
        assembly.body += request.payload
        assembly.expires = now + self.timeout
        if len(assembly.body) > self.max_body:
            del self._open[key]
            return self._too_large()
        if block1.more:
            answer = aiocoap.Message(code=Code.CONTINUE)
            answer.opt.block1 = BlockOption.BlockwiseTuple(block1.block_number, True, block1.size_exponent)
            return answer
        del self._open[key]
        return bytes(assembly.body)


class BoundedBodyResource(Resource):
    """A resource whose POST body is assembled by Block1Bodies instead of aiocoap's unbounded spool."""

    def __init__(self, bodies: Block1Bodies | None = None) -> None:
        super().__init__()
        self._bodies = bodies or Block1Bodies()

    async def needs_blockwise_assembly(self, request: aiocoap.Message) -> bool:
        return False

    async def _with_body(self, request: aiocoap.Message, handle: Callable) -> aiocoap.Message:
        body = self._bodies.feed(request)
        if isinstance(body, aiocoap.Message):
            return body
        block1 = request.opt.block1
        if block1 is not None:
            request = request.copy(payload=body)
            request.opt.block1 = None
        response = await handle(request)
        if block1 is not None:
            response.opt.block1 = block1
        return response
