"""The LwM2M registration interface (`/rd`): Register, Update, De-register, lifetime expiry.

Every accepted or refused request becomes a timeline event and a log line that
names the problem, so a client that cannot register is diagnosable from the
report alone. Who may act for an endpoint is `EndpointBinding`'s call (an
endpoint with a key only over coaps with its own identity); locations are random,
so knowing one registration's tells nothing about another's. A registration
holds its DTLS session for its lifetime (`keep_session`), so a quiet registered
device still gets device-management requests after the idle purge would have run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable

import aiocoap
from aiocoap import Code
from aiocoap.numbers import ContentFormat
from aiocoap.resource import PathCapable

from rig.lwm2m.bounded_body import Block1Bodies, BoundedBodyResource
from rig.lwm2m.codecs import CodecError, parse_registration_links
from rig.lwm2m.endpoint_binding import EndpointBinding
from rig.lwm2m.endpoints import EndpointTable, EndpointTableFull, Registration, same_remote
from rig.lwm2m.limits import EVENTS_PER_SECOND, MAX_ENDPOINTS
from rig.lwm2m.log_bounds import EventBudget, clamp_line, printable
from rig.lwm2m.registration_query import DEFAULT_LIFETIME, RegistrationQueryError, parse_query
from rig.timeline import Timeline

log = logging.getLogger("rig.lwm2m.rd")

# Hold (seconds) or release (None) the DTLS session of a registration's remote; a no-op for plain CoAP.
SessionKeeper = Callable[[Any, "float | None"], object]


class RefusalLog:
    """Refusals as timeline events and log lines, at most `per_second` a second.

    A flood of bad or surplus registrations must not grow the timeline (kept in
    memory for the report) or the log without bound; the refusals past the rate
    are counted and the next one recorded says how many were left out. Text the
    peer chose is escaped and cut.
    """

    def __init__(self, timeline: Timeline, per_second: float = EVENTS_PER_SECOND, clock: Callable[[], float] = time.monotonic) -> None:
        self.timeline = timeline
        self._budget = EventBudget(per_second, clock)

    @property
    def suppressed(self) -> int:
        return self._budget.suppressed

    def refuse(self, kind: str, logger: logging.Logger = log, **data: object) -> None:
        allowed, left_out = self._budget.take()
        if not allowed:
            return
        data = {k: printable(v, 200) if isinstance(v, str) else v for k, v in data.items()}
        if left_out:
            data["suppressed"] = left_out
        logger.warning("%s", clamp_line(f"{kind} from {data.get('peer')}: {data.get('reason')}"))
        self.timeline.append(kind, **data)


def _bad_request(reason: str, peer: str, refusals: RefusalLog) -> aiocoap.Message:
    refusals.refuse("register-refused", peer=peer, reason=reason)
    return aiocoap.Message(code=Code.BAD_REQUEST, payload=reason.encode()[:200])


class RegistrationRegistry:
    """Owns the endpoint table and the expiry timers; the two resources below are its CoAP faces."""

    def __init__(
        self,
        timeline: Timeline,
        binding: EndpointBinding | None = None,
        max_endpoints: int = MAX_ENDPOINTS,
        keep_session: SessionKeeper | None = None,
    ) -> None:
        self.timeline = timeline
        self.refusals = RefusalLog(timeline)
        self.table = EndpointTable(max_endpoints=max_endpoints)
        self.binding = binding or EndpointBinding()
        self._keep_session = keep_session or (lambda _remote, _seconds: None)
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
        self.drop(location)
        log.info("registration of %s expired (lifetime %d s)", reg.endpoint, reg.lifetime)
        self.timeline.append("expire", endpoint=reg.endpoint, location=location)

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    def close(self) -> None:
        for handle in self._expiry.values():
            handle.cancel()
        self._expiry.clear()

    def drop(self, location: str) -> Registration | None:
        """Forget a registration (de-registered, expired, or the rig's own doing): its timer and its session hold."""
        reg = self.table.remove(location)
        timer = self._expiry.pop(location, None)
        if timer:
            timer.cancel()
        if reg is not None:
            self._keep_session(reg.remote, None)
        return reg

    def _refused(self, kind: str, request: aiocoap.Message, endpoint: str) -> aiocoap.Message | None:
        """4.03 (and a rate-limited event) when the request's peer may not act for `endpoint`."""
        problem = self.binding.problem(request.remote, endpoint)
        if problem is None:
            return None
        self.refusals.refuse(kind, peer=str(request.remote.hostinfo), endpoint=endpoint, reason=problem)
        return aiocoap.Message(code=Code.FORBIDDEN, payload=problem.encode()[:200])

    async def register(self, request: aiocoap.Message) -> aiocoap.Message:
        peer = str(request.remote.hostinfo)
        try:
            params = parse_query(request.opt.uri_query, register=True)
        except RegistrationQueryError as exc:
            return _bad_request(str(exc), peer, self.refusals)
        assert params.endpoint is not None
        refused = self._refused("register-refused", request, params.endpoint)
        if refused is not None:
            return refused
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
            queue_mode=params.queue_mode,
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
            if not same_remote(old.remote, reg.remote):
                self._keep_session(old.remote, None)
        self._keep_session(reg.remote, reg.lifetime)
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
            **({"queue_mode": True} if reg.queue_mode else {}),
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
        refused = self._refused("update-refused", request, reg.endpoint)
        if refused is not None:
            return refused
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
            if reg.lwm2m_version == "1.0":  # 1.0 says queue mode in the binding: a new one says it again
                reg.queue_mode = params.queue_mode
        if params.queue_mode:
            reg.queue_mode = True
        if not same_remote(reg.remote, request.remote):
            self._keep_session(reg.remote, None)
        reg.remote = request.remote
        reg.psk_identity = getattr(request.remote, "psk_identity", None)
        reg.updated_at = time.monotonic()
        self._keep_session(reg.remote, reg.lifetime)
        self._schedule_expiry(reg)
        self.timeline.append("update", endpoint=reg.endpoint, location=location, peer=peer)
        await self._notify()
        return aiocoap.Message(code=Code.CHANGED)

    async def deregister(self, location: str, request: aiocoap.Message) -> aiocoap.Message:
        reg = self.table.by_location(location)
        if reg is None:
            self.refusals.refuse("deregister-unknown", peer=str(request.remote.hostinfo), location=location)
            return aiocoap.Message(code=Code.NOT_FOUND)
        refused = self._refused("deregister-refused", request, reg.endpoint)
        if refused is not None:
            return refused
        self.drop(location)
        self.timeline.append("deregister", endpoint=reg.endpoint, location=location, peer=str(request.remote.hostinfo))
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
