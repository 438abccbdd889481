"""One timeline of timestamped events per run.

Every observation (registration, block served, notification, console line, power
action) lands here, so verdicts and reports read one history instead of each
piece keeping its own.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Iterator


@dataclass(frozen=True)
class Event:
    """A thing that happened: `kind` names it (e.g. "register", "block2", "power"), `data` holds the details."""

    t: float
    kind: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str, sort_keys=True)


Predicate = Callable[[Event], bool]


class Timeline:
    """Append-only, thread-safe event list with waiters.

    Appends may come from the event loop or from reader threads (serial, probe);
    waiters are woken through a condition variable, and async code waits with
    `wait_for_async` without blocking the loop.

    Indexes are absolute (the n-th event ever appended), so a long run can keep
    its memory flat: `spill_to(path)` streams the run's timeline to a file, and
    `forget_before(index)` moves the events before `index` there (a campaign does
    that at the start of each case). `events(since=i)` and the waits take
    absolute indexes; `len()` counts every event ever appended.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._events: list[Event] = []
        self._base = 0  # absolute index of self._events[0]
        self._spill: IO[str] | None = None
        self._spill_path: Path | None = None
        self._cond = threading.Condition()
        self._listeners: list[Callable[[Event], None]] = []

    def now(self) -> float:
        """The timeline's clock, for records that need a start time (e.g. when a request was sent)."""
        return self._clock()

    def append(self, kind: str, **data: Any) -> Event:
        event = Event(self._clock(), kind, data)
        with self._cond:
            self._events.append(event)
            listeners = list(self._listeners)
            self._cond.notify_all()
        for listener in listeners:
            listener(event)
        return event

    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Call `listener` for each new event (in the appending thread); returns an unsubscribe function."""
        with self._cond:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._cond:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def events(self, kind: str | None = None, since: int = 0) -> list[Event]:
        """The kept events at absolute index >= `since` (all of them unless forget_before moved some to the file).

        A plain list, indexed from 0: slice a timeline by absolute index with `since`, never by slicing this list
        (a list whose slices shifted by the forgotten count fed relative slices of the verdict the wrong events)."""
        with self._cond:
            tail = self._events[max(0, since - self._base):]
        if kind is not None:
            return [e for e in tail if e.kind == kind]
        return tail

    def _from(self, index: int) -> tuple[int, list[Event]]:
        """(absolute index of the first kept event at or after `index`, the kept events from there)."""
        with self._cond:
            first = max(index, self._base)
            return first, self._events[first - self._base:]

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events())

    def __len__(self) -> int:
        with self._cond:
            return self._base + len(self._events)

    def spill_to(self, path: Path) -> None:
        """Stream forgotten events to `path` (JSON lines, truncated now); `save(path)` later appends the rest."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._cond:
            self._spill = path.open("w", encoding="utf-8")
            self._spill_path = path

    def forget_before(self, index: int) -> None:
        """Drop the events before absolute `index` from memory, writing them to the spill file first.

        Without a spill file nothing is dropped: a timeline never loses events it has not saved."""
        with self._cond:
            if self._spill is None:
                return
            cut = max(0, min(index - self._base, len(self._events)))
            old, self._events = self._events[:cut], self._events[cut:]
            self._base += cut
            self._spill.writelines(e.to_json() + "\n" for e in old)
            self._spill.flush()

    def wait_for(self, predicate: Predicate, timeout: float, start: int = 0) -> Event | None:
        """Block until an event at index >= `start` matches, or return None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        index = start
        with self._cond:
            while True:
                index = max(index, self._base)  # events forgotten meanwhile were never this waiter's to see
                while index - self._base < len(self._events):
                    event = self._events[index - self._base]
                    index += 1
                    if predicate(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)

    async def wait_for_async(self, predicate: Predicate, timeout: float, start: int = 0) -> Event | None:
        """Like `wait_for`, for coroutines: wakes on appends from any thread without blocking the loop."""
        loop = asyncio.get_running_loop()
        woken = asyncio.Event()

        def on_event(_event: Event) -> None:
            loop.call_soon_threadsafe(woken.set)

        unsubscribe = self.subscribe(on_event)
        deadline = loop.time() + timeout
        index = start
        try:
            while True:
                woken.clear()
                first, new = self._from(index)  # only what is new since the last look, not the whole run
                index = first + len(new)
                for event in new:
                    if predicate(event):
                        return event
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return None
                # asyncio.wait, not wait_for: wait_for (3.11) can swallow a cancellation that
                # races with the wake-up, and a cancelled waiter must stop at once.
                waiter = loop.create_task(woken.wait())
                try:
                    await asyncio.wait({waiter}, timeout=remaining)
                finally:
                    waiter.cancel()
        finally:
            unsubscribe()

    def save(self, path: Path) -> None:
        """Write the events as JSON lines (one event a line), so a partial run is still readable. To the spill
        file: the kept events are appended after the forgotten ones, and the file is closed."""
        with self._cond:
            if self._spill is not None and self._spill_path == path:
                self._spill.writelines(e.to_json() + "\n" for e in self._events)
                self._spill.close()
                self._spill = None
                return
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as out:
            for event in self.events():
                out.write(event.to_json() + "\n")

    @staticmethod
    def load(path: Path) -> list[Event]:
        events = []
        with path.open(encoding="utf-8") as src:
            for line in src:
                if line.strip():
                    raw = json.loads(line)
                    events.append(Event(raw["t"], raw["kind"], raw.get("data", {})))
        return events
