"""The cut timer fires once, not before its instant, and not at all once cancelled."""

from __future__ import annotations

import sys
import threading
import time

from rig.campaign.precise_timer import call_at_monotonic


def test_fires_once_at_or_after_its_instant_and_restores_the_switch_interval():
    before = sys.getswitchinterval()
    fired: list[float] = []
    done = threading.Event()
    when = time.monotonic() + 0.05

    def fn() -> None:
        fired.append(time.monotonic())
        done.set()

    call_at_monotonic(when, fn)
    assert done.wait(5)
    assert len(fired) == 1 and fired[0] >= when
    deadline = time.monotonic() + 5
    while sys.getswitchinterval() != before and time.monotonic() < deadline:
        threading.Event().wait(0.001)  # the timer thread restores it just after fn returns
    assert sys.getswitchinterval() == before


def test_cancel_before_the_instant_means_it_never_fires():
    fired = threading.Event()
    cancel = call_at_monotonic(time.monotonic() + 0.2, fired.set)
    cancel()
    assert not fired.wait(0.5)
