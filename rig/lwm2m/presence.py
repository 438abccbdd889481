"""Which queue-mode devices are awake now, read from what they send (LwM2M Queue Mode).

A client that registers in queue mode (`Q` in a 1.1 registration query, `b=UQ` in
1.0) listens only for a while after each message it sends, then may go offline
until its next Update (OMA LwM2M Transport, "Queue Mode Operation"; the early 1.0
text counted ACK_TIMEOUT, later versions MAX_TRANSMIT_WAIT, 93 s with RFC 7252's
defaults, the value Zephyr's CONFIG_LWM2M_QUEUE_MODE_UPTIME and Leshan's awake time
default to). The server "does not immediately send downlink requests ... but
instead waits until the LwM2M Client is online", and learns that it is from a
Register, an Update, a notification, or any other message it receives.

So the server's view is a window per endpoint: awake for the target's awake time
after the last message heard from it (less a small guard, so a request does not
go out in the very last moment of the device's own window), asleep after that or
at once when a request went unanswered (the device slept earlier than declared).
The window follows the timeline's events (register, update, notify, answered
requests, Send, firmware blocks the device fetched): nothing else keeps its own
history. Transitions are timeline events ("awake", "asleep"), so the report shows
when the device could be reached.
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable

from rig.lwm2m.endpoints import Registration
from rig.timeline import Event, Timeline

GUARD_SHARE = 0.1  # the server's window ends this share of the awake time early ...
MAX_GUARD = 1.0  # ... but at most this many seconds early
# Events that prove the device sent something, and where its endpoint is named.
_HEARD_BY_ENDPOINT = {"register": "register", "update": "update", "notify": "notification", "send": "send"}

Lookup = Callable[[str], "Registration | None"]
PeerLookup = Callable[[str], "str | None"]


class Presence:
    """Awake windows of queue-mode endpoints. `awake_time(endpoint)` is the device's declared awake time (s)."""

    def __init__(self, timeline: Timeline, awake_time: Callable[[str], float], lookup: Lookup,
                 endpoint_of_peer: PeerLookup, clock: Callable[[], float] = time.monotonic) -> None:
        self.timeline = timeline
        self._awake_time = awake_time
        self._lookup = lookup
        self._endpoint_of_peer = endpoint_of_peer
        self._clock = clock
        self._until: dict[str, float] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._listeners: list[Callable[[str], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        """Follow the timeline (call from the event loop the server runs on)."""
        self._loop = asyncio.get_running_loop()
        self._unsubscribe = self.timeline.subscribe(self._on_event)

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    def on_change(self, listener: Callable[[str], None]) -> None:
        """`listener(endpoint)` after the endpoint woke, fell asleep, or its registration changed."""
        self._listeners.append(listener)

    def window(self, endpoint: str) -> float:
        """How long the server treats the endpoint as awake after hearing from it."""
        awake = max(0.0, float(self._awake_time(endpoint)))
        return awake - min(MAX_GUARD, awake * GUARD_SHARE)

    def is_awake(self, endpoint: str) -> bool:
        return self._clock() < self._until.get(endpoint, 0.0)

    def queue_mode(self, endpoint: str) -> bool:
        reg = self._lookup(endpoint)
        return reg is not None and reg.queue_mode

    # --- what the device sent -----------------------------------------------------------

    def heard(self, endpoint: str, why: str) -> None:
        """The device sent something: it is awake for its awake time from now."""
        if not self.queue_mode(endpoint):
            return
        was_awake = self.is_awake(endpoint)
        window = self.window(endpoint)
        self._until[endpoint] = self._clock() + window
        self._schedule(endpoint, window)
        if not was_awake:
            self.timeline.append("awake", endpoint=endpoint, why=why, window=round(window, 3))
            self._changed(endpoint)

    def asleep(self, endpoint: str, why: str) -> None:
        """The device stopped answering before its window ended: treat it as asleep until it is heard again."""
        if self._until.pop(endpoint, None) is None:
            return
        timer = self._timers.pop(endpoint, None)
        if timer is not None:
            timer.cancel()
        self.timeline.append("asleep", endpoint=endpoint, why=why)
        self._changed(endpoint)

    def _schedule(self, endpoint: str, delay: float) -> None:
        assert self._loop is not None, "Presence.start() was not called"
        timer = self._timers.pop(endpoint, None)
        if timer is not None:
            timer.cancel()
        self._timers[endpoint] = self._loop.call_later(max(0.0, delay), self._window_over, endpoint)

    def _window_over(self, endpoint: str) -> None:
        self._timers.pop(endpoint, None)
        until = self._until.get(endpoint)
        if until is None:
            return
        if self._clock() < until:  # heard again meanwhile
            self._schedule(endpoint, until - self._clock())
            return
        del self._until[endpoint]
        self.timeline.append("asleep", endpoint=endpoint, why=f"nothing heard for {self.window(endpoint):g} s")
        self._changed(endpoint)

    def _changed(self, endpoint: str) -> None:
        for listener in list(self._listeners):
            listener(endpoint)

    def _forget(self, endpoint: str) -> None:
        self._until.pop(endpoint, None)
        timer = self._timers.pop(endpoint, None)
        if timer is not None:
            timer.cancel()
        self._changed(endpoint)

    # --- the timeline ---------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if event.kind not in _HEARD_BY_ENDPOINT and event.kind not in ("request", "block2", "expire", "deregister"):
            return
        if self._loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._handle(event)
        else:  # appended from a reader thread: handle it on the server's loop
            self._loop.call_soon_threadsafe(self._handle, event)

    def _handle(self, event: Event) -> None:
        d = event.data
        endpoint = d.get("endpoint")
        if event.kind in _HEARD_BY_ENDPOINT and isinstance(endpoint, str):
            self.heard(endpoint, _HEARD_BY_ENDPOINT[event.kind])
            if event.kind == "register":
                self._changed(endpoint)  # a new registration: held requests go to it
        elif event.kind == "request" and isinstance(endpoint, str):
            if d.get("code") is not None:
                self.heard(endpoint, "answer")
        elif event.kind == "block2":
            owner = self._endpoint_of_peer(str(d.get("peer")))
            if owner is not None:
                self.heard(owner, "firmware block")
        elif event.kind in ("expire", "deregister") and isinstance(endpoint, str):
            self._forget(endpoint)
