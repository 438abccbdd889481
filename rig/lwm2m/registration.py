"""The LwM2M registration interface (`/rd`): Register, Update, De-register, lifetime expiry.

Every accepted or refused request becomes a timeline event and a log line that
names the problem, so a client that cannot register is diagnosable from the
report alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable

import aiocoap
from aiocoap import Code
from aiocoap.numbers import ContentFormat
from aiocoap.resource import PathCapable

from rig.lwm2m.bounded_body import Block1Bodies, BoundedBodyResource
from rig.lwm2m.codecs import CodecError, parse_registration_links
from rig.lwm2m.endpoints import EndpointTable, EndpointTableFull, Registration
from rig.lwm2m.registration_query import DEFAULT_LIFETIME, RegistrationQueryError, parse_query
from rig.timeline import Timeline

log = logging.getLogger("rig.lwm2m.rd")

# Identity check for coaps registrations: returns the endpoint an identity may register as.
IdentityToEndpoint = Callable[[bytes], "str | None"]



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


class RegisterResource(BoundedBodyResource):
    """`POST /rd?ep=..`: the body may arrive block-wise (bounded, see Block1Bodies)."""

    def __init__(self, registry: RegistrationRegistry, bodies: Block1Bodies | None = None) -> None:
        super().__init__(bodies)
        self._registry = registry

    async def render_post(self, request: aiocoap.Message) -> aiocoap.Message:
        return await self._with_body(request, self._registry.register)


class RegistrationLocations(BoundedBodyResource, PathCapable):
    """`/rd/<location>`: POST is Update (body bounded like Register's), DELETE is De-register."""

    def __init__(self, registry: RegistrationRegistry, bodies: Block1Bodies | None = None) -> None:
        super().__init__(bodies)
        self._registry = registry

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
