"""Last State Change Time (/5/0/12, Object 5 v1.1) against the States the rig saw: a rule for every target.

The XML: "This resource stores the time when the State resource is changed. Device
updates this resource before making any change to the State." It is a Time (whole
seconds). So, between two samples of State and Last State Change Time together:

- if State cannot have changed, the time must not have moved (lsct-moved-without-state-change);
- if State must have changed, and that happened more than a second (plus SLACK) after
  the earlier value was first seen, the time must be at least one second later
  (lsct-not-moved-with-state);
- it never decreases while the device's clock runs on (lsct-decreased; on targets that
  keep real time the oracle checks this over the whole run, reboots included);
- on a target that keeps real time, a time written between two samples lies between the
  rig's wall clock at the two (within CLOCK_SKEW) and none lies in the future
  (lsct-implausible), when the timeline holds a wall-clock anchor.

"Cannot / must have changed" comes from the oracle's own state machine
(rig.verdict.oracle_transitions): every path from the first sample's (State, Update
Result) through the rig's causes in between, and through power cuts, that ends in the
second sample's pair either changes State or does not; when paths disagree, nothing is
judged. A device without real time may restart its clock at boot, so across a reboot
only "cannot have changed" is judged there.

Samples are the rig's reads that return State, Update Result and Last State Change Time
together (a Read of /5/0): the answer was made between the request leaving (`sent`)
and the answer arriving, while a notification may have been held back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

from rig.verdict.oracle_items import Observation, PowerCut, PowerOn, Reboot, Registration
from rig.verdict.oracle_transitions import Config, Context, apply_cause, power_loss, spontaneous
from rig.lwm2m import events as lwm2m
from rig.lwm2m.object5 import describe
from rig.lwm2m.profile import Profile
from rig.results import Violation
from rig.timeline import Event
from rig.verdict.items import timeline_to_items

SLACK = 0.5  # s: a device clock, its whole-second rounding and the rig's clock may differ this much over seconds
CLOCK_SKEW = 5.0  # s: how far the clock of a target that keeps real time may be from the rig's
WALL_CLOCK = "wall-clock"  # timeline event: data["wall"] is the rig's time.time() at that moment
SPEC = "the XML: \"Device updates this resource before making any change to the State\""
Path = tuple[Config, bool]  # a configuration, and whether State changed on the way to it


@dataclass(frozen=True)
class Sample:
    index: int  # position in the events
    sent: float
    t: float
    state: int
    result: int
    lsct: int

    def where(self) -> str:
        return f"read at t={self.t:.1f} s ({describe(self.state, self.result)})"


def samples(events: list[Event], endpoint: str) -> list[Sample]:
    out = []
    for index, e in enumerate(events):
        d = e.data
        if e.kind != "request" or d.get("op") != "read" or d.get("endpoint") != endpoint:
            continue
        if not lwm2m.answered_ok(d.get("code")):
            continue
        values = lwm2m.values(e)
        state, result, lsct = values.get(lwm2m.STATE), values.get(lwm2m.RESULT), values.get(lwm2m.LSCT)
        if all(isinstance(v, int) and not isinstance(v, bool) for v in (state, result, lsct)):
            out.append(Sample(index, float(d.get("sent", e.t)), e.t, state, result, lsct))
    return out


def _close(front: Iterable[Path], ctx: Context) -> set[Path]:
    seen = set(front)
    todo = list(seen)
    while todo:
        config, changed = todo.pop()
        for nxt in spontaneous(config, ctx):
            path = (nxt, changed or nxt.state != config.state)
            if path not in seen:
                seen.add(path)
                todo.append(path)
    return seen


def _step(front: set[Path], cause: object, ctx: Context) -> set[Path]:
    out: set[Path] = set()
    for config, changed in front:
        if isinstance(cause, PowerCut):
            nexts = {config}
        elif isinstance(cause, (PowerOn, Reboot)):
            nexts = power_loss(config, ctx)
        elif isinstance(cause, Registration):
            nexts = {config} | (power_loss(config, ctx) if cause.fresh else set())
        else:
            nexts = apply_cause(config, cause, ctx)  # type: ignore[arg-type]
        out |= {(n, changed or n.state != config.state) for n in nexts}
    return _close(out, ctx)


def _between(a: Sample, b: Sample, events: list[Event], endpoint: str, ctx: Context) -> tuple[str | None, bool, str]:
    """("changed" | "unchanged" | None, rebooted, the causes in words) for the stretch from a to b."""
    causes = [i for i in timeline_to_items(events[a.index + 1:b.index], endpoint) if not isinstance(i, Observation)]
    rebooted = any(isinstance(c, (PowerOn, Reboot)) or (isinstance(c, Registration) and c.fresh) for c in causes)
    words = ", ".join(c.label() for c in causes) or "nothing from the rig"
    if any(c.t < a.t or (getattr(c, "t_done", None) or c.t) > b.sent for c in causes):
        return None, rebooted, words  # a cause overlaps a sample: which came first is unknown
    front = _close({(Config(a.state, a.result), False)}, ctx)
    for cause in causes:
        front = _step(front, cause, ctx)
    ends = {changed for config, changed in front if config.pair == (b.state, b.result)}
    verdict = None if len(ends) != 1 else ("changed" if ends == {True} else "unchanged")
    return verdict, rebooted, words


def _wall_offset(events: list[Event]) -> float | None:
    for e in events:
        if e.kind == WALL_CLOCK and isinstance(e.data.get("wall"), (int, float)):
            return float(e.data["wall"]) - e.t
    return None


def check_lsct(events: list[Event], endpoint: str, profile: Profile) -> list[Violation]:
    """Violations of the Last State Change Time rules over one case's events."""
    found = samples(events, endpoint)
    real_time = profile.keeps_real_time
    ctx = Context(profile, "1.1")
    offset = _wall_offset(events) if real_time else None
    out: list[Violation] = []
    trusted = real_time  # the first value may come from an earlier boot's clock
    first_seen: dict[int, float] = {}
    for a, b in zip(found, found[1:]):
        first_seen.setdefault(a.lsct, a.t)
        verdict, rebooted, causes = _between(a, b, events, endpoint, ctx)
        same_clock = real_time or (trusted and not rebooted)
        between = f"between the {a.where()} and the {b.where()} (with {causes} in between)"
        if verdict == "unchanged" and b.lsct != a.lsct:
            out.append(Violation("lsct-moved-without-state-change",
                                 f"Last State Change Time went {a.lsct} -> {b.lsct} {between}, yet no legal path "
                                 f"there changes State; the resource \"stores the time when the State resource is changed\""))
        elif verdict == "changed" and same_clock and a.sent - first_seen[a.lsct] >= 1 + SLACK and b.lsct < a.lsct + 1:
            out.append(Violation("lsct-not-moved-with-state",
                                 f"Last State Change Time stayed {a.lsct} (first seen at t={first_seen[a.lsct]:.1f} s) "
                                 f"-> {b.lsct} {between}, though State changed there more than a second after that "
                                 f"value was first seen; {SPEC}"))
        elif not real_time and trusted and not rebooted and b.lsct < a.lsct:
            out.append(Violation("lsct-decreased", f"Last State Change Time went back {a.lsct} -> {b.lsct} {between}"))
        if verdict == "changed" and offset is not None:
            low, high = math.floor(a.sent + offset) - CLOCK_SKEW, b.t + offset + CLOCK_SKEW
            if not low <= b.lsct <= high:
                out.append(Violation("lsct-implausible",
                                     f"Last State Change Time {b.lsct} {between}: State changed there, when the rig's "
                                     f"clock read {a.sent + offset:.0f}..{b.t + offset:.0f} (the target keeps real time)"))
        if rebooted and not real_time:
            first_seen = {}
        trusted = real_time or (not rebooted and (trusted or verdict == "changed"))
    if offset is not None:
        for s in found:
            if s.lsct > s.t + offset + CLOCK_SKEW:
                out.append(Violation("lsct-implausible", f"Last State Change Time {s.lsct} in the {s.where()} lies "
                                     f"{s.lsct - (s.t + offset):.0f} s in the future of the rig's clock"))
    return out

