"""The Object 5 spec oracle: is every sampled (State, Update Result) explained by a legal path?

Input is one ordered list of items (rig.verdict.oracle_items): observations of /5/0 and
the causes the rig produced (writes, executes, cancels, power cuts, reboots,
registrations, injected faults). Observations are samples, so the oracle keeps the SET
of configurations the device may be in, closed under the device's own steps, applies
each cause to every member, and narrows the set at each observation. An observation
outside the set is a violation, named by the rule it breaks
(rig.verdict.oracle_diagnose). A response or registration that no member allows is a
violation at that cause. After a violation the oracle trusts what it saw and goes on,
so `check_all` can list later findings too.

Pure functions over data: the verdict layer and the reports both call these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from rig.lwm2m.object5 import State, UpdateResult, describe, parse_object_version, update_results
from rig.verdict.oracle_diagnose import RULES, diagnose_cause, diagnose_observation, pairs_text
from rig.verdict.oracle_items import (
    CAUSE_TYPES,
    ExecuteUpdate,
    Item,
    Observation,
    OracleInputError,
    PushStarted,
    WriteUri,
)
from rig.verdict.oracle_transitions import Config, Context, any_configuration, closure
from rig.verdict.oracle_walk import Walk, fits, match, start, step_cause
from rig.lwm2m.profile import Profile

__all__ = ["RULES", "Violation", "check", "check_all", "final_configurations", "final_pairs", "settled", "explain"]


@dataclass(frozen=True)
class Violation:
    """The first thing no legal path explains.

    index: position in the item list (an Observation, or the cause whose response or
    registration was impossible); rule: short stable id; detail: one sentence for a bug report.
    """

    index: int
    t: float
    rule: str
    detail: str


def _context(profile: Profile, object_version: str | None) -> Context:
    version = parse_object_version(object_version if object_version is not None else profile.object5_version)
    return Context(profile, version)


def _where(index: int, item: Item) -> str:
    what = "observation" if isinstance(item, Observation) else "event"
    extra = f"{item.source}, " if isinstance(item, Observation) and item.source == "read" else ""
    return f"{what} {index} ({extra}t={item.t:.1f} s)"


def _static_rule(obs: Observation, walk: Walk, ctx: Context) -> tuple[str, str] | None:
    """Checks that need no history: value ranges, what the object version has, time order."""
    if obs.state is not None and obs.state not in tuple(State):
        return "state-out-of-range", f"State {obs.state} is not defined (0..3)"
    if obs.result is not None and obs.result not in tuple(UpdateResult):
        return "result-out-of-range", f"Update Result {obs.result} is not defined (0..11)"
    if obs.result is not None and obs.result not in update_results(ctx.version):
        return "result-not-in-1.0", f"Update Result {obs.result} only exists in object version 1.1"
    lsct = obs.last_state_change_time
    if lsct is not None and not ctx.v11:
        return "lsct-not-in-1.0", "Last State Change Time (/5/0/12) does not exist in object version 1.0"
    if lsct is not None and ctx.profile.keeps_real_time and walk.last_lsct is not None and lsct < walk.last_lsct:
        return (
            "last-state-change-time-backwards",
            f"Last State Change Time went back from {walk.last_lsct:g} to {lsct:g} on a target that keeps real time",
        )
    return None


class _Run:
    """State of one pass over the items (kept in one place so check/check_all/final share it)."""

    def __init__(self, items: Sequence[Item], ctx: Context, initial: Iterable[tuple[int, int]] | None) -> None:
        self.items = items
        self.ctx = ctx
        self.walk = start(ctx, initial)
        self.snapshot = self.walk
        self.segment_start = 0
        self.previous: int | None = None
        self.known_targets: set[str] = set()
        self.violations: list[Violation] = []

    def run(self, stop_at_first: bool) -> None:
        last_t = float("-inf")
        for index, item in enumerate(self.items):
            if not isinstance(item, (Observation, *CAUSE_TYPES)):
                raise OracleInputError(f"oracle item {index}: {type(item).__name__} is not an Observation or a cause")
            if item.t < last_t:
                raise OracleInputError(f"oracle item {index}: t={item.t} is earlier than the item before (t={last_t})")
            last_t = item.t
            if isinstance(item, Observation):
                self._observe(index, item)
            else:
                self._cause(index, item)
            if stop_at_first and self.violations:
                return

    def _cause(self, index: int, cause: Item) -> None:
        if isinstance(cause, (PushStarted, WriteUri)) and cause.version:
            self.known_targets.add(cause.version)
        before = self.walk.configs
        self.walk, problem = step_cause(self.walk, cause, self.ctx)  # type: ignore[arg-type]
        if problem:
            rule, reason = diagnose_cause(problem, cause, before, self.ctx, self.known_targets)
            label = cause.label()  # type: ignore[union-attr]
            self.violations.append(Violation(index, cause.t, rule, f"{_where(index, cause)}: {label}: {reason}"))

    def _observe(self, index: int, obs: Observation) -> None:
        found = _static_rule(obs, self.walk, self.ctx)
        matched = None if found else match(self.walk, obs, self.ctx)
        if matched is None:
            segment = self.items[self.segment_start:index]
            if found is None:
                rule, reason, no_execute = diagnose_observation(self.snapshot, segment, obs, self.ctx)
            else:
                (rule, reason), no_execute = found, False
            self.violations.append(Violation(index, obs.t, rule, self._detail(index, obs, segment, reason, no_execute)))
            matched = self._recover(obs)
        self.walk = matched
        self.snapshot = matched
        self.segment_start = index + 1
        self.previous = index

    def _recover(self, obs: Observation) -> Walk:
        """Trust the observation and go on from it."""
        configs = [c for c in any_configuration(self.ctx) if fits(c, obs)]
        if not configs:
            configs = [Config(obs.state if obs.state is not None else 0, obs.result if obs.result is not None else 0)]
        lsct = obs.last_state_change_time if obs.last_state_change_time is not None else self.walk.last_lsct
        return Walk(closure(configs, self.ctx), self.walk.powered, self.walk.power_event, None, lsct)

    def _detail(self, index: int, obs: Observation, segment: Sequence[Item], reason: str, no_execute: bool) -> str:
        if self.previous is None:
            after = "at the start of the run"
        else:
            prev = self.items[self.previous]
            assert isinstance(prev, Observation)
            after = f"after {describe(prev.state, prev.result)} (observation {self.previous})"
        labels = [item.label() for item in segment]  # type: ignore[union-attr]
        if no_execute and not any(isinstance(item, ExecuteUpdate) for item in segment):
            between = " with no Execute in between"
        elif labels:
            between = f" with {', '.join(labels)} in between"
        else:
            between = " with no event from the rig in between"
        if self.previous is None:
            between = "" if not labels else f" after {', '.join(labels)}"
        return f"{_where(index, obs)}: {describe(obs.state, obs.result)} {after}{between}; {reason}"


def check_all(
    items: Sequence[Item],
    profile: Profile,
    object_version: str | None = None,
    initial: Iterable[tuple[int, int]] | None = None,
) -> list[Violation]:
    """Every violation in order (after each, the oracle trusts the observation and continues).

    object_version: from the registration's `</5>;ver=` (None: the profile's).
    initial: (State, Update Result) pairs the device may start in (None: unknown).
    """
    run = _Run(items, _context(profile, object_version), initial)
    run.run(stop_at_first=False)
    return run.violations


def check(
    items: Sequence[Item],
    profile: Profile,
    object_version: str | None = None,
    initial: Iterable[tuple[int, int]] | None = None,
) -> Violation | None:
    """None when every observation is explained by a legal path, else the first Violation."""
    run = _Run(items, _context(profile, object_version), initial)
    run.run(stop_at_first=True)
    return run.violations[0] if run.violations else None


def final_configurations(
    items: Sequence[Item],
    profile: Profile,
    object_version: str | None = None,
    initial: Iterable[tuple[int, int]] | None = None,
) -> frozenset[Config]:
    """Where the device may be after the last item (closed under its own steps).

    The verdict layer uses it for liveness: e.g. if every member is Downloading the
    device still owes a Downloaded or an error, and its timeout decides.
    """
    run = _Run(items, _context(profile, object_version), initial)
    run.run(stop_at_first=False)
    return run.walk.configs


def final_pairs(configs: Iterable[Config]) -> frozenset[tuple[int, int]]:
    """The visible (State, Update Result) pairs of a configuration set."""
    return frozenset(c.pair for c in configs)


def explain(configs: frozenset[Config]) -> str:
    """The pairs of a configuration set in words, for reports."""
    return pairs_text(configs)


def settled(configs: Iterable[Config]) -> frozenset[Config]:
    """Members in which the device owes nothing more on its own (Idle, or Downloaded not deferred).

    Empty means the device must still move (finish a download or an update); whether it
    did so in time is the verdict layer's timeout, not the oracle's.
    """
    return frozenset(
        c
        for c in configs
        if c.state == State.IDLE or (c.state == State.DOWNLOADED and c.result != UpdateResult.DEFERRED)
    )
