"""The phase a device had actually reached at an instant, read from the timeline.

A plan says "cut at block 37" or "120 ms after Execute"; what matters for the
verdict and the matrix is where the device really was when the power went.
"""

from __future__ import annotations

from rig.lwm2m import events as lwm2m
from rig.lwm2m.object5 import STATE_NAMES
from rig.timeline import Event

PHASES = ("idle", "downloading", "downloaded", "updating", "rebooted", "bootstrapping")


def phase_at(events: list[Event], endpoint: str, t: float, since: int = 0) -> str:
    state: int | None = None
    executed = False
    blocks = 0
    done = False
    rebooted = False
    bootstrapping = False  # a Bootstrap-Request came and neither its Finish nor a registration yet
    for event in events[since:]:
        if event.t > t:
            break
        d = event.data
        if event.kind in ("bootstrap-request", "bootstrap-finish", "bootstrap-failed") and d.get("endpoint") == endpoint:
            bootstrapping = event.kind == "bootstrap-request"
        if lwm2m.is_registration(event, endpoint):
            bootstrapping = False
            rebooted = executed or (rebooted and state is None)
            executed = False
            state = None
        elif event.kind in lwm2m.REPORTS and d.get("endpoint") == endpoint:
            value = lwm2m.state(event)
            if isinstance(value, int):
                state = value
            if lwm2m.executed_update(event):
                executed = True
        elif event.kind in ("block1", "block2"):
            blocks += 1
        elif event.kind == "transfer-done":
            done = True
    if bootstrapping:
        return "bootstrapping"  # between its Bootstrap-Request and the Finish: its server account half-written
    if executed:
        return "updating"
    if rebooted and state in (None, 0):
        return "rebooted"  # back after Execute: the new (or reverted) image runs, maybe not yet confirmed
    if blocks and not done and state in (None, 0, 1):
        return "downloading"
    if done and state in (None, 0, 1):
        return "downloaded" if state is None else _phase(state)
    return _phase(state) if state is not None else "idle"


def _phase(state: int) -> str:
    """The phase of a State value: 2 -> "downloaded"; a value Object 5 does not define reads as "idle"."""
    return STATE_NAMES.get(state, "Idle").lower()
