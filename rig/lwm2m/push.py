"""Push a firmware package to /5/0/0 with Block1, one block at a time.

Blocks are sent one by one (not through aiocoap's block-wise helper) so that each
is a timeline event, a hook can hold or drop block N, and a smaller block size
the device asks for in its 2.31 answers is honoured. Whatever the device answers
(2.04, 4.13, 4.00, silence) is its outcome, recorded, never a rig failure. To a
queue-mode device each block waits for its turn while the device is awake
(rig.lwm2m.held_requests); its timeout counts from sending.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiocoap
from aiocoap import Code
from aiocoap.numbers import ContentFormat
from aiocoap.optiontypes import BlockOption

from rig.lwm2m.blocks import BlockAction, BlockEvent, BlockHooks
from rig.lwm2m.endpoints import Registration
from rig.lwm2m.held_requests import HeldRequestExpired, HeldRequests
from rig.lwm2m.object5 import PACKAGE_PATH
from rig.timeline import Timeline

SIZES = {16: 0, 32: 1, 64: 2, 128: 3, 256: 4, 512: 5, 1024: 6}


@dataclass
class PushResult:
    code: str | None  # final answer of the device, e.g. "2.04", "4.13"; None if it never answered
    completed: bool
    blocks_sent: int
    bytes_acked: int
    block_size: int
    error: str | None = None


def size_exponent(block_size: int) -> int:
    try:
        return SIZES[block_size]
    except KeyError:
        raise ValueError(f"block size {block_size} is not one of {sorted(SIZES)}") from None


async def push_package(
    context: aiocoap.Context,
    reg: Registration,
    data: bytes,
    *,
    path: tuple[str, ...] = ("5", "0", "0"),
    block_size: int = 1024,
    hooks: BlockHooks | None = None,
    timeline: Timeline,
    request_timeout: float = 60.0,
    held: HeldRequests | None = None,
) -> PushResult:
    szx = size_exponent(block_size)
    offset = 0
    sent = 0
    resource = "/" + "/".join(path)
    total = len(data)
    timeline.append("push-start", endpoint=reg.endpoint, path=resource, size=total, block_size=block_size)
    while True:
        size = 1 << (szx + 4)
        if offset % size:
            why = f"offset {offset} not a multiple of block size {size}"
            return _finish(timeline, reg, PushResult(None, False, sent, offset, size, why))
        num = offset // size
        chunk = data[offset : offset + size]
        more = offset + len(chunk) < total
        event = BlockEvent("block1", resource, num, offset, size, total, more, str(reg.peer), reg.endpoint)
        if hooks is not None and await hooks.run(event) is BlockAction.DROP:
            timeline.append("block1-dropped", endpoint=reg.endpoint, num=num, offset=offset, size=size)
            return _finish(timeline, reg, PushResult(None, False, sent, offset, size, "block dropped by fault plan"))
        msg = aiocoap.Message(code=Code.PUT, uri_path=path, payload=chunk, content_format=ContentFormat.OCTETSTREAM)
        msg.opt.block1 = BlockOption.BlockwiseTuple(num, more, szx)
        if num == 0:
            msg.opt.size1 = total
        try:
            response = await _send_block(context, reg, msg, timeline, held, request_timeout,
                                         dict(num=num, offset=offset, size=size, total=total, more=more))
        except (aiocoap.error.Error, asyncio.TimeoutError, OSError, HeldRequestExpired) as exc:
            tried = sent if isinstance(exc, HeldRequestExpired) else sent + 1
            return _finish(timeline, reg, PushResult(None, False, tried, offset, size, f"{type(exc).__name__}: {exc}"))
        sent += 1
        code = response.code.dotted
        if response.code == Code.CONTINUE and more:
            offset += len(chunk)
            answered = response.opt.block1
            if answered is not None and answered.size_exponent < szx:
                szx = answered.size_exponent
            continue
        if not response.code.is_successful():
            return _finish(timeline, reg, PushResult(code, False, sent, offset, size))
        if more:
            # Success before the last block: the device gave up on block-wise; record it.
            why = "device answered success before the last block"
            return _finish(timeline, reg, PushResult(code, False, sent, offset + len(chunk), size, why))
        return _finish(timeline, reg, PushResult(code, True, sent, total, size))


async def _send_block(context: aiocoap.Context, reg: Registration, msg: aiocoap.Message, timeline: Timeline,
                      held: HeldRequests | None, timeout: float, block: dict) -> aiocoap.Message:
    """One block out (when a queue-mode device is awake and it is this block's turn); its answer."""
    if held is None:
        msg.remote = reg.remote
        timeline.append("block1", endpoint=reg.endpoint, peer=reg.peer, **block)
        return await asyncio.wait_for(context.request(msg, handle_blockwise=False).response, timeout)
    ticket = held.ticket(reg.endpoint, "write", PACKAGE_PATH)
    async with held.turn(ticket) as current:
        msg.remote = current.remote
        timeline.append("block1", endpoint=reg.endpoint, peer=current.peer, **block)
        answer = await asyncio.wait_for(context.request(msg, handle_blockwise=False).response, timeout)
        held.presence.heard(reg.endpoint, "block answer")  # each answer keeps a queue-mode device awake
        return answer


def _finish(timeline: Timeline, reg: Registration, result: PushResult) -> PushResult:
    timeline.append(
        "transfer-done" if result.completed else "push-ended",
        direction="push",
        endpoint=reg.endpoint,
        code=result.code,
        completed=result.completed,
        blocks=result.blocks_sent,
        bytes=result.bytes_acked,
        error=result.error,
    )
    return result
