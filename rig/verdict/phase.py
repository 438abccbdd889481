"""The phase a device had actually reached at an instant, read from the timeline.

A plan says "cut at block 37" or "120 ms after Execute"; what matters for the
verdict and the matrix is where the device really was when the power went.
"""

from __future__ import annotations

from rig.timeline import Event

STATE_NAMES = {0: "idle", 1: "downloading", 2: "downloaded", 3: "updating"}
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
        if event.kind == "register" and d.get("endpoint") == endpoint:
            bootstrapping = False
            rebooted = executed or (rebooted and state is None)
            executed = False
            state = None
        elif event.kind in ("notify", "request") and d.get("endpoint") == endpoint:
            value = (d.get("values") or {}).get("5/0/3")
            if isinstance(value, int):
                state = value
            if d.get("op") == "execute" and d.get("path") == "/5/0/2" and str(d.get("code", "")).startswith("2."):
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
        return "downloaded" if state is None else STATE_NAMES[state]
    return STATE_NAMES.get(state, "idle") if state is not None else "idle"
