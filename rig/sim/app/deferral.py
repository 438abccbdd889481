"""The virtual board's user, who may defer an update (Object 5 v1.1: Update Result 11, /5/0/11, /5/0/13).

The object's text: when Update is executed, "the user may be allowed to defer the
firmware update to a later time. In this case, the state stays in Downloaded state and
the Update Result is set to 11"; the Maximum Defer Period is "the number of seconds a
user can defer the software update. When this time period is over, the device will ...
install it automatically. If the value is 0, a deferred update is not allowed."

A policy names the severities this user defers (`rig sim --deferral`); a critical
update (Severity 0) is never deferred, nor is any update while the period is 0. The
moment of the first deferral is kept with the rest of Object 5 in the settings
partition (as wall-clock seconds), so the deadline survives a power cut.
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable

#: policy -> the Severity values (/5/0/11: 0 critical, 1 mandatory, 2 optional) the user defers
POLICIES: dict[str, frozenset[int]] = {
    "never": frozenset(),
    "optional": frozenset({2}),
    "non-critical": frozenset({1, 2}),
}
DEFAULT_POLICY = "optional"
SEVERITIES = (0, 1, 2)
MAX_UNSIGNED = 2**64 - 1  # /5/0/13 is an Unsigned Integer (LwM2M: up to 64 bits)


class Deferral:
    """The policy, and the one timer that installs a deferred update when its period is over."""

    def __init__(self, policy: str = DEFAULT_POLICY, clock: Callable[[], float] = time.time) -> None:
        if policy not in POLICIES:
            raise ValueError(f"deferral policy {policy!r} is not one of {', '.join(POLICIES)}")
        self.policy = policy
        self.clock = clock
        self._timer: asyncio.TimerHandle | None = None

    def wants(self, severity: int, period: int) -> bool:
        """Does the user defer an update of this severity, with this Maximum Defer Period?"""
        return severity != 0 and period > 0 and severity in POLICIES[self.policy]

    def remaining(self, deferred_at: float, period: int) -> float:
        """Seconds left of the period that began at `deferred_at` (wall clock); 0 when it is over."""
        return max(0.0, deferred_at + period - self.clock())

    def arm(self, delay: float, install: Callable[[], None]) -> None:
        self.disarm()
        self._timer = asyncio.get_running_loop().call_later(delay, install)

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def check_severity(value: int) -> int:
    """A value for /5/0/11, or ValueError (the tree answers 4.00)."""
    if value not in SEVERITIES:
        raise ValueError(f"Severity {value} is not 0 (critical), 1 (mandatory) or 2 (optional)")
    return value


def check_period(value: int) -> int:
    """A value for /5/0/13 (seconds, unsigned), or ValueError."""
    if not 0 <= value <= MAX_UNSIGNED:
        raise ValueError(f"Maximum Defer Period {value} is not an unsigned integer")
    return value
