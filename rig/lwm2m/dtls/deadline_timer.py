"""One event-loop timer kept at the earliest deadline of the DTLS engines behind a socket.

The engines are free of asyncio (they only report their next deadline); the
server and client interfaces both keep a single timer at that deadline, moved
only when it changes, and poll the engines when it fires.
"""

from __future__ import annotations

import asyncio
from typing import Callable


class DeadlineTimer:
    def __init__(self, loop: asyncio.AbstractEventLoop, fire: Callable[[], None]) -> None:
        self._loop, self._fire = loop, fire
        self._handle: asyncio.TimerHandle | None = None
        self._at: float | None = None

    def set(self, deadline: float | None) -> None:
        """Fire at `deadline` (loop time); None: no deadline, no timer."""
        if deadline == self._at:
            return
        self.cancel()
        self._at = deadline
        if deadline is not None:
            self._handle = self._loop.call_at(deadline, self._expired)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._handle = self._at = None

    def _expired(self) -> None:
        self._handle = self._at = None
        self._fire()
