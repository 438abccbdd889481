"""Device-management requests towards registered clients: Read, Write, Execute,
Write-Attributes, Discover, Observe.

Requests go from the server's own socket to the address the client last
registered from (its DTLS session over coaps), as the spec requires; every
request and answer is a timeline event.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiocoap
from aiocoap import Code

from rig.lwm2m.codecs import CodecError, decode, encode, parse_path
from rig.lwm2m.dm_response import DmResponse
from rig.lwm2m.endpoints import Registration
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
        observation = self._request.observation
        if observation is not None and not observation.cancelled:
            observation.cancel()
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
    def __init__(self, context: aiocoap.Context, timeline: Timeline, request_timeout: float = 30.0) -> None:
        self.context = context
        self.timeline = timeline
        self.request_timeout = request_timeout
        self.observations: list[Observation] = []

    def _message(self, reg: Registration, code: Code, path: str, **options: Any) -> aiocoap.Message:
        msg = aiocoap.Message(code=code, uri_path=_segments(path) if path != "/" else (), **options)
        msg.remote = reg.remote
        return msg

    async def _send(self, reg: Registration, op: str, path: str, msg: aiocoap.Message, value: Any = None) -> DmResponse:
        sent = self.timeline.now()
        try:
            response = await asyncio.wait_for(self.context.request(msg).response, self.request_timeout)
        except (aiocoap.error.Error, asyncio.TimeoutError, OSError) as exc:
            reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
            self.timeline.append("request", endpoint=reg.endpoint, op=op, path=path, code=None, error=reason, sent=sent, value=value)
            return DmResponse(op, path, None, error=reason)
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
            sent=sent,
            value=value,
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
        request = self.context.request(msg)
        first = await self._first(reg, path, request)
        task = asyncio.get_running_loop().create_task(self._follow(reg, path, request))
        obs = Observation(reg.endpoint, path, request, task)
        self.observations.append(obs)
        return first, obs

    async def _first(self, reg: Registration, path: str, request: Any) -> DmResponse:
        try:
            response = await asyncio.wait_for(request.response, self.request_timeout)
        except (aiocoap.error.Error, asyncio.TimeoutError, OSError) as exc:
            self.timeline.append("request", endpoint=reg.endpoint, op="observe", path=path, code=None, error=str(exc))
            return DmResponse("observe", path, None, error=str(exc))
        return self._notification(reg, path, response, first=True)

    def _notification(self, reg: Registration, path: str, response: aiocoap.Message, first: bool = False) -> DmResponse:
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
        )
        return result

    async def _follow(self, reg: Registration, path: str, request: Any) -> None:
        if request.observation is None:
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


def _jsonable(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, tuple):
        return list(value)
    return value
