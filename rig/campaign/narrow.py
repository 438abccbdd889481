"""`rig narrow`: from a failing cut, the first failing point, by binary search over replayed cuts.

A failing case says "op 40 fails"; the question in the morning is where it
starts. The cut's kind gives the axis: the block number of a download cut, the
flash-operation index of a virtual-board cut, the delay after Execute of a
timed cut (to a resolution, 1 ms by default). The search runs between the
failing point and the nearest passing point of the same kind below it (the
run's own cases of that kind are evidence, the nearest failing one above that
pass narrows the range at once; with no passing point below, the start of the
axis is probed first). Each probe is the failing plan moved to one point,
replayed with the run's images and seed. When the search has converged, the
two sides of the boundary are replayed if the run, not this search, supplied
them, so both are in the report as probes. A probe that errs (the rig's
failure) ends the search: it is no evidence either way. `max_cases` bounds it.

The search assumes what binary search assumes: between a passing and a failing
probe lies one boundary. Every point it did not probe is implied, and said so.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from rig.errors import RigError
from rig.faults import FaultPlan
from rig.results import CaseResult

AXES = {"flash-op": ("op", "flash_op"), "block": ("block", "block"), "after-execute": ("ms after Execute", "delay_ms")}


@dataclass(frozen=True)
class Probe:
    at: float
    outcome: str
    name: str
    ours: bool  # run by this search (else: a case of the run)
    result: CaseResult | None = None


@dataclass
class Search:
    """The state of one narrow: the failing template, what is known at each point, the budget."""

    template: FaultPlan
    max_cases: int
    resolution: float = 1.0
    axis_start: float = 0.0
    window_ms: float | None = None  # the run's swap window: timed probes are named by their fraction of it
    known: dict[float, Probe] = field(default_factory=dict)
    ran: list[Probe] = field(default_factory=list)
    stopped: str | None = None  # why the search ended without converging
    span: tuple[float, float] = (0.0, 0.0)  # the range searched: a passing (or the axis' first) and a failing point
    _pending: float | None = None

    @property
    def narrow_of(self) -> str:
        return self.template.name

    @property
    def kind(self) -> str:
        return self.template.cut.kind

    @property
    def unit(self) -> str:
        return AXES[self.kind][0]

    def at_of(self, plan: FaultPlan) -> float:
        return float(getattr(plan.cut, AXES[self.kind][1]))

    def bounds(self) -> tuple[Probe | None, Probe]:
        """(the highest passing point below the lowest failing one, that failing point) of what is known."""
        failing = self.at_of(self.template)
        passing = [p for p in self.known.values() if p.outcome == "pass" and p.at < failing]
        low = max(passing, key=lambda p: p.at) if passing else None
        fails = [p for p in self.known.values() if p.outcome == "fail" and (low is None or p.at > low.at)
                 and p.at <= failing]
        return low, min(fails, key=lambda p: p.at)

    def next(self) -> FaultPlan | None:
        at = self._choose()
        self._pending = at
        return None if at is None else self._plan_at(at)

    def seen(self, result: CaseResult) -> None:
        at, self._pending = self._pending, None
        probe = Probe(at, result.outcome, result.name, True, result)
        self.ran.append(probe)
        before = self.known.get(at)
        if before is not None and result.outcome != before.outcome:
            self.stopped = (f"{self.describe_at(at)} ended {before.outcome} in the run ({before.name}) but "
                            f"{result.outcome} when replayed: it does not reproduce, so no boundary can be trusted")
        elif result.outcome in ("pass", "fail"):
            self.known[at] = probe
        else:
            self.stopped = (f"the probe at {self.describe_at(at)} ended {result.outcome}, which says nothing about the "
                            f"device: {result.error or result.message}")

    def _choose(self) -> float | None:
        if self.stopped is not None:
            return None
        if len(self.ran) >= self.max_cases:
            self.stopped = f"--max-cases {self.max_cases} reached"
            return None
        low, high = self.bounds()
        if low is None:
            if self.axis_start in self.known or high.at <= self.axis_start:
                self.stopped = f"it fails from the start of the range ({self.describe_at(self.axis_start)}) on"
                return None
            return self.axis_start
        if high.at - low.at > self.resolution:
            mid = self._mid(low.at, high.at)
            if mid not in self.known:
                return mid
        for side in (low, high):  # converged: both sides replayed by this search, so both are in the report
            if not side.ours:
                return side.at
        return None

    def _mid(self, low: float, high: float) -> float:
        if self.kind == "after-execute":
            return round((low + high) / 2, 1)
        return float(int((low + high) // 2))

    def converged(self) -> bool:
        low, high = self.bounds()
        return (self.stopped is None and low is not None and high.at - low.at <= self.resolution
                and low.ours and high.ours)

    def _plan_at(self, at: float) -> FaultPlan:
        cut = self.template.cut
        if self.kind == "flash-op":
            name = f"narrow-op-{int(at):05d}{'-torn' if cut.torn else ''}"
            new_cut = replace(cut, flash_op=int(at))
        elif self.kind == "block":
            name, new_cut = f"narrow-block-{int(at):05d}", replace(cut, block=int(at))
        else:
            fraction = f"{at / self.window_ms * 100:06.3f}pct" if self.window_ms else f"{at:07.1f}ms"
            name, new_cut = f"narrow-swap-{fraction}", replace(cut, delay_ms=at)
        return replace(self.template, name=name, cut=new_cut)

    def describe_at(self, at: float) -> str:
        if self.kind == "after-execute":
            return f"{at:g} ms after Execute"
        return f"{self.unit} {int(at)}"


def start_search(failing: CaseResult, plan: FaultPlan, run_results: list[CaseResult], max_cases: int,
                 resolution: float = 1.0, window_ms: float | None = None) -> Search:
    """The search for `failing` (a failed case with `plan`), with the run's cases of the same kind as evidence."""
    if failing.outcome != "fail":
        why = ("it passed: nothing to narrow" if failing.outcome == "pass" else
               "it erred (the rig's failure, not the device's): replay it with `rig run --replay`"
               if failing.outcome == "error" else f"it was skipped ({failing.message})")
        raise RigError(f"case {failing.name!r}: {why}")
    if plan.cut is None or plan.cut.kind not in AXES:
        what = "has no cut" if plan.cut is None else f"cuts {plan.cut.describe()}, which lies on no axis"
        raise RigError(f"case {failing.name!r} {what}: narrow needs a block, flash-op or after-execute cut")
    if plan.then is not None:
        raise RigError(f"case {failing.name!r} is a nested plan (it cuts twice): narrow one cut at a time with "
                       "a plan of its own")
    if max_cases < 1:
        raise RigError(f"--max-cases {max_cases}: give 1 or more")
    if resolution < 0.1:
        raise RigError(f"--resolution {resolution:g}: timed cuts are planned to 0.1 ms; give 0.1 or more")
    search = Search(replace(plan, name=failing.name), max_cases, resolution if plan.cut.kind == "after-execute" else 1.0,
                    window_ms=window_ms)
    for result in run_results:
        other = _same_kind(plan, result)
        if other is not None and result.outcome in ("pass", "fail"):
            at = search.at_of(other)
            search.known.setdefault(at, Probe(at, result.outcome, result.name, False, result))
    search.known[search.at_of(plan)] = Probe(search.at_of(plan), "fail", failing.name, False, failing)
    low, high = search.bounds()
    search.span = (low.at if low is not None else search.axis_start, high.at)
    return search


def _same_kind(plan: FaultPlan, result: CaseResult) -> FaultPlan | None:
    """The result's plan when it is the failing plan moved along the same axis (same kind, tearing, faults)."""
    if not isinstance(result.plan, dict) or result.plan.get("conformance"):
        return None
    try:
        other = FaultPlan.from_dict(result.plan)
    except RigError:
        return None
    if other.cut is None or other.then is not None or other.cut.kind != plan.cut.kind:
        return None
    if other.cut.torn != plan.cut.torn or other.network != plan.network:
        return None
    return other

