"""Call a function at a monotonic instant to well under a millisecond, independent of the event loop.

asyncio's timers wake on epoll's millisecond granularity and run only when the
loop is free (a burst of notifications or console lines delays them), so a cut
planned "120 ms after Execute" could land a few ms late. A thread that sleeps until
just before the instant and spins the last stretch is late by microseconds; the
cut is the only thing it does, once per case. While it waits, the interpreter's
thread switch interval is lowered (5 ms -> 0.2 ms) so that a busy event loop holding
the GIL cannot keep the timer thread from running at its instant.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Callable

SPIN = 0.002  # the last 2 ms are spun, not slept
SWITCH_INTERVAL = 0.0002


def call_at_monotonic(when: float, fn: Callable[[], None], name: str = "rig-precise-timer") -> Callable[[], None]:
    """Run `fn` in a daemon thread at time.monotonic() == `when` (at once if past); returns a cancel function."""
    cancelled = threading.Event()
    previous = sys.getswitchinterval()

    def run() -> None:
        sys.setswitchinterval(min(previous, SWITCH_INTERVAL))
        try:
            if cancelled.wait(max(0.0, when - time.monotonic() - SPIN)):
                return
            while time.monotonic() < when:
                if cancelled.is_set():
                    return
            if not cancelled.is_set():
                fn()
        finally:
            sys.setswitchinterval(previous)

    threading.Thread(target=run, name=name, daemon=True).start()
    return cancelled.set
