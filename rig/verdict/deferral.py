"""A deferred update must end: Update Result 11 lasts only while the Maximum Defer Period runs.

The XML (/5/0/13): "The number of seconds a user can defer the software update. When this
time period is over, the device will not prompt the user for update and install it
automatically. If the value is 0, a deferred update is not allowed." So, over one case:

- deferred-without-period: an Execute Update led to Update Result 11 while the rig knew
  the Maximum Defer Period to be 0 (it wrote or read that value);
- deferral-overdue: a read still shows Update Result 11 after the deadline. The deadline is
  the answer to the Execute that led to the deferral + the longest Maximum Defer Period
  known during it, or the device's registration after a reboot if that is later (a device
  that was off at its deadline installs when it is back), + the target's margin
  (lwm2m.deferral.margin).

Where the period was never written or read nothing is judged: the rig does not know it.
A Package or Package URI write, a Cancel or a known start ends a deferral (the package
is gone or replaced); so does any sample that is not Downloaded / 11 (the device moved on).
Whether a deferral survives a power cut is the oracle's (Downloaded keeps its package
and result across a cut).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rig.lwm2m import events as lwm2m
from rig.lwm2m.object5 import CANCEL_PATH, PACKAGE_PATH, PACKAGE_URI_PATH, PERIOD_PATH, UpdateResult
from rig.lwm2m.profile import Profile
from rig.results import Violation
from rig.timeline import Event

DEFERRED = int(UpdateResult.DEFERRED)
PERIOD, STATE, RESULT = lwm2m.PERIOD, lwm2m.STATE, lwm2m.RESULT
ENDS_DEFERRAL = {("write", PACKAGE_PATH), ("write", PACKAGE_URI_PATH), ("execute", CANCEL_PATH)}


@dataclass
class _Deferral:
    start: float  # the answer to the Execute Update that led to it
    period: int | None
    booted: float = float("-inf")  # the device's last registration after a reboot during it
    off: bool = False  # powered off, or on and not registered yet
    overdue: bool = False


def _executes(events: list[Event], endpoint: str) -> list[tuple[float, float]]:
    """(sent, answered) of every Execute Update the device accepted."""
    return [(float(e.data.get("sent", e.t)), e.t) for e in events if lwm2m.executed_update(e, endpoint)]


def _unsigned(value: Any) -> int | None:
    """A period as the rig wrote it (a number, or its text) or read it; None for anything else."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def check_deferral(events: list[Event], endpoint: str, profile: Profile) -> list[Violation]:
    """Violations of the deferral rules over one case's events."""
    executes = _executes(events, endpoint)
    margin = profile.deferral.margin
    out: list[Violation] = []
    period: int | None = None
    current: _Deferral | None = None
    for e in events:
        d = e.data
        if e.kind == "power":
            if current is not None and d.get("action") == "on":
                current.off = True
            continue
        if e.kind == "known-start":  # the settings were erased: the period is the device's default again
            period, current = None, None
        if d.get("endpoint") != endpoint:
            continue
        if e.kind == "register" and current is not None:
            current.booted, current.off = e.t, False
        elif e.kind == "request" and lwm2m.answered_ok(d.get("code")):
            if (d.get("op"), d.get("path")) in ENDS_DEFERRAL:
                current = None
            elif d.get("op") == "write" and d.get("path") == PERIOD_PATH and _unsigned(d.get("value")) is not None:
                period = _unsigned(d["value"])
        if e.kind not in ("request", "notify"):
            continue
        values = lwm2m.values(e)
        if _unsigned(values.get(PERIOD)) is not None:
            period = _unsigned(values[PERIOD])
        if current is not None and period is not None:
            current.period = max(current.period or 0, period)
        state, result = values.get(STATE), values.get(RESULT)
        if state is None and result is None:
            continue
        if result != DEFERRED or state not in (None, 2):
            if result is not None or state != 2:
                current = None  # the device moved on (or the sample cannot tell)
            continue
        if current is None:
            sent = float(d.get("sent", e.t))
            before = [done for s, done in executes if s <= sent]
            if not before:
                continue  # Downloaded / 11 with no Execute seen: the oracle's business
            current = _Deferral(before[-1], period)
            if period == 0:
                out.append(Violation("deferred-without-period",
                                     f"Execute Update (answered at t={current.start:.1f} s) led to Downloaded / 11 "
                                     f"deferred while the Maximum Defer Period was 0; the XML: \"If the value is 0, a "
                                     f"deferred update is not allowed\""))
            continue
        if e.kind != "request" or current.period is None or current.off or current.overdue:
            continue
        deadline = max(current.start + current.period, current.booted) + margin
        if float(d.get("sent", e.t)) > deadline:
            current.overdue = True
            late = "its registration after the reboot" if current.booted > current.start + current.period else \
                f"the Maximum Defer Period of {current.period} s"
            past = float(d.get("sent", e.t)) - deadline + margin
            out.append(Violation("deferral-overdue",
                                 f"read at t={e.t:.1f} s: still Downloaded / 11 deferred, {past:.1f} s "
                                 f"after {late} ended (Execute Update answered at t={current.start:.1f} s; margin "
                                 f"{margin:g} s); the XML: \"When this time period is over, the device will ... install "
                                 f"it automatically\""))
    return out
