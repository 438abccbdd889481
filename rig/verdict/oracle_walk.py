"""One step of the oracle: the set of possible configurations carried across items.

Kept apart from the public entry points so the diagnosis can replay a segment with a
relaxed model through exactly the same code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable

from rig.verdict.oracle_items import Cause, Observation, PowerCut, PowerOn, Reboot, Registration
from rig.verdict.oracle_transitions import (
    IGNORE_VERSIONS,
    Config,
    Context,
    any_configuration,
    apply_cause,
    closure,
    power_loss,
)


@dataclass(frozen=True)
class Pending:
    """A cause whose response arrived at `t_done`: samples before that may predate it."""

    cause: Cause
    before: frozenset[Config]
    t_done: float


@dataclass(frozen=True)
class Walk:
    configs: frozenset[Config]
    powered: bool = True
    power_event: bool = False  # a power event since the last fresh registration
    pending: Pending | None = None
    last_lsct: float | None = None


def start(ctx: Context, initial: Iterable[tuple[int, int]] | None) -> Walk:
    """Unknown start (every legal pair) unless the caller knows the device's pair."""
    if initial is None:
        configs: Iterable[Config] = any_configuration(ctx)
    else:
        configs = [Config(int(s), int(r)) for s, r in initial]
    return Walk(closure(configs, ctx))


def fits(c: Config, obs: Observation) -> bool:
    return (obs.state is None or c.state == obs.state) and (obs.result is None or c.result == obs.result)


def _apply_all(configs: Iterable[Config], cause: Cause, ctx: Context) -> set[Config]:
    out: set[Config] = set()
    for c in configs:
        out |= apply_cause(c, cause, ctx)
    return out


def _power_loss_all(configs: Iterable[Config], ctx: Context) -> frozenset[Config]:
    out: set[Config] = set()
    for c in configs:
        out |= power_loss(c, ctx)
    return closure(out, ctx)


def step_cause(walk: Walk, cause: Cause, ctx: Context) -> tuple[Walk, str | None]:
    """Apply a rig-made cause. The second value is "code" when the recorded response is
    impossible from every possible configuration, "version" when the registered firmware
    version fits none; the walk then continues as if the response had not been seen."""
    before = walk.configs
    if isinstance(cause, PowerCut):
        return replace(walk, powered=False, pending=None), None
    if isinstance(cause, (PowerOn, Reboot)):
        return Walk(_power_loss_all(before, ctx), True, True, None, walk.last_lsct), None
    if isinstance(cause, Registration):
        candidates = set(before)
        if cause.fresh and not walk.power_event:
            candidates |= _power_loss_all(before, ctx)  # maybe the device rebooted by itself
        problem = None
        if cause.version is None:
            kept = candidates
        else:
            strict = IGNORE_VERSIONS not in ctx.relax
            kept = {replace(c, runs=cause.version) for c in candidates if not strict or c.runs in (None, cause.version)}
            if not kept:
                problem = "version"
                kept = {replace(c, runs=cause.version) for c in candidates}
        power_event = walk.power_event and not cause.fresh
        return Walk(closure(kept, ctx), True, power_event, None, walk.last_lsct), problem
    after = _apply_all(before, cause, ctx)
    problem = None
    if not after and before:
        problem = "code"
        after = _apply_all(before, replace(cause, code=None), ctx)  # type: ignore[type-var]
    pending = None
    if cause.t_done is not None and cause.t_done > cause.t:
        pending = Pending(cause, before, cause.t_done)
    return replace(walk, configs=closure(after, ctx), pending=pending), problem


def match(walk: Walk, obs: Observation, ctx: Context) -> Walk | None:
    """The walk narrowed to what `obs` shows, or None when nothing possible shows it."""
    found = {c for c in walk.configs if fits(c, obs)}
    pending = walk.pending
    new_pending = None
    if pending is not None and obs.t < pending.t_done:
        early = {c for c in pending.before if fits(c, obs)}
        if early:  # the sample predates the device acting on the cause
            early_closed = closure(early, ctx)
            found |= _apply_all(early_closed, pending.cause, ctx)
            new_pending = Pending(pending.cause, early_closed, pending.t_done)
    if not found:
        return None
    lsct = obs.last_state_change_time if obs.last_state_change_time is not None else walk.last_lsct
    return replace(walk, configs=closure(found, ctx), pending=new_pending, last_lsct=lsct)
