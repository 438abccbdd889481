"""Firmware blocks answered at aiocoap's message layer: one datagram in, one out, no task per request.

A firmware download is hundreds of identical GETs, and aiocoap spends most of
its time per request on machinery a block never needs: duplicate tracking with a
timer per message, a piggyback timer, a token-manager pipe, a task for the
resource and Site routing. For a plain GET of /fw/<name> (CON or NON, only
Uri-Path, Uri-Host/Port, Block2 and Size2 options), this answers from the same
FirmwareResource code (same ETag, Size2, Block2 and timeline events) straight
from `MessageManager.dispatch_message`: a piggybacked ACK (CON) or a NON.

Block hooks run here too, synchronously: almost every call returns at once (a
fault plan acts on one block of hundreds), and that block is answered at once.
A hook that waits (holds its block) or drops it hands the request to aiocoap's
ordinary path with the hooks' outcome still to come: deduplication, the empty
ACK while held, a task of its own so nobody else stalls, and the resource
awaiting that outcome instead of running the hooks twice. The device sees what
it saw before this existed.

Everything else takes aiocoap's ordinary path, unchanged: other resources and
methods, Observe or No-Response, and a message ID aiocoap is already handling
(its deduplication stays authoritative). A duplicate CON of a fast-path request
is simply answered again (GET is idempotent), with its hooks and "block2" event
again, as a fresh request would be.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Coroutine, Generator, TypeVar

import aiocoap
from aiocoap import Code
from aiocoap.messagemanager import MessageManager
from aiocoap.numbers import OptionNumber
from aiocoap.numbers.types import ACK, CON, NON

from rig.lwm2m.blocks import BlockAction
from rig.lwm2m.firmware_server import FirmwareResource

log = logging.getLogger("rig.lwm2m.fw")
T = TypeVar("T")

# The message-manager internals the fast path reads (aiocoap 0.4.17); checked once at install.
AIOCOAP_INTERNALS = ("_recent_messages", "_active_exchanges", "_next_message_id", "message_interface", "dispatch_message")
FAST_OPTIONS = frozenset(
    {OptionNumber.URI_PATH, OptionNumber.URI_HOST, OptionNumber.URI_PORT, OptionNumber.BLOCK2, OptionNumber.SIZE2}
)


class FastBlock2:
    """Serves Block2 GETs of `prefix`/<name> from `resource` for the message managers it is installed on."""

    def __init__(self, resource: FirmwareResource, prefix: str = "fw") -> None:
        self.resource = resource
        self.prefix = prefix
        self.answered = 0  # requests answered here (tests and benchmarks check the path was taken)
        self.held = 0  # blocks a hook held or dropped: handed to aiocoap's path once the hooks had run or started
        self._multicast: dict[object, bool] = {}  # local address info (pktinfo) -> sent to a multicast group?

    def install(self, mman: MessageManager) -> None:
        """Answer firmware blocks arriving through `mman` (once per manager); the rest goes to its own dispatch."""
        if getattr(mman, "_rig_fast_block2", None) is self:
            return
        if not all(hasattr(mman, name) for name in AIOCOAP_INTERNALS):
            # an aiocoap whose message manager changed shape: serve correctly along its own path, only slower
            log.warning("aiocoap %s lacks %s: firmware blocks take aiocoap's ordinary path", aiocoap.meta.version,
                        ", ".join(n for n in AIOCOAP_INTERNALS if not hasattr(mman, n)))
            return
        ordinary = mman.dispatch_message

        def dispatch_message(message: aiocoap.Message) -> None:
            if not self.answer(mman, message, ordinary):
                ordinary(message)

        mman.dispatch_message = dispatch_message  # type: ignore[method-assign]
        mman._rig_fast_block2 = self  # type: ignore[attr-defined]

    def install_on(self, context: aiocoap.Context) -> int:
        """Install on every UDP-style (message-managed) interface of `context`: coap, and coaps once attached."""
        count = 0
        for tman in context.request_interfaces:
            mman = getattr(tman, "token_interface", None)
            if isinstance(mman, MessageManager):
                self.install(mman)
                count += 1
        return count

    def answer(self, mman: MessageManager, message: aiocoap.Message, ordinary: Callable[[aiocoap.Message], None]) -> bool:
        """Handle `message` here and return True, or return False for aiocoap's ordinary path."""
        mtype = message.mtype
        if message.code != Code.GET or (mtype is not CON and mtype is not NON):
            return False
        if not message.opt._options.keys() <= FAST_OPTIONS:
            return False
        path = message.opt.uri_path
        if len(path) < 2 or path[0] != self.prefix:
            return False
        remote = message.remote
        recent = mman._recent_messages
        if recent is None or mman._active_exchanges is None or (remote, message.mid) in recent:
            return False  # shutting down, or aiocoap is already handling this message ID
        if self._to_multicast(remote):
            return False  # answered from another source address: aiocoap knows how
        segments = path[1:]
        if segments == ("",):  # as Site routing strips a trailing slash: "no file name"
            segments = ()
        resource = self.resource
        try:
            found = resource.locate(message, segments)
        except Exception:  # the ordinary path turns it into a 5.xx answer and logs it
            log.exception("fast Block2 path failed for %r; handing it to aiocoap", message)
            return False
        if isinstance(found, aiocoap.Message):
            response = found
        else:
            if resource.hooks.active:
                action, holding = run_until_held(resource.hooks.run(found.event()))
                if holding is None and action is BlockAction.DROP:
                    # aiocoap's path drops it as before (an empty ACK, then silence): the device must see no change
                    holding = asyncio.get_running_loop().create_future()
                    holding.set_result(action)
                if holding is not None:
                    resource.finish_held(message, found, holding)
                    self.held += 1
                    ordinary(message)
                    return True
            response = resource.block_response(message, found, record=False)
        response.token = message.token
        response.remote = remote
        if mtype is CON:
            response.mtype = ACK
            response.mid = message.mid
        else:
            response.mtype = NON
            response.mid = mman._next_message_id()
        mman.message_interface.send(response)
        self.answered += 1
        if not isinstance(found, aiocoap.Message):
            resource.served(found)  # after sending: the client's next request is on its way meanwhile
        return True

    def _to_multicast(self, remote: object) -> bool:
        """Whether the request was sent to a multicast group (udp6 parses the address anew for every message)."""
        local = getattr(remote, "pktinfo", None)
        if local is None:
            return bool(getattr(remote, "is_multicast_locally", False))
        known = self._multicast.get(local)
        if known is None:
            if len(self._multicast) >= 256:
                self._multicast.clear()
            known = self._multicast[local] = bool(remote.is_multicast_locally)
        return known


def run_until_held(coro: Coroutine[Any, Any, T]) -> tuple[T | None, Awaitable[T] | None]:
    """Run `coro` synchronously until it finishes or first waits: (its result, None) or (None, the rest of it).

    Block hooks almost always return at once (a plan acts on one block of hundreds): those cost no task.
    One that waits (holds its block) goes on in a task, from exactly where it stopped; an exception from
    its first step is raised by the awaitable, so the resource path reports it as before.
    """
    try:
        pending = coro.send(None)
    except StopIteration as stop:
        return stop.value, None
    except Exception as exc:
        failed: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        failed.set_exception(exc)
        return None, failed
    return None, asyncio.get_running_loop().create_task(_finish(coro, pending))


async def _finish(coro: Coroutine[Any, Any, T], pending: Any) -> T:
    return await _Resumed(coro, pending)


class _Resumed:
    """Awaiting this continues a coroutine that already yielded `pending` (what `yield from` does after a send)."""

    def __init__(self, coro: Coroutine[Any, Any, T], pending: Any) -> None:
        self._coro = coro
        self._pending = pending

    def __await__(self) -> Generator[Any, Any, T]:
        coro, pending = self._coro, self._pending
        while True:
            try:
                value = yield pending
            except BaseException as exc:  # cancellation included: the hook sees it where it waits
                try:
                    pending = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    pending = coro.send(value)
                except StopIteration as stop:
                    return stop.value
