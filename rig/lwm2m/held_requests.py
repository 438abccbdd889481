"""Requests held for a sleeping queue-mode device, sent in order when it is next awake.

LwM2M Queue Mode: the server "makes any queued requests to the LwM2M Client in a
serial fashion", each "waiting for request to be Acknowledged before sending the
next", and "if the LwM2M Server is not successful in sending a request, then it
stops emptying the queue and keeps the request for the next time the LwM2M Client
is online" (OMA LwM2M, Queue Mode Operation). So a request to a queue-mode
endpoint takes a ticket in that endpoint's line and goes out when it is first in
line and the device is awake (rig.lwm2m.presence); its timeout counts from then,
not from when it was asked for. A request the device did not answer goes back to
the front of the line (the device slept early) for the next wake-up, a few times
at most. A held request ends unsent when the registration ends (the lifetime ran
out without an Update, or a De-register): how long a request can be held is the
lifetime the device registered with.

Endpoints that did not register in queue mode are not held at all: their
requests go out at once and concurrently, as before.

Timeline: "request-held" when a request has to wait (with how many are ahead and
whether the device sleeps), "request-sent" when a held one goes out, "request-requeued"
when it went unanswered, and "request-expired" when its registration ended first; the
"request" event of the answer carries `held` (seconds it waited) and `attempts`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field
from typing import AsyncIterator, Callable

from rig.errors import RigError
from rig.lwm2m.endpoints import Registration
from rig.lwm2m.presence import Presence
from rig.timeline import Timeline

MAX_ATTEMPTS = 3  # sends of one request to a queue-mode device before it counts as unanswered


class HeldRequestExpired(RigError):
    """The endpoint's registration ended while a request waited for it to wake."""


@dataclass(eq=False)
class Ticket:
    endpoint: str
    op: str
    path: str
    asked: float = field(default_factory=time.monotonic)
    attempts: int = 0
    was_held: bool = False  # it had to wait at least once
    held_for: float = 0.0  # seconds from being asked for to its last send

    @property
    def held(self) -> float:
        return time.monotonic() - self.asked


class HeldRequests:
    """One line per queue-mode endpoint; `turn()` waits for a ticket's turn and yields the registration to use."""

    def __init__(self, timeline: Timeline, presence: Presence, lookup: Callable[[str], "Registration | None"]) -> None:
        self.timeline = timeline
        self.presence = presence
        self._lookup = lookup
        self._lines: dict[str, deque[Ticket]] = {}
        self._pokes: dict[str, asyncio.Event] = {}
        presence.on_change(self._poke)

    def ticket(self, endpoint: str, op: str, path: str) -> Ticket:
        return Ticket(endpoint, op, path)

    def waiting(self, endpoint: str) -> int:
        return len(self._lines.get(endpoint, ()))

    def _poke(self, endpoint: str) -> None:
        event = self._pokes.pop(endpoint, None)
        if event is not None:
            event.set()

    def _changed(self, endpoint: str) -> asyncio.Event:
        event = self._pokes.get(endpoint)
        if event is None:
            event = self._pokes[endpoint] = asyncio.Event()
        return event

    @contextlib.asynccontextmanager
    async def turn(self, ticket: Ticket, again: bool = False) -> AsyncIterator[Registration]:
        """The registration to send `ticket` to, once it may go out; `again`: it goes back to the front
        (it was sent and not answered). Raises HeldRequestExpired when the registration ends first."""
        reg = self._lookup(ticket.endpoint)
        if reg is None:
            raise HeldRequestExpired(f"endpoint {ticket.endpoint!r} is not registered")
        if not reg.queue_mode:
            ticket.attempts += 1
            yield reg
            return
        line = self._lines.setdefault(ticket.endpoint, deque())
        line.appendleft(ticket) if again else line.append(ticket)
        try:
            reg = await self._wait_turn(ticket, line)
            ticket.attempts += 1
            ticket.held_for = ticket.held
            if ticket.was_held:
                self.timeline.append("request-sent", endpoint=ticket.endpoint, op=ticket.op, path=ticket.path,
                                     held=round(ticket.held_for, 3), attempt=ticket.attempts)
            yield reg
        finally:
            line.remove(ticket)
            if not line:
                self._lines.pop(ticket.endpoint, None)
            self._poke(ticket.endpoint)

    async def _wait_turn(self, ticket: Ticket, line: deque[Ticket]) -> Registration:
        announced = False
        while True:
            reg = self._lookup(ticket.endpoint)
            if reg is None:
                self.timeline.append("request-expired", endpoint=ticket.endpoint, op=ticket.op, path=ticket.path,
                                     held=round(ticket.held, 3))
                raise HeldRequestExpired(
                    f"{ticket.op} {ticket.path} held {ticket.held:.1f} s: the registration of {ticket.endpoint} "
                    "ended (its lifetime ran out or it de-registered) before the device woke")
            awake = self.presence.is_awake(ticket.endpoint)
            if not reg.queue_mode or (line[0] is ticket and awake):
                return reg
            if not announced:
                announced = ticket.was_held = True
                self.timeline.append("request-held", endpoint=ticket.endpoint, op=ticket.op, path=ticket.path,
                                     ahead=line.index(ticket), asleep=not awake, attempt=ticket.attempts + 1)
            changed = self._changed(ticket.endpoint)
            # Woken by a change (wake-up, the line moving, the registration ending); the timeout only bounds a
            # missed change: the registry's own expiry ends the wait within the registration's lifetime.
            try:
                await asyncio.wait_for(changed.wait(), max(1.0, float(reg.lifetime)))
            except asyncio.TimeoutError:
                pass

    def requeue(self, ticket: Ticket, reason: str) -> bool:
        """After a send that went unanswered: True when the ticket may wait for the next wake-up."""
        if ticket.attempts >= MAX_ATTEMPTS or not self.presence.queue_mode(ticket.endpoint):
            return False
        self.presence.asleep(ticket.endpoint, f"{ticket.op} {ticket.path} went unanswered")
        self.timeline.append("request-requeued", endpoint=ticket.endpoint, op=ticket.op, path=ticket.path,
                             attempt=ticket.attempts, reason=reason)
        return True
