"""Device-management requests towards registered clients: Read, Write, Execute,
Write-Attributes, Discover, Observe.

Requests go from the server's own socket to the address the client last
registered from (its DTLS session over coaps), as the spec requires; every
request and answer is a timeline event. A client in queue mode gets them one at
a time when it is awake (rig.lwm2m.held_requests): the registration is looked up
when the request goes out, and its timeout counts from then.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import aiocoap
from aiocoap import Code

from rig.lwm2m.codecs import CodecError, decode, encode, parse_path
from rig.lwm2m.coap_exchanges import abandon_exchanges
from rig.lwm2m.dm_response import DmResponse
from rig.lwm2m.endpoints import Registration
from rig.lwm2m.held_requests import HeldRequestExpired, HeldRequests, Ticket
from rig.lwm2m.observe_release import release, single_resource
from rig.timeline import Timeline

log = logging.getLogger("rig.lwm2m.dm")

CF_TEXT = 0
CF_LINK = 40
CF_OPAQUE = 42
CF_TLV = 11542
CF_SENML_JSON = 110
CF_SENML_CBOR = 112


def _segments(path: str) -> tuple[str, ...]:
    return tuple(str(p) for p in parse_path(path))


class Observation:
    """A running Observe; `cancel()` stops it (the next notification is answered with RST)."""

    def __init__(self, endpoint: str, path: str, request: Any, task: asyncio.Task) -> None:
        self.endpoint = endpoint
        self.path = path
        self._request = request
        self._task = task
        self._cancelled = False

    def cancel(self) -> None:
        """Idempotent: cancelling twice (e.g. by the test and again at server stop) is harmless."""
        if self._cancelled:
            return
        self._cancelled = True
        observation = self._request.observation if self._request is not None else None
        if observation is not None and not observation.cancelled:
            observation.cancel()
            release(self._request)  # no notification may ever come again (a power cut): free it now
        self._task.cancel()

    async def closed(self) -> None:
        """Wait until the follower task has ended (after `cancel()` or when the device ends it)."""
        try:
            await self._task
        except asyncio.CancelledError:
            pass

    @property
    def running(self) -> bool:
        return not self._task.done()


class DeviceManagement:
    def __init__(self, context: aiocoap.Context, timeline: Timeline, request_timeout: float = 30.0,
                 held: HeldRequests | None = None) -> None:
        self.context = context
        self.timeline = timeline
        self.request_timeout = request_timeout
        self.held = held
        self.observations: list[Observation] = []

    def _message(self, reg: Registration, code: Code, path: str, **options: Any) -> aiocoap.Message:
        """The request without its destination: `_exchange` addresses it when it goes out."""
        return aiocoap.Message(code=code, uri_path=_segments(path) if path != "/" else (), **options)

    async def _exchange(self, reg: Registration, op: str, path: str, msg: aiocoap.Message,
                        blockwise: bool = True, done: "_Exchange | None" = None) -> "_Exchange":
        """Send `msg` (held first for a queue-mode endpoint) and wait for its answer, the timeout counted from
        sending; an unanswered one is sent again at the device's next wake-up. `blockwise` False: a plain aiocoap
        request (an observed single resource, rig.lwm2m.observe_release)."""
        done = done or _Exchange()
        if self.held is None:
            return await self._once(done, msg, reg.remote, blockwise)
        ticket = done.ticket = self.held.ticket(reg.endpoint, op, path)
        again = False
        while True:
            try:
                async with self.held.turn(ticket, again) as current:
                    await self._once(done, msg, current.remote, blockwise)
                    if done.answer is not None or not self.held.requeue(ticket, done.error or "no answer"):
                        return done
                    _cancel(done.request)
                    abandon_exchanges(self.context, current.remote)  # its retransmissions must not block the retry
            except HeldRequestExpired as exc:
                done.error = str(exc)
                return done
            again = True

    async def _once(self, done: "_Exchange", msg: aiocoap.Message, remote: Any, blockwise: bool = True) -> "_Exchange":
        done.sent = self.timeline.now()
        done.request = self.context.request(_addressed(msg, remote), handle_blockwise=blockwise)
        try:
            done.answer, done.error = await asyncio.wait_for(done.request.response, self.request_timeout), None
        except (aiocoap.error.Error, asyncio.TimeoutError, OSError) as exc:
            done.answer, done.error = None, f"{type(exc).__name__}: {exc}".rstrip(": ")
        return done

    async def _send(self, reg: Registration, op: str, path: str, msg: aiocoap.Message, value: Any = None) -> DmResponse:
        done = _Exchange()
        try:
            await self._exchange(reg, op, path, msg, done=done)
        except asyncio.CancelledError:
            # The rig stopped waiting (a power cut ended the update under way): a request that went out may have
            # been acted on, so the verdict must see it, unanswered, or an Execute the device obeyed looks absent.
            if done.sent is not None:
                self.timeline.append("request", endpoint=reg.endpoint, op=op, path=path, code=None,
                                     error="no answer: the rig stopped waiting", sent=done.sent, value=value,
                                     **done.queued())
            raise
        response, queued = done.answer, done.queued()
        if response is None:
            self.timeline.append("request", endpoint=reg.endpoint, op=op, path=path, code=None, error=done.error,
                                 sent=done.sent, value=value, **queued)
            return DmResponse(op, path, None, error=done.error)
        result = DmResponse(op, path, response.code, payload=bytes(response.payload), content_format=response.opt.content_format)
        if response.code.is_successful() and response.payload and op in ("read", "observe"):
            try:
                result.values = decode(response.opt.content_format, bytes(response.payload), parse_path(path))
            except CodecError as exc:
                result.error = f"undecodable answer: {exc}"
                log.warning("%s %s %s: %s", reg.endpoint, op, path, result.error)
        self.timeline.append(
            "request",
            endpoint=reg.endpoint,
            op=op,
            path=path,
            code=result.code_text,
            values={"/".join(map(str, k)): _jsonable(v) for k, v in result.values.items()},
            error=result.error,
            sent=done.sent,
            value=value,
            **queued,
        )
        return result

    async def read(self, reg: Registration, path: str, accept: int | None = None) -> DmResponse:
        msg = self._message(reg, Code.GET, path)
        if accept is not None:
            msg.opt.accept = accept
        return await self._send(reg, "read", path, msg)

    async def discover(self, reg: Registration, path: str) -> DmResponse:
        msg = self._message(reg, Code.GET, path)
        msg.opt.accept = CF_LINK
        return await self._send(reg, "discover", path, msg)

    async def write(
        self, reg: Registration, path: str, value: Any, *, partial: bool = False, content_format: int | None = None
    ) -> DmResponse:
        parsed = parse_path(path)
        if content_format is None:
            if isinstance(value, (bytes, bytearray)) and len(parsed) >= 3:
                content_format = CF_OPAQUE
            elif len(parsed) >= 3 and not isinstance(value, dict):
                content_format = CF_TEXT
            else:
                content_format = CF_TLV
        values = value if isinstance(value, dict) else {parsed: value}
        payload = bytes(value) if content_format == CF_OPAQUE else encode(content_format, values, parsed)
        msg = self._message(reg, Code.POST if partial else Code.PUT, path, payload=payload)
        msg.opt.content_format = content_format
        shown = _jsonable(value) if not isinstance(value, (bytes, bytearray)) or len(value) <= 16 else f"<{len(value)} bytes>"
        return await self._send(reg, "write", path, msg, shown)

    async def write_text(self, reg: Registration, path: str, text: str) -> DmResponse:
        """A Write whose text/plain payload is exactly `text`, unchecked: how a conformance case
        sends a value the resource's type forbids (a negative Unsigned Integer) to see it refused."""
        msg = self._message(reg, Code.PUT, path, payload=text.encode("utf-8"))
        msg.opt.content_format = CF_TEXT
        return await self._send(reg, "write", path, msg, text)

    async def execute(self, reg: Registration, path: str, args: str = "") -> DmResponse:
        msg = self._message(reg, Code.POST, path, payload=args.encode())
        if args:
            msg.opt.content_format = CF_TEXT
        return await self._send(reg, "execute", path, msg)

    async def write_attributes(self, reg: Registration, path: str, **attributes: float | int | None) -> DmResponse:
        query = tuple(f"{k}={v}" if v is not None else k for k, v in attributes.items())
        msg = self._message(reg, Code.PUT, path, uri_query=query)
        return await self._send(reg, "write-attributes", path, msg)

    async def observe(self, reg: Registration, path: str, accept: int | None = None) -> tuple[DmResponse, Observation]:
        msg = self._message(reg, Code.GET, path, observe=0)
        if accept is not None:
            msg.opt.accept = accept
        done = await self._exchange(reg, "observe", path, msg, blockwise=not single_resource(_segments(path)))
        if done.answer is None:
            self.timeline.append("request", endpoint=reg.endpoint, op="observe", path=path, code=None, error=done.error,
                                 **done.queued())
            first = DmResponse("observe", path, None, error=done.error)
        else:
            first = self._notification(reg, path, done.answer, first=True, **done.queued())
        task = asyncio.get_running_loop().create_task(self._follow(reg, path, done.request))
        obs = Observation(reg.endpoint, path, done.request, task)
        self.observations.append(obs)
        return first, obs

    def _notification(self, reg: Registration, path: str, response: aiocoap.Message, first: bool = False,
                      **queued: Any) -> DmResponse:
        result = DmResponse("observe", path, response.code, payload=bytes(response.payload), content_format=response.opt.content_format)
        if response.code.is_successful() and response.payload:
            try:
                result.values = decode(response.opt.content_format, bytes(response.payload), parse_path(path))
            except CodecError as exc:
                result.error = f"undecodable notification: {exc}"
        self.timeline.append(
            "notify",
            endpoint=reg.endpoint,
            path=path,
            code=result.code_text,
            first=first,
            values={"/".join(map(str, k)): _jsonable(v) for k, v in result.values.items()},
            error=result.error,
            **queued,
        )
        return result

    async def _follow(self, reg: Registration, path: str, request: Any) -> None:
        if request is None or request.observation is None:
            return
        try:
            async for response in request.observation:
                self._notification(reg, path, response)
        except aiocoap.error.Error as exc:
            self.timeline.append("observe-ended", endpoint=reg.endpoint, path=path, reason=str(exc))

    def cancel_all(self) -> None:
        for obs in self.observations:
            obs.cancel()
        self.observations.clear()


@dataclass
class _Exchange:
    """One request's way out: the aiocoap request, its answer or error, when it was (last) sent, its ticket."""

    request: Any = None
    answer: aiocoap.Message | None = None
    error: str | None = None
    sent: float | None = None
    ticket: Ticket | None = None

    def queued(self) -> dict[str, Any]:
        """What an event says about holding: seconds held and sends made, only when it was held or sent again."""
        t = self.ticket
        if t is None or (t.attempts <= 1 and not t.was_held):
            return {}
        return {"held": round(t.held_for, 3), "attempts": t.attempts}


def _addressed(msg: aiocoap.Message, remote: Any) -> aiocoap.Message:
    """A fresh copy of `msg` for one send (a retry must not reuse the message id or token of the last one)."""
    out = msg.copy()
    out.remote = remote
    return out


def _cancel(request: Any) -> None:
    """Stop an unanswered request (and its observation) before it is sent again."""
    observation = getattr(request, "observation", None)
    if observation is not None and not observation.cancelled:
        observation.cancel()
    response = getattr(request, "response", None)
    if response is not None and not response.done():
        response.cancel()


def _jsonable(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, tuple):
        return list(value)
    return value
