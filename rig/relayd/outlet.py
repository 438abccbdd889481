"""One outlet of the relay service: a power backend, who holds it (a lease), and its safe state.

HTTP has no connection a service could watch, so a client that wants the outlet
to fall back when it disappears (a rig run SIGKILLed, its machine rebooted)
takes a lease and renews it; when the lease runs out the watchdog switches the
outlet to its safe state, as a release of the labgrid place does. Every switch is
confirmed before it is answered: by the board's power-good input when the outlet
has one (rig.power.gpio), else by reading the state back.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from rig.power.base import PowerBase, PowerError

LOG = logging.getLogger("rig.relayd")
MAX_LEASE = 3600.0


@dataclass
class Switched:
    """What a confirmed switch answers: the state, how it was confirmed, and how long it took."""

    on: bool
    confirmed: str
    ms: float


class Outlet:
    def __init__(self, index: int, name: str, power: PowerBase, safe_state: str) -> None:
        self.index, self.name, self.power, self.safe_state = index, name, power, safe_state
        self._lock = threading.Lock()
        self.holder: str | None = None  # the labgrid place (claim) or the rig run (lease) using it
        self.lease_until: float | None = None
        self.last_safe: str | None = None  # why the safe state was last applied

    @property
    def confirm_by(self) -> str:
        return self.power.confirmed_by

    def switch(self, on: bool) -> Switched:
        """Switch and confirm; PowerError when the board's power did not follow."""
        with self._lock:
            return self._switch(on)

    def _switch(self, on: bool) -> Switched:
        start = time.monotonic()
        self.power.on() if on else self.power.off()  # a gpio outlet waits out min_off and checks power-good here
        if self.power.is_on() != on:
            raise PowerError(f"outlet {self.index} ({self.name}): switched {'on' if on else 'off'} "
                             f"but reads back {'on' if not on else 'off'}")
        return Switched(on, self.confirm_by, round((time.monotonic() - start) * 1000.0, 2))

    def is_on(self) -> bool:
        with self._lock:
            return self.power.is_on()

    def claim(self, holder: str) -> None:
        with self._lock:
            self.holder = holder

    def lease(self, ttl: float, holder: str) -> float:
        """Take or renew the lease; returns its deadline (monotonic seconds)."""
        if not 0 < ttl <= MAX_LEASE:
            raise ValueError(f"ttl must be 0 < ttl <= {MAX_LEASE:g} seconds, got {ttl:g}")
        with self._lock:
            self.holder = holder or self.holder
            self.lease_until = time.monotonic() + ttl
            return self.lease_until

    def drop_lease(self) -> None:
        with self._lock:
            self.lease_until = None

    def release(self, reason: str) -> Switched:
        """Safe state now, lease and holder dropped (place released, lease expired, service stopping)."""
        with self._lock:
            self.lease_until, self.holder = None, None
            self.last_safe = reason
            LOG.info("outlet %d (%s): safe state %s (%s)", self.index, self.name, self.safe_state, reason)
            return self._switch(self.safe_state == "on")

    def expire(self, now: float) -> bool:
        """Apply the safe state if the lease ran out; True if it did."""
        with self._lock:
            due = self.lease_until is not None and now >= self.lease_until
        if due:
            try:
                self.release("lease expired: its holder stopped renewing it")
            except PowerError as exc:
                LOG.error("outlet %d (%s): safe state after an expired lease failed: %s", self.index, self.name, exc)
        return due

    def info(self) -> dict[str, Any]:
        with self._lock:
            left = None if self.lease_until is None else round(max(0.0, self.lease_until - time.monotonic()), 3)
            return {"index": self.index, "name": self.name, "on": self.power.is_on(), "safe_state": self.safe_state,
                    "backend": self.power.backend, "confirm_by": self.confirm_by, "holder": self.holder,
                    "lease_left": left, "last_safe": self.last_safe}

    def close(self) -> None:
        """The service is stopping: safe state, then the backend lets go of its pin or port."""
        with self._lock:
            self.lease_until = None
            self.last_safe = "service stopped"
        self.power.close()


class Watchdog:
    """Wakes at the earliest lease deadline (or when a lease changes) and expires what is due."""

    def __init__(self, outlets: list[Outlet]) -> None:
        self.outlets = outlets
        self._wake = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="relayd-watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        with self._wake:
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stop = True
            self._wake.notify()
        self._thread.join(timeout=5.0)

    def _run(self) -> None:
        while True:
            now = time.monotonic()
            for outlet in self.outlets:
                outlet.expire(now)
            with self._wake:  # deadlines read under the condition: a lease set before poke() is seen here
                if self._stop:
                    return
                deadlines = [o.lease_until for o in self.outlets if o.lease_until is not None]
                self._wake.wait(timeout=None if not deadlines else max(0.0, min(deadlines) - time.monotonic()))
                if self._stop:
                    return
