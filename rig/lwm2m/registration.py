"""The LwM2M registration interface (`/rd`): Register, Update, De-register, lifetime expiry.

Every accepted or refused request becomes a timeline event and a log line that
names the problem, so a client that cannot register is diagnosable from the
report alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Callable

import aiocoap
from aiocoap import Code
from aiocoap.numbers import ContentFormat
from aiocoap.optiontypes import BlockOption
from aiocoap.resource import PathCapable, Resource

from rig.lwm2m.codecs import CodecError, parse_registration_links
from rig.lwm2m.endpoints import EndpointTable, EndpointTableFull, Registration
from rig.lwm2m.registration_query import DEFAULT_LIFETIME, RegistrationQueryError, parse_query
from rig.timeline import Timeline

log = logging.getLogger("rig.lwm2m.rd")

# Identity check for coaps registrations: returns the endpoint an identity may register as.
IdentityToEndpoint = Callable[[bytes], "str | None"]

MAX_BODY = 32 * 1024  # a link list of ~2500 object instances; the table keeps each body, so it is bounded
MAX_ASSEMBLIES = 64  # Block1 bodies being assembled at once, across all peers
ASSEMBLY_TIMEOUT = 93.0  # RFC 7252 MAX_TRANSMIT_WAIT: a body not continued for this long is dropped


class RefusalLog:
    """Refusals as timeline events and log lines, at most `per_second` a second.

    A flood of bad or surplus registrations must not grow the timeline (kept in
    memory for the report) or the log without bound; the refusals past the rate
    are counted and the next one recorded says how many were left out.
    """

    def __init__(self, timeline: Timeline, per_second: float = 20.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.timeline = timeline
        self._interval = 1.0 / per_second
        self._clock = clock
        self._next = 0.0
        self.suppressed = 0

    def refuse(self, kind: str, **data: object) -> None:
        now = self._clock()
        if now < self._next:
            self.suppressed += 1
            return
        self._next = now + self._interval
        if self.suppressed:
            data["suppressed"] = self.suppressed
            self.suppressed = 0
        log.warning("%s from %s: %s", kind, data.get("peer"), data.get("reason"))
        self.timeline.append(kind, **data)


def _bad_request(reason: str, peer: str, refusals: RefusalLog) -> aiocoap.Message:
    refusals.refuse("register-refused", peer=peer, reason=reason)
    return aiocoap.Message(code=Code.BAD_REQUEST, payload=reason.encode()[:200])


class RegistrationRegistry:
    """Owns the endpoint table and the expiry timers; the two resources below are its CoAP faces."""

    def __init__(
        self,
        timeline: Timeline,
        identity_to_endpoint: IdentityToEndpoint | None = None,
        max_endpoints: int = 1024,
    ) -> None:
        self.timeline = timeline
        self.refusals = RefusalLog(timeline)
        self.table = EndpointTable(max_endpoints=max_endpoints)
        self._identity_to_endpoint = identity_to_endpoint
        self._expiry: dict[str, asyncio.TimerHandle] = {}
        self.changed = asyncio.Condition()

    def _schedule_expiry(self, reg: Registration) -> None:
        old = self._expiry.pop(reg.location, None)
        if old is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        self._expiry[reg.location] = loop.call_later(reg.lifetime, self._expire, reg.location)

    def _expire(self, location: str) -> None:
        self._expiry.pop(location, None)
        reg = self.table.by_location(location)
        if reg is None:
            return
        if time.monotonic() < reg.updated_at + reg.lifetime:
            self._schedule_expiry(reg)
            return
        self.table.remove(location)
        log.info("registration of %s expired (lifetime %d s)", reg.endpoint, reg.lifetime)
        self.timeline.append("expire", endpoint=reg.endpoint, location=location)

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    def close(self) -> None:
        for handle in self._expiry.values():
            handle.cancel()
        self._expiry.clear()

    def _identity_problem(self, remote: object, endpoint: str) -> str | None:
        identity = getattr(remote, "psk_identity", None)
        if identity is None or self._identity_to_endpoint is None:
            return None
        allowed = self._identity_to_endpoint(identity)
        if allowed != endpoint:
            return f"PSK identity {identity!r} may not register as endpoint {endpoint!r}"
        return None

    async def register(self, request: aiocoap.Message) -> aiocoap.Message:
        peer = str(request.remote.hostinfo)
        try:
            params = parse_query(request.opt.uri_query, register=True)
        except RegistrationQueryError as exc:
            return _bad_request(str(exc), peer, self.refusals)
        assert params.endpoint is not None
        problem = self._identity_problem(request.remote, params.endpoint)
        if problem:
            self.refusals.refuse("register-refused", peer=peer, endpoint=params.endpoint, reason=problem)
            return aiocoap.Message(code=Code.FORBIDDEN)
        if request.opt.content_format not in (None, ContentFormat.LINKFORMAT):
            return _bad_request(f"registration body has content format {request.opt.content_format}, expected 40", peer, self.refusals)
        try:
            links = parse_registration_links(request.payload)
        except CodecError as exc:
            return _bad_request(f"link-format body: {exc}", peer, self.refusals)
        reg = Registration(
            endpoint=params.endpoint,
            location=self.table.new_location(),
            remote=request.remote,
            lifetime=params.lifetime or DEFAULT_LIFETIME,
            lwm2m_version=params.lwm2m_version or "1.0",
            binding=params.binding or "U",
            objects={oid: info.version for oid, info in links.objects.items()},
            instances={oid: set(info.instances) for oid, info in links.objects.items()},
            links=bytes(request.payload),
            psk_identity=getattr(request.remote, "psk_identity", None),
        )
        try:
            old = self.table.add(reg)
        except EndpointTableFull as exc:
            self.refusals.refuse("register-refused", peer=peer, endpoint=params.endpoint, reason=str(exc))
            return aiocoap.Message(code=Code.SERVICE_UNAVAILABLE)
        if old is not None:
            timer = self._expiry.pop(old.location, None)
            if timer:
                timer.cancel()
        self._schedule_expiry(reg)
        self.timeline.append(
            "register",
            endpoint=reg.endpoint,
            location=reg.location,
            peer=peer,
            lwm2m=reg.lwm2m_version,
            lifetime=reg.lifetime,
            objects={str(k): v for k, v in sorted(reg.objects.items())},
            replaced=old is not None,
        )
        await self._notify()
        return aiocoap.Message(code=Code.CREATED, location_path=("rd", reg.location))

    async def update(self, location: str, request: aiocoap.Message) -> aiocoap.Message:
        peer = str(request.remote.hostinfo)
        reg = self.table.by_location(location)
        if reg is None:
            self.refusals.refuse("update-unknown", peer=peer, location=location)
            return aiocoap.Message(code=Code.NOT_FOUND)
        try:
            params = parse_query(request.opt.uri_query, register=False)
        except RegistrationQueryError as exc:
            return _bad_request(str(exc), peer, self.refusals)
        problem = self._identity_problem(request.remote, reg.endpoint)
        if problem:
            self.refusals.refuse("update-refused", peer=peer, endpoint=reg.endpoint, reason=problem)
            return aiocoap.Message(code=Code.FORBIDDEN)
        if request.payload:
            try:
                links = parse_registration_links(request.payload)
            except CodecError as exc:
                return _bad_request(f"link-format body: {exc}", peer, self.refusals)
            reg.objects = {oid: info.version for oid, info in links.objects.items()}
            reg.instances = {oid: set(info.instances) for oid, info in links.objects.items()}
            reg.links = bytes(request.payload)
        if params.lifetime is not None:
            reg.lifetime = params.lifetime
        if params.binding is not None:
            reg.binding = params.binding
        reg.remote = request.remote
        reg.updated_at = time.monotonic()
        self._schedule_expiry(reg)
        self.timeline.append("update", endpoint=reg.endpoint, location=location, peer=peer)
        await self._notify()
        return aiocoap.Message(code=Code.CHANGED)

    async def deregister(self, location: str, request: aiocoap.Message) -> aiocoap.Message:
        reg = self.table.remove(location)
        if reg is None:
            return aiocoap.Message(code=Code.NOT_FOUND)
        timer = self._expiry.pop(location, None)
        if timer:
            timer.cancel()
        self.timeline.append("deregister", endpoint=reg.endpoint, location=location)
        await self._notify()
        return aiocoap.Message(code=Code.DELETED)


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


class _BoundedBodyResource(Resource):
    """A resource whose POST body is assembled by Block1Bodies instead of aiocoap's unbounded spool."""

    def __init__(self, registry: RegistrationRegistry, bodies: Block1Bodies) -> None:
        super().__init__()
        self._registry = registry
        self._bodies = bodies

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


class RegisterResource(_BoundedBodyResource):
    """`POST /rd?ep=..`: the body may arrive block-wise (bounded, see Block1Bodies)."""

    def __init__(self, registry: RegistrationRegistry, bodies: Block1Bodies | None = None) -> None:
        super().__init__(registry, bodies or Block1Bodies())

    async def render_post(self, request: aiocoap.Message) -> aiocoap.Message:
        return await self._with_body(request, self._registry.register)


class RegistrationLocations(_BoundedBodyResource, PathCapable):
    """`/rd/<location>`: POST is Update (body bounded like Register's), DELETE is De-register."""

    def __init__(self, registry: RegistrationRegistry, bodies: Block1Bodies | None = None) -> None:
        super().__init__(registry, bodies or Block1Bodies())

    def _location(self, request: aiocoap.Message) -> str | None:
        path = request.opt.uri_path
        return path[0] if len(path) == 1 else None

    async def render_post(self, request: aiocoap.Message) -> aiocoap.Message:
        location = self._location(request)
        if location is None:
            return aiocoap.Message(code=Code.NOT_FOUND)
        return await self._with_body(request, lambda req: self._registry.update(location, req))

    async def render_delete(self, request: aiocoap.Message) -> aiocoap.Message:
        location = self._location(request)
        if location is None:
            return aiocoap.Message(code=Code.NOT_FOUND)
        return await self._registry.deregister(location, request)
